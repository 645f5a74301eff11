"""The booking shortcuts of fee documents give exactly the documents Odoo's
own create + action_post gives, for every configuration they accept, and
anything else goes through Odoo's own machinery."""

from datetime import date
from unittest.mock import patch

from odoo.fields import Command
from odoo.tests import tagged

from ..services import fee_documents
from .common import DunningCommon

MOVE_FIELDS = (
    "move_type",
    "state",
    "company_id",
    "journal_id",
    "partner_id",
    "commercial_partner_id",
    "currency_id",
    "fiscal_position_id",
    "invoice_date",
    "date",
    "invoice_date_due",
    "invoice_payment_term_id",
    "invoice_cash_rounding_id",
    "invoice_origin",
    "ref",
    "amount_untaxed",
    "amount_tax",
    "amount_total",
    "amount_residual",
    "amount_total_signed",
    "payment_state",
    "dunning_fee_notice_id",
)
LINE_FIELDS = (
    "display_type",
    "account_id",
    "name",
    "product_id",
    "quantity",
    "price_unit",
    "price_subtotal",
    "price_total",
    "discount",
    "debit",
    "credit",
    "balance",
    "amount_currency",
    "currency_id",
    "partner_id",
    "date_maturity",
    "analytic_distribution",
    "tax_ids",
    "tax_line_id",
    "reconciled",
    "amount_residual",
)


def snapshot(move):
    """What a posted document is, without its number and ids of its own."""
    head = {
        name: (move[name].ids if hasattr(move[name], "ids") else move[name]) for name in MOVE_FIELDS
    }

    def value(line, name):
        if name == "name":
            # The receivable line is named after the document's own number.
            return (line.name or "").replace(move.name, "<number>")
        return line[name].ids if hasattr(line[name], "ids") else line[name]

    lines = sorted(
        tuple((name, value(line, name)) for name in LINE_FIELDS) for line in move.line_ids
    )
    return head, lines


@tagged("post_install", "-at_install")
class TestFeeDocumentShortcuts(DunningCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.journal = cls.company._dunning_journal()
        cls.account = cls.journal.default_account_id

    def _vals(self, partner, company=None, journal=None, account=None, currency=None, **extra):
        company = company or self.company
        journal = journal or self.journal
        account = account or self.account
        vals = {
            "move_type": "out_invoice",
            "company_id": company.id,
            "journal_id": journal.id,
            "partner_id": partner.id,
            "currency_id": (currency or company.currency_id).id,
            "invoice_date": date(2025, 3, 3),
            "date": date(2025, 3, 3),
            "invoice_payment_term_id": False,
            "invoice_date_due": date(2025, 3, 13),
            "invoice_origin": "MA/2025/00001",
            "ref": "MA/2025/00001",
            "invoice_line_ids": [
                fee_documents._fee_line("Dunning fee", 2.5, None, account),
                fee_documents._fee_line("Lump sum, invoice RE/1", 40.0, None, account),
                fee_documents._fee_line("Default interest, invoice RE/1", 3.37, None, account),
            ],
        }
        vals.update(extra)
        return vals

    def assertShortcutEqualsOdoo(self, vals, env=None):
        env = env or self.env
        calls = []
        original = fee_documents.post_batch

        def spy(moves):
            calls.append(len(moves))
            return original(moves)

        with patch.object(fee_documents, "post_batch", spy):
            fast = fee_documents.book_documents(env, [vals])
        self.assertEqual(calls, [1], "the shortcuts booked it")
        plain = fee_documents.book_documents(env, [vals], shortcuts=False)
        self.assertEqual(fast.state, "posted")
        self.assertNotEqual(fast.name, plain.name)
        fast_head, fast_lines = snapshot(fast)
        plain_head, plain_lines = snapshot(plain)
        self.assertEqual(fast_head, plain_head)
        self.assertEqual(fast_lines, plain_lines)
        self.assertEqual(len(fast_lines), 4, "three charges and the receivable")
        return fast, plain

    def test_company_currency(self):
        fast, _plain = self.assertShortcutEqualsOdoo(self._vals(self.consumer))
        self.assertEqual(fast.amount_total, 45.87)
        self.assertEqual(fast.invoice_date_due, date(2025, 3, 13))

    def test_fiscal_position_of_the_customer(self):
        income_other = self.company_data["default_account_revenue"].copy({"code": "899999"})
        position = self.env["account.fiscal.position"].create(
            {
                "name": "EU B2B",
                "company_id": self.company.id,
                "account_ids": [
                    Command.create(
                        {"account_src_id": self.account.id, "account_dest_id": income_other.id}
                    )
                ],
            }
        )
        self.business.property_account_position_id = position
        fast, _plain = self.assertShortcutEqualsOdoo(self._vals(self.business))
        self.assertEqual(fast.fiscal_position_id, position)

    def test_analytic_distribution_model(self):
        plan = self.env["account.analytic.plan"].create({"name": "Dunning"})
        analytic = self.env["account.analytic.account"].create(
            {"name": "Collections", "plan_id": plan.id, "company_id": self.company.id}
        )
        self.env["account.analytic.distribution.model"].create(
            {
                "partner_id": self.consumer.id,
                "analytic_distribution": {str(analytic.id): 100},
                "company_id": self.company.id,
            }
        )
        fast, _plain = self.assertShortcutEqualsOdoo(self._vals(self.consumer))
        income = fast.line_ids.filtered(lambda line: line.display_type == "product")
        self.assertEqual(income.mapped("analytic_distribution"), [{str(analytic.id): 100}] * 3)

    def test_no_analytic_distribution_model(self):
        self.env["account.analytic.distribution.model"].search([]).unlink()
        fast, _plain = self.assertShortcutEqualsOdoo(self._vals(self.consumer))
        self.assertFalse(any(fast.line_ids.mapped("analytic_distribution")))

    def test_another_company(self):
        other = self.setup_other_company(name="Zweite Netz GmbH")
        company = other["company"]
        journal = other["default_journal_sale"]
        partner = self.env["res.partner"].create({"name": "Kunde Zwei", "company_id": False})
        env = self.env(context=dict(self.env.context, allowed_company_ids=[company.id]))
        fast, _plain = self.assertShortcutEqualsOdoo(
            self._vals(
                partner,
                company=company,
                journal=journal,
                account=journal.default_account_id,
            ),
            env=env,
        )
        self.assertEqual(fast.company_id, company)

    def test_foreign_currency_goes_through_odoo(self):
        chf = self.setup_other_currency("CHF", rounding=0.01)
        vals = self._vals(self.consumer, currency=chf)
        self.assertFalse(fee_documents.shortcuts_cover(self.env, vals))
        with patch.object(fee_documents, "post_batch", side_effect=AssertionError("shortcut")):
            move = fee_documents.book_documents(self.env, [vals])
        self.assertEqual(move.state, "posted")
        self.assertEqual(move.currency_id, chf)
        self.assertEqual(move.amount_total, 45.87)

    def test_cash_rounding_goes_through_odoo(self):
        rounding = self.env["account.cash.rounding"].create(
            {
                "name": "0.05",
                "rounding": 0.05,
                "strategy": "add_invoice_line",
                "profit_account_id": self.account.id,
                "loss_account_id": self.account.id,
                "rounding_method": "HALF-UP",
            }
        )
        vals = self._vals(self.consumer, invoice_cash_rounding_id=rounding.id)
        self.assertFalse(fee_documents.shortcuts_cover(self.env, vals))
        with patch.object(fee_documents, "post_batch", side_effect=AssertionError("shortcut")):
            move = fee_documents.book_documents(self.env, [vals])
        self.assertEqual(move.state, "posted")
        self.assertEqual(move.amount_total, 45.85, "rounded to 0.05 by Odoo")

    def test_mixed_batch_keeps_the_order(self):
        chf = self.setup_other_currency("CHF", rounding=0.01)
        vals_list = [
            self._vals(self.consumer),
            self._vals(self.business, currency=chf),
            self._vals(self.business),
        ]
        moves = fee_documents.book_documents(self.env, vals_list)
        self.assertEqual(moves.mapped("partner_id"), self.consumer | self.business)
        self.assertEqual(
            [m.currency_id for m in moves],
            [self.company.currency_id, chf, self.company.currency_id],
        )
        self.assertEqual(set(moves.mapped("state")), {"posted"})
