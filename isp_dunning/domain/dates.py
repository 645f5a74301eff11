"""Date helpers for notices (dates are datetime.date, never datetimes)."""

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
