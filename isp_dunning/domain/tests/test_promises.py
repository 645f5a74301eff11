"""Tests for payment promises (domain.promises): pending, kept, broken, and
the planning's repeat of the level after a broken promise."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from domain import planning, promises
from domain.escalation import Level
from domain.planning import Customer, Invoice, LevelConfig, OpenItem, Settings
from domain.promises import BROKEN, GRACE_DAYS, KEPT, PENDING, Instalment, evaluate

D = Decimal
MADE = date(2026, 3, 2)
FIRST = date(2026, 3, 16)
SECOND = date(2026, 4, 15)
ONE = [Instalment(FIRST, D("300.00"))]
TWO = [Instalment(FIRST, D("150.00")), Instalment(SECOND, D("150.00"))]


def test_grace_is_three_days():
    assert GRACE_DAYS == 3


@pytest.mark.parametrize("today", [MADE, FIRST, FIRST + timedelta(days=3)])
def test_unpaid_is_pending_until_the_date_plus_grace(today):
    status = evaluate(ONE, D("300.00"), D("300.00"), today)
    assert status.state == PENDING
    assert status.pending_until == date(2026, 3, 19)
    assert status.due_date == FIRST
    assert status.due_amount == D("300.00")
    assert status.paid == D("0")
    assert status.total == D("300.00")


def test_unpaid_is_broken_the_day_after_the_grace():
    status = evaluate(ONE, D("300.00"), D("300.00"), date(2026, 3, 20))
    assert status.state == BROKEN
    assert status.due_date == FIRST
    assert status.due_amount == D("300.00")
    assert status.pending_until is None


def test_paid_in_full_is_kept_even_before_the_date():
    status = evaluate(ONE, D("300.00"), D("0"), MADE)
    assert status.state == KEPT
    assert status.paid == D("300.00")
    assert status.due_date == FIRST


def test_paid_in_full_late_before_the_next_check_counts_as_kept():
    # A snapshot of the run's day: the run finds the invoices paid.
    assert evaluate(ONE, D("300.00"), D("0"), date(2026, 5, 1)).state == KEPT


def test_one_cent_short_is_broken_after_the_grace():
    status = evaluate(ONE, D("300.00"), D("0.01"), date(2026, 3, 20))
    assert status.state == BROKEN
    assert status.paid == D("299.99")


def test_one_cent_short_is_pending_within_the_grace():
    assert evaluate(ONE, D("300.00"), D("0.01"), date(2026, 3, 19)).state == PENDING


def test_first_instalment_kept_second_pending():
    status = evaluate(TWO, D("300.00"), D("150.00"), date(2026, 4, 1))
    assert status.state == PENDING
    assert status.due_date == SECOND
    assert status.due_amount == D("300.00")
    assert status.pending_until == date(2026, 4, 18)


def test_first_instalment_kept_second_broken():
    status = evaluate(TWO, D("300.00"), D("150.00"), date(2026, 4, 19))
    assert status.state == BROKEN
    assert status.due_date == SECOND
    assert status.due_amount == D("300.00")
    assert status.paid == D("150.00")


def test_first_instalment_missed_is_broken_although_the_second_is_ahead():
    status = evaluate(TWO, D("300.00"), D("200.00"), date(2026, 3, 20))
    assert status.state == BROKEN
    assert status.due_date == FIRST
    assert status.due_amount == D("150.00")
    assert status.paid == D("100.00")


def test_paying_ahead_covers_later_instalments():
    # 200 paid by the first date: the first instalment is covered, the
    # second is pending until its own date.
    status = evaluate(TWO, D("300.00"), D("100.00"), date(2026, 3, 18))
    assert status.state == PENDING
    assert status.due_date == SECOND


def test_instalments_in_any_order_and_on_the_same_day():
    reordered = [Instalment(SECOND, D("150.00")), Instalment(FIRST, D("150.00"))]
    assert evaluate(reordered, D("300"), D("150"), date(2026, 4, 19)).due_date == SECOND
    same_day = [Instalment(FIRST, D("100.00")), Instalment(FIRST, D("50.00"))]
    status = evaluate(same_day, D("150"), D("50"), date(2026, 3, 20))
    assert status.state == BROKEN
    assert status.due_amount == D("150.00")


def test_partial_promise_kept_with_an_amount_left_open():
    # The accountant agreed to 100 of 300; 100 paid: kept, 200 stay open.
    status = evaluate([Instalment(FIRST, D("100.00"))], D("300.00"), D("200.00"), FIRST)
    assert status.state == KEPT


def test_credit_note_counts_as_payment():
    # The open amount went down by a credit note of 300: kept.
    assert evaluate(ONE, D("300.00"), D("0.00"), FIRST).state == KEPT


def test_open_amount_grown_counts_as_nothing_paid():
    # A payment undone after the promise (a returned direct debit) and an
    # open amount above the start never count as a negative payment.
    status = evaluate(ONE, D("300.00"), D("320.00"), FIRST)
    assert status.state == PENDING
    assert status.paid == D("0")


def test_grace_per_promise():
    assert evaluate(ONE, D("300"), D("300"), date(2026, 3, 17), grace_days=0).state == BROKEN
    assert evaluate(ONE, D("300"), D("300"), date(2026, 3, 16), grace_days=0).state == PENDING
    status = evaluate(ONE, D("300"), D("300"), date(2026, 3, 20), grace_days=10)
    assert status.pending_until == date(2026, 3, 26)


@pytest.mark.parametrize(
    "instalments, message",
    [
        ([], "at least one instalment"),
        ([Instalment(FIRST, D("0"))], "must be a positive amount"),
        ([Instalment(FIRST, D("-1"))], "must be a positive amount"),
    ],
)
def test_bad_instalments_are_refused(instalments, message):
    with pytest.raises(ValueError, match=message):
        evaluate(instalments, D("300"), D("300"), FIRST)


def test_negative_grace_is_refused():
    with pytest.raises(ValueError, match="grace days cannot be negative"):
        evaluate(ONE, D("300"), D("300"), FIRST, grace_days=-1)


# ----------------------------------------------------------------------
# Planning: a broken promise resumes at the level the invoice had
# ----------------------------------------------------------------------
L1 = LevelConfig(Level(1, 10, 7, "due_date", "Zahlungserinnerung"))
L2 = LevelConfig(Level(2, 20, 14, "previous_level", "1. Mahnung"), fee_amount=D("1.50"))
L3 = LevelConfig(Level(3, 30, 14, "previous_level", "2. Mahnung"), fee_amount=D("2.50"))
LEVELS = [L1, L2, L3]
DUE = date(2026, 1, 1)
TODAY = date(2026, 4, 20)
ITEMS = [OpenItem(10, "EUR", D("300.00"), DUE, "out_invoice")]


def plan(invoice):
    return planning.plan_customer(Customer(7), ITEMS, {10: invoice}, LEVELS, Settings(today=TODAY))


def test_repeat_level_gives_a_notice_at_the_level_the_invoice_had():
    invoice = Invoice(10, level_id=2, last_notice_date=date(2026, 2, 1), repeat_level=True)
    result = plan(invoice)
    (notice,) = result.notices
    assert notice.level == L2
    (line,) = notice.lines
    assert line.escalated and line.new_level_id == 2
    assert notice.fee_amount == D("1.50")


def test_without_repeat_the_invoice_escalates_one_step():
    invoice = Invoice(10, level_id=2, last_notice_date=date(2026, 2, 1))
    assert plan(invoice).notices[0].level == L3


def test_repeat_level_of_an_invoice_never_dunned_gives_the_first_level():
    result = plan(Invoice(10, repeat_level=True))
    assert result.notices[0].level == L1


def test_repeat_level_never_on_the_day_of_the_last_notice():
    invoice = Invoice(10, level_id=2, last_notice_date=TODAY, repeat_level=True)
    assert not plan(invoice).notices


def test_paused_by_a_pending_promise_gets_no_notice():
    invoice = Invoice(10, level_id=2, last_notice_date=date(2026, 2, 1), paused_until=TODAY)
    result = plan(invoice)
    assert not result.notices
    assert (10, planning.SKIP_PAUSED) in result.skipped


def test_promises_module_has_no_odoo():
    assert "odoo" not in promises.__dict__
