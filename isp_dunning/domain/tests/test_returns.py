"""Tests for domain.returns: returned direct debits."""

from decimal import Decimal

import pytest
from domain.returns import return_charge, returns_by_invoice

D = Decimal


def test_one_return_per_payment_on_one_invoice():
    assert returns_by_invoice([(10, 500)]) == {10: 1}


def test_instalments_of_one_payment_count_once():
    assert returns_by_invoice([(10, 500), (10, 500), (10, 500)]) == {10: 1}


def test_one_payment_of_several_invoices_is_one_return_on_the_lowest():
    assert returns_by_invoice([(12, 500), (10, 500), (11, 500)]) == {10: 1}


def test_two_payments_of_one_invoice_are_two_returns():
    assert returns_by_invoice([(10, 500), (10, 501)]) == {10: 2}


def test_two_payments_of_different_invoices():
    assert returns_by_invoice([(10, 500), (11, 501), (11, 500)]) == {10: 1, 11: 1}


def test_nothing_undone():
    assert returns_by_invoice([]) == {}


@pytest.mark.parametrize(
    ("pending", "amount", "expected"),
    [
        (0, "3.00", "0"),
        (1, "3.00", "3.00"),
        (2, "3.00", "6.00"),
        (1, "0", "0"),
        (3, "0.00", "0"),
        (1, "-3.00", "0"),
        (-1, "3.00", "0"),
    ],
)
def test_return_charge(pending, amount, expected):
    assert return_charge(pending, D(amount)) == D(expected)


def test_return_charge_accepts_plain_numbers():
    assert return_charge(1, "4.50") == D("4.50")
