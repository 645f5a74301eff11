from decimal import Decimal

import pytest
from domain.payment import (
    PAYABLE_STATES,
    Document,
    link_valid,
    open_documents,
    pay_path,
    pay_url,
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
