from datetime import date, timedelta
from unittest.mock import patch

from psycopg2 import errors as pg_errors

from odoo import SUPERUSER_ID, Command, api
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..services import batch_reader, fee_documents, table_statistics
from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningRun(DunningCommon):
    def test_levels_reached_on_exact_day(self):
        due = date(2025, 3, 3)
        invoice = self.make_invoice(self.consumer, 100.0, due)
        self.assertEqual(invoice.invoice_date_due, due)
        self.dun(due + timedelta(days=6))
        self.assertFalse(invoice.dunning_level_id, "a day before the delay nothing happens")
        self.dun(due + timedelta(days=7))
        self.assertEqual(invoice.dunning_level_id, self.level_1)
        self.assertEqual(invoice.dunning_last_date, due + timedelta(days=7))
        self.assertEqual(invoice.dunning_next_date, due + timedelta(days=21))
        self.dun(due + timedelta(days=20))
        self.assertEqual(invoice.dunning_level_id, self.level_1)
        self.dun(due + timedelta(days=21))
        self.assertEqual(invoice.dunning_level_id, self.level_2)
        self.assertEqual(self.consumer.dunning_level_id, self.level_2)
        self.assertEqual(len(self.notices_of(self.consumer)), 2)

    def test_one_step_per_run(self):
        invoice = self.make_invoice(self.consumer, 50.0, date(2025, 1, 10))
        run = self.dun(date(2025, 4, 10))
        self.assertEqual(invoice.dunning_level_id, self.level_1)
        self.assertEqual(run.notice_count, 1)
        self.assertEqual(run.invoice_count, 1)
        # The next step needs its own delay after that notice.
        self.dun(date(2025, 4, 11))
        self.assertEqual(invoice.dunning_level_id, self.level_1)

    def test_partial_payment_dunned_residual(self):
        invoice = self.make_invoice(self.consumer, 100.0, date(2025, 2, 1))
        self.pay(invoice, 40.0, date(2025, 2, 3))
        self.dun(date(2025, 2, 10))
        notice = self.notices_of(self.consumer)
        self.assertEqual(notice.amount_open, 60.0)
        self.assertEqual(notice.line_ids.amount_open, 60.0)

    def test_instalments_each_due_date_counts(self):
        term = self.env["account.payment.term"].create(
            {
                "name": "50/50",
                "line_ids": [
                    (0, 0, {"value": "percent", "value_amount": 50, "nb_days": 0}),
                    (0, 0, {"value": "percent", "value_amount": 50, "nb_days": 30}),
                ],
            }
        )
        invoice = self.make_invoice(
            self.consumer, 200.0, None, invoice_date=date(2025, 1, 1), term=term
        )
        self.dun(date(2025, 1, 8))
        notice = self.notices_of(self.consumer)
        self.assertEqual(notice.amount_open, 100.0, "only the overdue instalment")
        self.assertEqual(notice.line_ids.due_date, date(2025, 1, 1))
        self.assertEqual(invoice.dunning_level_id, self.level_1)

    def test_credit_and_payment_netting(self):
        self.make_invoice(self.consumer, 80.0, date(2025, 2, 1))
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.consumer.id,
                "amount": 80.0,
                "date": date(2025, 2, 5),
            }
        )
        payment.action_post()
        run = self.dun(date(2025, 2, 20))
        self.assertEqual(run.notice_count, 0)
        self.assertFalse(self.notices_of(self.consumer))

    def test_dispute_pauses_and_resumes(self):
        invoice = self.make_invoice(self.consumer, 70.0, date(2025, 2, 1))
        invoice.write(
            {"dunning_blocked_until": date(2025, 3, 1), "dunning_block_reason": "dispute"}
        )
        self.dun(date(2025, 2, 20))
        self.assertFalse(invoice.dunning_level_id)
        self.dun(date(2025, 3, 1))
        self.assertFalse(invoice.dunning_level_id, "paused up to and including the date")
        self.dun(date(2025, 3, 2))
        self.assertEqual(invoice.dunning_level_id, self.level_1)

    def test_payment_ends_dunning_at_reconciliation(self):
        invoice = self.make_invoice(self.consumer, 30.0, date(2025, 2, 1))
        self.dun(date(2025, 2, 8))
        self.assertEqual(self.consumer.dunning_level_id, self.level_1)
        self.pay(invoice, 30.0, date(2025, 2, 9))
        self.assertEqual(invoice.payment_state in ("paid", "in_payment"), True)
        # The invoice keeps the level it reached (a returned debit resumes
        # there); the customer has nothing open in dunning.
        self.assertEqual(invoice.dunning_level_id, self.level_1)
        self.assertFalse(self.consumer.dunning_level_id)
        self.assertEqual(len(invoice.dunning_notice_ids), 1, "history stays")

    def test_statutory_interest_consumer_across_base_rate_change(self):
        self.level_1.write({"interest_mode": "statutory"})
        invoice = self.make_invoice(self.consumer, 1000.0, date(2025, 5, 15))
        self.dun(date(2025, 8, 14))
        notice = self.notices_of(self.consumer)
        self.assertEqual(notice.interest_amount, 16.89)
        self.assertEqual(notice.line_ids.interest_days, 91)
        self.assertIn("7.27", notice.line_ids.interest_detail.replace(",", "."))
        self.assertEqual(invoice.dunning_interest_until, date(2025, 8, 14))

    def test_statutory_interest_business_and_incremental(self):
        self.level_1.write({"interest_mode": "statutory"})
        self.business.vat = False  # a company is a business even without VAT id
        self.make_invoice(self.business, 1000.0, date(2025, 5, 15))
        self.dun(date(2025, 8, 14))
        first = self.notices_of(self.business)
        # 46 days at 11.27 % + 45 days at 10.27 % on 1,000.00
        self.assertEqual(first.interest_amount, 26.86)
        self.dun(date(2025, 8, 28))
        second = self.notices_of(self.business)[1:]
        # Only the 14 days since the last charge, at 10.27 %.
        self.assertEqual(second.interest_amount, 3.94)
        self.assertEqual(second.line_ids.interest_date_from, date(2025, 8, 15))

    def test_fixed_interest(self):
        self.level_1.write({"interest_mode": "fixed", "interest_rate": 5.0})
        self.make_invoice(self.consumer, 365.0, date(2025, 1, 1))
        self.dun(date(2025, 1, 11))
        self.assertEqual(self.notices_of(self.consumer).interest_amount, 0.5)

    def test_lump_sum_once_per_invoice_and_fee_document(self):
        for level in (self.level_1, self.level_2):
            level.b2b_flat_fee = True
        invoice = self.make_invoice(self.business, 500.0, date(2025, 1, 2))
        self.dun(date(2025, 1, 9))
        first = self.notices_of(self.business)
        self.assertEqual(first.lump_sum_amount, 40.0)
        self.assertTrue(invoice.dunning_lump_sum_charged)
        fee_move = first.fee_move_id
        self.assertEqual(fee_move.state, "posted")
        self.assertEqual(fee_move.move_type, "out_invoice")
        self.assertEqual(fee_move.partner_id, self.business)
        self.assertEqual(fee_move.amount_total, 40.0)
        self.assertFalse(fee_move.line_ids.tax_ids, "dunning charges carry no VAT")
        self.assertEqual(fee_move.invoice_date_due, first.deadline_date)
        self.assertIn(invoice.name, fee_move.invoice_line_ids.name)
        self.dun(date(2025, 1, 23))
        second = self.notices_of(self.business)[1:]
        self.assertEqual(second.lump_sum_amount, 0.0, "never twice for one invoice")
        # § 288 (5) S. 3 BGB: the fee is credited against the lump sum charged.
        self.assertEqual(second.fee_amount, 0.0)
        self.assertEqual(second.fee_credited, 1.5)
        self.assertEqual(
            second.fee_move_id.amount_total, second.fee_amount + second.interest_amount
        )
        # The invoice itself was never changed.
        self.assertEqual(invoice.amount_total, 500.0)
        self.assertEqual(len(invoice.invoice_line_ids), 1)

    def test_notice_without_charges_books_nothing(self):
        self.make_invoice(self.consumer, 20.0, date(2025, 1, 2))
        self.dun(date(2025, 1, 9))
        self.assertFalse(self.notices_of(self.consumer).fee_move_id)

    def test_fee_documents_are_not_dunned(self):
        self.make_invoice(self.consumer, 20.0, date(2025, 1, 2))
        self.dun(date(2025, 1, 9))
        self.dun(date(2025, 1, 23))
        fee_move = self.notices_of(self.consumer)[1].fee_move_id
        self.assertTrue(fee_move)
        self.dun(date(2025, 3, 1))
        self.assertFalse(fee_move.dunning_level_id)

    def test_one_notice_per_customer_with_highest_level(self):
        old = self.make_invoice(self.consumer, 10.0, date(2025, 1, 1))
        self.dun(date(2025, 1, 8))
        new = self.make_invoice(self.consumer, 20.0, date(2025, 1, 15))
        run = self.dun(date(2025, 1, 22))
        self.assertEqual(run.notice_count, 1)
        notice = self.notices_of(self.consumer)[1:]
        self.assertEqual(notice.level_id, self.level_2)
        self.assertEqual(notice.move_ids, old | new)
        self.assertEqual(old.dunning_level_id, self.level_2)
        self.assertEqual(new.dunning_level_id, self.level_1)
        self.assertEqual(notice.amount_open, 30.0)

    def test_tolerance(self):
        self.make_invoice(self.consumer, 0.99, date(2025, 1, 1))
        self.assertEqual(self.dun(date(2025, 2, 1)).notice_count, 0)

    def test_excluded_partner(self):
        self.consumer.dunning_excluded = True
        self.make_invoice(self.consumer, 10.0, date(2025, 1, 1))
        self.assertEqual(self.dun(date(2025, 2, 1)).notice_count, 0)

    def test_same_day_rerun_changes_nothing(self):
        self.make_invoice(self.consumer, 10.0, date(2025, 1, 1))
        self.make_invoice(self.business, 10.0, date(2025, 1, 1))
        first = self.dun(date(2025, 1, 8))
        self.assertEqual(first.notice_count, 2)
        moves_before = self.env["account.move"].search_count([])
        second = self.dun(date(2025, 1, 8))
        self.assertEqual(second.notice_count, 0)
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)
        self.assertEqual(len(self.notices_of(self.consumer)), 1)

    def test_preview_changes_nothing(self):
        invoice = self.make_invoice(self.consumer, 10.0, date(2025, 1, 1))
        preview = self.dun(date(2025, 1, 8), dry_run=True)
        self.assertEqual(preview.notice_count, 1)
        self.assertIn("Max Verbraucher", preview.preview_html)
        self.assertIn(invoice.name, preview.preview_html)
        self.assertFalse(self.notices_of(self.consumer))
        self.assertFalse(invoice.dunning_level_id)

    def test_crash_half_way_then_rerun(self):
        self.company.dunning_batch_size = 1
        partners = self.consumer | self.business
        for partner in partners:
            self.make_invoice(partner, 10.0, date(2025, 1, 1))
        original = batch_reader.read_batch
        calls = []

        def crash_on_second(run, *args, **kwargs):
            calls.append(1)
            if len(calls) == 2:
                raise RuntimeError("worker killed")
            return original(run, *args, **kwargs)

        # Not assertRaises: it would roll back the batch that was done.
        with (
            patch.object(batch_reader, "read_batch", crash_on_second),
            mute_logger("odoo.addons.isp_dunning.models.isp_dunning_run"),
        ):
            crashed = False
            try:
                self.dun(date(2025, 1, 8))
            except RuntimeError:
                crashed = True
            self.assertTrue(crashed, "the injected crash did not happen")
        self.assertEqual(len(self.Notice.search([("partner_id", "in", partners.ids)])), 1)
        self.dun(date(2025, 1, 8))
        for partner in partners:
            notice = self.notices_of(partner)
            self.assertEqual(len(notice), 1)
            self.assertEqual(notice.level_id, self.level_1)

    def test_one_bad_customer_does_not_stop_the_run(self):
        self.make_invoice(self.consumer, 10.0, date(2025, 1, 1))
        invoice = self.make_invoice(self.business, 10.0, date(2025, 1, 1))
        original = fee_documents.create_fee_moves
        bad = self.business

        def fail_for_business(run, notices, plans):
            if bad in notices.partner_id:
                raise ValueError("journal archived")
            return original(run, notices, plans)

        with patch.object(fee_documents, "create_fee_moves", fail_for_business):
            run = self.dun(date(2025, 1, 8))
        self.assertEqual(run.error_count, 1)
        self.assertIn("Firma GmbH", run.log)
        self.assertIn("journal archived", run.log)
        self.assertIn("left to the next run", run.log)
        self.assertEqual(self.notices_of(self.consumer).state, "to_send")
        # No notice (not even one in error) takes the customer's slot of the
        # day: nothing can be retried into sending without its booking.
        self.assertFalse(self.Notice.search([("partner_id", "=", bad.id)]))
        self.assertFalse(invoice.dunning_level_id)
        # The next run (the same day) books the customer completely.
        rerun = self.dun(date(2025, 1, 8))
        self.assertEqual(rerun.error_count, 0)
        booked = self.notices_of(self.business)
        self.assertEqual(booked.state, "to_send")
        self.assertEqual(booked.level_id, self.level_1)
        self.assertEqual(invoice.dunning_level_id, self.level_1)

    def test_handover_level_ends_automatic_dunning(self):
        self.level_4.write({"collection_handover": True, "collection_agency_id": self.agency.id})
        invoice = self.make_invoice(self.consumer, 150.0, date(2025, 1, 1))
        day = date(2025, 1, 8)
        for _step in range(4):
            self.dun(day)
            day += timedelta(days=14)
        self.assertEqual(invoice.dunning_level_id, self.level_4)
        self.assertTrue(invoice.dunning_handed_over)
        self.assertEqual(self.dun(day + timedelta(days=60)).notice_count, 0)

    def test_no_levels_is_a_clear_error(self):
        (self.level_1 | self.level_2 | self.level_3 | self.level_4).action_archive()
        with self.assertRaisesRegex(Exception, "no dunning levels"):
            self.dun(date(2025, 1, 8))

    def test_render_notice_texts(self):
        self.make_invoice(self.consumer, 12.5, date(2025, 1, 1))
        self.dun(date(2025, 1, 8))
        parts = self.notices_of(self.consumer)._render_parts()
        self.assertEqual(parts["subject"], "Reminder " + self.company.name)
        self.assertIn("Dear Max Verbraucher", parts["body_text"])

    def test_cron_runs_every_company_with_levels(self):
        self.make_invoice(self.consumer, 10.0, date.today() - timedelta(days=30))
        self.env.flush_all()
        # The cron commits per batch: on a cursor of the test registry, whose
        # commits stay inside the test's transaction.
        with self.registry.cursor() as cr:
            self.env(cr=cr).ref("isp_dunning.ir_cron_dunning_run").method_direct_trigger()
        self.assertEqual(self.notices_of(self.consumer).level_id, self.level_1)

    def test_second_run_of_a_company_waits_for_the_lock(self):
        """Two workers: the advisory lock held by one makes the other skip."""
        self.make_invoice(self.consumer, 10.0, date(2025, 1, 1))
        with self.independent_cursor() as other:
            other.execute("SELECT pg_advisory_lock(7311, %s)", (self.company.id,))
            run = self.dun(date(2025, 1, 8))
            other.execute("SELECT pg_advisory_unlock(7311, %s)", (self.company.id,))
        self.assertEqual(run.state, "skipped")
        self.assertFalse(self.notices_of(self.consumer))
        self.assertEqual(self.dun(date(2025, 1, 8)).notice_count, 1)

    def reltuples(self, table):
        self.env.cr.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
        return self.env.cr.fetchone()[0]

    def lock_timeout(self):
        self.env.cr.execute("SELECT current_setting('lock_timeout')")
        return self.env.cr.fetchone()[0]

    def test_statistics_refresh_analyzes_the_tables(self):
        for days in range(3):
            partner = self.env["res.partner"].create({"name": f"Kunde {days}"})
            self.make_invoice(partner, 10.0, date(2025, 1, 1) + timedelta(days=days))
        run = self.dun(date(2025, 1, 20))
        self.assertGreaterEqual(run.notice_count, 3)
        self.env.cr.execute("SELECT count(*) FROM isp_dunning_notice")
        notices = self.env.cr.fetchone()[0]
        lock_timeout = self.lock_timeout()
        self.assertTrue(table_statistics.analyze(self.env.cr, ["isp_dunning_notice"]))
        # ANALYZE counted the notices, the run's own included.
        self.assertEqual(self.reltuples("isp_dunning_notice"), notices)
        self.assertEqual(self.lock_timeout(), lock_timeout, "the lock timeout is restored")

    @mute_logger("odoo.sql_db")
    def test_statistics_refresh_never_waits_for_a_busy_table(self):
        """Another session holds the table (a long VACUUM, another run
        analyzing it): the run goes on without the refresh."""
        self.dun(date(2025, 1, 20))
        before = self.reltuples("isp_dunning_notice_line")
        lock_timeout = self.lock_timeout()
        # Were the run to wait, the test would fail here instead of hanging.
        self.env.cr.execute("SET LOCAL statement_timeout = '10s'")
        with self.independent_cursor() as vacuum:
            vacuum.execute("LOCK TABLE isp_dunning_notice_line IN SHARE UPDATE EXCLUSIVE MODE")
            self.assertFalse(table_statistics.analyze(self.env.cr, ["isp_dunning_notice_line"]))
            vacuum.rollback()
        self.assertEqual(self.reltuples("isp_dunning_notice_line"), before)
        # The transaction goes on, with its own lock timeout.
        self.assertEqual(self.lock_timeout(), lock_timeout)
        self.assertTrue(table_statistics.analyze(self.env.cr, ["isp_dunning_notice_line"]))

    def test_statistics_refresh_waits_for_committed_batches(self):
        """Outside the cron (Run now, tests) nothing is committed per batch:
        no statistics to refresh."""
        self.make_invoice(self.consumer, 10.0, date(2025, 1, 1))
        with patch.object(table_statistics, "refresh", return_value=[]) as refresh:
            run = self.dun(date(2025, 1, 20))
        self.assertEqual(run.notice_count, 1, "a batch was booked")
        refresh.assert_not_called()

    def lock_is_free(self, company):
        with self.independent_cursor() as probe:
            probe.execute("SELECT pg_try_advisory_lock(7311, %s)", (company.id,))
            free = probe.fetchone()[0]
            if free:
                probe.execute("SELECT pg_advisory_unlock(7311, %s)", (company.id,))
        return free

    def test_run_now_holds_the_lock_until_its_transaction_ends(self):
        """ "Run now" is one transaction: a cron run that starts before it is
        committed must skip, not book the same customers again."""
        self.make_invoice(self.consumer, 10.0, date(2025, 1, 1))
        self.assertTrue(self.lock_is_free(self.company))
        self.assertEqual(self.dun(date(2025, 1, 8)).notice_count, 1)
        self.assertFalse(self.lock_is_free(self.company), "held until the transaction ends")

    @mute_logger("odoo.addons.isp_dunning.models.isp_dunning_run", "odoo.sql_db")
    def test_failed_run_now_leaves_no_lock_behind(self):
        """A request whose run fails on a database error is rolled back; its
        pooled connection lives on, so a session lock would stay held and
        every later run of the company would skip."""
        with self.independent_cursor() as request:
            # A committed company: the test's own data is invisible here.
            env = api.Environment(request, SUPERUSER_ID, {})
            company = env.ref("base.main_company")

            def broken(run, log):
                run.env.cr.execute("SELECT 1 / 0")

            with patch.object(type(self.Run), "_execute_locked", broken):
                with self.assertRaises(pg_errors.DivisionByZero):
                    env["isp.dunning.run"].with_company(company).run_dunning(date=date(2025, 1, 8))
            request.rollback()
            self.assertTrue(self.lock_is_free(company))

    def test_a_year_of_daily_runs(self):
        """Daily cron runs over a year: every level on its day, fees once per
        notice, interest charged day by day without gaps or overlaps."""
        consumer_invoice = self.make_invoice(self.consumer, 1000.0, date(2025, 1, 15))
        business_invoice = self.make_invoice(self.business, 1000.0, date(2025, 1, 15))
        day = date(2025, 1, 1)
        while day <= date(2025, 12, 31):
            self.dun(day)
            day += timedelta(days=1)
        expected_days = [date(2025, 1, 22), date(2025, 2, 5), date(2025, 2, 19), date(2025, 3, 5)]
        for partner, invoice in (
            (self.consumer, consumer_invoice),
            (self.business, business_invoice),
        ):
            notices = self.notices_of(partner)
            self.assertEqual(notices.mapped("date"), expected_days)
            self.assertEqual(
                notices.level_id, self.level_1 | self.level_2 | self.level_3 | self.level_4
            )
            self.assertEqual(invoice.dunning_level_id, self.level_4)
            # The business's lump sum (second notice) is credited against the
            # fees of its second and final notice (§ 288 (5) S. 3 BGB).
            fees = 4.5 if partner == self.consumer else 1.5
            self.assertAlmostEqual(sum(notices.mapped("fee_amount")), fees)
            # Interest from 2025-01-16 to the final notice: 49 days (level 2
            # charges 2025-01-16..02-05 = 21 days, then 14 + 14).
            lines = notices.line_ids.filtered("interest_amount")
            self.assertEqual(sum(lines.mapped("interest_days")), 21 + 14 + 14)
            self.assertEqual(lines[0].interest_date_from, date(2025, 1, 16))
            for previous, following in zip(lines, lines[1:], strict=False):
                self.assertEqual(
                    following.interest_date_from, previous.interest_date_to + timedelta(days=1)
                )
        consumer_interest = sum(self.notices_of(self.consumer).mapped("interest_amount"))
        business_interest = sum(self.notices_of(self.business).mapped("interest_amount"))
        # 49 days on 1,000.00 at 2.27 % + 5 / + 9 points, rounded per notice.
        self.assertAlmostEqual(consumer_interest, 1000 * 49 * 7.27 / 36500, delta=0.02)
        self.assertAlmostEqual(business_interest, 1000 * 49 * 11.27 / 36500, delta=0.02)
        self.assertEqual(sum(self.notices_of(self.business).mapped("lump_sum_amount")), 40.0)
        self.assertEqual(sum(self.notices_of(self.consumer).mapped("lump_sum_amount")), 0.0)

    def test_multi_currency_notice_per_currency_and_converted_fee(self):
        """Invoices in two currencies: one notice per currency, amounts in the
        invoice currency, the fee converted from company currency."""
        foreign = self.setup_other_currency("CHF", rates=[("2024-01-01", 2.0)])
        self.make_invoice(self.consumer, 100.0, date(2025, 1, 1))
        chf_invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.consumer.id,
                "currency_id": foreign.id,
                "invoice_date": date(2025, 1, 1),
                "invoice_date_due": date(2025, 1, 1),
                "invoice_line_ids": [
                    Command.create({"name": "Internet", "price_unit": 80.0, "tax_ids": []})
                ],
            }
        )
        chf_invoice.action_post()
        self.dun(date(2025, 1, 8))
        self.dun(date(2025, 1, 22))
        notices = self.notices_of(self.consumer)
        second = notices.filtered(lambda n: n.level_id == self.level_2)
        self.assertEqual(len(second), 2)
        by_currency = {n.currency_id: n for n in second}
        self.assertEqual(by_currency[foreign].amount_open, 80.0)
        self.assertEqual(by_currency[foreign].fee_amount, 3.0, "1.50 at a rate of 2")
        self.assertEqual(by_currency[self.company.currency_id].fee_amount, 1.5)
        self.assertEqual(by_currency[foreign].fee_move_id.currency_id, foreign)

    def test_companies_keep_their_own_levels(self):
        other = self.setup_other_company()["company"]
        self.assertFalse(self.Level.search([("company_id", "=", other.id)]))
        self.make_invoice(self.consumer, 10.0, date(2025, 1, 1))
        run = self.Run.with_company(self.company).run_dunning(date=date(2025, 1, 8))
        self.assertEqual(run.company_id, self.company)
        self.assertEqual(self.notices_of(self.consumer).company_id, self.company)
        with self.assertRaisesRegex(Exception, "no dunning levels"):
            self.Run.with_company(other).with_user(self.env.user).run_dunning(date=date(2025, 1, 8))

    def test_customer_level_is_per_company(self):
        """A customer of two companies stands on each company's own level."""
        other = self.setup_other_company()["company"]
        self.make_invoice(self.consumer, 10.0, date(2025, 1, 1))
        self.dun(date(2025, 1, 8))
        self.assertEqual(self.consumer.with_company(self.company).dunning_level_id, self.level_1)
        self.assertFalse(self.consumer.with_company(other).dunning_level_id)
        in_dunning = (
            self.env["res.partner"]
            .with_company(other)
            .search([("id", "=", self.consumer.id), ("dunning_level_id", "!=", False)])
        )
        self.assertFalse(in_dunning, "the filter 'In Dunning' of the other company")
        # Paid: the level goes.
        invoice = self.env["account.move"].search(
            [("partner_id", "=", self.consumer.id), ("move_type", "=", "out_invoice")], limit=1
        )
        self.pay(invoice, invoice.amount_residual, date(2025, 1, 10))
        self.assertFalse(self.consumer.with_company(self.company).dunning_level_id)

    def test_concurrent_update_leaves_the_customer_for_the_next_run(self):
        """A serialization failure (another worker updated a shared row) is
        not an error of the customer: nothing is recorded and the next run
        books it."""
        self.make_invoice(self.consumer, 10.0, date(2025, 1, 1))
        self.make_invoice(self.business, 10.0, date(2025, 1, 1))
        original = fee_documents.create_fee_moves
        bad = self.business

        def conflict_for_business(run, notices, plans):
            if bad in notices.partner_id:
                raise pg_errors.SerializationFailure("could not serialize access")
            return original(run, notices, plans)

        with patch.object(fee_documents, "create_fee_moves", conflict_for_business):
            run = self.dun(date(2025, 1, 8))
        self.assertEqual(self.notices_of(self.consumer).state, "to_send")
        self.assertFalse(self.notices_of(self.business), "nothing recorded")
        self.assertIn("could not serialize", run.log)
        self.assertEqual(self.dun(date(2025, 1, 8)).notice_count, 1)
        self.assertEqual(self.notices_of(self.business).level_id, self.level_1)


@tagged("post_install", "-at_install")
class TestSkipReasons(DunningCommon):
    """The run's log says why each customer without a notice was skipped."""

    def test_log_says_why_customers_were_skipped(self):
        Partner = self.env["res.partner"]
        paused, excluded, netted, small = Partner.create(
            [
                {"name": "Pausiert GmbH", "is_company": True, "email": "p@x.example"},
                {"name": "Ausgenommen AG", "is_company": True, "email": "a@x.example"},
                {"name": "Gutschrift KG", "is_company": True, "email": "g@x.example"},
                {"name": "Klein OHG", "is_company": True, "email": "k@x.example"},
            ]
        )
        paused_invoice = self.make_invoice(paused, 100.0, date(2025, 1, 1))
        paused_invoice.write(
            {"dunning_blocked_until": date(2025, 2, 1), "dunning_block_reason": "dispute"}
        )
        excluded.dunning_excluded = True
        self.make_invoice(excluded, 100.0, date(2025, 1, 1))
        self.make_invoice(netted, 50.0, date(2025, 1, 1))
        refund = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": netted.id,
                "invoice_date": date(2025, 1, 2),
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Gutschrift", "quantity": 1, "price_unit": 60.0, "tax_ids": []}
                    )
                ],
            }
        )
        refund.action_post()
        small_invoice = self.make_invoice(small, 0.5, date(2025, 1, 1))
        self.make_invoice(self.consumer, 100.0, date(2025, 1, 1))

        run = self.dun(date(2025, 1, 8))

        self.assertEqual(run.notice_count, 1, "only the consumer is dunned")
        lines = run.log.splitlines()
        self.assertIn(f"Customer Pausiert GmbH skipped: paused ({paused_invoice.name})", lines)
        self.assertIn("Customer Ausgenommen AG skipped: excluded from dunning", lines)
        self.assertIn(
            "Customer Gutschrift KG skipped: net balance covered by credits and payments", lines
        )
        self.assertIn(
            f"Customer Klein OHG skipped: below the tolerance ({small_invoice.name})", lines
        )
        self.assertFalse([line for line in lines if "Max Verbraucher" in line])
        # The preview says the same.
        preview = self.dun(date(2025, 1, 9), dry_run=True)
        self.assertIn("Customer Ausgenommen AG skipped: excluded from dunning", preview.log)
