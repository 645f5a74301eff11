from odoo import fields, models


class IspDunningNoticeLine(models.Model):
    """One invoice on a notice, with the interest it was charged."""

    _name = "isp.dunning.notice.line"
    _description = "Dunning Notice Line"
    _order = "notice_id, due_date, id"

    notice_id = fields.Many2one("isp.dunning.notice", required=True, index=True, ondelete="cascade")
    # Precomputed: inserted with the line instead of updated after it.
    company_id = fields.Many2one(related="notice_id.company_id", store=True, precompute=True)
    currency_id = fields.Many2one(related="notice_id.currency_id", store=True, precompute=True)
    move_id = fields.Many2one(
        "account.move", string="Invoice", required=True, index=True, ondelete="restrict"
    )
    escalated = fields.Boolean(
        help="The invoice reached a new level with this notice; otherwise it is "
        "listed as still open."
    )
    level_id = fields.Many2one("isp.dunning.level", string="Invoice Level")
    invoice_date = fields.Date()
    due_date = fields.Date()
    days_overdue = fields.Integer()
    amount_total = fields.Monetary(string="Invoice Total")
    amount_open = fields.Monetary(string="Open Amount")
    lump_sum_amount = fields.Monetary(string="Lump Sum")
    interest_date_from = fields.Date(string="Interest From")
    interest_date_to = fields.Date(string="Interest Until")
    interest_days = fields.Integer()
    interest_detail = fields.Char(help="Days and annual rates of each period.")
    interest_amount = fields.Monetary(string="Interest")
    returns_settled = fields.Integer(
        string="Returned Debits Passed On",
        help="Returned direct debits of the invoice this notice passed on (charged, or "
        "settled without a charge); cancelling the notice makes them pending again.",
    )

    # The invoice's dunning state before this notice, so that cancelling the
    # notice can return the invoice to it (domain.cancellation).
    before_recorded = fields.Boolean()
    before_level_id = fields.Many2one("isp.dunning.level", string="Level Before")
    before_first_date = fields.Date(string="First Reminder Before")
    before_last_date = fields.Date(string="Last Reminder Before")
    before_next_date = fields.Date(string="Next Reminder Before")
    before_interest_until = fields.Date(string="Interest Charged Until Before")
    before_lump_sum_charged = fields.Boolean(string="Lump Sum Charged Before")
    before_handed_over = fields.Boolean(string="Handed Over Before")
    before_handover_date = fields.Date(string="Handover Date Before")
