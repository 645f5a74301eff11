"""The claim list handed over to a collection agency (Inkasso).

One row per claim: each invoice with its principal, payments received,
lump sum and interest, and each dunning fee as a cost position of its own,
so that every amount is exact and nothing is allocated by estimate. The
format is what German collection services import: semicolon separated,
decimal comma, dates as DD.MM.YYYY, UTF-8 with byte order mark.
"""

import csv
import io
from dataclasses import dataclass, field
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
    """One row of the agency's claim list. ``fees`` are the costs passed on:
    dunning fees and returned debit charges, as the fee documents book them
    (both on the fee account)."""

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


# ----------------------------------------------------------------------
# The handover rule: which notices are handed over, and with what
# ----------------------------------------------------------------------
NO_AGENCY_EMAIL = "no_agency_email"

# States of a notice that never hand a case over.
NOT_HANDED_OVER_STATES = ("draft", "cancelled")


def handover_pending(collection_handover, handover_sent, state):
    """Whether a notice still hands its case over: its level hands over to
    the collection agency, no handover mail exists yet and the notice is
    booked and live (a notice in ``error`` is retried)."""
    return bool(collection_handover) and not handover_sent and state not in NOT_HANDED_OVER_STATES


def handover_problem(agency_email):
    """Why the case cannot be handed over now (``NO_AGENCY_EMAIL``), or None.
    The notice waits in error with the reason and every run retries it."""
    return None if agency_email else NO_AGENCY_EMAIL


def state_after_handover(channel, customer_mail_sent):
    """The state of a notice whose failed handover succeeded: what its
    customer delivery reached (letters are printed only after it)."""
    if channel == "letter":
        return "to_print"
    if customer_mail_sent:
        return "to_print" if channel == "email_letter" else "sent"
    return "to_send"


def hands_over_fee_document(notice_state, move_state, payment_state):
    """Whether the fee document of a notice of the case goes to the agency
    with the invoices (and leaves automatic dunning): the notice is live and
    the document posted and not reversed."""
    return notice_state != "cancelled" and move_state == "posted" and payment_state != "reversed"


def agency_lang(agency_lang_code, company_lang_code, default):
    """The language the agency reads the case in: its own, else the
    company's, else ``default``."""
    return agency_lang_code or company_lang_code or default


@dataclass(frozen=True)
class Charges:
    """What one notice charged on its fee document (company currency)."""

    fee: Decimal = Decimal("0")
    lump_sum: Decimal = Decimal("0")
    interest: Decimal = Decimal("0")
    return_charge: Decimal = Decimal("0")


@dataclass(frozen=True)
class Document:
    """A document the claim statement of a handover notice refers to, as read
    from the books: an invoice, a fee document of an earlier notice, a credit
    note or a payment."""

    number: str
    document_date: date | None = None
    due_date: date | None = None
    total: Decimal = Decimal("0")
    residual: Decimal = Decimal("0")
    refund: bool = False  # credits: a credit note (else a payment)
    first_notice_date: date | None = None  # invoices: their first reminder
    charges: Charges = field(default_factory=Charges)  # fee documents


def case_claims(
    debtor,
    currency,
    rows,
    documents,
    *,
    interest_start,
    own_document,
    notice_number,
    notice_date,
    deadline,
):
    """The claims handed over with a notice: the rows of its claim statement
    (``claim.ClaimRow``), so that the agency receives the figures the
    customer was sent.

    * one row per invoice: its principal is what the statement claims plus
      the payments received on it;
    * one row per earlier fee document still open: the fees (with returned
      debit charges), lump sums and interest its notice charged, less what
      was paid on it;
    * one row for this notice's new charges (fee and returned debit charges,
      lump sums, interest), numbered by its fee document (``own_document``,
      else the notice's number);
    * one row per credit note or payment netted (negative).

    The rows add up to the statement's total.

    :param debtor: customer_ref, customer_name, street, zip, city, country, email
    :param documents: ``{move_id: Document}`` of every document the rows name
    :param interest_start: the company's interest start (``due_date`` or
        ``first_notice``), for the default date
    """
    amounts, new_charges = statement_amounts(rows)
    result = []
    for move_id, open_amount in amounts["principal"].items():
        doc = documents[move_id]
        paid = to_decimal(doc.total) - to_decimal(doc.residual)
        result.append(
            invoice_claim(
                debtor,
                currency,
                number=doc.number,
                invoice_date=doc.document_date,
                due_date=doc.due_date,
                default=default_date(interest_start, doc.due_date, doc.first_notice_date),
                total=open_amount + paid,
                residual=open_amount,
                lump_sum=0,
                interest=0,
            )
        )
    for move_id, open_amount in amounts["earlier_charges"].items():
        doc = documents[move_id]
        result.append(
            charges_claim(
                debtor,
                currency,
                number=doc.number,
                document_date=doc.document_date,
                due_date=doc.due_date,
                fees=to_decimal(doc.charges.fee) + to_decimal(doc.charges.return_charge),
                lump_sum=doc.charges.lump_sum,
                interest=doc.charges.interest,
                payments=to_decimal(doc.total) - open_amount,
            )
        )
    if new_charges:
        zero = Decimal("0")
        result.append(
            charges_claim(
                debtor,
                currency,
                number=(own_document and own_document.number) or notice_number,
                document_date=notice_date,
                due_date=deadline,
                fees=new_charges.get("fee", zero) + new_charges.get("return_charge", zero),
                lump_sum=new_charges.get("lump_sum", zero),
                interest=new_charges.get("interest", zero),
                payments=0,
            )
        )
    for move_id, amount in amounts["credits"].items():
        doc = documents[move_id]
        result.append(
            credit_claim(
                debtor,
                currency,
                refund=doc.refund,
                number=doc.number,
                document_date=doc.document_date,
                amount=amount,
            )
        )
    return result
