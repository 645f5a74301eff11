"""What a notice's pay link shows and collects: the notice's documents as
they stand now, the customer's open credits netted against them, and
whether a link is still good.

Plain data only: the Odoo layer passes the documents of a notice (its
invoices and fee documents) with their residual amounts today, and the
customer's open credits (credit notes and payments not yet allocated) in the
notice's currency.

Netting credits (:func:`net_credits`), as the notice's claim statement
does: every open credit of the customer in the notice's currency is netted,
whatever document it came from, the oldest first (by its date, then in the
order booked). The amount to pay is what the documents leave open after the
credits, never below zero. When the credits cover the documents, nothing is
payable: the last credit netted is used only in part and the rest of the
credits stays with the customer (``credit_left``).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .money import CENT, round_money, to_decimal

# A notice that was cancelled, or never went out, has no pay link.
PAYABLE_STATES = frozenset({"to_send", "sent", "to_print", "printed", "error"})

PAY_PATH = "/dunning/pay"


@dataclass(frozen=True)
class Document:
    """One document of a notice: an invoice or a fee document."""

    id: int
    number: str
    kind: str  # "invoice" or "fee"
    residual: Decimal
    posted: bool = True


def open_documents(documents, rounding=CENT):
    """The documents still to pay, in the given order, each once: posted,
    with a residual above zero at the currency's rounding (a step
    such as 0.01)."""
    seen = set()
    result = []
    for document in documents:
        if document.id in seen:
            continue
        seen.add(document.id)
        if document.posted and round_money(document.residual, rounding) > 0:
            result.append(document)
    return result


def total_open(documents, rounding=CENT):
    """The sum of the residuals of ``documents``, rounded once."""
    return round_money(sum((d.residual for d in documents), Decimal("0")), rounding)


@dataclass(frozen=True)
class Credit:
    """An open credit of the customer: a credit note or a payment not yet
    allocated. ``amount`` is what it still credits (a positive amount)."""

    id: int
    number: str
    kind: str  # "credit_note" or "payment"
    amount: Decimal
    date: date | None = None
    posted: bool = True


@dataclass(frozen=True)
class Netted:
    """A credit and the part of it netted against the documents."""

    credit: Credit
    amount: Decimal


@dataclass(frozen=True)
class Netting:
    """The documents open now with the credits netted against them."""

    documents: tuple  # Document still open, in the given order
    credits: tuple  # Netted, oldest credit first
    amount_open: Decimal  # what the documents leave open
    amount_credits: Decimal  # the credits netted (positive)
    amount_due: Decimal  # what is left to pay, never below zero
    credit_left: Decimal  # credits beyond the open amount, not netted

    @property
    def covered(self):
        """The credits cover everything open: nothing to pay, though
        documents are open."""
        return bool(self.documents) and self.amount_due <= 0


def open_credits(credits, rounding=CENT):
    """The credits to net, each once, the oldest first (by date, a credit
    without a date last, then by id, the order booked): posted, with an
    amount above zero at the currency's rounding."""
    seen = set()
    result = []
    for credit in credits:
        if credit.id in seen:
            continue
        seen.add(credit.id)
        if to_decimal(credit.amount) < 0:
            raise ValueError(f"credit {credit.number or credit.id} has a negative amount")
        if credit.posted and round_money(credit.amount, rounding) > 0:
            result.append(credit)
    return sorted(result, key=lambda c: (c.date is None, c.date or date.min, c.id))


def net_credits(documents, credits, rounding=CENT):
    """Net the customer's open ``credits`` against the notice's open
    ``documents`` (see the module text).

    :param documents: the notice's :class:`Document`, in the notice's order
    :param credits: the customer's :class:`Credit` in the notice's currency
    :returns: :class:`Netting`
    """
    still_open = open_documents(documents, rounding)
    amount_open = total_open(still_open, rounding)
    remaining = amount_open
    netted = []
    left = Decimal("0")
    for credit in open_credits(credits, rounding):
        amount = round_money(credit.amount, rounding)
        use = min(amount, remaining)
        if use > 0:
            netted.append(Netted(credit, use))
            remaining -= use
        left += amount - use
    amount_credits = sum((n.amount for n in netted), Decimal("0"))
    return Netting(
        documents=tuple(still_open),
        credits=tuple(netted),
        amount_open=amount_open,
        amount_credits=amount_credits,
        amount_due=amount_open - amount_credits,
        credit_left=left,
    )


def link_valid(state, expected_token, given_token):
    """Whether a pay link opens: the notice is payable and the token given
    is the notice's, compared in constant time. An empty token never
    matches."""
    if state not in PAYABLE_STATES or not expected_token or not given_token:
        return False
    return hmac.compare_digest(str(expected_token).encode(), str(given_token).encode())


# The letter's short pay link: /mp/<notice id>/<first 16 hex digits of the
# token>. A version 4 UUID's first 16 hex digits hold 60 random bits: far
# beyond guessing over HTTP, and short enough to type from paper.
SHORT_PAY_PATH = "/mp"
SHORT_TOKEN_LENGTH = 16


def short_token(token):
    """The part of a notice's access token its short pay link carries."""
    return str(token or "").replace("-", "").lower()[:SHORT_TOKEN_LENGTH]


def short_link_valid(state, expected_token, given_short):
    """Whether a short pay link opens: the notice is payable and the short
    token given is that of the notice's token, compared in constant time."""
    expected = short_token(expected_token)
    if state not in PAYABLE_STATES or len(expected) < SHORT_TOKEN_LENGTH or not given_short:
        return False
    return hmac.compare_digest(expected.encode(), str(given_short).lower().encode())


def short_pay_url(base_url, notice_id, token):
    """The short pay link of a letter, or '' when the notice has no token."""
    if not token:
        return ""
    return f"{base_url.rstrip('/')}{SHORT_PAY_PATH}/{int(notice_id)}/{short_token(token)}"


def pay_path(notice_id, token):
    """The path of a notice's pay page (short enough for a letter)."""
    return f"{PAY_PATH}/{int(notice_id)}/{token}"


def pay_url(base_url, notice_id, token):
    """The absolute pay link, or '' when the notice has no token yet."""
    if not token:
        return ""
    return base_url.rstrip("/") + pay_path(notice_id, token)
