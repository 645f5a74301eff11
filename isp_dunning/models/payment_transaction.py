from odoo import fields, models


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    dunning_credit_move_ids = fields.Many2many(
        "account.move",
        "isp_dunning_payment_transaction_credit_rel",
        "transaction_id",
        "move_id",
        string="Netted Credits",
        readonly=True,
        copy=False,
        help="Credit notes and payments of the customer that a dunning notice's pay link "
        "netted against the documents this transaction pays; they are reconciled with "
        "those documents together with the payment.",
    )

    def _create_payment(self, **extra_create_values):
        payment = super()._create_payment(**extra_create_values)
        self._dunning_settle_credits()
        return payment

    def _dunning_settle_credits(self):
        """Reconcile the credits netted on a pay link with what the payment
        left open of the transaction's documents: the payment covered the
        documents less the credits, the credits cover the rest."""
        self.ensure_one()
        credits = self.dunning_credit_move_ids.filtered(lambda move: move.state == "posted")
        documents = self.invoice_ids.filtered(lambda move: move.state == "posted")
        if not credits or not documents:
            return
        lines = (documents.line_ids | credits.line_ids).filtered(
            lambda line: (
                line.account_id.account_type == "asset_receivable"
                and not line.reconciled
                and line.move_id.commercial_partner_id == self.partner_id.commercial_partner_id
            )
        )
        for account in lines.account_id:
            lines.filtered(lambda line, account=account: line.account_id == account).reconcile()
