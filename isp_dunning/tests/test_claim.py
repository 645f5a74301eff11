import csv
import io
from datetime import date

from odoo import Command
from odoo.tests import tagged

from ..domain import collection
from .common import DunningCommon
from .test_delivery import pdf_text


@tagged("post_install", "-at_install")
class TestClaim(DunningCommon):
    """The notice states the whole claim (rule 1), the lump sum is credited
    against the fees (§ 288 (5) S. 3 BGB, rule 2) and fee documents bear
    neither interest nor a lump sum (§ 289 BGB, rule 3)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.term = cls.env["account.payment.term"].create(
            {
                "name": "Two instalments",
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 50, "nb_days": 0}),
                    Command.create({"value": "percent", "value_amount": 50, "nb_days": 20}),
                ],
            }
        )

    def _rows(self, notice, section=None):
        return [row for row in notice._claim_statement().rows if section in (None, row.section)]

    # -- rule 1 --------------------------------------------------------------

    def test_claim_equals_the_open_receivables_at_every_level(self):
        """Business customer with an invoice, an invoice in two instalments,
        a credit note and an unapplied payment: every notice's total is the
        open balance of the receivable lines it lists, to the cent; the final
        one, with everything overdue, is the whole open balance (the demo's
        Musterhaus case: earlier fee documents were missing)."""
        plain = self.make_invoice(self.business, 1000.0, date(2025, 1, 1))
        split = self.make_invoice(self.business, 200.0, None, date(2025, 1, 1), term=self.term)
        refund = self.credit_note(self.business, 30.0, date(2025, 1, 3))
        payment = self.unapplied_payment(self.business, 20.0, date(2025, 1, 4))
        days = [date(2025, 1, 8), date(2025, 1, 22), date(2025, 2, 5), date(2025, 2, 19)]
        for day in days:
            self.dun(day)
            notice = self.notices_of(self.business).filtered(lambda n, day=day: n.date == day)
            self.assertEqual(len(notice), 1, day)
            self.env.flush_all()
            lines = self.open_receivables(self.business)
            # what the notice lists: overdue instalments of its invoices, every
            # open fee document, every credit
            listed = lines.filtered(
                lambda line, notice=notice: (
                    line.move_id.dunning_fee_notice_id
                    or line.amount_residual < 0
                    or (line.move_id in notice.move_ids and line.date_maturity < notice.date)
                )
            )
            self.assertAlmostEqual(
                notice.amount_total_due, sum(listed.mapped("amount_residual")), places=2
            )
            statement = notice._claim_statement()
            self.assertAlmostEqual(float(statement.total), notice.amount_total_due, places=2)
            documents = {row.move_id for row in statement.rows if row.move_id}
            # the notice's own fee document books its new charges
            own = notice.fee_move_id
            self.assertEqual(documents | set(own.ids), set(listed.move_id.ids), day)
            new_charges = sum(r.amount for r in statement.rows if r.section == "new_charges")
            self.assertAlmostEqual(float(new_charges), own.amount_residual, places=2)
        final = self.notices_of(self.business)[-1]
        self.assertEqual(final.level_id, self.level_4)
        all_open = self.open_receivables(self.business)
        self.assertAlmostEqual(
            final.amount_total_due, sum(all_open.mapped("amount_residual")), places=2
        )
        earlier = self.notices_of(self.business)[:-1].fee_move_id
        self.assertEqual(len(earlier), 2, "fee documents of the first and second notice")
        self.assertAlmostEqual(
            final.amount_earlier_charges, sum(earlier.mapped("amount_residual")), places=2
        )
        self.assertEqual(final.amount_credits, 50.0)
        kinds = {(row.section, row.kind, row.move_id) for row in self._rows(final)}
        self.assertIn(("credits", "credit_note", refund.id), kinds)
        self.assertIn(("credits", "payment", payment.id), kinds)
        for fee_move in earlier:
            self.assertIn(("earlier_charges", "fee_document", fee_move.id), kinds)
        principal = self._rows(final, "principal")
        self.assertEqual(
            [(row.move_id, float(row.amount)) for row in principal],
            [(plain.id, 1000.0), (split.id, 100.0), (split.id, 100.0)],
            "one row per overdue instalment",
        )
        # The email's text states the same figures.
        context = final._render_context()
        self.assertAlmostEqual(float(context["claim"]["total"]), final.amount_total_due)
        self.assertEqual(context["notice"]["amount_total_due"], context["claim"]["total"])
        documents = {row["document"] for row in context["claim"]["rows"]}
        self.assertTrue({refund.name, payment.name, plain.name} <= documents)
        self.assertTrue(set(earlier.mapped("name")) <= documents)
        # The pay link collects the earlier charges the notice states, too.
        pay_moves = final._dunning_open_moves()
        self.assertTrue(earlier <= pay_moves)
        self.assertTrue({plain, split} <= set(pay_moves))
        # So does a payment quoting the notice: Register Payment offers the
        # whole claim, the credits aside (they stay open for the accountant).
        wizard = (
            self.env["isp.dunning.register.payment"]
            .with_context(default_notice_id=final.id)
            .create({})
        )
        self.assertAlmostEqual(
            wizard.amount_open, final.amount_total_due + final.amount_credits, places=2
        )

    def test_instalments_have_their_own_rows_and_interest_detail(self):
        split = self.make_invoice(self.consumer, 200.0, None, date(2025, 1, 1), term=self.term)
        self.dun(date(2025, 1, 8))  # first instalment only
        first = self.notices_of(self.consumer)
        self.assertEqual(first.amount_open, 100.0)
        self.assertEqual(len(self._rows(first, "principal")), 1)
        self.dun(date(2025, 1, 22))  # both overdue, interest on each
        second = self.notices_of(self.consumer)[1:]
        self.assertEqual(second.amount_open, 200.0)
        rows = self._rows(second, "principal")
        self.assertEqual([row.due_date for row in rows], [date(2025, 1, 1), date(2025, 1, 21)])
        detail = second.line_ids.interest_detail
        self.assertIn("Rate fällig 01.01.2025: ", detail)
        self.assertIn("; Rate fällig 21.01.2025: ", detail)
        label = second.fee_move_id.invoice_line_ids.filtered(
            lambda line: split.name in line.name
        ).name
        self.assertIn("instalment due 2025-01-01", label)

    def test_email_letter_and_collection_csv_show_the_same_figures(self):
        self.level_4.write(
            {
                "collection_handover": True,
                "collection_agency_id": self.agency.id,
                "send_letter": True,
                "body_text_template": "Total {{ claim.total|money('€', 'en') }}"
                "{% for row in claim.rows %}|{{ row.document }} {{ row.amount }}{% endfor %}",
            }
        )
        invoice = self.make_invoice(self.business, 1000.0, date(2025, 1, 1))
        refund = self.credit_note(self.business, 30.0, date(2025, 1, 3))
        for day in (date(2025, 1, 8), date(2025, 1, 22), date(2025, 2, 5), date(2025, 2, 19)):
            self.dun(day)
        final = self.notices_of(self.business)[-1]
        self.assertEqual(final.level_id, self.level_4)
        total = final.amount_total_due
        # email
        self.assertIn(f"Total €{total:,.2f}", final.body_text)
        self.assertIn(f"|{refund.name} -30.00", final.body_text)
        # letter
        letter = pdf_text(final.letter_attachment_id.raw)
        self.assertIn("Claim statement", letter)
        self.assertIn(f"{total:,.2f}", letter)
        for move in self.notices_of(self.business)[:-1].fee_move_id | refund | invoice:
            self.assertIn(move.name, letter)
        # collection CSV
        csv_file = final.handover_mail_id.attachment_ids.filtered(lambda a: a.name.endswith(".csv"))
        rows = list(csv.reader(io.StringIO(csv_file.raw.decode("utf-8-sig")), delimiter=";"))
        open_amounts = [float(row[17].replace(".", "").replace(",", ".")) for row in rows[1:]]
        self.assertAlmostEqual(sum(open_amounts), total, places=2)
        self.assertAlmostEqual(float(collection.total_open(final._claims())), total, places=2)
        by_number = {row[8]: row for row in rows[1:]}
        self.assertEqual(by_number[invoice.name][17], "1000,00")
        self.assertEqual(by_number[refund.name][0], "Gutschrift")
        self.assertEqual(by_number[refund.name][17], "-30,00")
        own = by_number[final.fee_move_id.name]
        self.assertEqual(own[0], "Mahngebühr")
        self.assertEqual(own[13], "0,00", "the fee is credited against the lump sum")

    # -- rule 2 --------------------------------------------------------------

    def test_lump_sum_is_credited_against_the_fees(self):
        invoice = self.make_invoice(self.business, 1000.0, date(2025, 1, 1))
        for day in (date(2025, 1, 8), date(2025, 1, 22), date(2025, 2, 5), date(2025, 2, 19)):
            self.dun(day)
        reminder, first, second, final = self.notices_of(self.business)
        self.assertEqual((first.fee_amount, first.lump_sum_amount), (1.5, 0.0))
        # The second notice charges both: only the larger, the lump sum.
        self.assertEqual((second.fee_amount, second.lump_sum_amount), (0.0, 40.0))
        self.assertEqual(second.fee_credited, 1.5)
        self.assertTrue(invoice.dunning_lump_sum_charged)
        # Later fees for the invoice are credited against its lump sum.
        self.assertEqual((final.fee_amount, final.lump_sum_amount), (0.0, 0.0))
        self.assertEqual(final.fee_credited, 1.5)
        self.assertFalse(
            second.fee_move_id.invoice_line_ids.filtered(lambda line: "Dunning fee" in line.name)
        )
        self.assertEqual(
            second.fee_move_id.amount_total, second.lump_sum_amount + second.interest_amount
        )
        self.assertFalse(reminder.fee_credited)
        context = second._render_context()
        self.assertEqual(float(context["claim"]["fee_credited"]), 1.5)
        self.assertEqual(float(context["notice"]["fee_credited"]), 1.5)

    def test_fee_above_the_lump_sum_is_charged_for_the_difference(self):
        self.level_3.fee_amount = 50.0
        self.make_invoice(self.business, 1000.0, date(2025, 1, 1))
        for day in (date(2025, 1, 8), date(2025, 1, 22), date(2025, 2, 5)):
            self.dun(day)
        second = self.notices_of(self.business)[-1]
        self.assertEqual(second.lump_sum_amount, 40.0)
        self.assertEqual(second.fee_amount, 10.0)
        self.assertEqual(second.fee_credited, 40.0)

    def test_consumers_pay_the_fee_without_crediting(self):
        self.make_invoice(self.consumer, 1000.0, date(2025, 1, 1))
        for day in (date(2025, 1, 8), date(2025, 1, 22), date(2025, 2, 5), date(2025, 2, 19)):
            self.dun(day)
        notices = self.notices_of(self.consumer)
        self.assertEqual(notices.mapped("fee_amount"), [0.0, 1.5, 1.5, 1.5])
        self.assertEqual(notices.mapped("fee_credited"), [0.0] * 4)

    # -- rule 3 --------------------------------------------------------------

    def test_dunned_fee_documents_get_no_interest_and_no_lump_sum(self):
        self.company.dunning_dun_fee_documents = True
        invoice = self.make_invoice(self.business, 1000.0, date(2025, 1, 1))
        days = [date(2025, 1, 8), date(2025, 1, 22), date(2025, 2, 5), date(2025, 2, 19)]
        for day in days:
            self.dun(day)
        first_fee_move = self.notices_of(self.business)[1].fee_move_id  # due 2025-02-01
        final = self.notices_of(self.business)[-1]
        fee_line = final.line_ids.filtered(lambda line: line.move_id == first_fee_move)
        self.assertTrue(fee_line, "the fee document is dunned with the final notice")
        self.assertTrue(fee_line.escalated)
        self.assertEqual(fee_line.level_id, self.level_1)
        self.assertEqual(fee_line.interest_amount, 0.0)
        self.assertFalse(fee_line.interest_detail)
        self.assertEqual(fee_line.lump_sum_amount, 0.0)
        self.assertFalse(first_fee_move.dunning_lump_sum_charged)
        self.assertFalse(first_fee_move.dunning_interest_until)
        invoice_line = final.line_ids.filtered(lambda line: line.move_id == invoice)
        self.assertTrue(invoice_line.interest_amount)
        charged = final.fee_move_id.invoice_line_ids.mapped("name")
        self.assertFalse([name for name in charged if first_fee_move.name in name], charged)
        kinds = {(row.section, row.kind, row.move_id) for row in self._rows(final)}
        self.assertIn(("earlier_charges", "fee_document", first_fee_move.id), kinds)
        self.assertNotIn(("principal", "invoice", first_fee_move.id), kinds)
        self.env.flush_all()
        self.assertAlmostEqual(
            final.amount_total_due,
            sum(self.open_receivables(self.business).mapped("amount_residual")),
            places=2,
        )
