"""The claim is exact: a business customer and a consumer walked through
the whole ladder, with a partial payment, a credit note, a cancelled notice
and its rerun, and a returned direct debit on the way. Every notice is
checked against the books (``assert_notice``):

1. its total due is the open receivable balance of the documents its claim
   statement lists, and, with everything open listed, the customer's whole
   open receivable balance;
2. each charge of its fee document is on its income account in the
   Mahnkosten journal, without VAT;
3. for a business customer, the 40 EUR lump sum absorbs the dunning fee
   (§ 288 (5) S. 3 BGB), shown as credited; a consumer pays the fee;
4. interest is simple interest on the invoices' open principal for the days
   since it was last charged; fee documents never bear any (§ 289 BGB).
"""

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

from odoo import Command
from odoo.tests import tagged

from ..domain.interest import GERMAN_BASE_RATES, compute_interest
from ..domain.money import CENT, round_fraction
from .common import D, DunningCommon

DUE = D(2025, 1, 1)
LUMP_SUM = 40.0  # § 288 (5) BGB

# Fee document line labels per charge kind and the company field of the
# account each is booked on.
CHARGE_KINDS = {
    "Dunning fee": ("dunning_fee_account_id", "fee_amount"),
    "Lump sum for late payment": ("dunning_lump_sum_account_id", "lump_sum_amount"),
    "Default interest": ("dunning_interest_account_id", "interest_amount"),
    "Returned direct debit charge": ("dunning_fee_account_id", "return_charge_amount"),
}


def day(n):
    return DUE + timedelta(days=n)


@tagged("post_install", "-at_install")
class TestWalkthrough(DunningCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        accounts = [
            cls.env["account.account"].create(
                {
                    "code": code,
                    "name": name,
                    "account_type": "income_other",
                    "company_ids": [Command.set(cls.company.ids)],
                }
            )
            for code, name in (
                ("2700", "Andere sonstige Erträge"),
                ("2701", "Pauschalen § 288 (5) BGB"),
                ("2650", "Sonstige Zinsen und ähnliche Erträge"),
            )
        ]
        cls.company.write(
            {
                "dunning_fee_account_id": accounts[0].id,
                "dunning_lump_sum_account_id": accounts[1].id,
                "dunning_interest_account_id": accounts[2].id,
                "dunning_return_charge": 3.0,
            }
        )

    # -- the books -------------------------------------------------------

    def return_debit(self, payment):
        """The bank takes the debit back: the reconciliation is undone and
        the payment reset and cancelled (as the accountant does it)."""
        payment.move_id.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        ).remove_move_reconcile()
        payment.action_draft()
        payment.action_cancel()

    # -- the walk --------------------------------------------------------

    def run_and_check(self, when, *, whole=True):
        """Run on ``when``; check and return each new notice per customer."""
        invoices = self.invoices
        before = {
            move: (move.dunning_interest_until, move.dunning_lump_sum_charged) for move in invoices
        }
        known = self.Notice.search([]).ids
        self.dun(when)
        new = self.Notice.search([("id", "not in", known)], order="id")
        for notice in new:
            self.assert_notice(notice, before, whole=whole)
        return {
            partner: new.filtered(lambda n, p=partner: n.partner_id == p)
            for partner in (self.business, self.consumer)
        }

    def assert_notice(self, notice, before, whole=True):
        """The four checks of the claim (module docstring) on one notice;
        ``before`` holds each invoice's interest date and lump sum flag as
        they were before the run."""
        partner = notice.partner_id
        is_business = partner.is_company
        self.assertNotEqual(notice.state, "cancelled")
        fee_move = notice.fee_move_id
        statement = notice._claim_statement()

        # 1. The total is the books' open balance of what it lists.
        listed = {row.move_id for row in statement.rows if row.move_id} | set(fee_move.ids)
        open_lines = self.open_receivables(partner)
        listed_lines = open_lines.filtered(lambda line: line.move_id.id in listed)
        self.assertEqual(
            set(listed_lines.move_id.ids), listed, f"{notice.name}: a listed document is settled"
        )
        self.assertAlmostEqual(
            notice.amount_total_due,
            sum(listed_lines.mapped("amount_residual")),
            places=2,
            msg=f"{notice.name}: total due against the listed documents",
        )
        self.assertAlmostEqual(float(statement.total), notice.amount_total_due, places=2)
        if whole:
            self.assertEqual(listed_lines, open_lines, f"{notice.name}: everything open listed")
            partner.invalidate_recordset(["credit"])
            self.assertAlmostEqual(
                notice.amount_total_due, partner.credit, places=2, msg=notice.name
            )

        # 2. Each charge on its account in the Mahnkosten journal, no VAT.
        charged = dict.fromkeys(CHARGE_KINDS, 0.0)
        if fee_move:
            self.assertEqual(fee_move.state, "posted")
            self.assertEqual(fee_move.journal_id, self.company._dunning_journal())
            self.assertEqual(fee_move.journal_id.code, "MK")
            self.assertFalse(fee_move.line_ids.filtered("tax_line_id"), "no VAT")
            for line in fee_move.invoice_line_ids:
                kind = next((k for k in CHARGE_KINDS if line.name.startswith(k)), None)
                self.assertTrue(kind, f"unknown charge {line.name!r}")
                self.assertEqual(line.account_id, self.company[CHARGE_KINDS[kind][0]], line.name)
                self.assertFalse(line.tax_ids, line.name)
                charged[kind] += line.price_subtotal
            self.assertAlmostEqual(fee_move.amount_total, sum(charged.values()), places=2)
        for kind, (_field, amount_field) in CHARGE_KINDS.items():
            self.assertAlmostEqual(charged[kind], notice[amount_field], places=2, msg=kind)
        self.assertEqual(bool(fee_move), any(charged.values()), "a document only for charges")

        # 3. The lump sum absorbs the fee (business); a consumer pays it.
        level_fee = notice.level_id.fee_amount
        invoice_lines = notice.line_ids.filtered(
            lambda line: not line.move_id.dunning_fee_notice_id
        )
        if is_business and notice.level_id.b2b_flat_fee:
            newly = invoice_lines.filtered(lambda line: not before[line.move_id][1])
            self.assertAlmostEqual(notice.lump_sum_amount, LUMP_SUM * len(newly), places=2)
            self.assertTrue(all(invoice_lines.move_id.mapped("dunning_lump_sum_charged")))
        else:
            self.assertEqual(notice.lump_sum_amount, 0.0)
        if is_business and any(invoice_lines.move_id.mapped("dunning_lump_sum_charged")):
            self.assertEqual(notice.fee_amount, 0.0, f"{notice.name}: fee below the lump sum")
            self.assertEqual(notice.fee_credited, level_fee)
        else:
            self.assertEqual(notice.fee_amount, level_fee)
            self.assertEqual(notice.fee_credited, 0.0)

        # 4. Simple interest on the principal since it was last charged.
        level = notice.level_id
        exact_total = Fraction(0)
        for line in notice.line_ids:
            move = line.move_id
            if move.dunning_fee_notice_id:
                self.assertEqual(line.interest_amount, 0.0, "§ 289 BGB")
                continue
            until = before[move][0]
            start = max(until, move.invoice_date_due) if until else move.invoice_date_due
            expected = compute_interest(
                Decimal(str(move.amount_residual)),
                start,
                notice.date,
                level.interest_mode,
                rate=level.interest_rate,
                base_rates=GERMAN_BASE_RATES,
                is_business=is_business,
            )
            self.assertAlmostEqual(
                line.interest_amount, float(expected.amount), places=2, msg=move.name
            )
            exact_total += expected.exact
        self.assertAlmostEqual(
            notice.interest_amount, float(round_fraction(exact_total, CENT)), places=2
        )

    def test_business_and_consumer_walk_the_whole_ladder(self):
        b1 = self.make_invoice(self.business, 1000.0, DUE)
        b2 = self.make_invoice(self.business, 500.0, DUE)
        c1 = self.make_invoice(self.consumer, 200.0, DUE)
        self.invoices = b1 | b2 | c1

        # Reminder for both.
        new = self.run_and_check(day(7))
        self.assertEqual(new[self.business].level_id, self.level_1)
        self.assertEqual(new[self.consumer].level_id, self.level_1)

        # The business pays a part; the consumer pays by direct debit.
        self.pay(b1, 300.0, day(9))
        new = self.run_and_check(day(21))
        self.assertEqual(new[self.business].level_id, self.level_2)
        self.assertEqual(new[self.consumer].level_id, self.level_2)
        debit = self.pay(c1, 200.0, day(24))
        self.assertEqual(c1.payment_state, "paid")

        # A credit note for the business; the consumer's debit comes back.
        refund = self.credit_note(self.business, 50.0, day(28))
        self.return_debit(debit)
        self.assertEqual(c1.dunning_returns_pending, 1)
        new = self.run_and_check(day(35))
        second = new[self.business]
        self.assertEqual(second.level_id, self.level_3)
        self.assertEqual(second.lump_sum_amount, 2 * LUMP_SUM)
        self.assertEqual(second.amount_credits, 50.0)
        self.assertEqual(new[self.consumer].level_id, self.level_3)
        self.assertEqual(new[self.consumer].return_charge_amount, 3.0)

        # The business notice is cancelled before it goes out, and rerun.
        second_fee = second.fee_move_id
        second.action_cancel()
        self.assertEqual(second.state, "cancelled")
        self.assertEqual(second_fee.payment_state, "reversed")
        self.assertFalse(
            self.open_receivables(self.business).filtered(lambda line: line.move_id == second_fee)
        )
        # The rerun books whatever the invoices' state now calls for (each
        # notice checked); the reversed charges are claimed nowhere.
        self.run_and_check(day(35))

        # On to the final notice.
        new = self.run_and_check(day(49))
        final = new[self.business]
        self.assertEqual(final.level_id, self.level_4)
        self.assertEqual(new[self.consumer].level_id, self.level_4)
        documents = {row.move_id for row in final._claim_statement().rows}
        self.assertIn(refund.id, documents)
        self.assertNotIn(second_fee.id, documents)
        self.assertTrue(all((b1 | b2).mapped("dunning_lump_sum_charged")))
        self.assertFalse(c1.dunning_lump_sum_charged, "consumers owe no lump sum")
        self.assertEqual(c1.dunning_returns_pending, 0, "the return charged once")
