from odoo import fields, models

from .isp_dunning_analysis_mixin import RECEIPT_DEPENDS, received_sql


class IspDunningChargesReport(models.Model):
    """One row per posted fee document: the fees, lump sums, interest and
    returned debit charges it booked, and how much of it was received,
    credited (cancelled notices) or is still open."""

    _name = "isp.dunning.charges.report"
    _inherit = "isp.dunning.analysis.mixin"
    _description = "Dunning Charges Booked and Received"
    _auto = False
    _order = "date desc, id desc"
    _depends = {
        "account.move": [
            "move_type",
            "state",
            "dunning_fee_notice_id",
            "company_id",
            "commercial_partner_id",
            "currency_id",
            "invoice_date",
            "amount_total",
            "amount_residual",
        ],
        "isp.dunning.notice": [
            "level_id",
            "fee_amount",
            "lump_sum_amount",
            "interest_amount",
            "return_charge_amount",
        ],
        **RECEIPT_DEPENDS,
    }
    _ratios = {"received_share": ("amount_received", "amount_booked", 100)}

    move_id = fields.Many2one("account.move", string="Fee Document", readonly=True)
    notice_id = fields.Many2one("isp.dunning.notice", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    level_id = fields.Many2one("isp.dunning.level", string="Dunning Level", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    date = fields.Date(readonly=True)
    fee_amount = fields.Monetary(string="Fees", readonly=True)
    lump_sum_amount = fields.Monetary(string="Lump Sums", readonly=True)
    interest_amount = fields.Monetary(string="Interest", readonly=True)
    return_charge_amount = fields.Monetary(string="Returned Debit Charges", readonly=True)
    amount_booked = fields.Monetary(string="Booked", readonly=True)
    amount_received = fields.Monetary(
        string="Received",
        readonly=True,
        help="Payments reconciled with the fee document.",
    )
    amount_open = fields.Monetary(string="Still Open", readonly=True)
    amount_credited = fields.Monetary(
        string="Credited",
        readonly=True,
        help="Neither received nor open: credited by a credit note (a cancelled notice) "
        "or written off.",
    )
    received_share = fields.Float(
        string="Received (%)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="The received amount as a share of the booked amount (weighted by amount).",
    )

    def _query(self):
        # The received amount once per document (LATERAL), used by three columns.
        received = received_sql("account_move_line dl", "dl.move_id = f.id")
        return f"""
            SELECT f.id AS id,
                   f.id AS move_id,
                   n.id AS notice_id,
                   f.company_id AS company_id,
                   f.commercial_partner_id AS partner_id,
                   n.level_id AS level_id,
                   f.currency_id AS currency_id,
                   f.invoice_date AS date,
                   n.fee_amount AS fee_amount,
                   n.lump_sum_amount AS lump_sum_amount,
                   n.interest_amount AS interest_amount,
                   COALESCE(n.return_charge_amount, 0) AS return_charge_amount,
                   f.amount_total AS amount_booked,
                   rc.received AS amount_received,
                   f.amount_residual AS amount_open,
                   f.amount_total - rc.received - f.amount_residual AS amount_credited,
                   100 * rc.received / NULLIF(f.amount_total, 0) AS received_share
              FROM account_move f
              -- every fee document has its notice; LEFT keeps the planner's
              -- row estimate at the fee documents'
              LEFT JOIN isp_dunning_notice n ON n.id = f.dunning_fee_notice_id
              CROSS JOIN LATERAL {received} AS rc(received)
             WHERE f.move_type = 'out_invoice'
               AND f.state = 'posted'
               AND f.dunning_fee_notice_id IS NOT NULL
        """
