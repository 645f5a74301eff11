from contextlib import contextmanager
from datetime import date, timedelta

from odoo import Command
from odoo.tests import tagged

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestRunCosts(DunningCommon):
    """What one run costs grows with its batches, not with its customers;
    the batched bookings give the same documents and numbers as Odoo's
    record-by-record way."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Fees, interest and a portal block (postponed by the consumer guard)
        # already at the second level: every kind of booking in two runs.
        cls.level_2.block_portal = True

    def _customers(self, count, due):
        partners = self.env["res.partner"].create(
            [
                {"name": f"Kunde {due} {index}", "email": f"kunde{index}.{due}@example.com"}
                for index in range(count)
            ]
        )
        for partner in partners:
            self.make_invoice(partner, 100.0, due)
        return partners

    def _queries_of_second_run(self, count, due):
        """Queries of the run that books fees, interest and the postponed
        block of ``count`` new customers."""
        partners = self._customers(count, due)
        self.dun(due + timedelta(days=7))
        self.env.flush_all()
        before = self.env.cr.sql_log_count
        run = self.dun(due + timedelta(days=21))
        queries = self.env.cr.sql_log_count - before
        notices = run.notice_ids
        self.assertEqual(len(notices), count)
        self.assertEqual(len(notices.fee_move_id), count)
        self.assertTrue(all(notices.mapped("portal_block_postponed")))
        self.assertTrue(all(notices.mapped("mail_id")))
        # Leave them out of the next measurement.
        partners.dunning_excluded = True
        return queries

    def test_queries_do_not_grow_per_customer(self):
        small = self._queries_of_second_run(2, date(2025, 1, 2))
        large = self._queries_of_second_run(10, date(2025, 3, 3))
        per_customer = (large - small) / 8
        # Record by record it was about 25 queries per customer (fee document
        # ≈ 21, notice number 3, consumer guard 5); what is left per customer
        # is Odoo's fiscal position lookup of a fee document.
        self.assertLess(
            per_customer,
            4,
            f"{small} queries for 2 customers, {large} for 10: {per_customer:.1f} per customer",
        )

    def test_notice_numbers_are_consecutive(self):
        due = date(2025, 1, 2)
        self._customers(5, due)
        run = self.dun(due + timedelta(days=7))
        names = run.notice_ids.sorted("id").mapped("name")
        self.assertTrue(all(name.startswith("MA/2025/") for name in names), names)
        numbers = [int(name.rsplit("/", 1)[1]) for name in names]
        self.assertEqual(numbers, list(range(numbers[0], numbers[0] + 5)))
        following = self.env["ir.sequence"].next_by_code(
            "isp.dunning.notice", sequence_date=due + timedelta(days=7)
        )
        self.assertEqual(following, f"MA/2025/{numbers[-1] + 1:06d}")

    def test_notice_numbers_of_a_no_gap_sequence(self):
        self.env.ref("isp_dunning.seq_isp_dunning_notice").implementation = "no_gap"
        due = date(2026, 2, 2)
        self._customers(3, due)
        run = self.dun(due + timedelta(days=7))
        numbers = sorted(int(name.rsplit("/", 1)[1]) for name in run.notice_ids.mapped("name"))
        self.assertEqual(numbers, list(range(numbers[0], numbers[0] + 3)))
        self.assertTrue(all(name.startswith("MA/2026/") for name in run.notice_ids.mapped("name")))

    def test_fee_documents_equal_odoo_invoices(self):
        """A fee document of the batch is the invoice Odoo books for the same
        lines one by one: journal items, amounts, residual, payment state,
        followers, customer rank and a gapless number."""
        due = date(2025, 1, 2)
        partners = self._customers(3, due)
        self.dun(due + timedelta(days=7))
        ranks = {partner: partner.customer_rank for partner in partners}
        run = self.dun(due + timedelta(days=21))
        fee_moves = run.notice_ids.fee_move_id.sorted("name")
        self.assertEqual(len(fee_moves), 3)
        numbers = [move.sequence_number for move in fee_moves]
        self.assertEqual(numbers, list(range(numbers[0], numbers[0] + 3)))
        self.assertEqual(len(set(fee_moves.mapped("sequence_prefix"))), 1)
        for partner in partners:
            self.assertEqual(partner.customer_rank, ranks[partner] + 1)

        fee_move = fee_moves[-1]
        notice = fee_move.dunning_fee_notice_id
        reference = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "journal_id": fee_move.journal_id.id,
                "partner_id": fee_move.partner_id.id,
                "currency_id": fee_move.currency_id.id,
                "invoice_date": fee_move.invoice_date,
                "date": fee_move.date,
                "invoice_payment_term_id": False,
                "invoice_date_due": fee_move.invoice_date_due,
                "invoice_origin": fee_move.invoice_origin,
                "ref": fee_move.ref,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": line.name,
                            "quantity": line.quantity,
                            "price_unit": line.price_unit,
                            "product_id": line.product_id.id,
                            "account_id": line.account_id.id,
                            "tax_ids": [Command.clear()],
                        }
                    )
                    for line in fee_move.invoice_line_ids
                ],
            }
        )
        reference.action_post()

        self.assertEqual(fee_move.state, "posted")
        self.assertEqual(fee_move.move_type, "out_invoice")
        self.assertEqual(fee_move.invoice_origin, notice.name)
        self.assertEqual(fee_move.ref, notice.name)
        self.assertEqual(fee_move.invoice_date_due, notice.deadline_date)
        self.assertEqual(fee_move.amount_total, notice.fee_amount + notice.interest_amount)
        self.assertEqual(reference.sequence_prefix, fee_move.sequence_prefix)
        self.assertEqual(reference.sequence_number, fee_move.sequence_number + 1)

        def content(move):
            return {
                "amounts": (
                    move.amount_untaxed,
                    move.amount_tax,
                    move.amount_total,
                    move.amount_residual,
                    move.payment_state,
                ),
                "head": (
                    move.partner_id,
                    move.commercial_partner_id,
                    move.fiscal_position_id,
                    move.currency_id,
                    move.invoice_date,
                    move.invoice_date_due,
                    move.date,
                ),
                "lines": sorted(
                    (
                        line.display_type,
                        # The receivable line is named after its document.
                        (line.name or "").replace(move.name, "<number>"),
                        line.account_id.id,
                        line.partner_id.id,
                        line.debit,
                        line.credit,
                        line.amount_currency,
                        line.amount_residual,
                        line.date_maturity or date.min,
                        line.reconciled,
                        tuple(line.tax_ids.ids),
                        tuple(line.tax_tag_ids.ids),
                        str(line.analytic_distribution or {}),
                    )
                    for line in move.line_ids
                ),
                "followers": move.message_partner_ids,
            }

        self.assertEqual(content(fee_move), content(reference))
        receivable = fee_move.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        self.assertEqual(receivable.date_maturity, notice.deadline_date)
        self.assertEqual(receivable.amount_residual, fee_move.amount_total)
        self.assertEqual(fee_move.payment_state, "not_paid")

    def test_commercial_partner_is_indexed(self):
        self.env.cr.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'account_move'"
            " AND indexname = 'account_move__commercial_partner_id_index'"
        )
        row = self.env.cr.fetchone()
        self.assertTrue(row, "account_move.commercial_partner_id has no index")
        self.assertIn("(commercial_partner_id)", row[0])

    def test_notice_lines_are_inserted_complete(self):
        """A notice line's company and currency go into its INSERT: a second
        UPDATE of every line of a batch would double what PostgreSQL writes."""
        self._customers(3, date(2025, 1, 2))
        queries = []
        with contextmanager(self._patchExecute)(queries):
            run = self.dun(date(2025, 1, 9))
        lines = run.notice_ids.line_ids
        self.assertEqual(len(lines), 3)
        self.assertEqual(lines.company_id, run.company_id)
        self.assertEqual(lines.currency_id, run.company_id.currency_id)
        inserts = [
            q for q in queries if q.lstrip().startswith('INSERT INTO "isp_dunning_notice_line"')
        ]
        updates = [q for q in queries if q.lstrip().startswith('UPDATE "isp_dunning_notice_line"')]
        self.assertTrue(inserts)
        self.assertEqual(updates, [])

    def test_notices_are_inserted_complete(self):
        """A notice's stored computed fields (level sequence, total due, fee
        document) go into its INSERT, not into an UPDATE of the batch's
        notices right after it."""
        self._customers(3, date(2025, 1, 2))
        queries = []
        with contextmanager(self._patchExecute)(queries):
            run = self.dun(date(2025, 1, 9))
        notices = run.notice_ids
        self.assertEqual(len(notices), 3)
        for notice in notices:
            self.assertEqual(notice.level_sequence, notice.level_id.sequence)
            self.assertEqual(notice.amount_total_due, 100.0)
        self.assertFalse(notices.fee_move_id)
        updates = [
            q
            for q in queries
            if q.lstrip().startswith('UPDATE "isp_dunning_notice"')
            and any(
                name in q for name in ('"amount_total_due"', '"level_sequence"', '"fee_move_id"')
            )
        ]
        self.assertEqual(updates, [])
