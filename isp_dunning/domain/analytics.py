"""Recovery analytics: the rules behind the dunning analysis reports.

The reports (``report/``) are SQL views; the SQL that buckets, windows and
divides is built from, or checked against, the rules here:

* age of an open invoice: days past its due date, in buckets;
* recovery: money received on a notice's invoices from the day after the
  notice up to and including the N-th day after it (a payment on the notice's
  own day was mostly booked before the run and is not on the notice);
  received means reconciled with an entry of a bank, cash or credit card
  journal (payments and bank statement lines, not credit notes or
  write-offs);
* shares (recovered, handed over, received) are weighted: the sum of the
  parts over the sum of the wholes, never an average of ratios;
* days sales outstanding: open receivables over the sales of the last
  ``DSO_PERIOD_DAYS`` days (the as-of day included), times those days.
"""

from datetime import timedelta
from decimal import Decimal

from .money import to_decimal

# (key, first day overdue, last day overdue); None is open-ended.
AGE_BUCKETS = (
    ("not_due", None, 0),
    ("1_30", 1, 30),
    ("31_60", 31, 60),
    ("61_90", 61, 90),
    ("91_180", 91, 180),
    ("over_180", 181, None),
)

RECOVERY_WINDOWS = (14, 30)

# Journals whose entries bring money in.
RECEIPT_JOURNAL_TYPES = ("bank", "cash", "credit")

DSO_PERIOD_DAYS = 90

HUNDRED = Decimal(100)


def days_overdue(due_date, as_of):
    """Days past the due date on ``as_of`` (negative: not yet due)."""
    return (as_of - due_date).days


def age_bucket(days):
    """The key of the age bucket of an invoice ``days`` overdue."""
    for key, first, last in AGE_BUCKETS:
        if (first is None or days >= first) and (last is None or days <= last):
            return key
    raise ValueError(f"no age bucket for {days} days")  # pragma: no cover


def age_bucket_sql(days_expression):
    """A SQL ``CASE`` giving the bucket key of ``days_expression`` (an
    integer SQL expression written by the caller, never user input)."""
    # The buckets are contiguous: the upper bounds decide, in order.
    branches = [
        f"WHEN {days_expression} <= {int(last)} THEN '{key}'"
        for key, _first, last in AGE_BUCKETS[:-1]
    ]
    return f"CASE {' '.join(branches)} ELSE '{AGE_BUCKETS[-1][0]}' END"


def in_recovery_window(notice_date, payment_date, window_days):
    """Whether money received on ``payment_date`` counts as recovered within
    ``window_days`` of a notice of ``notice_date``."""
    return 1 <= (payment_date - notice_date).days <= window_days


def recovered(notice_date, payments, window_days):
    """The sum of the ``(date, amount)`` payments received within the window."""
    return sum(
        (
            to_decimal(amount)
            for when, amount in payments
            if in_recovery_window(notice_date, when, window_days)
        ),
        Decimal(0),
    )


def share(part, whole):
    """``part`` as a percentage of ``whole``; None when there is no whole."""
    whole = to_decimal(whole)
    if not whole:
        return None
    return to_decimal(part) * HUNDRED / whole


def dso_period(as_of, days=DSO_PERIOD_DAYS):
    """The first and last day of the sales period of the DSO on ``as_of``."""
    return as_of - timedelta(days=days - 1), as_of


def dso(receivable, sales, days=DSO_PERIOD_DAYS):
    """Days sales outstanding: receivables over the period's sales, times
    the period's days; None without sales."""
    sales = to_decimal(sales)
    if not sales:
        return None
    return to_decimal(receivable) * Decimal(days) / sales
