from datetime import date

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestAccess(DunningCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.make_invoice(cls, cls.consumer, 10.0, date(2025, 1, 1))
        cls.Run.run_dunning(date=date(2025, 1, 8))
        cls.notice = cls.Notice.search([("partner_id", "=", cls.consumer.id)])
        company = cls.company
        cls.billing = new_test_user(
            cls.env, "dun_billing", groups="account.group_account_invoice", company_id=company.id
        )
        cls.manager = new_test_user(
            cls.env, "dun_manager", groups="account.group_account_manager", company_id=company.id
        )
        cls.internal = new_test_user(
            cls.env, "dun_internal", groups="base.group_user", company_id=company.id
        )
        cls.portal = new_test_user(
            cls.env, "dun_portal", groups="base.group_portal", company_id=company.id
        )
        other = cls.setup_other_company()["company"]
        cls.other_accountant = new_test_user(
            cls.env,
            "dun_other",
            groups="account.group_account_manager",
            company_id=other.id,
            company_ids=[(6, 0, other.ids)],
        )

    def test_portal_and_internal_see_nothing(self):
        for user in (self.portal, self.internal):
            for model in ("isp.dunning.level", "isp.dunning.notice", "isp.dunning.run"):
                with self.assertRaises(AccessError, msg=f"{user.login} {model}"):
                    self.env[model].with_user(user).search([])

    def test_billing_user_reads_and_previews(self):
        Notice = self.env["isp.dunning.notice"].with_user(self.billing)
        self.assertEqual(Notice.search([("id", "=", self.notice.id)]), self.notice)
        with self.assertRaises(AccessError):
            self.level_1.with_user(self.billing).write({"fee_amount": 9.0})
        preview = (
            self.env["isp.dunning.run"]
            .with_user(self.billing)
            .run_dunning(date=date(2025, 1, 30), dry_run=True)
        )
        self.assertEqual(preview.state, "done")
        with self.assertRaises(AccessError):
            self.env["isp.dunning.run"].with_user(self.billing).run_dunning(date=date(2025, 1, 30))

    def test_manager_configures_and_runs(self):
        level = self.level_1.with_user(self.manager)
        level.fee_amount = 0.5
        self.assertEqual(self.level_1.fee_amount, 0.5)
        run = (
            self.env["isp.dunning.run"].with_user(self.manager).run_dunning(date=date(2025, 1, 22))
        )
        self.assertEqual(run.notice_count, 1)

    def test_other_company_sees_nothing(self):
        Notice = self.env["isp.dunning.notice"].with_user(self.other_accountant)
        self.assertFalse(Notice.search([]))
        Level = self.env["isp.dunning.level"].with_user(self.other_accountant)
        self.assertNotIn(self.level_1, Level.search([]))
