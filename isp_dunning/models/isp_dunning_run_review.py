from odoo import fields, models

from ..services import proposal


class IspDunningRun(models.Model):
    """A run of a company that reviews its proposals first replaces the
    proposal of an earlier run that was not released (services/proposal.py)."""

    _inherit = "isp.dunning.run"

    proposal_count = fields.Integer(string="Proposed Notices", compute="_compute_proposal_count")

    def _compute_proposal_count(self):
        counts = dict(
            self.env["isp.dunning.notice"]._read_group(
                [("run_id", "in", self.ids), ("state", "=", proposal.PROPOSED)],
                ["run_id"],
                ["__count"],
            )
        )
        for run in self:
            run.proposal_count = counts.get(run, 0)

    def _execute_locked(self, outcome):
        if not self.dry_run:
            # Replace, never double: a proposal not released is proposed afresh.
            proposal.replace_proposals(self, outcome)
        return super()._execute_locked(outcome)

    def action_view_proposal(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "isp_dunning.action_isp_dunning_proposal"
        )
        action["domain"] = [("run_id", "=", self.id), ("state", "=", proposal.PROPOSED)]
        return action
