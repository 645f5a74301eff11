from odoo import api, fields, models
from odoo.exceptions import AccessDenied


class ResUsers(models.Model):
    _inherit = "res.users"

    # Not in SELF_WRITEABLE_FIELDS: a blocked portal user cannot lift the block.
    dunning_blocked = fields.Boolean(
        string="Blocked by Dunning",
        readonly=True,
        copy=False,
        groups="isp_dunning.group_dunning_user",
        help="Login is refused and open sessions end because of unpaid invoices.",
    )
    dunning_blocked_date = fields.Datetime(
        string="Blocked by Dunning On",
        readonly=True,
        copy=False,
        groups="isp_dunning.group_dunning_user",
    )
    dunning_block_notice_id = fields.Many2one(
        "isp.dunning.notice",
        string="Blocking Notice",
        readonly=True,
        copy=False,
        ondelete="set null",
        groups="isp_dunning.group_dunning_user",
        help="The dunning notice that blocked this user; empty for a block set by hand.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        users = super().create(vals_list)
        # A new portal access of a blocked customer starts blocked.
        users._dunning_block_if_customer_blocked()
        return users

    def _dunning_block_if_customer_blocked(self):
        portal = self.env.ref("base.group_portal")
        for user in self.sudo().filtered(lambda u: u.share and portal in u.groups_id):
            customer = user.partner_id.commercial_partner_id
            if customer.dunning_portal_blocked:
                user.write(
                    {
                        "dunning_blocked": True,
                        "dunning_blocked_date": fields.Datetime.now(),
                        "dunning_block_notice_id": customer.dunning_portal_block_notice_id.id,
                    }
                )

    def _get_session_token_fields(self):
        # The token changes with the block, so open sessions end at their next request.
        return super()._get_session_token_fields() | {"dunning_blocked"}

    def _check_credentials(self, credential, env):
        auth_info = super()._check_credentials(credential, env)
        # Checked after the password so that the message reveals nothing to strangers.
        user = self.env.user.sudo()
        if user.dunning_blocked:
            raise AccessDenied(user._dunning_blocked_message())
        return auth_info

    def _dunning_blocked_message(self):
        """The company's message for this blocked user, in the user's language."""
        self.ensure_one()
        notice = self.dunning_block_notice_id
        company = (notice.company_id or self.company_id).with_context(lang=self.lang or "en_US")
        message = company._dunning_blocked_message()
        # No new token here: the login's transaction is rolled back.
        pay_url = notice._dunning_pay_url(create_token=False) if notice else ""
        if pay_url:
            message = f"{message} " + company.env._("Pay now: %s", pay_url)
        return message
