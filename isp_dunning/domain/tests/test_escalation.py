import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from domain.escalation import (
    Level,
    effective_delays,
    highest_level,
    is_business,
    net_balance_positive,
    next_date,
    next_level,
    validate_ladder,
)

DUE = date(2025, 5, 15)
DAY = timedelta(days=1)

# Typical ISP ladder: reminder 7 days after due, then 14 days per step.
REMINDER = Level(1, 10, 7, "due_date", "Zahlungserinnerung")
FIRST = Level(2, 20, 14, "previous_level", "1. Mahnung")
SECOND = Level(3, 30, 14, "previous_level", "2. Mahnung")
LAST = Level(4, 40, 60, "due_date", "Letzte Mahnung")
LADDER = [REMINDER, FIRST, SECOND, LAST]


def days(n):
    return timedelta(days=n)


# -- validate_ladder ---------------------------------------------------------


def test_valid_ladder():
    assert validate_ladder(LADDER) == []
    assert validate_ladder(list(reversed(LADDER))) == []  # order comes from sequence
    assert validate_ladder([]) == []
    assert validate_ladder([Level(1, 1, 0, "due_date", "Sofort")]) == []


def test_first_previous_level_counts_from_due_date():
    ladder = [Level(1, 1, 10, "previous_level", "A"), Level(2, 2, 5, "due_date", "B")]
    problems = validate_ladder(ladder)
    assert problems == [
        "Level 'B' is reached 5 days after the due date, which is not later "
        "than level 'A' (10 days)."
    ]


def test_effective_delays():
    assert [d for _level, d in effective_delays(LADDER)] == [7, 21, 35, 60]
    mixed = [
        Level(1, 1, 10, "previous_level", "A"),
        Level(2, 2, 5, "previous_level", "B"),
    ]
    assert [d for _level, d in effective_delays(mixed)] == [10, 15]


def test_negative_delay():
    problems = validate_ladder([Level(1, 1, -3, "due_date", "Früh")])
    assert problems == ["Level 'Früh': the delay must not be negative (-3 days)."]


def test_previous_level_with_zero_days():
    problems = validate_ladder([REMINDER, Level(2, 20, 0, "previous_level", "Gleich")])
    assert problems[0] == (
        "Level 'Gleich': a step after the previous level must take at least one day."
    )
    # and it is also not later than the reminder
    assert "not later than level 'Zahlungserinnerung' (7 days)" in problems[1]
    assert len(problems) == 2


def test_not_increasing_due_date_levels():
    ladder = [REMINDER, Level(2, 20, 7, "due_date", "Doppelt")]
    assert validate_ladder(ladder) == [
        "Level 'Doppelt' is reached 7 days after the due date, which is not later "
        "than level 'Zahlungserinnerung' (7 days)."
    ]


def test_due_date_level_after_long_previous_steps():
    # 7, 21, 35 then a due_date level at 30 days: too early
    ladder = [REMINDER, FIRST, SECOND, Level(4, 40, 30, "due_date", "Inkasso")]
    problems = validate_ladder(ladder)
    assert len(problems) == 1
    assert problems[0].startswith("Level 'Inkasso' is reached 30 days")
    assert "'2. Mahnung' (35 days)" in problems[0]


def test_problems_in_ladder_order_and_unnamed_levels():
    ladder = [
        Level(7, 1, -1, "due_date"),
        Level(8, 2, 0, "previous_level", "B"),
        Level(9, 3, 5, "weekly", "C"),
    ]
    problems = validate_ladder(ladder)
    assert problems[0].startswith("Level '#7': the delay must not be negative")
    assert problems[1].startswith("Level 'B': a step after the previous level")
    assert problems[2].startswith("Level 'B' is reached -1 days")
    assert problems[3].startswith("Level 'C': unknown delay basis 'weekly'")
    assert len(problems) == 4


# -- next_level --------------------------------------------------------------


def test_first_level_boundary():
    # reminder at due + 7: the day before is not enough, the exact day is
    assert next_level(LADDER, None, DUE, None, DUE + days(6)) is None
    assert next_level(LADDER, None, DUE, None, DUE + days(7)) == REMINDER
    assert next_level(LADDER, None, DUE, None, DUE + days(100)) == REMINDER  # one step


def test_previous_level_boundary():
    notice = DUE + days(9)  # reminder was sent two days late
    assert next_level(LADDER, 1, DUE, notice, notice + days(13)) is None
    assert next_level(LADDER, 1, DUE, notice, notice + days(14)) == FIRST


def test_due_date_level_after_previous_levels():
    notice = DUE + days(35)
    assert next_level(LADDER, 3, DUE, notice, DUE + days(59)) is None
    assert next_level(LADDER, 3, DUE, notice, DUE + days(60)) == LAST


def test_due_date_level_waits_a_day_after_the_last_notice():
    # the second reminder went out late, on day 60: last level not the same day
    notice = DUE + days(60)
    assert next_level(LADDER, 3, DUE, notice, notice) is None
    assert next_level(LADDER, 3, DUE, notice, notice + DAY) == LAST


def test_at_last_level():
    assert next_level(LADDER, 4, DUE, DUE + days(60), DUE + days(400)) is None
    assert next_date(LADDER, 4, DUE, DUE + days(60)) is None


def test_empty_ladder():
    assert next_level([], None, DUE, None, DUE + days(30)) is None
    assert next_date([], None, DUE, None) is None


def test_never_before_due_date_has_passed():
    ladder = [Level(1, 1, 0, "due_date", "Sofort")]
    assert next_level(ladder, None, DUE, None, DUE) is None
    assert next_level(ladder, None, DUE, None, DUE + DAY) == ladder[0]
    assert next_date(ladder, None, DUE, None) == DUE + DAY
    negative = [Level(1, 1, -5, "due_date", "Vorab")]
    assert next_level(negative, None, DUE, None, DUE - days(5)) is None
    assert next_date(negative, None, DUE, None) == DUE + DAY


def test_first_level_with_previous_level_basis_counts_from_due_date():
    ladder = [
        Level(1, 1, 10, "previous_level", "A"),
        Level(2, 2, 10, "previous_level", "B"),
    ]
    assert next_level(ladder, None, DUE, None, DUE + days(9)) is None
    assert next_level(ladder, None, DUE, None, DUE + days(10)) == ladder[0]


def test_previous_level_without_notice_date_counts_from_due_date():
    # e.g. imported data: level set but no notice date known
    assert next_level(LADDER, 1, DUE, None, DUE + days(13)) is None
    assert next_level(LADDER, 1, DUE, None, DUE + days(14)) == FIRST


def test_sorted_by_sequence_then_id():
    a = Level(5, 10, 3, "due_date", "A")
    b = Level(2, 10, 6, "due_date", "B")  # same sequence, lower id first
    assert next_level([a, b], None, DUE, None, DUE + days(30)) == b
    assert next_level([a, b], 2, DUE, DUE + days(6), DUE + days(30)) == a


def test_odoo_empty_values():
    # Odoo hands out False for an empty many2one / date
    assert next_level(LADDER, False, DUE, False, DUE + days(7)) == REMINDER
    assert next_date(LADDER, False, DUE, False) == DUE + days(7)
    assert next_level(LADDER, 1, DUE, False, DUE + days(14)) == FIRST


def test_unknown_current_level():
    with pytest.raises(ValueError, match="not part of the ladder"):
        next_level(LADDER, 99, DUE, None, DUE + days(30))


def test_next_date_examples():
    assert next_date(LADDER, None, DUE, None) == DUE + days(7)
    assert next_date(LADDER, 1, DUE, DUE + days(7)) == DUE + days(21)
    assert next_date(LADDER, 1, DUE, DUE + days(10)) == DUE + days(24)
    assert next_date(LADDER, 3, DUE, DUE + days(35)) == DUE + days(60)
    assert next_date(LADDER, 3, DUE, DUE + days(70)) == DUE + days(71)


def _random_case(rng):
    count = rng.randint(1, 5)
    levels = [
        Level(
            rng.randint(1, 50) * 10 + i,  # unique ids in random order
            rng.randint(1, 4),
            rng.randint(-3, 40),
            rng.choice(["due_date", "previous_level"]),
            f"L{i}",
        )
        for i in range(count)
    ]
    ordered_ids = [level.id for level in sorted(levels, key=lambda x: (x.sequence, x.id))]
    current = rng.choice([None, *ordered_ids])
    due = date(2024, 1, 1) + days(rng.randint(0, 700))
    if current is None:
        last_notice = rng.choice([None, None, due - days(rng.randint(0, 5))])
    else:
        last_notice = rng.choice([None, due + days(rng.randint(-5, 90))])
    return levels, current, due, last_notice


@pytest.mark.parametrize("seed", range(40))
def test_next_date_is_consistent_with_next_level(seed):
    rng = random.Random(seed)
    for _ in range(50):
        levels, current, due, last_notice = _random_case(rng)
        when = next_date(levels, current, due, last_notice)
        if when is None:
            assert current is not None
            for offset in (0, 1, 30, 365):
                assert next_level(levels, current, due, last_notice, due + days(offset)) is None
            continue
        reached = next_level(levels, current, due, last_notice, when)
        assert reached is not None
        assert next_level(levels, current, due, last_notice, when - DAY) is None
        # and for every later day the same level (one step per run)
        assert next_level(levels, current, due, last_notice, when + days(17)) == reached
        assert when > due
        if last_notice is not None:
            assert when > last_notice


# -- is_business -------------------------------------------------------------


@pytest.mark.parametrize(
    ("is_company", "vat", "expected"),
    [
        (True, None, True),
        (True, "DE123456789", True),
        (False, "DE123456789", True),
        (False, None, False),
        (False, "", False),
        (False, "   ", False),
        (False, False, False),  # Odoo's empty char field
    ],
)
def test_is_business(is_company, vat, expected):
    assert is_business(is_company, vat) is expected


# -- highest_level -----------------------------------------------------------


def test_highest_level_by_sequence_not_id():
    low_id_high_seq = Level(1, 90, 5, "due_date", "hoch")
    high_id_low_seq = Level(9, 10, 1, "due_date", "niedrig")
    assert highest_level([high_id_low_seq, low_id_high_seq]) == low_id_high_seq
    assert highest_level([REMINDER, SECOND, FIRST]) == SECOND


def test_highest_level_same_sequence_then_id():
    a = Level(3, 10, 1, "due_date")
    b = Level(7, 10, 1, "due_date")
    assert highest_level([b, a]) == b
    assert highest_level(iter([a, b])) == b


def test_highest_level_of_nothing():
    assert highest_level([]) is None


# -- net_balance_positive ----------------------------------------------------


@pytest.mark.parametrize(
    ("invoices", "credits", "tolerance", "expected"),
    [
        ([Decimal("49.99")], [], Decimal("0"), True),
        ([Decimal("49.99")], [Decimal("49.99")], Decimal("0"), False),
        ([Decimal("49.99")], [Decimal("40")], Decimal("9.99"), False),  # not above
        ([Decimal("49.99")], [Decimal("40")], Decimal("9.98"), True),
        ([Decimal("30"), Decimal("20")], [Decimal("60")], Decimal("0"), False),
        ([Decimal("30")], [Decimal("-10")], Decimal("0"), True),  # sign ignored
        ([Decimal("30")], [Decimal("-30")], Decimal("0"), False),
        ([], [], Decimal("0"), False),
        ([0.1, 0.2], [0.3], 0, False),  # no float noise
        (["5.00"], [], "5", False),
        (["5.01"], [], "5", True),
        ([Decimal("5")], [], None, True),
    ],
)
def test_net_balance_positive(invoices, credits, tolerance, expected):
    assert net_balance_positive(invoices, credits, tolerance) is expected


def test_net_balance_accepts_generators():
    assert net_balance_positive((x for x in [Decimal("10")]), iter([]), Decimal("1"))
