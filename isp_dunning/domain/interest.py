"""Default interest: statutory (§ 288 BGB) and fixed rate, simple interest.

Interest accrues for every day after ``start`` up to and including ``end``,
so ``days == (end - start).days``.  Callers pass the last charge date as
``start``; consecutive calls therefore never count a day twice.  The year
has 365 days, also in leap years (German banking practice for default
interest: rate per year * days / 365).
"""

from bisect import bisect_right
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from typing import NamedTuple

from .dates import to_date
from .money import CENT, round_fraction, to_decimal

STATUTORY_SURCHARGE_CONSUMER = Decimal("5")  # § 288 (1) BGB
STATUTORY_SURCHARGE_BUSINESS = Decimal("9")  # § 288 (2) BGB

MODES = ("none", "fixed", "statutory")
DAYS_PER_YEAR = 365

_ONE_DAY = timedelta(days=1)


class MissingBaseRate(ValueError):
    """No base rate is known for a day that accrues interest."""


class BaseRate(NamedTuple):
    """Basiszinssatz (§ 247 BGB), valid from date_from until the next entry."""

    date_from: date
    rate: Decimal


class InterestSegment(NamedTuple):
    """Days with one annual rate; date_to is inclusive."""

    date_from: date
    date_to: date
    days: int
    rate: Decimal


class InterestResult(NamedTuple):
    amount: Decimal
    segments: tuple[InterestSegment, ...]
    principal: Decimal
    date_from: date
    date_to: date
    # The unrounded amount, for callers that add several results and round once.
    exact: Fraction = Fraction(0)

    @property
    def days(self) -> int:
        return sum(segment.days for segment in self.segments)


# Deutsche Bundesbank base rates since 2020 (reference data for tests; the
# addon ships the same values as records).
GERMAN_BASE_RATES = (
    BaseRate(date(2020, 1, 1), Decimal("-0.88")),
    BaseRate(date(2023, 1, 1), Decimal("1.62")),
    BaseRate(date(2023, 7, 1), Decimal("3.12")),
    BaseRate(date(2024, 1, 1), Decimal("3.62")),
    BaseRate(date(2024, 7, 1), Decimal("3.37")),
    BaseRate(date(2025, 1, 1), Decimal("2.27")),
    BaseRate(date(2025, 7, 1), Decimal("1.27")),
    BaseRate(date(2026, 1, 1), Decimal("1.27")),
)


def statutory_surcharge(is_business: bool) -> Decimal:
    return STATUTORY_SURCHARGE_BUSINESS if is_business else STATUTORY_SURCHARGE_CONSUMER


def _sorted_rates(base_rates) -> list[BaseRate]:
    rates = sorted(
        (BaseRate(to_date(r[0]), to_decimal(r[1])) for r in base_rates),
        key=lambda r: r.date_from,
    )
    for previous, current in pairwise(rates):
        if previous.date_from == current.date_from and previous.rate != current.rate:
            raise ValueError(f"two different base rates start on {current.date_from.isoformat()}")
    return rates


def base_rate_on(day, base_rates) -> Decimal:
    """The base rate valid on ``day``."""
    rates = _sorted_rates(base_rates)
    day = to_date(day)
    index = bisect_right([r.date_from for r in rates], day) - 1
    if index < 0:
        raise MissingBaseRate(f"No base rate is known for {day.isoformat()}")
    return rates[index].rate


def statutory_segments(start, end, base_rates, is_business) -> tuple[InterestSegment, ...]:
    """Segments at base rate + 5 (consumer) or + 9 (business) points.

    Split where the rate changes; an entry repeating the previous rate does
    not split, so a notice shows one line per distinct rate.
    """
    start, end = to_date(start), to_date(end)
    if end <= start:
        return ()
    rates = _sorted_rates(base_rates)
    starts = [r.date_from for r in rates]
    surcharge = statutory_surcharge(is_business)
    segments: list[InterestSegment] = []
    day = start + _ONE_DAY
    while day <= end:
        index = bisect_right(starts, day) - 1
        if index < 0:
            raise MissingBaseRate(f"No base rate is known for {day.isoformat()}")
        last = end
        if index + 1 < len(rates):
            last = min(end, rates[index + 1].date_from - _ONE_DAY)
        rate = rates[index].rate + surcharge
        if segments and segments[-1].rate == rate:
            merged = segments.pop()
            day_from = merged.date_from
        else:
            day_from = day
        segments.append(InterestSegment(day_from, last, (last - day_from).days + 1, rate))
        day = last + _ONE_DAY
    return tuple(segments)


def fixed_segments(start, end, rate) -> tuple[InterestSegment, ...]:
    start, end = to_date(start), to_date(end)
    if end <= start:
        return ()
    return (InterestSegment(start + _ONE_DAY, end, (end - start).days, to_decimal(rate)),)


def compute_interest(
    principal,
    start,
    end,
    mode,
    *,
    rate=None,
    base_rates=(),
    is_business=False,
    precision=CENT,
) -> InterestResult:
    """Simple interest principal * sum(days_i * rate_i) / 100 / 365.

    Computed exactly and rounded once (half-up) at the end.
    """
    amount = to_decimal(principal)
    start, end = to_date(start), to_date(end)
    if amount < 0:
        raise ValueError("The principal must not be negative")
    if mode == "none":
        segments = ()
    elif mode == "fixed":
        if rate is None:
            raise ValueError("A fixed interest rate is required")
        if to_decimal(rate) < 0:
            raise ValueError("The interest rate must not be negative")
        segments = fixed_segments(start, end, rate)
    elif mode == "statutory":
        segments = statutory_segments(start, end, base_rates, is_business)
        for segment in segments:
            if segment.rate < 0:
                raise ValueError(
                    f"The interest rate from {segment.date_from.isoformat()} "
                    f"would be negative ({segment.rate})"
                )
    else:
        raise ValueError(f"Unknown interest mode {mode!r} (expected one of {', '.join(MODES)})")
    day_percent = sum((segment.days * Fraction(segment.rate) for segment in segments), Fraction(0))
    exact = Fraction(amount) * day_percent / (100 * DAYS_PER_YEAR)
    return InterestResult(
        amount=round_fraction(exact, precision),
        segments=segments,
        principal=amount,
        date_from=start,
        date_to=end,
        exact=exact,
    )
