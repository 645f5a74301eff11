from datetime import date
from decimal import Decimal

import pytest
from domain import template_context as tc
from domain.rendering import render


def parts():
    sample = tc.sample_context()
    return {
        "company": sample["company"],
        "partner": sample["partner"],
        "notice": sample["notice"],
        "invoices": sample["invoices"],
        "claim": sample["claim"],
        "lang": "de_DE",
    }


def test_sample_has_exactly_the_schema():
    sample = tc.sample_context()
    assert set(sample) == {"company", "partner", "notice", "invoices", "claim", "lang"}
    assert set(sample["company"]) == tc.COMPANY_KEYS
    assert set(sample["partner"]) == tc.PARTNER_KEYS
    assert set(sample["notice"]) == tc.NOTICE_KEYS
    assert sample["notice"]["interest_lines"], "the sample shows interest"
    for line in sample["notice"]["interest_lines"]:
        assert set(line) == tc.INTEREST_LINE_KEYS
    for invoice in sample["invoices"]:
        assert set(invoice) == tc.INVOICE_KEYS
    assert set(sample["claim"]) == tc.CLAIM_KEYS
    assert sample["claim"]["rows"], "the sample states a claim"
    for row in sample["claim"]["rows"]:
        assert set(row) == tc.CLAIM_ROW_KEYS
    for section in sample["claim"]["sections"]:
        assert set(section) == tc.CLAIM_SECTION_KEYS
    assert sample["claim"]["total"] == sample["notice"]["amount_total_due"]


def test_make_context_returns_copies_and_two_letter_lang():
    given = parts()
    context = tc.make_context(**given)
    assert context["lang"] == "de"
    assert context["notice"] == given["notice"]
    assert context["notice"] is not given["notice"]
    assert context["notice"]["interest_lines"][0] is not given["notice"]["interest_lines"][0]
    assert tc.make_context(**dict(given, lang=None))["lang"] == "en"


@pytest.mark.parametrize(
    ("part", "change", "message"),
    [
        ("company", lambda d: d.pop("iban"), "company: missing iban"),
        ("partner", lambda d: d.update(phone="1"), "partner: unknown phone"),
        ("notice", lambda d: d.pop("number"), "notice: missing number"),
        ("notice", lambda d: d.update(pay_later=True), "notice: unknown pay_later"),
        ("notice", lambda d: d.pop("broken_promise"), "notice: missing broken_promise"),
        (
            "notice",
            lambda d: d["broken_promise"].pop("paid"),
            "broken promise: missing paid",
        ),
        (
            "notice",
            lambda d: d["broken_promise"].update(amount=79.98),
            "broken promise: amount must be a Decimal",
        ),
    ],
)
def test_make_context_refuses_other_keys(part, change, message):
    given = parts()
    given[part] = dict(given[part])
    change(given[part])
    with pytest.raises(ValueError, match=message):
        tc.make_context(**given)


def test_make_context_checks_the_claim():
    given = parts()
    claim = dict(given["claim"])
    del claim["total"]
    with pytest.raises(ValueError, match="claim: missing total"):
        tc.make_context(**dict(given, claim=claim))
    claim = dict(given["claim"], rows=[dict(given["claim"]["rows"][0], rate=1)])
    with pytest.raises(ValueError, match="claim row: unknown rate"):
        tc.make_context(**dict(given, claim=claim))


def test_make_context_checks_lines_and_invoices():
    given = parts()
    notice = dict(given["notice"])
    notice["interest_lines"] = [dict(notice["interest_lines"][0], rate=Decimal("7.27"))]
    with pytest.raises(ValueError, match="interest line: unknown rate"):
        tc.make_context(**dict(given, notice=notice))
    invoices = [dict(given["invoices"][0])]
    del invoices[0]["portal_url"]
    with pytest.raises(ValueError, match="invoice: missing portal_url"):
        tc.make_context(**dict(given, invoices=invoices))


def test_make_context_wants_decimal_money():
    given = parts()
    notice = dict(given["notice"], fee_amount=2.5)
    with pytest.raises(ValueError, match="fee_amount must be a Decimal"):
        tc.make_context(**dict(given, notice=notice))


def test_sample_interest_line_per_invoice_over_the_rate_change():
    lines = tc.sample_context()["notice"]["interest_lines"]
    assert [line["invoice"] for line in lines] == ["RE/2025/00412", "RE/2025/00587"]
    first = lines[0]
    assert first["date_from"] == date(2025, 5, 16)
    assert first["date_to"] == date(2025, 8, 14)
    assert first["days"] == 91
    assert first["detail"] == "46 Tage zu 7,27 %, 45 Tage zu 6,27 %"
    assert tc.sample_context("en_US")["notice"]["interest_lines"][0]["detail"] == (
        "46 days at 7.27 %, 45 days at 6.27 %"
    )


def test_sample_number_is_the_payment_reference():
    notice = tc.sample_context()["notice"]
    assert notice["number"] == notice["payment_reference"]
    assert notice["currency"] == "EUR"
    assert notice["portal_block"] is False


def test_a_key_outside_the_schema_fails_against_the_sample():
    """What the level check relies on: a template that uses a key the real
    context does not have fails on the sample already."""
    with pytest.raises(Exception, match="rate"):
        render(
            "{% for line in notice.interest_lines %}{{ line.rate }}{% endfor %}",
            tc.sample_context(),
            html=False,
        )


def test_broken_promise_in_the_sample_and_none_allowed():
    sample = tc.sample_context()
    promise = sample["notice"]["broken_promise"]
    assert set(promise) == tc.BROKEN_PROMISE_KEYS
    assert promise["amount"] == Decimal("79.98")
    given = parts()
    given["notice"] = dict(given["notice"], broken_promise=None)
    assert tc.make_context(**given)["notice"]["broken_promise"] is None
    text = (
        "{% if notice.broken_promise %}broken {{ notice.broken_promise.due_date|date }}{% endif %}"
    )
    assert render(text, sample, html=False) == "broken 31.07.2025"
    assert render(text, tc.make_context(**given), html=False) == ""
