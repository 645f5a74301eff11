"""Money helpers: Decimal in, Decimal out.

Floats are only accepted at the boundary (Odoo hands them out) and are
converted through their shortest repr, so 0.1 stays 0.1 instead of
0.1000000000000000055511151231257827.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from math import floor

CENT = Decimal("0.01")

# Far beyond any real invoice; keeps exact (Fraction) arithmetic cheap even
# when a value comes from user input.
_MAX_ADJUSTED_EXPONENT = 15
# Smaller magnitudes are float noise (e.g. a residual of 1e-40), not money.
_MIN_ADJUSTED_EXPONENT = -30


def to_decimal(value) -> Decimal:
    """Convert a boundary value to Decimal.

    None and False (Odoo's "empty") become 0; floats go through repr.
    Magnitudes of 10**16 and more are refused, below 10**-30 become 0.
    """
    if value is None or value is False:
        return Decimal(0)
    if isinstance(value, bool):
        raise TypeError("True is not an amount")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
    else:
        raise TypeError(f"cannot use a {type(value).__name__} as an amount")
    if not result.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    if result and result.adjusted() > _MAX_ADJUSTED_EXPONENT:
        raise ValueError(f"{value!r} is out of range for an amount")
    if result and result.adjusted() < _MIN_ADJUSTED_EXPONENT:
        return Decimal(0)
    return result


def round_fraction(value: Fraction, precision=CENT) -> Decimal:
    """Round an exact rational half-up (away from zero) to a multiple of precision.

    Used where a result must be rounded exactly once, e.g. interest
    (principal * rate * days / 36500 is not a finite decimal).
    """
    step = to_decimal(precision)
    if step <= 0:
        raise ValueError("precision must be positive")
    ratio = Fraction(value) / Fraction(step)
    units = floor(abs(ratio) + Fraction(1, 2))
    if ratio < 0:
        units = -units
    return Decimal(units) * step


def round_money(amount, precision=CENT) -> Decimal:
    """Round half-up like Odoo's float_round(rounding_method='HALF-UP')."""
    value = to_decimal(amount)
    step = to_decimal(precision)
    if step <= 0:
        raise ValueError("precision must be positive")
    normalized = step.normalize()
    if normalized.as_tuple().digits == (1,) and normalized.as_tuple().exponent <= 0:
        # 0.01, 1, ...: quantize is exact and cheap
        rounded = value.quantize(normalized, rounding=ROUND_HALF_UP)
        return rounded if rounded else rounded.copy_abs()  # no '-0.00'
    return round_fraction(Fraction(value), step)


def sum_money(values) -> Decimal:
    """Exact sum of boundary values (not rounded)."""
    total = Decimal(0)
    for value in values:
        total += to_decimal(value)
    return total


def _group_digits(amount: Decimal, digits: int, thousands: str, decimal: str) -> str:
    text = f"{amount:,.{digits}f}"
    return text.translate(str.maketrans({",": thousands, ".": decimal}))


def format_money(amount, currency_symbol="€", lang="de", *, digits: int = 2) -> str:
    """German '1.234,56 €' or, for lang 'en*', English '€1,234.56'."""
    step = Decimal(1).scaleb(-digits)
    value = round_money(amount, step)
    sign = "-" if value < 0 else ""
    symbol = currency_symbol or ""
    if (lang or "de").lower().startswith("en"):
        number = _group_digits(abs(value), digits, ",", ".")
        # codes like 'CHF' need a gap, signs like '€' and '$' do not
        gap = " " if len(symbol) > 1 and symbol.isalpha() else ""
        return f"{sign}{symbol}{gap}{number}"
    number = _group_digits(abs(value), digits, ".", ",")
    return f"{sign}{number} {symbol}" if symbol else f"{sign}{number}"
