"""Payment promises in the run: read with the batch (one query for all its
customers), decided by the core (``domain.promises``), fed to the planning
(a pending promise pauses its invoices, a broken one repeats their level)
and written in the run's book step (never in a preview), with a line in the
run log."""

from dataclasses import dataclass, replace

from odoo import fields
from odoo.tools import format_amount, format_date

from ..domain import promises
from ..domain.escalation import highest_level
from ..domain.money import to_decimal


@dataclass
class PromiseCheck:
    """One promise of a batch's customer: its status on the run's day
    (``status``: None for a promise already broken by an earlier run and
    still waiting for its notice)."""

    promise_id: int
    partner_id: int
    move_ids: frozenset
    status: promises.Status | None = None

    @property
    def broken(self):
        return self.status is None or self.status.state == promises.BROKEN


def read_promises(run, partner_ids, items):
    """The :class:`PromiseCheck` of the batch's customers: pending promises,
    decided on the run's date, and broken ones whose notice is still to
    come. ``items``: the batch's open items, {partner id: [OpenItem]}, that
    give what is open of the covered invoices now."""
    Promise = run.env["isp.dunning.promise"].sudo()
    found = Promise.search_fetch(
        [
            ("company_id", "=", run.company_id.id),
            ("partner_id", "in", partner_ids),
            "|",
            ("state", "=", "open"),
            "&",
            ("state", "=", "broken"),
            ("notice_id", "=", False),
        ],
        ["partner_id", "state", "move_ids", "line_ids", "amount_open_start", "grace_days"],
        order="id",
    )
    found.line_ids.fetch(["date", "amount"])
    checks = []
    for promise in found:
        partner_id = promise.partner_id.id
        move_ids = frozenset(promise.move_ids.ids)
        status = None
        if promise.state == "open":
            open_now = sum(
                (
                    item.residual
                    for item in items.get(partner_id, ())
                    if item.move_id in move_ids and item.residual > 0
                ),
                to_decimal(0),
            )
            status = promises.evaluate(
                [
                    promises.Instalment(line.date, to_decimal(line.amount))
                    for line in promise.line_ids
                ],
                to_decimal(promise.amount_open_start),
                open_now,
                run.date,
                promise.grace_days,
            )
        checks.append(PromiseCheck(promise.id, partner_id, move_ids, status))
    return checks


def apply_to_invoices(checks, invoices):
    """Feed the promises to the planning's invoices ({partner id: {move id:
    planning.Invoice}}, changed in place): a pending promise pauses its
    invoices up to and including its last day of grace; after a broken one
    the next notice repeats the level the invoices had."""
    for check in checks:
        of_partner = invoices.get(check.partner_id, {})
        for move_id in check.move_ids & set(of_partner):
            invoice = of_partner[move_id]
            if check.broken:
                of_partner[move_id] = replace(invoice, repeat_level=True)
            elif check.status.state == promises.PENDING:
                until = check.status.pending_until
                if invoice.paused_until and invoice.paused_until > until:
                    until = invoice.paused_until
                of_partner[move_id] = replace(invoice, paused_until=until)


def record(run, checks, notices, move_data, levels, outcome):
    """The run's book step for promises: a promise found kept or broken
    gets its state, the day and (broken) the instalment missed, and a line
    in the run log; a broken promise is linked with the customer's notice
    of this run that lists its invoices (its text says the promise was not
    kept). A preview logs the same lines and writes nothing; a proposal's
    notice is not linked, the notice booked by its release is."""
    env = run.env
    Promise = env["isp.dunning.promise"].sudo()
    for check in checks:
        promise = Promise.browse(check.promise_id)
        decided = check.status is not None and check.status.state != promises.PENDING
        if decided:
            outcome.log.append(_log_line(env, promise, check, move_data, levels))
        if run.dry_run:
            continue
        if decided:
            _write_decision(run, promise, check.status)
        if check.broken:
            notice = notices.filtered(
                lambda n, c=check: (
                    n.state != "proposed"
                    and n.partner_id.id == c.partner_id
                    and set(n.move_ids.ids) & c.move_ids
                )
            )[:1]
            if notice:
                promise.notice_id = notice
                notice.broken_promise_id = promise
                promise.message_post(
                    body=env._(
                        "Dunning resumed with notice %s, which says the promise was not kept.",
                        notice.name,
                    )
                )


def _write_decision(run, promise, status):
    currency = promise.currency_id
    vals = {
        "state": "kept" if status.state == promises.KEPT else "broken",
        "state_date": run.date,
        "paid_when_decided": float(status.paid),
    }
    if status.state == promises.BROKEN:
        vals.update(missed_date=status.due_date, missed_amount=float(status.due_amount))
        body = run.env._(
            "Payment promise broken: %(due)s were due by %(date)s, %(paid)s were paid. "
            "Dunning resumes (run of %(run_date)s).",
            due=format_amount(run.env, float(status.due_amount), currency),
            date=format_date(run.env, status.due_date),
            paid=format_amount(run.env, float(status.paid), currency),
            run_date=format_date(run.env, run.date),
        )
    else:
        body = run.env._(
            "Payment promise kept: %(paid)s paid (run of %(run_date)s).",
            paid=format_amount(run.env, float(status.paid), currency),
            run_date=format_date(run.env, run.date),
        )
    promise.write(vals)
    promise.message_post(body=body)


def _log_line(env, promise, check, move_data, levels):
    """'Customer X: promise of 02.03.2026 over 300,00 € broken (...);
    dunning resumes at First reminder'."""
    status = check.status
    partner = promise.partner_id.display_name
    currency = promise.currency_id
    made = format_date(env, promise.date)
    amount = format_amount(env, promise.amount_promised, currency)
    if status.state == promises.KEPT:
        return env._(
            "Customer %(partner)s: promise of %(date)s over %(amount)s kept",
            partner=partner,
            date=made,
            amount=amount,
        )
    level_ids = {
        move_data[move_id]["dunning_level_id"]
        for move_id in check.move_ids
        if move_id in move_data and move_data[move_id]["dunning_level_id"]
    }
    level = highest_level(levels.browse(sorted(level_ids)))
    return env._(
        "Customer %(partner)s: promise of %(date)s over %(amount)s broken (%(due)s due by "
        "%(due_date)s, %(paid)s paid); dunning resumes at %(level)s",
        partner=partner,
        date=made,
        amount=amount,
        due=format_amount(env, float(status.due_amount), currency),
        due_date=format_date(env, status.due_date),
        paid=format_amount(env, float(status.paid), currency),
        level=level.name if level else env._("the first level"),
    )


def broken_promise_context(notice, money):
    """What the templates see as ``notice.broken_promise``: None, or the
    promise the customer did not keep (``money``: the notice's rounding to
    Decimal)."""
    promise = notice.sudo().broken_promise_id
    if not promise:
        return None
    return {
        "date": promise.date,
        "amount": money(promise.amount_promised),
        "due_date": promise.missed_date or promise.state_date or fields.Date.today(),
        "due_amount": money(promise.missed_amount),
        "paid": money(promise.paid_when_decided),
    }
