from odoo import models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    def _reconcile_post_hook(self, data):
        # Leave dunning at reconciliation time, not at the next cron.
        result = super()._reconcile_post_hook(data)
        self.move_id.filtered(lambda m: m.move_type == "out_invoice")._dunning_leave()
        return result
