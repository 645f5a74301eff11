"""Tests for the minimum amount per level (domain.planning): a level is
reached only when the customer's net overdue amount in the notice's currency
is at least the level's minimum."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from domain import planning
from domain.escalation import Level
from domain.planning import BelowMinimum, Customer, Invoice, LevelConfig, OpenItem, Settings

D = Decimal
EUR = "EUR"
CHF = "CHF"
DUE = date(2025, 5, 15)
CUSTOMER = Customer(partner_id=7)

L1 = LevelConfig(Level(1, 10, 7, "due_date", "Zahlungserinnerung"), minimum_amount=D("5.00"))
L2 = LevelConfig(
    Level(2, 20, 14, "previous_level", "1. Mahnung"),
    fee_amount=D("1.50"),
    minimum_amount=D("20.00"),
)
L3 = LevelConfig(
    Level(3, 30, 14, "previous_level", "2. Mahnung"),
    fee_amount=D("2.50"),
    minimum_amount=D("50.00"),
)
LEVELS = [L1, L2, L3]


def plan(today, items, invoices, levels=LEVELS, **settings):
    invoices = {invoice.move_id: invoice for invoice in invoices}
    return planning.plan_customer(
        CUSTOMER, items, invoices, levels, Settings(today=today, **settings)
    )


def item(move_id, residual, due_date=DUE, currency=EUR):
    return OpenItem(move_id, currency, D(residual), due_date)


def test_level_config_has_no_minimum_by_default():
    assert LevelConfig(Level(9, 90, 1, "due_date")).minimum_amount == D("0")


def test_exactly_the_minimum_reaches_the_level():
    result = plan(DUE + timedelta(days=7), [item(10, "5.00")], [Invoice(10)])
    assert [notice.level.id for notice in result.notices] == [1]
    assert result.notices[0].amount_open == D("5.00")
    assert result.skipped == []


def test_one_cent_below_the_minimum_waits_and_says_why():
    result = plan(DUE + timedelta(days=7), [item(10, "4.99")], [Invoice(10)])
    assert result.notices == []
    assert result.skipped == [(None, BelowMinimum(1, D("4.99"), D("5.00"), EUR))]
    assert result.skipped[0][1].reason == planning.SKIP_BELOW_MINIMUM
    # The invoice keeps its level and is due again at the next run.
    assert result.next_dates == {10: DUE + timedelta(days=7)}


def test_several_invoices_are_summed():
    items = [item(10, "2.00"), item(11, "3.00", DUE - timedelta(days=3))]
    result = plan(DUE + timedelta(days=7), items, [Invoice(10), Invoice(11)])
    (notice,) = result.notices
    assert notice.level.id == 1
    assert sorted(notice.escalated_move_ids) == [10, 11]
    assert notice.amount_open == D("5.00")


def test_credits_are_netted_before_the_comparison():
    items = [item(10, "24.00"), item(20, "-19.01", None)]
    result = plan(DUE + timedelta(days=7), items, [Invoice(10)])
    assert result.notices == []
    assert result.skipped == [(None, BelowMinimum(1, D("4.99"), D("5.00"), EUR))]
    items = [item(10, "24.00"), item(20, "-19.00", None)]
    (notice,) = plan(DUE + timedelta(days=7), items, [Invoice(10)]).notices
    # Netted for the decision, not deducted from the notice's lines.
    assert notice.amount_open == D("24.00")


def test_paused_invoices_do_not_count_towards_the_minimum():
    items = [item(10, "4.00"), item(11, "100.00")]
    invoices = [Invoice(10), Invoice(11, paused_until=DUE + timedelta(days=30))]
    result = plan(DUE + timedelta(days=7), items, invoices)
    assert result.notices == []
    assert (None, BelowMinimum(1, D("4.00"), D("5.00"), EUR)) in result.skipped


def test_highest_level_whose_minimum_is_met():
    """Invoice 10 is due for level 3 (minimum 50), invoice 11 for level 1
    (minimum 5); 30.00 net overdue: the notice goes out at level 1, invoice
    10 stays at level 2 and waits for the minimum of level 3."""
    today = DUE + timedelta(days=40)
    items = [item(10, "25.00"), item(11, "5.00", DUE + timedelta(days=20))]
    invoices = [
        Invoice(10, level_id=2, last_notice_date=DUE + timedelta(days=21)),
        Invoice(11),
    ]
    result = plan(today, items, invoices)
    (notice,) = result.notices
    assert notice.level.id == 1
    lines = {line.move_id: line for line in notice.lines}
    assert lines[10].escalated is False and lines[10].new_level_id == 2
    assert lines[11].escalated is True and lines[11].new_level_id == 1
    assert notice.fee_amount == D("0")
    # Invoice 10 is due again at the next run.
    assert result.next_dates[10] == DUE + timedelta(days=35)


def test_higher_level_reached_once_its_minimum_is_met():
    today = DUE + timedelta(days=40)
    invoices = [
        Invoice(10, level_id=2, last_notice_date=DUE + timedelta(days=21)),
        Invoice(11),
    ]
    items = [item(10, "45.00"), item(11, "5.00", DUE + timedelta(days=20))]
    (notice,) = plan(today, items, invoices).notices
    assert notice.level.id == 3
    assert notice.fee_amount == D("2.50")
    assert set(notice.escalated_move_ids) == {10, 11}


def test_no_level_met_reports_the_lowest_minimum_missed():
    today = DUE + timedelta(days=40)
    items = [item(10, "15.00"), item(11, "1.00", DUE + timedelta(days=1))]
    invoices = [
        Invoice(10, level_id=2, last_notice_date=DUE + timedelta(days=21)),
        Invoice(11, level_id=1, last_notice_date=DUE + timedelta(days=10)),
    ]
    # Invoice 10 is due for level 3 (50.00), invoice 11 for level 2 (20.00).
    result = plan(today, items, invoices)
    assert result.notices == []
    assert result.skipped == [(None, BelowMinimum(2, D("16.00"), D("20.00"), EUR))]


def test_minimum_converted_to_the_notice_currency():
    # 1 EUR = 2 CHF: the minimum of 5.00 EUR is 10.00 CHF.
    settings = {"rates": {CHF: D("2")}}
    today = DUE + timedelta(days=7)
    result = plan(today, [item(10, "9.99", currency=CHF)], [Invoice(10)], **settings)
    assert result.skipped == [(None, BelowMinimum(1, D("9.99"), D("10.00"), CHF))]
    (notice,) = plan(today, [item(10, "10.00", currency=CHF)], [Invoice(10)], **settings).notices
    assert notice.currency == CHF


def test_each_currency_is_compared_on_its_own():
    items = [item(10, "4.00"), item(11, "6.00", currency=CHF)]
    result = plan(DUE + timedelta(days=7), items, [Invoice(10), Invoice(11)])
    assert [notice.currency for notice in result.notices] == [CHF]


def test_zero_minimum_changes_nothing():
    levels = [replace(config, minimum_amount=D("0")) for config in LEVELS]
    result = plan(DUE + timedelta(days=7), [item(10, "0.50")], [Invoice(10)], levels=levels)
    assert [notice.level.id for notice in result.notices] == [1]
