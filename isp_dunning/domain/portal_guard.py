"""§ 61 TKG: when a consumer's portal access (their line) may be blocked.

A consumer is blocked only when, on the day of the block, the undisputed
arrears reach the company's threshold and a notice announced the block at
least the announcement period before, for an invoice that is still open.
Businesses are not protected; a company can switch the guard off.

Whoever the customer, a block (and the provisioning action of a blocking
level) starts only on a working day of the company's calendar: a block due
on a weekend or a public holiday is postponed to the next working day
(``domain.dates.WorkingCalendar``).
"""

from datetime import timedelta
from decimal import Decimal

from .money import to_decimal

BELOW_THRESHOLD = "below_threshold"
NOT_ANNOUNCED = "not_announced"


def block_guard(guard_enabled, is_business, arrears, threshold, announced):
    """Why the block must wait: a tuple of reasons (``BELOW_THRESHOLD``,
    ``NOT_ANNOUNCED``), empty when the block may go ahead.

    :param arrears: undisputed arrears in company currency, rounded
    :param threshold: the company's blocking threshold
    :param announced: whether an announcement old enough covers an open invoice
    """
    if not guard_enabled or is_business:
        return ()
    reasons = []
    if to_decimal(arrears) < to_decimal(threshold):
        reasons.append(BELOW_THRESHOLD)
    if not announced:
        reasons.append(NOT_ANNOUNCED)
    return tuple(reasons)


def undisputed_arrears(items, today):
    """The undisputed arrears of one customer: overdue open invoice amounts
    without invoices disputed on ``today``, less unallocated payments and
    credits (any negative open item, due or not).

    :param items: (residual, is_invoice, due_date, disputed_until) per open
        receivable item; ``disputed_until`` is the date up to which the
        invoice is paused as disputed, or None
    """
    total = Decimal("0")
    for residual, is_invoice, due_date, disputed_until in items:
        residual = to_decimal(residual)
        if residual < 0:
            total += residual
        elif (
            is_invoice
            and due_date is not None
            and due_date < today
            and not (disputed_until is not None and disputed_until >= today)
        ):
            total += residual
    return total


# What a notice does to its customer's portal access.
BLOCK = "block"
POSTPONE = "postpone"


def notice_block_step(level_blocks, already_blocked, guard_reasons, working_day=True):
    """What a notice at a level does to the portal: ``BLOCK``, ``POSTPONE``
    (the guard gave reasons, or the notice's day is not a working day of the
    company; the notice records why and a later run tries again) or None
    (the level does not block, or the customer is blocked already)."""
    if not level_blocks or already_blocked:
        return None
    return POSTPONE if guard_reasons or not working_day else BLOCK


def first_blocking_sequence(levels):
    """The sequence of a company's first blocking level, from (sequence,
    blocks portal) pairs; None when no level blocks."""
    return min((sequence for sequence, blocks in levels if blocks), default=None)


def keeps_blocked(level_sequence, first_blocking, paused_until, today, settled):
    """Whether an invoice keeps its customer's portal blocked: dunned at or
    above the company's first blocking level, not paused on ``today`` and not
    settled. A customer none of whose invoices keeps the block is released."""
    if first_blocking is None or level_sequence is None or settled:
        return False
    if paused_until is not None and paused_until >= today:
        return False
    return level_sequence >= first_blocking


def announcement_counts(delivered_on, today, notice_days):
    """Whether an announcement of the block counts on ``today``: it was
    actually sent or printed (``delivered_on``, None while it waits in the
    queue) at least ``notice_days`` days before. Its creation date does not
    count: the customer learns of the block when the notice reaches them."""
    if delivered_on is None:
        return False
    return delivered_on <= today - timedelta(days=notice_days)


# What the end of a run does with a customer's latest blocking notice whose
# block is not in force.
BLOCK_AGAIN = "block_again"


def retry_block_step(postponed, blocked, released, from_this_run):
    """Whether the end of a run tries the block of a customer's latest
    blocking notice again: ``BLOCK`` when the block was postponed by the
    consumer guard, ``BLOCK_AGAIN`` when a block lifted on payment may come
    back (an invoice of the notice is open again, e.g. a returned debit),
    None otherwise. Notices of the run itself were decided moments ago with
    the same date and are not tried again. Only the latest blocking notice
    counts: a block lifted by a manager after a later notice stays lifted."""
    if from_this_run:
        return None
    if postponed and not blocked:
        return BLOCK
    if blocked and released:
        return BLOCK_AGAIN
    return None


def retry_goes_ahead(keeps_blocked, guard_reasons, working_day=True):
    """Whether a retried block goes ahead: an invoice still keeps the
    customer blocked (``keeps_blocked``), the guard gives no reason to wait
    and the day is a working day of the company."""
    return bool(keeps_blocked) and not guard_reasons and bool(working_day)


def releases_block(blocked, by_hand, keeps_blocked):
    """Whether dunning lifts a customer's portal block: blocked by dunning
    (a block set by hand stays until a manager lifts it) and no invoice left
    that keeps it (``keeps_blocked``)."""
    return bool(blocked) and not by_hand and not keeps_blocked
