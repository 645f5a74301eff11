from datetime import date, datetime, timedelta

from odoo import Command
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from ..services import working_calendar
from ..services.notice_context import render_level
from .common import DunningCommon

# Due on a Saturday: with the test ladder (7, then 14 days after each
# notice) the notices fall on Saturdays, the blocking one on 22.02.2025.
DUE = date(2025, 1, 4)
LADDER_DAYS = (7, 21, 35)
SATURDAY = date(2025, 2, 22)
SUNDAY = date(2025, 2, 23)
MONDAY = date(2025, 2, 24)
TUESDAY = date(2025, 2, 25)


@tagged("post_install", "-at_install")
class TestWorkingDays(DunningCommon):
    """A portal block and the provisioning action of a blocking level start
    only on a working day of the company's calendar."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.calendar = cls.env["resource.calendar"].create(
            {"name": "Mo-Fr Berlin", "tz": "Europe/Berlin", "company_id": cls.company.id}
        )
        cls.company.resource_calendar_id = cls.calendar
        contact = cls.env["res.partner"].create(
            {"name": "Anna Einkauf", "parent_id": cls.business.id, "email": "anna@firma.example"}
        )
        cls.business_user = new_test_user(
            cls.env,
            "anna.workday",
            groups="base.group_portal",
            partner_id=contact.id,
            name=contact.name,
            email=contact.email,
        )
        cls.company.dunning_action_user_id = new_test_user(
            cls.env,
            "workday_provisioning",
            groups="base.group_user,base.group_partner_manager,isp_dunning.group_dunning_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.level_4.server_action_id = cls.env["ir.actions.server"].create(
            {
                "name": "Suspend line",
                "model_id": cls.env["ir.model"]._get_id("isp.dunning.notice"),
                "state": "code",
                "code": "record.partner_id.write({'ref': 'suspended'})",
            }
        )

    def holiday(self, day, name="Feiertag"):
        """A public holiday of the company calendar (time off without a
        resource), all day in Berlin time."""
        start = datetime.combine(day, datetime.min.time()) - timedelta(hours=1)
        return self.env["resource.calendar.leaves"].create(
            {
                "name": name,
                "calendar_id": self.calendar.id,
                "date_from": start,
                "date_to": start + timedelta(hours=23, minutes=59, seconds=59),
            }
        )

    def escalate_to_the_final_notice(self):
        self.make_invoice(self.business, 150.0, DUE)
        for days in LADDER_DAYS:
            self.dun(DUE + timedelta(days=days))
        self.dun(SATURDAY)
        notice = self.notices_of(self.business)[-1]
        self.assertEqual(notice.level_id, self.level_4)
        return notice

    def assertNotBlocked(self, notice):
        self.assertFalse(self.business.dunning_portal_blocked)
        self.assertFalse(self.business_user.dunning_blocked)
        self.assertFalse(notice.portal_block)
        self.assertFalse(self.business.ref, "no provisioning action on a day off")

    def assertBlockedBy(self, notice, day):
        self.assertTrue(self.business.dunning_portal_blocked)
        self.assertTrue(self.business_user.dunning_blocked)
        self.assertTrue(notice.portal_block)
        self.assertEqual(self.business.ref, "suspended")
        self.assertIn(
            f"Portal blocked on {day:%m/%d/%Y}: the block waited for a working day",
            " | ".join(notice.message_ids.mapped("body")),
        )

    def test_block_due_on_a_saturday_happens_on_monday(self):
        notice = self.escalate_to_the_final_notice()
        self.assertNotBlocked(notice)
        self.assertTrue(notice.portal_block_postponed)
        self.assertEqual(notice.portal_block_workday, MONDAY)
        self.assertEqual(
            notice.portal_block_note,
            "Portal block postponed to the next working day, 02/24/2025: 02/22/2025 is not a "
            "working day of the company.",
        )
        self.assertIn(
            "Portal block postponed to the next working day",
            " | ".join(notice.message_ids.mapped("body")),
        )
        self.dun(SUNDAY)
        self.assertNotBlocked(notice)
        self.dun(MONDAY)
        self.assertBlockedBy(notice, MONDAY)

    def test_block_due_before_a_public_holiday_happens_the_day_after(self):
        self.holiday(MONDAY)
        # Time off of another calendar is not a holiday of this one.
        other = self.env["resource.calendar"].create({"name": "Shop", "tz": "Europe/Berlin"})
        self.holiday(TUESDAY, "Shop closed").calendar_id = other
        notice = self.escalate_to_the_final_notice()
        self.assertEqual(notice.portal_block_workday, TUESDAY)
        self.dun(MONDAY)
        self.assertNotBlocked(notice)
        self.dun(TUESDAY)
        self.assertBlockedBy(notice, TUESDAY)

    def test_company_without_calendar_blocks_on_any_day(self):
        self.company.resource_calendar_id = False
        notice = self.escalate_to_the_final_notice()
        self.assertTrue(notice.portal_block)
        self.assertFalse(notice.portal_block_postponed)
        self.assertFalse(notice.portal_block_workday)
        self.assertTrue(self.business_user.dunning_blocked)
        self.assertEqual(self.business.ref, "suspended")

    def test_announced_block_date_is_a_working_day(self):
        # The second notice (announces the block) of 08.02.2025: 14 days
        # later is Saturday 22.02.; the notice announces Monday, or Tuesday
        # when that Monday is a public holiday.
        self.make_invoice(self.business, 150.0, DUE)
        for days in LADDER_DAYS:
            self.dun(DUE + timedelta(days=days))
        notice = self.notices_of(self.business)[-1]
        self.assertEqual(notice.level_id, self.level_3)
        self.assertEqual(notice._render_context()["notice"]["portal_block_date"], MONDAY)
        self.holiday(MONDAY)
        self.assertEqual(notice._render_context()["notice"]["portal_block_date"], TUESDAY)
        self.company.resource_calendar_id = False
        self.assertEqual(notice._render_context()["notice"]["portal_block_date"], SATURDAY)

    def test_delivered_notice_names_the_working_day(self):
        # Delivery renders a batch with the calendar read once per company:
        # the stored text names the same working day as the notice alone.
        self.level_3.body_text_template = "Block from {{ notice.portal_block_date.isoformat() }}"
        self.holiday(MONDAY)
        self.make_invoice(self.business, 150.0, DUE)
        for days in LADDER_DAYS:
            self.dun(DUE + timedelta(days=days))
        notice = self.notices_of(self.business)[-1]
        self.assertEqual(notice.level_id, self.level_3)
        self.assertEqual(notice.body_text, f"Block from {TUESDAY.isoformat()}")
        notice.write({"subject": False, "body_text": False, "body_html": False})
        self.company.resource_calendar_id = False
        notice._render_and_store()
        self.assertEqual(notice.body_text, f"Block from {SATURDAY.isoformat()}")

    def test_calendar_read_as_plain_data(self):
        self.holiday(MONDAY)
        calendar = working_calendar.read_calendar(self.company, SATURDAY)
        self.assertEqual(calendar.weekdays, frozenset(range(5)))
        self.assertEqual(calendar.holidays, frozenset({MONDAY}))
        self.assertEqual(calendar.next_working_day(SATURDAY), TUESDAY)
        self.assertTrue(calendar.is_working_day(date(2025, 2, 21)))
        # A holiday after the period read is not part of it.
        far = working_calendar.read_calendar(self.company, date(2024, 1, 1), days=30)
        self.assertEqual(far.holidays, frozenset())

    def test_provisioning_action_of_another_level_waits_for_a_working_day(self):
        self.level_2.server_action_id = self.env["ir.actions.server"].create(
            {
                "name": "Throttle line",
                "model_id": self.env["ir.model"]._get_id("isp.dunning.notice"),
                "state": "code",
                "code": "record.partner_id.write({'comment': 'throttled'})",
            }
        )
        self.make_invoice(self.business, 150.0, DUE)
        self.dun(DUE + timedelta(days=7))
        self.dun(date(2025, 1, 25))  # Saturday: the first notice
        notice = self.notices_of(self.business)[-1]
        self.assertEqual(notice.level_id, self.level_2)
        self.assertFalse(self.business.comment)
        self.assertEqual(notice.action_workday, date(2025, 1, 27))
        self.assertIn(
            "Provisioning action postponed to the next working day, 01/27/2025",
            " | ".join(notice.message_ids.mapped("body")),
        )
        self.dun(date(2025, 1, 26))
        self.assertFalse(self.business.comment, "Sunday")
        self.dun(date(2025, 1, 27))
        self.assertIn("throttled", self.business.comment)
        self.assertFalse(notice.action_workday)
        self.assertIn(
            "Provisioning action run on 01/27/2025",
            " | ".join(notice.message_ids.mapped("body")),
        )
        # Done once: a later run does not run it again.
        self.business.comment = False
        self.dun(date(2025, 1, 28))
        self.assertFalse(self.business.comment)

    def test_provisioning_action_on_a_working_day_runs_at_once(self):
        self.level_2.server_action_id = self.env["ir.actions.server"].create(
            {
                "name": "Throttle line",
                "model_id": self.env["ir.model"]._get_id("isp.dunning.notice"),
                "state": "code",
                "code": "record.partner_id.write({'comment': 'throttled'})",
            }
        )
        self.make_invoice(self.business, 150.0, date(2025, 1, 6))  # a Monday
        self.dun(date(2025, 1, 13))
        self.dun(date(2025, 1, 27))  # Monday: the first notice
        notice = self.notices_of(self.business)[-1]
        self.assertEqual(notice.level_id, self.level_2)
        self.assertIn("throttled", self.business.comment)
        self.assertFalse(notice.action_workday)

    @mute_logger("odoo.addons.isp_dunning.services.portal_blocking")
    def test_failing_postponed_action_is_logged_and_tried_again(self):
        self.level_2.server_action_id = self.env["ir.actions.server"].create(
            {
                "name": "Throttle line",
                "model_id": self.env["ir.model"]._get_id("isp.dunning.notice"),
                "state": "code",
                "code": "raise UserError('provisioning system down')",
            }
        )
        self.make_invoice(self.business, 150.0, DUE)
        self.dun(DUE + timedelta(days=7))
        self.dun(date(2025, 1, 25))  # Saturday
        notice = self.notices_of(self.business)[-1]
        run = self.dun(date(2025, 1, 27))
        self.assertEqual(run.state, "done")
        self.assertIn(
            "The postponed provisioning action failed: provisioning system down",
            " | ".join(notice.message_ids.mapped("body")),
        )
        self.assertEqual(notice.action_workday, date(2025, 1, 27), "tried again")

    def test_final_notice_says_the_day_of_the_block(self):
        # The shipped final notice, due on a Saturday: its texts name Monday,
        # the day the block takes effect, in English and in German.
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"]._load_module_terms(["isp_dunning"], ["de_DE"], overwrite=True)
        shipped = self.env.ref("isp_dunning.level_final").sudo()
        for lang in ("en_US", "de_DE"):
            texts = shipped.with_context(lang=lang).read(
                [
                    "subject_template",
                    "body_text_template",
                    "body_html_template",
                    "letter_text_template",
                ]
            )[0]
            self.level_4.with_context(lang=lang).write(
                {key: value for key, value in texts.items() if key != "id"}
            )
        notice = self.escalate_to_the_final_notice()
        self.assertEqual(notice.portal_block_workday, MONDAY)
        context = notice._render_context()
        self.assertEqual(context["notice"]["portal_block_from"], MONDAY)
        self.assertIn(
            "your customer portal access will be blocked on 02/24/2025.", notice.body_text
        )
        self.assertIn("will be blocked on 02/24/2025", notice.body_html)
        self.assertNotIn("has been blocked", notice.body_text)
        self.assertTrue(notice.subject.startswith("Final notice: access blocked from 02/24/2025"))
        # (the dates in the format of the customer's language, here English)
        german = render_level(self.level_4.with_context(lang="de_DE"), context)
        self.assertIn("sperren wir Ihren Kundenzugang am 02/24/2025.", german["body_text"])
        self.assertTrue(
            german["subject"].startswith("Letzte Mahnung: Zugang gesperrt ab 02/24/2025")
        )
        # Once blocked on Monday the notice still names Monday; a block on a
        # day of its own (no calendar: any day) says it is done; a block the
        # consumer guard postponed names no day.
        self.dun(MONDAY)
        self.assertEqual(notice._render_context()["notice"]["portal_block_from"], MONDAY)
        notice.portal_block_workday = False
        self.company.resource_calendar_id = False
        parts = render_level(self.level_4, notice._render_context())
        self.assertIn("your customer portal access has been blocked.", parts["body_text"])
        self.assertTrue(parts["subject"].startswith("Final notice: access blocked - "))
        notice.write({"portal_block": False, "portal_block_postponed": True})
        self.assertIsNone(notice._render_context()["notice"]["portal_block_from"])
        parts = render_level(self.level_4, notice._render_context())
        self.assertIn("we will block your customer portal access.", parts["body_text"])
        self.assertTrue(parts["subject"].startswith("Final notice: access to be blocked - "))
