from datetime import date

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import DunningCommon

MATCH_LOGGER = "odoo.addons.isp_dunning.models.isp_dunning_payment_match"


@tagged("post_install", "-at_install")
class TestPaymentAllocation(DunningCommon):
    """Payments quoting a notice are allocated in the order of § 367 BGB:
    the fee document (costs, interest) first, then the invoices, oldest first."""

    def setUp(self):
        super().setUp()
        # A fee of 20 on the second notice, so that partial payments can fall inside it.
        self.level_2.fee_amount = 20.0
        self.old = self.make_invoice(self.consumer, 100.0, date(2025, 1, 1))
        self.new = self.make_invoice(self.consumer, 50.0, date(2025, 1, 20))
        self.dun(date(2025, 1, 8))
        self.dun(date(2025, 1, 27))
        self.notice = self.notices_of(self.consumer)[-1]
        self.fee_doc = self.notice.fee_move_id
        # The scenario: a second notice with a fee and interest, listing both invoices.
        self.assertEqual(self.notice.level_id, self.level_2)
        self.assertEqual(self.notice.move_ids, self.old | self.new)
        self.assertTrue(self.fee_doc)
        self.assertGreater(self.notice.interest_amount, 0)
        self.charges = self.notice.fee_amount + self.notice.interest_amount
        self.assertAlmostEqual(self.fee_doc.amount_residual, self.charges)
        self.bank = self.company_data["default_journal_bank"]
        self.Match = self.env["isp.dunning.payment.match"]

    def register(self, **values):
        wizard = (
            self.env["isp.dunning.register.payment"]
            .with_context(default_notice_id=self.notice.id)
            .create(values)
        )
        action = wizard.action_register()
        return self.env["account.payment"].browse(action["res_id"])

    def incoming_payment(self, amount, memo, partner=None):
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": (partner or self.consumer).id,
                "amount": amount,
                "date": date(2025, 2, 3),
                "journal_id": self.bank.id,
                "memo": memo,
            }
        )
        payment.action_post()
        return payment

    def assertSettled(self, moves):
        for move in moves:
            self.assertEqual(move.amount_residual, 0.0, move.name)
            self.assertIn(move.payment_state, ("paid", "in_payment"), move.name)

    def partial_count(self):
        return self.env["account.partial.reconcile"].search_count([])

    # ------------------------------------------------------------------
    # Register Payment on the notice
    # ------------------------------------------------------------------
    def test_register_full_payment(self):
        wizard = (
            self.env["isp.dunning.register.payment"]
            .with_context(default_notice_id=self.notice.id)
            .create({})
        )
        self.assertAlmostEqual(wizard.amount, 150.0 + self.charges)
        self.assertAlmostEqual(wizard.amount_open, wizard.amount)
        self.assertEqual(wizard.memo, self.notice.name)
        self.assertEqual(wizard.journal_id.type, "bank")
        action = wizard.action_register()
        payment = self.env["account.payment"].browse(action["res_id"])
        self.assertEqual(payment.state, "in_process")
        self.assertEqual(payment.partner_id, self.consumer)
        self.assertEqual(payment.memo, self.notice.name)
        self.assertTrue(payment.is_reconciled)
        self.assertSettled(self.old | self.new | self.fee_doc)
        # A paid invoice leaves dunning (it keeps its level for a returned
        # debit); the customer has nothing left in dunning.
        self.assertFalse(self.old.dunning_next_date)
        self.assertFalse(self.consumer.dunning_level_id)
        message = self.notice.message_ids[:1]
        self.assertIn("principal 150.00", message.body)

    def test_register_partial_payment_costs_interest_then_oldest(self):
        payment = self.register(amount=self.charges + 30.0)
        self.assertTrue(payment.is_reconciled)
        self.assertSettled(self.fee_doc)
        self.assertAlmostEqual(self.old.amount_residual, 70.0)
        self.assertAlmostEqual(self.new.amount_residual, 50.0)
        self.assertEqual(self.old.payment_state, "partial")
        self.assertEqual(self.old.dunning_level_id, self.level_2, "still dunned")
        message = self.notice.message_ids[:1].body
        self.assertIn(f"costs {self.notice.fee_amount:.2f} ", message)
        self.assertIn(f"interest {self.notice.interest_amount:.2f} ", message)
        self.assertIn("principal 30.00", message)
        # The next run duns what stays open.
        self.dun(date(2025, 2, 10))
        later = self.notices_of(self.consumer)[-1]
        self.assertNotEqual(later, self.notice)
        open_by_invoice = {line.move_id: line.amount_open for line in later.line_ids}
        self.assertAlmostEqual(open_by_invoice[self.old], 70.0)
        self.assertAlmostEqual(open_by_invoice[self.new], 50.0)
        self.assertAlmostEqual(later.amount_open, 120.0)

    def test_partial_payment_below_the_costs_pays_only_the_fee_document(self):
        self.register(amount=1.0)
        self.assertAlmostEqual(self.fee_doc.amount_residual, self.charges - 1.0)
        self.assertEqual(self.old.amount_residual, 100.0)
        self.assertIn(
            "costs 1.00 USD, interest 0.00 USD, principal 0.00 USD",
            self.notice.message_ids[:1].body,
        )

    def test_payment_naming_an_invoice_pays_it_first(self):
        payment = self.register(amount=60.0, memo=f"{self.notice.name} {self.new.name}")
        self.assertSettled(self.new)
        self.assertAlmostEqual(self.fee_doc.amount_residual, self.charges - 10.0)
        self.assertEqual(self.old.amount_residual, 100.0)
        self.assertTrue(payment.is_reconciled)

    def test_register_refuses_bad_input(self):
        with self.assertRaises(UserError):
            self.register(amount=0.0)
        self.notice.action_cancel()
        with self.assertRaises(UserError):
            self.notice.action_register_payment()

    def test_register_action_opens_the_wizard(self):
        action = self.notice.action_register_payment()
        self.assertEqual(action["res_model"], "isp.dunning.register.payment")
        self.assertEqual(action["context"], {"default_notice_id": self.notice.id})

    # ------------------------------------------------------------------
    # Matching of incoming payments and statement lines
    # ------------------------------------------------------------------
    def test_payment_quoting_the_notice_is_matched_once(self):
        payment = self.incoming_payment(self.charges + 120.0, f"Mahnung {self.notice.name}")
        self.assertFalse(payment.is_reconciled)
        stats = self.Match._match_payments(self.company)
        self.assertEqual(stats, {"matched": 1, "failed": 0})
        self.assertSettled(self.fee_doc | self.old)
        self.assertAlmostEqual(self.new.amount_residual, 30.0)
        self.assertTrue(payment.is_reconciled)
        partials = self.partial_count()
        self.assertEqual(self.Match._match_payments(self.company)["matched"], 0)
        self.assertEqual(self.partial_count(), partials, "no double allocation")

    def test_overpayment_leaves_the_surplus_open(self):
        payment = self.incoming_payment(200.0 + self.charges, self.notice.name.lower())
        self.Match._match_payments(self.company)
        self.assertSettled(self.old | self.new | self.fee_doc)
        receivable = payment._seek_for_lines()[1]
        self.assertAlmostEqual(receivable.amount_residual, -50.0)
        self.assertIn("not allocated 50.00", self.notice.message_ids[:1].body)
        partials = self.partial_count()
        messages = len(self.notice.message_ids)
        self.assertEqual(self.Match._match_payments(self.company)["matched"], 0)
        self.assertEqual(self.partial_count(), partials)
        self.assertEqual(len(self.notice.message_ids), messages)

    def test_statement_line_quoting_the_notice(self):
        st_line = self.env["account.bank.statement.line"].create(
            {
                "journal_id": self.bank.id,
                "date": date(2025, 2, 4),
                "payment_ref": f"MAX VERBRAUCHER {self.notice.name} DANKE",
                "amount": self.charges + 20.0,
            }
        )
        self.assertFalse(st_line.is_reconciled)
        self.assertEqual(self.Match._match_payments(self.company)["matched"], 1)
        self.assertTrue(st_line.is_reconciled)
        self.assertEqual(st_line.partner_id, self.consumer)
        self.assertSettled(self.fee_doc)
        self.assertAlmostEqual(self.old.amount_residual, 80.0)
        self.assertAlmostEqual(self.new.amount_residual, 50.0)
        partials = self.partial_count()
        self.assertEqual(self.Match._match_payments(self.company)["matched"], 0)
        self.assertEqual(self.partial_count(), partials, "no double allocation")

    def test_demo_transfer_quoting_the_notice_pays_it(self):
        """The demo's transfer: a statement line without a partner, of all
        that is open on the notice, quoting its number, leaves it paid."""
        st_line = self.env["isp.dunning.demo"]._create_demo_transfer(self.notice)
        self.assertFalse(st_line.partner_id)
        self.assertIn(self.notice.name, st_line.payment_ref)
        self.assertAlmostEqual(st_line.amount, self.charges + 150.0)
        self.assertEqual(self.Match._match_payments(self.company)["matched"], 1)
        self.assertTrue(st_line.is_reconciled)
        for move in self.fee_doc | self.old | self.new:
            self.assertSettled(move)
        self.assertEqual(self.notice._dunning_open_amount(), 0)
        self.assertIn("§ 367 BGB", self.notice.message_ids[0].body)

    def test_unknown_and_cancelled_notices_are_left_alone(self):
        unknown = self.incoming_payment(10.0, "MA/2099/999999")
        other = self.make_invoice(self.business, 80.0, date(2025, 1, 1))
        self.dun(date(2025, 1, 27))
        cancelled = self.notices_of(self.business)[-1]
        cancelled.action_cancel()
        self.assertEqual(cancelled.state, "cancelled")
        quoting_cancelled = self.incoming_payment(80.0, cancelled.name, partner=self.business)
        self.assertEqual(self.Match._match_payments(self.company)["matched"], 0)
        for payment in unknown | quoting_cancelled:
            self.assertFalse(payment.is_reconciled)
        self.assertEqual(other.amount_residual, 80.0)
        self.assertEqual(self.old.amount_residual, 100.0)

    def test_one_bad_payment_does_not_stop_the_others(self):
        wrong_payer = self.incoming_payment(10.0, self.notice.name, partner=self.business)
        good = self.incoming_payment(5.0, self.notice.name)
        with mute_logger(MATCH_LOGGER):
            stats = self.Match._match_payments(self.company)
        self.assertEqual(stats, {"matched": 1, "failed": 1})
        self.assertFalse(wrong_payer.is_reconciled)
        self.assertTrue(good.is_reconciled)
        self.assertAlmostEqual(self.fee_doc.amount_residual, self.charges - 5.0)
        self.assertEqual(self.old.amount_residual, 100.0)

    def test_cron_matches_before_the_run_decides(self):
        payment = self.incoming_payment(150.0 + self.charges, self.notice.name)
        notices = self.notices_of(self.consumer)
        # The cron works as the superuser, in every company with dunning
        # levels, and commits per batch: on a cursor of its own (in test mode
        # its commits go to a savepoint of the test's transaction).
        self.env.flush_all()
        with self.registry.cursor() as cr:
            self.env(cr=cr, su=True)["isp.dunning.run"]._cron_run_dunning()
        self.env.invalidate_all()
        self.assertTrue(payment.is_reconciled)
        self.assertEqual(self.notices_of(self.consumer), notices, "nothing left to dun")

    # ------------------------------------------------------------------
    # Access rights
    # ------------------------------------------------------------------
    def test_access_rights(self):
        billing = new_test_user(
            self.env,
            "alloc_billing",
            groups="account.group_account_invoice",
            company_id=self.company.id,
        )
        dunning_only = new_test_user(
            self.env,
            "alloc_dunning",
            groups="base.group_user,isp_dunning.group_dunning_user",
            company_id=self.company.id,
        )
        internal = new_test_user(
            self.env, "alloc_internal", groups="base.group_user", company_id=self.company.id
        )
        portal = new_test_user(
            self.env, "alloc_portal", groups="base.group_portal", company_id=self.company.id
        )
        Wizard = self.env["isp.dunning.register.payment"].with_context(
            default_notice_id=self.notice.id
        )
        for user in (internal, portal):
            with self.assertRaises(AccessError, msg=user.login):
                Wizard.with_user(user).create({"amount": 1.0})
            with self.assertRaises(AccessError, msg=user.login):
                self.Match.with_user(user).action_match_payments()
        # A dunning user without accounting rights may not book a payment...
        with self.assertRaises(AccessError):
            Wizard.with_user(dunning_only).create({"amount": 1.0}).action_register()
        # ...but may match received payments to notices (the rule decides the amounts).
        payment = self.incoming_payment(1.0, self.notice.name)
        result = self.Match.with_user(dunning_only).action_match_payments()
        self.assertEqual(result["params"]["type"], "success")
        self.assertTrue(payment.is_reconciled)
        # A billing user registers payments.
        wizard = Wizard.with_user(billing).create({"amount": 2.0})
        action = wizard.action_register()
        self.assertTrue(self.env["account.payment"].browse(action["res_id"]).is_reconciled)
        self.assertAlmostEqual(self.fee_doc.amount_residual, self.charges - 3.0)
