import io
import re
import subprocess
import tempfile
from unittest.mock import patch

from lxml import html as lxml_html

from odoo.tests import tagged
from odoo.tools.pdf import PdfFileReader

from ..services import letters as letters_service
from ..services import report_pdf
from .common import D, DunningCommon, EuroCompanyMixin

IBAN = "DE89370400440532013000"


def pdftotext(raw, *area):
    """The text of a PDF as ``pdftotext -layout`` reads it; ``area`` (x, y,
    width, height in points) reads only that part of each page."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(raw)
        handle.flush()
        crop = []
        if area:
            crop = [f"-{flag}" for flag in ("x", "y", "W", "H")]
            crop = [part for pair in zip(crop, map(str, area), strict=True) for part in pair]
        return subprocess.run(
            ["pdftotext", "-layout", *crop, handle.name, "-"],
            capture_output=True,
            check=True,
            text=True,
        ).stdout


def squeeze(text):
    """Text with runs of whitespace as one space (layout columns vary)."""
    return " ".join(text.split())


def german_money(amount):
    number = f"{amount:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"{number} €"


@tagged("post_install", "-at_install")
class TestLetter(EuroCompanyMixin, DunningCommon):
    """The letter by post is a business letter after DIN 5008, read back from
    the stored PDF with pdftotext."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        env["res.lang"]._activate_lang("de_DE")
        env["ir.module.module"]._load_module_terms(
            ["web", "l10n_din5008", "isp_dunning"], ["de_DE"], overwrite=True
        )
        cls.company.write(
            {
                "name": "Netz Brief GmbH",
                "street": "Glasfaserweg 1",
                "zip": "20095",
                "city": "Hamburg",
                "country_id": env.ref("base.de").id,
                "company_registry": "HRB 4711",
                "logo": False,
                "external_report_layout_id": env.ref("l10n_din5008.external_layout_din5008").id,
                "paperformat_id": env.ref("l10n_din5008.paperformat_euro_din").id,
            }
        )
        env["res.partner.bank"].create(
            {
                "acc_number": IBAN,
                "bank_id": env["res.bank"].create({"name": "Testbank", "bic": "COBADEFFXXX"}).id,
                "partner_id": cls.company.partner_id.id,
            }
        )
        # Letters only; the second level has its own letter text.
        (cls.level_1 | cls.level_2).write({"send_email": False, "send_letter": True})
        cls.level_2.with_context(lang="de_DE").write(
            {
                "name": "1. Mahnung",
                "letter_text_template": "<p>trotz unserer Erinnerung ist der Betrag offen; "
                "bitte zahlen Sie bis zum {{ notice.deadline|date }}.</p>",
            }
        )
        cls.consumer.write(
            {
                "name": "Erika Musterfrau",
                "email": False,
                "lang": "de_DE",
                "ref": "K-100234",
                "title": env.ref("base.res_partner_title_madam").id,
                "street": "Heidestraße 17",
                "zip": "51147",
                "city": "Köln",
                "country_id": env.ref("base.de").id,
            }
        )
        cls.business.write({"email": False, "lang": "de_DE", "ref": False})

    def second_notice(self, partner, *amounts):
        invoices = [self.make_invoice(partner, amount, D(2025, 1, 1)) for amount in amounts]
        self.dun(D(2025, 1, 8))
        self.dun(D(2025, 1, 22))
        notice = self.notices_of(partner)[-1]
        self.assertEqual(notice.level_id, self.level_2)
        self.assertEqual(notice.state, "to_print")
        return notice, invoices

    def test_letter_is_a_din5008_business_letter(self):
        notice, (invoice,) = self.second_notice(self.consumer, 1234.56)
        raw = notice.letter_attachment_id.raw
        self.assertEqual(len(PdfFileReader(io.BytesIO(raw)).pages), 1)
        text = pdftotext(raw)
        flat = squeeze(text)
        # Address window on the left, information block on the right.
        self.assertRegex(text, r"(?m)^Erika Musterfrau")
        self.assertRegex(text, r"(?m)^\s{40,}Datum\s+22\.01\.2025$")
        self.assertIn(f"Mahnungsnr. {notice.name}", flat)
        self.assertIn("Kundennr. K-100234", flat)
        self.assertIn(f"Zahlungsfrist {notice.deadline_date.strftime('%d.%m.%Y')}", flat)
        self.assertIn("Heidestraße 17", flat)
        self.assertIn("Netz Brief GmbH | Glasfaserweg 1 | 20095 Hamburg", flat)
        # Subject: the level's name; the salutation by the contact's title.
        self.assertRegex(text, r"(?m)^\s*1\. Mahnung\s*$")
        self.assertIn("Sehr geehrte Frau Erika Musterfrau,", flat)
        self.assertIn("trotz unserer Erinnerung ist der Betrag offen; bitte zahlen Sie", flat)
        # The claim statement once, row by row, and its total.
        self.assertEqual(flat.count("Forderungsaufstellung"), 1)
        self.assertEqual(flat.count("Gesamtbetrag"), 1)
        self.assertRegex(flat, rf"Rechnung {re.escape(invoice.name)} 01\.01\.2025 1\.234,56 €")
        self.assertRegex(flat, r"Mahngebühr 1,50 €")
        self.assertRegex(flat, rf"Verzugszinsen .*{re.escape(invoice.name)}")
        total = german_money(notice.amount_total_due)
        self.assertIn(f"Gesamtbetrag {total}", flat)
        self.assertGreater(notice.amount_total_due, 1236.06)
        # How to pay: account, reference, pay link and the GiroCode.
        self.assertIn(f"Bitte überweisen Sie {total}", flat)
        self.assertIn(IBAN, flat.replace(" ", ""))
        self.assertIn("BIC: COBADEFFXXX", flat)
        self.assertIn(f"Verwendungszweck: {notice.name}", flat)
        # The short form of the pay link, not the long one of the email.
        short = notice._dunning_short_pay_url()
        self.assertRegex(short, rf"/mp/{notice.id}/[0-9a-f]{{16}}$")
        self.assertIn(short, flat)
        self.assertNotIn(notice._dunning_pay_url(), flat)
        self.assertIn("GiroCode", flat)
        payload = notice._dunning_girocode_payload(notice.amount_total_due).split("\n")
        self.assertEqual(payload[6], IBAN)
        self.assertEqual(float(payload[7][3:]), notice.amount_total_due)
        self.assertEqual(payload[10], notice.name)
        # The GiroCode is the one square image of the letter (Odoo's QR code).
        with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
            handle.write(raw)
            handle.flush()
            images = subprocess.run(
                ["pdfimages", "-list", handle.name], capture_output=True, check=True, text=True
            ).stdout.splitlines()[2:]
        squares = [row.split() for row in images if row.split()[2] == "image"]
        squares = [row for row in squares if row[3] == row[4] and int(row[3]) >= 100]
        self.assertEqual(len(squares), 1, images)
        self.assertIn("Mit freundlichen Grüßen", flat)
        # The footer (the lowest 50 mm of the A4 page): legal and bank data,
        # page number.
        footer = squeeze(pdftotext(raw, 0, 700, 595, 142))
        self.assertIn("HRB-Nr.: HRB 4711", footer)
        self.assertIn(IBAN, footer.replace(" ", ""))
        self.assertIn("BIC: COBADEFFXXX", footer)
        self.assertIn("Seite: 1 von 1", footer)
        self.assertNotIn(report_pdf.PDF_MARKER, text)

    def test_company_is_addressed_as_such_with_its_id_as_customer_number(self):
        notice, _invoices = self.second_notice(self.business, 100.0)
        flat = squeeze(pdftotext(notice.letter_attachment_id.raw))
        self.assertIn("Sehr geehrte Damen und Herren,", flat)
        self.assertIn(f"Kundennr. {self.business.id}", flat)

    def test_level_without_letter_text_and_english(self):
        self.consumer.write({"lang": "en_US", "title": False})
        self.make_invoice(self.consumer, 50.0, D(2025, 1, 1))
        self.dun(D(2025, 1, 8))
        notice = self.notices_of(self.consumer)
        self.assertEqual(notice.level_id, self.level_1)
        self.assertFalse(self.level_1.letter_text_template)
        flat = squeeze(pdftotext(notice.letter_attachment_id.raw))
        self.assertIn("Dear Erika Musterfrau,", flat)
        self.assertIn("Reminder", flat)
        self.assertIn(f"Notice No. {notice.name}", flat)
        self.assertIn("Claim statement", flat)
        # The email's text is not printed: the letter states the claim itself.
        self.assertNotIn("Dear Erika Musterfrau Dear", flat)
        self.assertEqual(flat.count("Dear "), 1)
        self.assertIn("Page: 1 of 1", flat)

    def test_a_shorter_print_delay_of_the_company_is_kept(self):
        self.env["ir.config_parameter"].sudo().set_param("report.print_delay", "20")
        args = self.env["ir.actions.report"]._build_wkhtmltopdf_args(
            self.env.company.paperformat_id, False
        )
        self.assertIn("--javascript-delay", args)
        shortened = report_pdf._with_javascript_delay(args, report_pdf.JAVASCRIPT_DELAY_MS)
        self.assertEqual(shortened[shortened.index("--javascript-delay") + 1], "20")
        self.env["ir.config_parameter"].sudo().set_param("report.print_delay", "1000")
        args = self.env["ir.actions.report"]._build_wkhtmltopdf_args(
            self.env.company.paperformat_id, False
        )
        shortened = report_pdf._with_javascript_delay(args, report_pdf.JAVASCRIPT_DELAY_MS)
        self.assertEqual(shortened[shortened.index("--javascript-delay") + 1], "100")
        self.assertEqual(args[args.index("--javascript-delay") + 1], "1000", "a copy")

    def test_batch_of_one_document_builds_leaves_no_marker(self):
        """wkhtmltopdf builds that take one document (Debian's) render a
        batch of letters in two runs and store no marker text."""
        long_notice, invoices = self.second_notice(self.business, *[10.0 + i for i in range(30)])
        short_notice, _invoice = self.second_notice(self.consumer, 99.0)
        letters = long_notice | short_notice
        letters.letter_attachment_id.unlink()
        runs = []
        run_wkhtmltopdf = type(self.env["ir.actions.report"])._run_wkhtmltopdf

        def counted(reports, bodies, **kwargs):
            runs.append(bodies)
            return run_wkhtmltopdf(reports, bodies, **kwargs)

        with (
            patch.object(report_pdf, "wkhtmltopdf_renders_batches", return_value=False),
            patch.object(type(self.env["ir.actions.report"]), "_run_wkhtmltopdf", counted),
        ):
            letters_service.produce_letters(letters)
        self.assertEqual(len(runs), 2, "one run with markers, one without")
        self.assertIn(report_pdf.PDF_MARKER, runs[0][0])
        self.assertNotIn(report_pdf.PDF_MARKER, runs[1][0])
        long_raw = long_notice.letter_attachment_id.raw
        short_raw = short_notice.letter_attachment_id.raw
        self.assertGreater(len(PdfFileReader(io.BytesIO(long_raw)).pages), 1)
        self.assertEqual(len(PdfFileReader(io.BytesIO(short_raw)).pages), 1)
        long_text, short_text = pdftotext(long_raw), pdftotext(short_raw)
        for text in (long_text, short_text):
            self.assertNotIn(report_pdf.PDF_MARKER, text)
            self.assertNotIn(report_pdf.PDF_MARKER, squeeze(text).replace(" ", ""))
        self.assertIn("Sehr geehrte Damen und Herren,", squeeze(long_text))
        self.assertIn(invoices[-1].name, long_text)
        self.assertNotIn("Erika Musterfrau", long_text)
        self.assertIn("Sehr geehrte Frau Erika Musterfrau,", squeeze(short_text))
        self.assertNotIn("Firma GmbH", short_text)

    def test_batch_in_several_processes_keeps_each_letters_header_and_footer(self):
        """A batch runs as several wkhtmltopdf processes, each given the
        headers and footers of its own letters: every letter carries its own
        address, information block and footer with its own page count."""
        long_notice, invoices = self.second_notice(self.business, *[10.0 + i for i in range(30)])
        short_notice, _invoice = self.second_notice(self.consumer, 99.0)
        letters = long_notice | short_notice
        letters.letter_attachment_id.unlink()
        processes = []
        delays = []
        run_parallel = report_pdf._run_parallel

        def counted(args, documents):
            processes.extend(documents)
            delays.append(args[args.index("--javascript-delay") + 1])
            return run_parallel(args, documents)

        with (
            patch.object(report_pdf, "RECORDS_PER_PROCESS", 1),
            patch.object(report_pdf, "_run_parallel", counted),
        ):
            letters_service.produce_letters(letters)
        self.assertEqual(len(processes), 2)
        # Not Odoo's second per process: the letters have no script of
        # their own, the page count below is drawn on load.
        self.assertEqual(delays, [str(report_pdf.JAVASCRIPT_DELAY_MS)])
        for _bodies, header, footer in processes:
            for document, entries in (
                (header, "minimal_layout_report_headers"),
                (footer, "minimal_layout_report_footers"),
            ):
                tree = lxml_html.document_fromstring(document)
                self.assertEqual(len(tree.get_element_by_id(entries)), 1)
        long_raw = long_notice.letter_attachment_id.raw
        pages = len(PdfFileReader(io.BytesIO(long_raw)).pages)
        self.assertGreater(pages, 1)
        long_text = squeeze(pdftotext(long_raw))
        self.assertIn(f"Mahnungsnr. {long_notice.name}", long_text)
        self.assertIn(invoices[-1].name, long_text)
        self.assertIn(f"Seite: 1 von {pages}", long_text)
        self.assertNotIn(short_notice.name, long_text)
        short_text = squeeze(pdftotext(short_notice.letter_attachment_id.raw))
        self.assertIn(f"Mahnungsnr. {short_notice.name}", short_text)
        self.assertIn("Seite: 1 von 1", short_text)
        self.assertIn("HRB-Nr.: HRB 4711", short_text)
        self.assertNotIn(long_notice.name, short_text)
