import logging

from odoo import api, fields, models

from ..domain import collection, rendering
from ..domain.emails import parse_email_list
from ..services import handover, notice_email, notice_texts, report_pdf, working_calendar
from ..services import letters as letters_service

_logger = logging.getLogger(__name__)


class IspDunningNotice(models.Model):
    """Delivery of notices: texts, emails, letters and the handover to the
    collection agency. Each step is recorded on the notice, so running it
    again never sends anything twice."""

    _inherit = "isp.dunning.notice"

    # ------------------------------------------------------------------
    # Entry points
    # ------------------------------------------------------------------
    @api.model
    def _pending_delivery(self, company):
        """What a crash or an error left undone (one search)."""
        return self.search(
            [
                ("company_id", "=", company.id),
                "|",
                "|",
                "&",
                ("state", "=", "to_send"),
                ("mail_id", "=", False),
                "&",
                ("state", "=", "to_print"),
                ("letter_attachment_id", "=", False),
                # A handover that failed (e.g. the agency had no email
                # address): the notice waits in error for it.
                "&",
                "&",
                ("level_id.collection_handover", "=", True),
                ("handover_mail_id", "=", False),
                ("state", "=", "error"),
            ]
        )

    def _deliver(self):
        """Render, queue the emails, produce the letters and hand over
        collection cases. One failing notice goes to ``error``; the others
        are delivered."""
        notices = self.filtered(
            lambda n: (
                n.state in ("to_send", "to_print") or (n.state == "error" and n._handover_pending())
            )
        )
        if not notices:
            return
        rendered = notices._render_and_store()
        for step in (
            notice_email.queue_emails,
            letters_service.produce_letters,
            handover.hand_over,
        ):
            try:
                with self.env.cr.savepoint():
                    step(rendered)
            except report_pdf.ReportAssetsUnavailable as error:
                # Nothing recorded: the notices stay pending and the next
                # delivery (e.g. the next run) produces them.
                _logger.warning("Delivery step %s left to the next run: %s", step.__name__, error)

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
        # The working calendar (the announced block date) once per company,
        # not once per notice.
        calendars = {}
        for company in self.company_id:
            days = self.filtered(lambda notice, company=company: notice.company_id == company)
            days = [day for day in days.mapped("date") if day] or [fields.Date.context_today(self)]
            calendars[company] = working_calendar.read_calendar(
                company,
                min(days),
                days=(max(days) - min(days)).days + working_calendar.HORIZON_DAYS,
            )
        ok = self.browse()
        texts = {}
        for notice in self:
            if notice.subject and notice.body_html:
                ok |= notice
                continue
            try:
                parts = notice._render_parts(calendar=calendars[notice.company_id])
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
            texts[notice.id] = {
                "subject": parts["subject"],
                "body_text": parts["body_text"],
                "body_html": parts["body_html"],
                "email_cc": cc,
                "email_bcc": bcc,
            }
            ok |= notice
        # One UPDATE for the batch, each HTML body sanitized once.
        notice_texts.store(self, texts)
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
    # Email (services/notice_email.py)
    # ------------------------------------------------------------------
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
                if notice.state == "error" and notice._handover_pending():
                    # The customer has it; the notice stays in error until
                    # the handover is done.
                    notice._mark_delivered()
                    continue
                notice.write(
                    {
                        "state": "to_print" if notice.channel == "email_letter" else "sent",
                        "error_message": False,
                    }
                )
                notice._mark_delivered()
            elif mail.state == "exception":
                notice._set_error(
                    self.env._(
                        "The email could not be delivered: %s",
                        mail.failure_reason or failure or self.env._("unknown reason"),
                    )
                )

    def _handover_pending(self):
        self.ensure_one()
        return collection.handover_pending(
            self.collection_handover, self.handover_mail_id, self.state
        )

    # ------------------------------------------------------------------
    # PDFs, rendered in batches (services/report_pdf.py)
    # ------------------------------------------------------------------
    def _render_pdfs(self, report_ref, records):
        """{record id: PDF bytes} for many records in one rendering."""
        return report_pdf.render_pdfs(self.env, report_ref, records)

    def _ensure_report_assets(self):
        report_pdf.ensure_report_assets(self.env)

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
        letters_service.produce_letters(letters)
        letters = letters.filtered("letter_attachment_id")
        batch = self.env["ir.attachment"].create(
            {
                "name": self.env._("Dunning letters %s.pdf", fields.Date.context_today(self)),
                "raw": letters._merged_letters_pdf(),
                "mimetype": "application/pdf",
            }
        )
        letters.write({"state": "printed"})
        letters._mark_delivered()
        for notice in letters:
            notice.message_post(body=self.env._("Letter printed for posting."))
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{batch.id}?download=true",
            "target": "self",
        }

    def _merged_letters_pdf(self):
        return letters_service.merged_pdf(self)

    # ------------------------------------------------------------------
    # Report helpers (letters and the agency's summary)
    # ------------------------------------------------------------------
    def _claims(self):
        """The claims of a handover notice (services/handover.py)."""
        return handover.claims(self)

    def _history(self):
        """All notices of the handed-over invoices, oldest first."""
        return handover.history(self)

    def _handover_lang(self):
        """The collection agency's language, else the company's."""
        return handover.agency_lang(self)

    def _letter_values(self):
        """What the letter report shows (services/letters.py)."""
        return letters_service.letter_values(self)
