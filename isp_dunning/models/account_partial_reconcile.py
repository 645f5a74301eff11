from odoo import models

from ..domain import returns


class AccountPartialReconcile(models.Model):
    _inherit = "account.partial.reconcile"

    def unlink(self):
        # An undone payment of a customer invoice (unreconciled, the payment
        # reset to draft or cancelled, the bank statement line taken back) is
        # a returned direct debit: the invoice resumes dunning at its level.
        undone = self._dunning_undone_payments()
        invoices = self.env["account.move"].browse({invoice_id for invoice_id, _p in undone})
        result = super().unlink()
        if invoices:
            invoices._dunning_record_returns(returns.returns_by_invoice(undone))
        return result

    def _dunning_undone_payments(self):
        """(invoice id, payment move id) of these links between a posted
        customer invoice's receivable and a payment or bank statement line;
        not those of an invoice that is itself being reset to draft."""
        drafted = set(self.env.context.get("dunning_drafted_move_ids", ()))
        undone = []
        for partial in self:
            for line, other in (
                (partial.debit_move_id, partial.credit_move_id),
                (partial.credit_move_id, partial.debit_move_id),
            ):
                invoice = line.move_id
                counterpart = other.move_id
                if (
                    invoice.move_type == "out_invoice"
                    and invoice.state == "posted"
                    and invoice.id not in drafted
                    and line.account_id.account_type == "asset_receivable"
                    and (counterpart.origin_payment_id or counterpart.statement_line_id)
                ):
                    undone.append((invoice.id, counterpart.id))
        return undone
