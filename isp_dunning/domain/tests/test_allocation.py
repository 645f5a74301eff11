from datetime import date
from decimal import Decimal

import pytest
from domain.allocation import (
    COSTS,
    INTEREST,
    PRINCIPAL,
    OpenItem,
    allocate,
    named_documents,
    reference_tokens,
    split_fee_document,
    statutory_order,
)

D = Decimal


def item(key, kind, day, amount, document=""):
    return OpenItem(key=key, kind=kind, date=day, amount=D(amount), document=document)


# A notice: its fee document (line 10: 5.00 fee + 40.00 lump sum, 3.20 interest)
# and two invoices, the older one due first.
FEE_COSTS = item(10, COSTS, date(2025, 4, 1), "45.00", "RE/2025/0099")
FEE_INTEREST = item(10, INTEREST, date(2025, 4, 1), "3.20", "RE/2025/0099")
OLD = item(1, PRINCIPAL, date(2025, 1, 15), "100.00", "RE/2025/0001")
NEW = item(2, PRINCIPAL, date(2025, 2, 15), "50.00", "RE/2025/0002")
NOTICE = [NEW, OLD, FEE_INTEREST, FEE_COSTS]


def amounts(result):
    return [(a.item.key, a.item.kind, a.amount) for a in result.allocations]


def test_full_payment_settles_everything_in_statutory_order():
    result = allocate(D("198.20"), NOTICE)
    assert amounts(result) == [
        (10, COSTS, D("45.00")),
        (10, INTEREST, D("3.20")),
        (1, PRINCIPAL, D("100.00")),
        (2, PRINCIPAL, D("50.00")),
    ]
    assert result.surplus == 0
    assert result.allocated == D("198.20")
    assert all(a.settled for a in result.allocations)
    assert result.per_key() == [(10, D("48.20")), (1, D("100.00")), (2, D("50.00"))]
    assert result.by_kind() == {COSTS: D("45.00"), INTEREST: D("3.20"), PRINCIPAL: D("150.00")}


@pytest.mark.parametrize(
    ("payment", "expected"),
    [
        ("0", []),
        ("0.01", [(10, COSTS, D("0.01"))]),
        ("44.99", [(10, COSTS, D("44.99"))]),
        ("45.00", [(10, COSTS, D("45.00"))]),
        ("46.00", [(10, COSTS, D("45.00")), (10, INTEREST, D("1.00"))]),
        ("48.20", [(10, COSTS, D("45.00")), (10, INTEREST, D("3.20"))]),
        (
            "100.00",
            [(10, COSTS, D("45.00")), (10, INTEREST, D("3.20")), (1, PRINCIPAL, D("51.80"))],
        ),
        (
            "160.00",
            [
                (10, COSTS, D("45.00")),
                (10, INTEREST, D("3.20")),
                (1, PRINCIPAL, D("100.00")),
                (2, PRINCIPAL, D("11.80")),
            ],
        ),
    ],
)
def test_partial_payment_leaves_the_rest_open(payment, expected):
    result = allocate(D(payment), NOTICE)
    assert amounts(result) == expected
    assert result.surplus == 0
    assert result.allocated == D(payment)
    assert all(a.settled for a in result.allocations[:-1])


def test_overpayment_reports_the_surplus():
    result = allocate(D("250.00"), NOTICE)
    assert result.allocated == D("198.20")
    assert result.surplus == D("51.80")
    assert result.payment == D("250.00")


def test_nothing_open_is_all_surplus():
    result = allocate(D("10"), [])
    assert result.allocations == ()
    assert result.surplus == D("10.00")
    assert result.per_key() == []


def test_named_invoice_first_then_statutory_order():
    result = allocate(D("120.00"), NOTICE, named=["re/2025/0002"])
    assert amounts(result) == [
        (2, PRINCIPAL, D("50.00")),
        (10, COSTS, D("45.00")),
        (10, INTEREST, D("3.20")),
        (1, PRINCIPAL, D("21.80")),
    ]


def test_named_invoice_larger_than_payment_takes_it_all():
    result = allocate(D("30.00"), NOTICE, named=["RE/2025/0001"])
    assert amounts(result) == [(1, PRINCIPAL, D("30.00"))]


def test_several_named_follow_the_statutory_order_among_them():
    result = allocate(D("200"), NOTICE, named=["RE/2025/0002", "RE/2025/0099"])
    assert [a.item.key for a in result.allocations] == [10, 10, 2, 1]


def test_unknown_name_changes_nothing():
    assert amounts(allocate(D("60"), NOTICE, named=["RE/1999/1", ""])) == amounts(
        allocate(D("60"), NOTICE)
    )


def test_oldest_first_within_each_kind_and_id_breaks_ties():
    same_day = date(2025, 3, 1)
    items = [
        item(7, PRINCIPAL, same_day, "10"),
        item(3, PRINCIPAL, same_day, "10"),
        item(5, PRINCIPAL, date(2025, 2, 1), "10"),
        item(9, INTEREST, date(2025, 5, 1), "1"),
        item(8, INTEREST, date(2025, 4, 1), "1"),
        item(4, COSTS, date(2025, 6, 1), "2"),
    ]
    assert [i.key for i in statutory_order(items)] == [4, 8, 9, 5, 3, 7]


def test_two_fee_documents_are_served_one_after_the_other():
    """An earlier fee document listed on the notice: each receivable line
    gets one contiguous amount (see the module text)."""
    items = [
        item(20, COSTS, date(2025, 5, 1), "5.00"),
        item(20, INTEREST, date(2025, 5, 1), "2.00"),
        item(10, COSTS, date(2025, 4, 1), "5.00"),
        item(10, INTEREST, date(2025, 4, 1), "1.00"),
        item(1, PRINCIPAL, date(2025, 1, 1), "100.00"),
    ]
    result = allocate(D("9.00"), items)
    assert amounts(result) == [
        (10, COSTS, D("5.00")),
        (10, INTEREST, D("1.00")),
        (20, COSTS, D("3.00")),
    ]
    assert result.per_key() == [(10, D("6.00")), (20, D("3.00"))]
    # Only the last key served is partly paid: a pairwise reconciliation in
    # this order books exactly these amounts.
    assert [a.settled for a in result.allocations] == [True, True, False]


def test_amounts_in_currency_precision():
    result = allocate(D("10.005"), [item(1, PRINCIPAL, date(2025, 1, 1), "20.004")])
    assert amounts(result) == [(1, PRINCIPAL, D("10.01"))]
    yen = allocate(D("1001"), [item(1, PRINCIPAL, date(2025, 1, 1), "1000")], precision=D("1"))
    assert yen.allocated == D("1000") and yen.surplus == D("1")


def test_zero_items_are_skipped():
    items = [item(1, COSTS, date(2025, 1, 1), "0"), item(2, PRINCIPAL, date(2025, 1, 1), "5")]
    assert amounts(allocate(D("5"), items)) == [(2, PRINCIPAL, D("5.00"))]


def test_float_payment_from_odoo_goes_through_repr():
    assert allocate(0.1 + 0.2, [item(1, PRINCIPAL, date(2025, 1, 1), "1")]).allocated == D("0.30")


@pytest.mark.parametrize(
    ("build", "error"),
    [
        (lambda: allocate(D("-1"), NOTICE), ValueError),
        (lambda: item(1, "fees", date(2025, 1, 1), "1"), ValueError),
        (lambda: item(1, COSTS, None, "1"), TypeError),
        (lambda: item(1, COSTS, date(2025, 1, 1), "-1"), ValueError),
        (lambda: allocate(D("1"), [OLD, OLD]), ValueError),
        (lambda: split_fee_document(D("-1"), D("1"), D("1")), ValueError),
    ],
)
def test_bad_input_is_refused(build, error):
    with pytest.raises(error):
        build()


@pytest.mark.parametrize(
    ("open_amount", "costs", "interest", "expected"),
    [
        ("48.20", "45.00", "3.20", ("45.00", "3.20")),  # nothing paid yet
        ("10.00", "45.00", "3.20", ("6.80", "3.20")),  # costs paid first
        ("3.20", "45.00", "3.20", ("0.00", "3.20")),
        ("2.00", "45.00", "3.20", ("0.00", "2.00")),  # reduced by a credit note
        ("0", "45.00", "3.20", ("0.00", "0.00")),
        ("5.00", "5.00", "0", ("5.00", "0.00")),
    ],
)
def test_split_fee_document(open_amount, costs, interest, expected):
    assert split_fee_document(D(open_amount), D(costs), D(interest)) == tuple(
        D(value) for value in expected
    )


def test_split_then_allocate_matches_the_document():
    costs, interest = split_fee_document(D("10.00"), D("45.00"), D("3.20"))
    items = [
        item(10, COSTS, date(2025, 4, 1), costs),
        item(10, INTEREST, date(2025, 4, 1), interest),
    ]
    result = allocate(D("8.00"), items)
    assert result.by_kind()[COSTS] == D("6.80")
    assert result.by_kind()[INTEREST] == D("1.20")
    assert result.per_key() == [(10, D("8.00"))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MA/2026/000001", ["MA/2026/000001"]),
        ("Mahnung ma/2026/000001.", ["MAHNUNG", "MA/2026/000001"]),
        ("MA/2026/000001, RE/2025/0002; MA/2026/000001", ["MA/2026/000001", "RE/2025/0002"]),
        ("(MA/2026/000001)", ["MA/2026/000001"]),
        ("", []),
        (None, []),
        ("  \n ", []),
    ],
)
def test_reference_tokens(text, expected):
    assert reference_tokens(text) == expected


def test_named_documents_needs_the_whole_number():
    documents = ["RE/2025/0001", "RE/2025/0002", "RE/2025/00021", False]
    assert named_documents("Zahlung RE/2025/0002 danke", documents) == ["RE/2025/0002"]
    assert named_documents("RE/2025/000", documents) == []
    assert named_documents("re/2025/0001 re/2025/00021", documents) == [
        "RE/2025/0001",
        "RE/2025/00021",
    ]
