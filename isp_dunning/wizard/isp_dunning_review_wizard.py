from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount

from ..services import proposal


class IspDunningReviewWizard(models.TransientModel):
    """One review decision on a proposed notice, with its reason: remove an
    invoice or the whole notice, lower the level, waive the fee or the
    interest. The reason goes into the notice's chatter and the proposal
    shows what its release would book (services/proposal.py)."""

    _name = "isp.dunning.review.wizard"
    _description = "Review a Proposed Dunning Notice"

    notice_id = fields.Many2one("isp.dunning.notice", required=True, readonly=True)
    action = fields.Selection(
        [
            ("remove_invoice", "Remove the invoice from the notice"),
            ("remove", "Remove the customer from the proposal"),
            ("lower_level", "Lower the level"),
            ("waive_fee", "Waive the fee"),
            ("waive_interest", "Waive the interest"),
        ],
        string="Decision",
        required=True,
        readonly=True,
    )
    move_id = fields.Many2one("account.move", string="Invoice", readonly=True)
    level_choice_ids = fields.Many2many("isp.dunning.level", compute="_compute_level_choice_ids")
    level_id = fields.Many2one(
        "isp.dunning.level",
        string="New Level",
        domain="[('id', 'in', level_choice_ids)]",
    )
    reason = fields.Text(required=True)

    @api.depends("notice_id")
    def _compute_level_choice_ids(self):
        for wizard in self:
            wizard.level_choice_ids = wizard.notice_id.sudo().review_level_choice_ids

    def action_confirm(self):
        self.ensure_one()
        notice = self.notice_id
        notice._review_check()
        reason = (self.reason or "").strip()
        if not reason:
            raise UserError(self.env._("Give the reason for the decision."))
        vals, text = self._decision(notice.sudo())
        notice.sudo().write(vals)
        proposal.note(notice, Markup("%s<br/>%s") % (escape(text), escape(reason)))
        proposal.refresh(notice)
        return {"type": "ir.actions.act_window_close"}

    def _decision(self, notice):
        if self.action == "remove_invoice":
            if self.move_id not in notice.line_ids.move_id:
                raise UserError(
                    self.env._("Invoice %s is not on the notice.", self.move_id.display_name)
                )
            return (
                {"review_excluded_move_ids": [(4, self.move_id.id)]},
                self.env._("Invoice %s removed from the notice.", self.move_id.name),
            )
        if self.action == "remove":
            return {"review_removed": True}, self.env._("Customer removed from the proposal.")
        if self.action == "lower_level":
            if self.level_id not in notice.review_level_choice_ids:
                raise UserError(
                    self.env._("Choose a level below the notice's level %s.", notice.level_id.name)
                )
            return (
                {"review_level_id": self.level_id.id},
                self.env._(
                    "Level lowered from %(old)s to %(new)s.",
                    old=notice.level_id.name,
                    new=self.level_id.name,
                ),
            )
        if self.action == "waive_fee":
            return (
                {"review_waive_fee": True},
                self.env._("Fee of %s waived.", self._money(notice.fee_amount, notice)),
            )
        return (
            {"review_waive_interest": True},
            self.env._("Interest of %s waived.", self._money(notice.interest_amount, notice)),
        )

    def _money(self, amount, notice):
        return format_amount(self.env, amount, notice.currency_id)
