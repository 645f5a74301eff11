"""The review of a dunning proposal (Mahnvorschlag): what the reviewers
decided for a proposed notice, applied to what the core plans.

A proposal is planned like an automatic run (``planning.plan_customer``).
The reviewers' decisions per notice (one per customer and currency) are a
:class:`Decision`; :func:`plan_reviewed` plans the customer again with them,
so that a release books exactly what the automatic run books, less what the
review took away:

* ``excluded_move_ids``: invoices removed from the notice: they are neither
  listed nor escalated, nothing of theirs changes;
* ``removed``: the whole notice is removed: nothing is booked for it;
* ``level_id``: the notice goes out at this lower level at most. An invoice
  due for a higher level is dunned at this level (its level is set to it
  again, the next escalation counts from this notice); an invoice already
  above it is only listed as still open. The notice's fee, lump sum rule
  and interest are those of the level it goes out at;
* ``waive_fee``: the notice charges no fee (the § 288 (5) S. 3 BGB credit
  stays as it is);
* ``waive_interest``: the notice charges no interest, and the days it would
  have charged are forgiven (the invoices' interest-charged-until date moves
  on as if charged).

Plain Python, no Odoo import.
"""

from dataclasses import dataclass, replace
from decimal import Decimal

from . import escalation, planning


@dataclass(frozen=True)
class Decision:
    """The reviewers' decisions for one proposed notice."""

    excluded_move_ids: frozenset = frozenset()
    level_id: object = None  # the notice's level at most (a level of the ladder)
    waive_fee: bool = False
    waive_interest: bool = False
    removed: bool = False

    @property
    def is_neutral(self):
        return self == Decision()


@dataclass(frozen=True)
class Waived:
    """What a reviewed notice does not charge because of the review."""

    fee: Decimal = Decimal("0")
    interest: Decimal = Decimal("0")


def waive(notice, decision):
    """The notice without the fee and/or interest the decision waives, and
    the :class:`Waived` amounts."""
    fee = Decimal("0")
    interest = Decimal("0")
    if decision.waive_fee and notice.fee_amount:
        fee = notice.fee_amount
        notice = replace(notice, fee_amount=Decimal("0"))
    if decision.waive_interest and notice.interest_amount:
        interest = notice.interest_amount
        lines = tuple(
            replace(
                line,
                interest_amount=Decimal("0"),
                interest_segments=(),
                instalments=tuple(replace(i, interest_segments=()) for i in line.instalments),
            )
            for line in notice.lines
        )
        notice = replace(notice, lines=lines, interest_amount=Decimal("0"))
    return notice, Waived(fee=fee, interest=interest)


def _config(levels, level_id):
    for config in levels:
        if config.id == level_id:
            return config
    raise ValueError(f"The level {level_id!r} is not part of the ladder")


def _capped_inputs(invoices, levels, cap, escalated, today):
    """The ladder up to the cap and the invoices as the capped planning sees
    them: an invoice that the uncapped plan escalates beyond the cap and
    that is at the cap or below it is due for the cap; one above the cap
    (and any other one at it) waits."""
    ordered = sorted(levels, key=lambda c: c.sort_key)
    ladder = [c for c in ordered if c.sort_key <= cap.sort_key]
    before_cap = ladder[-2].id if len(ladder) > 1 else None
    allowed = {c.id for c in ladder}
    rank = {c.id: c.sort_key for c in ordered}
    changed = {}
    for move_id, invoice in invoices.items():
        level_id = invoice.level_id
        if level_id is None:
            continue
        above = rank.get(level_id, cap.sort_key) > cap.sort_key
        if move_id in escalated and not above and escalated[move_id] not in allowed:
            # Due for a level beyond the cap: dunned at the cap.
            changed[move_id] = replace(invoice, level_id=before_cap, last_notice_date=None)
        elif level_id not in allowed or level_id == cap.id:
            # Above the cap, or at it without being due: listed only.
            changed[move_id] = replace(invoice, level_id=cap.id, last_notice_date=today)
    return ladder, {**invoices, **changed}


def _plan_currency(customer, items, invoices, levels, settings, decision):
    """The reviewed plan of one currency's items."""
    invoices = {
        move_id: replace(inv, excluded=True) if move_id in decision.excluded_move_ids else inv
        for move_id, inv in invoices.items()
    }
    plan = planning.plan_customer(customer, items, invoices, levels, settings)
    if decision.level_id is None or not plan.notices:
        return plan
    cap = _config(levels, decision.level_id)
    if plan.notices[0].level.sort_key <= cap.sort_key:
        return plan
    escalated = {
        line.move_id: line.new_level_id for line in plan.notices[0].lines if line.escalated
    }
    capped_levels, capped_invoices = _capped_inputs(
        invoices, levels, cap, escalated, settings.today
    )
    capped = planning.plan_customer(customer, items, capped_invoices, capped_levels, settings)
    # The lines' levels and the next dates as the whole ladder has them.
    ladder = [c.level for c in levels]
    notices = []
    for notice in capped.notices:
        lines = tuple(
            line if line.escalated else replace(line, new_level_id=invoices[line.move_id].level_id)
            for line in notice.lines
        )
        notices.append(replace(notice, lines=lines))
    next_dates = {}
    due_dates = {line.move_id: line.due_date for n in plan.notices for line in n.lines}
    on_notice = {line.move_id: line for n in notices for line in n.lines}
    for move_id in capped.next_dates:
        invoice = invoices[move_id]
        line = on_notice.get(move_id)
        if line is not None and line.escalated:
            next_dates[move_id] = escalation.next_date(
                ladder, line.new_level_id, line.due_date, settings.today
            )
        elif move_id in due_dates:
            next_dates[move_id] = escalation.next_date(
                ladder, invoice.level_id, due_dates[move_id], invoice.last_notice_date
            )
        else:
            next_dates[move_id] = plan.next_dates.get(move_id)
    return planning.CustomerPlan(
        notices=notices, next_dates=next_dates, skipped=list(capped.skipped)
    )


def plan_reviewed(customer, items, invoices, levels, settings, decisions):
    """Plan one customer as the automatic run does, with the review applied.

    :param decisions: ``{currency: Decision}`` of the notices to book;
        currencies without a decision (not proposed, or not released now)
        get nothing: no notice and no change of their invoices
    :returns: ``(planning.CustomerPlan, {currency: Waived})``
    """
    result = planning.CustomerPlan()
    waived = {}
    for currency, decision in decisions.items():
        if decision.removed:
            continue
        currency_items = [i for i in items if i.currency == currency]
        plan = _plan_currency(customer, currency_items, invoices, levels, settings, decision)
        for notice in plan.notices:
            notice, waived[currency] = waive(notice, decision)
            result.notices.append(notice)
        result.next_dates.update(plan.next_dates)
        result.skipped.extend(plan.skipped)
    return result, waived


def level_choices(levels, notice_level_id, current_level_ids):
    """The levels a reviewer may lower a notice to: below the notice's
    level and not below the highest level its invoices already have."""
    ordered = sorted(levels, key=lambda c: c.sort_key)
    rank = {c.id: c.sort_key for c in ordered}
    top = rank[notice_level_id]
    floor = max((rank[i] for i in current_level_ids if i in rank), default=None)
    return [c.id for c in ordered if c.sort_key < top and (floor is None or c.sort_key >= floor)]
