import csv
import io
from datetime import date
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import mute_logger
from odoo.tools.pdf import PdfFileReader

from ..domain import template_context
from ..domain.template_upgrades import NEW_CLAIM_ROWS_END, OLD_CLAIM_ROWS_END
from ..services.notice_context import render_level
from .common import DunningCommon


def pdf_text(raw):
    """The text of all pages of a PDF."""
    reader = PdfFileReader(io.BytesIO(raw), strict=False)
    return "".join(page.extract_text() or "" for page in reader.pages)


@tagged("post_install", "-at_install")
class TestDelivery(DunningCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write({"email": "billing@isp.example", "name": "Netz AG"})
        cls.level_1.write(
            {
                "cc_emails": "Collections <collect@isp.example>",
                "bcc_emails": "archive@isp.example",
                "copy_to_company": True,
                "subject_template": "Zahlungserinnerung {{ notice.number }}",
                "body_text_template": "Offen: {{ notice.amount_total_due|money(lang='de') }}",
                "body_html_template": "<p>Offen: {{ notice.amount_total_due|money(lang='de') }}</p>"
                "{% for invoice in invoices %}<p>{{ invoice.number }}</p>{% endfor %}",
            }
        )

    def _notice(self, partner, amount=1234.56, when=date(2025, 1, 8)):
        self.invoice = self.make_invoice(partner, amount, date(2025, 1, 1))
        self.dun(when)
        return self.notices_of(partner)

    def test_email_queued_once_with_recipients_and_both_parts(self):
        notice = self._notice(self.consumer)
        mail = notice.mail_id
        self.assertTrue(mail)
        self.assertEqual(mail.state, "outgoing")
        self.assertEqual(mail.email_to, "max@example.com")
        self.assertEqual(mail.email_cc, "collect@isp.example")
        self.assertEqual(notice.email_bcc, "archive@isp.example, billing@isp.example")
        self.assertEqual(mail.subject, f"Zahlungserinnerung {notice.name}")
        self.assertIn("1.234,56 €", mail.body_html)
        self.assertIn(self.invoice.name, mail.body_html)
        self.assertEqual(mail.model, "isp.dunning.notice")
        self.assertEqual(mail.res_id, notice.id)
        outgoing = mail._prepare_outgoing_list()
        self.assertEqual(outgoing[0]["body_alternative"], "Offen: 1.234,56 €")
        self.assertEqual(outgoing[0]["headers"]["Bcc"], notice.email_bcc)
        self.assertIn(notice.name, self.consumer.message_ids[0].body)
        # A second run and a second delivery never queue another mail.
        self.dun(date(2025, 1, 8))
        notice._deliver()
        self.assertEqual(
            self.env["mail.mail"].search_count([("dunning_notice_id", "=", notice.id)]), 1
        )

    def test_sent_mail_completes_notice(self):
        notice = self._notice(self.consumer)
        notice.mail_id.send()
        self.assertEqual(notice.mail_id.state, "sent")
        self.assertEqual(notice.state, "sent")

    def test_delivery_failure_then_retry_sends_once(self):
        notice = self._notice(self.consumer)
        with (
            patch(
                "odoo.addons.base.models.ir_mail_server.IrMailServer.send_email",
                side_effect=OSError("550 mailbox unavailable"),
            ),
            mute_logger("odoo.addons.mail.models.mail_mail"),
        ):
            notice.mail_id.send()
        self.assertEqual(notice.state, "error")
        self.assertIn("550 mailbox unavailable", notice.error_message)
        notice.action_retry()
        self.assertEqual(notice.state, "to_send")
        self.assertEqual(notice.mail_id.state, "outgoing")
        notice.mail_id.send()
        self.assertEqual(notice.state, "sent")
        self.assertEqual(
            self.env["mail.mail"].search_count([("dunning_notice_id", "=", notice.id)]), 1
        )

    def test_mail_server_down_keeps_mail_queued(self):
        notice = self._notice(self.consumer)
        with (
            patch(
                "odoo.addons.base.models.ir_mail_server.IrMailServer.connect",
                side_effect=ConnectionRefusedError("connection refused"),
            ),
            mute_logger("odoo.addons.mail.models.mail_mail"),
        ):
            notice.mail_id.send()
        self.assertEqual(notice.mail_id.state, "outgoing")
        self.assertEqual(notice.state, "to_send")
        notice.mail_id.send()
        self.assertEqual(notice.state, "sent")

    def test_partner_without_email_gets_a_letter(self):
        self.consumer.email = False
        notice = self._notice(self.consumer)
        self.assertEqual(notice.channel, "letter")
        self.assertEqual(notice.state, "to_print")
        self.assertFalse(notice.mail_id)
        self.assertTrue(notice.letter_attachment_id)
        # A real PDF, rendered by wkhtmltopdf (no HTML stand-in in tests).
        raw = notice.letter_attachment_id.raw
        self.assertTrue(raw.startswith(b"%PDF"))
        # The letter states the claim itself (in the customer's language),
        # not the email's text.
        text = pdf_text(raw)
        self.assertIn("1,234.56", text)
        self.assertIn(self.invoice.name, text)
        self.assertNotIn("Offen:", text)

    def test_dunning_email_and_invoice_contact_win(self):
        contact = self.env["res.partner"].create(
            {
                "name": "AP",
                "parent_id": self.business.id,
                "type": "invoice",
                "email": "ap@x.example",
            }
        )
        self.assertEqual(self.business._dunning_recipient_emails()[self.business.id], contact.email)
        self.business.dunning_email = "dunning@x.example"
        notice = self._notice(self.business)
        self.assertEqual(notice.mail_id.email_to, "dunning@x.example")

    def test_render_error_marks_only_that_notice(self):
        # Renders with the sample (two invoices), fails for a customer with one.
        self.level_1.body_text_template = "{{ invoices[1].number }}"
        notice = self._notice(self.consumer)
        self.assertEqual(notice.state, "error")
        self.assertIn("could not be rendered", notice.error_message)
        self.assertFalse(notice.mail_id)
        # Fixed template, retry: the mail goes out exactly once.
        self.level_1.body_text_template = "Offen"
        notice.action_retry()
        notice._deliver()
        self.assertEqual(notice.state, "to_send")
        self.assertEqual(len(notice.mail_id), 1)

    def test_crash_between_notice_and_mail_is_healed(self):
        with patch.object(type(self.Notice), "_deliver", lambda self: None):
            notice = self._notice(self.consumer)
        self.assertFalse(notice.mail_id)
        self.dun(date(2025, 1, 9))
        self.assertTrue(notice.mail_id)
        self.dun(date(2025, 1, 10))
        self.assertEqual(
            self.env["mail.mail"].search_count([("dunning_notice_id", "=", notice.id)]), 1
        )

    def test_attach_invoices(self):
        self.level_1.attach_invoices = True
        notice = self._notice(self.consumer)
        names = notice.mail_id.attachment_ids.mapped("name")
        self.assertEqual(len(names), 1)
        self.assertTrue(names[0].endswith(".pdf"))

    def test_print_batch_marks_printed(self):
        self.level_1.write({"send_email": False, "send_letter": True})
        self.make_invoice(self.business, 10.0, date(2025, 1, 1))
        self._notice(self.consumer)
        letters = self.Notice.search([("state", "=", "to_print")])
        self.assertEqual(len(letters), 2)
        pages = sum(
            len(PdfFileReader(io.BytesIO(letter.letter_attachment_id.raw)).pages)
            for letter in letters
        )
        action = letters.action_print_letters()
        self.assertEqual(action["type"], "ir.actions.act_url")
        batch = self.env["ir.attachment"].browse(int(action["url"].split("/")[3].split("?")[0]))
        # The stored letters merged into one PDF: every page of each, both customers.
        self.assertEqual(len(PdfFileReader(io.BytesIO(batch.raw)).pages), pages)
        text = pdf_text(batch.raw)
        self.assertIn("Max Verbraucher", text)
        self.assertIn("Firma GmbH", text)
        self.assertEqual(set(letters.mapped("state")), {"printed"})
        self.assertFalse(letters.action_print_letters(), "nothing left to print")

    def test_collection_handover(self):
        self.level_2.write({"collection_handover": True, "collection_agency_id": self.agency.id})
        invoice = self.make_invoice(self.consumer, 100.0, date(2025, 1, 1))
        self.pay(invoice, 30.0, date(2025, 1, 5))
        self.dun(date(2025, 1, 8))
        self.dun(date(2025, 1, 22))
        notice = self.notices_of(self.consumer)[1:]
        mail = notice.handover_mail_id
        self.assertEqual(mail.email_to, '"Inkasso Test GmbH" <cases@inkasso.example>')
        names = mail.attachment_ids.mapped("name")
        self.assertIn(f"Inkasso_{notice.name.replace('/', '_')}.csv", names)
        self.assertIn(f"Inkasso_{notice.name.replace('/', '_')}.pdf", names)
        self.assertEqual(len(names), 3, "summary, claims and the invoice")
        self.assertIn(self.notices_of(self.consumer)[0].name, mail.body_html, "history")
        csv_file = mail.attachment_ids.filtered(lambda a: a.name.endswith(".csv"))
        rows = list(csv.reader(io.StringIO(csv_file.raw.decode("utf-8-sig")), delimiter=";"))
        self.assertEqual(rows[0][8], "Rechnungsnummer")
        invoice_row = next(row for row in rows if row[8] == invoice.name)
        self.assertEqual(invoice_row[12], "100,00")  # principal
        self.assertEqual(invoice_row[16], "30,00")  # payments received
        self.assertEqual(invoice_row[11], "02.01.2025")  # default began
        fee_row = next(row for row in rows if row[0] == "Mahngebühr")
        self.assertEqual(fee_row[13], "1,50")
        self.assertTrue(invoice.dunning_handed_over)
        self.assertEqual(self.dun(date(2025, 3, 1)).notice_count, 0)

    def claims_rows(self, notice):
        mail = notice.handover_mail_id
        csv_file = mail.attachment_ids.filtered(lambda a: a.name.endswith(".csv"))
        return list(csv.reader(io.StringIO(csv_file.raw.decode("utf-8-sig")), delimiter=";"))

    def test_handover_csv_lists_fee_documents_and_their_payments(self):
        self.level_3.write({"collection_handover": True, "collection_agency_id": self.agency.id})
        invoice = self.make_invoice(self.business, 100.0, date(2025, 1, 1))
        self.dun(date(2025, 1, 8))
        self.dun(date(2025, 1, 22))
        earlier = self.notices_of(self.business)[1]
        earlier_document = earlier.fee_move_id
        self.assertTrue(earlier_document)
        self.pay(earlier_document, 1.0, date(2025, 1, 25))
        self.dun(date(2025, 2, 5))
        notice = self.notices_of(self.business)[2]
        self.assertEqual(notice.level_id, self.level_3)
        rows = self.claims_rows(notice)
        by_number = {row[8]: row for row in rows[1:]}
        self.assertEqual(
            set(by_number), {invoice.name, earlier_document.name, notice.fee_move_id.name}
        )
        earlier_row = by_number[earlier_document.name]
        self.assertEqual(earlier_row[0], "Mahngebühr")
        self.assertEqual(earlier_row[13], "1,50")  # fee
        self.assertEqual(earlier_row[16], "1,00")  # paid on the fee document
        self.assertEqual(float(earlier_row[17].replace(",", ".")), earlier_document.amount_residual)
        own_row = by_number[notice.fee_move_id.name]
        self.assertEqual(own_row[14], "40,00")  # the business lump sum
        self.assertEqual(float(own_row[17].replace(",", ".")), notice.fee_move_id.amount_total)
        # The invoice's row carries its principal only: its charges are on
        # the fee documents' rows.
        self.assertEqual(by_number[invoice.name][14:16], ["0,00", "0,00"])
        # The fee documents are handed over with the invoice.
        for move in (invoice, earlier_document, notice.fee_move_id):
            self.assertTrue(move.dunning_handed_over, move.name)
            self.assertEqual(move.dunning_handover_date, date(2025, 2, 5))

    def returned_debit(self, invoice, when):
        """The invoice paid by direct debit and the debit returned."""
        payment = self.pay(invoice, invoice.amount_residual, when)
        payment.action_draft()
        payment.action_cancel()
        self.assertEqual(invoice.dunning_returns_pending, 1)

    def assert_claims_add_up(self, notice, rows):
        total = sum(float(row[17].replace(",", ".")) for row in rows[1:])
        self.assertAlmostEqual(total, notice.amount_total_due, places=2)

    def test_handover_csv_claims_the_return_charge_of_the_handover_notice(self):
        self.company.dunning_return_charge = 3.0
        self.level_3.write({"collection_handover": True, "collection_agency_id": self.agency.id})
        invoice = self.make_invoice(self.consumer, 100.0, date(2025, 1, 1))
        self.dun(date(2025, 1, 8))
        self.dun(date(2025, 1, 22))
        self.returned_debit(invoice, date(2025, 1, 25))
        self.dun(date(2025, 2, 5))
        notice = self.notices_of(self.consumer)[2]
        self.assertEqual(notice.level_id, self.level_3)
        self.assertEqual(notice.return_charge_amount, 3.0)
        rows = self.claims_rows(notice)
        own_row = next(row for row in rows if row[8] == notice.fee_move_id.name)
        self.assertEqual(own_row[0], "Mahngebühr")
        # the fee of 1.50 and the returned debit charge of 3.00
        self.assertEqual(own_row[13], "4,50")
        self.assertEqual(float(own_row[17].replace(",", ".")), notice.fee_move_id.amount_total)
        self.assertAlmostEqual(
            notice.fee_move_id.amount_total, 1.5 + 3.0 + notice.interest_amount, places=2
        )
        self.assert_claims_add_up(notice, rows)
        self.assertTrue(notice.fee_move_id.dunning_handed_over)

    def test_handover_csv_claims_the_return_charge_of_an_earlier_fee_document(self):
        self.company.dunning_return_charge = 3.0
        self.level_3.write({"collection_handover": True, "collection_agency_id": self.agency.id})
        invoice = self.make_invoice(self.consumer, 100.0, date(2025, 1, 1))
        self.dun(date(2025, 1, 8))
        self.returned_debit(invoice, date(2025, 1, 10))
        self.dun(date(2025, 1, 22))
        earlier = self.notices_of(self.consumer)[1]
        self.assertEqual(earlier.return_charge_amount, 3.0)
        earlier_document = earlier.fee_move_id
        self.pay(earlier_document, 1.0, date(2025, 1, 25))
        self.dun(date(2025, 2, 5))
        notice = self.notices_of(self.consumer)[2]
        self.assertEqual(notice.level_id, self.level_3)
        rows = self.claims_rows(notice)
        earlier_row = next(row for row in rows if row[8] == earlier_document.name)
        self.assertEqual(earlier_row[13], "4,50")  # fee and returned debit charge
        self.assertEqual(earlier_row[16], "1,00")  # paid on the fee document
        self.assertEqual(float(earlier_row[17].replace(",", ".")), earlier_document.amount_residual)
        self.assert_claims_add_up(notice, rows)
        self.assertTrue(earlier_document.dunning_handed_over)

    def test_handover_without_agency_address_waits_in_error_and_is_retried(self):
        self.level_2.write({"collection_handover": True, "collection_agency_id": self.agency.id})
        invoice = self.make_invoice(self.consumer, 100.0, date(2025, 1, 1))
        self.dun(date(2025, 1, 8))
        # The agency loses its address after the level was saved.
        self.agency.email = False
        self.dun(date(2025, 1, 22))
        notice = self.notices_of(self.consumer)[1:]
        self.assertEqual(notice.state, "error")
        self.assertIn("Inkasso Test GmbH has no email address", notice.error_message)
        self.assertFalse(notice.handover_mail_id)
        # The customer's own email is not held back.
        self.assertTrue(notice.mail_id)
        # Still no address: the next run tries again and leaves it in error.
        self.dun(date(2025, 1, 23))
        self.assertEqual(notice.state, "error")
        self.assertFalse(notice.handover_mail_id)
        # With the address back, the next run hands the case over.
        self.agency.email = "cases@inkasso.example"
        self.dun(date(2025, 1, 24))
        self.assertTrue(notice.handover_mail_id)
        self.assertEqual(
            notice.handover_mail_id.email_to, '"Inkasso Test GmbH" <cases@inkasso.example>'
        )
        self.assertEqual(notice.state, "to_send")
        self.assertFalse(notice.error_message)
        self.assertTrue(invoice.dunning_handed_over)
        self.assertEqual(len(self.notices_of(self.consumer)), 2)
        # Both mails go out: the case reaches the agency, the notice is sent.
        (notice.mail_id | notice.handover_mail_id).send()
        self.assertEqual(notice.handover_mail_id.state, "sent")
        self.assertEqual(notice.state, "sent")
        self.assertEqual(
            self.env["mail.mail"].search_count(
                [("dunning_notice_id", "=", notice.id), ("email_to", "ilike", "inkasso")]
            ),
            1,
            "handed over once",
        )

    def test_collection_handover_in_agency_language(self):
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"]._load_module_terms(["isp_dunning"], ["de_DE"], overwrite=True)
        self.agency.lang = "de_DE"
        self.level_2.write({"collection_handover": True, "collection_agency_id": self.agency.id})
        self.make_invoice(self.consumer, 100.0, date(2025, 1, 1))
        self.dun(date(2025, 1, 8))
        self.dun(date(2025, 1, 22))
        notice = self.notices_of(self.consumer)[1:]
        self.assertEqual(notice._handover_lang(), "de_DE")
        mail = notice.handover_mail_id
        self.assertTrue(mail.subject.startswith("Inkassofall "), mail.subject)
        self.assertIn("Sehr geehrte Damen und Herren", mail.body_html)
        # The channel of each step of the history, as a German word.
        self.assertIn("(E-Mail)", mail.body_html)
        self.assertNotIn("(Email)", mail.body_html)
        self.agency.lang = "en_US"
        self.assertEqual(notice._handover_lang(), "en_US")

    def test_template_language_follows_partner(self):
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"]._load_module_terms(["isp_dunning"], ["de_DE"], overwrite=True)
        main = self.env.ref("base.main_company")
        level = self.env.ref("isp_dunning.level_first").sudo()
        self.assertEqual(level.company_id, main)
        self.assertEqual(level.with_context(lang="de_DE").name, "1. Mahnung")
        self.assertEqual(level.with_context(lang="en_US").name, "First reminder")

    def test_default_templates_render_in_both_languages(self):
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"]._load_module_terms(["isp_dunning"], ["de_DE"], overwrite=True)
        context = template_context.sample_context()
        for xmlid in ("level_reminder", "level_first", "level_second", "level_final"):
            level = self.env.ref(f"isp_dunning.{xmlid}").sudo()
            for lang, word in (("de_DE", "Rechnung"), ("en_US", "Invoice")):
                parts = render_level(level.with_context(lang=lang), context)
                self.assertTrue(parts["subject"])
                self.assertIn(context["partner"]["name"], parts["body_text"])
                self.assertIn(word, parts["body_text"] + parts["body_html"], f"{xmlid} {lang}")

    def test_default_text_bodies_put_each_claim_row_on_its_own_line(self):
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"]._load_module_terms(["isp_dunning"], ["de_DE"], overwrite=True)
        context = template_context.sample_context()
        rows = sum(len(section["rows"]) for section in context["claim"]["sections"])
        self.assertGreater(rows, 1)
        for xmlid in ("level_reminder", "level_first", "level_second", "level_final"):
            level = self.env.ref(f"isp_dunning.{xmlid}").sudo()
            for lang in ("de_DE", "en_US"):
                lines = render_level(level.with_context(lang=lang), context)["body_text"]
                lines = lines.splitlines()
                listed = [line for line in lines if line.startswith("- ")]
                self.assertEqual(len(listed), rows, f"{xmlid} {lang}: {lines}")
                for line in listed:
                    self.assertEqual(line.count("- "), 1, f"one row per line: {line}")
                total = next(
                    i for i, line in enumerate(lines) if line.startswith(("Total", "Gesamt"))
                )
                self.assertEqual(lines[total - 1], "", "a blank line before the total")

    def test_upgrade_mends_the_shipped_claim_table_only(self):
        level = self.env.ref("isp_dunning.level_first").sudo()
        shipped = level.body_text_template
        self.assertIn(NEW_CLAIM_ROWS_END, shipped)
        old = shipped.replace(NEW_CLAIM_ROWS_END, OLD_CLAIM_ROWS_END)
        level.body_text_template = old
        own = "Offen:\n{% for i in invoices %}- {{ i.number }}\n{% endfor %}"
        self.level_1.body_text_template = own
        mended = self.env["isp.dunning.level"]._mend_shipped_text_templates()
        self.assertEqual(mended, level)
        self.assertEqual(level.body_text_template, shipped)
        self.assertEqual(self.level_1.body_text_template, own)
        self.assertFalse(self.env["isp.dunning.level"]._mend_shipped_text_templates())
