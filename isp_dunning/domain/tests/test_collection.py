from datetime import date
from decimal import Decimal as D

from domain import collection
from domain.claim import ClaimRow

DEBTOR = {
    "customer_ref": "K-1",
    "customer_name": "Max Müller",
    "street": "Heidestraße 17",
    "zip": "51147",
    "city": "Köln",
    "country": "DE",
    "email": "max@example.org",
}


def invoice(**changes):
    values = {
        "number": "RE/2025/00001",
        "invoice_date": date(2025, 1, 1),
        "due_date": date(2025, 1, 15),
        "default": date(2025, 1, 16),
        "total": 100.0,
        "residual": 60.0,
        "lump_sum": 40.0,
        "interest": 1.23,
    }
    values.update(changes)
    return collection.invoice_claim(DEBTOR, "EUR", **values)


def fee(**changes):
    values = {
        "number": "MA/2025/00002",
        "document_date": date(2025, 2, 1),
        "due_date": date(2025, 2, 11),
        "fees": 1.5,
        "lump_sum": 0,
        "interest": 0,
        "payments": 0,
    }
    values.update(changes)
    return collection.charges_claim(DEBTOR, "EUR", **values)


def test_default_date_is_the_day_after_the_due_date():
    assert collection.default_date("due_date", date(2025, 1, 15), None) == date(2025, 1, 16)
    assert collection.default_date("due_date", date(2025, 1, 31), date(2025, 2, 7)) == date(
        2025, 2, 1
    )


def test_default_date_from_the_first_reminder_when_interest_starts_there():
    assert collection.default_date("first_notice", date(2025, 1, 15), date(2025, 1, 22)) == (
        date(2025, 1, 22)
    )
    # no reminder yet: the due date rule
    assert collection.default_date("first_notice", date(2025, 1, 15), None) == date(2025, 1, 16)
    assert collection.default_date("due_date", None, None) is None


def test_invoice_claim_amounts():
    claim = invoice()
    assert claim.kind == collection.INVOICE
    assert claim.principal == D("100.00")
    assert claim.payments == D("40.00")
    assert claim.fees == D("0")
    assert claim.lump_sum == D("40.00")
    assert claim.interest == D("1.23")
    assert claim.open_amount == D("101.23")  # 60 open + 40 lump sum + 1.23 interest
    assert claim.customer_name == "Max Müller"
    assert claim.currency == "EUR"


def test_charges_claim_is_a_cost_position():
    claim = fee()
    assert claim.kind == collection.FEE
    assert claim.fees == D("1.50")
    assert claim.principal == claim.payments == claim.lump_sum == claim.interest == D("0")
    assert claim.default_date is None
    assert claim.open_amount == D("1.50")


def test_total_open_and_csv():
    claims = [
        invoice(),
        fee(),
    ]
    assert collection.total_open(claims) == D("102.73")
    text = collection.claims_csv(claims)
    assert text.startswith("\ufeffArt;Kundennummer;Schuldner;")
    rows = text[1:].split("\r\n")
    assert rows[1].split(";")[:3] == ["Rechnung", "K-1", "Max Müller"]
    assert ";15.01.2025;16.01.2025;100,00;0,00;40,00;1,23;40,00;101,23;EUR" in rows[1]
    assert rows[2].startswith("Mahngebühr;K-1;")
    assert ";01.02.2025;11.02.2025;;0,00;1,50;0,00;0,00;0,00;1,50;EUR" in rows[2]
    assert rows[3] == ""


def test_paid_invoice_has_nothing_open_but_its_charges():
    assert invoice(residual=0.0, lump_sum=0.0, interest=0.0).open_amount == D("0.00")


def test_charges_claim_with_lump_sum_interest_and_payments():
    claim = fee(fees=0, lump_sum=40, interest=D("1.23"), payments=D("10.00"))
    assert claim.kind == collection.FEE
    assert claim.open_amount == D("31.23")


def test_credit_claims_are_negative_rows():
    refund = collection.credit_claim(
        DEBTOR,
        "EUR",
        refund=True,
        number="RG/2025/00001",
        document_date=date(2025, 1, 3),
        amount=D("-30.00"),
    )
    payment = collection.credit_claim(
        DEBTOR,
        "EUR",
        refund=False,
        number="BNK1/2025/00001",
        document_date=date(2025, 1, 4),
        amount=D("-20.00"),
    )
    assert (refund.kind, payment.kind) == (collection.CREDIT_NOTE, collection.PAYMENT)
    assert refund.payments == D("30.00")
    assert refund.open_amount == D("-30.00")
    assert refund.due_date is None and refund.default_date is None
    assert collection.total_open([invoice(), refund, payment]) == D("51.23")


def Row(section, kind, amount, move_id=None):  # noqa: N802 - reads like the class
    return ClaimRow(section, kind, D(amount), move_id)


def test_statement_amounts_sum_per_document_and_new_charge():
    rows = [
        Row("principal", "invoice", "100.00", 1),
        Row("principal", "invoice", "50.00", 2),
        Row("principal", "invoice", "50.00", 2),  # two instalments of one invoice
        Row("earlier_charges", "fee_document", "5.00", 7),
        Row("new_charges", "fee", "2.50"),
        Row("new_charges", "interest", "1.00", 1),
        Row("new_charges", "interest", "0.50", 2),
        Row("credits", "credit_note", "-30.00", 9),
    ]
    documents, new_charges = collection.statement_amounts(rows)
    assert documents == {
        "principal": {1: D("100.00"), 2: D("100.00")},
        "earlier_charges": {7: D("5.00")},
        "credits": {9: D("-30.00")},
    }
    assert new_charges == {"fee": D("2.50"), "interest": D("1.50")}


def test_statement_amounts_of_an_empty_statement():
    assert collection.statement_amounts([]) == (
        {"principal": {}, "earlier_charges": {}, "credits": {}},
        {},
    )


def test_fee_document_claim_with_a_payment_on_it():
    claim = collection.fee_document_claim(
        DEBTOR,
        "EUR",
        number="RE/2025/00009",
        document_date=date(2025, 2, 5),
        due_date=date(2025, 2, 15),
        fee=1.5,
        lump_sum=40.0,
        interest=0.87,
        total=42.37,
        residual=12.37,
    )
    assert claim.kind == collection.FEE
    assert (claim.fees, claim.lump_sum, claim.interest) == (D("1.50"), D("40.00"), D("0.87"))
    assert claim.principal == D("0")
    assert claim.payments == D("30.00")
    assert claim.open_amount == D("12.37")
    text = collection.claims_csv([claim])
    assert "RE/2025/00009;05.02.2025;15.02.2025;;0,00;1,50;40,00;0,87;30,00;12,37;EUR" in text


def test_unpaid_fee_document_claims_its_total():
    claim = collection.fee_document_claim(
        DEBTOR,
        "EUR",
        number="RE/2025/00010",
        document_date=date(2025, 2, 5),
        due_date=None,
        fee=1.5,
        lump_sum=0,
        interest=0,
        total=1.5,
        residual=1.5,
    )
    assert claim.payments == D("0.00")
    assert claim.open_amount == D("1.50")
