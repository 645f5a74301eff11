"""What a reminder template sees: one schema for real notices and for the
level preview's sample.

A real notice's context (built by the Odoo layer from the booked notice)
and the sample the preview and the level check render against are both
made by :func:`make_context`, which refuses any other keys. A template that
renders against the sample therefore finds every key it uses in production
too, with values of the same kinds (money as Decimal, dates as date, an
interest period described in words).

Keys:

``company``
    name, street, zip, city, country, vat, email, phone, website, iban,
    bic, bank_name
``partner``
    name, ref (customer number), street, zip, city, country, email, lang,
    is_business
``notice``
    level_name, level_sequence, number, payment_reference, date, deadline,
    currency (ISO code), currency_symbol, amount_open, fee_amount,
    lump_sum_amount, interest_amount, return_charge_amount (returned direct
    debits), amount_earlier_charges (open fee
    documents of earlier notices not on this one), amount_credits (open
    credit notes and payments netted, positive), fee_credited (the part of
    the level's fee credited against the lump sums, § 288 (5) S. 3 BGB),
    amount_total_due (the whole claim), portal_block_announced,
    portal_block, portal_block_date (date or None),
    portal_block_from (blocking levels: the day the block takes effect, the
    notice's day or the next working day; None when the level does not
    block or the consumer guard postponed the block),
    interest_lines, pay_url (the notice's public pay link, '' if none),
    girocode_url (image URL of the GiroCode, an EPC QR code of the amount
    due with the notice number as reference; '' without a SEPA IBAN or
    outside EUR), broken_promise (None, or the payment promise the customer
    did not keep, whose invoices this notice dunes again)
``notice.broken_promise`` (None when no promise was broken)
    date (the day the promise was made), amount (the total promised),
    due_date (the instalment missed), due_amount (the amount that was due
    by then in total), paid (what was paid of the promise)
``notice.interest_lines[]`` (one per invoice that charges interest)
    invoice, date_from, date_to, days, detail (the rates and days in
    words), amount
``claim`` (the claim statement, see ``claim.claim_context``)
    rows, sections, principal, earlier_charges, new_charges, credits,
    total (equals notice.amount_total_due), fee_credited
``claim.rows[]``
    section, kind, label, document, due_date, amount, detail
``claim.sections[]`` (the non-empty sections in order)
    key, title, rows, total
``invoices[]``
    number, date, due_date, amount_total, amount_open, days_overdue,
    level_name, portal_url
``lang``
    two-letter language of the customer, the default of the filters
"""

from datetime import date, timedelta
from decimal import Decimal

from . import claim as claim_rules
from .interest import GERMAN_BASE_RATES, compute_interest
from .money import sum_money
from .planning import describe_segments

COMPANY_KEYS = frozenset(
    {
        "name",
        "street",
        "zip",
        "city",
        "country",
        "vat",
        "email",
        "phone",
        "website",
        "iban",
        "bic",
        "bank_name",
    }
)
PARTNER_KEYS = frozenset(
    {"name", "ref", "street", "zip", "city", "country", "email", "lang", "is_business"}
)
NOTICE_KEYS = frozenset(
    {
        "level_name",
        "level_sequence",
        "number",
        "payment_reference",
        "date",
        "deadline",
        "currency",
        "currency_symbol",
        "amount_open",
        "fee_amount",
        "lump_sum_amount",
        "interest_amount",
        "return_charge_amount",
        "amount_earlier_charges",
        "amount_credits",
        "fee_credited",
        "amount_total_due",
        "portal_block_announced",
        "portal_block",
        "portal_block_date",
        "portal_block_from",
        "interest_lines",
        "pay_url",
        "girocode_url",
        "broken_promise",
    }
)
BROKEN_PROMISE_KEYS = frozenset({"date", "amount", "due_date", "due_amount", "paid"})
BROKEN_PROMISE_MONEY_KEYS = ("amount", "due_amount", "paid")
INTEREST_LINE_KEYS = frozenset({"invoice", "date_from", "date_to", "days", "detail", "amount"})
INVOICE_KEYS = frozenset(
    {
        "number",
        "date",
        "due_date",
        "amount_total",
        "amount_open",
        "days_overdue",
        "level_name",
        "portal_url",
    }
)
CLAIM_KEYS = frozenset(
    {
        "rows",
        "sections",
        "principal",
        "earlier_charges",
        "new_charges",
        "credits",
        "total",
        "fee_credited",
    }
)
CLAIM_ROW_KEYS = frozenset({"section", "kind", "label", "document", "due_date", "amount", "detail"})
CLAIM_SECTION_KEYS = frozenset({"key", "title", "rows", "total"})
MONEY_KEYS = (
    "amount_open",
    "fee_amount",
    "lump_sum_amount",
    "interest_amount",
    "return_charge_amount",
    "amount_earlier_charges",
    "amount_credits",
    "fee_credited",
    "amount_total_due",
)


def _check_keys(where, values, keys):
    missing = sorted(keys - set(values))
    extra = sorted(set(values) - keys)
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if extra:
            parts.append(f"unknown {', '.join(extra)}")
        raise ValueError(f"Template context, {where}: {'; '.join(parts)}")


def make_context(company, partner, notice, invoices, lang, claim):
    """The context of a reminder template; ``ValueError`` when a part does
    not have exactly the keys of the schema or a money value is not a
    Decimal."""
    _check_keys("company", company, COMPANY_KEYS)
    _check_keys("partner", partner, PARTNER_KEYS)
    _check_keys("notice", notice, NOTICE_KEYS)
    for line in notice["interest_lines"]:
        _check_keys("interest line", line, INTEREST_LINE_KEYS)
    for invoice in invoices:
        _check_keys("invoice", invoice, INVOICE_KEYS)
    for key in MONEY_KEYS:
        if not isinstance(notice[key], Decimal):
            raise ValueError(f"Template context, notice: {key} must be a Decimal")
    promise = notice["broken_promise"]
    if promise is not None:
        _check_keys("broken promise", promise, BROKEN_PROMISE_KEYS)
        for key in BROKEN_PROMISE_MONEY_KEYS:
            if not isinstance(promise[key], Decimal):
                raise ValueError(f"Template context, broken promise: {key} must be a Decimal")
        promise = dict(promise)
    _check_keys("claim", claim, CLAIM_KEYS)
    for row in claim["rows"]:
        _check_keys("claim row", row, CLAIM_ROW_KEYS)
    for section in claim["sections"]:
        _check_keys("claim section", section, CLAIM_SECTION_KEYS)
    return {
        "company": dict(company),
        "partner": dict(partner),
        "notice": dict(
            notice,
            interest_lines=[dict(line) for line in notice["interest_lines"]],
            broken_promise=promise,
        ),
        "invoices": [dict(invoice) for invoice in invoices],
        "claim": dict(claim),
        "lang": (lang or "en")[:2],
    }


def sample_context(lang="de_DE"):
    """A realistic context for the level preview and the check when a level
    is saved: a consumer with two invoices, one of them partly paid, interest
    over a change of the base rate."""
    notice_date = date(2025, 8, 14)
    level_name = "2. Mahnung"
    rows = [
        # number, invoice date, due date, total, still open
        ("RE/2025/00412", date(2025, 5, 1), date(2025, 5, 15), "49.99", "49.99"),
        ("RE/2025/00587", date(2025, 6, 1), date(2025, 6, 15), "49.99", "29.99"),
    ]
    invoices, interest_lines = [], []
    for number, invoice_date, due_date, total, still_open in rows:
        open_amount = Decimal(still_open)
        interest = compute_interest(
            open_amount, due_date, notice_date, "statutory", base_rates=GERMAN_BASE_RATES
        )
        interest_lines.append(
            {
                "invoice": number,
                "date_from": interest.segments[0].date_from,
                "date_to": interest.segments[-1].date_to,
                "days": sum(segment.days for segment in interest.segments),
                "detail": describe_segments(interest.segments, lang),
                "amount": interest.amount,
            }
        )
        invoices.append(
            {
                "number": number,
                "date": invoice_date,
                "due_date": due_date,
                "amount_total": Decimal(total),
                "amount_open": open_amount,
                "days_overdue": (notice_date - due_date).days,
                "level_name": level_name,
                "portal_url": "https://portal.example-isp.de/my/invoices/"
                + number.rsplit("/", 1)[-1],
            }
        )
    amount_open = sum_money(row["amount_open"] for row in invoices)
    fee = Decimal("2.50")
    lump_sum = Decimal("0.00")  # § 288 (5) BGB: only for business customers
    interest_amount = sum_money(line["amount"] for line in interest_lines)
    sample_claim = claim_rules.Claim(
        rows=tuple(
            claim_rules.ClaimRow("principal", "invoice", row["amount_open"], index, row["due_date"])
            for index, row in enumerate(invoices, start=1)
        )
        + (claim_rules.ClaimRow("new_charges", "fee", fee),)
        + tuple(
            claim_rules.ClaimRow("new_charges", "interest", line["amount"], index)
            for index, line in enumerate(interest_lines, start=1)
        )
    )
    return make_context(
        company={
            "name": "Beispiel Netz GmbH",
            "street": "Hafenstraße 12",
            "zip": "20457",
            "city": "Hamburg",
            "country": "Deutschland",
            "vat": "DE123456789",
            "email": "buchhaltung@example-isp.de",
            "phone": "+49 40 123456-0",
            "iban": "DE02 1203 0000 0000 2020 51",
            "bic": "BYLADEM1001",
            "bank_name": "Deutsche Kreditbank",
            "website": "https://www.example-isp.de",
        },
        partner={
            "name": "Erika Mustermann",
            "ref": "K-100234",
            "street": "Heidestraße 17",
            "zip": "51147",
            "city": "Köln",
            "country": "Deutschland",
            "email": "erika.mustermann@example.org",
            "lang": lang,
            "is_business": False,
        },
        notice={
            "level_name": level_name,
            "level_sequence": 20,
            "number": "MA/2025/00042",
            "payment_reference": "MA/2025/00042",
            "date": notice_date,
            "deadline": date(2025, 8, 28),
            "currency": "EUR",
            "currency_symbol": "€",
            "amount_open": amount_open,
            "fee_amount": fee,
            "lump_sum_amount": lump_sum,
            "interest_amount": interest_amount,
            "return_charge_amount": Decimal("0.00"),
            "amount_earlier_charges": Decimal("0.00"),
            "amount_credits": Decimal("0.00"),
            "fee_credited": Decimal("0.00"),
            "amount_total_due": amount_open + fee + lump_sum + interest_amount,
            "portal_block_announced": True,
            "portal_block": False,
            "portal_block_date": notice_date + timedelta(days=21),
            "portal_block_from": None,
            "interest_lines": interest_lines,
            "pay_url": "https://portal.example-isp.de/dunning/pay/4711/"
            "5f0c7a3e-8d1b-4c2a-9e6f-0123456789ab",
            "girocode_url": "/report/barcode/?barcode_type=QR&width=128&height=128&value="
            "BCD%0A002%0A1%0ASCT%0ABYLADEM1001%0ABeispiel+Netz+GmbH%0ADE02120300000000202051"
            "%0AEUR161.89%0A%0A%0AMA%2F2025%2F00042%0A",
            # The preview shows the sentence of a broken payment promise.
            "broken_promise": {
                "date": date(2025, 7, 1),
                "amount": Decimal("79.98"),
                "due_date": date(2025, 7, 31),
                "due_amount": Decimal("40.00"),
                "paid": Decimal("20.00"),
            },
        },
        invoices=invoices,
        lang=lang,
        claim=claim_rules.claim_context(
            sample_claim,
            {index: row["number"] for index, row in enumerate(invoices, start=1)},
            lang,
        ),
    )
