from odoo import api, fields, models
from odoo.exceptions import UserError

from ..domain.money import sum_money


class IspDunningRegisterPayment(models.TransientModel):
    """Register a customer's payment of a notice: the payment is posted and
    allocated to the notice's open items in the order of § 367 BGB (costs,
    interest, principal); what it does not cover stays open and is dunned."""

    _name = "isp.dunning.register.payment"
    _description = "Register Payment of a Dunning Notice"

    notice_id = fields.Many2one("isp.dunning.notice", required=True, readonly=True)
    company_id = fields.Many2one(related="notice_id.company_id")
    partner_id = fields.Many2one(related="notice_id.partner_id", string="Customer")
    currency_id = fields.Many2one(related="notice_id.currency_id")
    amount_open = fields.Monetary(
        string="Open on the Notice",
        compute="_compute_amount_open",
        help="What is open today of the notice's fee document and invoices.",
    )
    amount = fields.Monetary(required=True)
    date = fields.Date(string="Payment Date", required=True, default=fields.Date.context_today)
    journal_id = fields.Many2one(
        "account.journal",
        required=True,
        domain="[('type', 'in', ('bank', 'cash')), ('company_id', '=', company_id)]",
    )
    memo = fields.Char(compute="_compute_memo", store=True, readonly=False)

    @api.depends("notice_id")
    def _compute_amount_open(self):
        Match = self.env["isp.dunning.payment.match"]
        for wizard in self:
            items, _lines = Match._open_items(wizard.notice_id)
            wizard.amount_open = float(sum_money(item.amount for item in items))

    @api.depends("notice_id")
    def _compute_memo(self):
        for wizard in self:
            wizard.memo = wizard.notice_id.name

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        notice = self.env["isp.dunning.notice"].browse(values.get("notice_id"))
        if notice and "amount" in fields_list and not values.get("amount"):
            items, _lines = self.env["isp.dunning.payment.match"]._open_items(notice)
            values["amount"] = float(sum_money(item.amount for item in items))
        if notice and "journal_id" in fields_list and not values.get("journal_id"):
            values["journal_id"] = (
                self.env["account.journal"]
                .search([("type", "=", "bank"), ("company_id", "=", notice.company_id.id)], limit=1)
                .id
            )
        return values

    def action_register(self):
        self.ensure_one()
        notice = self.notice_id
        if notice.state == "cancelled":
            raise UserError(self.env._("Notice %s is cancelled.", notice.name))
        if self.currency_id.compare_amounts(self.amount, 0.0) <= 0:
            raise UserError(self.env._("Enter the amount received; it must be positive."))
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": notice.partner_id.id,
                "amount": self.amount,
                "currency_id": self.currency_id.id,
                "date": self.date,
                "journal_id": self.journal_id.id,
                "memo": self.memo,
                "company_id": notice.company_id.id,
            }
        )
        payment.action_post()
        counterpart = payment._seek_for_lines()[1].filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        if not payment.move_id or len(counterpart) != 1:
            raise UserError(
                self.env._(
                    "Journal %s books payments without a journal entry (no outstanding "
                    "receipts account); choose another journal or set that account.",
                    self.journal_id.display_name,
                )
            )
        self.env["isp.dunning.payment.match"]._allocate(
            counterpart, notice, self.memo or "", payment.display_name
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.payment",
            "res_id": payment.id,
            "view_mode": "form",
        }
