"""The claim statement (Forderungsaufstellung) of a notice.

A notice states the customer's whole claim in its currency, so that the
amount it demands is what the customer's account shows for the items it
lists, to the cent:

1. ``principal``: one row per overdue instalment of each dunned invoice
   (an invoice without instalments has one), with its open amount;
2. ``earlier_charges``: the open fee documents of earlier notices (their
   fees, lump sums and interest), one row per document; a fee document that
   is dunned itself (company setting) is listed here, not as principal;
3. ``new_charges``: this notice's dunning fee (after crediting the lump
   sums, § 288 (5) S. 3 BGB), the lump sum, a returned direct debit's
   charge and the interest of each invoice;
4. ``credits``: open credit notes and payments not yet allocated, netted
   (negative amounts).

The total is the sum of all rows and equals ``NoticePlan.amount_total_due``.
A claim is stored with its notice as plain data (:meth:`Claim.to_data`) and
turned into what a template sees by :func:`claim_context`.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .money import to_decimal
from .planning import InstalmentPlan, describe_instalments

SECTIONS = ("principal", "earlier_charges", "new_charges", "credits")

# English defaults; the Odoo layer passes them translated.
SECTION_TITLES = {
    "principal": "Invoices",
    "earlier_charges": "Earlier dunning charges still open",
    "new_charges": "Charges of this notice",
    "credits": "Credits and payments",
}
KIND_LABELS = {
    "invoice": "Invoice",
    "fee_document": "Dunning charges",
    "fee": "Dunning fee",
    "lump_sum": "Lump sum (§ 288 (5) BGB)",
    "interest": "Default interest",
    "return_charge": "Returned direct debit charge",
    "credit_note": "Credit note",
    "payment": "Payment",
}


@dataclass(frozen=True)
class Period:
    """Days at an annual rate, as an interest segment."""

    days: int
    rate: Decimal


@dataclass(frozen=True)
class ClaimRow:
    section: str
    kind: str
    amount: Decimal
    move_id: int | None = None  # the document; None for this notice's fee
    due_date: date | None = None
    instalments: tuple = ()  # interest rows: InstalmentPlan with Period segments

    def to_data(self):
        return {
            "section": self.section,
            "kind": self.kind,
            "amount": str(self.amount),
            "move_id": self.move_id,
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "instalments": [
                {
                    "due_date": i.due_date.isoformat(),
                    "amount_open": str(i.amount_open),
                    "segments": [[s.days, str(s.rate)] for s in i.interest_segments],
                }
                for i in self.instalments
            ],
        }

    @classmethod
    def from_data(cls, data):
        return cls(
            section=data["section"],
            kind=data["kind"],
            amount=to_decimal(data["amount"]),
            move_id=data.get("move_id"),
            due_date=date.fromisoformat(data["due_date"]) if data.get("due_date") else None,
            instalments=tuple(
                InstalmentPlan(
                    due_date=date.fromisoformat(i["due_date"]),
                    amount_open=to_decimal(i["amount_open"]),
                    interest_segments=tuple(
                        Period(int(days), to_decimal(rate)) for days, rate in i["segments"]
                    ),
                )
                for i in data.get("instalments", ())
            ),
        )


@dataclass(frozen=True)
class Claim:
    rows: tuple
    fee_credited: Decimal = Decimal("0")

    def section_total(self, section):
        return sum((row.amount for row in self.rows if row.section == section), Decimal("0"))

    @property
    def total(self):
        return sum((row.amount for row in self.rows), Decimal("0"))

    def to_data(self):
        return {
            "rows": [row.to_data() for row in self.rows],
            "fee_credited": str(self.fee_credited),
        }

    @classmethod
    def from_data(cls, data):
        if not data:
            return cls(rows=())
        return cls(
            rows=tuple(ClaimRow.from_data(row) for row in data.get("rows", ())),
            fee_credited=to_decimal(data.get("fee_credited")),
        )


def _periods(segments):
    return tuple(Period(segment.days, to_decimal(segment.rate)) for segment in segments)


def claim_of(notice):
    """The claim of a :class:`planning.NoticePlan`."""
    principal, earlier, new = [], [], []
    for line in notice.lines:
        if line.fee_document:
            earlier.append(
                ClaimRow("earlier_charges", "fee_document", line.amount_open, line.move_id)
            )
            continue
        instalments = line.instalments or (InstalmentPlan(line.due_date, line.amount_open),)
        for instalment in instalments:
            principal.append(
                ClaimRow(
                    "principal",
                    "invoice",
                    instalment.amount_open,
                    line.move_id,
                    instalment.due_date,
                )
            )
    for item in sorted(notice.earlier_charges, key=lambda i: (i.due_date or date.min, i.move_id)):
        earlier.append(
            ClaimRow("earlier_charges", "fee_document", item.residual, item.move_id, item.due_date)
        )
    if notice.fee_amount:
        new.append(ClaimRow("new_charges", "fee", notice.fee_amount))
    for line in notice.lines:
        if line.lump_sum:
            new.append(ClaimRow("new_charges", "lump_sum", line.lump_sum, line.move_id))
    for line in notice.lines:
        if line.return_charge:
            new.append(ClaimRow("new_charges", "return_charge", line.return_charge, line.move_id))
    for line in notice.lines:
        if line.interest_amount:
            new.append(
                ClaimRow(
                    "new_charges",
                    "interest",
                    line.interest_amount,
                    line.move_id,
                    instalments=tuple(
                        InstalmentPlan(i.due_date, i.amount_open, _periods(i.interest_segments))
                        for i in line.instalments
                        if i.interest_segments
                    ),
                )
            )
    credits = [
        ClaimRow(
            "credits",
            "credit_note" if item.move_type == "out_refund" else "payment",
            item.residual,
            item.move_id,
        )
        for item in sorted(notice.credits, key=lambda i: (i.due_date or date.min, i.move_id))
    ]
    return Claim(rows=tuple(principal + earlier + new + credits), fee_credited=notice.fee_credited)


def claim_context(claim, documents, lang="de", section_titles=None, kind_labels=None):
    """What a template sees as ``claim``.

    :param documents: ``{move_id: document number}``
    :param lang: language of the interest details
    :returns: ``{rows, sections, principal, earlier_charges, new_charges,
        credits, total, fee_credited}``; every row is ``{section, kind, label,
        document, due_date, amount, detail}``; ``sections`` holds the
        non-empty sections in order as ``{key, title, rows, total}``
    """
    titles = {**SECTION_TITLES, **(section_titles or {})}
    labels = {**KIND_LABELS, **(kind_labels or {})}
    rows = [
        {
            "section": row.section,
            "kind": row.kind,
            "label": labels[row.kind],
            "document": documents.get(row.move_id, "") if row.move_id else "",
            "due_date": row.due_date,
            "amount": row.amount,
            "detail": describe_instalments(row.instalments, lang) if row.instalments else "",
        }
        for row in claim.rows
    ]
    sections = [
        {
            "key": key,
            "title": titles[key],
            "rows": [row for row in rows if row["section"] == key],
            "total": claim.section_total(key),
        }
        for key in SECTIONS
        if any(row.section == key for row in claim.rows)
    ]
    result = {key: claim.section_total(key) for key in SECTIONS}
    result.update(
        {
            "rows": rows,
            "sections": sections,
            "total": claim.total,
            "fee_credited": claim.fee_credited,
        }
    )
    return result
