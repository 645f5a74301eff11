"""A company's working days as plain data for the core
(``domain.dates.WorkingCalendar``): the weekdays of its working calendar
(``res.company.resource_calendar_id``) and its public holidays (time off of
the calendar without a resource), read once for a period."""

from datetime import datetime, time, timedelta

import pytz

from ..domain import dates

# Holidays are read for this many days from the first day asked for: enough
# for the announcement period and the search of the next working day.
HORIZON_DAYS = 370


def read_calendar(company, start, days=HORIZON_DAYS):
    """The company's working calendar from ``start`` on; ``dates.EVERY_DAY``
    when the company has no calendar (a block may then start on any day).
    A calendar with flexible hours or without attendances works every
    weekday; its public holidays still count. A two-week calendar counts the
    weekdays of both weeks."""
    calendar = company.sudo().resource_calendar_id
    if not calendar:
        return dates.EVERY_DAY
    weekdays = frozenset(
        int(attendance.dayofweek)
        for attendance in calendar.attendance_ids
        if attendance.display_type != "line_section"
    )
    if calendar.flexible_hours or not weekdays:
        weekdays = dates.ALL_WEEKDAYS
    return dates.WorkingCalendar(weekdays, public_holidays(calendar, company, start, days))


def public_holidays(calendar, company, start, days):
    """The dates the calendar's public holidays (time off without a
    resource, of this calendar or of all calendars of the company) touch in
    the calendar's time zone, from ``start`` on for ``days`` days."""
    tz = pytz.timezone(calendar.tz or "UTC")
    start = dates.to_date(start)
    first_dt = tz.localize(datetime.combine(start, time.min)).astimezone(pytz.utc)
    last_dt = tz.localize(datetime.combine(start + timedelta(days=days), time.max))
    leaves = (
        calendar.env["resource.calendar.leaves"]
        .sudo()
        .search_fetch(
            [
                ("resource_id", "=", False),
                ("time_type", "=", "leave"),
                ("calendar_id", "in", [False, calendar.id]),
                ("company_id", "in", [False, company.id]),
                ("date_from", "<=", last_dt.astimezone(pytz.utc).replace(tzinfo=None)),
                ("date_to", ">=", first_dt.replace(tzinfo=None)),
            ],
            ["date_from", "date_to"],
        )
    )
    holidays = set()
    for leave in leaves:
        local_from = pytz.utc.localize(leave.date_from).astimezone(tz)
        local_to = pytz.utc.localize(leave.date_to).astimezone(tz)
        day = local_from.date()
        # A holiday ending at midnight does not touch the next day.
        last = local_to.date()
        if local_to.time() == time.min and last > day:
            last -= timedelta(days=1)
        while day <= last:
            holidays.add(day)
            day += timedelta(days=1)
    return frozenset(holidays)
