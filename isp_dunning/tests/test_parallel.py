"""One company's run shared by several workers: batches claimed with
FOR UPDATE SKIP LOCKED, the same notices as the serial run, a claim that
rolls back is taken again, the run ends with its batches' counts."""

from contextlib import suppress
from datetime import date
from unittest.mock import patch

from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..domain import parallel
from ..services import batch_reader, parallel_batches, run_lock, run_log, run_setup
from .common import DunningCommon

RUN_LOGGER = "odoo.addons.isp_dunning.models.isp_dunning_run"
BATCHES_LOGGER = "odoo.addons.isp_dunning.services.parallel_batches"
D1 = date(2025, 1, 8)
D2 = date(2025, 1, 22)


class _Undo(Exception):
    """Rolls a savepoint back."""


@tagged("post_install", "-at_install")
class TestParallelRun(DunningCommon):
    def setUp(self):
        super().setUp()
        self.Batch = self.env["isp.dunning.run.batch"].sudo()
        self.company.dunning_batch_size = 2
        Partner = self.env["res.partner"]
        self.customers = self.consumer | self.business
        for number in range(1, 5):
            self.customers |= Partner.create(
                {
                    "name": f"Kunde {number}",
                    "email": f"kunde{number}@example.com",
                    "is_company": number % 2 == 0,
                }
            )
        for number, partner in enumerate(self.customers, start=1):
            self.make_invoice(partner, 100.0 * number, date(2024, 12, 20))
            if number % 3 == 0:
                self.make_invoice(partner, 40.0, date(2024, 12, 28))
        self.paused = Partner.create({"name": "Kunde Ausgenommen", "dunning_excluded": True})
        self.make_invoice(self.paused, 30.0, date(2024, 12, 20))
        # The history: one serial run, the same for both ways of D2's run.
        self.dun(D1)

    # helpers -------------------------------------------------------------
    def _snapshot(self, when):
        notices = self.Notice.search([("date", "=", when)])
        rows = []
        for notice in notices:
            fee_moves = self.env["account.move"].search([("dunning_fee_notice_id", "=", notice.id)])
            rows.append(
                (
                    notice.partner_id.name,
                    notice.level_id.name,
                    notice.state,
                    notice.amount_open,
                    notice.fee_amount,
                    notice.lump_sum_amount,
                    notice.interest_amount,
                    tuple(sorted(notice.move_ids.mapped("name"))),
                    tuple(sorted(fee_moves.mapped("amount_total"))),
                    len(self.env["mail.mail"].search([("dunning_notice_id", "=", notice.id)])),
                )
            )
        invoices = self.env["account.move"].search(
            [("partner_id", "in", self.customers.ids), ("move_type", "=", "out_invoice")]
        )
        levels = sorted(
            (move.partner_id.name, move.amount_total, move.dunning_level_id.name)
            for move in invoices
        )
        return sorted(rows), levels

    def _new_run(self, when):
        return self.Run.create({"company_id": self.company.id, "date": when, "state": "running"})

    def _claim_and_process(self, run, context, worker):
        batch = self.Batch._claim(run.ids, worker=worker)
        if batch:
            self.assertEqual(batch.state, "running")
            self.assertEqual(batch.worker, worker)
            parallel_batches.process_claimed(run, batch, context)
        return batch

    def _cron(self, method, *args, **kwargs):
        """Call ``method(env, ...)`` as the cron does: a cursor of the test
        registry (its commits are savepoints of the test's transaction),
        dunning_autocommit."""
        self.env.flush_all()
        with self.registry.cursor() as cr:
            env = self.env(cr=cr, context=dict(self.env.context, dunning_autocommit=True))
            return method(env, *args, **kwargs)

    # tests ----------------------------------------------------------------
    def test_two_claimers_in_turn_book_the_notices_of_the_serial_run(self):
        with suppress(_Undo), self.env.cr.savepoint():
            # The serial run, undone at the end of the savepoint.
            serial_run = self.dun(D2)
            serial = self._snapshot(D2)
            serial_counts = (
                serial_run.customer_count,
                serial_run.notice_count,
                serial_run.invoice_count,
                serial_run.error_count,
            )
            serial_log = serial_run.log
            raise _Undo
        self.env.invalidate_all(flush=False)
        self.assertFalse(self.Notice.search([("date", "=", D2)]), "the serial run was undone")
        self.assertGreaterEqual(serial_counts[1], 5)
        self.assertTrue(any(fees for *_x, fees, _m in serial[0]), "fee documents booked")

        run = self._new_run(D2)
        partner_ids = batch_reader.candidate_partner_ids(run)
        parallel_batches.share_batches(run, partner_ids)
        self.assertEqual(len(run.batch_ids), 4)  # 7 customers in batches of 2
        self.assertEqual(set(run.batch_ids.mapped("state")), {"pending"})
        context = run_setup.prepare_context(run, run_setup.ladder(run))
        claimed = []
        for worker in ("worker A", "worker B", "worker A", "worker B", "worker A"):
            claimed.append(self._claim_and_process(run, context, worker))
        self.assertEqual([b.sequence for b in claimed[:4]], [1, 2, 3, 4])
        self.assertFalse(claimed[4], "nothing left to claim")
        self.assertEqual(set(run.batch_ids.mapped("worker")), {"worker A", "worker B"})
        self.assertEqual(set(run.batch_ids.mapped("state")), {"done"})
        parallel_batches.finish_batches(run, context, run_log.Outcome())
        self.assertEqual(self._snapshot(D2), serial)
        self.assertEqual(run.state, "done")
        self.assertEqual(
            (run.customer_count, run.notice_count, run.invoice_count, run.error_count),
            serial_counts,
        )
        self.assertEqual(sorted(run.log.splitlines()), sorted(serial_log.splitlines()))
        self.assertIn("Kunde Ausgenommen", run.log)
        self.assertEqual(sum(run.batch_ids.mapped("notice_count")), run.notice_count)

    def test_claim_rolled_back_is_taken_again(self):
        run = self._new_run(D2)
        parallel_batches.share_batches(run, batch_reader.candidate_partner_ids(run))
        context = run_setup.prepare_context(run, run_setup.ladder(run))
        first = run.batch_ids.sorted("sequence")[0]

        def killed(*args, **kwargs):
            raise RuntimeError("worker killed")

        crashed = False
        try:
            with self.env.cr.savepoint(), patch.object(batch_reader, "read_batch", killed):
                batch = self.Batch._claim(run.ids, worker="worker A")
                self.assertEqual(batch, first)
                parallel_batches.process_claimed(run, batch, context)
        except RuntimeError:
            crashed = True
        self.assertTrue(crashed, "the injected failure did not happen")
        self.env.invalidate_all(flush=False)
        self.assertEqual(first.state, "pending", "the claim went with the rollback")
        self.assertEqual(first.attempts, 0)
        self.assertFalse(self.Notice.search([("date", "=", D2)]))
        batch = self._claim_and_process(run, context, "worker B")
        self.assertEqual(batch, first, "taken again by another worker")
        self.assertEqual((batch.state, batch.attempts, batch.worker), ("done", 1, "worker B"))
        for partner_id in first.partner_ids:
            self.assertEqual(
                len(self.Notice.search([("partner_id", "=", partner_id), ("date", "=", D2)])), 1
            )

    def test_batch_of_a_live_worker_is_not_taken_an_abandoned_one_is(self):
        run = self._new_run(D2)
        parallel_batches.share_batches(run, batch_reader.candidate_partner_ids(run))
        batches = self.Batch.browse(run.batch_ids.ids).sorted("sequence")
        batches.write({"state": "running"})  # all taken, their workers gone ...
        with self.independent_cursor() as other:  # ... but the first one's
            self.assertTrue(run_lock.try_lock_batch(other, batches[0].id))
            try:
                batch = self.Batch._claim(run.ids, worker="worker B")
                self.assertEqual(batch, batches[1], "the live worker's batch is left alone")
                self.assertEqual(batch.attempts, 1)
                batch._release()
            finally:
                run_lock.release_batch(other, batches[0].id)
        batch = self.Batch._claim(run.ids, worker="worker C")
        self.assertEqual(batch, batches[0], "its worker ended: the batch is taken again")
        batch._release()

    def test_cron_run_with_two_workers_ends_with_summed_counts(self):
        self.company.dunning_parallel_workers = 2
        helper = self.env.ref("isp_dunning.ir_cron_dunning_batch_worker_1")
        triggers_before = self.env["ir.cron.trigger"].search_count([("cron_id", "=", helper.id)])
        self.env.flush_all()

        def run(env):
            run = env["isp.dunning.run"].with_company(self.company).run_dunning(date=D2)
            return run.id

        run = self.Run.browse(self._cron(run))
        self.assertEqual(run.state, "done")
        self.assertEqual(len(run.batch_ids), 4)
        self.assertEqual(set(run.batch_ids.mapped("state")), {"done"})
        counts = parallel.total(batch._counts() for batch in run.batch_ids)
        self.assertEqual(run.customer_count, counts.customers)
        self.assertEqual(run.customer_count, 7)
        self.assertEqual(run.notice_count, counts.notices)
        self.assertEqual(run.notice_count, len(run.notice_ids))
        self.assertEqual(run.invoice_count, counts.invoices)
        self.assertEqual(run.error_count, 0)
        self.assertIn("Kunde Ausgenommen", run.log)
        self.assertTrue(all(run.notice_ids.mapped("mail_id")), "delivered")
        self.assertEqual(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", helper.id)]),
            triggers_before + 1,
            "one more worker woken",
        )

    def test_batch_worker_ends_the_run_of_a_dead_coordinator(self):
        self.company.dunning_parallel_workers = 2
        run = self._new_run(D2)
        parallel_batches.share_batches(run, batch_reader.candidate_partner_ids(run))
        self.env.flush_all()
        # The coordinating run died after storing its batches: a batch
        # worker takes them all and, holding the company's lock, ends it.
        self._cron(lambda env: env["isp.dunning.run"]._cron_work_batches())
        self.env.invalidate_all()
        self.assertEqual(run.state, "done")
        self.assertEqual(set(run.batch_ids.mapped("state")), {"done"})
        self.assertEqual(run.customer_count, 7)
        self.assertEqual(run.notice_count, len(run.notice_ids))
        self.assertGreaterEqual(run.notice_count, 5)
        # A second pass finds nothing.
        self._cron(lambda env: env["isp.dunning.run"]._cron_work_batches())
        self.assertEqual(self.Notice.search_count([("date", "=", D2)]), run.notice_count)

    def test_next_run_completes_the_open_batches_first(self):
        self.company.dunning_parallel_workers = 2
        orphan = self._new_run(D2)
        parallel_batches.share_batches(orphan, batch_reader.candidate_partner_ids(orphan))
        self.env.flush_all()

        def run(env):
            return env["isp.dunning.run"].with_company(self.company).run_dunning(date=D2).id

        later = self.Run.browse(self._cron(run))
        self.env.invalidate_all()
        self.assertEqual(orphan.state, "done")
        self.assertGreaterEqual(orphan.notice_count, 5)
        self.assertEqual(later.state, "done")
        self.assertEqual(later.notice_count, 0, "the earlier run booked D2 already")

    def test_failing_batch_is_tried_again_then_given_up(self):
        self.company.dunning_parallel_workers = 2
        self.company.dunning_batch_size = 10  # one batch

        def broken(*args, **kwargs):
            raise RuntimeError("unreadable batch")

        def run(env):
            return env["isp.dunning.run"].with_company(self.company).run_dunning(date=D2).id

        with (
            patch.object(batch_reader, "read_batch", broken),
            mute_logger(RUN_LOGGER, BATCHES_LOGGER),
        ):
            run = self.Run.browse(self._cron(run))
        self.assertEqual(run.state, "done", run.log)
        self.assertEqual(run.batch_ids.state, "failed")
        self.assertEqual(run.batch_ids.attempts, parallel.MAX_ATTEMPTS)
        self.assertEqual((run.error_count, run.notice_count), (1, 0))
        self.assertIn("unreadable batch", run.log)

    def test_one_worker_keeps_the_serial_run(self):
        self.assertEqual(self.company.dunning_parallel_workers, 1)
        self.env.flush_all()

        def run(env):
            return env["isp.dunning.run"].with_company(self.company).run_dunning(date=D2).id

        run = self.Run.browse(self._cron(run))
        self.assertEqual(run.state, "done")
        self.assertGreaterEqual(run.notice_count, 5)
        self.assertFalse(run.batch_ids, "no batches: the serial loop")

    def test_run_now_stays_serial_with_several_workers(self):
        self.company.dunning_parallel_workers = 3
        run = self.dun(D2)
        self.assertEqual(run.state, "done")
        self.assertGreaterEqual(run.notice_count, 5)
        self.assertFalse(run.batch_ids)

    def test_sharing_creates_the_year_of_the_notice_sequence_first(self):
        # Two workers creating the date range of a new year at once would
        # both fail on its unique key.
        sequence = self.env["ir.sequence"].search([("code", "=", "isp.dunning.notice")])
        when = date(2026, 1, 5)
        Range = self.env["ir.sequence.date_range"]
        in_range = [("sequence_id", "in", sequence.ids), ("date_from", "<=", when)]
        in_range.append(("date_to", ">=", when))
        Range.search(in_range).unlink()
        run = self._new_run(when)
        parallel_batches.share_batches(run, [self.consumer.id])
        self.assertEqual(Range.search_count(in_range), 1)

    def test_setting_is_checked(self):
        for value in (0, parallel.MAX_WORKERS + 1):
            with self.assertRaisesRegex(ValidationError, "parallel workers"):
                self.company.dunning_parallel_workers = value
                self.company.flush_recordset()
