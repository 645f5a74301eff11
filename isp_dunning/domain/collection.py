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
from datetime import date, timedelta
from decimal import Decimal

from .money import round_money, to_decimal

INVOICE = "Rechnung"
FEE = "Mahngebühr"
CREDIT_NOTE = "Gutschrift"
PAYMENT = "Zahlung"

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
    kind: str  # "Rechnung", "Mahngebühr", "Gutschrift" or "Zahlung"
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


def default_date(interest_start, due_date, first_notice_date):
    """When the debtor is in default (Verzugsbeginn): the day after the due
    date, or the first reminder's date where interest starts with it (and
    a first reminder exists)."""
    if interest_start == "first_notice" and first_notice_date:
        return first_notice_date
    return due_date + timedelta(days=1) if due_date else None


def invoice_claim(
    debtor,
    currency,
    *,
    number,
    invoice_date,
    due_date,
    default,
    total,
    residual,
    lump_sum,
    interest,
):
    """The claim of one handed-over invoice: its total as principal, what
    was paid on it, and the lump sums and interest its notices charged.

    :param debtor: customer_ref, customer_name, street, zip, city, country, email
    """
    total = to_decimal(total)
    return Claim(
        kind=INVOICE,
        number=number,
        invoice_date=invoice_date,
        due_date=due_date,
        default_date=default,
        principal=total,
        fees=Decimal("0"),
        lump_sum=to_decimal(lump_sum),
        interest=to_decimal(interest),
        payments=total - to_decimal(residual),
        currency=currency,
        **debtor,
    )


def statement_amounts(rows):
    """A notice's claim statement (``claim.ClaimRow``) summed for the agency:
    ``({section: {move_id: amount}}, {kind: amount})``, the documents of the
    sections principal, earlier_charges and credits, and this notice's new
    charges by kind (fee, lump_sum, interest)."""
    documents = {"principal": {}, "earlier_charges": {}, "credits": {}}
    new_charges = {}
    for row in rows:
        if row.section == "new_charges":
            new_charges[row.kind] = new_charges.get(row.kind, Decimal("0")) + row.amount
        else:
            amounts = documents.setdefault(row.section, {})
            amounts[row.move_id] = amounts.get(row.move_id, Decimal("0")) + row.amount
    return documents, new_charges


def charges_claim(
    debtor, currency, *, number, document_date, due_date, fees, lump_sum, interest, payments
):
    """A fee document (fees, lump sums and interest of a notice) as a cost
    position of its own, with what was paid on it."""
    return Claim(
        kind=FEE,
        number=number,
        invoice_date=document_date,
        due_date=due_date,
        default_date=None,
        principal=Decimal("0"),
        fees=to_decimal(fees),
        lump_sum=to_decimal(lump_sum),
        interest=to_decimal(interest),
        payments=to_decimal(payments),
        currency=currency,
        **debtor,
    )


def credit_claim(debtor, currency, *, refund, number, document_date, amount):
    """An open credit note or payment netted against the claim.

    :param amount: its open amount as stated (negative)
    """
    return Claim(
        kind=CREDIT_NOTE if refund else PAYMENT,
        number=number,
        invoice_date=document_date,
        due_date=None,
        default_date=None,
        principal=Decimal("0"),
        fees=Decimal("0"),
        lump_sum=Decimal("0"),
        interest=Decimal("0"),
        payments=-to_decimal(amount),
        currency=currency,
        **debtor,
    )


def fee_document_claim(
    debtor,
    currency,
    *,
    number,
    document_date,
    due_date,
    fee,
    lump_sum,
    interest,
    total,
    residual,
):
    """The claim of one fee document (the fees, lump sums and interest one
    notice charged, booked as a customer invoice) with what was paid on it."""
    return Claim(
        kind=FEE,
        number=number,
        invoice_date=document_date,
        due_date=due_date,
        default_date=None,
        principal=Decimal("0"),
        fees=to_decimal(fee),
        lump_sum=to_decimal(lump_sum),
        interest=to_decimal(interest),
        payments=to_decimal(total) - to_decimal(residual),
        currency=currency,
        **debtor,
    )
