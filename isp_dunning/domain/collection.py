"""The claim list handed over to a collection agency (Inkasso).

One row per claim: each invoice with its principal, payments received,
lump sum and interest, and each dunning fee as a cost position of its own,
so that every amount is exact and nothing is allocated by estimate. The
format is what German collection services import: semicolon separated,
decimal comma, dates as DD.MM.YYYY, UTF-8 with byte order mark.
"""

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .money import round_money

COLUMNS = (
    ("kind", "Art"),
    ("customer_ref", "Kundennummer"),
    ("customer_name", "Schuldner"),
    ("street", "Straße"),
    ("zip", "PLZ"),
    ("city", "Ort"),
    ("country", "Land"),
    ("email", "E-Mail"),
    ("number", "Rechnungsnummer"),
    ("invoice_date", "Rechnungsdatum"),
    ("due_date", "Fälligkeitsdatum"),
    ("default_date", "Verzugsbeginn"),
    ("principal", "Hauptforderung"),
    ("fees", "Mahngebühren"),
    ("lump_sum", "Verzugspauschale"),
    ("interest", "Zinsen"),
    ("payments", "Zahlungseingänge"),
    ("open_amount", "Offener Betrag"),
    ("currency", "Währung"),
)


@dataclass(frozen=True)
class Claim:
    kind: str  # "Rechnung" or "Mahngebühr"
    customer_ref: str
    customer_name: str
    street: str
    zip: str
    city: str
    country: str
    email: str
    number: str
    invoice_date: date | None
    due_date: date | None
    default_date: date | None
    principal: Decimal
    fees: Decimal
    lump_sum: Decimal
    interest: Decimal
    payments: Decimal
    currency: str

    @property
    def open_amount(self):
        """What the debtor still owes on this row."""
        return round_money(
            self.principal + self.fees + self.lump_sum + self.interest - self.payments
        )


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, Decimal):
        return f"{round_money(value):.2f}".replace(".", ",")
    return str(value)


def claims_csv(claims):
    """The claims as CSV text (with BOM) for the agency's import."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([title for _key, title in COLUMNS])
    for claim in claims:
        writer.writerow(
            [
                _cell(claim.open_amount if key == "open_amount" else getattr(claim, key))
                for key, _title in COLUMNS
            ]
        )
    return "\ufeff" + buffer.getvalue()


def total_open(claims):
    return round_money(sum((claim.open_amount for claim in claims), Decimal("0")))
