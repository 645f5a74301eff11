from odoo import fields, models

from ..domain import analytics

AGE_BUCKET_LABELS = {
    "not_due": "Not due",
    "1_30": "1-30 days",
    "31_60": "31-60 days",
    "61_90": "61-90 days",
    "91_180": "91-180 days",
    "over_180": "Over 180 days",
}


class IspDunningOpenReport(models.Model):
    """The open customer invoices today, by dunning level and age (days past
    due). Fee documents are not listed: the charges report shows them."""

    _name = "isp.dunning.open.report"
    _inherit = "isp.dunning.analysis.mixin"
    _description = "Open Amounts by Dunning Level and Age"
    _auto = False
    _order = "days_overdue desc, id"
    _depends = {
        "account.move": [
            "move_type",
            "state",
            "payment_state",
            "dunning_fee_notice_id",
            "company_id",
            "commercial_partner_id",
            "dunning_level_id",
            "invoice_date",
            "invoice_date_due",
            "amount_residual_signed",
            "dunning_handed_over",
            "dunning_blocked_until",
        ],
        "res.company": ["currency_id"],
    }

    move_id = fields.Many2one("account.move", string="Invoice", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    level_id = fields.Many2one("isp.dunning.level", string="Dunning Level", readonly=True)
    currency_id = fields.Many2one("res.currency", string="Company Currency", readonly=True)
    invoice_date = fields.Date(readonly=True)
    due_date = fields.Date(readonly=True)
    days_overdue = fields.Integer(readonly=True, aggregator="max")
    age_bucket = fields.Selection(
        [(key, AGE_BUCKET_LABELS[key]) for key, _first, _last in analytics.AGE_BUCKETS],
        string="Age",
        readonly=True,
    )
    amount_open = fields.Monetary(
        string="Open Amount",
        readonly=True,
        help="The open amount of the invoice in the company's currency.",
    )
    handed_over = fields.Boolean(string="Handed Over to Collection", readonly=True)
    paused = fields.Boolean(
        string="Dunning Paused",
        readonly=True,
        help="Dunning of the invoice is paused today (dispute, payment promise, other).",
    )

    def _query(self):
        days = "(CURRENT_DATE - m.invoice_date_due)"
        return f"""
            SELECT m.id AS id,
                   m.id AS move_id,
                   m.company_id AS company_id,
                   m.commercial_partner_id AS partner_id,
                   m.dunning_level_id AS level_id,
                   c.currency_id AS currency_id,
                   m.invoice_date AS invoice_date,
                   m.invoice_date_due AS due_date,
                   {days} AS days_overdue,
                   {analytics.age_bucket_sql(days)} AS age_bucket,
                   m.amount_residual_signed AS amount_open,
                   COALESCE(m.dunning_handed_over, FALSE) AS handed_over,
                   COALESCE(m.dunning_blocked_until >= CURRENT_DATE, FALSE) AS paused
              FROM account_move m
              JOIN res_company c ON c.id = m.company_id
             WHERE m.move_type = 'out_invoice'
               AND m.state = 'posted'
               AND m.payment_state IN ('not_paid', 'partial')
               AND m.dunning_fee_notice_id IS NULL
        """
