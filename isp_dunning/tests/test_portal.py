from datetime import date, timedelta

from freezegun import freeze_time

from odoo import http
from odoo.exceptions import AccessDenied, AccessError, ValidationError
from odoo.fields import Command
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import HOST, TEST_CURSOR_COOKIE_NAME, Opener, get_db_name
from odoo.tools import mute_logger

from ..services import portal_blocking
from .common import DunningCommon

DUE = date(2025, 1, 1)
# The default test ladder: reminder, first notice, second notice (announces
# the block) and final notice (blocks), each 14 days after the previous one.
LADDER_DAYS = (7, 21, 35, 49)
# Monday 24.02.2025, a few days after the final notice of 19.02.2025: a
# postponed block is retried only on a working day.
MONDAY_AFTER = DUE + timedelta(days=54)


def portal_user(env, login, partner, groups="base.group_portal"):
    return new_test_user(
        env, login, groups=groups, partner_id=partner.id, name=partner.name, email=partner.email
    )


@tagged("post_install", "-at_install")
class TestPortalBlocking(DunningCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.business_contact = Partner.create(
            {"name": "Anna Einkauf", "parent_id": cls.business.id, "email": "anna@firma.example"}
        )
        cls.business_user = portal_user(cls.env, "anna.portal", cls.business_contact)
        cls.business_owner_user = portal_user(cls.env, "firma.portal", cls.business)
        cls.employee = portal_user(
            cls.env,
            "firma.employee",
            Partner.create(
                {"name": "Eva Intern", "parent_id": cls.business.id, "email": "eva@firma.example"}
            ),
            groups="base.group_user",
        )
        cls.consumer_user = portal_user(cls.env, "max.portal", cls.consumer)
        cls.manager = new_test_user(
            cls.env, "dun_portal_manager", groups="account.group_account_manager"
        )
        # Provisioning actions run with this user's rights, not as superuser.
        cls.provisioning = new_test_user(
            cls.env,
            "dun_provisioning",
            groups="base.group_user,base.group_partner_manager,isp_dunning.group_dunning_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.company.dunning_action_user_id = cls.provisioning

    def escalate(self, partner, amount, steps=LADDER_DAYS):
        """An invoice due on DUE, dunned on each ladder day; the mail queue
        sends each day's notices on their day."""
        invoice = self.make_invoice(partner, amount, DUE)
        for days in steps:
            day = DUE + timedelta(days=days)
            self.dun(day)
            self.send_mails(day)
        return invoice

    def send_mails(self, day):
        """Send the queued dunning emails as the mail queue would on ``day``
        (the consumer guard counts an announcement from its delivery)."""
        mails = (
            self.env["mail.mail"]
            .sudo()
            .search([("dunning_notice_id", "!=", False), ("state", "=", "outgoing")])
        )
        with freeze_time(day):
            mails.send()

    def messages(self, record):
        return " | ".join(record.message_ids.mapped("body"))

    def assertLoginRefused(self, user, password, message):
        credential = {"type": "password", "login": user.login, "password": password}
        with self.assertRaises(AccessDenied) as refused:
            user.with_user(user)._check_credentials(credential, {"interactive": True})
        self.assertIn(message, str(refused.exception))

    def test_business_blocked_without_guard(self):
        # Below the threshold and never announced: a business is not protected.
        self.level_3.announce_portal_block = False
        self.escalate(self.business, 50.0)
        notice = self.notices_of(self.business)[-1]
        self.assertEqual(notice.level_id, self.level_4)
        self.assertTrue(notice.portal_block)
        self.assertFalse(notice.portal_block_postponed)
        self.assertTrue(self.business.dunning_portal_blocked)
        self.assertEqual(self.business.dunning_portal_block_notice_id, notice)
        for user in (self.business_user, self.business_owner_user):
            self.assertTrue(user.dunning_blocked, user.login)
            self.assertTrue(user.dunning_blocked_date)
            self.assertEqual(user.dunning_block_notice_id, notice)
            self.assertTrue(user.active, "blocking never archives")
        self.assertIn(f"blocked by dunning notice {notice.name}", self.messages(self.business))
        self.assertIn("Anna Einkauf", self.messages(self.business))

    def test_internal_users_untouched(self):
        self.escalate(self.business, 150.0)
        self.assertTrue(self.business_user.dunning_blocked)
        self.assertFalse(self.employee.dunning_blocked)
        self.assertTrue(self.employee.active)
        # The employee still logs in; the portal user gets the company message.
        self.employee.with_user(self.employee)._check_credentials(
            {"type": "password", "login": "firma.employee", "password": "firma.employee"},
            {"interactive": True},
        )
        self.assertLoginRefused(
            self.business_user, "anna.portal", "blocked because of unpaid invoices"
        )
        self.company.dunning_portal_blocked_message = "Zugang gesperrt, bitte zahlen."
        self.assertLoginRefused(self.business_user, "anna.portal", "Zugang gesperrt, bitte zahlen.")

    def test_wrong_password_of_blocked_user_reveals_nothing(self):
        self.escalate(self.business, 150.0)
        credential = {"type": "password", "login": "anna.portal", "password": "wrong"}
        with self.assertRaises(AccessDenied) as refused:
            self.business_user.with_user(self.business_user)._check_credentials(
                credential, {"interactive": True}
            )
        self.assertNotIn("unpaid", str(refused.exception))

    def test_blocked_user_cannot_unblock_itself(self):
        self.escalate(self.business, 150.0)
        self.assertNotIn("dunning_blocked", self.env["res.users"].SELF_WRITEABLE_FIELDS)
        with self.assertRaises(AccessError):
            self.business_user.with_user(self.business_user).write({"dunning_blocked": False})
        self.assertTrue(self.business_user.dunning_blocked)

    def test_session_token_changes_with_block(self):
        token = self.business_user._compute_session_token("some-session-id")
        self.escalate(self.business, 150.0)
        self.env.flush_all()
        self.assertNotEqual(self.business_user._compute_session_token("some-session-id"), token)

    def test_consumer_guard_threshold(self):
        invoice = self.escalate(self.consumer, 80.0)
        notice = self.notices_of(self.consumer)[-1]
        self.assertEqual(notice.level_id, self.level_4)
        self.assertTrue(notice.portal_block_postponed)
        self.assertFalse(notice.portal_block)
        self.assertIn("below the threshold", notice.portal_block_note)
        self.assertIn("100.00", notice.portal_block_note)
        self.assertIn("Portal block postponed", self.messages(notice))
        self.assertFalse(self.consumer.dunning_portal_blocked)
        self.assertFalse(self.consumer_user.dunning_blocked)
        # A new overdue invoice lifts the undisputed arrears above 100: the
        # next run blocks, although it produces no notice for the customer.
        self.make_invoice(self.consumer, 50.0, DUE + timedelta(days=50))
        run = self.dun(MONDAY_AFTER)
        self.assertFalse(run.notice_ids)
        self.assertTrue(notice.portal_block)
        self.assertTrue(self.consumer.dunning_portal_blocked)
        self.assertTrue(self.consumer_user.dunning_blocked)
        self.assertEqual(self.consumer_user.dunning_block_notice_id, notice)
        self.assertIn("allows it now", self.messages(notice))
        self.assertEqual(invoice.dunning_level_id, self.level_4)

    def test_consumer_guard_announcement(self):
        self.level_3.announce_portal_block = False
        self.escalate(self.consumer, 200.0)
        notice = self.notices_of(self.consumer)[-1]
        self.assertTrue(notice.portal_block_postponed)
        self.assertIn("announced", notice.portal_block_note)
        self.assertNotIn("threshold", notice.portal_block_note)
        # Without an announcement time alone never allows the block.
        self.dun(DUE + timedelta(days=120))
        self.assertFalse(self.consumer_user.dunning_blocked)

    def test_consumer_guard_announcement_period(self):
        self.company.dunning_block_notice_days = 20
        self.escalate(self.consumer, 200.0)
        notice = self.notices_of(self.consumer)[-1]
        # Announced on day 35, final notice on day 49: only 14 of 20 days.
        self.assertTrue(notice.portal_block_postponed)
        self.assertIn("at least 20 days", notice.portal_block_note)
        self.dun(DUE + timedelta(days=54))
        self.assertFalse(self.consumer_user.dunning_blocked)
        self.dun(DUE + timedelta(days=55))
        self.assertTrue(self.consumer_user.dunning_blocked)
        self.assertTrue(notice.portal_block)

    def test_announcement_waiting_in_the_queue_does_not_count(self):
        invoice = self.make_invoice(self.consumer, 200.0, DUE)
        for days in LADDER_DAYS:
            self.dun(DUE + timedelta(days=days))  # the mail queue never ran
        announcement = self.notices_of(self.consumer)[2]
        self.assertTrue(announcement.portal_block_announced)
        self.assertFalse(announcement.delivered_date)
        notice = self.notices_of(self.consumer)[-1]
        self.assertEqual(notice.level_id, self.level_4)
        self.assertTrue(notice.portal_block_postponed)
        self.assertIn("announced", notice.portal_block_note)
        self.assertFalse(self.consumer_user.dunning_blocked)
        self.assertEqual(invoice.dunning_level_id, self.level_4)

    def test_announcement_counts_from_the_day_it_was_sent(self):
        self.make_invoice(self.consumer, 200.0, DUE)
        for days in LADDER_DAYS[:3]:
            self.dun(DUE + timedelta(days=days))
        announcement = self.notices_of(self.consumer)[2]
        # Created on day 35, sent only on day 40 (e.g. the mail server was down).
        self.send_mails(DUE + timedelta(days=40))
        self.assertEqual(announcement.state, "sent")
        self.assertEqual(announcement.delivered_date, DUE + timedelta(days=40))
        self.dun(DUE + timedelta(days=49))
        notice = self.notices_of(self.consumer)[-1]
        self.assertTrue(notice.portal_block_postponed, "14 days after creation, 9 after sending")
        self.dun(DUE + timedelta(days=53))
        self.assertFalse(self.consumer_user.dunning_blocked)
        self.dun(DUE + timedelta(days=54))
        self.assertTrue(self.consumer_user.dunning_blocked, "14 days after sending")
        self.assertTrue(notice.portal_block)

    def test_printed_announcement_counts_from_the_day_it_was_printed(self):
        self.consumer.email = False  # letters only
        self.make_invoice(self.consumer, 200.0, DUE)
        for days in LADDER_DAYS[:3]:
            self.dun(DUE + timedelta(days=days))
        announcement = self.notices_of(self.consumer)[2]
        self.assertEqual(announcement.state, "to_print")
        with freeze_time(DUE + timedelta(days=36)):
            announcement.action_mark_printed()
        self.assertEqual(announcement.delivered_date, DUE + timedelta(days=36))
        self.dun(DUE + timedelta(days=49))
        self.assertFalse(self.consumer_user.dunning_blocked)
        self.dun(DUE + timedelta(days=50))
        self.assertTrue(self.consumer_user.dunning_blocked)

    def test_consumer_guard_ignores_disputed_invoices(self):
        disputed = self.make_invoice(self.consumer, 60.0, DUE)
        disputed.write(
            {"dunning_blocked_until": date(2025, 12, 31), "dunning_block_reason": "dispute"}
        )
        self.escalate(self.consumer, 80.0)
        notice = self.notices_of(self.consumer)[-1]
        self.assertTrue(notice.portal_block_postponed)
        self.assertIn("below the threshold", notice.portal_block_note)

    def test_consumer_blocked_when_guard_met(self):
        self.escalate(self.consumer, 150.0)
        notice = self.notices_of(self.consumer)[-1]
        self.assertTrue(notice.portal_block)
        self.assertFalse(notice.portal_block_postponed)
        self.assertTrue(self.consumer_user.dunning_blocked)

    def test_consumer_guard_off(self):
        self.company.dunning_consumer_guard = False
        self.level_3.announce_portal_block = False
        self.escalate(self.consumer, 20.0)
        self.assertTrue(self.consumer_user.dunning_blocked)

    def test_payment_restores_users(self):
        invoice = self.escalate(self.business, 150.0)
        self.assertTrue(self.business_user.dunning_blocked)
        self.pay(invoice, 150.0, DUE + timedelta(days=50))
        self.assertFalse(self.business.dunning_portal_blocked)
        self.assertFalse(self.business.dunning_portal_block_notice_id)
        for user in (self.business_user, self.business_owner_user):
            self.assertFalse(user.dunning_blocked)
            self.assertFalse(user.dunning_blocked_date)
            self.assertFalse(user.dunning_block_notice_id)
        self.assertIn("Portal access restored", self.messages(self.business))
        self.business_user.with_user(self.business_user)._check_credentials(
            {"type": "password", "login": "anna.portal", "password": "anna.portal"},
            {"interactive": True},
        )

    def test_partial_payment_keeps_block(self):
        invoice = self.escalate(self.business, 150.0)
        self.pay(invoice, 100.0, DUE + timedelta(days=50))
        self.assertTrue(self.business_user.dunning_blocked)

    def test_credit_note_restores_users(self):
        invoice = self.escalate(self.business, 150.0)
        invoice._reverse_moves(cancel=True)
        self.assertEqual(invoice.payment_state, "reversed")
        self.assertFalse(self.business_user.dunning_blocked)

    def test_pause_restores_users(self):
        invoice = self.escalate(self.business, 150.0)
        self.assertTrue(self.business_user.dunning_blocked)
        invoice.write(
            {"dunning_blocked_until": date(2099, 1, 1), "dunning_block_reason": "promise"}
        )
        self.assertFalse(self.business_user.dunning_blocked)
        self.assertFalse(self.business.dunning_portal_blocked)

    def test_run_lifts_block_of_cancelled_invoice(self):
        invoice = self.escalate(self.business, 150.0)
        invoice.button_draft()
        invoice.button_cancel()
        self.assertTrue(self.business_user.dunning_blocked)
        self.dun(DUE + timedelta(days=50))
        self.assertFalse(self.business_user.dunning_blocked)

    def test_user_archived_by_hand_stays_archived(self):
        self.business_owner_user.active = False
        invoice = self.escalate(self.business, 150.0)
        self.business_user.active = False  # archived by hand during the block
        self.pay(invoice, 150.0, DUE + timedelta(days=50))
        for user in (self.business_user, self.business_owner_user):
            self.assertFalse(user.active, user.login)
            self.assertFalse(user.dunning_blocked, user.login)

    def test_user_blocked_for_another_reason_stays_blocked(self):
        self.consumer.with_user(self.manager).action_dunning_block_portal()
        self.assertTrue(self.consumer_user.dunning_blocked)
        self.assertTrue(self.consumer.dunning_portal_block_manual)
        self.assertIn("blocked by hand", self.messages(self.consumer))
        business_invoice = self.make_invoice(self.business, 150.0, DUE)
        consumer_invoice = self.make_invoice(self.consumer, 150.0, DUE)
        for days in LADDER_DAYS:
            self.dun(DUE + timedelta(days=days))
        self.assertEqual(consumer_invoice.dunning_level_id, self.level_4)
        self.assertTrue(self.business_user.dunning_blocked)
        self.pay(business_invoice, 150.0, DUE + timedelta(days=50))
        self.pay(consumer_invoice, 150.0, DUE + timedelta(days=50))
        self.assertFalse(self.business_user.dunning_blocked)
        self.assertTrue(self.consumer_user.dunning_blocked, "a block by hand waits for a manager")
        self.assertTrue(self.consumer.dunning_portal_blocked)
        self.consumer.with_user(self.manager).action_dunning_unblock_portal()
        self.assertFalse(self.consumer_user.dunning_blocked)
        self.assertIn("restored by hand", self.messages(self.consumer))

    def test_block_buttons_need_manager(self):
        billing = new_test_user(
            self.env, "dun_portal_billing", groups="account.group_account_invoice"
        )
        with self.assertRaises(AccessError):
            self.consumer.with_user(billing).action_dunning_block_portal()
        self.assertFalse(self.consumer_user.dunning_blocked)

    def test_new_portal_user_of_blocked_customer_starts_blocked(self):
        self.escalate(self.business, 150.0)
        contact = self.env["res.partner"].create(
            {"name": "Neu Kontakt", "parent_id": self.business.id, "email": "neu@firma.example"}
        )
        user = portal_user(self.env, "neu.portal", contact)
        self.assertTrue(user.dunning_blocked)
        self.assertEqual(user.dunning_block_notice_id, self.business.dunning_portal_block_notice_id)

    def test_server_actions_context(self):
        IrModel = self.env["ir.model"]
        level_action = self.env["ir.actions.server"].create(
            {
                "name": "Suspend line",
                "model_id": IrModel._get_id("isp.dunning.notice"),
                "state": "code",
                "code": "record.partner_id.write({'ref': '%s %s %s %s %s' % ("
                "env.context['active_model'], env.context['active_id'] == record.id, "
                "env.context['active_ids'] == [record.id], "
                "env.context['dunning_partner_id'] == record.partner_id.id, "
                "sorted(env.context['dunning_move_ids']) == sorted(record.move_ids.ids))})",
            }
        )
        release_action = self.env["ir.actions.server"].create(
            {
                "name": "Restore line",
                "model_id": IrModel._get_id("res.partner"),
                "state": "code",
                "code": "record.write({'ref': 'released %s %s %s %s' % ("
                "env.context['active_model'], env.context['active_id'] == record.id, "
                "env.context['dunning_partner_id'] == record.id, "
                "env.context['dunning_release'])})",
            }
        )
        self.level_4.server_action_id = level_action
        self.company.dunning_release_action_id = release_action
        invoice = self.escalate(self.business, 150.0)
        self.assertEqual(self.business.ref, "isp.dunning.notice True True True True")
        self.pay(invoice, 150.0, DUE + timedelta(days=50))
        self.assertEqual(self.business.ref, "released res.partner True True True")

    def test_level_action_waits_for_postponed_block(self):
        self.level_4.server_action_id = self.env["ir.actions.server"].create(
            {
                "name": "Suspend line",
                "model_id": self.env["ir.model"]._get_id("isp.dunning.notice"),
                "state": "code",
                "code": "record.partner_id.write({'ref': 'suspended'})",
            }
        )
        self.escalate(self.consumer, 80.0)
        self.assertFalse(self.consumer.ref, "§ 61 TKG: no suspension while postponed")
        self.make_invoice(self.consumer, 50.0, DUE + timedelta(days=50))
        self.dun(MONDAY_AFTER)
        self.assertEqual(self.consumer.ref, "suspended")

    @mute_logger("odoo.addons.isp_dunning.models.res_partner")
    def test_failing_level_action_on_retry_keeps_run_going(self):
        self.level_4.server_action_id = self.env["ir.actions.server"].create(
            {
                "name": "Suspend line",
                "model_id": self.env["ir.model"]._get_id("isp.dunning.notice"),
                "state": "code",
                "code": "raise UserError('provisioning system down')",
            }
        )
        self.escalate(self.consumer, 80.0)
        notice = self.notices_of(self.consumer)[-1]
        self.make_invoice(self.consumer, 50.0, DUE + timedelta(days=50))
        run = self.dun(MONDAY_AFTER)
        self.assertEqual(run.state, "done")
        self.assertFalse(self.consumer_user.dunning_blocked, "rolled back with the hook")
        self.assertFalse(notice.portal_block)
        self.assertIn("provisioning system down", self.messages(notice))

    def test_preview_changes_nothing(self):
        invoice = self.make_invoice(self.business, 150.0, DUE)
        for days in LADDER_DAYS[:3]:
            self.dun(DUE + timedelta(days=days))
        self.dun(DUE + timedelta(days=49), dry_run=True)
        self.assertEqual(invoice.dunning_level_id, self.level_3)
        self.assertFalse(self.business_user.dunning_blocked)


@tagged("post_install", "-at_install")
class TestPortalBlockingHttp(HttpCase):
    """Login and sessions of a blocked portal user, over HTTP, in the main
    company with its default ladder."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.ref("base.main_company")
        Partner = cls.env["res.partner"]
        cls.customer = Partner.create(
            {"name": "Netzkunde GmbH", "is_company": True, "email": "buchhaltung@netzkunde.example"}
        )
        contact = Partner.create(
            {
                "name": "Petra Portal",
                "parent_id": cls.customer.id,
                "email": "petra@netzkunde.example",
            }
        )
        cls.password = "petra.portal.secret"
        cls.user = new_test_user(
            cls.env,
            "petra.portal",
            groups="base.group_portal",
            partner_id=contact.id,
            email=contact.email,
            password=cls.password,
            company_id=cls.company.id,
        )
        cls.invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": cls.customer.id,
                "invoice_date": date(2025, 1, 1),
                "invoice_date_due": date(2025, 1, 1),
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Internet",
                            "quantity": 1,
                            "price_unit": 120.0,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        cls.invoice.action_post()

    def block(self):
        """Bring the invoice to the final level, as a run does."""
        level = self.env.ref("isp_dunning.level_final")
        self.invoice.write({"dunning_level_id": level.id})
        self.customer._dunning_refresh_level()
        notice = self.env["isp.dunning.notice"].create(
            {
                "company_id": self.company.id,
                "partner_id": self.customer.id,
                "level_id": level.id,
                "date": date(2025, 3, 3),  # a Monday: blocks start on working days
                "currency_id": self.invoice.currency_id.id,
                "move_ids": [Command.set(self.invoice.ids)],
                "state": "to_send",
            }
        )
        portal_blocking.apply_notices(notice)
        self.assertTrue(self.user.dunning_blocked)
        return notice

    def pay(self):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=self.invoice.ids
        ).create({"payment_date": date(2025, 3, 5)})._create_payments()
        self.assertIn(self.invoice.payment_state, ("paid", "in_payment"))

    def web_login(self):
        # A fresh anonymous session, its cookie bound to the host so that the
        # session the server rotates at login replaces it.
        self.session = http.root.session_store.new()
        self.session.update(http.get_default_session(), db=get_db_name())
        self.opener = Opener(self.env.cr)
        self.opener.cookies.set("session_id", self.session.sid, domain=HOST, path="/")
        self.opener.cookies.set(
            TEST_CURSOR_COOKIE_NAME, self.http_request_key, domain=HOST, path="/"
        )
        return self.url_open(
            "/web/login",
            data={
                "login": self.user.login,
                "password": self.password,
                "csrf_token": http.Request.csrf_token(self),
            },
        )

    def test_login_refused_with_message_then_restored_by_payment(self):
        self.block()
        response = self.web_login()
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.request.path_url.startswith("/web/login"))
        self.assertIn("Your access has been blocked because of unpaid invoices", response.text)
        self.assertNotIn("Wrong login/password", response.text)
        self.pay()
        self.assertFalse(self.user.dunning_blocked)
        response = self.web_login()
        self.assertTrue(response.request.path_url.startswith("/my"), response.request.path_url)

    def test_password_reset_of_blocked_user_shows_the_block(self):
        """A blocked customer who resets the password sets it, but is not let
        in: the reset page says why instead of failing."""
        self.block()
        partner = self.user.partner_id
        partner.signup_prepare(signup_type="reset")
        token = partner._generate_signup_token()
        self.web_login()  # an anonymous session with its cookies
        new_password = "petra.portal.new-secret"
        response = self.url_open(
            "/web/reset_password",
            data={
                "token": token,
                "login": self.user.login,
                "password": new_password,
                "confirm_password": new_password,
                "csrf_token": http.Request.csrf_token(self),
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("Your access has been blocked because of unpaid invoices", response.text)
        response = self.url_open("/my")
        self.assertTrue(response.request.path_url.startswith("/web/login"))
        # Paid: the new password works.
        self.pay()
        self.password = new_password
        response = self.web_login()
        self.assertTrue(response.request.path_url.startswith("/my"), response.request.path_url)

    def test_open_session_ends_at_next_request(self):
        self.authenticate(self.user.login, self.password)
        response = self.url_open("/my")
        self.assertTrue(response.request.path_url.startswith("/my"))
        self.block()
        response = self.url_open("/my")
        self.assertTrue(
            response.request.path_url.startswith("/web/login"), response.request.path_url
        )
        # The session is gone: paying does not bring it back, logging in does.
        self.pay()
        response = self.url_open("/my")
        self.assertTrue(response.request.path_url.startswith("/web/login"))
        self.authenticate(self.user.login, self.password)
        response = self.url_open("/my")
        self.assertTrue(response.request.path_url.startswith("/my"))


@tagged("post_install", "-at_install")
class TestProvisioningActionRights(DunningCommon):
    """Server actions of levels and the release action: only Settings
    administrators set them; they run with the rights of the company's
    provisioning user."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            "dun_rights_manager",
            groups="account.group_account_manager,isp_dunning.group_dunning_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.provisioning = new_test_user(
            cls.env,
            "dun_rights_provisioning",
            groups="base.group_user,base.group_partner_manager,isp_dunning.group_dunning_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.action = cls.env["ir.actions.server"].create(
            {
                "name": "Suspend line",
                "model_id": cls.env["ir.model"]._get_id("isp.dunning.notice"),
                "state": "code",
                "code": "record.partner_id.write({'ref': '%s su=%s' % (env.user.login, env.su)})",
            }
        )

    def test_dunning_manager_cannot_set_a_level_action(self):
        self.company.dunning_action_user_id = self.provisioning
        level = self.level_4.with_user(self.manager)
        with self.assertRaises(AccessError):
            level.write({"server_action_id": self.action.id})
        self.assertFalse(self.level_4.server_action_id)
        # The rest of the level stays theirs to configure.
        level.write({"fee_amount": 2.5})
        self.assertEqual(self.level_4.fee_amount, 2.5)

    def test_dunning_manager_cannot_set_the_release_action_or_its_user(self):
        company = self.company.with_user(self.manager)
        with self.assertRaises(AccessError):
            company.write({"dunning_release_action_id": self.action.id})
        with self.assertRaises(AccessError):
            company.write({"dunning_action_user_id": self.manager.id})
        self.assertFalse(self.company.dunning_release_action_id)

    def test_settings_administrator_sets_an_action_with_its_user(self):
        admin = new_test_user(
            self.env,
            "dun_rights_admin",
            groups="base.group_system,account.group_account_manager",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        with self.assertRaises(ValidationError):
            self.level_4.with_user(admin).write({"server_action_id": self.action.id})
        self.company.with_user(admin).dunning_action_user_id = self.provisioning
        self.level_4.with_user(admin).write({"server_action_id": self.action.id})
        self.assertEqual(self.level_4.server_action_id, self.action)

    def test_action_user_must_be_internal_with_the_company(self):
        portal = new_test_user(self.env, "dun_rights_portal", groups="base.group_portal")
        with self.assertRaises(ValidationError):
            self.company.dunning_action_user_id = portal
        self.level_4.server_action_id = False
        self.company.dunning_action_user_id = self.provisioning
        self.level_4.server_action_id = self.action
        with self.assertRaises(ValidationError):
            self.company.dunning_action_user_id = False

    def test_level_action_runs_as_the_provisioning_user(self):
        self.company.dunning_action_user_id = self.provisioning
        self.level_1.server_action_id = self.action
        self.make_invoice(self.business, 150.0, date(2025, 1, 1))
        self.dun(date(2025, 1, 8))
        self.assertEqual(self.business.ref, "dun_rights_provisioning su=False")

    @mute_logger(
        "odoo.addons.base.models.ir_actions", "odoo.addons.isp_dunning.models.isp_dunning_run"
    )
    def test_level_action_cannot_exceed_the_users_rights(self):
        """A provisioning user without the right to change contacts cannot
        have an action change one: the booking of that customer fails
        visibly instead of running as superuser."""
        self.provisioning.groups_id = [
            Command.unlink(self.env.ref("base.group_partner_manager").id)
        ]
        self.company.dunning_action_user_id = self.provisioning
        self.level_1.server_action_id = self.action
        self.make_invoice(self.business, 150.0, date(2025, 1, 1))
        run = self.dun(date(2025, 1, 8))
        self.assertFalse(self.business.ref)
        self.assertEqual(run.error_count, 1)
        self.assertIn("left to the next run", run.log)
        self.assertFalse(self.Notice.search([("partner_id", "=", self.business.id)]))
