from odoo import fields, models

from ..domain import analytics


class IspDunningDsoReport(models.Model):
    """Days sales outstanding per customer today: the customer's open
    invoices and credit notes over the invoices and credit notes of the last
    ``analytics.DSO_PERIOD_DAYS`` days, times those days, in the company's
    currency. A customer is dunned while one of its open invoices is at a
    dunning level. Fee documents count neither as receivable nor as sales."""

    _name = "isp.dunning.dso.report"
    _inherit = "isp.dunning.analysis.mixin"
    _description = "Days Sales Outstanding of Dunned Customers"
    _auto = False
    _order = "dso desc, id"
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
            "amount_residual_signed",
            "amount_total_signed",
        ],
        "isp.dunning.level": ["sequence"],
        "res.company": ["currency_id"],
    }
    _ratios = {"dso": ("amount_receivable", "amount_sales", analytics.DSO_PERIOD_DAYS)}

    company_id = fields.Many2one("res.company", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    level_id = fields.Many2one(
        "isp.dunning.level",
        string="Dunning Level",
        readonly=True,
        help="The highest level of the customer's open invoices.",
    )
    dunned = fields.Boolean(
        readonly=True, help="One of the customer's open invoices is at a dunning level."
    )
    currency_id = fields.Many2one("res.currency", string="Company Currency", readonly=True)
    amount_receivable = fields.Monetary(
        string="Receivables",
        readonly=True,
        help="Open invoices less open credit notes, today.",
    )
    amount_sales = fields.Monetary(
        string="Sales of the Period",
        readonly=True,
        help="Invoices less credit notes dated in the period (the last 90 days, today included).",
    )
    dso = fields.Float(
        string="Days Sales Outstanding",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="Receivables over the sales of the last 90 days, times 90 (weighted by amount).",
    )

    def _query(self):
        days = int(analytics.DSO_PERIOD_DAYS)
        # domain.analytics.dso_period: the last `days` days, today included.
        in_period = f"m.invoice_date > CURRENT_DATE - {days} AND m.invoice_date <= CURRENT_DATE"
        is_open = "m.payment_state IN ('not_paid', 'partial')"
        return f"""
            SELECT r.*,
                   {days} * r.amount_receivable / NULLIF(r.amount_sales, 0) AS dso
              FROM (
                SELECT MIN(m.id) AS id,
                       m.company_id AS company_id,
                       m.commercial_partner_id AS partner_id,
                       c.currency_id AS currency_id,
                       (ARRAY_AGG(l.id ORDER BY l.sequence DESC, l.id DESC)
                            FILTER (WHERE {is_open} AND l.id IS NOT NULL))[1] AS level_id,
                       BOOL_OR({is_open} AND m.dunning_level_id IS NOT NULL) AS dunned,
                       COALESCE(SUM(m.amount_residual_signed) FILTER (WHERE {is_open}), 0)
                           AS amount_receivable,
                       COALESCE(SUM(m.amount_total_signed) FILTER (WHERE {in_period}), 0)
                           AS amount_sales
                  FROM account_move m
                  JOIN res_company c ON c.id = m.company_id
                  LEFT JOIN isp_dunning_level l ON l.id = m.dunning_level_id
                 WHERE m.move_type IN ('out_invoice', 'out_refund')
                   AND m.state = 'posted'
                   AND m.dunning_fee_notice_id IS NULL
                   AND ({is_open} OR ({in_period}))
                 GROUP BY m.company_id, m.commercial_partner_id, c.currency_id
              ) r
        """
