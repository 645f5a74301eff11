"""Tests for domain.planning: what one dunning run decides for one customer."""

import random
from dataclasses import FrozenInstanceError, replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from domain import escalation, planning
from domain.escalation import Level
from domain.interest import GERMAN_BASE_RATES, InterestSegment, MissingBaseRate
from domain.planning import (
    Customer,
    CustomerPlan,
    InstalmentPlan,
    Invoice,
    LevelConfig,
    LinePlan,
    NoticePlan,
    OpenItem,
    Settings,
    describe_segments,
    plan_customer,
)

D = Decimal
EUR = "EUR"
CHF = "CHF"
JPY = "JPY"
DUE = date(2025, 5, 15)


def days(n):
    return timedelta(days=n)


# The ladder of the brief: reminder 7 days after the due date, then three
# steps 14 days after the previous notice each.
L1 = LevelConfig(Level(1, 10, 7, "due_date", "Zahlungserinnerung"))
L2 = LevelConfig(
    Level(2, 20, 14, "previous_level", "1. Mahnung"),
    fee_amount=D("1.50"),
    interest_mode="statutory",
)
L3 = LevelConfig(
    Level(3, 30, 14, "previous_level", "2. Mahnung"),
    fee_amount=D("1.50"),
    interest_mode="statutory",
    b2b_flat_fee=True,
)
L4 = LevelConfig(
    Level(4, 40, 14, "previous_level", "Letzte Mahnung"),
    fee_amount=D("1.50"),
    interest_mode="statutory",
    b2b_flat_fee=True,
)
LEVELS = [L1, L2, L3, L4]
LADDER = [config.level for config in LEVELS]
LEVEL_IDS = [config.id for config in LEVELS]

CONSUMER = Customer(partner_id=7)
BUSINESS = Customer(partner_id=8, is_business=True)


def make_settings(today, **kwargs):
    kwargs.setdefault("base_rates", GERMAN_BASE_RATES)
    return Settings(today=today, **kwargs)


def run(today, items, invoices, customer=CONSUMER, levels=LEVELS, **kwargs):
    if not isinstance(invoices, dict):
        invoices = {invoice.move_id: invoice for invoice in invoices}
    return plan_customer(customer, items, invoices, levels, make_settings(today, **kwargs))


def item(move_id, residual, due_date=DUE, currency=EUR):
    return OpenItem(move_id, currency, D(residual), due_date)


def only_notice(plan):
    assert len(plan.notices) == 1
    return plan.notices[0]


def only_line(plan):
    notice = only_notice(plan)
    assert len(notice.lines) == 1
    return notice.lines[0]


def lines_by_move(notice):
    return {line.move_id: line for line in notice.lines}


# -- data classes ------------------------------------------------------------


def test_level_config_defaults_id_and_sort_key():
    config = LevelConfig(Level(5, 50, 3, "due_date"))
    assert config.id == 5
    assert config.sort_key == (50, 5)
    assert config.fee_amount == D("0")
    assert config.interest_mode == "none"
    assert config.interest_rate == D("0")
    assert config.b2b_flat_fee is False
    assert config.block_portal is False
    assert config.announce_portal_block is False
    assert config.collection_handover is False
    assert L3.sort_key == (30, 3)


def test_dataclasses_are_frozen():
    with pytest.raises(FrozenInstanceError):
        L1.fee_amount = D("5")
    with pytest.raises(FrozenInstanceError):
        Invoice(1).level_id = 2
    with pytest.raises(FrozenInstanceError):
        item(1, "10").residual = D("0")


def test_defaults_of_plain_records():
    invoice = Invoice(10)
    assert invoice.level_id is None
    assert invoice.last_notice_date is None
    assert invoice.first_notice_date is None
    assert invoice.interest_until is None
    assert invoice.lump_sum_charged is False
    assert invoice.paused_until is None
    assert invoice.handed_over is False
    assert invoice.excluded is False
    assert Customer(1) == Customer(1, is_business=False, excluded=False)
    assert OpenItem(1, EUR, D("1")).due_date is None
    plan = CustomerPlan()
    assert plan.notices == [] and plan.next_dates == {} and plan.skipped == []
    assert CustomerPlan().notices is not plan.notices


def test_settings_defaults():
    settings = Settings(today=DUE)
    assert settings.tolerance == D("0")
    assert settings.interest_start == "due_date"
    assert settings.payment_days == 10
    assert settings.lump_sum == D("40.00")
    assert settings.base_rates == ()
    assert settings.rates == {}
    assert settings.precisions == {}


def test_settings_precision_and_convert():
    settings = Settings(
        today=DUE,
        rates={CHF: D("0.9412"), JPY: D("162.3456")},
        precisions={CHF: D("0.05"), JPY: D("1")},
    )
    assert settings.precision(EUR) == D("0.01")
    assert settings.precision(CHF) == D("0.05")
    assert settings.precision(JPY) == D("1")
    # no rate: the company currency itself, rounded to cents half-up
    assert settings.convert(D("1.505"), EUR) == D("1.51")
    assert str(settings.convert(D("40"), EUR)) == "40.00"
    assert settings.convert(D("1.50"), CHF) == D("1.40")  # 1.4118 -> 0.05 steps
    assert settings.convert(D("40.00"), CHF) == D("37.65")  # 37.648
    assert settings.convert(D("1.50"), JPY) == D("244")  # 243.5184
    assert settings.convert(D("40.00"), JPY) == D("6494")  # 6493.824
    assert settings.convert("2", EUR) == D("2.00")


# -- reaching the first level ------------------------------------------------


def test_not_overdue_on_or_before_the_due_date():
    for today in (DUE - days(1), DUE):
        plan = run(today, [item(10, "100.00")], [Invoice(10)])
        assert plan.notices == []
        assert plan.next_dates == {}
        assert plan.skipped == []


def test_overdue_but_level_one_not_reached_on_due_plus_6():
    plan = run(DUE + days(6), [item(10, "100.00")], [Invoice(10)])
    assert plan.notices == []
    assert plan.next_dates == {10: date(2025, 5, 22)}
    assert plan.skipped == []


def test_level_one_exactly_on_due_plus_7():
    today = date(2025, 5, 22)
    plan = run(today, [item(10, "100.00")], [Invoice(10)])
    notice = only_notice(plan)
    assert notice.level is L1
    assert notice.partner_id == 7
    assert notice.currency == EUR
    assert notice.date == today
    assert notice.deadline == date(2025, 6, 1)
    assert notice.fee_amount == D("0.00")
    assert notice.lump_sum_amount == D("0")
    assert notice.interest_amount == D("0")
    assert notice.amount_open == D("100.00")
    assert notice.lines == (
        LinePlan(
            move_id=10,
            escalated=True,
            new_level_id=1,
            due_date=DUE,
            days_overdue=7,
            amount_open=D("100.00"),
            instalments=(InstalmentPlan(DUE, D("100.00")),),
        ),
    )
    line = notice.lines[0]
    assert line.interest_amount == D("0")
    assert line.interest_from is None
    assert line.interest_to is None
    assert line.interest_days == 0
    assert line.interest_segments == ()
    assert line.lump_sum == D("0")
    assert plan.next_dates == {10: date(2025, 6, 5)}
    assert plan.skipped == []


def test_one_step_per_run_even_90_days_late():
    today = DUE + days(90)
    plan = run(today, [item(10, "100.00")], [Invoice(10)])
    line = only_line(plan)
    assert plan.notices[0].level is L1
    assert line.new_level_id == 1
    assert line.escalated is True
    assert line.days_overdue == 90
    assert plan.next_dates == {10: today + days(14)}


def test_one_step_per_run_from_a_lower_level():
    invoice = Invoice(10, level_id=1, last_notice_date=DUE + days(7))
    today = DUE + days(120)
    plan = run(today, [item(10, "100.00")], [invoice])
    assert only_line(plan).new_level_id == 2
    assert plan.notices[0].level is L2
    assert plan.next_dates == {10: today + days(14)}


def test_next_step_after_14_days_from_last_notice_not_13():
    last = date(2025, 5, 22)
    invoice = Invoice(10, level_id=1, last_notice_date=last, first_notice_date=last)
    items = [item(10, "100.00")]

    plan = run(last + days(13), items, [invoice])
    assert plan.notices == []
    assert plan.next_dates == {10: date(2025, 6, 5)}

    plan = run(last + days(14), items, [invoice])
    line = only_line(plan)
    assert line.escalated is True
    assert line.new_level_id == 2
    assert plan.notices[0].level is L2
    assert plan.next_dates == {10: date(2025, 6, 19)}


def test_never_on_the_same_day_as_the_last_notice():
    # A ladder whose second level counts from the due date and is long due.
    levels = [
        LevelConfig(Level(1, 1, 7, "due_date")),
        LevelConfig(Level(2, 2, 8, "due_date")),
    ]
    today = DUE + days(30)
    invoice = Invoice(10, level_id=1, last_notice_date=today)
    plan = run(today, [item(10, "100.00")], [invoice], levels=levels)
    assert plan.notices == []
    assert plan.next_dates == {10: today + days(1)}

    plan = run(today + days(1), [item(10, "100.00")], [invoice], levels=levels)
    assert only_line(plan).new_level_id == 2
    assert plan.next_dates == {10: None}


def test_same_day_rerun_with_fed_back_state_does_not_escalate():
    today = DUE + days(7)
    plan = run(today, [item(10, "100.00")], [Invoice(10)])
    assert only_line(plan).new_level_id == 1
    fed_back = Invoice(10, level_id=1, last_notice_date=today, first_notice_date=today)
    again = run(today, [item(10, "100.00")], [fed_back])
    assert again.notices == []
    assert again.next_dates == {10: today + days(14)}


def test_full_ladder_walk_with_daily_runs():
    invoice = Invoice(10)
    escalations = []
    for offset in range(0, 70):
        today = DUE + days(offset)
        plan = run(today, [item(10, "100.00")], [invoice])
        for notice in plan.notices:
            for line in notice.lines:
                if line.escalated:
                    escalations.append((today, line.new_level_id))
                    invoice = replace(
                        invoice,
                        level_id=line.new_level_id,
                        last_notice_date=today,
                        first_notice_date=invoice.first_notice_date or today,
                    )
    assert escalations == [
        (date(2025, 5, 22), 1),
        (date(2025, 6, 5), 2),
        (date(2025, 6, 19), 3),
        (date(2025, 7, 3), 4),
    ]


def test_last_level_is_not_escalated_further():
    invoice = Invoice(10, level_id=4, last_notice_date=DUE + days(49))
    plan = run(DUE + days(200), [item(10, "100.00")], [invoice])
    assert plan.notices == []
    assert plan.next_dates == {10: None}


def test_escalation_to_the_last_level_has_no_next_date():
    today = date(2025, 8, 14)
    invoice = Invoice(10, level_id=3, last_notice_date=date(2025, 7, 31))
    plan = run(today, [item(10, "100.00")], [invoice])
    assert only_line(plan).new_level_id == 4
    assert plan.notices[0].level is L4
    assert plan.next_dates == {10: None}


def test_level_order_comes_from_sequence_not_list_order():
    levels = [L4, L2, L1, L3]
    plan = run(DUE + days(7), [item(10, "100.00")], [Invoice(10)], levels=levels)
    assert only_line(plan).new_level_id == 1
    assert plan.notices[0].level is L1


def test_notice_level_compares_by_sequence_before_id():
    low = LevelConfig(Level(9, 10, 7, "due_date"))
    high = LevelConfig(Level(3, 20, 14, "previous_level"), fee_amount=D("2.00"))
    today = date(2025, 6, 30)
    invoices = [
        Invoice(10),  # reaches id 9 (sequence 10)
        Invoice(11, level_id=9, last_notice_date=date(2025, 6, 1)),  # reaches id 3
    ]
    items = [item(10, "10.00"), item(11, "20.00")]
    notice = only_notice(run(today, items, invoices, levels=[low, high]))
    assert notice.level is high
    assert notice.fee_amount == D("2.00")
    assert {line.move_id: line.new_level_id for line in notice.lines} == {10: 9, 11: 3}


def test_unknown_current_level_raises():
    with pytest.raises(ValueError, match="not part of the ladder"):
        run(DUE + days(30), [item(10, "100.00")], [Invoice(10, level_id=99)])


# -- next dates --------------------------------------------------------------


def test_next_dates_for_escalated_and_other_invoices():
    today = date(2025, 6, 15)
    invoices = [
        Invoice(10, level_id=1, last_notice_date=date(2025, 6, 1)),  # escalates to 2
        Invoice(11),  # overdue 5 days, not yet at level 1
        Invoice(12, level_id=4, last_notice_date=date(2025, 5, 1)),  # at the top
        Invoice(13, level_id=2, last_notice_date=date(2025, 6, 10)),  # waits
    ]
    items = [
        item(10, "100.00", DUE),
        item(11, "50.00", date(2025, 6, 10)),
        item(12, "70.00", date(2025, 3, 1)),
        item(13, "30.00", date(2025, 4, 1)),
    ]
    plan = run(today, items, invoices)
    assert plan.next_dates == {
        10: escalation.next_date(LADDER, 2, DUE, today),
        11: date(2025, 6, 17),
        12: None,
        13: date(2025, 6, 24),
    }
    assert plan.next_dates[10] == date(2025, 6, 29)
    notice = only_notice(plan)
    assert notice.level is L2
    assert notice.escalated_move_ids == (10,)
    lines = lines_by_move(notice)
    assert (lines[10].escalated, lines[10].new_level_id) == (True, 2)
    assert (lines[11].escalated, lines[11].new_level_id) == (False, None)
    assert (lines[12].escalated, lines[12].new_level_id) == (False, 4)
    assert (lines[13].escalated, lines[13].new_level_id) == (False, 2)


def test_next_dates_without_a_notice():
    today = date(2025, 6, 15)
    invoices = [Invoice(10, level_id=1, last_notice_date=date(2025, 6, 10))]
    plan = run(today, [item(10, "100.00")], invoices)
    assert plan.notices == []
    assert plan.next_dates == {10: date(2025, 6, 24)}


def test_next_date_never_same_day_as_escalation():
    levels = [LevelConfig(Level(1, 1, 0, "due_date")), LevelConfig(Level(2, 2, 1, "due_date"))]
    today = DUE + days(10)
    plan = run(today, [item(10, "100.00")], [Invoice(10)], levels=levels)
    assert only_line(plan).new_level_id == 1
    assert plan.next_dates == {10: today + days(1)}


# -- instalments and partial payments ----------------------------------------


def test_only_the_overdue_instalment_is_dunned():
    today = date(2025, 5, 22)
    items = [item(10, "500.00", DUE), item(10, "500.00", date(2025, 6, 15))]
    line = only_line(run(today, items, [Invoice(10)]))
    assert line.amount_open == D("500.00")
    assert line.due_date == DUE
    assert line.days_overdue == 7


def test_due_date_is_the_earliest_overdue_instalment():
    today = date(2025, 5, 22)
    items = [
        item(10, "200.00", DUE),
        item(10, "500.00", date(2025, 6, 15)),
        item(10, "300.00", date(2025, 4, 15)),
    ]
    plan = run(today, items, [Invoice(10)])
    line = only_line(plan)
    assert line.amount_open == D("500.00")
    assert line.due_date == date(2025, 4, 15)
    assert line.days_overdue == 37
    assert plan.next_dates == {10: date(2025, 6, 5)}


def test_escalation_counts_from_the_earliest_overdue_instalment():
    # The instalment due 2025-05-10 is 7 days late; the later one only 2.
    today = date(2025, 5, 17)
    items = [item(10, "50.00", date(2025, 5, 15)), item(10, "50.00", date(2025, 5, 10))]
    line = only_line(run(today, items, [Invoice(10)]))
    assert line.new_level_id == 1
    assert line.due_date == date(2025, 5, 10)
    assert line.amount_open == D("100.00")


def test_instalment_due_today_is_not_overdue():
    today = date(2025, 6, 15)
    items = [item(10, "500.00", DUE), item(10, "500.00", today)]
    line = only_line(run(today, items, [Invoice(10)]))
    assert line.amount_open == D("500.00")


def test_interest_per_instalment_from_its_own_due_date():
    today = date(2025, 6, 20)
    invoice = Invoice(10, level_id=1, last_notice_date=date(2025, 6, 5))
    items = [item(10, "500.00", DUE), item(10, "500.00", date(2025, 6, 15))]
    notice = only_notice(run(today, items, [invoice]))
    line = notice.lines[0]
    assert line.amount_open == D("1000.00")
    assert line.due_date == DUE
    # 500 * 7.27 * (36 + 5) / 36500 = 4.0831...
    assert line.interest_amount == D("4.08")
    assert line.interest_from == date(2025, 5, 16)
    assert line.interest_to == today
    assert line.interest_days == 36
    assert line.interest_segments == (
        InterestSegment(date(2025, 5, 16), today, 36, D("7.27")),
        InterestSegment(date(2025, 6, 16), today, 5, D("7.27")),
    )
    assert notice.interest_amount == D("4.08")


def test_interest_per_instalment_since_interest_until():
    today = date(2025, 6, 20)
    invoice = Invoice(
        10, level_id=1, last_notice_date=date(2025, 6, 5), interest_until=date(2025, 6, 10)
    )
    items = [item(10, "500.00", DUE), item(10, "500.00", date(2025, 6, 15))]
    line = only_line(run(today, items, [invoice]))
    # first instalment 10 days after the last charge, second 5 days after its due date
    assert line.interest_segments == (
        InterestSegment(date(2025, 6, 11), today, 10, D("7.27")),
        InterestSegment(date(2025, 6, 16), today, 5, D("7.27")),
    )
    assert line.interest_amount == D("1.49")  # 500 * 7.27 * 15 / 36500 = 1.4938
    assert line.interest_from == date(2025, 6, 11)
    assert line.interest_days == 10


def test_interest_rounded_once_per_invoice():
    # 36.5 % for 10 days: each instalment of 100.40 earns exactly 1.004.
    level = LevelConfig(Level(1, 1, 10, "due_date"), interest_mode="fixed", interest_rate=D("36.5"))
    items = [item(10, "100.40"), item(10, "100.40"), item(10, "100.40")]
    line = only_line(run(DUE + days(10), items, [Invoice(10)], levels=[level]))
    assert line.amount_open == D("301.20")
    # rounded per instalment it would be 3 * 1.00 = 3.00
    assert line.interest_amount == D("3.01")
    assert len(line.interest_segments) == 3


def test_partial_residual_is_dunned_not_the_total():
    today = date(2025, 8, 14)
    invoice = Invoice(10, level_id=1, last_notice_date=date(2025, 7, 31))
    notice = only_notice(run(today, [item(10, "250.00")], [invoice]))
    assert notice.amount_open == D("250.00")
    assert notice.lines[0].amount_open == D("250.00")
    # 250 * (46 * 7.27 + 45 * 6.27) / 36500 = 4.2230...
    assert notice.interest_amount == D("4.22")


def test_amount_open_is_rounded_to_the_currency():
    plan = run(DUE + days(7), [item(10, "100.004"), item(10, "0.003")], [Invoice(10)])
    assert only_line(plan).amount_open == D("100.01")
    assert plan.notices[0].amount_open == D("100.01")


# -- netting and tolerance ---------------------------------------------------


def test_credit_note_covering_the_balance_prevents_the_notice():
    items = [item(10, "100.00"), item(20, "-99.00", None)]
    plan = run(DUE + days(7), items, [Invoice(10)], tolerance=D("1.00"))
    assert plan.notices == []
    assert plan.next_dates == {}
    assert plan.skipped == [(None, "net balance covered by credits")]


def test_net_just_above_the_tolerance_is_dunned_with_the_full_amount():
    items = [item(10, "100.00"), item(20, "-98.99", None)]
    plan = run(DUE + days(7), items, [Invoice(10)], tolerance=D("1.00"))
    notice = only_notice(plan)
    # the credit is netted for the decision, not deducted on the notice
    assert notice.amount_open == D("100.00")
    assert plan.skipped == []


def test_unreconciled_payment_is_netted():
    items = [item(10, "100.00"), item(30, "-100.00", None)]
    plan = run(DUE + days(7), items, [Invoice(10)])
    assert plan.notices == []
    assert plan.skipped == [(None, "net balance covered by credits")]


def test_credits_and_payments_add_up():
    items = [
        item(10, "60.00"),
        item(11, "40.00"),
        item(20, "-30.00", None),  # credit note
        item(30, "-70.00", date(2025, 5, 1)),  # payment with a date
    ]
    plan = run(DUE + days(7), items, [Invoice(10), Invoice(11)])
    assert plan.notices == []
    plan = run(DUE + days(7), items[:-1], [Invoice(10), Invoice(11)])
    assert only_notice(plan).amount_open == D("100.00")


def test_negative_item_of_an_invoice_is_a_credit_not_a_dunned_amount():
    items = [item(10, "100.00"), item(10, "-30.00", date(2025, 5, 1))]
    notice = only_notice(run(DUE + days(7), items, [Invoice(10)]))
    assert notice.lines[0].amount_open == D("100.00")
    assert notice.lines[0].due_date == DUE
    covered = [item(10, "100.00"), item(10, "-100.00", date(2025, 5, 1))]
    plan = run(DUE + days(7), covered, [Invoice(10)])
    assert plan.notices == []
    assert plan.skipped == [(None, "net balance covered by credits")]


def test_not_yet_due_invoices_do_not_count_against_credits():
    items = [
        item(10, "100.00"),
        item(11, "500.00", date(2025, 7, 1)),
        item(20, "-150.00", None),
    ]
    plan = run(DUE + days(7), items, [Invoice(10), Invoice(11)])
    assert plan.notices == []
    assert plan.skipped == [(None, "net balance covered by credits")]


def test_credit_in_another_currency_is_not_netted():
    items = [item(10, "100.00"), item(20, "-500.00", None, CHF)]
    plan = run(DUE + days(7), items, [Invoice(10)])
    notice = only_notice(plan)
    assert notice.currency == EUR
    assert notice.amount_open == D("100.00")


def test_tolerance_per_invoice():
    items = [item(10, "1.00"), item(11, "1.01")]
    plan = run(DUE + days(7), items, [Invoice(10), Invoice(11)], tolerance=D("1.00"))
    notice = only_notice(plan)
    assert [line.move_id for line in notice.lines] == [11]
    assert notice.amount_open == D("1.01")
    assert plan.next_dates == {11: date(2025, 6, 5)}


def test_tolerance_sums_the_overdue_instalments_of_an_invoice():
    items = [
        item(10, "0.60"),
        item(10, "0.60", date(2025, 5, 1)),
        item(10, "5.00", date(2025, 7, 1)),
    ]
    plan = run(DUE + days(7), items, [Invoice(10)], tolerance=D("1.00"))
    assert only_line(plan).amount_open == D("1.20")


def test_only_small_invoices_means_no_notice_and_a_below_tolerance_skip():
    plan = run(DUE + days(7), [item(10, "0.99")], [Invoice(10)], tolerance=D("1.00"))
    assert plan.notices == []
    assert plan.next_dates == {}
    assert plan.skipped == [(10, "below tolerance")]


def test_small_invoice_skipped_next_to_a_dunned_one():
    items = [item(10, "0.99"), item(11, "50.00")]
    plan = run(DUE + days(7), items, [Invoice(10), Invoice(11)], tolerance=D("1.00"))
    assert only_notice(plan).escalated_move_ids == (11,)
    assert plan.skipped == [(10, "below tolerance")]


def test_not_yet_due_small_invoice_is_not_a_skip():
    plan = run(DUE, [item(10, "0.50")], [Invoice(10)], tolerance=D("1.00"))
    assert plan.skipped == []


def test_skip_reasons_are_the_documented_ones():
    assert planning.SKIP_REASONS == (
        "customer excluded from dunning",
        "paused",
        "net balance covered by credits",
        "below tolerance",
        "in payment",
        "below the level's minimum amount",
    )


def test_plan_batch_plans_each_customer_and_keeps_errors_apart():
    settings = make_settings(DUE + days(7))
    good = Customer(7)
    bad = Customer(8)
    items = {7: [item(10, "100.00")], 8: [item(20, "100.00")]}
    # customer 8 has an invoice whose level is not on the ladder
    invoices = {7: {10: Invoice(10)}, 8: {20: Invoice(20, level_id=999)}}
    plans, errors = planning.plan_batch([bad, good], items, invoices, LEVELS, settings)
    assert list(plans) == [7]
    assert only_notice(plans[7]).escalated_move_ids == (10,)
    assert list(errors) == [8]
    assert isinstance(errors[8], Exception)


def test_plan_batch_customer_without_items():
    plans, errors = planning.plan_batch([Customer(7)], {}, {}, LEVELS, make_settings(DUE + days(7)))
    assert errors == {}
    assert plans[7].notices == [] and plans[7].skipped == []


def test_tolerance_is_converted_to_the_foreign_currency():
    settings = {
        "tolerance": D("1.00"),
        "rates": {JPY: D("162.3456")},
        "precisions": {JPY: D("1")},
    }
    items = [item(10, "162", currency=JPY), item(11, "163", currency=JPY)]
    plan = run(DUE + days(7), items, [Invoice(10), Invoice(11)], **settings)
    assert [line.move_id for line in only_notice(plan).lines] == [11]


def test_items_without_due_date_or_invoice_are_not_dunned():
    items = [
        item(10, "100.00", None),  # no due date
        item(40, "100.00"),  # not a dunnable invoice (e.g. a journal entry)
        item(11, "0.00"),  # fully paid
    ]
    plan = run(DUE + days(30), items, [Invoice(10), Invoice(11)])
    assert plan == CustomerPlan()


# -- paused, handed over, excluded -------------------------------------------


def test_paused_invoice_is_skipped_until_the_pause_ends():
    today = DUE + days(7)
    invoice = Invoice(10, paused_until=today)
    plan = run(today, [item(10, "100.00")], [invoice])
    assert plan.notices == []
    assert plan.next_dates == {}
    assert plan.skipped == [(10, "paused")]

    invoice = Invoice(10, paused_until=today + days(30))
    assert run(today, [item(10, "100.00")], [invoice]).skipped == [(10, "paused")]


def test_paused_invoice_resumes_the_day_after():
    today = DUE + days(7)
    invoice = Invoice(10, paused_until=today - days(1))
    plan = run(today, [item(10, "100.00")], [invoice])
    assert only_line(plan).new_level_id == 1
    assert plan.skipped == []


def test_paused_invoice_is_left_out_of_another_notice():
    today = DUE + days(7)
    invoices = [Invoice(10, paused_until=today), Invoice(11)]
    items = [item(10, "100.00"), item(11, "50.00")]
    plan = run(today, items, invoices)
    notice = only_notice(plan)
    assert [line.move_id for line in notice.lines] == [11]
    assert notice.amount_open == D("50.00")
    assert plan.skipped == [(10, "paused")]
    assert plan.next_dates == {11: date(2025, 6, 5)}


def test_paused_invoice_does_not_count_for_the_net_balance():
    today = DUE + days(7)
    invoices = [Invoice(10, paused_until=today), Invoice(11)]
    items = [item(10, "1000.00"), item(11, "100.00"), item(20, "-150.00", None)]
    plan = run(today, items, invoices)
    assert plan.notices == []
    assert plan.skipped == [(10, "paused"), (None, "net balance covered by credits")]


def test_paused_invoice_not_yet_overdue_is_not_reported():
    invoice = Invoice(10, paused_until=date(2025, 12, 31))
    plan = run(DUE, [item(10, "100.00")], [invoice])
    assert plan.skipped == []


def test_handed_over_and_excluded_invoices_are_ignored():
    today = DUE + days(30)
    invoices = [
        Invoice(10, level_id=4, handed_over=True),
        Invoice(11, excluded=True),
        Invoice(12),
    ]
    items = [item(10, "100.00"), item(11, "5.00"), item(12, "20.00")]
    plan = run(today, items, invoices)
    notice = only_notice(plan)
    assert [line.move_id for line in notice.lines] == [12]
    assert notice.amount_open == D("20.00")
    assert plan.next_dates == {12: today + days(14)}
    assert plan.skipped == []


def test_only_handed_over_or_excluded_invoices_mean_nothing_to_do():
    today = DUE + days(30)
    invoices = [Invoice(10, handed_over=True), Invoice(11, excluded=True)]
    plan = run(today, [item(10, "100.00"), item(11, "5.00")], invoices)
    assert plan == CustomerPlan()


def test_excluded_customer_gets_no_notice():
    customer = Customer(7, excluded=True)
    plan = run(DUE + days(30), [item(10, "100.00")], [Invoice(10)], customer=customer)
    assert plan.notices == []
    assert plan.next_dates == {}
    assert plan.skipped == [(None, "customer excluded from dunning")]


def test_no_levels_means_no_notice():
    plan = run(DUE + days(30), [item(10, "100.00")], [Invoice(10)], levels=[])
    assert plan.notices == []
    assert plan.next_dates == {}
    assert plan.skipped == [(None, "customer excluded from dunning")]


def test_no_items_means_nothing_to_do():
    assert run(DUE + days(30), [], [Invoice(10)]) == CustomerPlan()
    assert run(DUE + days(30), [], {}) == CustomerPlan()


# -- one notice per customer and currency ------------------------------------


def test_two_currencies_two_notices_in_order_of_appearance():
    today = DUE + days(7)
    items = [item(11, "80.00", currency=CHF), item(10, "100.00", currency=EUR)]
    plan = run(today, items, [Invoice(10), Invoice(11)])
    assert [notice.currency for notice in plan.notices] == [CHF, EUR]
    chf, eur = plan.notices
    assert [line.move_id for line in chf.lines] == [11]
    assert [line.move_id for line in eur.lines] == [10]
    assert chf.amount_open == D("80.00")
    assert eur.amount_open == D("100.00")
    assert chf.partner_id == eur.partner_id == 7
    assert plan.next_dates == {11: date(2025, 6, 5), 10: date(2025, 6, 5)}


def test_currency_without_escalation_has_no_notice():
    today = date(2025, 6, 15)
    invoices = [Invoice(10), Invoice(11, level_id=1, last_notice_date=date(2025, 6, 10))]
    items = [item(10, "100.00", currency=EUR), item(11, "80.00", currency=CHF)]
    plan = run(today, items, invoices)
    assert only_notice(plan).currency == EUR
    assert plan.next_dates == {10: date(2025, 6, 29), 11: date(2025, 6, 24)}


def test_notice_level_is_the_highest_new_level():
    today = date(2025, 8, 14)
    invoices = [
        Invoice(10),  # -> level 1
        Invoice(11, level_id=2, last_notice_date=date(2025, 7, 31)),  # -> level 3
        Invoice(12, level_id=1, last_notice_date=date(2025, 7, 31)),  # -> level 2
    ]
    items = [item(10, "10.00", date(2025, 8, 1)), item(11, "20.00"), item(12, "30.00")]
    notice = only_notice(run(today, items, invoices))
    assert notice.level is L3
    assert notice.fee_amount == D("1.50")
    assert {line.move_id: line.new_level_id for line in notice.lines} == {10: 1, 11: 3, 12: 2}
    assert all(line.escalated for line in notice.lines)
    assert set(notice.escalated_move_ids) == {10, 11, 12}


def test_notice_level_ignores_higher_levels_of_waiting_invoices():
    today = date(2025, 8, 14)
    invoices = [Invoice(10), Invoice(11, level_id=3, last_notice_date=date(2025, 8, 10))]
    items = [item(10, "10.00", date(2025, 8, 1)), item(11, "20.00")]
    notice = only_notice(run(today, items, invoices))
    assert notice.level is L1
    assert notice.fee_amount == D("0.00")
    assert notice.interest_amount == D("0")
    lines = lines_by_move(notice)
    assert (lines[11].escalated, lines[11].new_level_id) == (False, 3)


def test_non_escalated_overdue_invoices_are_listed_and_keep_their_level():
    today = date(2025, 6, 15)
    invoices = [
        Invoice(10),
        Invoice(11, level_id=1, last_notice_date=date(2025, 6, 10)),
    ]
    items = [item(10, "100.00", date(2025, 6, 8)), item(11, "50.00", date(2025, 5, 1))]
    notice = only_notice(run(today, items, invoices))
    assert notice.level is L1
    assert notice.lines == (
        LinePlan(
            11,
            False,
            1,
            date(2025, 5, 1),
            45,
            D("50.00"),
            instalments=(InstalmentPlan(date(2025, 5, 1), D("50.00")),),
        ),
        LinePlan(
            10,
            True,
            1,
            date(2025, 6, 8),
            7,
            D("100.00"),
            instalments=(InstalmentPlan(date(2025, 6, 8), D("100.00")),),
        ),
    )
    assert notice.escalated_move_ids == (10,)
    assert notice.amount_open == D("150.00")


def test_lines_sorted_by_due_date_then_move_id():
    today = date(2025, 6, 1)
    items = [
        item(30, "1.00", date(2025, 5, 1)),
        item(10, "2.00", date(2025, 5, 10)),
        item(20, "3.00", date(2025, 5, 1)),
    ]
    notice = only_notice(run(today, items, [Invoice(10), Invoice(20), Invoice(30)]))
    assert [line.move_id for line in notice.lines] == [20, 30, 10]


# -- fees --------------------------------------------------------------------


def test_fee_is_charged_once_per_notice():
    today = date(2025, 6, 20)
    invoices = [
        Invoice(10, level_id=1, last_notice_date=date(2025, 6, 5)),
        Invoice(11, level_id=1, last_notice_date=date(2025, 6, 5)),
    ]
    notice = only_notice(run(today, [item(10, "10.00"), item(11, "20.00")], invoices))
    assert notice.level is L2
    assert notice.fee_amount == D("1.50")


def test_fee_is_converted_and_rounded_for_a_foreign_currency():
    today = date(2025, 6, 20)
    invoice = Invoice(10, level_id=1, last_notice_date=date(2025, 6, 5))
    plan = run(
        today,
        [item(10, "1000.00", currency=CHF)],
        [invoice],
        rates={CHF: D("0.9412")},
        precisions={CHF: D("0.05")},
    )
    notice = only_notice(plan)
    assert notice.currency == CHF
    assert notice.fee_amount == D("1.40")  # 1.50 * 0.9412 = 1.4118
    assert notice.amount_open == D("1000.00")


def test_fee_and_amounts_in_a_currency_without_decimals():
    today = date(2025, 8, 14)
    invoice = Invoice(10, level_id=1, last_notice_date=date(2025, 7, 31))
    plan = run(
        today,
        [item(10, "15000", currency=JPY)],
        [invoice],
        rates={JPY: D("162.3456")},
        precisions={JPY: D("1")},
    )
    notice = only_notice(plan)
    assert notice.fee_amount == D("244")  # 243.5184
    assert notice.amount_open == D("15000")
    # 15000 * (46 * 7.27 + 45 * 6.27) / 36500 = 253.385...
    assert notice.interest_amount == D("253")
    assert notice.amount_total_due == D("15497")


# -- business lump sum (§ 288 (5) BGB) ---------------------------------------


def test_lump_sum_for_business_at_a_flat_fee_level_once_per_invoice():
    today = date(2025, 8, 14)
    invoices = [
        Invoice(10, level_id=2, last_notice_date=date(2025, 7, 31)),
        Invoice(11, level_id=2, last_notice_date=date(2025, 7, 31), lump_sum_charged=True),
        Invoice(12, level_id=2, last_notice_date=date(2025, 7, 31)),
    ]
    items = [item(10, "10.00"), item(11, "20.00"), item(12, "30.00")]
    notice = only_notice(run(today, items, invoices, customer=BUSINESS))
    assert notice.level is L3
    lines = lines_by_move(notice)
    assert lines[10].lump_sum == D("40.00")
    assert lines[11].lump_sum == D("0")
    assert lines[12].lump_sum == D("40.00")
    assert notice.lump_sum_amount == D("80.00")
    # § 288 (5) S. 3 BGB: the fee is credited against the lump sums
    assert notice.fee_amount == D("0")
    assert notice.fee_credited == D("1.50")


def test_no_lump_sum_for_consumers():
    today = date(2025, 8, 14)
    invoice = Invoice(10, level_id=2, last_notice_date=date(2025, 7, 31))
    notice = only_notice(run(today, [item(10, "10.00")], [invoice], customer=CONSUMER))
    assert notice.level is L3
    assert notice.lines[0].lump_sum == D("0")
    assert notice.lump_sum_amount == D("0")


def test_no_lump_sum_at_levels_without_flat_fee():
    today = date(2025, 8, 14)
    invoice = Invoice(10, level_id=1, last_notice_date=date(2025, 7, 31))
    notice = only_notice(run(today, [item(10, "10.00")], [invoice], customer=BUSINESS))
    assert notice.level is L2
    assert notice.lump_sum_amount == D("0")
    plan = run(DUE + days(7), [item(10, "10.00")], [Invoice(10)], customer=BUSINESS)
    assert only_notice(plan).lump_sum_amount == D("0")


def test_lump_sum_at_the_last_level_if_not_yet_charged():
    today = date(2025, 8, 14)
    charged = Invoice(10, level_id=3, last_notice_date=date(2025, 7, 31), lump_sum_charged=True)
    notice = only_notice(run(today, [item(10, "10.00")], [charged], customer=BUSINESS))
    assert notice.level is L4
    assert notice.lump_sum_amount == D("0")
    fresh = replace(charged, lump_sum_charged=False)
    notice = only_notice(run(today, [item(10, "10.00")], [fresh], customer=BUSINESS))
    assert notice.lump_sum_amount == D("40.00")


def test_lump_sum_is_converted_for_a_foreign_currency():
    today = date(2025, 8, 14)
    invoice = Invoice(10, level_id=2, last_notice_date=date(2025, 7, 31))
    plan = run(
        today,
        [item(10, "100.00", currency=CHF)],
        [invoice],
        customer=BUSINESS,
        rates={CHF: D("0.9412")},
        precisions={CHF: D("0.05")},
    )
    notice = only_notice(plan)
    assert notice.lines[0].lump_sum == D("37.65")  # 40 * 0.9412 = 37.648
    assert notice.lump_sum_amount == D("37.65")
    assert notice.fee_amount == D("0")  # credited against the lump sum
    assert notice.fee_credited == D("1.40")


def test_lump_sum_amount_comes_from_settings():
    today = date(2025, 8, 14)
    invoice = Invoice(10, level_id=2, last_notice_date=date(2025, 7, 31))
    plan = run(today, [item(10, "10.00")], [invoice], customer=BUSINESS, lump_sum=D("55"))
    assert only_notice(plan).lump_sum_amount == D("55.00")


def test_lump_sum_also_for_listed_non_escalated_invoices():
    today = date(2025, 8, 14)
    invoices = [
        Invoice(10, level_id=2, last_notice_date=date(2025, 7, 31)),  # -> level 3
        Invoice(11, level_id=1, last_notice_date=date(2025, 8, 10)),  # waits
    ]
    notice = only_notice(
        run(today, [item(10, "10.00"), item(11, "20.00")], invoices, customer=BUSINESS)
    )
    lines = lines_by_move(notice)
    assert lines[11].escalated is False
    assert lines[11].lump_sum == D("40.00")
    assert notice.lump_sum_amount == D("80.00")


# -- interest ----------------------------------------------------------------


def _level_two_on_reference_date(customer, **kwargs):
    """1000.00 due 2025-05-15, second level reached on 2025-08-14."""
    invoice = Invoice(
        10,
        level_id=kwargs.pop("level_id", 1),
        last_notice_date=date(2025, 7, 31),
        first_notice_date=kwargs.pop("first_notice_date", date(2025, 5, 22)),
        interest_until=kwargs.pop("interest_until", None),
    )
    levels = kwargs.pop("levels", LEVELS)
    return run(
        date(2025, 8, 14), [item(10, "1000.00")], [invoice], customer, levels=levels, **kwargs
    )


REFERENCE_SEGMENTS_CONSUMER = (
    InterestSegment(date(2025, 5, 16), date(2025, 6, 30), 46, D("7.27")),
    InterestSegment(date(2025, 7, 1), date(2025, 8, 14), 45, D("6.27")),
)


def test_statutory_interest_consumer_reference_example():
    notice = only_notice(_level_two_on_reference_date(CONSUMER))
    line = notice.lines[0]
    assert notice.level is L2
    assert line.interest_amount == D("16.89")
    assert str(line.interest_amount) == "16.89"
    assert line.interest_from == date(2025, 5, 16)
    assert line.interest_to == date(2025, 8, 14)
    assert line.interest_days == 91
    assert line.interest_segments == REFERENCE_SEGMENTS_CONSUMER
    assert notice.interest_amount == D("16.89")
    assert describe_segments(line.interest_segments) == "46 Tage zu 7,27 %, 45 Tage zu 6,27 %"


def test_statutory_interest_business_reference_example():
    notice = only_notice(_level_two_on_reference_date(BUSINESS))
    line = notice.lines[0]
    assert line.interest_amount == D("26.86")
    assert line.interest_days == 91
    assert line.interest_segments == (
        InterestSegment(date(2025, 5, 16), date(2025, 6, 30), 46, D("11.27")),
        InterestSegment(date(2025, 7, 1), date(2025, 8, 14), 45, D("10.27")),
    )
    assert notice.lump_sum_amount == D("0")  # level 2 has no lump sum


def test_business_at_level_three_totals():
    notice = only_notice(_level_two_on_reference_date(BUSINESS, level_id=2))
    assert notice.level is L3
    assert notice.amount_open == D("1000.00")
    # the larger of fee and lump sum, not both (§ 288 (5) S. 3 BGB)
    assert notice.fee_amount == D("0")
    assert notice.fee_credited == D("1.50")
    assert notice.lump_sum_amount == D("40.00")
    assert notice.interest_amount == D("26.86")
    assert notice.charges == D("66.86")
    assert notice.amount_total_due == D("1066.86")
    assert notice.escalated_move_ids == (10,)


def test_incremental_interest_after_interest_until():
    line = only_line(_level_two_on_reference_date(CONSUMER, interest_until=date(2025, 7, 31)))
    # 1000 * 6.27 * 14 / 36500 = 2.4049...
    assert line.interest_amount == D("2.40")
    assert line.interest_from == date(2025, 8, 1)
    assert line.interest_to == date(2025, 8, 14)
    assert line.interest_days == 14
    assert line.interest_segments == (
        InterestSegment(date(2025, 8, 1), date(2025, 8, 14), 14, D("6.27")),
    )


def test_incremental_interest_business():
    line = only_line(_level_two_on_reference_date(BUSINESS, interest_until=date(2025, 7, 31)))
    assert line.interest_amount == D("3.94")  # 1000 * 10.27 * 14 / 36500 = 3.939...


def test_interest_until_before_the_due_date_counts_from_the_due_date():
    line = only_line(_level_two_on_reference_date(CONSUMER, interest_until=date(2025, 5, 1)))
    assert line.interest_amount == D("16.89")
    assert line.interest_days == 91


def test_interest_from_the_first_notice():
    plan = _level_two_on_reference_date(CONSUMER, interest_start="first_notice")
    line = only_line(plan)
    # 1000 * (39 * 7.27 + 45 * 6.27) / 36500 = 15.4980...
    assert line.interest_amount == D("15.50")
    assert line.interest_from == date(2025, 5, 23)
    assert line.interest_days == 84
    assert line.interest_segments == (
        InterestSegment(date(2025, 5, 23), date(2025, 6, 30), 39, D("7.27")),
        InterestSegment(date(2025, 7, 1), date(2025, 8, 14), 45, D("6.27")),
    )


def test_interest_from_the_first_notice_without_one_is_zero():
    plan = _level_two_on_reference_date(
        CONSUMER, interest_start="first_notice", first_notice_date=None
    )
    line = only_line(plan)
    assert line.interest_amount == D("0")
    assert line.interest_from is None
    assert line.interest_to is None
    assert line.interest_days == 0
    assert line.interest_segments == ()
    assert plan.notices[0].interest_amount == D("0")


def test_interest_until_wins_over_the_first_notice():
    plan = _level_two_on_reference_date(
        CONSUMER, interest_start="first_notice", interest_until=date(2025, 7, 31)
    )
    assert only_line(plan).interest_amount == D("2.40")


def test_fixed_interest():
    fixed = replace(L2, interest_mode="fixed", interest_rate=D("5"))
    plan = _level_two_on_reference_date(BUSINESS, levels=[L1, fixed, L3, L4])
    line = only_line(plan)
    # 1000 * 5 * 91 / 36500 = 12.4657...
    assert line.interest_amount == D("12.47")
    assert line.interest_segments == (
        InterestSegment(date(2025, 5, 16), date(2025, 8, 14), 91, D("5")),
    )
    assert line.interest_days == 91


def test_level_without_interest():
    plain = replace(L2, interest_mode="none")
    plan = _level_two_on_reference_date(CONSUMER, levels=[L1, plain, L3, L4])
    notice = only_notice(plan)
    line = notice.lines[0]
    assert line.interest_amount == D("0")
    assert line.interest_from is None
    assert line.interest_to is None
    assert line.interest_days == 0
    assert line.interest_segments == ()
    assert notice.interest_amount == D("0")
    assert notice.charges == D("1.50")
    assert notice.amount_total_due == D("1001.50")


def test_interest_is_charged_on_listed_non_escalated_invoices_at_the_notice_level():
    today = date(2025, 8, 14)
    invoices = [
        Invoice(10, level_id=1, last_notice_date=date(2025, 7, 31)),  # -> level 2
        Invoice(11, level_id=1, last_notice_date=date(2025, 8, 10)),  # waits
    ]
    notice = only_notice(run(today, [item(10, "1000.00"), item(11, "1000.00")], invoices))
    lines = lines_by_move(notice)
    assert lines[11].escalated is False
    assert lines[10].interest_amount == lines[11].interest_amount == D("16.89")
    assert notice.interest_amount == D("33.78")


def test_statutory_interest_without_base_rates_raises():
    with pytest.raises(MissingBaseRate):
        _level_two_on_reference_date(CONSUMER, base_rates=())


# -- notice plan -------------------------------------------------------------


def test_notice_plan_properties():
    lines = (
        LinePlan(10, True, 2, DUE, 10, D("100.00")),
        LinePlan(11, False, 1, DUE, 10, D("50.00")),
        LinePlan(12, True, 2, DUE, 10, D("25.00")),
    )
    notice = NoticePlan(
        partner_id=7,
        currency=EUR,
        level=L2,
        date=DUE,
        deadline=DUE + days(10),
        lines=lines,
        fee_amount=D("1.50"),
        lump_sum_amount=D("40.00"),
        interest_amount=D("3.33"),
        amount_open=D("175.00"),
    )
    assert notice.charges == D("44.83")
    assert notice.amount_total_due == D("219.83")
    assert notice.escalated_move_ids == (10, 12)


def test_deadline_is_today_plus_payment_days():
    today = DUE + days(7)
    plan = run(today, [item(10, "100.00")], [Invoice(10)], payment_days=14)
    assert only_notice(plan).deadline == date(2025, 6, 5)
    plan = run(today, [item(10, "100.00")], [Invoice(10)], payment_days=0)
    assert only_notice(plan).deadline == today


def test_notice_amounts_add_up_over_lines():
    today = date(2025, 8, 14)
    invoices = [
        Invoice(10, level_id=2, last_notice_date=date(2025, 7, 31)),
        Invoice(11, level_id=2, last_notice_date=date(2025, 7, 31)),
    ]
    items = [item(10, "1000.00"), item(11, "250.00")]
    notice = only_notice(run(today, items, invoices, customer=BUSINESS))
    assert notice.amount_open == D("1250.00")
    assert notice.amount_open == sum(line.amount_open for line in notice.lines)
    assert notice.interest_amount == sum(line.interest_amount for line in notice.lines)
    assert notice.lump_sum_amount == sum(line.lump_sum for line in notice.lines)
    # 26.86 + 250 * (46 * 11.27 + 45 * 10.27) / 36500 = 26.86 + 6.72
    assert notice.interest_amount == D("33.58")
    assert notice.amount_total_due == D("1250.00") + D("80.00") + D("33.58")


# -- describe_segments -------------------------------------------------------


def test_describe_segments_german_and_english():
    segments = REFERENCE_SEGMENTS_CONSUMER
    assert describe_segments(segments) == "46 Tage zu 7,27 %, 45 Tage zu 6,27 %"
    assert describe_segments(segments, "de_DE") == "46 Tage zu 7,27 %, 45 Tage zu 6,27 %"
    assert describe_segments(segments, "en_US") == "46 days at 7.27 %, 45 days at 6.27 %"
    assert describe_segments(segments, "en") == "46 days at 7.27 %, 45 days at 6.27 %"


def test_describe_segments_formats_rates_with_two_decimals():
    segments = (InterestSegment(DUE, DUE, 1, D("5")),)
    assert describe_segments(segments) == "1 Tage zu 5,00 %"
    assert describe_segments(segments, "en") == "1 days at 5.00 %"
    assert describe_segments(()) == ""
    assert describe_segments((), "en") == ""


# -- regressions --------------------------------------------------------------------


def test_first_notice_interest_never_starts_before_the_instalment_is_due():
    today = date(2025, 6, 20)
    invoice = Invoice(
        10,
        level_id=1,
        last_notice_date=date(2025, 5, 22),
        first_notice_date=date(2025, 5, 22),
    )
    items = [item(10, "500.00", DUE), item(10, "500.00", date(2025, 6, 15))]
    plan = run(today, items, [invoice], interest_start="first_notice")
    line = only_line(plan)
    assert line.interest_segments == (
        InterestSegment(date(2025, 5, 23), today, 29, D("7.27")),
        InterestSegment(date(2025, 6, 16), today, 5, D("7.27")),
    )
    # 500 * 7.27 * (29 + 5) / 36500 = 3.3860...  (actual: 58 days -> 5.78)
    assert line.interest_amount == D("3.39")


def test_interest_is_rounded_exactly_once():
    # 21.68 * 7.27 * 22 / 36500 = 0.0949999781 -> 0.09 (actual: 0.0950000 -> 0.10)
    today = date(2025, 6, 6)
    invoice = Invoice(10, level_id=1, last_notice_date=date(2025, 5, 23))
    line = only_line(run(today, [item(10, "21.68")], [invoice]))
    assert line.interest_days == 22
    assert line.interest_amount == D("0.09")


# -- property-style simulation -----------------------------------------------


def _feed_back(invoices, plan, today):
    """Apply a plan to the invoices the way the Odoo layer books it."""
    result = dict(invoices)
    for notice in plan.notices:
        for line in notice.lines:
            invoice = result[line.move_id]
            if line.escalated:
                invoice = replace(
                    invoice,
                    level_id=line.new_level_id,
                    last_notice_date=today,
                    first_notice_date=invoice.first_notice_date or today,
                )
            if line.interest_to:
                invoice = replace(invoice, interest_until=today)
            if line.lump_sum:
                invoice = replace(invoice, lump_sum_charged=True)
            result[line.move_id] = invoice
    return result


@pytest.mark.parametrize("seed", range(80))
def test_property_runs_never_skip_levels_or_escalate_twice(seed):
    rng = random.Random(seed)
    start = date(2024, 1, 1) + days(rng.randrange(600))
    dues = {10 + k: start + days(rng.randrange(-20, 60)) for k in range(rng.randint(1, 3))}
    items = [item(move_id, D(rng.randint(100, 500000)) / 100, due) for move_id, due in dues.items()]
    invoices = {move_id: Invoice(move_id) for move_id in dues}
    customer = BUSINESS if rng.random() < 0.5 else CONSUMER
    daily = rng.random() < 0.5
    run_days = [start + days(n) for n in range(120) if daily or rng.random() < 0.5]
    predicted = {}
    interest_to = {}
    lump_sums = dict.fromkeys(dues, 0)

    for today in run_days:
        repeats = 2 if rng.random() < 0.3 else 1
        for repeat in range(repeats):
            settings = make_settings(today)
            plan = plan_customer(customer, items, invoices, LEVELS, settings)
            assert len(plan.notices) <= 1
            lines = {line.move_id: line for n in plan.notices for line in n.lines}
            escalated = {m: line.new_level_id for m, line in lines.items() if line.escalated}
            if plan.notices:
                notice = plan.notices[0]
                assert escalated, "a notice needs at least one escalation"
                top = max(LEVEL_IDS.index(level_id) for level_id in escalated.values())
                assert notice.level is LEVELS[top]
                assert notice.deadline == today + days(10)
            for move_id, invoice in invoices.items():
                if move_id not in escalated:
                    # a waiting invoice is due strictly later (or never)
                    next_day = plan.next_dates.get(move_id)
                    if move_id in plan.next_dates and next_day is not None:
                        assert next_day > today
                    continue
                assert repeat == 0, "a second run on the same day escalated again"
                new_index = LEVEL_IDS.index(escalated[move_id])
                old_index = -1 if invoice.level_id is None else LEVEL_IDS.index(invoice.level_id)
                assert new_index == old_index + 1, "skipped a level"
                if invoice.last_notice_date is None:
                    assert today >= dues[move_id] + days(7)
                else:
                    assert today >= invoice.last_notice_date + days(14)
                    assert today > invoice.last_notice_date
                if daily:
                    expected = predicted.get(move_id, dues[move_id] + days(7))
                    assert today == max(expected, start)
                after = plan.next_dates[move_id]
                assert after is None or after >= today + days(14)
            for move_id, line in lines.items():
                if line.interest_to is not None:
                    assert line.interest_to == today
                    previous = interest_to.get(move_id, dues[move_id])
                    assert line.interest_from == previous + days(1), "interest counted twice"
                    interest_to[move_id] = today
                if line.lump_sum:
                    assert customer.is_business
                    lump_sums[move_id] += 1
            predicted.update(plan.next_dates)
            invoices = _feed_back(invoices, plan, today)

    assert all(count <= 1 for count in lump_sums.values())
    if daily:
        # daily runs walk every invoice through the whole ladder within 120 days
        assert all(invoice.level_id == 4 for invoice in invoices.values())


# -- in payment and returned direct debits -----------------------------------


def test_invoice_in_payment_is_not_escalated_and_keeps_its_state():
    today = DUE + days(60)
    invoice = Invoice(
        10,
        level_id=2,
        last_notice_date=DUE + days(21),
        first_notice_date=DUE + days(7),
        interest_until=DUE + days(21),
        in_payment=True,
    )
    plan = run(today, [item(10, "100.00")], [invoice])
    assert plan.notices == []
    assert plan.next_dates == {}, "nothing is written on the invoice"
    assert plan.skipped == [(10, "in payment")]


def test_invoice_in_payment_is_left_out_of_another_notice():
    today = DUE + days(7)
    invoices = [Invoice(10, in_payment=True), Invoice(11)]
    plan = run(today, [item(10, "100.00"), item(11, "50.00")], invoices)
    notice = only_notice(plan)
    assert [line.move_id for line in notice.lines] == [11]
    assert notice.amount_open == D("50.00")
    assert (10, "in payment") in plan.skipped


def test_payment_back_resumes_at_the_old_level_with_interest_from_the_old_date():
    """The state kept while in payment: level 2 on day 21, interest charged
    until then. Back from payment on day 60: level 3, interest from day 22."""
    today = DUE + days(60)
    invoice = Invoice(
        10,
        level_id=2,
        last_notice_date=DUE + days(21),
        first_notice_date=DUE + days(7),
        interest_until=DUE + days(21),
    )
    plan = run(today, [item(10, "1000.00")], [invoice])
    line = only_line(plan)
    assert line.new_level_id == 3
    assert line.interest_from == DUE + days(22)
    assert line.interest_to == today


def test_return_charge_on_the_next_notice_once_per_return():
    today = DUE + days(7)
    invoice = Invoice(10, returns_pending=2)
    plan = run(today, [item(10, "100.00")], [invoice], return_charge=D("3.00"))
    notice = only_notice(plan)
    assert only_line(plan).return_charge == D("6.00")
    assert only_line(plan).returns_settled == 2
    assert notice.return_charge_amount == D("6.00")
    assert notice.charges == D("6.00")
    assert notice.amount_total_due == D("106.00")


def test_return_charge_also_for_an_invoice_listed_as_still_open():
    """Invoice 11 is not escalated on the notice but listed: its return is
    passed on there."""
    today = DUE + days(7)
    invoices = [Invoice(10), Invoice(11, level_id=1, last_notice_date=today - days(1))]
    invoices[1] = replace(invoices[1], returns_pending=1)
    items = [item(10, "100.00"), item(11, "50.00")]
    notice = only_notice(run(today, items, invoices, return_charge=D("3.00")))
    lines = lines_by_move(notice)
    assert not lines[11].escalated
    assert lines[11].return_charge == D("3.00")
    assert lines[10].return_charge == D("0")
    assert notice.return_charge_amount == D("3.00")


def test_without_the_setting_a_return_is_settled_without_a_charge():
    today = DUE + days(7)
    plan = run(today, [item(10, "100.00")], [Invoice(10, returns_pending=1)])
    notice = only_notice(plan)
    assert notice.return_charge_amount == D("0")
    assert notice.charges == D("0")
    assert only_line(plan).returns_settled == 1


def test_no_notice_no_return_charge():
    """A returned debit waits for a notice: none before level 1 is due."""
    plan = run(DUE + days(6), [item(10, "100.00")], [Invoice(10, returns_pending=1)])
    assert plan.notices == []


def test_return_charge_is_converted_to_the_notice_currency():
    today = DUE + days(7)
    plan = run(
        today,
        [item(10, "100.00", currency=CHF)],
        [Invoice(10, returns_pending=1)],
        return_charge=D("3.00"),
        rates={CHF: D("0.9412")},
    )
    assert only_notice(plan).return_charge_amount == D("2.82")


def test_in_payment_invoice_keeps_its_pending_return():
    today = DUE + days(7)
    invoices = [Invoice(10, in_payment=True, returns_pending=1), Invoice(11)]
    items = [item(10, "100.00"), item(11, "50.00")]
    notice = only_notice(run(today, items, invoices, return_charge=D("3.00")))
    assert notice.return_charge_amount == D("0")
    assert [line.returns_settled for line in notice.lines] == [0]
