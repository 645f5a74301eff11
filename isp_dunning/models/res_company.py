from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    dunning_journal_id = fields.Many2one(
        "account.journal",
        domain="[('type', '=', 'sale'), ('company_id', '=', id)]",
        help="Sales journal for fee and interest documents. Defaults to the first sales journal.",
    )
    dunning_product_id = fields.Many2one(
        "product.product",
        string="Dunning Fee Product",
        help="Product on the lines of fee and interest documents.",
    )
    dunning_income_account_id = fields.Many2one(
        "account.account",
        domain="[('account_type', 'in', ('income', 'income_other'))]",
        help="Income account for dunning fees, lump sums and default interest. "
        "Defaults to the journal's default account.",
    )
    dunning_tolerance = fields.Monetary(
        currency_field="currency_id",
        default=1.0,
        help="Open amounts up to this value are not dunned.",
    )
    dunning_interest_start = fields.Selection(
        [
            ("due_date", "From the due date"),
            ("first_notice", "From the first reminder"),
        ],
        string="Interest Starts",
        default="due_date",
        required=True,
    )
    dunning_payment_days = fields.Integer(
        string="Payment Deadline (days)",
        default=10,
        help="The new payment deadline printed on a notice, in days after its date.",
    )
    dunning_dun_fee_documents = fields.Boolean(
        string="Dun Fee Documents",
        help="Also dun the documents that book dunning fees and interest.",
    )
    dunning_batch_size = fields.Integer(
        default=500,
        help="Customers processed per transaction in a dunning run.",
    )
    dunning_portal_blocked_message = fields.Text(
        string="Blocked Portal Message",
        translate=True,
        help="Shown to portal users blocked for unpaid invoices. Leave empty for "
        "the standard text in the user's language.",
    )
    dunning_consumer_guard = fields.Boolean(
        string="Consumer Blocking Guard (§ 61 TKG)",
        default=True,
        help="Block a consumer only above the threshold and after an announced waiting period.",
    )
    dunning_block_threshold = fields.Monetary(
        string="Blocking Threshold",
        currency_field="currency_id",
        default=100.0,
    )
    dunning_block_notice_days = fields.Integer(
        string="Block Announcement (days)",
        default=14,
    )
    dunning_release_action_id = fields.Many2one(
        "ir.actions.server",
        string="Release Server Action",
        groups="base.group_system",
        help="Runs when dunning lifts a customer's block, e.g. to restore the internet line. "
        "Only Settings administrators can set it; it runs with the access rights of the "
        "user chosen in Run Provisioning Actions As.",
    )
    dunning_action_user_id = fields.Many2one(
        "res.users",
        string="Run Provisioning Actions As",
        groups="base.group_system",
        domain=[("share", "=", False)],
        help="The server actions of dunning levels and the release action run with this "
        "internal user's access rights, in this company. Only Settings administrators can "
        "set it.",
    )

    @api.constrains(
        "dunning_tolerance",
        "dunning_payment_days",
        "dunning_batch_size",
        "dunning_block_threshold",
        "dunning_block_notice_days",
    )
    def _check_dunning_settings(self):
        for company in self:
            if company.dunning_tolerance < 0:
                raise ValidationError(self.env._("The dunning tolerance cannot be negative."))
            if company.dunning_payment_days < 0:
                raise ValidationError(
                    self.env._("The payment deadline of a notice cannot be negative.")
                )
            if company.dunning_batch_size < 1:
                raise ValidationError(self.env._("The dunning batch size must be at least 1."))
            if company.dunning_block_threshold < 0:
                raise ValidationError(self.env._("The blocking threshold cannot be negative."))
            if company.dunning_block_notice_days < 0:
                raise ValidationError(
                    self.env._("The block announcement period cannot be negative.")
                )

    @api.constrains("dunning_release_action_id", "dunning_action_user_id")
    def _check_dunning_action_user(self):
        for company in self.sudo():
            user = company.dunning_action_user_id
            if user and (user.share or company not in user.company_ids):
                raise ValidationError(
                    self.env._(
                        "Provisioning actions of %(company)s cannot run as %(user)s: choose an "
                        "internal user with access to the company.",
                        company=company.name,
                        user=user.name,
                    )
                )
            with_action = company.dunning_release_action_id or self.env[
                "isp.dunning.level"
            ].with_context(active_test=False).search_count(
                [("company_id", "=", company.id), ("server_action_id", "!=", False)], limit=1
            )
            if with_action and not user:
                raise ValidationError(
                    self.env._(
                        "%s has dunning server actions: choose the user they run as "
                        "(Run Provisioning Actions As).",
                        company.name,
                    )
                )

    def _dunning_action_user(self):
        """The user whose access rights dunning's server actions have."""
        self.ensure_one()
        user = self.sudo().dunning_action_user_id
        if not user:
            raise UserError(
                self.env._(
                    "%s has dunning server actions but no user to run them as; choose one in "
                    "the Accounting settings (Run Provisioning Actions As).",
                    self.name,
                )
            )
        return user

    @api.constrains("dunning_journal_id")
    def _check_dunning_journal(self):
        for company in self:
            journal = company.dunning_journal_id
            if journal and (journal.type != "sale" or journal.company_id != company):
                raise ValidationError(
                    self.env._("The dunning journal must be a sales journal of %s.", company.name)
                )

    @api.constrains("dunning_income_account_id")
    def _check_dunning_income_account(self):
        # Fee documents would fail to post for every customer of a run.
        for company in self:
            account = company.dunning_income_account_id
            if not account:
                continue
            if not account.filtered_domain(account._check_company_domain(company)):
                raise ValidationError(
                    self.env._(
                        "The dunning income account %(account)s does not belong to %(company)s.",
                        account=account.display_name,
                        company=company.name,
                    )
                )
            if account.account_type not in ("income", "income_other"):
                raise ValidationError(
                    self.env._(
                        "The dunning income account %s must be an income account.",
                        account.display_name,
                    )
                )

    def _dunning_blocked_message(self):
        """The message a blocked portal user sees, in the context language."""
        self.ensure_one()
        return self.dunning_portal_blocked_message or self.env._(
            "Your access has been blocked because of unpaid invoices. Please pay "
            "the open amount or contact our accounts department."
        )

    def _dunning_journal(self):
        """The journal fee documents are booked in."""
        self.ensure_one()
        return self.dunning_journal_id or self.env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", self.id)], limit=1
        )
