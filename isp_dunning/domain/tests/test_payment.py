from datetime import date
from decimal import Decimal

import pytest
from domain.payment import (
    PAYABLE_STATES,
    Credit,
    Document,
    link_valid,
    net_credits,
    open_credits,
    open_documents,
    pay_path,
    pay_url,
    short_link_valid,
    short_pay_url,
    short_token,
    total_open,
)

TOKEN = "5f0c7a3e-8d1b-4c2a-9e6f-0123456789ab"


def doc(id_, residual, kind="invoice", posted=True):
    return Document(
        id=id_, number=f"RE/{id_}", kind=kind, residual=Decimal(residual), posted=posted
    )


def test_paid_and_unposted_documents_are_gone():
    documents = [
        doc(1, "100.00"),
        doc(2, "0.00"),
        doc(3, "2.50", kind="fee"),
        doc(4, "50.00", posted=False),
        doc(5, "-10.00"),
    ]
    assert [d.id for d in open_documents(documents)] == [1, 3]


def test_a_residual_below_half_a_cent_is_paid():
    assert open_documents([doc(1, "0.004")]) == []
    assert [d.id for d in open_documents([doc(1, "0.005")])] == [1]


def test_other_rounding_steps():
    assert open_documents([doc(1, "0.4")], rounding=Decimal("1")) == []
    assert [d.id for d in open_documents([doc(1, "0.5")], rounding=Decimal("1"))] == [1]


def test_a_document_listed_twice_counts_once():
    documents = [doc(1, "100.00"), doc(1, "100.00"), doc(2, "1.50", kind="fee")]
    opened = open_documents(documents)
    assert [d.id for d in opened] == [1, 2]
    assert total_open(opened) == Decimal("101.50")


def test_total_is_rounded_once():
    assert total_open([doc(1, "0.333"), doc(2, "0.333"), doc(3, "0.333")]) == Decimal("1.00")
    assert total_open([]) == Decimal("0.00")


@pytest.mark.parametrize("state", sorted(PAYABLE_STATES))
def test_link_valid_for_delivered_notices(state):
    assert link_valid(state, TOKEN, TOKEN)


@pytest.mark.parametrize("state", ["draft", "cancelled", None, ""])
def test_link_invalid_for_cancelled_or_undelivered_notices(state):
    assert not link_valid(state, TOKEN, TOKEN)


@pytest.mark.parametrize(
    "expected, given",
    [
        (TOKEN, TOKEN[:-1] + "c"),
        (TOKEN, TOKEN.upper()),
        (TOKEN, ""),
        (TOKEN, None),
        (None, None),
        ("", ""),
        (False, False),
        (TOKEN, TOKEN + "0"),
    ],
)
def test_link_invalid_with_a_wrong_or_missing_token(expected, given):
    assert not link_valid("sent", expected, given)


def test_pay_url_is_short_and_absolute():
    url = pay_url("https://odoo.example-isp.de/", 4711, TOKEN)
    assert url == f"https://odoo.example-isp.de/dunning/pay/4711/{TOKEN}"
    assert pay_path(4711, TOKEN) == f"/dunning/pay/4711/{TOKEN}"
    assert len(url) < 90


def test_no_pay_url_without_a_token():
    assert pay_url("https://odoo.example-isp.de", 4711, False) == ""
    assert pay_url("https://odoo.example-isp.de", 4711, "") == ""


# -- credits netted against the open documents -------------------------------


def credit(id_, amount, when=date(2025, 1, 10), kind="credit_note", posted=True):
    return Credit(
        id=id_, number=f"GS/{id_}", kind=kind, amount=Decimal(amount), date=when, posted=posted
    )


def test_without_credits_the_documents_are_due():
    netting = net_credits([doc(1, "100.00"), doc(2, "7.50", kind="fee")], [])
    assert netting.amount_open == Decimal("107.50")
    assert netting.amount_credits == 0
    assert netting.amount_due == Decimal("107.50")
    assert netting.credits == ()
    assert netting.credit_left == 0
    assert not netting.covered


def test_credit_notes_and_payments_are_netted_in_full():
    documents = [doc(1, "1000.00"), doc(2, "46.32", kind="fee")]
    credits = [credit(10, "30.00"), credit(11, "20.00", kind="payment")]
    netting = net_credits(documents, credits)
    assert netting.amount_open == Decimal("1046.32")
    assert netting.amount_credits == Decimal("50.00")
    assert netting.amount_due == Decimal("996.32")
    assert [(n.credit.id, n.amount) for n in netting.credits] == [
        (10, Decimal("30.00")),
        (11, Decimal("20.00")),
    ]
    assert netting.credit_left == 0
    assert not netting.covered


def test_oldest_credit_first_then_by_id_undated_last():
    credits = [
        credit(3, "5.00", when=None),
        credit(2, "5.00", when=date(2025, 2, 1)),
        credit(4, "5.00", when=date(2025, 1, 5), kind="payment"),
        credit(1, "5.00", when=date(2025, 2, 1)),
    ]
    assert [c.id for c in open_credits(credits)] == [4, 1, 2, 3]
    netting = net_credits([doc(1, "100.00")], credits)
    assert [n.credit.id for n in netting.credits] == [4, 1, 2, 3]


def test_credits_beyond_the_open_amount_leave_nothing_payable():
    documents = [doc(1, "40.00"), doc(2, "0.00")]
    credits = [
        credit(10, "30.00", when=date(2025, 1, 3)),
        credit(11, "25.00", when=date(2025, 1, 4), kind="payment"),
        credit(12, "10.00", when=date(2025, 1, 5)),
    ]
    netting = net_credits(documents, credits)
    assert netting.amount_due == 0
    assert netting.covered
    # the older credit in full, the next one in part, the newest not at all
    assert [(n.credit.id, n.amount) for n in netting.credits] == [
        (10, Decimal("30.00")),
        (11, Decimal("10.00")),
    ]
    assert netting.amount_credits == Decimal("40.00")
    assert netting.credit_left == Decimal("25.00")


def test_credits_exactly_covering_the_documents():
    netting = net_credits([doc(1, "50.00")], [credit(10, "50.00")])
    assert netting.amount_due == 0
    assert netting.covered
    assert netting.credit_left == 0


def test_credits_without_open_documents_are_not_netted():
    netting = net_credits([doc(1, "0.00")], [credit(10, "50.00")])
    assert netting.documents == ()
    assert netting.credits == ()
    assert netting.credit_left == Decimal("50.00")
    assert not netting.covered


def test_unposted_zero_and_repeated_credits_are_left_out():
    credits = [
        credit(10, "20.00"),
        credit(10, "20.00"),
        credit(11, "0.004"),
        credit(12, "15.00", posted=False),
    ]
    assert [c.id for c in open_credits(credits)] == [10]
    assert net_credits([doc(1, "100.00")], credits).amount_due == Decimal("80.00")


def test_credits_round_at_the_currency_step():
    netting = net_credits([doc(1, "100")], [credit(10, "0.4")], rounding=Decimal("1"))
    assert netting.credits == ()
    assert netting.amount_due == Decimal("100")
    netting = net_credits([doc(1, "100.00")], [credit(10, "33.333")])
    assert netting.amount_credits == Decimal("33.33")
    assert netting.amount_due == Decimal("66.67")


def test_a_negative_credit_is_refused():
    with pytest.raises(ValueError, match="GS/10 has a negative amount"):
        net_credits([doc(1, "100.00")], [credit(10, "-5.00")])


def test_short_token_is_the_first_sixteen_hex_digits():
    assert short_token(TOKEN) == "5f0c7a3e8d1b4c2a"
    assert short_token(TOKEN.upper()) == "5f0c7a3e8d1b4c2a"
    assert short_token("") == ""
    assert short_token(None) == ""


def test_short_pay_url():
    assert short_pay_url("https://isp.example/", 42, TOKEN) == (
        "https://isp.example/mp/42/5f0c7a3e8d1b4c2a"
    )
    assert short_pay_url("https://isp.example", 42, "") == ""


def test_short_link_valid_only_for_the_notice_token_and_payable_states():
    assert short_link_valid("sent", TOKEN, "5f0c7a3e8d1b4c2a")
    assert short_link_valid("printed", TOKEN, "5F0C7A3E8D1B4C2A")
    assert not short_link_valid("sent", TOKEN, "5f0c7a3e8d1b4c2b")
    assert not short_link_valid("sent", TOKEN, "5f0c7a3e")
    assert not short_link_valid("sent", TOKEN, "")
    assert not short_link_valid("sent", "", "")
    assert not short_link_valid("sent", "abc", "abc")
    assert not short_link_valid("cancelled", TOKEN, "5f0c7a3e8d1b4c2a")
