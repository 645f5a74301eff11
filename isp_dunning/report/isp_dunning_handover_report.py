from odoo import fields, models


class IspDunningHandoverReport(models.Model):
    """One row per dunned customer invoice: the amount dunned (open at its
    first notice) and the amount handed over to the collection agency (open
    on the notice that handed it over)."""

    _name = "isp.dunning.handover.report"
    _inherit = "isp.dunning.analysis.mixin"
    _description = "Dunned Amounts Handed Over to Collection"
    _auto = False
    _order = "date desc, id desc"
    _depends = {
        "account.move": [
            "move_type",
            "state",
            "dunning_first_date",
            "dunning_fee_notice_id",
            "company_id",
            "commercial_partner_id",
            "dunning_level_id",
            "currency_id",
            "dunning_handed_over",
            "dunning_handover_date",
        ],
        "isp.dunning.notice.line": ["move_id", "notice_id", "amount_open"],
        "isp.dunning.notice": ["state", "date", "handover_mail_id"],
    }
    _ratios = {"handover_share": ("amount_handed_over", "amount_dunned", 100)}

    move_id = fields.Many2one("account.move", string="Invoice", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    level_id = fields.Many2one("isp.dunning.level", string="Dunning Level", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    date = fields.Date(string="First Reminder", readonly=True)
    handed_over = fields.Boolean(string="Handed Over to Collection", readonly=True)
    handover_date = fields.Date(readonly=True)
    amount_dunned = fields.Monetary(
        string="Dunned Amount",
        readonly=True,
        help="The open amount of the invoice on its first notice.",
    )
    amount_handed_over = fields.Monetary(
        string="Handed Over Amount",
        readonly=True,
        help="The open amount of the invoice on the notice that handed it over to the "
        "collection agency.",
    )
    handover_share = fields.Float(
        string="Handed Over (%)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="The handed over amount as a share of the dunned amount (weighted by amount).",
    )

    def _query(self):
        # The first notice of an invoice is the one of its first reminder date,
        # the handover notice the one of its handover date: a customer has one
        # live notice per day (isp_dunning_notice_unique_per_day), so both are
        # plain joins, without sorting per invoice.
        return """
            SELECT r.*,
                   100 * r.amount_handed_over / NULLIF(r.amount_dunned, 0) AS handover_share
              FROM (
                SELECT m.id AS id,
                       m.id AS move_id,
                       m.company_id AS company_id,
                       m.commercial_partner_id AS partner_id,
                       m.dunning_level_id AS level_id,
                       m.currency_id AS currency_id,
                       m.dunning_first_date AS date,
                       COALESCE(m.dunning_handed_over, FALSE) AS handed_over,
                       m.dunning_handover_date AS handover_date,
                       COALESCE(first_line.amount_open, 0) AS amount_dunned,
                       COALESCE(handover_line.amount_open, 0) AS amount_handed_over
                  FROM account_move m
                  LEFT JOIN (
                        isp_dunning_notice_line first_line
                        JOIN isp_dunning_notice first_notice
                          ON first_notice.id = first_line.notice_id
                         AND first_notice.state NOT IN
                             ('draft', 'cancelled', 'proposed', 'released')
                       )
                    ON first_line.move_id = m.id
                   AND first_notice.date = m.dunning_first_date
                  LEFT JOIN (
                        isp_dunning_notice_line handover_line
                        JOIN isp_dunning_notice handover_notice
                          ON handover_notice.id = handover_line.notice_id
                         AND handover_notice.handover_mail_id IS NOT NULL
                       )
                    ON handover_line.move_id = m.id
                   AND handover_notice.date = m.dunning_handover_date
                   AND m.dunning_handed_over
                 WHERE m.move_type = 'out_invoice'
                   AND m.state = 'posted'
                   AND m.dunning_first_date IS NOT NULL
                   AND m.dunning_fee_notice_id IS NULL
              ) r
        """
