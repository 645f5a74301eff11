from odoo import models

from ..domain import returns


class AccountPayment(models.Model):
    _inherit = "account.payment"

    def action_draft(self):
        undone = self._dunning_undone_invoices()
        result = super().action_draft()
        self._dunning_record_undone(undone)
        return result

    def action_cancel(self):
        undone = self._dunning_undone_invoices()
        result = super().action_cancel()
        self._dunning_record_undone(undone)
        return result

    def _dunning_undone_invoices(self):
        """(invoice id, payment id) of the posted customer invoices these
        payments put in payment without a journal entry of their own (those
        with one are undone through their reconciliation)."""
        return [
            (invoice.id, payment.id)
            for payment in self
            if not payment.move_id and payment.state in ("in_process", "paid")
            for invoice in payment.invoice_ids
            if invoice.move_type == "out_invoice" and invoice.state == "posted"
        ]

    def _dunning_record_undone(self, undone):
        invoices = self.env["account.move"].browse({invoice_id for invoice_id, _p in undone})
        if invoices:
            invoices._dunning_record_returns(returns.returns_by_invoice(undone))
