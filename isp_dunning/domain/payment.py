"""What a notice's pay link shows and collects: the notice's documents as
they stand now, and whether a link is still good.

Plain data only: the Odoo layer passes the documents of a notice (its
invoices and fee documents) with their residual amounts today.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from decimal import Decimal

from .money import CENT, round_money

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


def link_valid(state, expected_token, given_token):
    """Whether a pay link opens: the notice is payable and the token given
    is the notice's, compared in constant time. An empty token never
    matches."""
    if state not in PAYABLE_STATES or not expected_token or not given_token:
        return False
    return hmac.compare_digest(str(expected_token).encode(), str(given_token).encode())


def pay_path(notice_id, token):
    """The path of a notice's pay page (short enough for a letter)."""
    return f"{PAY_PATH}/{int(notice_id)}/{token}"


def pay_url(base_url, notice_id, token):
    """The absolute pay link, or '' when the notice has no token yet."""
    if not token:
        return ""
    return base_url.rstrip("/") + pay_path(notice_id, token)
