"""Nothing waits for ever, and the cron's commit per batch as it runs."""

import time
from datetime import date
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import mute_logger

from ..services import batch_reader, report_pdf, side_transaction, table_statistics
from .common import DunningCommon

RUN_LOGGER = "odoo.addons.isp_dunning.models.isp_dunning_run"
PDF_LOGGER = "odoo.addons.isp_dunning.services.report_pdf"
DELIVERY_LOGGER = "odoo.addons.isp_dunning.models.isp_dunning_notice_delivery"


class _Undo(Exception):
    """Rolls a savepoint back, and the row locks taken inside it with it."""


@tagged("post_install", "-at_install")
class TestSideTransactions(DunningCommon):
    """A side transaction never waits for ever on its own parent."""

    def _side_transactions_on_their_own_connection(self):
        # A connection of its own, as in production (the test registry would
        # otherwise share the test's connection).
        return patch.object(
            side_transaction,
            "open_cursor",
            lambda env: self.independent_cursor(),
        )

    def _rename_main_company(self):
        """The run's transaction renames the company: a key update (the name
        is unique), so it holds the row against foreign-key checks of other
        transactions until it ends."""
        company = self.env.ref("base.main_company")
        company.name = f"{company.name} (renamed)"
        self.env.flush_all()
        return company

    @mute_logger("odoo.sql_db")
    def test_side_transaction_gives_up_when_its_parent_holds_the_lock(self):
        with self.assertRaises(_Undo), self.env.cr.savepoint():
            company = self._rename_main_company()
            start = time.monotonic()
            with (
                self._side_transactions_on_their_own_connection(),
                self.assertRaises(side_transaction.SideTransactionBlocked),
                side_transaction.side_transaction(self.env, lock_timeout="1s") as side_env,
            ):
                side_env["ir.attachment"].create(
                    {"name": "side.txt", "raw": b"side", "company_id": company.id}
                )
                side_env.flush_all()
            self.assertLess(time.monotonic() - start, 20, "waited instead of giving up")
            raise _Undo

    def test_side_transaction_commits_when_nothing_blocks(self):
        name = f"side-{time.time()}.txt"
        with (
            self._side_transactions_on_their_own_connection(),
            side_transaction.side_transaction(self.env, lock_timeout="1s") as side_env,
        ):
            side_env["ir.attachment"].create({"name": name, "raw": b"side"})
        # Committed by the side transaction: visible to a new one.
        with self.independent_cursor() as cr:
            cr.execute("SELECT count(*) FROM ir_attachment WHERE name = %s", [name])
            self.assertEqual(cr.fetchone()[0], 1)
            cr.execute("DELETE FROM ir_attachment WHERE name = %s", [name])
            cr.commit()  # pylint: disable=invalid-commit

    @mute_logger("odoo.sql_db", PDF_LOGGER, DELIVERY_LOGGER)
    def test_report_assets_do_not_hang_a_run_that_renamed_the_company(self):
        """The case that hung for ever: report bundles not built yet, the
        run's transaction renamed the company, the bundles are built in a
        second transaction that needs the company row. It gives up after
        the lock timeout; the letter stays pending (not in error) and is
        produced once the lock is gone."""
        self.consumer.email = False
        # No bundle committed yet: the side transaction has to create them.
        with self.independent_cursor() as cr:
            cr.execute("DELETE FROM ir_attachment WHERE url LIKE '/web/assets/%%'")
            cr.commit()  # pylint: disable=invalid-commit
        with patch.object(side_transaction, "SIDE_LOCK_TIMEOUT", "1s"):
            with self.assertRaises(_Undo), self.env.cr.savepoint():
                self._rename_main_company()
                start = time.monotonic()
                with (
                    self._side_transactions_on_their_own_connection(),
                    self.assertRaises(report_pdf.ReportAssetsUnavailable),
                ):
                    self.Notice._ensure_report_assets()
                self.assertLess(time.monotonic() - start, 20, "waited instead of giving up")
                with self._side_transactions_on_their_own_connection():
                    self.make_invoice(self.consumer, 80.0, date(2025, 1, 1))
                    run = self.dun(date(2025, 1, 8))
                notice = self.notices_of(self.consumer)
                self.assertEqual(run.state, "done")
                self.assertEqual(notice.state, "to_print", "pending, not in error")
                self.assertFalse(notice.letter_attachment_id)
                notice_id = notice.id
                raise _Undo
        # Lock released (savepoint rolled back): a later delivery produces it.
        self.make_invoice(self.consumer, 80.0, date(2025, 1, 1))
        with (
            self._side_transactions_on_their_own_connection(),
            patch.object(side_transaction, "SIDE_LOCK_TIMEOUT", "5s"),
        ):
            self.dun(date(2025, 1, 8))
        notice = self.notices_of(self.consumer)
        self.assertNotEqual(notice.id, notice_id)
        self.assertTrue(notice.letter_attachment_id.raw.startswith(b"%PDF"))


@tagged("post_install", "-at_install")
class TestCommitPerBatch(DunningCommon):
    """The cron's way (dunning_autocommit): one commit per batch, delivery
    after the commit, a crash keeps what was committed."""

    def setUp(self):
        super().setUp()
        self.company.dunning_batch_size = 1
        for partner in (self.consumer, self.business):
            self.make_invoice(partner, 10.0, date(2025, 1, 1))
        # The registry is in test mode (DunningCommon): its cursors commit to
        # a savepoint of the test transaction.
        self.env.flush_all()

    def _cron_run(self, when, events):
        with self.registry.cursor() as cr:
            original_commit = type(cr).commit

            def commit(cursor):
                cursor.flush()
                cursor.execute(
                    "SELECT count(*), count(mail_id) FROM isp_dunning_notice"
                    " WHERE date = %s AND state != 'error'",
                    [when],
                )
                events.append(cursor.fetchone())
                return original_commit(cursor)

            with patch.object(type(cr), "commit", commit):
                env = self.env(cr=cr)
                run = (
                    env["isp.dunning.run"]
                    .with_company(self.company)
                    .with_context(dunning_autocommit=True)
                    .run_dunning(date=when)
                )
                return run.state, run.notice_count, run.log or ""

    def test_each_batch_is_committed_then_delivered(self):
        events = []
        state, count, _log = self._cron_run(date(2025, 1, 8), events)
        self.assertEqual((state, count), ("done", 2))
        # (notices, queued mails) at each commit: each batch's notice is
        # committed before its mail exists (booking), then its mail
        # (delivery), batch after batch.
        self.assertIn((1, 0), events, "the first batch was committed before its delivery")
        self.assertIn((1, 1), events)
        self.assertIn((2, 1), events, "the second batch was committed before its delivery")
        self.assertEqual(events[-1], (2, 2))
        self.assertLess(events.index((1, 0)), events.index((1, 1)))
        self.assertLess(events.index((1, 1)), events.index((2, 1)))
        for partner in (self.consumer, self.business):
            self.assertEqual(len(self.notices_of(partner).mail_id), 1)

    def test_statistics_refreshed_after_each_committed_batch(self):
        with patch.object(table_statistics, "refresh", wraps=table_statistics.refresh) as refresh:
            state, count, _log = self._cron_run(date(2025, 1, 8), [])
        self.assertEqual((state, count), ("done", 2))
        self.assertEqual(refresh.call_count, 2, "one batch per customer")

    def test_crash_in_second_batch_keeps_the_first(self):
        original = batch_reader.read_batch
        calls = []

        def crash_on_second(run, *args, **kwargs):
            calls.append(1)
            if len(calls) == 2:
                raise RuntimeError("worker killed")
            return original(run, *args, **kwargs)

        with (
            patch.object(batch_reader, "read_batch", crash_on_second),
            mute_logger(RUN_LOGGER),
        ):
            state, _count, log = self._cron_run(date(2025, 1, 8), [])
        self.assertEqual(state, "failed")
        self.assertIn("worker killed", log)
        notices = self.Notice.search([("partner_id", "in", (self.consumer | self.business).ids)])
        self.assertEqual(len(notices), 1, "the first batch was committed")
        self.assertTrue(notices.mail_id, "and delivered")
        state, count, _log = self._cron_run(date(2025, 1, 8), [])
        self.assertEqual((state, count), ("done", 1))
        for partner in (self.consumer, self.business):
            self.assertEqual(len(self.notices_of(partner)), 1)
