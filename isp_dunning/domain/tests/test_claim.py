"""Tests of the claim statement, the crediting of the lump sum against fees
(§ 288 (5) S. 3 BGB) and no interest or lump sum on charges (§ 289 BGB)."""

import json
import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from domain.claim import Claim, ClaimRow, Period, claim_context, claim_of
from domain.escalation import Level
from domain.interest import GERMAN_BASE_RATES
from domain.planning import (
    Customer,
    InstalmentPlan,
    Invoice,
    LevelConfig,
    OpenItem,
    Settings,
    describe_instalments,
    plan_customer,
)

D = Decimal
EUR = "EUR"
DUE = date(2025, 5, 15)

L1 = LevelConfig(Level(1, 10, 7, "due_date", "Zahlungserinnerung"))
L2 = LevelConfig(
    Level(2, 20, 14, "previous_level", "1. Mahnung"),
    fee_amount=D("1.50"),
    interest_mode="statutory",
)
L3 = LevelConfig(
    Level(3, 30, 14, "previous_level", "2. Mahnung"),
    fee_amount=D("1.50"),
    interest_mode="statutory",
    b2b_flat_fee=True,
)
L4 = LevelConfig(
    Level(4, 40, 14, "previous_level", "Letzte Mahnung"),
    fee_amount=D("1.50"),
    interest_mode="statutory",
    b2b_flat_fee=True,
)
LEVELS = [L1, L2, L3, L4]
CONSUMER = Customer(partner_id=7)
BUSINESS = Customer(partner_id=8, is_business=True)
TODAY = date(2025, 8, 14)


def run(items, invoices, customer=BUSINESS, levels=LEVELS, today=TODAY, **kwargs):
    kwargs.setdefault("base_rates", GERMAN_BASE_RATES)
    invoices = {invoice.move_id: invoice for invoice in invoices}
    plan = plan_customer(customer, items, invoices, levels, Settings(today=today, **kwargs))
    assert len(plan.notices) == 1
    return plan.notices[0]


def item(move_id, residual, due_date=DUE, move_type="out_invoice", currency=EUR):
    return OpenItem(move_id, currency, D(residual), due_date, move_type)


AT_2 = {"level_id": 2, "last_notice_date": date(2025, 7, 31)}  # escalates to level 3
AT_3 = {"level_id": 3, "last_notice_date": date(2025, 7, 31)}  # escalates to level 4


# -- rule 2: § 288 (5) S. 3 BGB, the lump sum is credited against the fees --


def test_first_notice_charging_both_charges_the_larger_lump_sum():
    notice = run([item(10, "100.00")], [Invoice(10, **AT_2)])
    assert notice.level is L3
    assert notice.lump_sum_amount == D("40.00")
    assert notice.fee_amount == D("0")
    assert notice.fee_credited == D("1.50")
    assert notice.charges == notice.lump_sum_amount + notice.interest_amount


def test_first_notice_charging_both_charges_the_larger_fee():
    big = LevelConfig(L3.level, fee_amount=D("55.00"), interest_mode="none", b2b_flat_fee=True)
    notice = run([item(10, "100.00")], [Invoice(10, **AT_2)], levels=[L1, L2, big, L4])
    assert notice.lump_sum_amount == D("40.00")
    assert notice.fee_amount == D("15.00")  # 55 - 40: together the larger, 55
    assert notice.fee_credited == D("40.00")
    assert notice.charges == D("55.00")


def test_later_notice_fee_credited_against_the_lump_sum_charged_before():
    invoice = Invoice(10, lump_sum_charged=True, **AT_3)
    notice = run([item(10, "100.00")], [invoice])
    assert notice.level is L4
    assert notice.lump_sum_amount == D("0")
    assert notice.fee_amount == D("0")
    assert notice.fee_credited == D("1.50")


def test_later_fee_charged_as_far_as_it_exceeds_the_lump_sum():
    big = LevelConfig(L4.level, fee_amount=D("42.50"), interest_mode="none", b2b_flat_fee=True)
    invoice = Invoice(10, lump_sum_charged=True, **AT_3)
    notice = run([item(10, "100.00")], [invoice], levels=[L1, L2, L3, big])
    assert notice.fee_amount == D("2.50")
    assert notice.fee_credited == D("40.00")


def test_fee_credited_against_the_lump_sums_of_all_invoices_on_the_notice():
    big = LevelConfig(L4.level, fee_amount=D("100.00"), interest_mode="none", b2b_flat_fee=True)
    invoices = [
        Invoice(10, lump_sum_charged=True, **AT_3),  # charged earlier
        Invoice(11, **AT_3),  # charged now
        # listed, not escalated, charged earlier
        Invoice(12, level_id=4, last_notice_date=TODAY, lump_sum_charged=True),
    ]
    items = [item(10, "10.00"), item(11, "20.00"), item(12, "30.00")]
    notice = run(items, invoices, levels=[L1, L2, L3, big])
    assert notice.lump_sum_amount == D("40.00")  # only invoice 11 is new
    # 100 - 3 * 40: the notice's fee is credited against its invoices' lump sums
    assert notice.fee_amount == D("0")
    assert notice.fee_credited == D("100.00")
    bigger = LevelConfig(L4.level, fee_amount=D("130.00"), b2b_flat_fee=True)
    notice = run(items, invoices, levels=[L1, L2, L3, bigger])
    assert notice.fee_amount == D("10.00")
    assert notice.fee_credited == D("120.00")


def test_no_crediting_for_consumers():
    notice = run([item(10, "100.00")], [Invoice(10, **AT_3)], customer=CONSUMER)
    assert notice.lump_sum_amount == D("0")
    assert notice.fee_amount == D("1.50")
    assert notice.fee_credited == D("0")


def test_no_crediting_without_lump_sum_at_the_level():
    # level 2 charges no lump sum and none was charged before
    notice = run([item(10, "100.00")], [Invoice(10, level_id=1, last_notice_date=DUE)])
    assert notice.level is L2
    assert notice.fee_amount == D("1.50")
    assert notice.fee_credited == D("0")


def test_crediting_in_a_foreign_currency_uses_the_converted_amounts():
    invoice = Invoice(10, lump_sum_charged=True, **AT_3)
    big = LevelConfig(L4.level, fee_amount=D("50.00"), b2b_flat_fee=True)
    notice = run(
        [item(10, "100.00", currency="CHF")],
        [invoice],
        levels=[L1, L2, L3, big],
        rates={"CHF": D("0.9412")},
        precisions={"CHF": D("0.05")},
    )
    # fee 47.05 (50 * 0.9412 = 47.06 -> 47.05), lump sum 37.65
    assert notice.fee_amount == D("9.40")
    assert notice.fee_credited == D("37.65")


def test_fee_documents_give_no_credit():
    fee_doc = Invoice(20, fee_document=True, lump_sum_charged=True, **AT_3)
    notice = run([item(20, "41.50")], [fee_doc])
    assert notice.fee_amount == D("1.50")
    assert notice.fee_credited == D("0")


# -- rule 3: § 289 BGB, no interest and no lump sum on charges ---------------


def test_dunned_fee_document_gets_neither_interest_nor_lump_sum():
    fee_doc = Invoice(20, fee_document=True, **AT_2)
    notice = run([item(20, "41.50")], [fee_doc])
    assert notice.level is L3
    line = notice.lines[0]
    assert line.fee_document
    assert line.escalated
    assert line.interest_amount == D("0")
    assert line.interest_segments == ()
    assert line.lump_sum == D("0")
    assert notice.interest_amount == D("0")
    assert notice.lump_sum_amount == D("0")
    assert notice.amount_open == D("41.50")


def test_fee_document_next_to_an_invoice_only_the_invoice_bears_interest():
    invoices = [Invoice(10, **AT_2), Invoice(20, fee_document=True, **AT_2)]
    notice = run([item(10, "1000.00"), item(20, "41.50")], invoices)
    lines = {line.move_id: line for line in notice.lines}
    assert lines[10].interest_amount == D("26.86")
    assert lines[10].lump_sum == D("40.00")
    assert lines[20].interest_amount == D("0")
    assert lines[20].lump_sum == D("0")
    assert notice.interest_amount == D("26.86")
    assert notice.lump_sum_amount == D("40.00")


# -- rule 1: the whole claim -------------------------------------------------


def test_instalments_give_one_row_each_with_their_own_interest():
    first, second = date(2025, 5, 15), date(2025, 6, 15)
    invoice = Invoice(10, interest_until=date(2025, 7, 31), **AT_2)
    notice = run([item(10, "500.00", first), item(10, "300.00", second)], [invoice])
    line = notice.lines[0]
    assert [(i.due_date, i.amount_open) for i in line.instalments] == [
        (first, D("500.00")),
        (second, D("300.00")),
    ]
    assert all(i.interest_segments for i in line.instalments)
    # both since the last charge: 14 days each, told apart by their due dates
    assert describe_instalments(line.instalments) == (
        "Rate fällig 15.05.2025: 14 Tage zu 10,27 %; Rate fällig 15.06.2025: 14 Tage zu 10,27 %"
    )
    assert describe_instalments(line.instalments, "en_US") == (
        "instalment due 2025-05-15: 14 days at 10.27 %; "
        "instalment due 2025-06-15: 14 days at 10.27 %"
    )
    claim = claim_of(notice)
    rows = [(r.section, r.kind, r.amount, r.due_date) for r in claim.rows]
    assert rows[:2] == [
        ("principal", "invoice", D("500.00"), first),
        ("principal", "invoice", D("300.00"), second),
    ]
    assert claim.total == notice.amount_total_due


def test_one_instalment_detail_has_no_due_date():
    notice = run([item(10, "1000.00")], [Invoice(10, **AT_2)])
    assert describe_instalments(notice.lines[0].instalments) == (
        "46 Tage zu 11,27 %, 45 Tage zu 10,27 %"
    )


def test_not_yet_due_instalments_are_not_claimed():
    invoice = Invoice(10, **AT_2)
    notice = run([item(10, "500.00"), item(10, "300.00", TODAY + timedelta(days=30))], [invoice])
    assert notice.amount_open == D("500.00")
    assert claim_of(notice).section_total("principal") == D("500.00")


def test_earlier_fee_documents_credits_and_payments_are_in_the_claim():
    invoices = [
        Invoice(10, **AT_2),
        Invoice(20, fee_document=True, excluded=True),  # not dunned (setting), still open
        Invoice(21, fee_document=True),  # not yet due, still open
        Invoice(22, fee_document=True, handed_over=True),  # with the agency: not claimed
        Invoice(23, fee_document=True, paused_until=TODAY),  # disputed: not claimed
    ]
    items = [
        item(10, "1000.00"),
        item(20, "6.72", date(2025, 6, 1)),
        item(21, "46.32", TODAY + timedelta(days=3)),
        item(22, "9.99"),
        item(23, "8.88"),
        item(30, "-100.00", None, "out_refund"),
        item(31, "-20.00", date(2025, 8, 1), "entry"),
    ]
    notice = run(items, invoices)
    assert notice.amount_earlier_charges == D("53.04")
    assert [i.move_id for i in notice.earlier_charges] == [20, 21]
    assert notice.amount_credits == D("120.00")
    # 1000 + 53.04 + 40 (lump sum; the fee is credited) + 26.86 - 120
    assert notice.amount_total_due == D("999.90")
    claim = claim_of(notice)
    assert [(r.section, r.kind, r.move_id, r.amount) for r in claim.rows] == [
        ("principal", "invoice", 10, D("1000.00")),
        ("earlier_charges", "fee_document", 20, D("6.72")),
        ("earlier_charges", "fee_document", 21, D("46.32")),
        ("new_charges", "lump_sum", 10, D("40.00")),
        ("new_charges", "interest", 10, D("26.86")),
        ("credits", "credit_note", 30, D("-100.00")),
        ("credits", "payment", 31, D("-20.00")),
    ]
    assert claim.total == notice.amount_total_due
    assert claim.fee_credited == D("1.50")


def test_dunned_fee_document_is_an_earlier_charge_not_principal():
    invoices = [Invoice(10, **AT_2), Invoice(20, fee_document=True, **AT_2)]
    notice = run([item(10, "100.00"), item(20, "41.50")], invoices, customer=CONSUMER)
    assert notice.earlier_charges == ()  # on the notice as a line
    claim = claim_of(notice)
    assert claim.section_total("principal") == D("100.00")
    assert claim.section_total("earlier_charges") == D("41.50")
    assert [r.kind for r in claim.rows if r.section == "new_charges"] == ["fee", "interest"]
    assert claim.total == notice.amount_total_due


def test_other_currency_items_stay_out_of_the_claim():
    invoices = [Invoice(10, **AT_2), Invoice(20, fee_document=True)]
    items = [
        item(10, "100.00"),
        item(20, "5.00", currency="USD"),
        item(30, "-7.00", None, "out_refund", "USD"),
    ]
    notice = run(items, invoices, customer=CONSUMER)
    assert notice.earlier_charges == ()
    assert notice.credits == ()


def test_claim_total_equals_notice_total_for_random_books():
    rng = random.Random(13)
    for _round in range(200):
        invoices, items = [], []
        for move_id in range(10, 10 + rng.randint(1, 4)):
            invoices.append(
                Invoice(
                    move_id,
                    lump_sum_charged=rng.random() < 0.3,
                    fee_document=rng.random() < 0.3,
                    **rng.choice([AT_2, AT_3, {}]),
                )
            )
            for _n in range(rng.randint(1, 3)):
                due = DUE + timedelta(days=rng.randint(-60, 120))
                cents = rng.randint(1, 200000)
                items.append(item(move_id, D(cents) / 100, due))
        for move_id in range(90, 90 + rng.randint(0, 2)):
            items.append(item(move_id, -D(rng.randint(1, 5000)) / 100, None, "entry"))
        customer = rng.choice([CONSUMER, BUSINESS])
        settings = Settings(today=TODAY, base_rates=GERMAN_BASE_RATES)
        plan = plan_customer(customer, items, {i.move_id: i for i in invoices}, LEVELS, settings)
        for notice in plan.notices:
            claim = claim_of(notice)
            assert claim.total == notice.amount_total_due
            assert notice.fee_amount + notice.fee_credited == D("1.50") or notice.level is L1
            assert notice.fee_amount >= 0
            for line in notice.lines:
                if line.fee_document:
                    assert line.interest_amount == 0
                    assert line.lump_sum == 0
            # the stored form gives the same claim
            data = json.loads(json.dumps(claim.to_data()))
            assert Claim.from_data(data).total == claim.total


def test_stored_claim_round_trips():
    notice = run([item(10, "500.00"), item(10, "300.00", date(2025, 6, 15))], [Invoice(10, **AT_2)])
    claim = claim_of(notice)
    again = Claim.from_data(json.loads(json.dumps(claim.to_data())))
    assert [(r.section, r.kind, r.amount, r.move_id, r.due_date) for r in again.rows] == [
        (r.section, r.kind, r.amount, r.move_id, r.due_date) for r in claim.rows
    ]
    interest = [r for r in again.rows if r.kind == "interest"][0]
    original = [r for r in claim.rows if r.kind == "interest"][0]
    assert describe_instalments(interest.instalments) == describe_instalments(original.instalments)
    assert again.fee_credited == claim.fee_credited
    assert Claim.from_data(None).rows == ()
    assert Claim.from_data({}).total == D("0")


def test_claim_context_rows_sections_and_totals():
    claim = Claim(
        rows=(
            ClaimRow("principal", "invoice", D("100.00"), 10, DUE),
            ClaimRow("new_charges", "fee", D("1.50")),
            ClaimRow(
                "new_charges",
                "interest",
                D("2.00"),
                10,
                instalments=(InstalmentPlan(DUE, D("100.00"), (Period(14, D("10.27")),)),),
            ),
            ClaimRow("credits", "payment", D("-20.00"), 30),
        ),
        fee_credited=D("0"),
    )
    context = claim_context(
        claim, {10: "RE/1", 30: "BNK/7"}, "de_DE", kind_labels={"invoice": "Rechnung"}
    )
    assert context["total"] == D("83.50")
    assert context["principal"] == D("100.00")
    assert context["earlier_charges"] == D("0")
    assert context["new_charges"] == D("3.50")
    assert context["credits"] == D("-20.00")
    assert [s["key"] for s in context["sections"]] == ["principal", "new_charges", "credits"]
    assert context["sections"][1]["total"] == D("3.50")
    first, fee, interest, payment = context["rows"]
    assert first == {
        "section": "principal",
        "kind": "invoice",
        "label": "Rechnung",
        "document": "RE/1",
        "due_date": DUE,
        "amount": D("100.00"),
        "detail": "",
    }
    assert fee["document"] == ""
    assert fee["label"] == "Dunning fee"
    assert interest["detail"] == "14 Tage zu 10,27 %"
    assert payment["document"] == "BNK/7"


@pytest.mark.parametrize("customer", [CONSUMER, BUSINESS])
def test_a_reminder_without_charges_claims_principal_less_credits(customer):
    notice = run(
        [item(10, "100.00"), item(30, "-30.00", None, "entry")],
        [Invoice(10)],
        customer=customer,
        today=DUE + timedelta(days=7),
    )
    claim = claim_of(notice)
    assert [r.section for r in claim.rows] == ["principal", "credits"]
    assert claim.total == D("70.00") == notice.amount_total_due


def test_earlier_charges_and_credits_are_rounded_to_the_currency():
    invoices = [Invoice(10, **AT_2), Invoice(20, fee_document=True, excluded=True)]
    items = [
        item(10, "100.00"),
        item(20, "6.7199999999"),
        item(30, "-30.0000000001", None, "entry"),
    ]
    notice = run(items, invoices, customer=CONSUMER)
    assert [i.residual for i in notice.earlier_charges] == [D("6.72")]
    assert [i.residual for i in notice.credits] == [D("-30.00")]
    assert claim_of(notice).total == notice.amount_total_due
    assert [r.due_date for r in claim_of(notice).rows if r.section == "credits"] == [None]


def test_returned_debit_charge_is_a_new_charge_of_the_claim():
    notice = run(
        [item(10, "100.00")],
        [Invoice(10, **AT_2, returns_pending=1)],
        customer=CONSUMER,
        return_charge=D("3.00"),
    )
    claim = claim_of(notice)
    rows = [row for row in claim.rows if row.kind == "return_charge"]
    assert [(row.section, row.amount, row.move_id) for row in rows] == [
        ("new_charges", D("3.00"), 10)
    ]
    assert claim.total == notice.amount_total_due
    context = claim_context(Claim.from_data(json.loads(json.dumps(claim.to_data()))), {10: "RE/1"})
    assert any(row["kind"] == "return_charge" for row in context["rows"])
    assert context["total"] == notice.amount_total_due
