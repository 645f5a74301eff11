"""Tests for the working-day rule: a portal block (and a blocking level's
provisioning action) starts only on a working day of the company."""

from datetime import date, timedelta

import pytest
from domain import portal_guard
from domain.dates import EVERY_DAY, WorkingCalendar, next_working_day

MON_TO_FRI = frozenset(range(5))
FRIDAY = date(2025, 5, 2)
SATURDAY = date(2025, 5, 3)
SUNDAY = date(2025, 5, 4)
MONDAY = date(2025, 5, 5)
WHIT_MONDAY = date(2025, 6, 9)
GOOD_FRIDAY, EASTER_MONDAY = date(2025, 4, 18), date(2025, 4, 21)


def test_working_day_is_kept():
    assert next_working_day(FRIDAY, MON_TO_FRI) == FRIDAY
    assert next_working_day(MONDAY, MON_TO_FRI, {WHIT_MONDAY}) == MONDAY


def test_saturday_and_sunday_move_to_monday():
    assert next_working_day(SATURDAY, MON_TO_FRI) == MONDAY
    assert next_working_day(SUNDAY, MON_TO_FRI) == MONDAY


def test_public_holiday_moves_to_the_next_day():
    assert next_working_day(WHIT_MONDAY, MON_TO_FRI, {WHIT_MONDAY}) == date(2025, 6, 10)


def test_easter_weekend_moves_over_the_holidays_and_the_weekend():
    holidays = {GOOD_FRIDAY, EASTER_MONDAY}
    assert next_working_day(GOOD_FRIDAY, MON_TO_FRI, holidays) == date(2025, 4, 22)
    assert next_working_day(date(2025, 4, 19), MON_TO_FRI, holidays) == date(2025, 4, 22)


def test_saturday_working_week():
    assert next_working_day(SATURDAY, frozenset(range(6))) == SATURDAY
    assert next_working_day(SUNDAY, frozenset(range(6))) == MONDAY


def test_without_calendar_every_day_is_a_working_day():
    assert next_working_day(SUNDAY, None, {SUNDAY}) == SUNDAY
    assert EVERY_DAY.is_working_day(SATURDAY)
    assert EVERY_DAY.next_working_day(SUNDAY) == SUNDAY


def test_accepts_iso_dates():
    assert next_working_day("2025-05-03", MON_TO_FRI) == MONDAY


def test_calendar_without_working_weekday_is_refused():
    with pytest.raises(ValueError, match="no working weekday"):
        next_working_day(SATURDAY, frozenset())


def test_holidays_without_end_are_refused():
    every_day = {date(2025, 1, 1) + timedelta(days=n) for n in range(500)}
    with pytest.raises(ValueError, match="check the public holidays"):
        next_working_day(date(2025, 1, 1), MON_TO_FRI, every_day)


def test_working_calendar():
    calendar = WorkingCalendar(MON_TO_FRI, frozenset({WHIT_MONDAY}))
    assert calendar.is_working_day(FRIDAY)
    assert not calendar.is_working_day(SATURDAY)
    assert not calendar.is_working_day(WHIT_MONDAY)
    assert calendar.next_working_day(SATURDAY) == MONDAY
    assert calendar.next_working_day(WHIT_MONDAY) == date(2025, 6, 10)


def test_block_on_a_day_off_is_postponed():
    assert portal_guard.notice_block_step(True, False, (), working_day=False) == (
        portal_guard.POSTPONE
    )
    assert portal_guard.notice_block_step(True, False, (), working_day=True) == portal_guard.BLOCK
    # Nothing to postpone when the level does not block or the customer is blocked.
    assert portal_guard.notice_block_step(False, False, (), working_day=False) is None
    assert portal_guard.notice_block_step(True, True, (), working_day=False) is None


def test_retried_block_waits_for_a_working_day():
    assert portal_guard.retry_goes_ahead(True, [], working_day=True)
    assert not portal_guard.retry_goes_ahead(True, [], working_day=False)
    assert not portal_guard.retry_goes_ahead(True, ["guard"], working_day=True)
