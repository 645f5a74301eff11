"""Allocation of a payment to a notice's open items (§ 366, § 367 BGB).

§ 367 (1) BGB: a payment that does not cover everything owed goes first to
the costs, then to the interest and last to the principal. Within each kind
the older item comes first (§ 366 (2): the debt falling due first). A payment
that names a document (its number in the reference) pays that document first
(§ 366 (1): the debtor's choice); the rest follows the statutory order.

How this maps onto Odoo's bookings: Odoo reconciles per receivable line, and
a notice's fees, lump sums and interest are lines of ONE fee document with ONE
receivable line. The Odoo layer therefore describes a fee document by two
items with the same ``key`` (its receivable line): its open costs (fees and
lump sums) and its open interest (see ``split_fee_document``). Items sharing a
key are served together, at the place of their first part in the statutory
order, so that every receivable line receives one contiguous amount that a
pairwise reconciliation in this order books exactly:

- a notice with one fee document (the normal case): exactly § 367 — its costs,
  then its interest, then the principal, oldest invoice first;
- a notice that also lists an earlier fee document (dunning of fee documents
  switched on): the older document is served in full (its costs, then its
  interest) before the newer one's costs. Costs and interest still always
  come before any principal.

The split of a fee document's amount into costs and interest is reported,
it is not a booking of its own.

Amounts are Decimals rounded to the currency's precision. A payment smaller
than the open items leaves the rest open; a payment larger than them leaves
the surplus unallocated (``AllocationResult.surplus``).
"""

import re
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .money import CENT, round_money, to_decimal

COSTS = "costs"
INTEREST = "interest"
PRINCIPAL = "principal"
KIND_ORDER = {COSTS: 0, INTEREST: 1, PRINCIPAL: 2}


@dataclass(frozen=True)
class OpenItem:
    """One open amount of a notice.

    ``key`` identifies what is reconciled (a receivable line); ``kind`` is
    costs, interest or principal; ``date`` the due date (or document date)
    that decides which item is older; ``document`` the number a payment may
    name, e.g. an invoice number.
    """

    key: Hashable
    kind: str
    date: date
    amount: Decimal
    document: str = ""

    def __post_init__(self):
        if self.kind not in KIND_ORDER:
            raise ValueError(f"unknown kind of item: {self.kind!r}")
        if not isinstance(self.date, date):
            raise TypeError(f"item {self.key!r} needs a date")
        if to_decimal(self.amount) < 0:
            raise ValueError(f"item {self.key!r} has a negative open amount")


@dataclass(frozen=True)
class Allocation:
    item: OpenItem
    amount: Decimal

    @property
    def settled(self):
        return self.amount == self.item.amount


@dataclass(frozen=True)
class AllocationResult:
    payment: Decimal
    allocations: tuple = field(default_factory=tuple)
    surplus: Decimal = Decimal(0)

    @property
    def allocated(self):
        return sum((a.amount for a in self.allocations), Decimal(0))

    def per_key(self):
        """[(key, amount)] in the order to reconcile: each key once, with
        the total of its parts, keys without an amount left out."""
        totals = {}
        for allocation in self.allocations:
            totals[allocation.item.key] = totals.get(allocation.item.key, 0) + allocation.amount
        return [(key, amount) for key, amount in totals.items() if amount]

    def by_kind(self):
        """{kind: amount} of costs, interest and principal (the report)."""
        totals = dict.fromkeys(KIND_ORDER, Decimal(0))
        for allocation in self.allocations:
            totals[allocation.item.kind] += allocation.amount
        return totals


def split_fee_document(open_amount, costs, interest, precision=CENT):
    """(open costs, open interest) of a fee document with ``open_amount``
    left of its ``costs`` (fees and lump sums) and ``interest``.

    What was paid already went to the costs first (§ 367), so the interest
    is what is open at most; the rest of the open amount is costs. A
    document reduced below its interest (a partial credit note) keeps
    only interest open.
    """
    open_amount = round_money(open_amount, precision)
    costs = round_money(costs, precision)
    interest = round_money(interest, precision)
    if open_amount < 0 or costs < 0 or interest < 0:
        raise ValueError("a fee document's amounts cannot be negative")
    open_interest = min(interest, open_amount)
    return open_amount - open_interest, open_interest


def statutory_order(items, named=()):
    """The items in the order a payment serves them (see the module text)."""
    named_set = {_normalize(name) for name in named if name}

    def rank(item):
        return (KIND_ORDER[item.kind], item.date, _sort_key(item.key))

    ordered = sorted(items, key=rank)
    ordered = [i for i in ordered if _is_named(i, named_set)] + [
        i for i in ordered if not _is_named(i, named_set)
    ]
    # Parts of one key (one receivable line) together, at their first place.
    groups = {}
    for item in ordered:
        groups.setdefault(item.key, []).append(item)
    return [item for group in groups.values() for item in group]


def allocate(payment, items, named=(), precision=CENT):
    """Allocate ``payment`` to ``items`` per § 366/367 BGB.

    ``named``: document numbers the payment names; those documents are paid
    first. Returns an AllocationResult with one Allocation per item that
    receives something, in the order served, and the surplus.
    """
    payment = round_money(payment, precision)
    if payment < 0:
        raise ValueError("a payment to allocate cannot be negative")
    seen = set()
    for item in items:
        if (item.key, item.kind) in seen:
            raise ValueError(f"item {item.key!r} is listed twice as {item.kind}")
        seen.add((item.key, item.kind))
    remaining = payment
    allocations = []
    for item in statutory_order(items, named):
        open_amount = round_money(item.amount, precision)
        if remaining <= 0:
            break
        if open_amount <= 0:
            continue
        amount = min(remaining, open_amount)
        allocations.append(Allocation(item, amount))
        remaining -= amount
    return AllocationResult(payment=payment, allocations=tuple(allocations), surplus=remaining)


_SEPARATORS = re.compile(r"[\s,;:()\[\]{}<>\"'|+*]+")


def reference_tokens(text):
    """The words of a payment reference that may be document numbers,
    upper case, in order, each once (``"Mahnung ma/2026/000001."`` gives
    ``["MAHNUNG", "MA/2026/000001"]``)."""
    tokens = []
    for word in _SEPARATORS.split(text or ""):
        token = _normalize(word.strip(".-_#"))
        if token and token not in tokens:
            tokens.append(token)
    return tokens


def named_documents(text, documents):
    """Those of ``documents`` (numbers) that ``text`` quotes, in the order
    of ``documents``."""
    tokens = set(reference_tokens(text))
    return [doc for doc in documents if doc and _normalize(doc) in tokens]


def _is_named(item, named_set):
    return bool(item.document) and _normalize(item.document) in named_set


def _normalize(text):
    return (text or "").strip().upper()


def _sort_key(key):
    # Keys of one kind (ids) compare; mixed keys fall back to their text.
    return (0, key, "") if isinstance(key, int) else (1, 0, str(key))
