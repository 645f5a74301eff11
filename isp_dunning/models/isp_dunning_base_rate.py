from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..domain.interest import BaseRate
from ..domain.money import to_decimal


class IspDunningBaseRate(models.Model):
    """German base rate (Basiszinssatz, § 247 BGB), valid from date_from
    until the next entry. The Bundesbank publishes it on 1 January and
    1 July; accountants enter new rates here."""

    _name = "isp.dunning.base.rate"
    _description = "Base Interest Rate (§ 247 BGB)"
    _order = "date_from desc"
    _rec_name = "date_from"

    date_from = fields.Date(string="Valid From", required=True)
    rate = fields.Float(
        string="Base Rate (%)",
        digits=(5, 2),
        required=True,
        help="Annual base rate in percent; may be negative.",
    )
    note = fields.Char()

    _sql_constraints = [
        (
            "date_from_unique",
            "UNIQUE(date_from)",
            "There is already a base rate for this date.",
        ),
    ]

    @api.constrains("rate")
    def _check_rate(self):
        for record in self:
            if not -20.0 <= record.rate <= 50.0:
                raise ValidationError(
                    self.env._(
                        "The base rate valid from %(date)s is %(rate)s %%, which is "
                        "not plausible. Enter the annual rate in percent, e.g. 1.27.",
                        date=record.date_from,
                        rate=record.rate,
                    )
                )

    @api.depends("date_from", "rate")
    def _compute_display_name(self):
        for record in self:
            record.display_name = self.env._(
                "%(rate)s %% from %(date)s", rate=record.rate, date=record.date_from
            )

    @api.model
    def _get_base_rates(self):
        """All base rates as plain domain values, oldest first."""
        rows = self.sudo().search_read(
            [("date_from", "!=", False)], ["date_from", "rate"], order="date_from"
        )
        return tuple(BaseRate(row["date_from"], to_decimal(round(row["rate"], 2))) for row in rows)
