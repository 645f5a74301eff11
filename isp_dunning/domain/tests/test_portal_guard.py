from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from domain import portal_guard
from domain.portal_guard import (
    BELOW_THRESHOLD,
    BLOCK,
    NOT_ANNOUNCED,
    POSTPONE,
    announcement_counts,
    block_guard,
    first_blocking_sequence,
    keeps_blocked,
    notice_block_step,
    undisputed_arrears,
)

TODAY = date(2025, 3, 1)


@pytest.mark.parametrize(
    ("arrears", "announced", "expected"),
    [
        (D("100.00"), True, ()),  # reaching the threshold is enough
        (D("150.00"), True, ()),
        (D("99.99"), True, (BELOW_THRESHOLD,)),
        (D("150.00"), False, (NOT_ANNOUNCED,)),
        (D("0"), False, (BELOW_THRESHOLD, NOT_ANNOUNCED)),
        (D("-20.00"), True, (BELOW_THRESHOLD,)),
    ],
)
def test_consumer_guard(arrears, announced, expected):
    assert block_guard(True, False, arrears, D("100"), announced) == expected


def test_businesses_and_a_switched_off_guard_block_at_once():
    assert block_guard(True, True, D("0"), D("100"), False) == ()
    assert block_guard(False, False, D("0"), D("100"), False) == ()


def test_threshold_zero_needs_only_the_announcement():
    assert block_guard(True, False, D("0"), D("0"), True) == ()
    assert block_guard(True, False, 0.0, 0, False) == (NOT_ANNOUNCED,)


def test_arrears_count_overdue_invoices_only():
    items = [
        (D("80.00"), True, TODAY - timedelta(days=1), None),  # overdue
        (D("50.00"), True, TODAY, None),  # due today: not yet in arrears
        (D("30.00"), True, None, None),  # no due date
        (D("40.00"), False, TODAY - timedelta(days=5), None),  # not an invoice
    ]
    assert undisputed_arrears(items, TODAY) == D("80.00")


def test_disputed_invoices_do_not_count_while_disputed():
    overdue = TODAY - timedelta(days=30)
    assert undisputed_arrears([(D("80"), True, overdue, TODAY)], TODAY) == D("0")
    assert undisputed_arrears([(D("80"), True, overdue, TODAY + timedelta(days=1))], TODAY) == 0
    assert undisputed_arrears([(D("80"), True, overdue, TODAY - timedelta(days=1))], TODAY) == 80


def test_payments_and_credits_reduce_the_arrears_due_or_not():
    items = [
        (D("120.00"), True, TODAY - timedelta(days=10), None),
        (D("-30.00"), False, None, None),  # unallocated payment
        (D("-15.50"), True, TODAY + timedelta(days=10), None),  # open credit
    ]
    assert undisputed_arrears(items, TODAY) == D("74.50")
    assert undisputed_arrears([], TODAY) == D("0")


def test_notice_block_step():
    assert notice_block_step(True, False, ()) == BLOCK
    assert notice_block_step(True, False, (NOT_ANNOUNCED,)) == POSTPONE
    assert notice_block_step(True, True, ()) is None, "blocked already"
    assert notice_block_step(True, True, (BELOW_THRESHOLD,)) is None
    assert notice_block_step(False, False, ()) is None, "the level does not block"


def test_first_blocking_sequence():
    assert first_blocking_sequence([(10, False), (40, True), (30, True)]) == 30
    assert first_blocking_sequence([(10, False)]) is None
    assert first_blocking_sequence([]) is None


@pytest.mark.parametrize(
    ("level", "paused_until", "settled", "expected"),
    [
        (30, None, False, True),  # at the first blocking level
        (40, None, False, True),  # above it
        (20, None, False, False),  # below it
        (None, None, False, False),  # not dunned
        (40, TODAY, False, False),  # paused up to and including today
        (40, TODAY - timedelta(days=1), False, True),  # the pause has ended
        (40, None, True, False),  # paid, credited or written off
    ],
)
def test_keeps_blocked(level, paused_until, settled, expected):
    assert keeps_blocked(level, 30, paused_until, TODAY, settled) is expected


def test_nothing_keeps_a_block_without_blocking_levels():
    assert keeps_blocked(40, None, None, TODAY, False) is False


def test_an_announcement_counts_from_its_delivery():
    # Sent 14 days before: counts; 13 days: not yet.
    assert announcement_counts(TODAY - timedelta(days=14), TODAY, 14)
    assert announcement_counts(TODAY - timedelta(days=30), TODAY, 14)
    assert not announcement_counts(TODAY - timedelta(days=13), TODAY, 14)
    # Sent today with no announcement period required.
    assert announcement_counts(TODAY, TODAY, 0)


def test_an_announcement_waiting_in_the_queue_never_counts():
    assert not announcement_counts(None, TODAY, 14)
    assert not announcement_counts(None, TODAY, 0)


# -- retrying and lifting blocks ----------------------------------------------


def test_retry_blocks_a_postponed_block():
    step = portal_guard.retry_block_step(
        postponed=True, blocked=False, released=False, from_this_run=False
    )
    assert step == portal_guard.BLOCK


def test_retry_blocks_again_a_block_lifted_on_payment():
    step = portal_guard.retry_block_step(
        postponed=False, blocked=True, released=True, from_this_run=False
    )
    assert step == portal_guard.BLOCK_AGAIN


def test_retry_leaves_notices_of_the_run_and_blocks_in_force():
    # decided moments ago by the run itself
    assert (
        portal_guard.retry_block_step(
            postponed=True, blocked=False, released=False, from_this_run=True
        )
        is None
    )
    # in force (blocked, not released), or lifted by a manager (not released)
    assert (
        portal_guard.retry_block_step(
            postponed=False, blocked=True, released=False, from_this_run=False
        )
        is None
    )
    # a postponed block that went ahead since
    assert (
        portal_guard.retry_block_step(
            postponed=True, blocked=True, released=False, from_this_run=False
        )
        is None
    )
    assert (
        portal_guard.retry_block_step(
            postponed=False, blocked=False, released=False, from_this_run=False
        )
        is None
    )


def test_retry_goes_ahead_only_with_an_invoice_keeping_the_block_and_no_guard():
    assert portal_guard.retry_goes_ahead(True, [])
    assert not portal_guard.retry_goes_ahead(False, [])
    assert not portal_guard.retry_goes_ahead(True, ["below the threshold"])


def test_release_lifts_dunning_blocks_without_invoices_keeping_them():
    assert portal_guard.releases_block(blocked=True, by_hand=False, keeps_blocked=False)
    assert not portal_guard.releases_block(blocked=True, by_hand=False, keeps_blocked=True)
    assert not portal_guard.releases_block(blocked=True, by_hand=True, keeps_blocked=False)
    assert not portal_guard.releases_block(blocked=False, by_hand=False, keeps_blocked=False)
