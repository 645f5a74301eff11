# pylint: disable=consider-merging-classes-inherited
from types import SimpleNamespace

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..domain import review
from ..services import proposal


class IspDunningNotice(models.Model):  # pylint: disable=consider-merging-classes-inherited
    """The review of a proposal (Mahnvorschlag): proposed notices, the
    reviewers' decisions with their reasons, and the release
    (services/proposal.py)."""

    _inherit = "isp.dunning.notice"

    state = fields.Selection(
        selection_add=[("proposed", "Proposed"), ("released", "Released")],
        ondelete={"proposed": "cascade", "released": "cascade"},
    )
    review_excluded_move_ids = fields.Many2many(
        "account.move",
        "isp_dunning_notice_review_excluded_rel",
        "notice_id",
        "move_id",
        string="Invoices Removed in Review",
        readonly=True,
        copy=False,
    )
    review_level_id = fields.Many2one(
        "isp.dunning.level",
        string="Level Lowered To",
        readonly=True,
        copy=False,
        help="The review lowered the notice to this level.",
    )
    review_waive_fee = fields.Boolean(string="Fee Waived", readonly=True, copy=False)
    review_waive_interest = fields.Boolean(string="Interest Waived", readonly=True, copy=False)
    review_removed = fields.Boolean(
        string="Removed in Review",
        readonly=True,
        copy=False,
        help="The customer was removed from the proposal: nothing is booked or sent.",
    )
    review_nothing_due = fields.Boolean(
        string="Nothing to Book",
        readonly=True,
        copy=False,
        help="After the review's decisions (or payments since the proposal) the notice "
        "would book nothing.",
    )
    review_fee_waived_amount = fields.Monetary(
        string="Fee Not Charged (Review)",
        readonly=True,
        copy=False,
        help="The fee the review waived: it is not charged.",
    )
    review_interest_waived_amount = fields.Monetary(
        string="Interest Not Charged (Review)",
        readonly=True,
        copy=False,
        help="The interest the review waived: it is not charged and the days are forgiven.",
    )
    review_note = fields.Text(
        string="Review Decisions",
        readonly=True,
        copy=False,
        help="The review's decisions with their reasons.",
    )
    review_released_notice_id = fields.Many2one(
        "isp.dunning.notice",
        string="Booked Notice",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The notice the release of this proposal booked.",
    )
    review_proposal_id = fields.Many2one(
        "isp.dunning.notice",
        string="Proposal",
        readonly=True,
        copy=False,
        help="The reviewed proposal this notice was released from.",
    )
    review_level_choice_ids = fields.Many2many(
        "isp.dunning.level", compute="_compute_review_level_choice_ids"
    )

    def init(self):
        # The one-live-notice-per-day index leaves out what is not live:
        # cancelled notices and those of a proposal (proposed, released).
        result = super().init()
        self.env.cr.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'isp_dunning_notice_unique_per_day'"
        )
        row = self.env.cr.fetchone()
        if row and "proposed" not in row[0]:
            self.env.cr.execute("DROP INDEX isp_dunning_notice_unique_per_day")
            row = None
        if not row:
            self.env.cr.execute(
                """
                CREATE UNIQUE INDEX isp_dunning_notice_unique_per_day
                    ON isp_dunning_notice (company_id, partner_id, currency_id, date)
                 WHERE state NOT IN ('cancelled', 'proposed', 'released')
                """
            )
        return result

    @api.depends("level_id", "line_ids.move_id")
    def _compute_review_level_choice_ids(self):
        for notice in self:
            if notice.state != proposal.PROPOSED:
                notice.review_level_choice_ids = False
                continue
            ladder = self.env["isp.dunning.level"]._get_ladder(notice.company_id)
            levels = [SimpleNamespace(id=lv.id, sort_key=(lv.sequence, lv.id)) for lv in ladder]
            current = notice.line_ids.move_id.dunning_level_id.ids
            ids = review.level_choices(levels, notice.level_id.id, current)
            notice.review_level_choice_ids = [(6, 0, ids)]

    @api.ondelete(at_uninstall=False)
    def _unlink_only_draft_or_cancelled(self):
        # Proposed notices are removed when a new run replaces them.
        others = self.filtered(lambda n: n.state != proposal.PROPOSED)
        return super(IspDunningNotice, others)._unlink_only_draft_or_cancelled()

    # ------------------------------------------------------------------
    # Review (Dunning Users) and release (Dunning Managers)
    # ------------------------------------------------------------------
    def _review_check(self):
        """Proposed notices the current user may review (read access)."""
        self.check_access("read")
        if not self.env.user.has_group("isp_dunning.group_dunning_user"):
            raise UserError(self.env._("Only dunning users can review a dunning proposal."))
        done = self.filtered(lambda n: n.state != proposal.PROPOSED)
        if done:
            raise UserError(
                self.env._(
                    "Only proposed notices can be reviewed; %s is not a proposal any more.",
                    done[0].display_name,
                )
            )

    def _open_review_wizard(self, action, move=None):
        self._review_check()
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Review"),
            "res_model": "isp.dunning.review.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_notice_id": self.id,
                "default_action": action,
                "default_move_id": move.id if move else False,
            },
        }

    def action_review_waive_fee(self):
        return self._open_review_wizard("waive_fee")

    def action_review_waive_interest(self):
        return self._open_review_wizard("waive_interest")

    def action_review_lower_level(self):
        return self._open_review_wizard("lower_level")

    def action_review_remove(self):
        return self._open_review_wizard("remove")

    def action_release(self):
        """Release the proposals (Dunning Managers): book and deliver them as
        the automatic run does, with the review's decisions."""
        booked = proposal.release(self)
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Released Notices"),
            "res_model": self._name,
            "view_mode": "list,form",
            "domain": [("id", "in", booked.ids)],
        }

    @api.model
    def action_release_all(self):
        """Release every proposal of the current companies."""
        proposals = self.search(
            [("state", "=", proposal.PROPOSED), ("company_id", "in", self.env.companies.ids)]
        )
        if not proposals:
            raise UserError(self.env._("There is no proposal to release."))
        return proposals.action_release()
