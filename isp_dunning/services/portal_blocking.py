"""The portal block: what it reads (the invoices that keep a customer
blocked, the data of the § 61 TKG consumer guard, a fixed number of queries
for any number of customers) and what it writes (blocking and releasing the
customers' portal users, postponements, the levels' and the company's
provisioning actions). The rules themselves are in ``domain.portal_guard``."""

import logging
from collections import defaultdict

from markupsafe import escape

from odoo import fields
from odoo.tools import format_amount, format_date

from ..domain import portal_guard
from ..domain.escalation import is_business
from . import working_calendar

_logger = logging.getLogger(__name__)


def blocking_moves(partners, date):
    """Open invoices of these customers at or above the first blocking
    level of their company that are not paused on ``date`` (by hand or by a
    pending payment promise)."""
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
            # A pending payment promise pauses its invoices too.
            ("dunning_promise_ids", "not any", [("state", "=", "open")]),
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
                ("state", "not in", ("cancelled", "error", "proposed", "released")),
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


# ----------------------------------------------------------------------
# What a run's notices do to the portal
# ----------------------------------------------------------------------
def apply_notices(notices, calendar=None):
    """Apply what the notices' levels trigger: at a blocking level the
    portal block, unless the consumer guard postpones it or the notice's day
    is not a working day of the company, then the level's server action. On
    a blocking level the action waits for the block, so that a provisioning
    hook never suspends a line that § 61 TKG still protects nor starts on a
    weekend or a public holiday; it runs when a later run lifts the
    postponement. The action of any other level waits for the next working
    day too (``postpone_actions``). The guard of all customers is computed
    at once (a few queries per batch, not per customer).

    :param calendar: the run's ``dates.WorkingCalendar`` (read once per
        run); without it, each company's calendar is read here
    """
    notices = notices.sudo()
    blocking = notices.filtered(
        lambda n: n.level_id.block_portal and not n.partner_id.dunning_portal_blocked
    )
    guards = {}
    for (company, date), group in blocking.grouped(lambda n: (n.company_id, n.date)).items():
        for partner_id, reasons in block_guards(group.partner_id, company, date).items():
            guards[partner_id, company.id, date] = reasons
    workdays = {}  # (company id, date): the next working day from that date
    for company, date in {(n.company_id, n.date) for n in notices}:
        company_calendar = calendar or working_calendar.read_calendar(company, date)
        workdays[company.id, date] = company_calendar.next_working_day(date)
    postponed = []
    actions_postponed = []
    blocks = []
    blocked = set()
    with_action = []
    for notice in notices:
        partner = notice.partner_id
        already_blocked = partner.dunning_portal_blocked or partner.id in blocked
        reasons = guards.get((partner.id, notice.company_id.id, notice.date), [])
        workday = workdays.get((notice.company_id.id, notice.date), notice.date)
        step = portal_guard.notice_block_step(
            notice.level_id.block_portal,
            already_blocked,
            reasons,
            working_day=workday == notice.date,
        )
        if step == portal_guard.POSTPONE:
            postponed.append((notice, reasons, workday if workday != notice.date else None))
            continue
        if step == portal_guard.BLOCK:
            blocks.append((partner, notice))
            blocked.add(partner.id)
        if workday != notice.date and notice.level_id.server_action_id:
            actions_postponed.append((notice, workday))
        else:
            with_action.append(notice)
    block_portals(notices.env, blocks)
    for notice in with_action:
        run_level_action(notice)
    postpone_blocks(notices.env, postponed)
    postpone_actions(notices.env, actions_postponed)


def postpone_actions(env, postponements):
    """Record on each notice of [(notice, workday)] that its level's
    provisioning action waits for the working day ``workday``; the first
    run on or after that day runs it (``run_postponed_actions``)."""
    bodies = {}
    for notice, workday in postponements:
        notice.sudo().action_workday = workday
        bodies[notice.id] = escape(
            env._(
                "Provisioning action postponed to the next working day, %(workday)s: "
                "%(date)s is not a working day of the company.",
                workday=format_date(env, workday),
                date=format_date(env, notice.date),
            )
        )
    if bodies:
        env["isp.dunning.notice"].sudo().browse(list(bodies))._message_log_batch(bodies=bodies)


def run_postponed_actions(run):
    """On a working day, at the end of a run: the provisioning actions of
    the company's notices that waited for a working day. A failing action
    is logged on its notice and tried again by the next run."""
    env = run.env
    notices = (
        env["isp.dunning.notice"]
        .sudo()
        .search(
            [
                ("company_id", "=", run.company_id.id),
                ("action_workday", "!=", False),
                ("action_workday", "<=", run.date),
                ("state", "not in", ("cancelled", "proposed", "released")),
            ],
            order="id",
        )
    )
    for notice in notices:
        try:
            with env.cr.savepoint():
                run_level_action(notice)
                notice.action_workday = False
                notice.message_post(
                    body=env._(
                        "Provisioning action run on %s: it waited for a working day of the "
                        "company.",
                        format_date(env, run.date),
                    )
                )
        except Exception as error:
            _logger.warning("Provisioning action of %s failed: %s", notice.display_name, error)
            notice.message_post(body=env._("The postponed provisioning action failed: %s", error))


def postpone_blocks(env, postponements):
    """Record on each notice of [(notice, reasons, workday)] that its block
    waits for the consumer guard (``reasons``) or for the next working day
    (``workday``, None when the notice's day is a working day): one write
    each and one batch of log notes."""
    notes = {}
    workdays = {}
    for notice, reasons, workday in postponements:
        parts = []
        if workday:
            parts.append(
                env._(
                    "Portal block postponed to the next working day, %(workday)s: "
                    "%(date)s is not a working day of the company.",
                    workday=format_date(env, workday),
                    date=format_date(env, notice.date),
                )
            )
        if reasons:
            parts.append(env._("Portal block postponed (§ 61 TKG): %s.", "; ".join(reasons)))
        notes[notice.sudo()] = " ".join(parts)
        workdays[notice.id] = workday or False
    if not notes:
        return
    for notice, note in notes.items():
        notice.write(
            {
                "portal_block_postponed": True,
                "portal_block_note": note,
                "portal_block_workday": workdays[notice.id],
            }
        )
    notices = env["isp.dunning.notice"].sudo().browse([n.id for n in notes])
    notices._message_log_batch(bodies={notice.id: escape(note) for notice, note in notes.items()})


def retry_postponed_blocks(run, calendar=None):
    """At the end of a run: block the customers of the run's company whose
    block was postponed once the consumer guard allows it and the run's day
    is a working day, block again those whose block was lifted on payment
    when an invoice of the blocking notice is open again (on a working day
    too), run the provisioning actions that waited for a working day, and
    lift blocks whose invoices left the blocking levels without a
    reconciliation (e.g. a cancelled invoice; lifting happens any day).

    :param calendar: the run's ``dates.WorkingCalendar``; without it, the
        company's calendar is read here
    """
    env = run.env
    company = run.company_id
    date = run.date
    calendar = calendar or working_calendar.read_calendar(company, date)
    working_day = calendar.is_working_day(date)
    if working_day:
        run_postponed_actions(run)
    notices = (
        env["isp.dunning.notice"]
        .sudo()
        .search_fetch(
            [
                ("company_id", "=", company.id),
                ("level_id.block_portal", "=", True),
                ("state", "not in", ("cancelled", "proposed", "released")),
                ("partner_id.dunning_level_id", "!=", False),
                ("partner_id.dunning_portal_blocked", "=", False),
            ],
            [
                "partner_id",
                "portal_block_postponed",
                "portal_block",
                "portal_block_released",
                "portal_block_workday",
                "run_id",
            ],
            order="date desc, id desc",
        )
    )
    latest = {}
    for notice in notices:
        latest.setdefault(notice.partner_id, notice)
    waiting = {}
    for notice in latest.values():
        step = portal_guard.retry_block_step(
            postponed=notice.portal_block_postponed,
            blocked=notice.portal_block,
            released=notice.portal_block_released,
            from_this_run=notice.run_id == run,
        )
        if step:
            waiting[notice] = step
    partners = env["res.partner"].sudo().browse([n.partner_id.id for n in waiting])
    pending = blocking_moves(partners, date).commercial_partner_id
    guards = block_guards(pending, company, date) if pending else {}
    for notice, step in waiting.items():
        partner = notice.partner_id.sudo()
        if not portal_guard.retry_goes_ahead(
            partner in pending, guards.get(partner.id), working_day
        ):
            continue
        try:
            # One customer's failing provisioning hook must not fail the run.
            with env.cr.savepoint():
                block_portals(env, [(partner, notice)])
                if step == portal_guard.BLOCK_AGAIN:
                    notice.portal_block_released = False
                    body = env._(
                        "Portal blocked again on %s: an invoice of the notice is open "
                        "again (e.g. a returned direct debit).",
                        format_date(env, date),
                    )
                elif notice.portal_block_workday:
                    body = env._(
                        "Portal blocked on %s: the block waited for a working day of the company.",
                        format_date(env, date),
                    )
                else:
                    body = env._(
                        "Portal blocked on %s: the consumer guard (§ 61 TKG) allows it now.",
                        format_date(env, date),
                    )
                notice.message_post(body=body)
                run_level_action(notice)
        except Exception as error:
            _logger.warning("Portal block of %s failed: %s", partner.display_name, error)
            notice.message_post(body=env._("The postponed portal block failed: %s", error))
    blocked = (
        env["res.partner"]
        .sudo()
        .with_context(active_test=False)
        .search(
            [
                ("dunning_portal_blocked", "=", True),
                ("dunning_portal_block_manual", "=", False),
                ("dunning_portal_block_notice_id.company_id", "=", company.id),
            ]
        )
    )
    release_if_settled(blocked, date)


def release_if_settled(partners, date=None):
    """Lift dunning's portal block of these customers when no open invoice
    is left at or above a blocking level: paid, credited, written off or
    paused. A block set by hand stays until a manager lifts it. Returns the
    customers released."""
    env = partners.env
    partners = partners.commercial_partner_id.sudo().filtered(
        lambda p: portal_guard.releases_block(
            p.dunning_portal_blocked, p.dunning_portal_block_manual, keeps_blocked=False
        )
    )
    if not partners:
        return partners
    date = date or fields.Date.context_today(partners)
    keeping = blocking_moves(partners, date).commercial_partner_id
    released = partners.filtered(
        lambda p: portal_guard.releases_block(
            p.dunning_portal_blocked, p.dunning_portal_block_manual, p in keeping
        )
    )
    # Remembered so that a later run can block again (retry_postponed_blocks).
    released.dunning_portal_block_notice_id.write({"portal_block_released": True})
    unblock_portals(
        released,
        env._("Portal access restored: no invoice is left open at a blocking dunning level."),
    )
    return released


# ----------------------------------------------------------------------
# Block and release
# ----------------------------------------------------------------------
def portal_users_by_partner(partners):
    """{partner id: portal users of that customer and of its contacts},
    archived users included so that a user reactivated by hand stays
    blocked; one search for all these customers."""
    env = partners.env
    Users = env["res.users"].sudo()
    result = {partner.id: Users for partner in partners}
    if not partners:
        return result
    users = Users.with_context(active_test=False).search(
        [
            ("partner_id", "child_of", partners.ids),
            ("share", "=", True),
            ("groups_id", "in", env.ref("base.group_portal").ids),
        ]
    )
    for user in users:
        # child_of: the user's contact or any of its parents.
        partner = user.partner_id
        seen = set()
        while partner and partner.id not in seen:
            seen.add(partner.id)
            if partner.id in result:
                result[partner.id] |= user
            partner = partner.parent_id
    return result


def block_portals(env, blocks):
    """Block the portal of the customer of each (customer, notice) of
    ``blocks``, by that notice or, without one (an empty recordset), by hand:
    one search for their portal users and one batch of log notes."""
    if not blocks:
        return
    now = fields.Datetime.now()
    partners = env["res.partner"].sudo().browse([partner.id for partner, _notice in blocks])
    users_of = portal_users_by_partner(partners)
    bodies = {}
    for partner, notice in blocks:
        partner = partner.sudo()
        notice = notice.sudo()
        users = users_of[partner.id].filtered(lambda u: not u.dunning_blocked)
        if users:
            users.write(
                {
                    "dunning_blocked": True,
                    "dunning_blocked_date": now,
                    "dunning_block_notice_id": notice.id,
                }
            )
        partner.write(
            {
                "dunning_portal_blocked": True,
                "dunning_portal_block_notice_id": notice.id,
                "dunning_portal_block_manual": not notice,
            }
        )
        names = ", ".join(users.mapped("display_name")) or env._("none")
        if notice:
            notice.portal_block = True
            body = env._(
                "Portal access blocked by dunning notice %(notice)s. Blocked users: %(users)s.",
                notice=notice.name,
                users=names,
            )
        else:
            body = env._(
                "Portal access blocked by hand by %(manager)s. Blocked users: %(users)s.",
                manager=env.user.name,
                users=names,
            )
        bodies[partner.id] = escape(body)
    partners._message_log_batch(bodies=bodies)


def unblock_portals(partners, message):
    """Restore the users dunning blocked of these customers and run the
    company's release action; users archived or blocked otherwise stay as
    they are."""
    env = partners.env
    for partner in partners.sudo():
        users = (
            env["res.users"]
            .sudo()
            .with_context(active_test=False)
            .search(
                [
                    ("dunning_blocked", "=", True),
                    "|",
                    ("partner_id", "child_of", partner.id),
                    ("dunning_block_notice_id.partner_id", "=", partner.id),
                ]
            )
        )
        users.write(
            {
                "dunning_blocked": False,
                "dunning_blocked_date": False,
                "dunning_block_notice_id": False,
            }
        )
        company = partner.dunning_portal_block_notice_id.company_id or env.company
        partner.write(
            {
                "dunning_portal_blocked": False,
                "dunning_portal_block_notice_id": False,
                "dunning_portal_block_manual": False,
            }
        )
        names = ", ".join(users.mapped("display_name")) or env._("none")
        partner.message_post(
            body=env._("%(message)s Restored users: %(users)s.", message=message, users=names)
        )
        run_release_action(partner, company)


# ----------------------------------------------------------------------
# Provisioning actions (server actions), never as superuser
# ----------------------------------------------------------------------
def run_level_action(notice):
    """Run the level's server action with the access rights of the
    company's provisioning user (not as superuser)."""
    action = notice.sudo().level_id.server_action_id
    if action:
        user = notice.company_id._dunning_action_user()
        action.with_user(user).with_company(notice.company_id).with_context(
            active_model=notice._name,
            active_id=notice.id,
            active_ids=notice.ids,
            dunning_partner_id=notice.partner_id.id,
            dunning_move_ids=notice.move_ids.ids,
        ).run()


def run_release_action(partner, company):
    """Run the company's release action for a customer whose block was
    lifted, with the access rights of the company's provisioning user."""
    partner.ensure_one()
    action = company.sudo().dunning_release_action_id
    if action:
        user = company._dunning_action_user()
        action.with_user(user).with_company(company).with_context(
            active_model=partner._name,
            active_id=partner.id,
            active_ids=partner.ids,
            dunning_partner_id=partner.id,
            dunning_release=True,
        ).run()
