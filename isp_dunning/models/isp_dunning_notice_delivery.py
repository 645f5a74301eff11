import functools
import io
import logging
import subprocess
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from lxml import html as lxml_html
from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.tools import config, pdf
from odoo.tools.pdf import PdfFileReader, PdfFileWriter

from ..domain import collection, rendering
from ..domain.emails import parse_email_list
from ..domain.money import to_decimal

_logger = logging.getLogger(__name__)

PDF_MARKER = "ISPDUNNINGRECORD"


def split_pdf_at_markers(pdf_content, res_ids):
    """{res_id: PDF} from one PDF whose records start on a page carrying
    PDF_MARKER<res_id>; {} if a marker is missing or out of order."""
    reader = PdfFileReader(io.BytesIO(pdf_content), strict=False)
    starts = {}
    for number, page in enumerate(reader.pages):
        text = page.extract_text() or ""
        for res_id in res_ids:
            if res_id not in starts and f"{PDF_MARKER}{res_id}" in text.replace(" ", ""):
                starts[res_id] = number
    if len(starts) != len(res_ids) or sorted(starts.values()) != [starts[i] for i in res_ids]:
        return {}
    bounds = [starts[i] for i in res_ids] + [len(reader.pages)]
    result = {}
    for index, res_id in enumerate(res_ids):
        writer = PdfFileWriter()
        for number in range(bounds[index], bounds[index + 1]):
            writer.addPage(reader.getPage(number))
        buffer = io.BytesIO()
        writer.write(buffer)
        result[res_id] = buffer.getvalue()
    return result


@functools.cache
def wkhtmltopdf_renders_batches():
    """Whether wkhtmltopdf takes several documents in one call. Builds with
    "patched qt" do; Debian's build does not (it fails on a second input), so
    there each document needs a process of its own."""
    try:
        version = subprocess.run(
            ["wkhtmltopdf", "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except OSError:
        return False
    return "patched qt" in version


LETTER_REPORT = "isp_dunning.action_report_dunning_letter"
HANDOVER_REPORT = "isp_dunning.action_report_dunning_handover"
INVOICE_REPORT = "account.account_invoices"


class IspDunningNotice(models.Model):
    """Delivery of notices: texts, emails, letters and the handover to the
    collection agency. Each step is recorded on the notice, so running it
    again never sends anything twice."""

    _inherit = "isp.dunning.notice"

    # ------------------------------------------------------------------
    # Entry points
    # ------------------------------------------------------------------
    @api.model
    def _deliver_pending(self, company):
        """Deliver what a crash or an error left undone (one search)."""
        pending = self.search(
            [
                ("company_id", "=", company.id),
                "|",
                "&",
                ("state", "=", "to_send"),
                ("mail_id", "=", False),
                "&",
                ("state", "=", "to_print"),
                ("letter_attachment_id", "=", False),
            ]
        )
        pending._deliver()
        return pending

    def _deliver(self):
        """Render, queue the emails, produce the letters and hand over
        collection cases. One failing notice goes to ``error``; the others
        are delivered."""
        notices = self.filtered(lambda n: n.state in ("to_send", "to_print"))
        if not notices:
            return
        rendered = notices._render_and_store()
        rendered._queue_emails()
        rendered._produce_letters()
        rendered.filtered("collection_handover")._hand_over()

    # ------------------------------------------------------------------
    # Texts
    # ------------------------------------------------------------------
    def _recipients(self):
        """CC and BCC of a notice's email, as configured on its level."""
        self.ensure_one()
        level = self.level_id
        cc = parse_email_list(level.cc_emails)
        bcc = parse_email_list(level.bcc_emails)
        if level.copy_to_company and self.company_id.email:
            bcc.append(self.company_id.email)
        return ", ".join(cc), ", ".join(bcc)

    def _render_and_store(self):
        """Render subject, text and HTML of every notice that has none yet;
        a template problem puts only that notice in error."""
        self._ensure_portal_tokens()
        ok = self.browse()
        for notice in self:
            if notice.subject and notice.body_html:
                ok |= notice
                continue
            try:
                parts = notice._render_parts()
                cc, bcc = notice._recipients()
            except (rendering.TemplateProblem, ValueError) as problem:
                notice._set_error(
                    self.env._(
                        "The texts of level %(level)s could not be rendered: %(problem)s",
                        level=notice.level_id.name,
                        problem=problem,
                    )
                )
                continue
            notice.write(
                {
                    "subject": parts["subject"],
                    "body_text": parts["body_text"],
                    "body_html": parts["body_html"],
                    "email_cc": cc,
                    "email_bcc": bcc,
                }
            )
            ok |= notice
        return ok

    def _ensure_portal_tokens(self):
        """The templates link every invoice on the portal; give the invoices
        that have no access token one, in one UPDATE instead of one invoice
        write each."""
        moves = self.line_ids.move_id | self.move_ids
        missing = moves.filtered(lambda move: not move.access_token)
        if missing:
            self.env.cr.execute(
                "UPDATE account_move SET access_token = gen_random_uuid()::text"
                " WHERE id = ANY(%s) AND access_token IS NULL",
                (missing.ids,),
            )
            missing.invalidate_recordset(["access_token"])

    def _set_error(self, message):
        self.write({"state": "error", "error_message": message})
        for notice in self:
            notice.message_post(body=message)

    # ------------------------------------------------------------------
    # Email
    # ------------------------------------------------------------------
    def _queue_emails(self):
        """One mail.mail per notice in Odoo's queue, linked to the notice."""
        notices = self.filtered(
            lambda n: n.state == "to_send" and n.channel != "letter" and not n.mail_id
        )
        if not notices:
            return
        invoice_pdfs = notices.filtered("level_id.attach_invoices")._invoice_attachments()
        mail_vals = []
        for notice in notices:
            company = notice.company_id
            attachment_ids = [
                invoice_pdfs[move.id].id for move in notice.move_ids if move.id in invoice_pdfs
            ]
            mail_vals.append(
                notice._mail_values(
                    notice.subject,
                    notice.body_html,
                    notice.email_to,
                    attachment_ids,
                    reply_to=company.email_formatted or False,
                    email_cc=notice.email_cc or False,
                )
            )
        mails = self.env["mail.mail"].sudo().create(mail_vals)
        for notice, mail in zip(notices, mails, strict=True):
            notice.mail_id = mail
        notices.partner_id._message_log_batch(
            bodies={
                notice.partner_id.id: Markup(
                    self.env._("Dunning notice %(notice)s (%(level)s) emailed to %(to)s.")
                )
                % {"notice": notice.name, "level": notice.level_id.name, "to": notice.email_to}
                for notice in notices
            }
        )

    def _mail_values(self, subject, body, email_to, attachment_ids, **extra):
        """A queued mail.mail of this notice, kept after sending as a record."""
        self.ensure_one()
        return {
            "subject": subject,
            "body_html": body,
            "email_from": self.company_id.email_formatted or self.env.user.email_formatted,
            "email_to": email_to,
            "model": self._name,
            "res_id": self.id,
            "dunning_notice_id": self.id,
            "auto_delete": False,
            "message_type": "email_outgoing",
            "attachment_ids": [Command.set(attachment_ids)],
            **extra,
        }

    def _on_mail_result(self, mails, failure):
        """Follow the queue: a sent mail completes the notice, a rejected one
        puts it in error; an unreachable server leaves the mail queued."""
        for mail in mails:
            notice = mail.dunning_notice_id
            if not notice or mail not in (notice.mail_id | notice.handover_mail_id):
                continue
            if failure == "mail_smtp":
                # The server did not answer: keep the mail in the queue.
                mail.write({"state": "outgoing"})
                continue
            if mail.state == "sent" and mail == notice.mail_id:
                notice.write(
                    {
                        "state": "to_print" if notice.channel == "email_letter" else "sent",
                        "error_message": False,
                    }
                )
            elif mail.state == "exception":
                notice._set_error(
                    self.env._(
                        "The email could not be delivered: %s",
                        mail.failure_reason or failure or self.env._("unknown reason"),
                    )
                )

    # ------------------------------------------------------------------
    # PDFs, rendered in batches: one wkhtmltopdf process per call
    # ------------------------------------------------------------------
    def _render_pdfs(self, report_ref, records):
        """{record id: PDF bytes} for many records in one rendering."""
        if not records:
            return {}
        reports = self.env["ir.actions.report"]
        if (config["test_enable"] or config["test_file"]) and not self.env.context.get(
            "force_report_rendering"
        ):
            # Odoo's tests render HTML instead of PDF; keep that, per record.
            return {
                record.id: reports._render_qweb_html(report_ref, record.ids)[0]
                for record in records
            }
        self._ensure_report_assets()
        reports = reports.with_context(report_pdf_no_attachment=True)
        if wkhtmltopdf_renders_batches():
            streams = reports._render_qweb_pdf_prepare_streams(report_ref, {}, res_ids=records.ids)
            return {res_id: data["stream"].getvalue() for res_id, data in streams.items()}
        if len(records) > 1:
            pdfs = self._render_pdfs_as_one_document(report_ref, records)
            if pdfs:
                return pdfs
        pdfs = {}
        for record in records:
            streams = reports._render_qweb_pdf_prepare_streams(report_ref, {}, res_ids=record.ids)
            pdfs.update({res_id: data["stream"].getvalue() for res_id, data in streams.items()})
        return pdfs

    def _render_pdfs_as_one_document(self, report_ref, records):
        """One wkhtmltopdf process for many records on builds that take a
        single document: the records' pages are joined with page breaks and
        a marker per record, and the PDF is split again where the markers
        are. Returns {} when the split cannot be trusted (the caller then
        renders record by record)."""
        reports = self.env["ir.actions.report"]
        report = reports._get_report(report_ref)
        html = reports._render_qweb_html(report_ref, records.ids)[0]
        bodies, html_ids, header, footer, paper_args = report._prepare_html(
            html, report_model=report.model
        )
        if len(bodies) != len(records) or set(html_ids) != set(records.ids):
            return {}
        document = None
        for body, res_id in zip(bodies, html_ids, strict=True):
            tree = lxml_html.fromstring(body)
            content = tree.find("body")
            marker = lxml_html.fromstring(
                f'<div style="font-size:1px;line-height:1px;color:#fff">{PDF_MARKER}{res_id}</div>'
            )
            content.insert(0, marker)
            if document is None:
                document = tree
                continue
            page_break = lxml_html.fromstring('<div style="page-break-before: always;"></div>')
            target = document.find("body")
            target.append(page_break)
            for child in list(content):
                target.append(child)
        pdf_content = reports._run_wkhtmltopdf(
            [lxml_html.tostring(document, encoding="unicode")],
            report_ref=report_ref,
            header=header,
            footer=footer,
            specific_paperformat_args=paper_args,
        )
        return split_pdf_at_markers(pdf_content, records.ids)

    def _ensure_report_assets(self):
        """wkhtmltopdf loads the report CSS from Odoo's HTTP server. Build the
        bundles in a transaction of their own and commit it, so that the
        server never waits for a bundle locked by this (long) transaction."""
        with self.env.registry.cursor() as cr:
            qweb = self.env(cr=cr, su=True)["ir.qweb"]
            for bundle in ("web.report_assets_common", "web.report_assets_pdf"):
                qweb._get_asset_bundle(bundle, css=True, js=False).css()
                qweb._get_asset_bundle(bundle, css=False, js=True).js()

    def _invoice_attachments(self):
        """{invoice id: ir.attachment} with each invoice's PDF, reusing the
        PDF Odoo stored when the invoice was sent."""
        moves = self.move_ids
        result = {}
        missing = self.env["account.move"]
        for move in moves:
            if move.invoice_pdf_report_id:
                result[move.id] = move.invoice_pdf_report_id
            else:
                missing |= move
        pdfs = self._render_pdfs(INVOICE_REPORT, missing)
        if pdfs:
            attachments = (
                self.env["ir.attachment"]
                .sudo()
                .create(
                    [
                        {
                            "name": f"{move._get_report_base_filename()}.pdf",
                            "raw": pdfs[move.id],
                            "mimetype": "application/pdf",
                            "res_model": "account.move",
                            "res_id": move.id,
                        }
                        for move in missing
                    ]
                )
            )
            result.update(zip(missing.ids, attachments, strict=True))
        return result

    def _produce_letters(self):
        """Render the letters of all notices that go by post, in one batch."""
        notices = self.filtered(
            lambda n: (
                n.channel in ("letter", "email_letter")
                and n.state in ("to_send", "to_print")
                and not n.letter_attachment_id
            )
        )
        if not notices:
            return
        try:
            pdfs = self._render_pdfs(LETTER_REPORT, notices)
        except Exception as error:  # noqa: BLE001 - one bad letter must not stop the batch
            _logger.warning("Letter batch failed, rendering one by one: %s", error)
            pdfs = {}
            for notice in notices:
                try:
                    pdfs.update(self._render_pdfs(LETTER_REPORT, notice))
                except Exception as single_error:  # noqa: BLE001
                    notice._set_error(
                        self.env._("The letter could not be produced: %s", single_error)
                    )
        notices = notices.filtered(lambda n: n.id in pdfs)
        attachments = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                [
                    {
                        "name": f"{notice.name.replace('/', '_')}.pdf",
                        "raw": pdfs[notice.id],
                        "mimetype": "application/pdf",
                        "res_model": notice._name,
                        "res_id": notice.id,
                    }
                    for notice in notices
                ]
            )
        )
        for notice, attachment in zip(notices, attachments, strict=True):
            notice.letter_attachment_id = attachment

    # ------------------------------------------------------------------
    # Printing
    # ------------------------------------------------------------------
    def action_print_letters(self):
        """One merged PDF of the selected waiting letters, built from the
        letters stored on the notices (nothing is rendered twice); they are
        marked printed."""
        letters = self.filtered(lambda n: n.state == "to_print")
        if not letters:
            return False
        letters._produce_letters()
        letters = letters.filtered("letter_attachment_id")
        batch = self.env["ir.attachment"].create(
            {
                "name": self.env._("Dunning letters %s.pdf", fields.Date.context_today(self)),
                "raw": letters._merged_letters_pdf(),
                "mimetype": "application/pdf",
            }
        )
        letters.write({"state": "printed"})
        for notice in letters:
            notice.message_post(body=self.env._("Letter printed for posting."))
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{batch.id}?download=true",
            "target": "self",
        }

    def _merged_letters_pdf(self):
        return pdf.merge_pdf([notice.letter_attachment_id.raw for notice in self])

    # ------------------------------------------------------------------
    # Collection agency
    # ------------------------------------------------------------------
    def _claims(self):
        """The claims of a handover notice for the agency's CSV: the rows of
        the notice's claim statement, so that the agency receives the figures
        the customer was sent. One row per invoice (principal: what is claimed
        plus the payments received), per fee document (earlier ones and this
        notice's, with fees, lump sums and interest) and per credit note or
        payment netted (negative)."""
        self.ensure_one()
        partner = self.partner_id
        company = self.company_id

        def text(value):
            return value or ""

        common = {
            "customer_ref": text(partner.ref),
            "customer_name": text(partner.name),
            "street": text(partner.street),
            "zip": text(partner.zip),
            "city": text(partner.city),
            "country": text(partner.country_id.code),
            "email": text(partner.email),
            "currency": self.currency_id.name,
        }
        zero = Decimal("0")
        sections = defaultdict(dict)  # section -> move id -> amount
        new_charges = defaultdict(Decimal)  # kind -> amount
        for row in self._claim_statement().rows:
            if row.section == "new_charges":
                new_charges[row.kind] += row.amount
            else:
                amounts = sections[row.section]
                amounts[row.move_id] = amounts.get(row.move_id, zero) + row.amount
        moves = self.env["account.move"].browse(
            [move_id for amounts in sections.values() for move_id in amounts]
        )
        claims = []
        for move_id, open_amount in sections["principal"].items():
            move = moves.browse(move_id)
            due = move.invoice_date_due
            if company.dunning_interest_start == "first_notice" and move.dunning_first_date:
                default_date = move.dunning_first_date
            else:
                default_date = due + timedelta(days=1) if due else None
            payments = to_decimal(move.amount_total - move.amount_residual)
            claims.append(
                collection.Claim(
                    kind="Rechnung",
                    number=move.name,
                    invoice_date=move.invoice_date,
                    due_date=due,
                    default_date=default_date,
                    principal=open_amount + payments,
                    fees=zero,
                    lump_sum=zero,
                    interest=zero,
                    payments=payments,
                    **common,
                )
            )
        for move_id, open_amount in sections["earlier_charges"].items():
            move = moves.browse(move_id)
            fee_notice = move.dunning_fee_notice_id
            claims.append(
                collection.Claim(
                    kind="Mahngebühr",
                    number=move.name,
                    invoice_date=move.invoice_date,
                    due_date=move.invoice_date_due,
                    default_date=None,
                    principal=zero,
                    fees=to_decimal(fee_notice.fee_amount),
                    lump_sum=to_decimal(fee_notice.lump_sum_amount),
                    interest=to_decimal(fee_notice.interest_amount),
                    payments=to_decimal(move.amount_total) - open_amount,
                    **common,
                )
            )
        if new_charges:
            claims.append(
                collection.Claim(
                    kind="Mahngebühr",
                    number=self.fee_move_id.name or self.name,
                    invoice_date=self.date,
                    due_date=self.deadline_date,
                    default_date=None,
                    principal=zero,
                    fees=new_charges["fee"],
                    lump_sum=new_charges["lump_sum"],
                    interest=new_charges["interest"],
                    payments=zero,
                    **common,
                )
            )
        for move_id, amount in sections["credits"].items():
            move = moves.browse(move_id)
            claims.append(
                collection.Claim(
                    kind="Gutschrift" if move.move_type == "out_refund" else "Zahlung",
                    number=move.name,
                    invoice_date=move.invoice_date or move.date,
                    due_date=None,
                    default_date=None,
                    principal=zero,
                    fees=zero,
                    lump_sum=zero,
                    interest=zero,
                    payments=-amount,
                    **common,
                )
            )
        return claims

    def _history(self):
        """All notices of the handed-over invoices, oldest first."""
        self.ensure_one()
        return self.search(
            [
                ("partner_id", "=", self.partner_id.id),
                ("move_ids", "in", self.move_ids.ids),
                ("state", "!=", "cancelled"),
            ],
            order="date, id",
        )

    def _handover_lang(self):
        """The collection agency's language, else the company's."""
        self.ensure_one()
        agency = self.level_id.collection_agency_id
        return agency.lang or self.company_id.partner_id.lang or self.env.lang

    def _hand_over(self):
        """Email each case to the level's collection agency: summary PDF,
        invoice PDFs, reminder history and the claims as CSV."""
        notices = self.filtered(
            lambda n: (
                n.collection_handover
                and n.level_id.collection_agency_id.email
                and not n.handover_mail_id
                and n.state in ("to_send", "to_print")
            )
        )
        if not notices:
            return
        summaries = self._render_pdfs(HANDOVER_REPORT, notices)
        invoice_pdfs = notices._invoice_attachments()
        Attachment = self.env["ir.attachment"].sudo()
        mail_vals = []
        for notice in notices:
            agency = notice.level_id.collection_agency_id
            claims = notice._claims()
            base_name = notice.name.replace("/", "_")
            attachments = Attachment.create(
                [
                    {
                        "name": f"Inkasso_{base_name}.pdf",
                        "raw": summaries[notice.id],
                        "mimetype": "application/pdf",
                        "res_model": notice._name,
                        "res_id": notice.id,
                    },
                    {
                        "name": f"Inkasso_{base_name}.csv",
                        "raw": collection.claims_csv(claims).encode("utf-8"),
                        "mimetype": "text/csv",
                        "res_model": notice._name,
                        "res_id": notice.id,
                    },
                ]
            )
            attachment_ids = attachments.ids + [
                invoice_pdfs[move.id].id for move in notice.move_ids if move.id in invoice_pdfs
            ]
            # The agency reads the case in its own language.
            case = notice.with_context(lang=notice._handover_lang())
            body = case.env["ir.qweb"]._render(
                "isp_dunning.handover_mail_body",
                {
                    "notice": case,
                    "history": case._history(),
                    "claims": claims,
                    "total": collection.total_open(claims),
                    "agency": agency,
                },
            )
            mail_vals.append(
                notice._mail_values(
                    case.env._(
                        "Collection case %(notice)s: %(customer)s",
                        notice=notice.name,
                        customer=notice.partner_id.name,
                    ),
                    body,
                    agency.email_formatted,
                    attachment_ids,
                )
            )
        mails = self.env["mail.mail"].sudo().create(mail_vals)
        for notice, mail in zip(notices, mails, strict=True):
            notice.handover_mail_id = mail
            notice.move_ids.filtered(lambda m: not m.dunning_handed_over).write(
                {"dunning_handed_over": True, "dunning_handover_date": notice.date}
            )
            notice.message_post(
                body=self.env._(
                    "Case handed over to %s.", notice.level_id.collection_agency_id.name
                )
            )

    def _letter_body(self):
        """The HTML body for the letter report (already sandbox-rendered)."""
        self.ensure_one()
        return Markup(self.body_html or "")
