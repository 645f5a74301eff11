"""Payment promises and instalment agreements (Zahlungszusage,
Ratenzahlungsvereinbarung): whether a promise is pending, kept or broken.

A promise covers some open invoices of one customer in one currency and
promises one or more instalments (date, amount). What the customer paid is
what the covered invoices' open amount went down since the promise was made
(``open_then - open_now``): payments and credit notes reconciled with the
invoices count alike; an undone payment (a returned direct debit) counts
again as unpaid.

Rules, evaluated on each run's date (``today``):

* **kept** when the amount paid reaches the total promised;
* **broken** when an instalment's date plus the grace days has passed and
  the amount paid does not reach the cumulative amount promised up to and
  including that instalment (the first such instalment is the one missed);
* otherwise **pending**: dunning of the covered invoices pauses up to and
  including the next unmet instalment's date plus the grace days.

The grace (:data:`GRACE_DAYS`, 3 days by default, per promise) allows for
a bank transfer made on the promised date to arrive (SEPA: the next
business day, a weekend in between). The status is a snapshot of the run's
day: a payment that arrived late but before the next run counts as paid in
time; the daily scheduled run keeps that gap at a day.

A promise may cover less than the invoices' open amount (an accountant may
agree to a partial payment); once kept, what is left open is dunned as
before. It can never promise more than is open.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

GRACE_DAYS = 3

PENDING = "pending"
KEPT = "kept"
BROKEN = "broken"


@dataclass(frozen=True)
class Instalment:
    date: date
    amount: Decimal


@dataclass(frozen=True)
class Status:
    """The status of a promise on a day.

    ``due_date``/``due_amount``: broken: the instalment missed and the
    cumulative amount that was due by it; pending: the next instalment not
    yet covered and the cumulative amount due by it; kept: the last
    instalment and the total. ``pending_until``: pending only, the last day
    dunning pauses.
    """

    state: str
    paid: Decimal
    total: Decimal
    due_date: date | None = None
    due_amount: Decimal = Decimal("0")
    pending_until: date | None = None


def check_instalments(instalments):
    """``ValueError`` unless there is at least one instalment and every
    amount is positive."""
    if not instalments:
        raise ValueError("A payment promise needs at least one instalment.")
    for instalment in instalments:
        if instalment.amount <= 0:
            raise ValueError(
                f"The instalment of {instalment.date} must be a positive amount, "
                f"not {instalment.amount}."
            )


def evaluate(instalments, open_then, open_now, today, grace_days=GRACE_DAYS):
    """The :class:`Status` of a promise.

    :param instalments: :class:`Instalment` (any order; equal dates add up)
    :param open_then: open amount of the covered invoices when the promise
        was made
    :param open_now: their open amount now (0 when they are paid)
    :param today: the run's date
    :param grace_days: days after an instalment's date that a payment still
        counts as in time
    """
    check_instalments(instalments)
    if grace_days < 0:
        raise ValueError("The grace days cannot be negative.")
    ordered = sorted(instalments, key=lambda instalment: instalment.date)
    total = sum((instalment.amount for instalment in ordered), Decimal("0"))
    paid = max(Decimal(open_then) - Decimal(open_now), Decimal("0"))
    if paid >= total:
        return Status(KEPT, paid, total, ordered[-1].date, total)
    grace = timedelta(days=grace_days)
    cumulative = Decimal("0")
    for instalment in ordered:
        cumulative += instalment.amount
        if paid >= cumulative:
            continue
        last_day = instalment.date + grace
        if today > last_day:
            return Status(BROKEN, paid, total, instalment.date, cumulative)
        return Status(PENDING, paid, total, instalment.date, cumulative, pending_until=last_day)
    raise AssertionError("unreachable: paid below the total leaves an instalment unmet")
