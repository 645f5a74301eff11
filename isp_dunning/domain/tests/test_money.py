from decimal import Decimal
from fractions import Fraction

import pytest
from domain.money import (
    format_money,
    round_fraction,
    round_money,
    sum_money,
    to_decimal,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, Decimal("0")),
        (False, Decimal("0")),
        (0, Decimal("0")),
        (12, Decimal("12")),
        (0.1, Decimal("0.1")),
        (1.1 + 2.2, Decimal("3.3000000000000003")),
        (19.99, Decimal("19.99")),
        ("1234.56", Decimal("1234.56")),
        ("  -7.5 ", Decimal("-7.5")),
        (Decimal("2.675"), Decimal("2.675")),
    ],
)
def test_to_decimal(value, expected):
    result = to_decimal(value)
    assert isinstance(result, Decimal)
    assert result == expected
    assert str(result) == str(expected)


def test_to_decimal_passes_decimal_through():
    value = Decimal("1.10")
    assert to_decimal(value) is value


def test_to_decimal_float_keeps_short_repr():
    assert to_decimal(0.1) + to_decimal(0.2) == Decimal("0.3")


@pytest.mark.parametrize(
    "value",
    [
        "abc",
        "",
        "1,5",
        "NaN",
        float("inf"),
        Decimal("-Infinity"),
        "1e40",
        Decimal("1E+16"),
    ],
)
def test_to_decimal_rejects_bad_values(value):
    with pytest.raises(ValueError):
        to_decimal(value)


@pytest.mark.parametrize("value", [True, [1], object(), b"1"])
def test_to_decimal_rejects_bad_types(value):
    with pytest.raises(TypeError):
        to_decimal(value)


def test_to_decimal_zero_with_tiny_exponent_is_fine():
    assert to_decimal(Decimal("0E-50")) == 0


def test_to_decimal_range():
    assert to_decimal("9999999999999999.99") == Decimal("9999999999999999.99")
    assert to_decimal(1e-40) == 0  # float noise, not money
    assert to_decimal(Decimal("-1E-31")) == 0
    assert to_decimal(1e-13) == Decimal("1E-13")


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("2.675", "2.68"),  # float 2.675 would round down, Decimal must not
        (2.675, "2.68"),
        ("2.665", "2.67"),  # half-up, not banker's rounding
        ("2.664999", "2.66"),
        ("-2.675", "-2.68"),  # half away from zero, like Odoo
        ("-0.004", "0.00"),
        ("0.005", "0.01"),
        (1, "1.00"),
        (None, "0.00"),
    ],
)
def test_round_money_half_up(amount, expected):
    result = round_money(amount)
    assert str(result) == expected


def test_round_money_never_negative_zero():
    assert not round_money("-0.001").is_signed()


@pytest.mark.parametrize(
    ("amount", "precision", "expected"),
    [
        ("1.025", "0.05", "1.05"),
        ("1.024", "0.05", "1.00"),
        ("-1.025", "0.05", "-1.05"),
        ("1234.5", "1", "1235"),
        ("1249.99", "100", "1200"),
        ("1250", "100", "1300"),
        ("0.12345", "0.001", "0.123"),
        ("0.1235", Decimal("0.001"), "0.124"),
    ],
)
def test_round_money_precision(amount, precision, expected):
    assert str(round_money(amount, precision)) == expected


@pytest.mark.parametrize("precision", ["0", "-0.01"])
def test_round_money_rejects_bad_precision(precision):
    with pytest.raises(ValueError):
        round_money("1", precision)


def test_round_fraction_exact():
    # 616570 / 36500 = 16.89232...
    assert round_fraction(Fraction(616570, 36500)) == Decimal("16.89")
    assert round_fraction(Fraction(1, 200)) == Decimal("0.01")
    assert round_fraction(Fraction(-1, 200)) == Decimal("-0.01")
    assert round_fraction(Fraction(1, 3), Decimal("0.05")) == Decimal("0.35")
    with pytest.raises(ValueError):
        round_fraction(Fraction(1), 0)


def test_sum_money():
    assert sum_money([0.1, 0.2, "0.3", Decimal("0.4"), None, 1]) == Decimal("2.0")
    assert sum_money([]) == Decimal("0")
    assert isinstance(sum_money(iter([1, 2])), Decimal)


@pytest.mark.parametrize(
    ("amount", "symbol", "lang", "expected"),
    [
        (Decimal("1234.56"), "€", "de", "1.234,56 €"),
        (Decimal("-1234.56"), "€", "de", "-1.234,56 €"),
        (Decimal("0"), "€", "de", "0,00 €"),
        (Decimal("0.5"), "€", "de_DE", "0,50 €"),
        (Decimal("1234567.891"), "€", "de", "1.234.567,89 €"),
        (Decimal("999.995"), "€", "de", "1.000,00 €"),
        (Decimal("12"), "", "de", "12,00"),
        (Decimal("12"), None, "de", "12,00"),
        (Decimal("1234.56"), "€", "en", "€1,234.56"),
        (Decimal("1234.56"), "€", "en_US", "€1,234.56"),
        (Decimal("-1234.56"), "€", "en_GB", "-€1,234.56"),
        (Decimal("1234.56"), "$", "en_US", "$1,234.56"),
        (Decimal("1234.56"), "CHF", "en_US", "CHF 1,234.56"),
        (Decimal("1234.56"), "CHF", "de_CH", "1.234,56 CHF"),
        (Decimal("1234.56"), "€", "fr_FR", "1.234,56 €"),
        (Decimal("1234.56"), "€", None, "1.234,56 €"),
        ("-0.004", "€", "de", "0,00 €"),
        (19.99, "€", "de", "19,99 €"),
        (None, "€", "de", "0,00 €"),
    ],
)
def test_format_money(amount, symbol, lang, expected):
    assert format_money(amount, symbol, lang) == expected


def test_format_money_defaults_to_german_euro():
    assert format_money(Decimal("1234.5")) == "1.234,50 €"


def test_format_money_digits():
    assert format_money(Decimal("1234.5"), "¥", "en", digits=0) == "¥1,235"
