"""Date helpers for notices (dates are datetime.date, never datetimes)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta


def to_date(value) -> date | None:
    """Boundary converter: date, datetime, ISO string; None/False -> None."""
    if value is None or value is False:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            raise ValueError(f"{value!r} is not a date (expected YYYY-MM-DD)") from None
    raise TypeError(f"cannot use a {type(value).__name__} as a date")


def format_date(d, lang="de") -> str:
    """'14.08.2025' (German) or '08/14/2025' for lang 'en*'; '' for no date."""
    value = to_date(d)
    if value is None:
        return ""
    if (lang or "de").lower().startswith("en"):
        return f"{value.month:02d}/{value.day:02d}/{value.year:04d}"
    return f"{value.day:02d}.{value.month:02d}.{value.year:04d}"


def days_late(due_date, on_date) -> int:
    """Whole days after the due date; 0 when not (yet) late."""
    return max(0, (to_date(on_date) - to_date(due_date)).days)


def add_days(d, days: int) -> date:
    return to_date(d) + timedelta(days=days)


# ----------------------------------------------------------------------
# Working days: when a portal block or a provisioning action may start
# ----------------------------------------------------------------------
ALL_WEEKDAYS = frozenset(range(7))  # 0 = Monday ... 6 = Sunday
_SEARCH_LIMIT = 400  # days; more than a year of holidays is a configuration error


def next_working_day(day, weekdays, holidays=frozenset()) -> date:
    """The first day on or after ``day`` that is one of the working
    ``weekdays`` (0 = Monday) and not one of the ``holidays`` (dates).
    ``weekdays`` None means no working calendar: every day is a working day
    and ``day`` is returned as it is."""
    day = to_date(day)
    if weekdays is None:
        return day
    if not weekdays:
        raise ValueError("The working calendar has no working weekday.")
    for _step in range(_SEARCH_LIMIT):
        if day.weekday() in weekdays and day not in holidays:
            return day
        day += timedelta(days=1)
    raise ValueError(f"No working day within {_SEARCH_LIMIT} days: check the public holidays.")


@dataclass(frozen=True)
class WorkingCalendar:
    """A company's working days as plain data: the working weekdays
    (0 = Monday; None when the company has no calendar, so any day is a
    working day) and the public holidays (dates)."""

    weekdays: frozenset | None = None
    holidays: frozenset = frozenset()

    def is_working_day(self, day) -> bool:
        return self.next_working_day(day) == to_date(day)

    def next_working_day(self, day) -> date:
        return next_working_day(day, self.weekdays, self.holidays)


EVERY_DAY = WorkingCalendar()
