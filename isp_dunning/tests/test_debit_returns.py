"""Payments in payment and returned direct debits (Rücklastschriften) with
Odoo's own payments, reconciliation and unreconciliation."""

from datetime import timedelta
from unittest.mock import patch

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import D, DunningCommon
from .test_portal import portal_user

DUE = D(2025, 1, 1)


def day(n):
    return DUE + timedelta(days=n)


@tagged("post_install", "-at_install")
class TestDebitReturns(DunningCommon):
    def dunned_to_level_2(self, partner=None, amount=1000.0):
        """An invoice due on DUE, at level 2 since day 21 (interest charged
        until then)."""
        invoice = self.make_invoice(partner or self.consumer, amount, DUE)
        self.dun(day(7))
        self.dun(day(21))
        self.assertEqual(invoice.dunning_level_id, self.level_2)
        self.assertEqual(invoice.dunning_interest_until, day(21))
        return invoice

    def unreconcile(self, payment):
        payment.move_id.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        ).remove_move_reconcile()

    def return_debit(self, payment):
        """The bank takes the debit back: the payment is reset and cancelled
        (which undoes its reconciliation)."""
        payment.action_draft()
        payment.action_cancel()

    def return_lines(self, notice):
        return notice.fee_move_id.invoice_line_ids.filtered(
            lambda line: line.name.startswith("Returned direct debit charge")
        )

    def in_payment_state(self):
        """Odoo's state of an invoice paid but not yet matched with the bank,
        as with the accounting app installed (community says 'paid')."""
        return patch.object(
            self.env.registry["account.move"],
            "_get_invoice_in_payment_state",
            lambda self: "in_payment",
        )

    def method_line_without_outstanding_account(self):
        journal = self.company_data["default_journal_bank"]
        method = journal.available_payment_method_ids.filtered(
            lambda m: m.payment_type == "inbound" and m.code == "manual"
        )
        return self.env["account.payment.method.line"].create(
            {"payment_method_id": method.id, "journal_id": journal.id, "name": "SEPA"}
        )

    def test_in_payment_stops_escalation_and_keeps_the_state(self):
        invoice = self.dunned_to_level_2()
        with self.in_payment_state():
            line = self.method_line_without_outstanding_account()
            payment = (
                self.env["account.payment.register"]
                .with_context(active_model="account.move", active_ids=invoice.ids)
                .create({"payment_date": day(25), "payment_method_line_id": line.id})
                ._create_payments()
            )
            self.assertFalse(payment.move_id)
            self.assertEqual(invoice.payment_state, "in_payment")
            self.assertEqual(invoice.amount_residual, 1000.0, "not reconciled: still open")
            run = self.dun(day(40))
            self.assertEqual(run.notice_count, 0)
            self.assertIn("in payment", run.log)
            self.assertEqual(invoice.dunning_level_id, self.level_2)
            self.assertEqual(invoice.dunning_last_date, day(21))
            self.assertEqual(invoice.dunning_interest_until, day(21))
            self.assertEqual(len(self.notices_of(self.consumer)), 2)
            # The debit comes back: the payment is cancelled.
            payment.action_cancel()
            self.assertEqual(invoice.payment_state, "not_paid")
            self.assertEqual(invoice.dunning_returns_pending, 1)
            run = self.dun(day(41))
        notice = self.notices_of(self.consumer)[-1]
        self.assertEqual(notice.date, day(41))
        self.assertEqual(invoice.dunning_level_id, self.level_3)
        self.assertEqual(notice.line_ids.interest_date_from, day(22))

    def test_reconciled_in_payment_keeps_the_level(self):
        invoice = self.dunned_to_level_2()
        self.assertEqual(self.consumer.dunning_level_id, self.level_2)
        with self.in_payment_state():
            self.pay(invoice, 1000.0, day(25))
            self.assertEqual(invoice.payment_state, "in_payment")
            self.assertEqual(self.dun(day(40)).notice_count, 0)
        self.assertEqual(invoice.dunning_level_id, self.level_2)
        self.assertEqual(invoice.dunning_interest_until, day(21))
        self.assertFalse(self.consumer.dunning_level_id, "the customer has nothing open")

    def test_unreconcile_resumes_at_the_old_level_with_interest_from_the_old_dates(self):
        self.company.dunning_return_charge = 3.0
        invoice = self.dunned_to_level_2()
        payment = self.pay(invoice, 1000.0, day(25))
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(invoice.dunning_level_id, self.level_2, "kept while paid")
        self.assertFalse(self.consumer.dunning_level_id)
        self.assertEqual(self.dun(day(35)).notice_count, 0)

        self.unreconcile(payment)
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertEqual(invoice.dunning_level_id, self.level_2)
        self.assertEqual(invoice.dunning_returns_pending, 1)
        # The payment itself is cancelled too: still one returned debit.
        payment.action_draft()
        payment.action_cancel()
        self.assertEqual(invoice.dunning_returns_pending, 1)
        self.assertEqual(self.consumer.dunning_level_id, self.level_2)
        self.assertIn(
            "Payment returned: the invoice resumes dunning at level First notice",
            " ".join(invoice.message_ids.mapped("body")),
        )

        self.dun(day(40))
        notice = self.notices_of(self.consumer)[-1]
        self.assertEqual(notice.date, day(40))
        self.assertEqual(notice.level_id, self.level_3)
        line = notice.line_ids
        self.assertEqual(line.interest_date_from, day(22))
        self.assertEqual(line.interest_date_to, day(40))
        # 19 days at 2.27 % + 5 points on 1,000.00 = 3.78
        self.assertAlmostEqual(line.interest_amount, 3.78)
        self.assertEqual(invoice.dunning_first_date, day(7))
        self.assertEqual(invoice.dunning_interest_until, day(40))

    def test_return_charge_once_on_the_next_notices_fee_document(self):
        self.company.dunning_return_charge = 3.0
        invoice = self.dunned_to_level_2()
        self.return_debit(self.pay(invoice, 1000.0, day(25)))
        self.dun(day(40))
        notice = self.notices_of(self.consumer)[-1]
        self.assertEqual(notice.return_charge_amount, 3.0)
        # The claim also states the first notice's fee document, still open.
        earlier = self.notices_of(self.consumer)[1].fee_move_id
        self.assertTrue(earlier.amount_residual)
        self.assertAlmostEqual(notice.amount_earlier_charges, earlier.amount_residual)
        self.assertAlmostEqual(
            notice.amount_total_due,
            # the whole claim: the earlier notice's open fee document too
            1000.0
            + notice.amount_earlier_charges
            + notice.fee_amount
            + notice.interest_amount
            + 3.0,
        )
        self.assertTrue(notice.amount_earlier_charges)
        lines = self.return_lines(notice)
        self.assertEqual(len(lines), 1)
        self.assertEqual(lines.name, f"Returned direct debit charge, invoice {invoice.name}")
        self.assertEqual(lines.price_unit, 3.0)
        self.assertEqual(notice.fee_move_id.state, "posted")
        self.assertAlmostEqual(
            notice.fee_move_id.amount_total, notice.fee_amount + notice.interest_amount + 3.0
        )
        self.assertEqual(invoice.dunning_returns_pending, 0)

        self.dun(day(54))
        later = self.notices_of(self.consumer)[-1]
        self.assertEqual(later.level_id, self.level_4)
        self.assertEqual(later.return_charge_amount, 0.0)
        self.assertFalse(self.return_lines(later), "charged once")

    def figures(self, notice):
        return (
            notice.date,
            notice.level_id,
            notice.fee_amount,
            notice.interest_amount,
            notice.return_charge_amount,
            notice.amount_total_due,
            notice.fee_move_id.amount_total,
            len(self.return_lines(notice)),
        )

    def test_cancelled_notice_gives_back_the_return_it_passed_on(self):
        self.company.dunning_return_charge = 3.0
        invoice = self.dunned_to_level_2()
        self.return_debit(self.pay(invoice, 1000.0, day(25)))
        self.assertEqual(invoice.dunning_returns_pending, 1)
        self.dun(day(40))
        notice = self.notices_of(self.consumer)[-1]
        self.assertEqual(notice.return_charge_amount, 3.0)
        self.assertEqual(notice.line_ids.returns_settled, 1)
        self.assertEqual(invoice.dunning_returns_pending, 0)
        uninterrupted = self.figures(notice)

        notice.action_cancel()
        self.assertEqual(notice.fee_move_id.payment_state, "reversed")
        self.assertEqual(invoice.dunning_returns_pending, 1, "pending again")
        self.assertEqual(invoice.dunning_level_id, self.level_2)

        # The rerun passes the return charge on again, as the cancelled notice did.
        self.dun(day(40))
        rerun = self.notices_of(self.consumer)[-1]
        self.assertNotEqual(rerun, notice)
        self.assertEqual(self.figures(rerun), uninterrupted)
        self.assertEqual(rerun.line_ids.returns_settled, 1)
        self.assertEqual(invoice.dunning_returns_pending, 0)
        # and only once: the next level charges none.
        self.dun(day(54))
        self.assertEqual(self.notices_of(self.consumer)[-1].return_charge_amount, 0.0)

    def test_a_return_after_the_cancelled_notice_stays_pending_too(self):
        self.company.dunning_return_charge = 3.0
        invoice = self.dunned_to_level_2()
        self.return_debit(self.pay(invoice, 1000.0, day(25)))
        self.dun(day(40))
        notice = self.notices_of(self.consumer)[-1]
        self.assertEqual(notice.return_charge_amount, 3.0)
        # Debited again after the notice, and returned again.
        self.return_debit(self.pay(invoice, 1000.0, day(42)))
        self.assertEqual(invoice.dunning_returns_pending, 1)

        notice.action_cancel()
        self.assertEqual(invoice.dunning_returns_pending, 2)
        self.dun(day(43))
        rerun = self.notices_of(self.consumer)[-1]
        self.assertEqual(rerun.level_id, self.level_3)
        self.assertEqual(rerun.return_charge_amount, 6.0)
        self.assertEqual(self.return_lines(rerun).price_unit, 6.0)
        self.assertEqual(invoice.dunning_returns_pending, 0)

    def test_a_cancelled_notice_without_returns_leaves_them_alone(self):
        self.company.dunning_return_charge = 3.0
        invoice = self.dunned_to_level_2()
        notice = self.notices_of(self.consumer)[-1]
        self.assertEqual(notice.line_ids.returns_settled, 0)
        # A debit returned after the notice: the cancellation keeps it pending.
        self.return_debit(self.pay(invoice, 1000.0, day(25)))
        notice.action_cancel()
        self.assertEqual(invoice.dunning_returns_pending, 1)

    def test_without_the_setting_nothing_is_charged(self):
        self.assertEqual(self.company.dunning_return_charge, 0.0, "off by default")
        invoice = self.dunned_to_level_2()
        self.return_debit(self.pay(invoice, 1000.0, day(25)))
        self.assertEqual(invoice.dunning_returns_pending, 1)
        self.dun(day(40))
        notice = self.notices_of(self.consumer)[-1]
        self.assertEqual(notice.level_id, self.level_3)
        self.assertEqual(notice.return_charge_amount, 0.0)
        self.assertFalse(self.return_lines(notice))
        self.assertEqual(invoice.dunning_returns_pending, 0, "settled without a charge")
        # Switched on later: the settled return is not charged afterwards.
        self.company.dunning_return_charge = 3.0
        self.dun(day(54))
        self.assertEqual(self.notices_of(self.consumer)[-1].return_charge_amount, 0.0)

    def test_payment_reset_to_draft_is_a_return(self):
        invoice = self.dunned_to_level_2()
        payment = self.pay(invoice, 1000.0, day(25))
        payment.action_draft()
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertEqual(invoice.dunning_returns_pending, 1)
        self.assertEqual(invoice.dunning_level_id, self.level_2)

    def test_one_debit_of_two_invoices_is_one_return(self):
        self.company.dunning_return_charge = 3.0
        first = self.make_invoice(self.consumer, 20.0, DUE)
        second = self.make_invoice(self.consumer, 30.0, DUE)
        payment = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=(first | second).ids)
            .create({"payment_date": day(3), "group_payment": True})
            ._create_payments()
        )
        self.assertEqual(len(payment), 1)
        self.return_debit(payment)
        self.assertEqual(first.dunning_returns_pending + second.dunning_returns_pending, 1)
        self.dun(day(7))
        notice = self.notices_of(self.consumer)
        self.assertEqual(notice.return_charge_amount, 3.0)
        self.assertEqual(len(self.return_lines(notice)), 1)

    def test_invoice_reset_to_draft_is_no_return(self):
        invoice = self.dunned_to_level_2()
        self.pay(invoice, 1000.0, day(25))
        invoice.button_draft()
        self.assertEqual(invoice.dunning_returns_pending, 0)

    def test_credit_note_unreconciled_is_no_return(self):
        invoice = self.dunned_to_level_2()
        refund = invoice._reverse_moves(cancel=True)
        refund.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        ).remove_move_reconcile()
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertEqual(invoice.dunning_returns_pending, 0)
        self.assertEqual(invoice.dunning_level_id, self.level_2)

    def test_negative_return_charge_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "returned debit cannot be negative"):
            self.company.dunning_return_charge = -1.0


@tagged("post_install", "-at_install")
class TestDebitReturnPortal(DunningCommon):
    def test_block_released_on_payment_comes_back_with_the_next_run(self):
        user = portal_user(self.env, "firma.sepa", self.business)
        invoice = self.make_invoice(self.business, 150.0, DUE)
        for n in (7, 21, 35, 49):
            self.dun(day(n))
        notice = self.notices_of(self.business)[-1]
        self.assertTrue(notice.portal_block)
        self.assertTrue(user.dunning_blocked)
        payment = self.pay(invoice, invoice.amount_residual, day(50))
        self.assertFalse(user.dunning_blocked)
        self.assertTrue(notice.portal_block_released)

        payment.action_draft()
        payment.action_cancel()
        self.assertFalse(user.dunning_blocked, "not at the moment of the return")
        self.assertFalse(self.business.dunning_portal_blocked)

        # Monday 24.02.2025: a block starts only on a working day.
        self.dun(day(54))
        self.assertTrue(user.dunning_blocked)
        self.assertTrue(self.business.dunning_portal_blocked)
        self.assertEqual(self.business.dunning_portal_block_notice_id, notice)
        self.assertFalse(notice.portal_block_released)
        self.assertIn("Portal blocked again", " ".join(notice.message_ids.mapped("body")))

    def test_block_lifted_by_a_manager_does_not_come_back(self):
        user = portal_user(self.env, "firma.sepa2", self.business)
        invoice = self.make_invoice(self.business, 150.0, DUE)
        for n in (7, 21, 35, 49):
            self.dun(day(n))
        self.assertTrue(user.dunning_blocked)
        self.business.action_dunning_unblock_portal()
        self.assertFalse(user.dunning_blocked)
        self.dun(day(52))
        self.assertFalse(user.dunning_blocked)
        self.assertEqual(invoice.dunning_level_id, self.level_4)
