from datetime import date, datetime

import pytest
from domain.dates import add_days, days_late, format_date, to_date


@pytest.mark.parametrize(
    ("value", "lang", "expected"),
    [
        (date(2025, 8, 14), "de", "14.08.2025"),
        (date(2025, 8, 14), "de_DE", "14.08.2025"),
        (date(2025, 8, 14), "en", "08/14/2025"),
        (date(2025, 8, 14), "en_US", "08/14/2025"),
        (date(2025, 1, 2), "fr_FR", "02.01.2025"),
        (date(2025, 1, 2), None, "02.01.2025"),
        (datetime(2025, 1, 2, 23, 59), "de", "02.01.2025"),
        ("2025-01-02", "de", "02.01.2025"),
        (None, "de", ""),
        (False, "en", ""),
    ],
)
def test_format_date(value, lang, expected):
    assert format_date(value, lang) == expected


def test_format_date_default_is_german():
    assert format_date(date(2024, 2, 29)) == "29.02.2024"


@pytest.mark.parametrize(
    ("due", "on", "expected"),
    [
        (date(2025, 5, 15), date(2025, 5, 14), 0),
        (date(2025, 5, 15), date(2025, 5, 15), 0),
        (date(2025, 5, 15), date(2025, 5, 16), 1),
        (date(2025, 5, 15), date(2025, 8, 14), 91),
        (date(2024, 2, 28), date(2024, 3, 1), 2),  # leap day counts
        (date(2023, 12, 31), date(2024, 12, 31), 366),
    ],
)
def test_days_late(due, on, expected):
    assert days_late(due, on) == expected


def test_add_days():
    assert add_days(date(2025, 1, 31), 1) == date(2025, 2, 1)
    assert add_days(date(2024, 2, 28), 1) == date(2024, 2, 29)
    assert add_days(date(2025, 3, 1), -1) == date(2025, 2, 28)
    assert add_days(date(2025, 3, 1), 0) == date(2025, 3, 1)


def test_to_date():
    assert to_date(None) is None
    assert to_date(date(2025, 1, 1)) == date(2025, 1, 1)
    assert to_date(datetime(2025, 1, 1, 12)) == date(2025, 1, 1)
    assert type(to_date(datetime(2025, 1, 1, 12))) is date
    assert to_date("2025-01-01 10:00:00") == date(2025, 1, 1)
    with pytest.raises(ValueError, match="not a date"):
        to_date("14.08.2025")
    with pytest.raises(TypeError):
        to_date(20250101)
