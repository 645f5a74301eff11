from datetime import date

from psycopg2 import IntegrityError

from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestConfiguration(DunningCommon):
    def assertRejected(self, record, vals, message):
        before = record.read(list(vals))[0]
        with self.assertRaisesRegex(ValidationError, message):
            with self.env.cr.savepoint():
                record.write(vals)
                record.flush_recordset()
        record.invalidate_recordset()
        self.assertEqual(record.read(list(vals))[0], before, "data unchanged")

    def test_negative_values(self):
        self.assertRejected(self.level_2, {"delay_days": -1}, "cannot be negative")
        self.assertRejected(self.level_2, {"fee_amount": -2.0}, "fee cannot be negative")
        self.assertRejected(
            self.level_2,
            {"interest_mode": "fixed", "interest_rate": -1.0},
            "rate cannot be negative",
        )

    def test_fixed_interest_needs_rate(self):
        self.assertRejected(
            self.level_2, {"interest_mode": "fixed", "interest_rate": 0.0}, "annual interest rate"
        )

    def test_ladder_must_increase(self):
        self.assertRejected(
            self.level_2, {"delay_basis": "due_date", "delay_days": 5}, "not consistent"
        )
        self.assertRejected(self.level_3, {"delay_days": 0}, "not consistent")

    def test_email_lists(self):
        self.assertRejected(
            self.level_1, {"cc_emails": "buchhaltung@firma, x"}, "not a valid email"
        )
        self.level_1.cc_emails = "Buchhaltung <bh@firma.example>; chef@firma.example"
        self.assertRejected(self.level_1, {"bcc_emails": "no address"}, "not a valid email")

    def test_template_syntax_checked_on_save(self):
        self.assertRejected(
            self.level_1, {"body_text_template": "Hello\n{% if partner.name %}\nno end"}, "Line"
        )
        self.assertRejected(
            self.level_1, {"subject_template": "{{ notice.date }"}, "not a valid template"
        )

    def test_template_rendered_against_the_notice_schema_on_save(self):
        """Saving renders the templates against the sample of the one
        template context: keys a real notice does not have are refused."""
        cases = [
            ("body_text_template", "Dear {{ customer.name }}", "Unknown variable 'customer'"),
            (
                "body_html_template",
                "{% for line in notice.interest_lines %}{{ line.rate }}{% endfor %}",
                "rate",
            ),
            ("subject_template", "{{ notice.amount_total_due / 0 }}", "Invalid calculation"),
        ]
        for field_name, source, message in cases:
            with self.subTest(source=source):
                self.assertRejected(self.level_1, {field_name: source}, "does not render")
                self.assertRejected(self.level_1, {field_name: source}, message)
        # What real notices have, the sample has: these save.
        self.level_1.body_text_template = (
            "{{ notice.number }} {{ notice.payment_reference }} {{ notice.currency }}"
            "{% for line in notice.interest_lines %}{{ line.detail }}{% endfor %}"
        )

    def test_handover_needs_agency(self):
        self.assertRejected(self.level_4, {"collection_handover": True}, "choose the agency")
        self.agency.email = False
        self.assertRejected(
            self.level_4,
            {"collection_handover": True, "collection_agency_id": self.agency.id},
            "no email address",
        )

    def test_level_needs_a_channel(self):
        self.assertRejected(
            self.level_1, {"send_email": False, "send_letter": False}, "by email, by letter"
        )

    def test_base_rate(self):
        rate = self.env["isp.dunning.base.rate"].search([("date_from", "=", date(2025, 7, 1))])
        self.assertEqual(rate.rate, 1.27)
        self.assertRejected(rate, {"rate": 127.0}, "not plausible")
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            with self.env.cr.savepoint():
                self.env["isp.dunning.base.rate"].create(
                    {"date_from": date(2025, 7, 1), "rate": 1.0}
                )

    def test_company_settings(self):
        self.assertRejected(
            self.company, {"dunning_tolerance": -1.0}, "tolerance cannot be negative"
        )
        self.assertRejected(self.company, {"dunning_batch_size": 0}, "batch size")
        self.assertRejected(self.company, {"dunning_block_threshold": -5.0}, "threshold")
        purchase = self.company_data["default_journal_purchase"]
        self.assertRejected(self.company, {"dunning_journal_id": purchase.id}, "sales journal")

    def test_partner_dunning_email(self):
        self.assertRejected(self.consumer, {"dunning_email": "not-an-address"}, "not a valid email")
        self.assertRejected(self.consumer, {"dunning_email": "a@b.de, c@d.de"}, "exactly one")

    def test_dunning_pause_needs_reason(self):
        invoice = self.make_invoice(self.consumer, 10.0, date(2025, 1, 1))
        with self.assertRaisesRegex(ValidationError, "say why"):
            invoice.write({"dunning_blocked_until": date(2025, 2, 1)})

    def test_default_ladder_installed(self):
        main = self.env.ref("base.main_company")
        levels = self.Level.sudo().search([("company_id", "=", main.id)], order="sequence")
        names = levels.with_context(lang="en_US").mapped("name")
        self.assertEqual(
            names[:4], ["Payment reminder", "First reminder", "Second reminder", "Final notice"]
        )
        self.assertEqual(levels[0].fee_amount, 0.0)
        self.assertTrue(levels[3].block_portal)
        self.assertTrue(self.env.ref("isp_dunning.ir_cron_dunning_run").active)
        self.assertTrue(self.env["isp.dunning.base.rate"].search_count([]) >= 8)

    def test_preview_wizard_renders_real_figures(self):
        self.make_invoice(self.business, 250.0, date(2025, 1, 1))
        wizard = self.env["isp.dunning.preview.wizard"].create(
            {"level_id": self.level_2.id, "partner_id": self.business.id, "date": date(2025, 2, 1)}
        )
        self.assertFalse(wizard.error)
        self.assertEqual(wizard.subject, "First notice " + self.company.name)
        self.assertIn("Firma GmbH", wizard.body_text)
        # 250.00 + 1.50 fee + 31 days of 11.27 % interest (2.39)
        self.assertIn("253.89", wizard.body_text)
        self.assertEqual(self.Notice.search_count([("partner_id", "=", self.business.id)]), 0)

    def test_preview_shows_template_errors(self):
        # Renders with the sample (two invoices), fails for a customer with one.
        self.level_2.body_text_template = "{{ invoices[1].number }}"
        wizard = self.env["isp.dunning.preview.wizard"].create(
            {"level_id": self.level_2.id, "partner_id": self.business.id}
        )
        self.assertTrue(wizard.error)
