"""Cancelling a notice undoes it: whether a notice may be cancelled, what
happens to its mail, and what its invoices return to.

A notice is undone completely or not at all, so that the next run charges
exactly what an uninterrupted history without it would have charged: the
invoices get back the dunning state they had before the notice (stored on
its lines when it was booked), its fee document is reversed and a portal
block it caused is lifted.

Returned direct debits the notice passed on (charged, or settled without a
charge) are pending again: the next notice passes them on as the cancelled
one did. Returns recorded after the notice stay pending as well, so the
invoice's pending count is the current one plus those the notice settled.
"""

from dataclasses import dataclass
from datetime import date

# Why a notice cannot be cancelled.
HANDED_OVER = "handed_over"  # the agency has the case
LATER_NOTICE = "later_notice"  # a later notice builds on it: cancel that first
FEE_PAID = "fee_paid"  # its fee document was paid: refund the payment first

# What becomes of the notice's email.
MAIL_NONE = "none"
MAIL_CANCEL = "cancel"  # still queued (or rejected): it is never sent
MAIL_RECORD = "record"  # already sent: the cancellation is recorded

QUEUED_MAIL_STATES = ("outgoing", "exception")
SENT_MAIL_STATES = ("sent", "received")


@dataclass(frozen=True)
class InvoiceBefore:
    """The dunning state of one invoice before a notice was booked."""

    level_id: int | None
    first_date: date | None
    last_date: date | None
    next_date: date | None
    interest_until: date | None
    lump_sum_charged: bool
    handed_over: bool
    handover_date: date | None


def refusal(handed_over, later_notice, fee_paid):
    """The reasons a notice may not be cancelled, empty when it may.

    :param handed_over: the case was handed over to the collection agency
        (its handover mail exists)
    :param later_notice: a live notice dated after it covers one of its
        invoices
    :param fee_paid: its fee document was (partly) paid
    """
    reasons = []
    if handed_over:
        reasons.append(HANDED_OVER)
    if later_notice:
        reasons.append(LATER_NOTICE)
    if fee_paid:
        reasons.append(FEE_PAID)
    return tuple(reasons)


def mail_action(mail_state):
    """What cancelling does with the notice's email in ``mail_state``
    (None without an email)."""
    if mail_state in QUEUED_MAIL_STATES:
        return MAIL_CANCEL
    if mail_state in SENT_MAIL_STATES:
        return MAIL_RECORD
    return MAIL_NONE


def invoice_values(before):
    """The invoice's dunning fields as they were before the notice
    (``InvoiceBefore``), as a plain mapping of field name to value."""
    return {
        "dunning_level_id": before.level_id or False,
        "dunning_first_date": before.first_date or False,
        "dunning_last_date": before.last_date or False,
        "dunning_next_date": before.next_date or False,
        "dunning_interest_until": before.interest_until or False,
        "dunning_lump_sum_charged": bool(before.lump_sum_charged),
        "dunning_handed_over": bool(before.handed_over),
        "dunning_handover_date": before.handover_date or False,
    }


def returns_pending_after(current, settled):
    """The returned debits of an invoice still to pass on once a notice that
    settled ``settled`` of them is cancelled: those come back on top of the
    ``current`` ones (returned after the notice)."""
    if current < 0 or settled < 0:
        raise ValueError("returned debits cannot be counted below zero")
    return current + settled
