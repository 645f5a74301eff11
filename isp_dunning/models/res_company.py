from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..domain import accounts as charge_accounts
from ..domain import parallel

INCOME_ACCOUNT_DOMAIN = (
    "[('account_type', 'in', ('income', 'income_other')), ('tax_ids', '=', False)]"
)
CHARGE_ACCOUNT_FIELDS = {
    charge_accounts.FEE: "dunning_fee_account_id",
    charge_accounts.LUMP_SUM: "dunning_lump_sum_account_id",
    charge_accounts.INTEREST: "dunning_interest_account_id",
}
JOURNAL_CODES = ("MK", "MKO", "MK1", "MK2", "MK3")


class ResCompany(models.Model):
    _inherit = "res.company"

    dunning_journal_id = fields.Many2one(
        "account.journal",
        domain="[('type', '=', 'sale'), ('company_id', '=', id)]",
        help="Sales journal of its own for fee and interest documents (Mahnkosten, code MK), "
        "so that invoice numbers and revenue reports stay clean.",
    )
    dunning_product_id = fields.Many2one(
        "product.product",
        string="Dunning Fee Product",
        help="Product on the lines of fee and interest documents.",
    )
    dunning_fee_account_id = fields.Many2one(
        "account.account",
        domain=INCOME_ACCOUNT_DOMAIN,
        help="Income account of dunning fees, without default taxes (SKR03 2700, SKR04 4830).",
    )
    dunning_lump_sum_account_id = fields.Many2one(
        "account.account",
        string="Lump Sum Account",
        domain=INCOME_ACCOUNT_DOMAIN,
        help="Income account of the lump sums of § 288 (5) BGB, without default taxes "
        "(SKR03 2700, SKR04 4830).",
    )
    dunning_interest_account_id = fields.Many2one(
        "account.account",
        string="Default Interest Account",
        domain=INCOME_ACCOUNT_DOMAIN,
        help="Income account of default interest, without default taxes (SKR03 2650, SKR04 7100).",
    )
    dunning_review_required = fields.Boolean(
        string="Review Proposals Before Sending",
        help="The dunning run books and sends nothing: it proposes its notices "
        "(Mahnvorschlag); dunning users review them and a dunning manager releases them. "
        "A proposal not released by the next run is replaced by it.",
    )
    dunning_tolerance = fields.Monetary(
        currency_field="currency_id",
        default=1.0,
        help="Open amounts up to this value are not dunned.",
    )
    dunning_interest_start = fields.Selection(
        [
            ("due_date", "From the day after the due date"),
            ("first_notice", "From the day after the first reminder"),
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
    dunning_return_charge = fields.Monetary(
        string="Returned Debit Charge",
        currency_field="currency_id",
        default=0.0,
        help="Charged on the next notice for each returned direct debit "
        "(Rücklastschrift), e.g. the bank's return fee. 0: nothing is charged.",
    )
    dunning_batch_size = fields.Integer(
        default=500,
        help="Customers processed per transaction in a dunning run.",
    )
    dunning_parallel_workers = fields.Integer(
        string="Parallel Workers",
        default=1,
        help="Scheduled dunning runs of this company split their customers into batches that "
        "this many workers process at once (Odoo cron threads or servers on the same "
        "database). 1: one worker, batch after batch. Manual runs and previews always use one.",
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
        "dunning_parallel_workers",
        "dunning_block_threshold",
        "dunning_block_notice_days",
        "dunning_return_charge",
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
            if not 1 <= company.dunning_parallel_workers <= parallel.MAX_WORKERS:
                raise ValidationError(
                    self.env._(
                        "The parallel workers of a dunning run must be between 1 and %s.",
                        parallel.MAX_WORKERS,
                    )
                )
            if company.dunning_block_threshold < 0:
                raise ValidationError(self.env._("The blocking threshold cannot be negative."))
            if company.dunning_return_charge < 0:
                raise ValidationError(
                    self.env._("The charge for a returned debit cannot be negative.")
                )
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

    @api.constrains(*CHARGE_ACCOUNT_FIELDS.values())
    def _check_dunning_income_accounts(self):
        # Fee documents would fail to post, or carry VAT, for every customer of a run.
        for company in self:
            for kind, account in company._dunning_charge_accounts().items():
                if account:
                    company._dunning_check_charge_account(kind, account, ValidationError)

    def _dunning_charge_label(self, kind):
        return {
            charge_accounts.FEE: self.env._("dunning fees"),
            charge_accounts.LUMP_SUM: self.env._("lump sums"),
            charge_accounts.INTEREST: self.env._("default interest"),
        }[kind]

    def _dunning_check_charge_account(self, kind, account, error):
        """Raise ``error`` saying what to fix when ``account`` cannot take
        the charges of ``kind``."""
        self.ensure_one()
        charge = self._dunning_charge_label(kind)
        if not account.filtered_domain(account._check_company_domain(self)):
            raise error(
                self.env._(
                    "The income account for %(charge)s, %(account)s, does not belong to "
                    "%(company)s.",
                    charge=charge,
                    account=account.display_name,
                    company=self.name,
                )
            )
        if account.account_type not in charge_accounts.INCOME_TYPES:
            raise error(
                self.env._(
                    "The account for %(charge)s, %(account)s, must be an income account.",
                    charge=charge,
                    account=account.display_name,
                )
            )
        if account.tax_ids:
            raise error(
                self.env._(
                    "The account %(account)s carries the default tax %(taxes)s, but %(charge)s "
                    "are booked without VAT. Choose an income account without default taxes "
                    "for %(charge)s in the Accounting settings, or remove the default tax from "
                    "the account.",
                    account=account.display_name,
                    taxes=", ".join(account.tax_ids.mapped("name")),
                    charge=charge,
                )
            )

    def _dunning_charge_accounts(self):
        """The income account per charge kind (fee, lump sum, interest)."""
        self.ensure_one()
        return {kind: self[field] for kind, field in CHARGE_ACCOUNT_FIELDS.items()}

    def _dunning_default_accounts(self, chart_template=None):
        """The default income account per charge kind from the company's
        chart (``domain/accounts.py``); ``chart_template`` overrides the
        company's."""
        self.ensure_one()
        Account = self.env["account.account"].sudo().with_company(self)
        found = Account.search(
            [
                *Account._check_company_domain(self),
                ("account_type", "in", charge_accounts.INCOME_TYPES),
                ("deprecated", "=", False),
            ]
        )
        ids = charge_accounts.default_accounts(
            chart_template or self.chart_template,
            [charge_accounts.Account(a.id, a.code, a.account_type, bool(a.tax_ids)) for a in found],
        )
        return {kind: Account.browse(account_id) for kind, account_id in ids.items()}

    def _dunning_setup_accounting(self, chart_template=None):
        """Give each company with a chart of accounts what fee documents are
        booked with, where it is not set yet: the income account per charge
        kind and a sales journal of their own (Mahnkosten, code MK, numbered
        MK/2026/00001)."""
        for company in self.sudo():
            defaults = company._dunning_default_accounts(chart_template)
            vals = {
                field: defaults[kind].id
                for kind, field in CHARGE_ACCOUNT_FIELDS.items()
                if not company[field] and defaults[kind]
            }
            if not company.dunning_journal_id:
                fee_account = company.dunning_fee_account_id or defaults[charge_accounts.FEE]
                vals["dunning_journal_id"] = company._dunning_create_journal(fee_account).id
            if vals:
                company.write(vals)

    def _dunning_migrate_settings(self, old_account):
        """Version 18.0.1.2.0: the single income account of fee documents
        became one per charge kind and the documents got a journal of their
        own. ``old_account`` is the company's old setting (empty when it
        used the journal's default account). Posted documents stay as they
        are; only the settings move:

        * an old account that can take charges (income, no default tax,
          of the company) stays the account of every kind; an empty one, or
          one with a default tax (such as SKR03 8400 with 19 % VAT), gives
          way to the chart's defaults;
        * an old journal that holds nothing but fee documents stays; an
          empty setting or the customer invoice journal gives way to a new
          journal of their own (Mahnkosten, MK).
        """
        self.ensure_one()
        company = self.sudo()
        old_account = old_account.sudo().exists()
        if old_account and old_account.filtered_domain(
            [
                *old_account._check_company_domain(company),
                ("account_type", "in", charge_accounts.INCOME_TYPES),
                ("tax_ids", "=", False),
            ]
        ):
            company.write(
                {
                    field: old_account.id
                    for field in CHARGE_ACCOUNT_FIELDS.values()
                    if not company[field]
                }
            )
        journal = company.dunning_journal_id
        if journal:
            shared = (
                self.env["account.move"]
                .sudo()
                .search_count(
                    [("journal_id", "=", journal.id), ("dunning_fee_notice_id", "=", False)],
                    limit=1,
                )
            )
            if shared:
                company.dunning_journal_id = False
        company._dunning_setup_accounting()

    def _dunning_create_journal(self, default_account):
        """The company's sales journal for fee documents (a free code of
        ``JOURNAL_CODES``), named in every installed language."""
        self.ensure_one()
        Journal = self.env["account.journal"].sudo().with_context(active_test=False)
        taken = set(Journal.search([("company_id", "=", self.id)]).mapped("code"))
        code = next((c for c in JOURNAL_CODES if c not in taken), None)
        if code is None:
            raise UserError(
                self.env._(
                    "%s has no free journal code for dunning charges; create a sales journal "
                    "and choose it in the Accounting settings.",
                    self.name,
                )
            )
        journal = Journal.create(
            {
                "name": "Dunning Charges",
                "code": code,
                "type": "sale",
                "company_id": self.id,
                "default_account_id": default_account.id or False,
                "show_on_dashboard": False,
                "sequence": 50,
            }
        )
        journal.update_field_translations(
            "name",
            {
                lang: self.with_context(lang=lang).env._("Dunning Charges")
                for lang, _name in self.env["res.lang"].get_installed()
            },
        )
        return journal

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
        return self.dunning_journal_id
