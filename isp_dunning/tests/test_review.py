"""The proposal review (Mahnvorschlag): propose, review, release, replace,
rights, and a customer paying before the release."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import D, DunningCommon, TourCase

DUE = D(2025, 5, 15)
FIRST = D(2025, 5, 22)  # level 1 (reminder, no charges)
SECOND = D(2025, 6, 5)  # level 2 (fee 1.50, statutory interest)

AMOUNT_FIELDS = (
    "level_id",
    "date",
    "deadline_date",
    "channel",
    "email_to",
    "amount_open",
    "fee_amount",
    "lump_sum_amount",
    "interest_amount",
    "fee_credited",
    "amount_credits",
    "amount_earlier_charges",
    "amount_total_due",
    "claim_data",
)


def snapshot(notice):
    values = {name: notice[name] for name in AMOUNT_FIELDS}
    values["level_id"] = notice.level_id.id
    values["lines"] = sorted(
        (
            line.move_id.id,
            line.escalated,
            line.level_id.id,
            line.amount_open,
            line.interest_amount,
            line.interest_date_to,
        )
        for line in notice.line_ids
    )
    return values


@tagged("post_install", "-at_install")
class TestReview(DunningCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.second = cls.env["res.partner"].create(
            {"name": "Erika Zweitkundin", "email": "erika@example.com"}
        )

    def setUp(self):
        super().setUp()
        self.inv_a = self.make_invoice(self.consumer, 1000.0, DUE)
        self.inv_b = self.make_invoice(self.consumer, 200.0, DUE)
        self.inv_c = self.make_invoice(self.second, 300.0, DUE)
        self.dun(FIRST)  # automatic: level 1 for everyone
        self.company.dunning_review_required = True

    def proposals(self, partner=None):
        domain = [("state", "=", "proposed"), ("company_id", "=", self.company.id)]
        if partner:
            domain.append(("partner_id", "=", partner.id))
        return self.Notice.search(domain)

    def booked(self, partner, when=SECOND):
        return self.Notice.search(
            [
                ("partner_id", "=", partner.id),
                ("date", "=", when),
                ("state", "not in", ("cancelled", "proposed", "released")),
            ]
        )

    def fee_documents(self):
        return self.env["account.move"].search([("dunning_fee_notice_id", "!=", False)])

    def decide(self, notice, action, reason, user=None, **extra):
        Wizard = self.env["isp.dunning.review.wizard"]
        if user:
            Wizard = Wizard.with_user(user)
        wizard = Wizard.create(
            {"notice_id": notice.id, "action": action, "reason": reason, **extra}
        )
        return wizard.action_confirm()

    # ------------------------------------------------------------------
    def test_propose_books_and_sends_nothing(self):
        fee_docs = self.fee_documents()
        mails = self.env["mail.mail"].search_count([])
        sequence = self.env["ir.sequence"].search([("code", "=", "isp.dunning.notice")], limit=1)
        number_before = sequence.number_next_actual
        run = self.dun(SECOND)
        proposals = self.proposals()
        self.assertEqual(len(proposals), 2)
        self.assertEqual(set(proposals.mapped("name")), {"Proposal"})
        self.assertEqual(run.proposal_count, 2)
        self.assertEqual(proposals.level_id, self.level_2)
        notice = self.proposals(self.consumer)
        self.assertEqual(notice.fee_amount, 1.5)
        self.assertGreater(notice.interest_amount, 0)
        self.assertEqual(notice.amount_open, 1200.0)
        # Nothing booked, blocked or sent; no number used.
        self.assertEqual(self.fee_documents(), fee_docs)
        self.assertEqual((self.inv_a | self.inv_b).mapped("dunning_level_id"), self.level_1)
        self.assertEqual(self.inv_a.dunning_last_date, FIRST)
        self.assertFalse(self.inv_a.dunning_interest_until)
        self.assertEqual(self.env["mail.mail"].search_count([]), mails)
        self.assertFalse(proposals.mail_id)
        self.assertEqual(self.consumer.dunning_level_id, self.level_1)
        sequence.invalidate_recordset()
        self.assertEqual(sequence.number_next_actual, number_before)
        # Ignored by what counts notices.
        self.assertNotIn(notice, self.inv_a.dunning_notice_ids)
        self.assertEqual(self.consumer.dunning_notice_count, 1)
        self.assertEqual(self.level_2.notice_count, 0)
        self.assertFalse(notice._dunning_pay_url())
        # The pending-delivery step leaves proposals alone.
        self.assertFalse(self.Notice._pending_delivery(self.company) & proposals)
        # Equal to what the automatic run books on the same book.
        expected = snapshot(notice)
        self.company.dunning_review_required = False
        run = self.dun(SECOND)
        self.assertIn("replaced", run.log)
        self.assertFalse(self.proposals())
        booked = self.booked(self.consumer)
        self.assertEqual(snapshot(booked), expected)
        self.assertTrue(booked.fee_move_id)
        self.assertNotEqual(booked.name, "Proposal")

    def test_release_books_and_delivers_like_the_automatic_run(self):
        self.dun(SECOND)
        proposals = self.proposals()
        expected = {p.partner_id.id: snapshot(p) for p in proposals}
        booked = self.env["isp.dunning.notice"].browse(proposals.action_release()["domain"][0][2])
        self.assertEqual(len(booked), 2)
        for notice in booked:
            self.assertEqual(snapshot(notice), expected[notice.partner_id.id])
            self.assertEqual(notice.state, "to_send")
            self.assertEqual(notice.mail_id.state, "outgoing")
            self.assertEqual(
                notice.fee_move_id.amount_total, notice.fee_amount + notice.interest_amount
            )
        self.assertEqual(set(proposals.mapped("state")), {"released"})
        for proposal in proposals:
            self.assertEqual(proposal.review_released_notice_id.partner_id, proposal.partner_id)
        self.assertEqual(self.inv_a.dunning_level_id, self.level_2)
        self.assertEqual(self.inv_a.dunning_interest_until, SECOND)
        # A second release does nothing; a rerun on the day books nothing more.
        self.assertFalse(proposals.action_release()["domain"][0][2])
        run = self.dun(SECOND)
        self.assertEqual(run.notice_count, 0)
        self.assertEqual(len(self.booked(self.consumer)), 1)

    def test_review_decisions_with_reasons(self):
        self.dun(SECOND)
        notice = self.proposals(self.consumer)
        full = snapshot(notice)
        # Remove an invoice.
        self.decide(notice, "remove_invoice", "Disputed", move_id=self.inv_b.id)
        self.assertEqual(notice.line_ids.move_id, self.inv_a)
        self.assertEqual(notice.amount_open, 1000.0)
        self.assertLess(notice.interest_amount, full["interest_amount"])
        self.assertIn("Disputed", notice.message_ids[0].body)
        # Waive the fee.
        self.decide(notice, "waive_fee", "Long-standing customer")
        self.assertEqual(notice.fee_amount, 0.0)
        self.assertEqual(notice.review_fee_waived_amount, 1.5)
        # Waive the interest.
        interest = notice.interest_amount
        self.decide(notice, "waive_interest", "Goodwill")
        self.assertEqual(notice.interest_amount, 0.0)
        self.assertEqual(notice.review_interest_waived_amount, interest)
        self.assertEqual(notice.amount_total_due, 1000.0)
        self.assertIn("Goodwill", notice.review_note)
        # Lower the level.
        self.assertEqual(notice.review_level_choice_ids, self.level_1)
        self.decide(notice, "lower_level", "Called us", level_id=self.level_1.id)
        self.assertEqual(notice.level_id, self.level_1)
        with self.assertRaises(UserError):
            self.decide(notice, "lower_level", "Again", level_id=self.level_3.id)
        # Remove the other customer.
        other = self.proposals(self.second)
        self.decide(other, "remove", "Insolvency proceedings")
        self.assertTrue(other.review_removed)
        with self.assertRaises(UserError):
            self.decide(notice, "waive_fee", "")
        # Release: books what the review left, keeps the reasons.
        run = notice.run_id
        (notice | other).action_release()
        booked = self.booked(self.consumer)
        self.assertEqual(booked.level_id, self.level_1)
        self.assertEqual(booked.line_ids.move_id, self.inv_a)
        self.assertEqual((booked.fee_amount, booked.interest_amount), (0.0, 0.0))
        self.assertFalse(booked.fee_move_id)
        # Lowered to the reminder, which charges no fee: nothing left to waive.
        self.assertEqual(booked.review_fee_waived_amount, 0.0)
        chatter = " ".join(str(m.body) for m in booked.message_ids)
        self.assertIn("Long-standing customer", chatter)
        self.assertIn("Called us", booked.review_note)
        self.assertEqual(self.inv_a.dunning_level_id, self.level_1)
        self.assertEqual(self.inv_a.dunning_last_date, SECOND)
        # Lowered to the reminder, which charges no interest: nothing charged or forgiven.
        self.assertFalse(self.inv_a.dunning_interest_until)
        self.assertEqual(self.inv_b.dunning_last_date, FIRST)  # untouched
        self.assertFalse(self.booked(self.second))
        self.assertFalse(other.exists())
        self.assertIn("removed in the review", run.log)
        self.assertEqual(self.inv_c.dunning_last_date, FIRST)

    def test_waived_fee_keeps_the_interest_document(self):
        self.dun(SECOND)
        notice = self.proposals(self.consumer)
        interest = notice.interest_amount
        self.decide(notice, "waive_fee", "First time late")
        notice.action_release()
        booked = self.booked(self.consumer)
        self.assertEqual(booked.fee_amount, 0.0)
        self.assertEqual(booked.fee_move_id.amount_total, interest)
        self.assertEqual(booked.mail_id.state, "outgoing")

    def test_new_run_replaces_the_proposal(self):
        first = self.dun(SECOND)
        self.assertEqual(len(self.proposals()), 2)
        second = self.dun(D(2025, 6, 6))
        proposals = self.proposals()
        self.assertEqual(len(proposals), 2)
        self.assertEqual(proposals.run_id, second)
        self.assertFalse(first.proposal_count)
        self.assertIn("2 proposed notices", second.log)
        # A preview replaces nothing.
        self.dun(D(2025, 6, 6), dry_run=True)
        self.assertEqual(self.proposals(), proposals)

    def test_customer_paid_before_release(self):
        self.dun(SECOND)
        self.pay(self.inv_c, 300.0, SECOND)
        self.pay(self.inv_b, 200.0, SECOND)
        self.proposals().action_release()
        self.assertFalse(self.booked(self.second))
        booked = self.booked(self.consumer)
        self.assertEqual(booked.amount_open, 1000.0)
        self.assertEqual(booked.line_ids.move_id, self.inv_a)
        self.assertFalse(self.proposals())
        self.assertIn("nothing to book", self.booked(self.consumer).run_id.log)

    def test_rights(self):
        self.dun(SECOND)
        notice = self.proposals(self.consumer)
        user = new_test_user(
            self.env, login="dun_user", groups="base.group_user,isp_dunning.group_dunning_user"
        )
        manager = new_test_user(
            self.env,
            login="dun_manager",
            groups="base.group_user,isp_dunning.group_dunning_manager,account.group_account_manager",
        )
        # A user reviews, but cannot release nor write the notice directly.
        self.decide(notice, "waive_fee", "User decision", user=user)
        self.assertTrue(notice.review_waive_fee)
        with self.assertRaises(AccessError):
            notice.with_user(user).action_release()
        with self.assertRaises(AccessError):
            notice.with_user(user).write({"review_waive_fee": False})
        self.assertEqual(notice.state, "proposed")
        # A portal user sees nothing.
        portal = new_test_user(self.env, login="dun_portal", groups="base.group_portal")
        with self.assertRaises(AccessError):
            notice.with_user(portal).read(["fee_amount"])
        # Another company's user sees nothing (multi-company rule).
        other_company = self.env["res.company"].create({"name": "Andere GmbH"})
        stranger = new_test_user(
            self.env,
            login="dun_other",
            groups="base.group_user,isp_dunning.group_dunning_manager",
            company_id=other_company.id,
            company_ids=[(6, 0, other_company.ids)],
        )
        self.assertFalse(self.Notice.with_user(stranger).search([("id", "=", notice.id)]))
        with self.assertRaises(AccessError):
            self.decide(notice, "waive_interest", "Not mine", user=stranger)
        # The manager releases.
        notice.with_user(manager).action_release()
        self.assertEqual(notice.state, "released")
        self.assertEqual(self.booked(self.consumer).fee_amount, 0.0)


@tagged("post_install", "-at_install")
class TestReviewTour(TourCase):
    def test_review_tour(self):
        company = self.company
        partner = self.env["res.partner"].create(
            {"name": "Tour Vorschlag GmbH", "is_company": True, "email": "tour@example.com"}
        )
        self.make_overdue_invoice(partner, days_overdue=200)
        today = fields.Date.today()
        Run = self.env["isp.dunning.run"].with_company(company)
        # Up to a level with a fee, then one proposal.
        company.dunning_review_required = False
        Run.run_dunning(date=today - timedelta(days=30))
        company.dunning_review_required = True
        Run.run_dunning(date=today)
        proposal = self.env["isp.dunning.notice"].search(
            [("partner_id", "=", partner.id), ("state", "=", "proposed")]
        )
        self.assertTrue(proposal.fee_amount)
        self.run_tour("/odoo/action-isp_dunning.action_isp_dunning_proposal", "isp_dunning_review")
        booked = proposal.review_released_notice_id
        self.assertEqual(proposal.state, "released")
        self.assertEqual(booked.fee_amount, 0.0)
        self.assertTrue(booked.review_fee_waived_amount)
        self.assertEqual(booked.fee_move_id.amount_total, booked.interest_amount)
        self.assertEqual(booked.mail_id.state, "outgoing")
        self.assertIn("Tour reason", booked.review_note)
