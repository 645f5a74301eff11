"""Escalation decisions: which dunning level is due, and when.

Plain data in, plain data out.  A level's delay counts either from the due
date of the invoice or from the previous notice.  One run moves an invoice
by at most one level, and never on the day of its last notice, so the
customer always receives every step before the next one.
"""

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from .money import sum_money, to_decimal

BASIS_DUE_DATE = "due_date"
BASIS_PREVIOUS_LEVEL = "previous_level"
BASES = (BASIS_DUE_DATE, BASIS_PREVIOUS_LEVEL)

_ONE_DAY = timedelta(days=1)


class Level(NamedTuple):
    id: Any
    sequence: int
    delay_days: int
    delay_basis: str
    name: str = ""

    @property
    def label(self) -> str:
        return self.name or f"#{self.id}"


def ordered(levels: Iterable[Level]) -> list[Level]:
    return sorted(levels, key=lambda level: (level.sequence, level.id))


def effective_delays(levels: Iterable[Level]) -> list[tuple[Level, int]]:
    """Nominal days after the due date at which each level is reached."""
    result = []
    previous = None
    for level in ordered(levels):
        if level.delay_basis == BASIS_PREVIOUS_LEVEL and previous is not None:
            delay = previous + level.delay_days
        else:
            # due_date basis, or the first level: counted from the due date
            delay = level.delay_days
        result.append((level, delay))
        previous = delay
    return result


def validate_ladder(levels: Iterable[Level]) -> list[str]:
    """Human-readable problems of a ladder, in ladder order; [] means fine."""
    problems = []
    previous: tuple[Level, int] | None = None
    for level, delay in effective_delays(levels):
        if level.delay_basis not in BASES:
            problems.append(
                f"Level '{level.label}': unknown delay basis {level.delay_basis!r} "
                f"(expected '{BASIS_DUE_DATE}' or '{BASIS_PREVIOUS_LEVEL}')."
            )
        if level.delay_days < 0:
            problems.append(
                f"Level '{level.label}': the delay must not be negative ({level.delay_days} days)."
            )
        elif level.delay_basis == BASIS_PREVIOUS_LEVEL and level.delay_days == 0:
            problems.append(
                f"Level '{level.label}': a step after the previous level must "
                "take at least one day."
            )
        if previous is not None and delay <= previous[1]:
            problems.append(
                f"Level '{level.label}' is reached {delay} days after the due date, "
                f"which is not later than level '{previous[0].label}' "
                f"({previous[1]} days)."
            )
        previous = (level, delay)
    return problems


def _candidate(levels: Iterable[Level], current_level_id) -> Level | None:
    ladder = ordered(levels)
    if current_level_id is None or current_level_id is False:  # Odoo's empty id
        return ladder[0] if ladder else None
    for index, level in enumerate(ladder):
        if level.id == current_level_id:
            return ladder[index + 1] if index + 1 < len(ladder) else None
    raise ValueError(f"The current level {current_level_id!r} is not part of the ladder")


def next_date(
    levels: Iterable[Level],
    current_level_id,
    due_date: date,
    last_notice_date: date | None,
) -> date | None:
    """First day on which ``next_level`` returns a level; None at the top."""
    candidate = _candidate(levels, current_level_id)
    if candidate is None:
        return None
    last_notice_date = last_notice_date or None  # Odoo's empty date is False
    if candidate.delay_basis == BASIS_PREVIOUS_LEVEL and last_notice_date is not None:
        reference = last_notice_date
    else:
        reference = due_date
    earliest = [reference + timedelta(days=candidate.delay_days), due_date + _ONE_DAY]
    if last_notice_date is not None:
        earliest.append(last_notice_date + _ONE_DAY)
    return max(earliest)


def next_level(
    levels: Iterable[Level],
    current_level_id,
    due_date: date,
    last_notice_date: date | None,
    today: date,
) -> Level | None:
    """The level reached today (one step at most), or None."""
    due = next_date(levels, current_level_id, due_date, last_notice_date)
    if due is None or today < due:
        return None
    return _candidate(levels, current_level_id)


def is_business(is_company: bool, vat: str | None) -> bool:
    """§ 288 (2) BGB: a company, or anyone with a VAT id, is not a consumer."""
    return bool(is_company) or bool(vat and str(vat).strip())


def highest_level(levels: Iterable) -> Any:
    """The highest of some levels (by sequence, then id), e.g. the level of a
    customer among its open invoices or the level of a notice among its
    escalated invoices; None when there is none. Works on :class:`Level`
    and on anything with ``sequence`` and ``id``."""
    return max(levels, key=lambda level: (level.sequence, level.id), default=None)


def net_balance_positive(
    open_invoice_amounts: Sequence,
    open_credit_amounts: Sequence,
    tolerance=Decimal("0"),
) -> bool:
    """Dun only if invoices minus credits/unreconciled payments exceed tolerance.

    Credits count against the balance whatever their sign, since Odoo
    reports them signed or unsigned depending on the field.
    """
    invoices = sum_money(open_invoice_amounts)
    credits = sum_money(abs(to_decimal(value)) for value in open_credit_amounts)
    return invoices - credits > to_decimal(tolerance)
