from datetime import date

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import DunningCommon

DUE = date(2025, 1, 1)


@tagged("post_install", "-at_install")
class TestMinimumAmount(DunningCommon):
    """A level is reached only when the customer's net overdue amount is at
    least the level's minimum; below it the customer waits, logged."""

    def fee_documents(self, partner):
        return self.env["account.move"].search(
            [("partner_id", "=", partner.id), ("dunning_fee_notice_id", "!=", False)]
        )

    def test_new_levels_default_to_a_low_minimum(self):
        self.assertEqual(self.level_1.minimum_amount, 5.0)
        self.assertEqual(self.env.ref("isp_dunning.level_reminder").sudo().minimum_amount, 5.0)

    def test_negative_minimum_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "minimum amount cannot be negative"):
            self.level_2.minimum_amount = -1.0

    def test_below_the_minimum_waits_until_it_is_met(self):
        # The tolerance (1.00) is per invoice; the minimum is for the customer.
        invoice = self.make_invoice(self.consumer, 3.99, DUE)
        run = self.dun(date(2025, 1, 8))
        self.assertEqual(run.notice_count, 0)
        self.assertFalse(self.notices_of(self.consumer))
        self.assertFalse(invoice.dunning_level_id, "the invoice keeps its level")
        self.assertFalse(invoice.dunning_last_date)
        self.assertIn(
            "Customer Max Verbraucher skipped: below the level's minimum amount "
            "($\xa03.99 net overdue, minimum $\xa05.00 for Reminder)",
            run.log.splitlines(),
        )
        # A second small invoice: together exactly the minimum.
        second = self.make_invoice(self.consumer, 1.01, DUE)
        run = self.dun(date(2025, 1, 9))
        notice = self.notices_of(self.consumer)
        self.assertEqual(notice.level_id, self.level_1)
        self.assertEqual(notice.amount_open, 5.0)
        self.assertEqual(notice.move_ids, invoice | second)
        self.assertEqual(invoice.dunning_level_id, self.level_1)
        self.assertEqual(run.log, "")

    def test_credits_are_netted_and_nothing_is_booked(self):
        self.level_2.minimum_amount = 50.0
        invoice = self.make_invoice(self.business, 80.0, DUE)
        self.dun(date(2025, 1, 8))
        self.assertEqual(invoice.dunning_level_id, self.level_1)
        self.credit_note(self.business, 30.01, date(2025, 1, 10))
        run = self.dun(date(2025, 1, 22))
        self.assertEqual(run.notice_count, 0)
        self.assertEqual(invoice.dunning_level_id, self.level_1, "waits at the reminder")
        self.assertFalse(self.fee_documents(self.business), "no fee booked")
        self.assertIn("49.99 net overdue, minimum $\xa050.00 for First notice", run.log)
        # A new invoice lifts the net amount over the minimum.
        later = self.make_invoice(self.business, 10.0, date(2025, 1, 20))
        self.dun(date(2025, 1, 23))
        notice = self.notices_of(self.business)[-1]
        self.assertEqual(notice.level_id, self.level_2)
        self.assertEqual(invoice.dunning_level_id, self.level_2)
        self.assertFalse(later.dunning_level_id, "3 days overdue: listed, not escalated")
        self.assertEqual(notice.move_ids, invoice | later)
        self.assertEqual(notice.fee_amount, 1.5)
        self.assertEqual(len(self.fee_documents(self.business)), 1)

    def test_highest_level_whose_minimum_is_met(self):
        """An old invoice is due for the first notice (minimum 100), a new
        one for the reminder (minimum 5): the notice goes out as a
        reminder, the old invoice waits at its level."""
        self.level_2.minimum_amount = 100.0
        old = self.make_invoice(self.consumer, 60.0, DUE)
        self.dun(date(2025, 1, 8))
        new = self.make_invoice(self.consumer, 20.0, date(2025, 1, 14))
        self.dun(date(2025, 1, 22))
        notice = self.notices_of(self.consumer)[-1]
        self.assertEqual(notice.level_id, self.level_1)
        self.assertEqual(notice.fee_amount, 0.0)
        lines = {line.move_id: line for line in notice.line_ids}
        self.assertTrue(lines[new].escalated)
        self.assertFalse(lines[old].escalated)
        self.assertEqual(old.dunning_level_id, self.level_1)
        self.assertEqual(new.dunning_level_id, self.level_1)

    def test_minimum_converted_into_the_invoice_currency(self):
        # Company currency to CHF at 2: the reminder's minimum of 5.00 is 10.00 CHF
        # (the tolerance of 1.00 per invoice is 2.00 CHF).
        chf = self.setup_other_currency("CHF", rates=[("2024-01-01", 2.0)])
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.consumer.id,
                "currency_id": chf.id,
                "invoice_date": DUE,
                "invoice_date_due": DUE,
                "invoice_line_ids": [
                    Command.create({"name": "Internet", "price_unit": 7.99, "tax_ids": []})
                ],
            }
        )
        invoice.action_post()
        run = self.dun(date(2025, 1, 8))
        self.assertEqual(run.notice_count, 0)
        self.assertIn("7.99", run.log)
        self.assertIn("10.00", run.log)
        self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.consumer.id,
                "currency_id": chf.id,
                "invoice_date": DUE,
                "invoice_date_due": DUE,
                "invoice_line_ids": [
                    Command.create({"name": "Router", "price_unit": 2.01, "tax_ids": []})
                ],
            }
        ).action_post()
        self.dun(date(2025, 1, 9))
        notice = self.notices_of(self.consumer)
        self.assertEqual(notice.currency_id, chf)
        self.assertEqual(notice.amount_open, 10.0)
