from odoo import models


class IspDunningNoticeLine(models.Model):
    """Removing an invoice from a proposed notice (review)."""

    _inherit = "isp.dunning.notice.line"

    def action_review_remove_invoice(self):
        self.ensure_one()
        return self.notice_id._open_review_wizard("remove_invoice", self.move_id)
