from odoo import fields, models

from ..domain import analytics
from .isp_dunning_analysis_mixin import RECEIPT_DEPENDS, sql_list


def _recovered_sql():
    """Per notice, the money received on its invoices within each recovery
    window (domain.analytics.in_recovery_window: from the day after the
    notice up to and including the window's last day), in one pass."""
    windows = analytics.RECOVERY_WINDOWS
    sums = ",\n".join(
        f"COALESCE(SUM(p.debit_amount_currency) FILTER "
        f"(WHERE p.max_date <= rn.date + {int(days)}), 0) AS recovered_{int(days)}"
        for days in windows
    )
    return f"""
        SELECT rel.notice_id AS notice_id,
               {sums}
          FROM isp_dunning_notice rn
          JOIN isp_dunning_notice_account_move_rel rel ON rel.notice_id = rn.id
          JOIN account_move_line dl ON dl.move_id = rel.move_id
          JOIN account_partial_reconcile p ON p.debit_move_id = dl.id
          JOIN account_move_line cl ON cl.id = p.credit_move_id
          JOIN account_journal j ON j.id = cl.journal_id
         WHERE rn.state NOT IN ('draft', 'cancelled', 'proposed', 'released')
           AND j.type IN {sql_list(analytics.RECEIPT_JOURNAL_TYPES)}
           AND p.max_date > rn.date
           AND p.max_date <= rn.date + {int(max(windows))}
         GROUP BY rel.notice_id
    """


class IspDunningRecoveryReport(models.Model):
    """One row per notice (neither draft nor cancelled): notices per level
    and month, the amount they dunned and what was received on their
    invoices within 14 and 30 days after them."""

    _name = "isp.dunning.recovery.report"
    _inherit = "isp.dunning.analysis.mixin"
    _description = "Dunning Notices and Recovery"
    _auto = False
    _order = "date desc, id desc"
    _depends = {
        "isp.dunning.notice": [
            "state",
            "company_id",
            "partner_id",
            "level_id",
            "date",
            "channel",
            "currency_id",
            "amount_open",
            "fee_amount",
            "lump_sum_amount",
            "interest_amount",
            "return_charge_amount",
            "move_ids",
        ],
        **RECEIPT_DEPENDS,
    }
    _ratios = {
        "recovery_rate_14": ("recovered_14", "amount_dunned", 100),
        "recovery_rate_30": ("recovered_30", "amount_dunned", 100),
    }

    notice_id = fields.Many2one("isp.dunning.notice", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    level_id = fields.Many2one("isp.dunning.level", string="Dunning Level", readonly=True)
    date = fields.Date(readonly=True)
    state = fields.Selection(
        [
            ("to_send", "To Send"),
            ("sent", "Sent"),
            ("to_print", "To Print"),
            ("printed", "Printed"),
            ("error", "Error"),
        ],
        readonly=True,
    )
    channel = fields.Selection(
        [("email", "Email"), ("letter", "Letter"), ("email_letter", "Email and Letter")],
        readonly=True,
    )
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount_dunned = fields.Monetary(
        string="Dunned Amount",
        readonly=True,
        help="The open amount of the invoices on the notice.",
    )
    charges = fields.Monetary(
        readonly=True, help="Fees, lump sums, interest and returned debit charges of the notice."
    )
    recovered_14 = fields.Monetary(
        string="Recovered in 14 Days",
        readonly=True,
        help="Payments on the notice's invoices from the day after the notice up to the "
        "14th day after it.",
    )
    recovered_30 = fields.Monetary(
        string="Recovered in 30 Days",
        readonly=True,
        help="Payments on the notice's invoices from the day after the notice up to the "
        "30th day after it.",
    )
    recovery_rate_14 = fields.Float(
        string="Recovery Rate 14 Days (%)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="Recovered in 14 days as a share of the dunned amount (weighted by amount).",
    )
    recovery_rate_30 = fields.Float(
        string="Recovery Rate 30 Days (%)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="Recovered in 30 days as a share of the dunned amount (weighted by amount).",
    )

    def _query(self):
        # Unused, the grouped join is removed by PostgreSQL: counting notices
        # per level and month reads the notices only.
        return f"""
            SELECT n.id AS id,
                   n.id AS notice_id,
                   n.company_id AS company_id,
                   n.partner_id AS partner_id,
                   n.level_id AS level_id,
                   n.date AS date,
                   n.state AS state,
                   n.channel AS channel,
                   n.currency_id AS currency_id,
                   n.amount_open AS amount_dunned,
                   COALESCE(n.fee_amount, 0) + COALESCE(n.lump_sum_amount, 0)
                       + COALESCE(n.interest_amount, 0)
                       + COALESCE(n.return_charge_amount, 0) AS charges,
                   COALESCE(rec.recovered_14, 0) AS recovered_14,
                   COALESCE(rec.recovered_30, 0) AS recovered_30,
                   100 * COALESCE(rec.recovered_14, 0) / NULLIF(n.amount_open, 0)
                       AS recovery_rate_14,
                   100 * COALESCE(rec.recovered_30, 0) / NULLIF(n.amount_open, 0)
                       AS recovery_rate_30
              FROM isp_dunning_notice n
              LEFT JOIN ({_recovered_sql()}) rec ON rec.notice_id = n.id
             WHERE n.state NOT IN ('draft', 'cancelled', 'proposed', 'released')
        """
