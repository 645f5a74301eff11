"""What the portal block reads: the invoices that keep a customer blocked
and the data of the § 61 TKG consumer guard, a fixed number of queries for
any number of customers. The rules themselves are in ``domain.portal_guard``."""

from collections import defaultdict

from odoo.tools import format_amount

from ..domain import portal_guard
from ..domain.escalation import is_business


def blocking_moves(partners, date):
    """Open invoices of these customers at or above the first blocking
    level of their company that are not paused on ``date``."""
    env = partners.env
    Move = env["account.move"].sudo()
    ladders = defaultdict(list)
    for level in env["isp.dunning.level"].sudo().search([("block_portal", "=", True)]):
        ladders[level.company_id.id].append((level.sequence, level.block_portal))
    first_blocking = {
        company_id: portal_guard.first_blocking_sequence(levels)
        for company_id, levels in ladders.items()
    }
    if not partners or not first_blocking:
        return Move
    moves = Move.search(
        [
            ("commercial_partner_id", "in", partners.ids),
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
            ("dunning_level_id", "!=", False),
            ("payment_state", "not in", ("paid", "in_payment", "reversed")),
            "|",
            ("dunning_blocked_until", "=", False),
            ("dunning_blocked_until", "<", date),
        ]
    )
    return moves.filtered(
        lambda m: portal_guard.keeps_blocked(
            level_sequence=m.dunning_level_id.sequence,
            first_blocking=first_blocking.get(m.dunning_level_id.company_id.id),
            paused_until=m.dunning_blocked_until or None,
            today=date,
            settled=m.currency_id.is_zero(m.amount_residual),
        )
    )


def block_guards(partners, company, date):
    """{partner id: why § 61 TKG forbids blocking that customer on ``date``}
    (empty when the block may go ahead; businesses are not protected), for
    all these customers with a fixed number of queries."""
    env = partners.env
    result = {partner.id: [] for partner in partners}
    if not company.dunning_consumer_guard:
        return result
    consumers = partners.filtered(lambda p: not is_business(p.is_company, p.vat))
    if not consumers:
        return result
    currency = company.currency_id
    threshold = company.dunning_block_threshold
    arrears = undisputed_arrears_by_partner(consumers, company, date)
    announced = announced_partner_ids(consumers, company, date)
    for partner in consumers:
        reasons = portal_guard.block_guard(
            guard_enabled=True,
            is_business=False,
            arrears=arrears[partner.id],
            threshold=currency.round(threshold),
            announced=partner.id in announced,
        )
        if portal_guard.BELOW_THRESHOLD in reasons:
            result[partner.id].append(
                env._(
                    "the undisputed arrears of %(arrears)s are below the threshold of "
                    "%(threshold)s",
                    arrears=format_amount(env, arrears[partner.id], currency),
                    threshold=format_amount(env, threshold, currency),
                )
            )
        if portal_guard.NOT_ANNOUNCED in reasons:
            result[partner.id].append(
                env._(
                    "no notice announced the block at least %s days in advance",
                    company.dunning_block_notice_days,
                )
            )
    return result


def undisputed_arrears_by_partner(partners, company, date):
    """{partner id: overdue open amount of the customer's invoices in
    company currency, without disputed invoices and less unallocated
    payments and credits}, in one search."""
    env = partners.env
    lines = (
        env["account.move.line"]
        .sudo()
        .search_fetch(
            [
                ("company_id", "=", company.id),
                ("move_id.commercial_partner_id", "in", partners.ids),
                ("parent_state", "=", "posted"),
                ("account_id.account_type", "=", "asset_receivable"),
                ("reconciled", "=", False),
                ("amount_residual", "!=", 0.0),
            ],
            ["move_id", "amount_residual", "date_maturity"],
        )
    )
    lines.move_id.fetch(
        [
            "commercial_partner_id",
            "move_type",
            "dunning_block_reason",
            "dunning_blocked_until",
        ]
    )
    items = defaultdict(list)
    for line in lines:
        move = line.move_id
        disputed = move.dunning_block_reason == "dispute" and move.dunning_blocked_until
        items[move.commercial_partner_id.id].append(
            (
                line.amount_residual,
                move.move_type == "out_invoice",
                line.date_maturity or None,
                disputed or None,
            )
        )
    currency = company.currency_id
    return {
        partner_id: currency.round(float(portal_guard.undisputed_arrears(items[partner_id], date)))
        for partner_id in partners.ids
    }


def announced_partner_ids(partners, company, date):
    """The ids of these customers for which a notice announced the block
    at least the announcement period before ``date``, for an invoice that
    is still open (the announcement of an earlier, settled case does not
    count); two searches. An announcement counts from the day it was sent or
    printed, not from its creation (``domain.portal_guard``)."""
    env = partners.env
    open_moves = (
        env["account.move"]
        .sudo()
        .search_fetch(
            [
                ("commercial_partner_id", "in", partners.ids),
                ("company_id", "=", company.id),
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "not in", ("paid", "in_payment", "reversed")),
            ],
            ["commercial_partner_id"],
        )
    )
    if not open_moves:
        return set()
    open_by_partner = defaultdict(set)
    for move in open_moves:
        open_by_partner[move.commercial_partner_id.id].add(move.id)
    notices = (
        env["isp.dunning.notice"]
        .sudo()
        .search_fetch(
            [
                ("partner_id", "in", partners.ids),
                ("company_id", "=", company.id),
                ("portal_block_announced", "=", True),
                ("state", "not in", ("cancelled", "error")),
                ("delivered_date", "!=", False),
                ("move_ids", "in", open_moves.ids),
            ],
            ["partner_id", "move_ids", "delivered_date"],
        )
    )
    return {
        notice.partner_id.id
        for notice in notices
        if portal_guard.announcement_counts(
            notice.delivered_date, date, company.dunning_block_notice_days
        )
        and open_by_partner[notice.partner_id.id].intersection(notice.move_ids.ids)
    }
