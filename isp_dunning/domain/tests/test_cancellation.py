from datetime import date

import pytest
from domain.cancellation import (
    FEE_PAID,
    HANDED_OVER,
    LATER_NOTICE,
    MAIL_CANCEL,
    MAIL_NONE,
    MAIL_RECORD,
    InvoiceBefore,
    invoice_values,
    mail_action,
    refusal,
    returns_pending_after,
)


def test_a_notice_without_obstacle_may_be_cancelled():
    assert refusal(False, False, False) == ()


@pytest.mark.parametrize(
    ("handed_over", "later", "paid", "expected"),
    [
        (True, False, False, (HANDED_OVER,)),
        (False, True, False, (LATER_NOTICE,)),
        (False, False, True, (FEE_PAID,)),
        (True, True, True, (HANDED_OVER, LATER_NOTICE, FEE_PAID)),
    ],
)
def test_refusals(handed_over, later, paid, expected):
    assert refusal(handed_over, later, paid) == expected


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (None, MAIL_NONE),
        (False, MAIL_NONE),
        ("outgoing", MAIL_CANCEL),
        ("exception", MAIL_CANCEL),
        ("sent", MAIL_RECORD),
        ("received", MAIL_RECORD),
        ("cancel", MAIL_NONE),
    ],
)
def test_mail_action(state, expected):
    assert mail_action(state) == expected


def test_invoice_returns_to_its_state_before_the_notice():
    before = InvoiceBefore(
        level_id=7,
        first_date=date(2025, 1, 8),
        last_date=date(2025, 1, 22),
        next_date=date(2025, 2, 5),
        interest_until=date(2025, 1, 22),
        lump_sum_charged=True,
        handed_over=False,
        handover_date=None,
    )
    assert invoice_values(before) == {
        "dunning_level_id": 7,
        "dunning_first_date": date(2025, 1, 8),
        "dunning_last_date": date(2025, 1, 22),
        "dunning_next_date": date(2025, 2, 5),
        "dunning_interest_until": date(2025, 1, 22),
        "dunning_lump_sum_charged": True,
        "dunning_handed_over": False,
        "dunning_handover_date": False,
    }


def test_a_never_dunned_invoice_returns_to_empty_fields():
    before = InvoiceBefore(None, None, None, None, None, False, False, None)
    values = invoice_values(before)
    assert values["dunning_level_id"] is False
    assert values["dunning_first_date"] is False
    assert values["dunning_interest_until"] is False
    assert values["dunning_lump_sum_charged"] is False


def test_returns_the_notice_passed_on_are_pending_again():
    assert returns_pending_after(0, 1) == 1
    # a debit returned after the notice stays pending too
    assert returns_pending_after(1, 2) == 3
    # a notice that passed none on changes nothing
    assert returns_pending_after(2, 0) == 2


def test_returns_cannot_be_negative():
    with pytest.raises(ValueError, match="below zero"):
        returns_pending_after(-1, 1)
    with pytest.raises(ValueError, match="below zero"):
        returns_pending_after(0, -1)
