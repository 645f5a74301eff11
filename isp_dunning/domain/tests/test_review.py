"""Tests for domain.review: the reviewers' decisions applied to a plan."""

from dataclasses import FrozenInstanceError
from datetime import date, timedelta
from decimal import Decimal

import pytest
from domain import escalation, planning, review
from domain.escalation import Level
from domain.interest import GERMAN_BASE_RATES
from domain.planning import Customer, Invoice, LevelConfig, OpenItem, Settings
from domain.review import Decision, Waived, level_choices, plan_reviewed

D = Decimal
EUR = "EUR"
USD = "USD"
DUE = date(2025, 5, 15)

L1 = LevelConfig(Level(1, 10, 7, "due_date", "Erinnerung"))
L2 = LevelConfig(
    Level(2, 20, 14, "previous_level", "1. Mahnung"),
    fee_amount=D("2.50"),
    interest_mode="statutory",
)
L3 = LevelConfig(
    Level(3, 30, 14, "previous_level", "2. Mahnung"),
    fee_amount=D("5.00"),
    interest_mode="statutory",
    b2b_flat_fee=True,
    block_portal=True,
)
LEVELS = [L1, L2, L3]
LADDER = [c.level for c in LEVELS]
CONSUMER = Customer(partner_id=7)
BUSINESS = Customer(partner_id=8, is_business=True)
TODAY = date(2025, 8, 14)


def settings(today=TODAY):
    return Settings(today=today, base_rates=GERMAN_BASE_RATES)


def item(move_id, residual, due=DUE, currency=EUR):
    return OpenItem(move_id, currency, D(residual), due, "out_invoice")


def book():
    """Invoice 1 due for level 3 (at level 2), invoice 2 due for level 1."""
    items = [item(1, "100.00"), item(2, "50.00", DUE + timedelta(days=60))]
    invoices = {
        1: Invoice(1, level_id=2, last_notice_date=date(2025, 7, 1), first_notice_date=DUE),
        2: Invoice(2),
    }
    return items, invoices


def reviewed(decision, customer=CONSUMER, items=None, invoices=None, today=TODAY):
    default_items, default_invoices = book()
    return plan_reviewed(
        customer,
        default_items if items is None else items,
        default_invoices if invoices is None else invoices,
        LEVELS,
        settings(today),
        {EUR: decision},
    )


def automatic(customer=CONSUMER, today=TODAY):
    items, invoices = book()
    return planning.plan_customer(customer, items, invoices, LEVELS, settings(today))


def test_neutral_decision_plans_exactly_the_automatic_run():
    for customer in (CONSUMER, BUSINESS):
        plan, waived = reviewed(Decision(), customer=customer)
        expected = automatic(customer)
        assert plan.notices == expected.notices
        assert plan.next_dates == expected.next_dates
        assert waived == {EUR: Waived()}
        assert Decision().is_neutral
        assert not Decision(waive_fee=True).is_neutral


def test_automatic_book_is_what_the_tests_expect():
    notice = automatic().notices[0]
    assert notice.level == L3
    assert {line.move_id: line.escalated for line in notice.lines} == {1: True, 2: True}
    assert notice.fee_amount == D("5.00")
    assert notice.interest_amount > 0


def test_removed_notice_books_nothing():
    plan, waived = reviewed(Decision(removed=True))
    assert plan.notices == []
    assert plan.next_dates == {}
    assert waived == {}


def test_currency_without_decision_gets_nothing():
    items, invoices = book()
    items.append(item(3, "80.00", currency=USD))
    invoices[3] = Invoice(3)
    plan, _w = plan_reviewed(CONSUMER, items, invoices, LEVELS, settings(), {EUR: Decision()})
    assert [n.currency for n in plan.notices] == [EUR]
    assert 3 not in plan.next_dates
    both, _w = plan_reviewed(
        CONSUMER, items, invoices, LEVELS, settings(), {EUR: Decision(), USD: Decision()}
    )
    assert sorted(n.currency for n in both.notices) == [EUR, USD]


def test_excluded_invoice_leaves_the_notice_and_is_not_touched():
    plan, _w = reviewed(Decision(excluded_move_ids=frozenset({1})))
    notice = plan.notices[0]
    assert [line.move_id for line in notice.lines] == [2]
    assert notice.level == L1  # invoice 2 reaches the first level only
    assert notice.fee_amount == 0
    assert notice.amount_open == D("50.00")
    assert 1 not in plan.next_dates


def test_excluding_every_invoice_leaves_no_notice():
    plan, _w = reviewed(Decision(excluded_move_ids=frozenset({1, 2})))
    assert plan.notices == []


def test_waive_fee_keeps_everything_else():
    full = automatic().notices[0]
    plan, waived = reviewed(Decision(waive_fee=True))
    notice = plan.notices[0]
    assert notice.fee_amount == 0
    assert waived[EUR] == Waived(fee=D("5.00"))
    assert notice.interest_amount == full.interest_amount
    assert notice.lines == full.lines
    assert notice.amount_total_due == full.amount_total_due - D("5.00")
    assert plan.next_dates == automatic().next_dates


def test_waive_interest_forgives_the_days():
    full = automatic().notices[0]
    plan, waived = reviewed(Decision(waive_interest=True))
    notice = plan.notices[0]
    assert notice.interest_amount == 0
    assert waived[EUR] == Waived(interest=full.interest_amount)
    assert all(line.interest_amount == 0 for line in notice.lines)
    assert all(not line.interest_segments for line in notice.lines)
    # The days are forgiven: interest-charged-until moves on as if charged.
    assert [line.interest_to for line in notice.lines] == [line.interest_to for line in full.lines]
    assert notice.fee_amount == full.fee_amount


def test_waive_both():
    full = automatic().notices[0]
    plan, waived = reviewed(Decision(waive_fee=True, waive_interest=True))
    assert plan.notices[0].charges == 0
    assert waived[EUR] == Waived(fee=full.fee_amount, interest=full.interest_amount)


def test_waive_nothing_to_waive():
    items = [item(2, "50.00", DUE + timedelta(days=60))]
    plan, waived = reviewed(
        Decision(waive_fee=True, waive_interest=True), items=items, invoices={2: Invoice(2)}
    )
    assert plan.notices[0].level == L1
    assert waived[EUR] == Waived()


def test_lower_level_dunns_the_due_invoice_at_the_cap():
    plan, _w = reviewed(Decision(level_id=2))
    notice = plan.notices[0]
    assert notice.level == L2
    lines = {line.move_id: line for line in notice.lines}
    # Invoice 1 (at level 2, due for 3) is dunned at level 2 again.
    assert lines[1].escalated and lines[1].new_level_id == 2
    # Invoice 2 (no level) reaches level 1 as before.
    assert lines[2].escalated and lines[2].new_level_id == 1
    assert notice.fee_amount == D("2.50")  # level 2's fee
    assert plan.next_dates[1] == escalation.next_date(LADDER, 2, DUE, TODAY)
    assert plan.next_dates[2] == escalation.next_date(LADDER, 1, DUE + timedelta(days=60), TODAY)


def test_lower_level_interest_equals_the_automatic_interest_at_that_level():
    plan, _w = reviewed(Decision(level_id=2))
    full = automatic().notices[0]
    # Both levels charge statutory interest: the same days and amounts.
    assert plan.notices[0].interest_amount == full.interest_amount


def test_lower_level_to_the_first_level_drops_the_fee_and_interest():
    items = [item(1, "100.00")]
    invoices = {1: Invoice(1, level_id=1, last_notice_date=date(2025, 6, 1))}
    plan, _w = reviewed(Decision(level_id=1), items=items, invoices=invoices)
    notice = plan.notices[0]
    assert notice.level == L1
    assert notice.lines[0].escalated and notice.lines[0].new_level_id == 1
    assert notice.fee_amount == 0 and notice.interest_amount == 0
    assert plan.next_dates[1] == escalation.next_date(LADDER, 1, DUE, TODAY)


def test_invoice_above_the_cap_is_listed_with_its_own_level():
    items = [item(1, "100.00"), item(2, "50.00", DUE + timedelta(days=60))]
    invoices = {
        1: Invoice(1, level_id=3, last_notice_date=date(2025, 8, 1)),
        2: Invoice(2, level_id=1, last_notice_date=date(2025, 7, 20)),
    }
    full = planning.plan_customer(CONSUMER, items, invoices, LEVELS, settings())
    assert full.notices[0].level == L2  # invoice 2 reaches level 2
    plan, _w = reviewed(Decision(level_id=1), items=items, invoices=invoices)
    lines = {line.move_id: line for line in plan.notices[0].lines}
    assert not lines[1].escalated and lines[1].new_level_id == 3
    assert lines[2].escalated and lines[2].new_level_id == 1
    assert plan.next_dates[1] == full.next_dates[1]


def test_cap_at_or_above_the_notice_level_changes_nothing():
    for level_id in (3,):
        plan, _w = reviewed(Decision(level_id=level_id))
        assert plan.notices == automatic().notices
        assert plan.next_dates == automatic().next_dates


def test_unknown_cap_level_is_refused():
    with pytest.raises(ValueError, match="not part of the ladder"):
        reviewed(Decision(level_id=99))


def test_lower_level_with_lump_sum_rule_of_the_cap():
    # Level 3 charges the business lump sum, level 2 does not.
    full = automatic(customer=BUSINESS).notices[0]
    assert full.lump_sum_amount == D("80.00")  # 40 per invoice
    plan, _w = reviewed(Decision(level_id=2), customer=BUSINESS)
    assert plan.notices[0].lump_sum_amount == 0
    assert plan.notices[0].fee_amount == D("2.50")


def test_combined_decisions():
    plan, waived = reviewed(Decision(excluded_move_ids=frozenset({2}), level_id=2, waive_fee=True))
    notice = plan.notices[0]
    assert [line.move_id for line in notice.lines] == [1]
    assert notice.level == L2 and notice.fee_amount == 0
    assert waived[EUR].fee == D("2.50")


def test_customer_paid_in_between_books_what_is_still_due():
    items = [item(1, "40.00"), item(2, "50.00", DUE + timedelta(days=60))]
    _items, invoices = book()
    plan, _w = reviewed(Decision(waive_fee=True), items=items, invoices=invoices)
    assert plan.notices[0].amount_open == D("90.00")
    paid, _w = reviewed(Decision(), items=[], invoices=invoices)
    assert paid.notices == []


def test_level_choices():
    assert level_choices(LEVELS, 3, [2]) == [2]
    assert level_choices(LEVELS, 3, []) == [1, 2]
    assert level_choices(LEVELS, 3, [1, None]) == [1, 2]
    assert level_choices(LEVELS, 1, []) == []


def test_decision_is_frozen():
    with pytest.raises(FrozenInstanceError):
        Decision().waive_fee = True  # type: ignore[misc]


def test_waive_returns_new_notice_only_when_needed():
    notice = automatic().notices[0]
    same, waived = review.waive(notice, Decision())
    assert same is notice and waived == Waived()
