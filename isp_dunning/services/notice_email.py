"""Customer emails of notices: one queued mail.mail per notice, with the
invoice PDFs when the level attaches them."""

from markupsafe import Markup

from odoo import Command

INVOICE_REPORT = "account.account_invoices"


def mail_values(notice, subject, body, email_to, attachment_ids, **extra):
    """A queued mail.mail of a notice, kept after sending as a record."""
    notice.ensure_one()
    return {
        "subject": subject,
        "body_html": body,
        "email_from": notice.company_id.email_formatted or notice.env.user.email_formatted,
        "email_to": email_to,
        "model": notice._name,
        "res_id": notice.id,
        # What mail.message would look up per mail (the notice's display name).
        "record_name": notice.sudo().display_name,
        "dunning_notice_id": notice.id,
        "auto_delete": False,
        "message_type": "email_outgoing",
        "attachment_ids": [Command.set(attachment_ids)],
        **extra,
    }


def invoice_attachments(notices):
    """{invoice id: ir.attachment} with each invoice's PDF, reusing the PDF
    Odoo stored when the invoice was sent; the others rendered in one batch."""
    env = notices.env
    result = {}
    missing = env["account.move"]
    for move in notices.move_ids:
        if move.invoice_pdf_report_id:
            result[move.id] = move.invoice_pdf_report_id
        else:
            missing |= move
    pdfs = notices._render_pdfs(INVOICE_REPORT, missing)
    if pdfs:
        attachments = (
            env["ir.attachment"]
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


def queue_emails(notices):
    """One mail.mail per notice that goes by email and has none yet, in
    Odoo's queue, linked to the notice (sent twice never)."""
    env = notices.env
    notices = notices.filtered(
        lambda n: n.state == "to_send" and n.channel != "letter" and not n.mail_id
    )
    if not notices:
        return
    invoice_pdfs = invoice_attachments(notices.filtered("level_id.attach_invoices"))
    mail_vals = []
    for notice in notices:
        company = notice.company_id
        attachment_ids = [
            invoice_pdfs[move.id].id for move in notice.move_ids if move.id in invoice_pdfs
        ]
        mail_vals.append(
            mail_values(
                notice,
                notice.subject,
                notice.body_html,
                notice.email_to,
                attachment_ids,
                reply_to=company.email_formatted or False,
                email_cc=notice.email_cc or False,
            )
        )
    mails = env["mail.mail"].sudo().create(mail_vals)
    link_mails(notices, mails)
    notices.partner_id._message_log_batch(
        bodies={
            notice.partner_id.id: Markup(
                env._("Dunning notice %(notice)s (%(level)s) emailed to %(to)s.")
            )
            % {"notice": notice.name, "level": notice.level_id.name, "to": notice.email_to}
            for notice in notices
        }
    )


def link_mails(notices, mails):
    """``notice.mail_id = mail`` for each pair, in one UPDATE instead of one
    write per notice (the field is not tracked and nothing depends on it
    but the delivery's own filters)."""
    env = notices.env
    notices.flush_recordset(["mail_id"])
    env.cr.execute(
        """
        UPDATE isp_dunning_notice AS notice
           SET mail_id = link.mail_id, write_uid = %s, write_date = %s
          FROM unnest(%s::int[], %s::int[]) AS link(id, mail_id)
         WHERE notice.id = link.id
        """,
        (env.uid, env.cr.now(), notices.ids, mails.ids),
    )
    notices.invalidate_recordset(["mail_id", "write_uid", "write_date"])
    notices.modified(["mail_id"])
