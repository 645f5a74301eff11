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


# -- the handover rule ------------------------------------------------------


def test_handover_pending_only_for_live_booked_notices_of_a_handover_level():
    assert collection.handover_pending(True, False, "to_send")
    assert collection.handover_pending(True, False, "error"), "a failed handover is retried"
    assert collection.handover_pending(True, False, "printed")
    assert not collection.handover_pending(False, False, "to_send"), "the level hands nothing over"
    assert not collection.handover_pending(True, True, "error"), "handed over once only"
    assert not collection.handover_pending(True, False, "draft")
    assert not collection.handover_pending(True, False, "cancelled")


def test_handover_needs_the_agency_address():
    assert collection.handover_problem("cases@inkasso.example") is None
    assert collection.handover_problem(False) == collection.NO_AGENCY_EMAIL
    assert collection.handover_problem("") == collection.NO_AGENCY_EMAIL


def test_state_after_a_retried_handover_follows_the_customer_delivery():
    assert collection.state_after_handover("email", customer_mail_sent=False) == "to_send"
    assert collection.state_after_handover("email", customer_mail_sent=True) == "sent"
    assert collection.state_after_handover("email_letter", customer_mail_sent=True) == "to_print"
    assert collection.state_after_handover("email_letter", customer_mail_sent=False) == "to_send"
    assert collection.state_after_handover("letter", customer_mail_sent=False) == "to_print"


def test_fee_documents_handed_over_are_posted_not_reversed_of_live_notices():
    assert collection.hands_over_fee_document("sent", "posted", "not_paid")
    assert collection.hands_over_fee_document("error", "posted", "partial")
    assert not collection.hands_over_fee_document("cancelled", "posted", "not_paid")
    assert not collection.hands_over_fee_document("sent", "draft", "not_paid")
    assert not collection.hands_over_fee_document("sent", "cancel", "not_paid")
    assert not collection.hands_over_fee_document("sent", "posted", "reversed")


def test_agency_language_falls_back_to_the_company_then_the_default():
    assert collection.agency_lang("de_DE", "en_US", "fr_FR") == "de_DE"
    assert collection.agency_lang(False, "en_US", "fr_FR") == "en_US"
    assert collection.agency_lang(False, False, "fr_FR") == "fr_FR"


CASE_DOCUMENTS = {
    1: collection.Document(
        number="RE/2025/00001",
        document_date=date(2025, 1, 1),
        due_date=date(2025, 1, 15),
        total=D("100.00"),
        residual=D("60.00"),
        first_notice_date=date(2025, 1, 22),
    ),
    7: collection.Document(
        number="MA/2025/00007",
        document_date=date(2025, 2, 5),
        due_date=date(2025, 2, 15),
        total=D("5.37"),
        residual=D("4.37"),
        charges=collection.Charges(fee=D("1.50"), interest=D("0.87"), return_charge=D("3.00")),
    ),
    9: collection.Document(
        number="RG/2025/00009",
        document_date=date(2025, 1, 3),
        total=D("30.00"),
        residual=D("-30.00"),
        refund=True,
    ),
    10: collection.Document(number="BNK1/2025/00010", document_date=date(2025, 1, 4)),
}


def case(rows, own_document=None, interest_start="due_date"):
    return collection.case_claims(
        DEBTOR,
        "EUR",
        rows,
        CASE_DOCUMENTS,
        interest_start=interest_start,
        own_document=own_document,
        notice_number="MAHN/2025/00003",
        notice_date=date(2025, 3, 1),
        deadline=date(2025, 3, 11),
    )


def test_case_claims_follow_the_statement_row_by_row():
    rows = [
        Row("principal", "invoice", "60.00", 1),
        Row("earlier_charges", "fee_document", "4.37", 7),
        Row("new_charges", "fee", "1.50"),
        Row("new_charges", "return_charge", "3.00", 1),
        Row("new_charges", "interest", "0.75", 1),
        Row("credits", "credit_note", "-30.00", 9),
        Row("credits", "payment", "-5.00", 10),
    ]
    own = collection.Document(number="MA/2025/00011")
    invoice_row, earlier, new, refund, payment = case(rows, own)
    assert (invoice_row.kind, invoice_row.number) == (collection.INVOICE, "RE/2025/00001")
    # principal: what is claimed plus the 40.00 received
    assert (invoice_row.principal, invoice_row.payments) == (D("100.00"), D("40.00"))
    assert invoice_row.default_date == date(2025, 1, 16)
    assert invoice_row.open_amount == D("60.00")
    # the earlier fee document with its returned debit charge among the fees
    assert (earlier.kind, earlier.number) == (collection.FEE, "MA/2025/00007")
    assert (earlier.fees, earlier.interest, earlier.payments) == (D("4.50"), D("0.87"), D("1.00"))
    assert earlier.open_amount == D("4.37")
    # this notice's charges, the returned debit charge with the fee
    assert (new.number, new.invoice_date, new.due_date) == (
        "MA/2025/00011",
        date(2025, 3, 1),
        date(2025, 3, 11),
    )
    assert (new.fees, new.lump_sum, new.interest, new.payments) == (
        D("4.50"),
        D("0"),
        D("0.75"),
        D("0"),
    )
    assert (refund.kind, refund.open_amount) == (collection.CREDIT_NOTE, D("-30.00"))
    assert (payment.kind, payment.open_amount) == (collection.PAYMENT, D("-5.00"))
    statement_total = sum((row.amount for row in rows), D("0"))
    assert collection.total_open([invoice_row, earlier, new, refund, payment]) == statement_total


def test_case_claims_of_an_instalment_claim_only_the_overdue_part():
    # 60.00 open of which 20.00 overdue: the principal is what is claimed
    # plus what was received, the rest of the invoice is not handed over.
    (row,) = case([Row("principal", "invoice", "20.00", 1)])
    assert (row.principal, row.payments, row.open_amount) == (D("60.00"), D("40.00"), D("20.00"))


def test_case_claims_default_date_from_the_first_reminder():
    (row,) = case([Row("principal", "invoice", "60.00", 1)], interest_start="first_notice")
    assert row.default_date == date(2025, 1, 22)


def test_case_claims_number_new_charges_by_the_notice_without_a_fee_document():
    (_invoice, new) = case(
        [Row("principal", "invoice", "60.00", 1), Row("new_charges", "return_charge", "3.00", 1)]
    )
    assert (new.number, new.fees, new.open_amount) == ("MAHN/2025/00003", D("3.00"), D("3.00"))


def test_case_claims_without_new_charges_have_no_charges_row():
    claims = case([Row("principal", "invoice", "60.00", 1)])
    assert [claim.kind for claim in claims] == [collection.INVOICE]
