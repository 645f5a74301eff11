from datetime import date, timedelta

from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tests import new_test_user, tagged

from .common import DunningCommon

DUE = date(2025, 1, 1)
D1, D2, D3, D4 = (DUE + timedelta(days=days) for days in (7, 21, 35, 49))
INVOICE_FIELDS = (
    "dunning_level_id",
    "dunning_first_date",
    "dunning_last_date",
    "dunning_next_date",
    "dunning_interest_until",
    "dunning_lump_sum_charged",
    "dunning_handed_over",
)


@tagged("post_install", "-at_install")
class TestNoticeCancellation(DunningCommon):
    """Cancelling a notice undoes it, so that the next run charges what an
    uninterrupted history without it would have charged."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.with_history = Partner.create(
            {"name": "Ohne Storno GmbH", "is_company": True, "email": "a@ohne.example"}
        )
        cls.cancelled = Partner.create(
            {"name": "Mit Storno GmbH", "is_company": True, "email": "b@mit.example"}
        )

    def history(self, partner):
        return [
            (n.date, n.level_id, n.fee_amount, n.lump_sum_amount, n.interest_amount)
            for n in self.notices_of(partner)
        ]

    def open_charges(self, partner):
        """What the customer's fee documents still claim, reversals netted."""
        documents = self.env["account.move"].search(
            [("partner_id", "=", partner.id), ("dunning_fee_notice_id", "!=", False)]
        )
        return sum(documents.mapped("amount_residual"))

    def test_cancelled_notice_then_rerun_equals_the_history_without_it(self):
        reference = self.make_invoice(self.with_history, 150.0, DUE)
        for day in (D1, D2, D4):  # never dunned on D3
            self.dun(day)
        invoice = self.make_invoice(self.cancelled, 150.0, DUE)
        for day in (D1, D2, D3):
            self.dun(day)
        notice = self.notices_of(self.cancelled).filtered(lambda n: n.date == D3)
        self.assertEqual(notice.level_id, self.level_3)
        # Lump sum and interest charged; the level's fee is credited against
        # the lump sum (§ 288 (5) S. 3 BGB).
        self.assertTrue(notice.lump_sum_amount and notice.interest_amount and notice.fee_credited)
        fee_move = notice.fee_move_id
        self.assertEqual(fee_move.state, "posted")
        mail = notice.mail_id
        self.assertEqual(mail.state, "outgoing")

        notice.action_cancel()

        self.assertEqual(notice.state, "cancelled")
        # The queued mail is never sent.
        self.assertEqual(mail.state, "cancel")
        # The posted fee document stays as it was, reversed by a reconciled
        # credit note.
        self.assertEqual(fee_move.state, "posted")
        self.assertEqual(fee_move.payment_state, "reversed")
        credit_note = self.env["account.move"].search([("reversed_entry_id", "=", fee_move.id)])
        self.assertEqual(credit_note.move_type, "out_refund")
        self.assertEqual(credit_note.state, "posted")
        self.assertEqual(credit_note.amount_total, fee_move.amount_total)
        self.assertTrue(credit_note.currency_id.is_zero(credit_note.amount_residual))
        # The invoice is back where it was after the notice of D2.
        self.assertEqual(invoice.dunning_level_id, self.level_2)
        self.assertEqual(invoice.dunning_last_date, D2)
        self.assertEqual(invoice.dunning_first_date, D1)
        self.assertEqual(invoice.dunning_interest_until, D2)
        self.assertFalse(invoice.dunning_lump_sum_charged)
        self.assertEqual(self.cancelled.dunning_level_id, self.level_2)

        self.dun(D4)
        self.assertEqual(self.history(self.cancelled), self.history(self.with_history))
        for name in INVOICE_FIELDS:
            with self.subTest(field=name):
                self.assertEqual(invoice[name], reference[name])
        self.assertAlmostEqual(
            self.open_charges(self.cancelled), self.open_charges(self.with_history)
        )
        self.assertTrue(self.open_charges(self.cancelled) > 0)

    def test_a_cancelled_first_notice_is_charged_again_from_the_start(self):
        invoice = self.make_invoice(self.cancelled, 150.0, DUE)
        self.dun(D1)
        self.notices_of(self.cancelled).action_cancel()
        self.assertFalse(invoice.dunning_level_id)
        self.assertFalse(invoice.dunning_first_date)
        self.assertFalse(invoice.dunning_last_date)
        self.assertFalse(self.cancelled.dunning_level_id)
        # The same day again: the cancelled notice does not hold the day's slot.
        self.dun(D1)
        notice = self.notices_of(self.cancelled)
        self.assertEqual(notice.level_id, self.level_1)
        self.assertEqual(invoice.dunning_first_date, D1)

    def test_cancelling_a_sent_notice_is_recorded(self):
        self.make_invoice(self.cancelled, 150.0, DUE)
        self.dun(D1)
        self.dun(D2)
        notice = self.notices_of(self.cancelled)[-1]
        notice.mail_id.sudo().write({"state": "sent"})
        notice.state = "sent"
        notice.action_cancel()
        self.assertEqual(notice.state, "cancelled")
        self.assertEqual(notice.mail_id.state, "sent")
        self.assertIn("after the email was sent", " ".join(notice.message_ids.mapped("body")))
        self.assertEqual(notice.fee_move_id.payment_state, "reversed")

    def test_only_the_latest_notice_of_an_invoice_can_be_cancelled(self):
        self.make_invoice(self.cancelled, 150.0, DUE)
        self.dun(D1)
        self.dun(D2)
        first, second = self.notices_of(self.cancelled)
        with self.assertRaisesRegex(UserError, "a later notice of the same invoices"):
            first.action_cancel()
        self.assertEqual(first.state, "to_send")
        # Both at once: the later one first, then the earlier one.
        (first | second).action_cancel()
        self.assertEqual((first.state, second.state), ("cancelled", "cancelled"))
        self.assertFalse(
            self.env["account.move"].search(
                [("partner_id", "=", self.cancelled.id), ("dunning_level_id", "!=", False)]
            )
        )

    def test_a_notice_with_a_paid_fee_document_is_refused(self):
        self.make_invoice(self.cancelled, 150.0, DUE)
        self.dun(D1)
        self.dun(D2)
        notice = self.notices_of(self.cancelled)[-1]
        self.pay(notice.fee_move_id, notice.fee_move_id.amount_total, D2 + timedelta(days=1))
        with self.assertRaisesRegex(UserError, "its fee document was paid"):
            notice.action_cancel()
        self.assertEqual(notice.state, "to_send")

    def test_a_handed_over_case_cannot_be_cancelled(self):
        self.level_2.write({"collection_handover": True, "collection_agency_id": self.agency.id})
        invoice = self.make_invoice(self.cancelled, 150.0, DUE)
        self.dun(D1)
        self.dun(D2)
        notice = self.notices_of(self.cancelled)[-1]
        self.assertTrue(notice.handover_mail_id)
        with self.assertRaisesRegex(UserError, "handed over to the collection agency"):
            notice.action_cancel()
        self.assertTrue(invoice.dunning_handed_over)

    def test_cancelling_the_blocking_notice_lifts_the_block(self):
        provisioning = new_test_user(
            self.env,
            "dun_cancel_provisioning",
            groups="base.group_user,base.group_partner_manager,isp_dunning.group_dunning_manager",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        self.company.dunning_action_user_id = provisioning
        self.company.dunning_release_action_id = self.env["ir.actions.server"].create(
            {
                "name": "Restore line",
                "model_id": self.env["ir.model"]._get_id("res.partner"),
                "state": "code",
                "code": "record.write({'ref': 'released %s' % env.context['dunning_release']})",
            }
        )
        invoice = self.make_invoice(self.cancelled, 150.0, DUE)
        for day in (D1, D2, D3, D4):
            self.dun(day)
        notice = self.notices_of(self.cancelled)[-1]
        self.assertEqual(notice.level_id, self.level_4)
        self.assertTrue(self.cancelled.dunning_portal_blocked)
        self.assertEqual(self.cancelled.dunning_portal_block_notice_id, notice)

        notice.action_cancel()

        self.assertFalse(self.cancelled.dunning_portal_blocked)
        self.assertEqual(self.cancelled.ref, "released True")
        self.assertEqual(invoice.dunning_level_id, self.level_3)
        self.assertEqual(self.cancelled.dunning_level_id, self.level_3)
        # The next run blocks again, as the uninterrupted history did.
        self.dun(D4 + timedelta(days=1))
        self.assertTrue(self.cancelled.dunning_portal_blocked)
        self.assertEqual(invoice.dunning_level_id, self.level_4)

    def test_a_notice_booked_without_the_state_before_keeps_the_invoices(self):
        invoice = self.make_invoice(self.cancelled, 150.0, DUE)
        self.dun(D1)
        self.dun(D2)
        notice = self.notices_of(self.cancelled)[-1]
        # As booked by a version that did not store the state before it.
        notice.line_ids.before_recorded = False
        notice.action_cancel()
        self.assertEqual(notice.state, "cancelled")
        self.assertEqual(notice.fee_move_id.payment_state, "reversed")
        self.assertEqual(invoice.dunning_level_id, self.level_2)
        self.assertIn("was not recorded", " ".join(notice.message_ids.mapped("body")))
