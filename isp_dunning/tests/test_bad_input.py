import re
from unittest.mock import patch

from psycopg2 import IntegrityError

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import D, DunningCommon

RUN_LOGGER = "odoo.addons.isp_dunning.models.isp_dunning_run"
LEVEL = "isp.dunning.level"
BASE_RATE = "isp.dunning.base.rate"


@tagged("post_install", "-at_install")
class TestBadInput(DunningCommon):
    """Every invalid input is refused with a message that names the problem
    (or, for a run, logged against the customer concerned), and leaves the
    data as it was."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.BaseRate = cls.env[BASE_RATE]
        cls.Wizard = cls.env["isp.dunning.preview.wizard"]
        cls.other_data = cls.setup_other_company(name="Andere Firma GmbH")
        cls.other = cls.other_data["company"]

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    def assertWriteRejected(self, records, vals, message, error=ValidationError):
        """The write fails with ``message`` and ``records`` keep their values."""
        # account.move.write() adds keys to vals: remember the names first.
        names = list(vals)
        before = records.read(names)
        with self.assertRaisesRegex(error, message), self.env.cr.savepoint():
            records.write(vals)
            records.flush_recordset()
        records.invalidate_recordset()
        self.assertEqual(records.read(names), before, "data unchanged")

    def assertCreateRejected(self, model, vals, message, error=ValidationError):
        """The create fails with ``message`` and no record is added."""
        Model = self.env[model].with_context(active_test=False)
        count = Model.search_count([])
        with self.assertRaisesRegex(error, message), self.env.cr.savepoint():
            Model.create(vals)
            self.env.flush_all()
        self.assertEqual(Model.search_count([]), count, "nothing created")

    def assertSettingsRejected(self, vals, message):
        """Saving the settings form fails and the company keeps its values
        (the settings fields have the company fields' names)."""
        before = self.company.read(list(vals))
        with self.assertRaisesRegex(ValidationError, message), self.env.cr.savepoint():
            self.env["res.config.settings"].create(vals).execute()
            self.env.flush_all()
        self.company.invalidate_recordset()
        self.assertEqual(self.company.read(list(vals)), before, "settings unchanged")

    def assertLoadRejected(self, model, fields, rows, message):
        """An import with a bad row reports ``message`` as an error and
        imports none of the rows, not even the good ones."""
        Model = self.env[model].with_context(active_test=False)
        count = Model.search_count([])
        # A missing required value reaches the database as NOT NULL violation.
        with mute_logger("odoo.sql_db"):
            result = self.env[model].load(fields, rows)
        errors = [m["message"] for m in result["messages"] if m["type"] == "error"]
        self.assertFalse(result["ids"], errors)
        self.assertTrue(any(re.search(message, error) for error in errors), errors)
        self.assertEqual(Model.search_count([]), count, "nothing imported")

    def _letter_customer(self):
        # Without any email address the notice goes by post.
        return self.env["res.partner"].create({"name": "Brief Kunde", "street": "Weg 1"})

    # ------------------------------------------------------------------
    # Levels
    # ------------------------------------------------------------------
    def test_level_values_on_create(self):
        cases = [
            ({"delay_days": -3}, r"Level 'Level 5': the delay (cannot|must not) be negative"),
            ({"fee_amount": -0.01}, "Level 'Level 5': the dunning fee cannot be negative"),
            # Checked in every mode, so that switching to fixed cannot surprise.
            ({"interest_rate": -2.0}, "Level 'Level 5': the interest rate cannot be negative"),
            ({"interest_mode": "fixed"}, "enter the annual interest rate for the fixed"),
            ({"send_email": False}, "must be sent by email, by letter, or both"),
        ]
        for extra, message in cases:
            with self.subTest(extra=extra):
                self.assertCreateRejected(
                    LEVEL, self._level_vals("Level 5", 50, 14, "previous_level", **extra), message
                )

    def test_unknown_selection_values(self):
        self.assertWriteRejected(
            self.level_2,
            {"interest_mode": "compound"},
            "Wrong value for isp.dunning.level.interest_mode: 'compound'",
            ValueError,
        )
        self.assertWriteRejected(
            self.level_2,
            {"delay_basis": "weekly"},
            "Wrong value for isp.dunning.level.delay_basis: 'weekly'",
            ValueError,
        )

    def test_template_syntax_errors(self):
        cases = [
            (
                "body_text_template",
                "{% for invoice in invoices %}{{ invoice.number }}",
                "Text Body is not a valid template: Line 1: Unexpected end of template.*'endfor'",
            ),
            (
                "body_html_template",
                "<p>\n{% frobnicate %}</p>",
                "HTML Body is not a valid template: Line 2: Encountered unknown tag 'frobnicate'",
            ),
            (
                "subject_template",
                "Mahnung {{ notice.amount_total_due|euro }}",
                "Subject Template is not a valid template: Line 1: No filter named 'euro'",
            ),
            (
                "body_text_template",
                "Total: {{ notice.amount_open + }}",
                "Line 1: unexpected 'end of print statement'",
            ),
            (
                "body_html_template",
                "<p>Hallo</p>\n\n{% endif %}",
                "Line 3: Encountered unknown tag 'endif'",
            ),
            ("subject_template", "{% set %}Mahnung", "Line 1: Expected an expression"),
        ]
        for field_name, source, message in cases:
            with self.subTest(source=source):
                self.assertWriteRejected(self.level_1, {field_name: source}, message)

    def test_cc_and_bcc_lists(self):
        cases = [
            ("cc_emails", "kasse@localhost", "CC: 'kasse@localhost' is not a valid email"),
            ("cc_emails", "ok@firma.example, bh@@firma.example", "'bh@@firma.example' is not"),
            (
                "bcc_emails",
                "Chef <chef@firma.example",
                "BCC: 'Chef <chef@firma.example' is not a valid email",
            ),
            ("bcc_emails", "max mustermann@firma.example", "'max mustermann@firma.example'"),
        ]
        for field_name, value, message in cases:
            with self.subTest(value=value):
                self.assertWriteRejected(self.level_2, {field_name: value}, message)

    def test_ladder_problems(self):
        # Placed after the first level but reached before it.
        self.assertCreateRejected(
            LEVEL,
            self._level_vals("Early", 15, 5, "due_date"),
            r"'Early' is reached 5 days after the due date, which is not later than "
            r"level 'Reminder' \(7 days\)",
        )
        # A step after the previous level needs at least one day.
        self.assertCreateRejected(
            LEVEL,
            self._level_vals("Same day", 50, 0, "previous_level"),
            "'Same day': a step after the previous level must take at least one day",
        )
        # Moving the final notice in front of the first reminder.
        self.assertWriteRejected(
            self.level_4, {"sequence": 5}, "not later than level 'Final notice' \\(14 days\\)"
        )
        # An archived level is not part of the ladder, so it may not fit ...
        old = self.Level.create(self._level_vals("Old reminder", 25, 10, "due_date", active=False))
        # ... until it is reactivated.
        self.assertWriteRejected(
            old,
            {"active": True},
            r"'Old reminder' is reached 10 days after the due date, which is not later "
            r"than level 'First notice' \(21 days\)",
        )

    def test_archiving_a_level_in_use(self):
        invoice = self.make_invoice(self.consumer, 100.0, D(2025, 1, 1))
        self.dun(D(2025, 1, 8))
        self.assertEqual(invoice.dunning_level_id, self.level_1)
        # The run could not place the invoice any more: refused.
        self.assertWriteRejected(
            self.level_1,
            {"active": False},
            "Level 'Reminder' is the current level of 1 open invoices",
        )
        self.pay(invoice, 100.0, D(2025, 1, 10))
        self.level_1.action_archive()
        self.assertFalse(self.level_1.active, "once paid, the level may go")

    def test_collection_agency(self):
        Partner = self.env["res.partner"]
        no_mail = Partner.create({"name": "Inkasso Ost", "is_company": True})
        self.assertCreateRejected(
            LEVEL,
            self._level_vals(
                "Handover",
                50,
                14,
                "previous_level",
                collection_handover=True,
                collection_agency_id=no_mail.id,
            ),
            "The collection agency Inkasso Ost has no email address",
        )
        bad_mail = Partner.create({"name": "Inkasso Nord", "email": "fall at inkasso-nord"})
        self.assertWriteRejected(
            self.level_4,
            {"collection_handover": True, "collection_agency_id": bad_mail.id},
            "Inkasso Nord is not usable for the handover: 'fall at inkasso-nord' is not a valid",
        )
        foreign = Partner.create(
            {
                "name": "Inkasso Süd",
                "email": "fall@inkasso-sued.example",
                "company_id": self.other.id,
            }
        )
        self.assertWriteRejected(
            self.level_4,
            {"collection_handover": True, "collection_agency_id": foreign.id},
            "Incompatible companies",
            UserError,
        )

    # ------------------------------------------------------------------
    # Settings
    # ------------------------------------------------------------------
    def test_settings(self):
        data = self.company_data
        cases = [
            ({"dunning_tolerance": -0.5}, "The dunning tolerance cannot be negative"),
            ({"dunning_payment_days": -1}, "payment deadline of a notice cannot be negative"),
            ({"dunning_block_threshold": -1.0}, "The blocking threshold cannot be negative"),
            ({"dunning_block_notice_days": -7}, "block announcement period cannot be negative"),
            (
                {"dunning_journal_id": data["default_journal_purchase"].id},
                f"must be a sales journal of {re.escape(self.company.name)}",
            ),
            (
                {"dunning_journal_id": self.other_data["default_journal_sale"].id},
                f"must be a sales journal of {re.escape(self.company.name)}",
            ),
            (
                {"dunning_fee_account_id": self.other_data["default_account_revenue"].id},
                f"dunning fees, .* does not belong to {re.escape(self.company.name)}",
            ),
            (
                {"dunning_interest_account_id": data["default_account_receivable"].id},
                "The account for default interest, .* must be an income account",
            ),
        ]
        for vals, message in cases:
            with self.subTest(vals=vals):
                self.assertSettingsRejected(vals, message)

    def test_batch_size(self):
        # The batch size is a technical company value without a settings field.
        with self.assertRaisesRegex(ValueError, "Invalid field 'dunning_batch_size'"):
            self.env["res.config.settings"].create({"dunning_batch_size": 0})
        self.assertWriteRejected(
            self.company, {"dunning_batch_size": -10}, "batch size must be at least 1"
        )

    # ------------------------------------------------------------------
    # Base rates
    # ------------------------------------------------------------------
    def test_base_rates(self):
        rate = self.BaseRate.search([("date_from", "=", D(2024, 1, 1))])
        with mute_logger("odoo.sql_db"):
            self.assertWriteRejected(
                rate, {"date_from": D(2024, 7, 1)}, "date_from_unique", IntegrityError
            )
        self.assertCreateRejected(
            BASE_RATE,
            {"date_from": D(2026, 7, 1), "rate": -25.0},
            "valid from 2026-07-01 is -25.0 %, which is not plausible",
        )
        self.assertCreateRejected(
            BASE_RATE, {"date_from": D(2026, 7, 1), "rate": 50.5}, "is 50.5 %, which is not"
        )

    def test_base_rate_import(self):
        fields = ["date_from", "rate", "note"]
        good = ["2026-07-01", "1.27", "Bundesbank"]
        self.assertLoadRejected(
            BASE_RATE, fields, [good, ["2025-07-01", "1.00", ""]], "already exists|already a base"
        )
        self.assertLoadRejected(
            BASE_RATE, fields, [good, ["2027-01-01", "127", ""]], "127.0 %, which is not plausible"
        )
        # A German decimal comma is not a number for the import.
        self.assertLoadRejected(
            BASE_RATE, fields, [good, ["2027-01-01", "1,27", ""]], "'1,27' does not seem to be"
        )
        self.assertLoadRejected(BASE_RATE, fields, [good, ["", "1.5", ""]], "Missing required")
        result = self.BaseRate.load(fields, [good])
        self.assertEqual(len(result["ids"]), 1, result["messages"])
        self.assertEqual(self.BaseRate.browse(result["ids"]).rate, 1.27)

    # ------------------------------------------------------------------
    # Partners and invoices
    # ------------------------------------------------------------------
    def test_partner_dunning_email(self):
        self.assertWriteRejected(
            self.consumer, {"dunning_email": "max@example"}, "'max@example' is not a valid email"
        )
        self.assertWriteRejected(
            self.business,
            {"dunning_email": "Buchhaltung <bh@firma.example>; Chef <chef@firma.example>"},
            "Dunning email of Firma GmbH: enter exactly one address",
        )

    def test_invoice_pause(self):
        invoice = self.make_invoice(self.consumer, 40.0, D(2025, 1, 1))
        invoice.write({"dunning_blocked_until": D(2025, 2, 1), "dunning_block_reason": "promise"})
        # Clearing the reason of a running pause.
        self.assertWriteRejected(
            invoice, {"dunning_block_reason": False}, "say why dunning is paused"
        )
        self.assertWriteRejected(
            invoice,
            {"dunning_block_reason": "holiday"},
            "Wrong value for account.move.dunning_block_reason: 'holiday'",
            ValueError,
        )

    # ------------------------------------------------------------------
    # Notices
    # ------------------------------------------------------------------
    def test_delivered_notices_stay(self):
        letter_customer = self._letter_customer()
        self.make_invoice(self.consumer, 100.0, D(2025, 1, 1))
        self.make_invoice(letter_customer, 70.0, D(2025, 1, 1))
        self.dun(D(2025, 1, 8))
        email = self.notices_of(self.consumer)
        letter = self.notices_of(letter_customer)
        self.assertEqual((email.state, letter.state), ("to_send", "to_print"))

        # Queued is not draft: it may already be on its way.
        with self.assertRaisesRegex(UserError, "Only draft or cancelled notices can be deleted"):
            email.unlink()
        email.state = "sent"
        with self.assertRaisesRegex(UserError, "Only draft or cancelled notices can be deleted"):
            email.unlink()
        self.assertTrue(email.exists())

        # Test mode renders HTML, not PDF: the merge itself is not the point here.
        with patch.object(type(self.Notice), "_merged_letters_pdf", lambda self: b"%PDF-1.4"):
            letter.action_print_letters()
        self.assertEqual(letter.state, "printed")
        # Delivered notices can still be cancelled (test_cancellation), but
        # never deleted.
        with self.assertRaisesRegex(UserError, "Only draft or cancelled notices can be deleted"):
            letter.unlink()

        # Nothing is waiting to be printed: nothing to print, nothing changes.
        self.assertFalse((email | letter).action_print_letters())
        self.assertEqual((email.state, letter.state), ("sent", "printed"))
        # Only failed notices go back into the queue.
        mail = email.mail_id
        (email | letter).action_retry()
        self.assertEqual((email.state, letter.state), ("sent", "printed"))
        self.assertEqual(email.mail_id, mail)

    def test_notice_database_guards(self):
        self.make_invoice(self.consumer, 100.0, D(2025, 1, 1))
        self.dun(D(2025, 1, 8))
        notice = self.notices_of(self.consumer)
        with mute_logger("odoo.sql_db"):
            self.assertWriteRejected(
                notice, {"fee_amount": -1.5}, "amounts_positive", IntegrityError
            )
            # A second live notice for the customer on the same day.
            self.assertCreateRejected(
                "isp.dunning.notice",
                {
                    "company_id": self.company.id,
                    "partner_id": self.consumer.id,
                    "level_id": self.level_1.id,
                    "date": D(2025, 1, 8),
                    "currency_id": notice.currency_id.id,
                },
                "isp_dunning_notice_unique_per_day",
                IntegrityError,
            )

    # ------------------------------------------------------------------
    # The run
    # ------------------------------------------------------------------
    def test_run_of_a_company_without_levels(self):
        # This company's ladder does not count for the other company.
        count = self.Run.search_count([])
        with (
            mute_logger(RUN_LOGGER),
            self.assertRaisesRegex(
                UserError, f"{re.escape(self.other.name)} has no dunning levels; configure"
            ),
            self.env.cr.savepoint(),
        ):
            self.Run.with_company(self.other).run_dunning(date=D(2025, 1, 8))
        self.assertEqual(self.Run.search_count([]), count, "no run left behind")

    def test_run_with_archived_journal(self):
        journal = self.env["account.journal"].create(
            {"name": "Mahngebühren", "code": "MAHN", "type": "sale", "company_id": self.company.id}
        )
        self.company.dunning_journal_id = journal
        journal.action_archive()
        self.make_invoice(self.consumer, 100.0, D(2025, 1, 1))
        with (
            mute_logger(RUN_LOGGER),
            self.assertRaisesRegex(UserError, "Mahngebühren.* is archived; choose an active one"),
            self.env.cr.savepoint(),
        ):
            self.dun(D(2025, 1, 8))
        self.assertFalse(self.notices_of(self.consumer))

    def test_run_without_base_rate_for_the_period(self):
        old = self.env["res.partner"].create({"name": "Alt Kunde", "email": "alt@example.com"})
        old_invoice = self.make_invoice(old, 100.0, D(2019, 10, 1))
        self.dun(D(2019, 10, 8))
        self.assertEqual(old_invoice.dunning_level_id, self.level_1)
        invoice = self.make_invoice(self.consumer, 50.0, D(2019, 10, 14))
        # The second level charges statutory interest; base rates start in 2020.
        run = self.dun(D(2019, 10, 22))
        self.assertEqual(run.state, "done")
        self.assertEqual(run.error_count, 1)
        self.assertRegex(run.log, "Customer Alt Kunde: .*No base rate is known for 2019-")
        self.assertEqual(old_invoice.dunning_level_id, self.level_1, "left where it was")
        self.assertEqual(len(self.notices_of(old)), 1)
        self.assertEqual(invoice.dunning_level_id, self.level_1, "the others are dunned")
        self.assertEqual(self.notices_of(self.consumer).run_id, run)

    def test_run_with_invoice_at_a_level_of_another_company(self):
        foreign = self.Level.create(
            self._level_vals("Fremde Stufe", 10, 7, "due_date", company_id=self.other.id)
        )
        stray = self.make_invoice(self.business, 80.0, D(2025, 1, 1))
        # As a faulty import could leave it.
        stray.write({"dunning_level_id": foreign.id, "dunning_last_date": D(2025, 1, 8)})
        invoice = self.make_invoice(self.consumer, 60.0, D(2025, 1, 1))
        run = self.dun(D(2025, 1, 30))
        self.assertEqual(run.error_count, 1)
        self.assertRegex(run.log, "Customer Firma GmbH: .*is not part of the ladder")
        self.assertEqual(stray.dunning_level_id, foreign, "left where it was")
        self.assertFalse(self.notices_of(self.business))
        self.assertEqual(invoice.dunning_level_id, self.level_1, "the others are dunned")

    # ------------------------------------------------------------------
    # Preview wizard
    # ------------------------------------------------------------------
    def test_preview_shows_render_errors(self):
        # These templates render with the sample (two invoices, interest);
        # they fail only with this customer's data (one invoice, no interest
        # on the first level).
        cases = [
            ("body_text_template", "Dear {{ invoices[1].number }}", "No item 1 in a list"),
            (
                "body_html_template",
                "<p>{{ notice.amount_total_due / notice.fee_amount }}</p>",
                r"Line 1: Invalid calculation",
            ),
            (
                "subject_template",
                "Mahnung {{ notice.interest_lines[0].invoice }}",
                "No item 0 in a list",
            ),
        ]
        for field_name, source, message in cases:
            with self.subTest(source=source):
                original = self.level_1[field_name]
                self.level_1.write({field_name: source})
                wizard = self.Wizard.create(
                    {
                        "level_id": self.level_1.id,
                        "partner_id": self.business.id,
                        "date": D(2025, 2, 1),
                    }
                )
                self.assertRegex(wizard.error, message)
                self.assertFalse(wizard.subject)
                self.level_1.write({field_name: original})

    # ------------------------------------------------------------------
    # Import of levels (the API behind the import dialog)
    # ------------------------------------------------------------------
    def test_level_import(self):
        fields = ["name", "sequence", "delay_days", "delay_basis", "subject_template"]
        good = ["Inkasso-Ankündigung", "50", "14", "previous_level", "{{ notice.level_name }}"]
        cases = [
            (
                ["Minus", "60", "-3", "previous_level", "x"],
                r"Level 'Minus': the delay (cannot|must not) be negative",
            ),
            (
                ["Kaputt", "60", "14", "previous_level", "{{ partner.name"],
                "Level 'Kaputt', Subject Template is not a valid template",
            ),
            (
                ["Woche", "60", "14", "weekly", "x"],
                "Value 'weekly' not found in selection field 'Delay Basis'",
            ),
            (
                ["", "60", "14", "previous_level", "x"],
                "Missing required value for the field 'Name'",
            ),
        ]
        for row, message in cases:
            with self.subTest(row=row):
                self.assertLoadRejected(LEVEL, fields, [good, row], message)
        result = self.Level.load(fields, [good])
        self.assertEqual(len(result["ids"]), 1, result["messages"])
        level = self.Level.browse(result["ids"])
        self.assertEqual(level.company_id, self.company)
        self.assertEqual((level.delay_days, level.delay_basis), (14, "previous_level"))
