import re
from datetime import date
from decimal import Decimal

import pytest

from ..analytics import (
    AGE_BUCKETS,
    age_bucket,
    age_bucket_sql,
    days_overdue,
    dso,
    dso_period,
    in_recovery_window,
    recovered,
    share,
)


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (-30, "not_due"),
        (0, "not_due"),
        (1, "1_30"),
        (30, "1_30"),
        (31, "31_60"),
        (60, "31_60"),
        (61, "61_90"),
        (90, "61_90"),
        (91, "91_180"),
        (180, "91_180"),
        (181, "over_180"),
        (5000, "over_180"),
    ],
)
def test_age_bucket_bounds(days, bucket):
    assert age_bucket(days) == bucket


def test_buckets_contiguous_and_open_ended():
    assert AGE_BUCKETS[0][1] is None
    assert AGE_BUCKETS[-1][2] is None
    for (_k, _f, last), (_k2, first, _l) in zip(AGE_BUCKETS, AGE_BUCKETS[1:], strict=False):
        assert first == last + 1


def _eval_case(sql, days):
    """Evaluate the generated CASE for one integer, as PostgreSQL would."""
    for bound, key in re.findall(r"WHEN d <= (-?\d+) THEN '(\w+)'", sql):
        if days <= int(bound):
            return key
    return re.search(r"ELSE '(\w+)' END", sql).group(1)


def test_age_bucket_sql_matches_rule():
    sql = age_bucket_sql("d")
    assert sql.startswith("CASE WHEN d <= 0 THEN 'not_due'")
    for days in range(-5, 400):
        assert _eval_case(sql, days) == age_bucket(days), days


def test_days_overdue():
    assert days_overdue(date(2025, 3, 1), date(2025, 3, 31)) == 30
    assert days_overdue(date(2025, 3, 31), date(2025, 3, 1)) == -30


def test_recovery_window_excludes_notice_day_includes_last_day():
    notice = date(2025, 3, 1)
    assert not in_recovery_window(notice, date(2025, 3, 1), 14)
    assert in_recovery_window(notice, date(2025, 3, 2), 14)
    assert in_recovery_window(notice, date(2025, 3, 15), 14)
    assert not in_recovery_window(notice, date(2025, 3, 16), 14)
    assert in_recovery_window(notice, date(2025, 3, 31), 30)
    assert not in_recovery_window(notice, date(2025, 2, 28), 30)


def test_recovered_sums_only_window():
    payments = [
        (date(2025, 3, 1), 5.0),  # the notice's day: not counted
        (date(2025, 3, 10), 20.0),
        (date(2025, 3, 15), 0.1),
        (date(2025, 3, 20), 30.0),
        (date(2025, 4, 5), 7.0),  # day 35
    ]
    assert recovered(date(2025, 3, 1), payments, 14) == Decimal("20.1")
    assert recovered(date(2025, 3, 1), payments, 30) == Decimal("50.1")
    assert recovered(date(2025, 3, 1), [], 30) == Decimal(0)


def test_share():
    assert share(25, 100) == Decimal(25)
    assert share(Decimal("1"), Decimal("3")).quantize(Decimal("0.01")) == Decimal("33.33")
    assert share(10, 0) is None


def test_dso():
    assert dso(300, 900) == Decimal(30)
    assert dso(Decimal("100"), Decimal("300"), days=30) == Decimal(10)
    assert dso(100, 0) is None
    assert dso(0, 50) == Decimal(0)


def test_dso_period_has_its_days():
    start, end = dso_period(date(2025, 6, 30))
    assert end == date(2025, 6, 30)
    assert (end - start).days + 1 == 90
    assert start == date(2025, 4, 2)
