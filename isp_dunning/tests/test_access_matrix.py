from contextlib import closing
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import D, DunningCommon

RUN_LOGGER = "odoo.addons.isp_dunning.models.isp_dunning_run"
OPERATIONS = ("read", "write", "create", "unlink")
MODELS = (
    "isp.dunning.level",
    "isp.dunning.notice",
    "isp.dunning.notice.line",
    "isp.dunning.run",
    "isp.dunning.base.rate",
    "isp.dunning.preview.wizard",
)
ROLES = ("portal", "internal", "dunning_user", "dunning_manager", "billing", "other_accountant")


def rights(letters):
    """'rw--' -> {'read': True, 'write': True, 'create': False, 'unlink': False}"""
    return {op: flag != "-" for op, flag in zip(OPERATIONS, letters, strict=True)}


# Model-level rights (ir.model.access), letters in the order read, write,
# create, unlink.
_READER = {
    "isp.dunning.level": "r---",
    "isp.dunning.notice": "r---",
    "isp.dunning.notice.line": "r---",
    # The preview is a run: users create preview runs; only the run writes them.
    "isp.dunning.run": "r-c-",
    "isp.dunning.base.rate": "r---",
    "isp.dunning.preview.wizard": "rwc-",
}
MODEL_RIGHTS = {
    "portal": dict.fromkeys(MODELS, "----"),
    "internal": dict.fromkeys(MODELS, "----"),
    "dunning_user": _READER,
    "dunning_manager": dict.fromkeys(MODELS, "rwcu"),
    # account.group_account_invoice implies Dunning User.
    "billing": _READER,
    # account.group_account_manager implies Dunning Manager; the record rules
    # below keep this company's data away from it.
    "other_accountant": dict.fromkeys(MODELS, "rwcu"),
}

# What a role may do to this company's existing records (record rules
# included), letters in the order read, write, unlink.
RECORD_MODELS = MODELS[:-1]  # wizards are private to their creator, see below
_RECORD_READER = {
    "isp.dunning.level": "r--",
    "isp.dunning.notice": "r--",
    "isp.dunning.notice.line": "r--",
    "isp.dunning.run": "r--",
    "isp.dunning.base.rate": "r--",
}
RECORD_RIGHTS = {
    "portal": dict.fromkeys(RECORD_MODELS, "---"),
    "internal": dict.fromkeys(RECORD_MODELS, "---"),
    "dunning_user": _RECORD_READER,
    "dunning_manager": dict.fromkeys(RECORD_MODELS, "rwu"),
    "billing": _RECORD_READER,
    "other_accountant": {
        "isp.dunning.level": "---",
        "isp.dunning.notice": "---",
        "isp.dunning.notice.line": "---",
        "isp.dunning.run": "---",
        # Base rates are law, shared by all companies.
        "isp.dunning.base.rate": "rwu",
    },
}

# What a role can run on this company's data.
ACTIONS = ("preview_run", "real_run", "cancel", "retry", "print_letters", "preview_wizard")
ACTION_RIGHTS = {
    "portal": dict.fromkeys(ACTIONS, False),
    "internal": dict.fromkeys(ACTIONS, False),
    "dunning_user": {
        "preview_run": True,
        "real_run": False,
        "cancel": False,
        "retry": False,
        "print_letters": False,
        "preview_wizard": True,
    },
    "dunning_manager": dict.fromkeys(ACTIONS, True),
    "billing": {
        "preview_run": True,
        "real_run": False,
        "cancel": False,
        "retry": False,
        "print_letters": False,
        "preview_wizard": True,
    },
    "other_accountant": dict.fromkeys(ACTIONS, False),
}


@tagged("post_install", "-at_install")
class TestAccessMatrix(DunningCommon):
    """Who may read, create, change, delete and run what, role by role."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.company
        letter_customer = cls.env["res.partner"].create({"name": "Brief Kunde", "street": "Weg 1"})
        for partner in (cls.consumer, cls.business, letter_customer):
            cls.make_invoice(cls, partner, 100.0, D(2025, 1, 1))
        cls.first_run = cls.Run.run_dunning(date=D(2025, 1, 8))
        cls.notice = cls.Notice.search([("partner_id", "=", cls.consumer.id)])
        cls.letter = cls.Notice.search([("partner_id", "=", letter_customer.id)])
        cls.failed = cls.Notice.search([("partner_id", "=", cls.business.id)])
        cls.failed.write({"state": "error", "error_message": "Mailbox full"})
        cls.records = {
            "isp.dunning.level": cls.level_1,
            "isp.dunning.notice": cls.notice,
            "isp.dunning.notice.line": cls.notice.line_ids,
            "isp.dunning.run": cls.first_run,
            "isp.dunning.base.rate": cls.env["isp.dunning.base.rate"].search([], limit=1),
        }
        # A harmless change per model for the write check.
        cls.changes = {
            "isp.dunning.level": {"fee_amount": 0.0},
            "isp.dunning.notice": {"error_message": "checked"},
            "isp.dunning.notice.line": {"interest_detail": "checked"},
            "isp.dunning.run": {"log": "checked"},
            "isp.dunning.base.rate": {"note": "checked"},
        }
        cls.other = cls.setup_other_company(name="Andere Firma GmbH")["company"]
        own = {"company_id": company.id, "company_ids": [(6, 0, company.ids)]}
        cls.users = {
            "portal": new_test_user(cls.env, "mx_portal", groups="base.group_portal", **own),
            "internal": new_test_user(cls.env, "mx_internal", groups="base.group_user", **own),
            "dunning_user": new_test_user(
                cls.env,
                "mx_dunning_user",
                groups="base.group_user,isp_dunning.group_dunning_user",
                **own,
            ),
            "dunning_manager": new_test_user(
                cls.env,
                "mx_dunning_manager",
                groups="base.group_user,isp_dunning.group_dunning_manager,"
                "account.group_account_invoice",
                **own,
            ),
            "billing": new_test_user(
                cls.env, "mx_billing", groups="account.group_account_invoice", **own
            ),
            "other_accountant": new_test_user(
                cls.env,
                "mx_other",
                groups="account.group_account_manager",
                company_id=cls.other.id,
                company_ids=[(6, 0, cls.other.ids)],
            ),
        }

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    def as_role(self, role, model):
        """``model`` as the role's user, in that user's own companies."""
        user = self.users[role]
        return (
            self.env[model]
            .with_user(user)
            .with_context(allowed_company_ids=(user.company_id | user.company_ids).ids)
        )

    def attempt(self, action):
        """Whether ``action`` runs without an access error; undone either way."""
        with closing(self.env.cr.savepoint()):
            try:
                action()
            except AccessError:
                return False
            return True

    # ------------------------------------------------------------------
    # Model and record rights
    # ------------------------------------------------------------------
    def test_model_rights(self):
        for role in ROLES:
            for model in MODELS:
                expected = rights(MODEL_RIGHTS[role][model])
                for operation in OPERATIONS:
                    with self.subTest(role=role, model=model, operation=operation):
                        Model = self.as_role(role, model)
                        self.assertEqual(Model.has_access(operation), expected[operation])
                        if not expected[operation]:
                            with self.assertRaises(AccessError):
                                Model.check_access(operation)

    def test_record_rights(self):
        for role in ROLES:
            for model in RECORD_MODELS:
                record = self.records[model]
                read, write, unlink = (flag != "-" for flag in RECORD_RIGHTS[role][model])
                Model = self.as_role(role, model)
                with self.subTest(role=role, model=model, operation="read"):
                    if read:
                        self.assertEqual(Model.search([("id", "in", record.ids)]), record)
                        self.assertTrue(record.with_env(Model.env).has_access("read"))
                    else:
                        self.assertTrue(self._sees_nothing(Model, record))
                with self.subTest(role=role, model=model, operation="write"):
                    self.assertEqual(record.with_env(Model.env).has_access("write"), write)
                    self.assertEqual(
                        self.attempt(
                            lambda Model=Model, record=record, model=model: record.with_env(
                                Model.env
                            ).write(self.changes[model])
                        ),
                        write,
                    )
                with self.subTest(role=role, model=model, operation="unlink"):
                    # Only the right: notices have business rules of their own.
                    self.assertEqual(record.with_env(Model.env).has_access("unlink"), unlink)

    def _sees_nothing(self, Model, record):
        """The record is neither found nor readable."""
        try:
            found = Model.search([("id", "in", record.ids)])
        except AccessError:
            found = Model.browse()
        with self.assertRaises(AccessError):
            record.with_env(Model.env).read(["id"])
        return not found

    def test_preview_wizard_records(self):
        # Wizards have no company: each role works on the previews it creates.
        for role in ROLES:
            expected = rights(MODEL_RIGHTS[role]["isp.dunning.preview.wizard"])
            Wizard = self.as_role(role, "isp.dunning.preview.wizard")
            with self.subTest(role=role):
                # The other company's accountant may create previews, but not of
                # this company's levels.
                if not expected["create"] or role == "other_accountant":
                    with self.assertRaises(AccessError):
                        Wizard.create({"level_id": self.level_1.id}).read(["subject"])
                    continue
                wizard = Wizard.create({"level_id": self.level_1.id})
                self.assertTrue(wizard.subject)
                self.assertFalse(wizard.error)
                wizard.write({"date": D(2025, 2, 1)})
                self.assertEqual(Wizard.search([("id", "=", wizard.id)]), wizard)
                self.assertEqual(wizard.has_access("unlink"), expected["unlink"])

    # ------------------------------------------------------------------
    # What a role can run
    # ------------------------------------------------------------------
    def _actions(self, role):
        Run = self.as_role(role, "isp.dunning.run").with_company(self.company)
        Notice = self.as_role(role, "isp.dunning.notice").with_company(self.company)

        def preview_run():
            run = Run.run_dunning(date=D(2025, 1, 30), dry_run=True)
            self.assertEqual((run.sudo().state, run.sudo().dry_run), ("done", True))

        def real_run():
            run = Run.run_dunning(date=D(2025, 1, 30))
            self.assertEqual((run.sudo().state, run.sudo().dry_run), ("done", False))
            self.assertEqual(run.sudo().notice_count, 3)

        def cancel():
            self.notice.with_env(Notice.env).action_cancel()
            self.assertEqual(self.notice.state, "cancelled")

        def retry():
            self.failed.with_env(Notice.env).action_retry()
            self.assertEqual(self.failed.state, "to_send")

        def print_letters():
            # Test mode renders HTML, not PDF: the merge itself is not the point here.
            with patch.object(type(self.Notice), "_merged_letters_pdf", lambda self: b"%PDF-1.4"):
                self.assertTrue(self.letter.with_env(Notice.env).action_print_letters())
            self.assertEqual(self.letter.state, "printed")

        def preview_wizard():
            Wizard = self.as_role(role, "isp.dunning.preview.wizard").with_company(self.company)
            wizard = Wizard.create({"level_id": self.level_2.id})
            self.assertTrue(wizard.subject)
            self.assertFalse(wizard.error)

        return {
            "preview_run": preview_run,
            "real_run": real_run,
            "cancel": cancel,
            "retry": retry,
            "print_letters": print_letters,
            "preview_wizard": preview_wizard,
        }

    @mute_logger(RUN_LOGGER)
    def test_actions(self):
        for role in ROLES:
            actions = self._actions(role)
            for name in ACTIONS:
                with self.subTest(role=role, action=name):
                    self.assertEqual(self.attempt(actions[name]), ACTION_RIGHTS[role][name])
                    self.assertEqual(self.notice.state, "to_send", "undone")

    # ------------------------------------------------------------------
    # Companies and portal
    # ------------------------------------------------------------------
    def test_other_company_sees_nothing(self):
        user = self.users["other_accountant"]
        self.assertTrue(user.has_group("isp_dunning.group_dunning_manager"), "the right groups")
        for model in RECORD_MODELS[:-1]:
            with self.subTest(model=model):
                Model = self.as_role("other_accountant", model)
                self.assertFalse(
                    Model.search([("company_id", "=", self.company.id)]), "record rules"
                )
                self.assertTrue(self._sees_nothing(Model, self.records[model]))
        # Its own company has no ladder yet; this company's does not count.
        Run = self.as_role("other_accountant", "isp.dunning.run")
        with (
            mute_logger(RUN_LOGGER),
            self.assertRaisesRegex(UserError, "Andere Firma GmbH has no dunning levels"),
            self.env.cr.savepoint(),
        ):
            Run.run_dunning(date=D(2025, 1, 30))
        # Nor can it switch to this company.
        with self.assertRaisesRegex(AccessError, "unauthorized or invalid companies"):
            Run.with_company(self.company).run_dunning(date=D(2025, 1, 30), dry_run=True)

    def test_portal_sees_nothing(self):
        for model in MODELS:
            with self.subTest(model=model):
                Model = self.as_role("portal", model)
                with self.assertRaises(AccessError):
                    Model.search([])
                with self.assertRaises(AccessError):
                    Model.search_count([])
        for model in RECORD_MODELS:
            with self.subTest(model=model, record=True):
                with self.assertRaises(AccessError):
                    self.records[model].with_user(self.users["portal"]).read(["display_name"])
