from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import DunningCommon

DUE = date(2025, 1, 1)
BROKEN_TEXT = (
    "{% if notice.broken_promise %}Promise of {{ notice.broken_promise.date|date }} over "
    "{{ notice.broken_promise.amount|money(notice.currency_symbol) }} not kept: "
    "{{ notice.broken_promise.due_amount|money(notice.currency_symbol) }} due by "
    "{{ notice.broken_promise.due_date|date }}, "
    "{{ notice.broken_promise.paid|money(notice.currency_symbol) }} paid.{% endif %}"
)


@tagged("post_install", "-at_install")
class TestPaymentPromises(DunningCommon):
    """A payment promise pauses the dunning of its invoices; the run finds
    it kept (no notice) or broken (a notice at the level the invoices had,
    whose text says so)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Promise = cls.env["isp.dunning.promise"]
        for level in (cls.level_1, cls.level_2, cls.level_3, cls.level_4):
            level.body_text_template = "Dear {{ partner.name }}. " + BROKEN_TEXT

    def promise(self, invoices, instalments, when, **vals):
        """A promise made on ``when`` (the clock set to that day)."""
        with freeze_time(when):
            return self.Promise.create(
                {
                    **vals,
                    "partner_id": invoices.commercial_partner_id[:1].id,
                    "move_ids": [Command.set(invoices.ids)],
                    "line_ids": [
                        Command.create({"date": day, "amount": amount})
                        for day, amount in instalments
                    ],
                }
            )

    def dunned_to_first_notice(self, partner, amount=300.0):
        invoice = self.make_invoice(partner, amount, DUE)
        self.dun(date(2025, 1, 8))  # reminder
        self.dun(date(2025, 1, 22))  # first notice
        self.assertEqual(invoice.dunning_level_id, self.level_2)
        return invoice

    def test_pending_promise_pauses_dunning(self):
        invoice = self.dunned_to_first_notice(self.consumer)
        promise = self.promise(invoice, [(date(2025, 2, 10), 300.0)], date(2025, 2, 3))
        self.assertEqual(promise.state, "open")
        self.assertEqual(promise.amount_open_start, 300.0)
        self.assertEqual(invoice.dunning_promise_ids, promise)
        count = len(self.notices_of(self.consumer))
        # Due for the second notice on 5 Feb; paused up to 10 Feb + 3 days.
        run = self.dun(date(2025, 2, 13))
        self.assertEqual(run.notice_count, 0)
        self.assertEqual(len(self.notices_of(self.consumer)), count)
        self.assertEqual(invoice.dunning_level_id, self.level_2)
        self.assertIn(f"paused ({invoice.name})", run.log)
        self.assertEqual(promise.state, "open")
        self.assertEqual(self.consumer.dunning_promise_count, 1)
        self.assertEqual(self.consumer.dunning_promise_state, "open")

    def test_kept_promise_ends_dunning(self):
        invoice = self.dunned_to_first_notice(self.consumer)
        promise = self.promise(invoice, [(date(2025, 2, 10), 300.0)], date(2025, 2, 3))
        count = len(self.notices_of(self.consumer))
        self.pay(invoice, 300.0, date(2025, 2, 9))
        run = self.dun(date(2025, 2, 14))
        self.assertEqual(run.notice_count, 0)
        self.assertEqual(len(self.notices_of(self.consumer)), count)
        self.assertEqual(promise.state, "kept")
        self.assertEqual(promise.state_date, date(2025, 2, 14))
        self.assertEqual(promise.paid_when_decided, 300.0)
        self.assertIn(
            "Customer Max Verbraucher: promise of 02/03/2025 over $\xa0300.00 kept",
            run.log.splitlines(),
        )
        self.assertEqual(self.consumer.dunning_promise_state, "kept")

    def test_broken_promise_resumes_at_the_level_with_the_text(self):
        invoice = self.dunned_to_first_notice(self.consumer)
        promise = self.promise(invoice, [(date(2025, 2, 10), 300.0)], date(2025, 2, 3))
        self.pay(invoice, 100.0, date(2025, 2, 9))
        # 13 Feb: still within the grace, nothing happens.
        run = self.dun(date(2025, 2, 13))
        self.assertEqual(run.notice_count, 0)
        self.assertEqual(promise.state, "open")
        run = self.dun(date(2025, 2, 14))
        self.assertEqual(promise.state, "broken")
        self.assertEqual(promise.state_date, date(2025, 2, 14))
        self.assertEqual(promise.missed_date, date(2025, 2, 10))
        self.assertEqual(promise.missed_amount, 300.0)
        self.assertEqual(promise.paid_when_decided, 100.0)
        notice = self.notices_of(self.consumer)[-1]
        self.assertEqual(notice.date, date(2025, 2, 14))
        self.assertEqual(notice.level_id, self.level_2, "the level the invoice had")
        self.assertEqual(invoice.dunning_level_id, self.level_2)
        self.assertEqual(invoice.dunning_last_date, date(2025, 2, 14))
        self.assertEqual(notice.amount_open, 200.0)
        self.assertEqual(notice.broken_promise_id, promise)
        self.assertEqual(promise.notice_id, notice)
        self.assertIn(
            "Promise of 02/03/2025 over $300.00 not kept: $300.00 due by 02/10/2025, $100.00 paid.",
            notice.body_text,
        )
        self.assertIn(
            "Customer Max Verbraucher: promise of 02/03/2025 over $\xa0300.00 broken "
            "($\xa0300.00 due by 02/10/2025, $\xa0100.00 paid); dunning resumes at First notice",
            run.log.splitlines(),
        )
        # The next notice escalates one step, without the sentence.
        self.dun(date(2025, 2, 28))
        later = self.notices_of(self.consumer)[-1]
        self.assertEqual(later.level_id, self.level_3)
        self.assertFalse(later.broken_promise_id)
        self.assertNotIn("not kept", later.body_text)

    def test_broken_promise_proposed_then_released(self):
        """With review on, the run proposes the notice of a broken promise;
        the notice booked by the release is the one linked with the promise
        and its text says the promise was not kept."""
        invoice = self.dunned_to_first_notice(self.consumer)
        promise = self.promise(invoice, [(date(2025, 2, 10), 300.0)], date(2025, 2, 3))
        self.pay(invoice, 100.0, date(2025, 2, 9))
        self.company.dunning_review_required = True
        self.dun(date(2025, 2, 14))
        proposal = self.env["isp.dunning.notice"].search(
            [("partner_id", "=", self.consumer.id), ("state", "=", "proposed")]
        )
        self.assertEqual(len(proposal), 1)
        self.assertEqual(proposal.level_id, self.level_2, "the level the invoice had")
        self.assertEqual(promise.state, "broken")
        self.assertFalse(promise.notice_id, "a proposal is not linked")
        self.assertFalse(proposal.broken_promise_id)
        proposal.action_release()
        booked = proposal.review_released_notice_id
        self.assertTrue(booked)
        self.assertEqual(booked.state, "to_send")
        self.assertEqual(booked.level_id, self.level_2)
        self.assertEqual(booked.broken_promise_id, promise)
        self.assertEqual(promise.notice_id, booked)
        self.assertIn(
            "Promise of 02/03/2025 over $300.00 not kept: $300.00 due by 02/10/2025, $100.00 paid.",
            booked.body_text,
        )

    def test_instalments_first_kept_second_broken(self):
        invoice = self.dunned_to_first_notice(self.business)
        promise = self.promise(
            invoice,
            [(date(2025, 2, 10), 150.0), (date(2025, 3, 10), 150.0)],
            date(2025, 2, 3),
        )
        self.pay(invoice, 150.0, date(2025, 2, 10))
        run = self.dun(date(2025, 2, 20))
        self.assertEqual(promise.state, "open", "first instalment paid, second pending")
        self.assertEqual(run.notice_count, 0)
        run = self.dun(date(2025, 3, 14))
        self.assertEqual(promise.state, "broken")
        self.assertEqual(promise.missed_date, date(2025, 3, 10))
        self.assertEqual(promise.missed_amount, 300.0)
        notice = self.notices_of(self.business)[-1]
        self.assertEqual(notice.level_id, self.level_2)
        self.assertEqual(notice.broken_promise_id, promise)
        self.assertIn("$150.00 paid", notice.body_text)

    def test_preview_writes_nothing(self):
        invoice = self.dunned_to_first_notice(self.consumer)
        promise = self.promise(invoice, [(date(2025, 2, 10), 300.0)], date(2025, 2, 3))
        count = len(self.notices_of(self.consumer))
        run = self.dun(date(2025, 2, 14), dry_run=True)
        self.assertEqual(promise.state, "open")
        self.assertFalse(promise.notice_id)
        self.assertEqual(len(self.notices_of(self.consumer)), count)
        self.assertEqual(run.notice_count, 1, "the preview shows the notice it would send")
        self.assertIn("promise of 02/03/2025 over $\xa0300.00 broken", run.log)

    def test_cancelled_promise_resumes_without_the_text(self):
        invoice = self.dunned_to_first_notice(self.consumer)
        promise = self.promise(invoice, [(date(2025, 2, 10), 300.0)], date(2025, 2, 3))
        promise.action_cancel()
        self.dun(date(2025, 2, 5))
        notice = self.notices_of(self.consumer)[-1]
        self.assertEqual(notice.level_id, self.level_3, "escalates as usual")
        self.assertFalse(notice.broken_promise_id)
        with self.assertRaisesRegex(UserError, "cannot be changed"):
            promise.grace_days = 5

    def refused(self, message, create):
        """``create`` fails with a ValidationError saying ``message`` and
        leaves nothing behind (assertRaises rolls back to a savepoint)."""
        with self.assertRaises(ValidationError) as caught:
            create()
        self.assertRegex(str(caught.exception), message)

    def test_validation(self):
        invoice = self.make_invoice(self.consumer, 300.0, DUE)
        made = date(2025, 2, 3)

        def make(instalments, **vals):
            return lambda: self.promise(invoice, instalments, made, **vals)

        self.refused("must be a positive amount", make([(date(2025, 2, 10), 0.0)]))
        self.refused("must be a positive amount", make([(date(2025, 2, 10), -5.0)]))
        self.refused("before the promise was made", make([(date(2025, 2, 1), 100.0)]))
        self.refused("more than the .* open", make([(date(2025, 2, 10), 300.01)]))
        self.refused("at least one instalment", make([]))
        self.refused("in the future", make([(date(2025, 2, 10), 10.0)], date=date(2025, 2, 4)))
        other = self.make_invoice(self.business, 50.0, DUE)
        self.refused(
            "posted invoices of Max Verbraucher only",
            lambda: self.promise(invoice | other, [(date(2025, 2, 10), 10.0)], made),
        )
        self.assertFalse(self.Promise.search([("partner_id", "=", self.consumer.id)]))
        # Partial agreed: fine; a second pending promise on the invoice: refused.
        partial = self.promise(invoice, [(date(2025, 2, 10), 100.0)], made)
        self.assertEqual(partial.amount_promised, 100.0)
        self.assertEqual(partial.amount_open_start, 300.0)
        self.refused("already covered by the pending", make([(date(2025, 2, 10), 100.0)]))

    def test_defaults_from_the_invoice(self):
        old = self.make_invoice(self.consumer, 120.0, DUE)
        newer = self.make_invoice(self.consumer, 30.0, date(2025, 1, 15))
        self.make_invoice(self.consumer, 10.0, date(2099, 1, 1))  # not yet due
        with freeze_time(date(2025, 2, 3)):
            values = self.Promise.with_context(
                active_model="account.move", active_id=newer.id
            ).default_get(["partner_id", "move_ids", "line_ids", "currency_id"])
        self.assertEqual(values["partner_id"], self.consumer.id)
        self.assertEqual(set(values["move_ids"][0][2]), {old.id, newer.id})
        self.assertEqual(values["line_ids"][0][2]["amount"], 150.0)
        self.assertEqual(values["line_ids"][0][2]["date"], date(2025, 2, 17))

    def test_access_per_group(self):
        invoice = self.make_invoice(self.consumer, 300.0, DUE)
        promise = self.promise(invoice, [(date(2025, 2, 10), 300.0)], date(2025, 2, 3))
        user = new_test_user(
            self.env,
            "promise_user",
            groups="base.group_user,isp_dunning.group_dunning_user,account.group_account_invoice",
        )
        readonly = new_test_user(
            self.env, "promise_readonly", groups="base.group_user,account.group_account_readonly"
        )
        plain = new_test_user(self.env, "promise_plain", groups="base.group_user")
        promise.with_user(user).note = "called on 3 Feb"
        with self.assertRaises(AccessError):
            promise.with_user(user).unlink()
        self.assertEqual(promise.with_user(readonly).amount_promised, 300.0)
        with self.assertRaises(AccessError):
            promise.with_user(readonly).note = "no"
        with self.assertRaises(AccessError):
            promise.with_user(plain).read(["state"])
        promise.with_user(user).action_cancel()
        self.assertEqual(promise.state, "cancelled")
