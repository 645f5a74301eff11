from datetime import date, timedelta
from decimal import Decimal

import pytest
from domain.interest import (
    GERMAN_BASE_RATES,
    STATUTORY_SURCHARGE_BUSINESS,
    STATUTORY_SURCHARGE_CONSUMER,
    BaseRate,
    InterestResult,
    InterestSegment,
    MissingBaseRate,
    base_rate_on,
    compute_interest,
    fixed_segments,
    statutory_segments,
)

D = Decimal
REFERENCE_RATES = (
    BaseRate(date(2025, 1, 1), D("2.27")),
    BaseRate(date(2025, 7, 1), D("1.27")),
)


def test_reference_example():
    """1000 EUR due 15.05.2025, consumer, charged on 14.08.2025."""
    result = compute_interest(
        D("1000.00"),
        date(2025, 5, 15),
        date(2025, 8, 14),
        "statutory",
        base_rates=REFERENCE_RATES,
        is_business=False,
    )
    assert result.segments == (
        InterestSegment(date(2025, 5, 16), date(2025, 6, 30), 46, D("7.27")),
        InterestSegment(date(2025, 7, 1), date(2025, 8, 14), 45, D("6.27")),
    )
    assert result.amount == D("16.89")
    assert str(result.amount) == "16.89"
    assert result.days == 91
    assert result.principal == D("1000.00")
    assert result.date_from == date(2025, 5, 15)
    assert result.date_to == date(2025, 8, 14)
    assert isinstance(result, InterestResult)


def test_reference_example_with_shipped_rates():
    result = compute_interest(
        "1000.00",
        date(2025, 5, 15),
        date(2025, 8, 14),
        "statutory",
        base_rates=GERMAN_BASE_RATES,
    )
    assert result.amount == D("16.89")


def test_surcharges():
    assert STATUTORY_SURCHARGE_CONSUMER == D("5")
    assert STATUTORY_SURCHARGE_BUSINESS == D("9")


def test_business_gets_nine_points():
    segments = statutory_segments(
        date(2025, 5, 15), date(2025, 8, 14), REFERENCE_RATES, is_business=True
    )
    assert [s.rate for s in segments] == [D("11.27"), D("10.27")]
    result = compute_interest(
        1000,
        date(2025, 5, 15),
        date(2025, 8, 14),
        "statutory",
        base_rates=REFERENCE_RATES,
        is_business=True,
    )
    # 1000 * (46 * 11.27 + 45 * 10.27) / 36500 = 26.86493...
    assert result.amount == D("26.86")


def test_german_base_rates_table():
    assert GERMAN_BASE_RATES[0] == BaseRate(date(2020, 1, 1), D("-0.88"))
    assert [r.date_from for r in GERMAN_BASE_RATES] == sorted(
        r.date_from for r in GERMAN_BASE_RATES
    )
    assert all(isinstance(r.rate, Decimal) for r in GERMAN_BASE_RATES)
    assert all(r.date_from.day == 1 and r.date_from.month in (1, 7) for r in GERMAN_BASE_RATES)
    assert base_rate_on(date(2024, 6, 30), GERMAN_BASE_RATES) == D("3.62")
    assert base_rate_on(date(2024, 7, 1), GERMAN_BASE_RATES) == D("3.37")
    assert base_rate_on(date(2026, 3, 1), GERMAN_BASE_RATES) == D("1.27")


def test_negative_base_rate_period():
    """2020-2022: base rate -0.88, consumer rate 4.12 %."""
    segments = statutory_segments(date(2021, 1, 1), date(2021, 12, 31), GERMAN_BASE_RATES, False)
    assert segments == (InterestSegment(date(2021, 1, 2), date(2021, 12, 31), 364, D("4.12")),)
    result = compute_interest(
        1000,
        date(2021, 12, 31),
        date(2022, 12, 31),
        "statutory",
        base_rates=GERMAN_BASE_RATES,
    )
    assert result.segments[0].rate == D("4.12")
    assert result.days == 365
    assert result.amount == D("41.20")
    business = compute_interest(
        1000,
        date(2021, 12, 31),
        date(2022, 12, 31),
        "statutory",
        base_rates=GERMAN_BASE_RATES,
        is_business=True,
    )
    assert business.segments[0].rate == D("8.12")
    assert business.amount == D("81.20")


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # change on 1 January
        (
            date(2023, 12, 30),
            date(2024, 1, 2),
            [
                (date(2023, 12, 31), date(2023, 12, 31), 1, "8.12"),
                (date(2024, 1, 1), date(2024, 1, 2), 2, "8.62"),
            ],
        ),
        # change on 1 July
        (
            date(2024, 6, 29),
            date(2024, 7, 1),
            [
                (date(2024, 6, 30), date(2024, 6, 30), 1, "8.62"),
                (date(2024, 7, 1), date(2024, 7, 1), 1, "8.37"),
            ],
        ),
        # start on the change date: the change day itself is not accrued
        (
            date(2024, 7, 1),
            date(2024, 7, 3),
            [(date(2024, 7, 2), date(2024, 7, 3), 2, "8.37")],
        ),
        # end exactly on the day before the change
        (
            date(2024, 6, 1),
            date(2024, 6, 30),
            [(date(2024, 6, 2), date(2024, 6, 30), 29, "8.62")],
        ),
        # several changes, 2022 -> 2024
        (
            date(2022, 12, 31),
            date(2024, 1, 1),
            [
                (date(2023, 1, 1), date(2023, 6, 30), 181, "6.62"),
                (date(2023, 7, 1), date(2023, 12, 31), 184, "8.12"),
                (date(2024, 1, 1), date(2024, 1, 1), 1, "8.62"),
            ],
        ),
    ],
)
def test_statutory_segments_split_at_changes(start, end, expected):
    segments = statutory_segments(start, end, GERMAN_BASE_RATES, False)
    assert [(s.date_from, s.date_to, s.days, str(s.rate)) for s in segments] == expected
    assert sum(s.days for s in segments) == (end - start).days


def test_unchanged_rate_entry_does_not_split():
    """2026-01-01 repeats 1.27: one line on the notice, not two."""
    segments = statutory_segments(date(2025, 12, 1), date(2026, 1, 31), GERMAN_BASE_RATES, False)
    assert segments == (InterestSegment(date(2025, 12, 2), date(2026, 1, 31), 61, D("6.27")),)


def test_unsorted_base_rates_are_sorted():
    rates = list(reversed(REFERENCE_RATES))
    assert statutory_segments(
        date(2025, 5, 15), date(2025, 8, 14), rates, False
    ) == statutory_segments(date(2025, 5, 15), date(2025, 8, 14), REFERENCE_RATES, False)


def test_base_rates_as_plain_tuples_and_floats():
    rates = [(date(2025, 1, 1), 2.27), ("2025-07-01", "1.27")]
    result = compute_interest(
        1000, date(2025, 5, 15), date(2025, 8, 14), "statutory", base_rates=rates
    )
    assert result.amount == D("16.89")


def test_conflicting_base_rates_on_same_day():
    rates = [BaseRate(date(2025, 1, 1), D("2")), BaseRate(date(2025, 1, 1), D("3"))]
    with pytest.raises(ValueError, match="2025-01-01"):
        statutory_segments(date(2025, 1, 1), date(2025, 2, 1), rates, False)


def test_duplicate_identical_base_rate_is_fine():
    rates = [BaseRate(date(2025, 1, 1), D("2")), BaseRate(date(2025, 1, 1), D("2"))]
    assert statutory_segments(date(2025, 1, 1), date(2025, 1, 3), rates, False)[0].days == 2


def test_missing_base_rate_names_the_date():
    with pytest.raises(MissingBaseRate, match="2019-12-31"):
        statutory_segments(date(2019, 12, 30), date(2020, 1, 5), GERMAN_BASE_RATES, False)
    with pytest.raises(MissingBaseRate, match="2025-05-16"):
        compute_interest(1000, date(2025, 5, 15), date(2025, 8, 14), "statutory")
    with pytest.raises(MissingBaseRate, match="2019-01-01"):
        base_rate_on(date(2019, 1, 1), GERMAN_BASE_RATES)
    assert issubclass(MissingBaseRate, ValueError)


def test_no_base_rate_needed_for_the_start_day_itself():
    # the start day does not accrue, so a rate from the next day is enough
    rates = [BaseRate(date(2025, 1, 2), D("2"))]
    assert statutory_segments(date(2025, 1, 1), date(2025, 1, 2), rates, False)[0].days == 1


@pytest.mark.parametrize("offset", [0, -1, -30])
def test_no_segments_when_end_not_after_start(offset):
    start = date(2025, 5, 15)
    end = start + timedelta(days=offset)
    assert statutory_segments(start, end, GERMAN_BASE_RATES, False) == ()
    assert fixed_segments(start, end, D("5")) == ()
    result = compute_interest(1000, start, end, "statutory", base_rates=GERMAN_BASE_RATES)
    assert result.amount == D("0.00")
    assert result.segments == ()
    assert result.days == 0


def test_no_base_rate_needed_without_days():
    assert compute_interest(1000, date(2025, 5, 15), date(2025, 5, 15), "statutory").amount == 0


def test_one_day():
    result = compute_interest(
        D("36500"), date(2025, 5, 15), date(2025, 5, 16), "fixed", rate=D("10")
    )
    assert result.days == 1
    assert result.amount == D("10.00")


def test_fixed_segments():
    assert fixed_segments(date(2025, 1, 31), date(2025, 3, 1), "8") == (
        InterestSegment(date(2025, 2, 1), date(2025, 3, 1), 29, D("8")),
    )


def test_fixed_interest():
    result = compute_interest(D("500.00"), date(2025, 1, 1), date(2025, 4, 1), "fixed", rate=D("8"))
    # 500 * 90 * 8 / 36500 = 9.8630...
    assert result.days == 90
    assert result.amount == D("9.86")
    assert result.segments == (InterestSegment(date(2025, 1, 2), date(2025, 4, 1), 90, D("8")),)


def test_fixed_rate_zero_is_allowed():
    assert compute_interest(100, date(2025, 1, 1), date(2026, 1, 1), "fixed", rate=0).amount == 0


def test_leap_year_still_divides_by_365():
    result = compute_interest(
        D("1000"), date(2023, 12, 31), date(2024, 12, 31), "fixed", rate=D("10")
    )
    assert result.days == 366
    # 1000 * 366 * 10 / 36500 = 100.27397..., not 100.00
    assert result.amount == D("100.27")


def test_leap_day_is_a_day():
    result = compute_interest(D("36500"), date(2024, 2, 28), date(2024, 3, 1), "fixed", rate=D("1"))
    assert result.days == 2
    assert result.amount == D("2.00")


@pytest.mark.parametrize(
    ("principal", "rate", "expected"),
    [
        # 36500 * r / 100 / 365 = 1 * r, with 1 day
        (D("36500"), D("0.005"), D("0.01")),  # exactly half a cent: up
        (D("36500"), D("0.0049999"), D("0.00")),
        (D("36500"), D("0.015"), D("0.02")),  # half-up, not half-even
        (D("36500"), D("0.025"), D("0.03")),
        (D("100"), D("3.65"), D("0.01")),
    ],
)
def test_rounding_half_up_once(principal, rate, expected):
    result = compute_interest(principal, date(2025, 1, 1), date(2025, 1, 2), "fixed", rate=rate)
    assert result.amount == expected


def test_rounded_once_not_per_segment():
    # per-segment rounding would give 0.00 + 0.00; the sum is 0.007 -> 0.01
    rates = [
        BaseRate(date(2025, 1, 1), D("-4.997")),
        BaseRate(date(2025, 1, 3), D("-4.996")),
    ]
    result = compute_interest(
        D("36500"), date(2025, 1, 1), date(2025, 1, 3), "statutory", base_rates=rates
    )
    assert [s.rate for s in result.segments] == [D("0.003"), D("0.004")]
    assert result.amount == D("0.01")


def test_precision():
    result = compute_interest(
        D("1000"),
        date(2025, 5, 15),
        date(2025, 8, 14),
        "statutory",
        base_rates=REFERENCE_RATES,
        precision=D("0.05"),
    )
    assert result.amount == D("16.90")
    result = compute_interest(
        D("1000"),
        date(2025, 5, 15),
        date(2025, 8, 14),
        "statutory",
        base_rates=REFERENCE_RATES,
        precision=D("1"),
    )
    assert result.amount == D("17")


def test_mode_none():
    result = compute_interest(D("1000"), date(2025, 5, 15), date(2025, 8, 14), "none")
    assert result.amount == D("0.00")
    assert result.segments == ()
    assert result.days == 0
    assert result.principal == D("1000")


def test_float_and_string_input_at_the_boundary():
    result = compute_interest(
        1000.0, "2025-05-15", date(2025, 8, 14), "statutory", base_rates=REFERENCE_RATES
    )
    assert result.amount == D("16.89")
    assert result.date_from == date(2025, 5, 15)


def test_amount_is_decimal():
    result = compute_interest(0.1, date(2025, 1, 1), date(2025, 12, 31), "fixed", rate=0.1)
    assert isinstance(result.amount, Decimal)
    assert isinstance(result.principal, Decimal)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"principal": D("-1"), "mode": "fixed", "rate": D("5")}, "principal"),
        ({"principal": D("1"), "mode": "fixed", "rate": D("-5")}, "rate"),
        ({"principal": D("1"), "mode": "fixed"}, "rate is required"),
        ({"principal": D("1"), "mode": "daily"}, "Unknown interest mode"),
        ({"principal": D("-1"), "mode": "none"}, "principal"),
    ],
)
def test_invalid_input(kwargs, match):
    principal = kwargs.pop("principal")
    mode = kwargs.pop("mode")
    with pytest.raises(ValueError, match=match):
        compute_interest(principal, date(2025, 1, 1), date(2025, 2, 1), mode, **kwargs)


def test_negative_statutory_rate_is_refused():
    rates = [BaseRate(date(2025, 1, 1), D("-6"))]
    with pytest.raises(ValueError, match="negative"):
        compute_interest(1000, date(2025, 1, 1), date(2025, 2, 1), "statutory", base_rates=rates)


def test_incremental_charging_counts_every_day_once():
    """Two notices: first charged up to 14.08., then from there to 30.09."""
    due, first, second = date(2025, 5, 15), date(2025, 8, 14), date(2025, 9, 30)
    kwargs = {"base_rates": GERMAN_BASE_RATES}
    one = compute_interest(D("1000"), due, first, "statutory", **kwargs)
    two = compute_interest(D("1000"), first, second, "statutory", **kwargs)
    whole = compute_interest(D("1000"), due, second, "statutory", **kwargs)
    assert one.days + two.days == whole.days == (second - due).days
    assert one.segments[-1].date_to == first
    assert two.segments[0].date_from == first + timedelta(days=1)
    # rounding per charge may differ by at most a cent per call
    assert abs(one.amount + two.amount - whole.amount) <= D("0.01")
    assert two.amount == D("8.07")  # 1000 * 47 * 6.27 / 36500 = 8.0736...


@pytest.mark.parametrize("split_days", [1, 17, 46, 47, 60, 90])
def test_incremental_charging_any_split(split_days):
    due, end = date(2025, 5, 15), date(2025, 8, 14)
    middle = due + timedelta(days=split_days)
    kwargs = {"base_rates": GERMAN_BASE_RATES, "is_business": True}
    first = compute_interest(D("1234.56"), due, middle, "statutory", **kwargs)
    second = compute_interest(D("1234.56"), middle, end, "statutory", **kwargs)
    whole = compute_interest(D("1234.56"), due, end, "statutory", **kwargs)
    assert first.days + second.days == whole.days
    rate_days = {}
    for segment in first.segments + second.segments:
        rate_days[segment.rate] = rate_days.get(segment.rate, 0) + segment.days
    assert rate_days == {s.rate: s.days for s in whole.segments}
    assert abs(first.amount + second.amount - whole.amount) <= D("0.01")
