from odoo import fields, models
from odoo.tools import email_normalize


class MailMail(models.Model):
    _inherit = "mail.mail"

    dunning_notice_id = fields.Many2one(
        "isp.dunning.notice", index="btree_not_null", ondelete="set null", readonly=True
    )

    def _prepare_outgoing_list(self, mail_server=False, recipients_follower_status=None):
        # A dunning email carries the text template as its plain part (not a
        # conversion of the HTML) and the level's blind copies.
        results = super()._prepare_outgoing_list(
            mail_server=mail_server, recipients_follower_status=recipients_follower_status
        )
        notice = self.dunning_notice_id
        if not notice:
            return results
        text = notice.body_text if self == notice.mail_id else False
        for values in results:
            if text:
                values["body_alternative"] = text
            if notice.email_bcc and self == notice.mail_id:
                values["headers"] = dict(values.get("headers") or {}, Bcc=notice.email_bcc)
                # Odoo only sends to validated addresses: add the blind copies.
                values["email_to_normalized"] = list(values.get("email_to_normalized") or []) + [
                    email_normalize(address) for address in notice.email_bcc.split(",")
                ]
        return results

    def _postprocess_sent_message(self, success_pids, failure_reason=False, failure_type=None):
        notices = self.dunning_notice_id
        if notices:
            notices._on_mail_result(self, failure_reason or failure_type)
        return super()._postprocess_sent_message(
            success_pids, failure_reason=failure_reason, failure_type=failure_type
        )
