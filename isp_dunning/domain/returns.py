"""Returned direct debits (Rücklastschriften): which invoice a returned debit
is recorded on and what the next notice charges for it.

Rules:

* a returned debit is an undone payment of customer invoices: one return per
  payment (or bank statement line) taken back, whatever the number of
  invoices it had paid; it is recorded on the lowest of those invoices, so
  that the bank's charge is passed on once;
* the return is passed on with the next notice that lists that invoice,
  escalated or still open: the company's return charge once per return not
  yet passed on;
* that notice settles the invoice's returns: charged, or not charged at all
  when the company charges nothing (0); a later notice never charges them
  again.
"""

from collections import defaultdict
from decimal import Decimal


def returns_by_invoice(undone):
    """{invoice id: number of returned debits} for the undone payments.

    :param undone: (invoice id, payment id) pairs, one per undone link of an
        invoice with a payment or bank statement line (repeats allowed, e.g.
        one per instalment)
    """
    invoices_of = defaultdict(set)
    for invoice_id, payment_id in undone:
        invoices_of[payment_id].add(invoice_id)
    result = defaultdict(int)
    for invoice_ids in invoices_of.values():
        result[min(invoice_ids)] += 1
    return dict(result)


def return_charge(pending, amount):
    """What a notice charges for an invoice's ``pending`` returned debits at
    ``amount`` per return (the company's charge, in the notice's currency):
    nothing without returns or without a charge."""
    amount = Decimal(amount)
    if pending <= 0 or amount <= 0:
        return Decimal("0")
    return amount * pending
