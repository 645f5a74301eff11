from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    dunning_journal_id = fields.Many2one(related="company_id.dunning_journal_id", readonly=False)
    dunning_product_id = fields.Many2one(related="company_id.dunning_product_id", readonly=False)
    dunning_fee_account_id = fields.Many2one(
        related="company_id.dunning_fee_account_id", readonly=False
    )
    dunning_lump_sum_account_id = fields.Many2one(
        related="company_id.dunning_lump_sum_account_id", readonly=False
    )
    dunning_interest_account_id = fields.Many2one(
        related="company_id.dunning_interest_account_id", readonly=False
    )
    dunning_review_required = fields.Boolean(
        related="company_id.dunning_review_required", readonly=False
    )
    dunning_tolerance = fields.Monetary(related="company_id.dunning_tolerance", readonly=False)
    dunning_interest_start = fields.Selection(
        related="company_id.dunning_interest_start", readonly=False
    )
    dunning_payment_days = fields.Integer(related="company_id.dunning_payment_days", readonly=False)
    dunning_parallel_workers = fields.Integer(
        related="company_id.dunning_parallel_workers", readonly=False
    )
    dunning_dun_fee_documents = fields.Boolean(
        related="company_id.dunning_dun_fee_documents", readonly=False
    )
    dunning_return_charge = fields.Monetary(
        related="company_id.dunning_return_charge", readonly=False
    )
    dunning_portal_blocked_message = fields.Text(
        related="company_id.dunning_portal_blocked_message", readonly=False
    )
    dunning_consumer_guard = fields.Boolean(
        related="company_id.dunning_consumer_guard", readonly=False
    )
    dunning_block_threshold = fields.Monetary(
        related="company_id.dunning_block_threshold", readonly=False
    )
    dunning_block_notice_days = fields.Integer(
        related="company_id.dunning_block_notice_days", readonly=False
    )
    dunning_release_action_id = fields.Many2one(
        related="company_id.dunning_release_action_id", readonly=False, groups="base.group_system"
    )
    dunning_action_user_id = fields.Many2one(
        related="company_id.dunning_action_user_id", readonly=False, groups="base.group_system"
    )
