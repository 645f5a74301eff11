"""Booking one batch: notices, fee documents, the invoices' dunning state,
the customers' level and portal blocks. Delivery is not part of it: the run
delivers the committed notices afterwards."""

import logging
from collections import defaultdict

from psycopg2 import errors as pg_errors

from odoo.fields import Command

from ..domain import channels, claim, planning
from . import fee_documents, notice_lines, portal_blocking, run_log

_logger = logging.getLogger(__name__)

# Concurrency conflicts that a later run resolves by itself.
TRANSIENT_ERRORS = (
    pg_errors.SerializationFailure,
    pg_errors.LockNotAvailable,
    pg_errors.DeadlockDetected,
)


def book_batch(run, plans, move_data, context, outcome):
    """Book the plans of a batch in one go; when that fails, customer by
    customer so that one failure stays local. A customer whose booking fails
    gets nothing recorded (no notice takes its slot of the day) and the next
    run books it again; one that met a concurrent update goes to
    ``outcome.conflicts`` for the run to retry. Returns the notices booked."""
    try:
        with run.env.cr.savepoint():
            return book(run, plans, move_data, context, outcome.totals)
    except Exception:
        _logger.info("Dunning batch failed, retrying customer by customer")
    notices = run.env["isp.dunning.notice"]
    for partner_id, plan in plans.items():
        try:
            with run.env.cr.savepoint():
                notices |= book(run, {partner_id: plan}, move_data, context, outcome.totals)
        except Exception as error:
            reason = run_log.readable(error)
            if isinstance(error, TRANSIENT_ERRORS):
                # Another worker changed the same rows (e.g. a shared
                # customer of another company).
                outcome.conflicts[partner_id] = reason
                continue
            outcome.error(run, partner_id, reason, postponed=True)
    return notices


def book(run, plans, move_data, context, stats):
    """Create notices, fee documents and invoice updates for the plans."""
    levels = context["levels"]
    notice_vals = []
    notice_plans = []
    partners = run.env["res.partner"].browse(list(plans))
    line_vals = []
    for notice, vals in notices_vals(run, plans, move_data, levels):
        line_vals.append([command[2] for command in vals.pop("line_ids")])
        notice_vals.append(vals)
        notice_plans.append(notice)
    Notice = run.env["isp.dunning.notice"].with_context(
        tracking_disable=True, mail_create_nolog=True
    )
    notices = Notice.create(notice_vals)
    # The lines of the whole batch in one INSERT (services/notice_lines.py).
    notice_lines.insert(notices, dict(zip(notices.ids, line_vals, strict=True)))
    _update_invoices(run, plans, move_data, levels)
    partners._dunning_refresh_level()
    portal_blocking.apply_notices(notices, context.get("working_calendar"))
    # Last: a fee document's number is held from its INSERT to the commit,
    # and a parallel worker posting in the same journal waits for it.
    fee_documents.create_fee_moves(run, notices, notice_plans)
    stats["notices"] += len(notices)
    stats["invoices"] += sum(len(n.escalated_move_ids) for n in notice_plans)
    return notices


def notices_vals(run, plans, move_data, levels):
    """(planned notice, its ``isp.dunning.notice`` values) for every notice
    of the plans, on the channel its level and the customer's address give."""
    emails = run.env["res.partner"].browse(list(plans))._dunning_recipient_emails()
    for partner_id, plan in plans.items():
        for notice in plan.notices:
            level = levels.browse(notice.level.id)
            email = emails.get(partner_id)
            channel = channels.choose_channel(level.send_email, level.send_letter, email)
            yield notice, _notice_vals(run, notice, channel, email, move_data)


def _notice_vals(run, notice, channel, email, move_data):
    currency_id = notice.currency
    lines = []
    for line in notice.lines:
        before = move_data.get(line.move_id) or {}
        lines.append(
            Command.create(
                {
                    "move_id": line.move_id,
                    "escalated": line.escalated,
                    "level_id": line.new_level_id,
                    "due_date": line.due_date,
                    "days_overdue": line.days_overdue,
                    "amount_open": float(line.amount_open),
                    "lump_sum_amount": float(line.lump_sum),
                    "interest_date_from": line.interest_from,
                    "interest_date_to": line.interest_to,
                    "interest_days": line.interest_days,
                    "interest_detail": planning.describe_instalments(line.instalments),
                    "interest_amount": float(line.interest_amount),
                    "returns_settled": line.returns_settled,
                    **_before_vals(before),
                }
            )
        )
    return {
        "company_id": run.company_id.id,
        "partner_id": notice.partner_id,
        "level_id": notice.level.id,
        "date": notice.date,
        "deadline_date": notice.deadline,
        "run_id": run.id,
        "currency_id": currency_id,
        "move_ids": [Command.set([line.move_id for line in notice.lines])],
        "line_ids": lines,
        "amount_open": float(notice.amount_open),
        "fee_amount": float(notice.fee_amount),
        "lump_sum_amount": float(notice.lump_sum_amount),
        "interest_amount": float(notice.interest_amount),
        "return_charge_amount": float(notice.return_charge_amount),
        "amount_earlier_charges": float(notice.amount_earlier_charges),
        "amount_credits": float(notice.amount_credits),
        "fee_credited": float(notice.fee_credited),
        "claim_data": claim.claim_of(notice).to_data(),
        "channel": channel,
        "email_to": email if channel != channels.LETTER else False,
        "state": channels.initial_state(channel),
        "portal_block_announced": notice.level.announce_portal_block,
    }


def _before_vals(data):
    """The invoice's stored dunning state before the notice, for its line."""
    if not data:
        return {}
    return {
        "before_recorded": True,
        "before_level_id": data["dunning_level_id"] or False,
        "before_first_date": data["dunning_first_date"] or False,
        "before_last_date": data["dunning_last_date"] or False,
        "before_next_date": data["dunning_next_date"] or False,
        "before_interest_until": data["dunning_interest_until"] or False,
        "before_lump_sum_charged": bool(data["dunning_lump_sum_charged"]),
        "before_handed_over": bool(data["dunning_handed_over"]),
        "before_handover_date": data["dunning_handover_date"] or False,
    }


def _update_invoices(run, plans, move_data, levels):
    """Write the invoices' new dunning state, grouped by identical values
    so that a batch costs a handful of UPDATEs."""
    groups = defaultdict(list)
    today = run.date
    handover_level_ids = set(levels.filtered("collection_handover").ids)
    for plan in plans.values():
        escalated = {}
        charged_interest = set()
        charged_lump = set()
        returns_settled = defaultdict(int)
        for notice in plan.notices:
            for line in notice.lines:
                if line.escalated:
                    escalated[line.move_id] = line.new_level_id
                if line.interest_to:
                    charged_interest.add(line.move_id)
                if line.lump_sum:
                    charged_lump.add(line.move_id)
                if line.returns_settled:
                    returns_settled[line.move_id] += line.returns_settled
        touched = set(plan.next_dates) | set(escalated) | set(returns_settled)
        for move_id in touched:
            data = move_data[move_id]
            vals = {}
            next_date = plan.next_dates.get(move_id)
            if next_date != (data["dunning_next_date"] or None):
                vals["dunning_next_date"] = next_date or False
            if move_id in escalated:
                vals["dunning_level_id"] = escalated[move_id]
                vals["dunning_last_date"] = today
                if not data["dunning_first_date"]:
                    vals["dunning_first_date"] = today
                if escalated[move_id] in handover_level_ids:
                    # Handed over: the agency collects, automatic dunning ends.
                    vals["dunning_handed_over"] = True
                    vals["dunning_handover_date"] = today
                    vals["dunning_next_date"] = False
            if move_id in charged_interest:
                vals["dunning_interest_until"] = today
            if move_id in charged_lump:
                vals["dunning_lump_sum_charged"] = True
            if move_id in returns_settled:
                # Passed on (or not charged): a later notice never charges them.
                vals["dunning_returns_pending"] = max(
                    data["dunning_returns_pending"] - returns_settled[move_id], 0
                )
            if vals:
                groups[tuple(sorted(vals.items()))].append(move_id)
    # Dunning fields only: no journal item sync or balance check needed.
    Move = run.env["account.move"].with_context(
        tracking_disable=True, skip_invoice_sync=True, check_move_validity=False
    )
    for vals, move_ids in groups.items():
        Move.browse(move_ids).write(dict(vals))
