from odoo import fields, models


class IspDunningPromiseLine(models.Model):
    """One instalment of a payment promise: the amount the customer promised
    to pay by a date."""

    _name = "isp.dunning.promise.line"
    _description = "Payment Promise Instalment"
    _order = "promise_id, date, id"

    promise_id = fields.Many2one(
        "isp.dunning.promise", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="promise_id.company_id", store=True, precompute=True)
    currency_id = fields.Many2one(related="promise_id.currency_id", store=True, precompute=True)
    date = fields.Date(string="Pay By", required=True)
    amount = fields.Monetary(required=True)
