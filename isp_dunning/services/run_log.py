"""What a run reports: its counts, the preview's rows and the log lines
that say what happened to each customer (errors, why one was skipped, what
is left to the next run)."""

from collections import defaultdict
from dataclasses import dataclass, field

from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_amount

from ..domain import planning


def readable(error):
    """A message for the run log: user errors as they are, anything else
    with its type so that an accountant can report it."""
    if isinstance(error, UserError | ValidationError):
        return str(error.args[0]) if error.args else str(error)
    return f"{type(error).__name__}: {error}"


@dataclass
class Outcome:
    """What a run collects while it goes through its batches."""

    log: list = field(default_factory=list)
    totals: dict = field(default_factory=lambda: defaultdict(int))  # notices, invoices, errors
    preview_rows: list = field(default_factory=list)  # (partner id, planning.NoticePlan)
    # Customers of the current attempt whose booking met a concurrent update
    # (partner id: reason): retried or left to the next run, not errors.
    conflicts: dict = field(default_factory=dict)

    def decided(self, run, plans, errors):
        """Record what the core decided for a batch: its errors, why each
        customer without a notice was skipped and, in a preview, the notices
        it would send."""
        for partner_id, error in errors.items():
            self.error(run, partner_id, readable(error))
        self.log.extend(skip_lines(run.env, plans))
        if run.dry_run:
            for partner_id, plan in plans.items():
                self.preview_rows.extend((partner_id, notice) for notice in plan.notices)
                self.totals["notices"] += len(plan.notices)
                self.totals["invoices"] += sum(len(n.escalated_move_ids) for n in plan.notices)

    def error(self, run, partner_id, reason, postponed=False):
        self.totals["errors"] += 1
        self.log.append(customer_line(run.env, partner_id, reason, postponed=postponed))


def customer_line(env, partner_id, reason, postponed=False):
    partner = env["res.partner"].browse(partner_id).display_name
    if postponed:
        return env._(
            "Customer %(partner)s: %(error)s (left to the next run)",
            partner=partner,
            error=reason,
        )
    return env._("Customer %(partner)s: %(error)s", partner=partner, error=reason)


def skip_lines(env, plans):
    """One line per customer that gets no notice, with the reasons the core
    gave (pause, netting, excluded, below tolerance, in payment, below the
    level's minimum amount)."""
    skipped = {
        pid: plan.skipped for pid, plan in plans.items() if plan.skipped and not plan.notices
    }
    if not skipped:
        return []
    move_ids = {move_id for reasons in skipped.values() for move_id, _r in reasons if move_id}
    names = {move.id: move.name for move in env["account.move"].browse(move_ids)}
    labels = {
        planning.SKIP_EXCLUDED: env._("excluded from dunning"),
        planning.SKIP_PAUSED: env._("paused"),
        planning.SKIP_NETTED: env._("net balance covered by credits and payments"),
        planning.SKIP_BELOW_TOLERANCE: env._("below the tolerance"),
        planning.SKIP_IN_PAYMENT: env._("in payment"),
    }
    lines = []
    for partner in env["res.partner"].browse(list(skipped)):
        reasons = []
        for move_id, reason in skipped[partner.id]:
            if isinstance(reason, planning.BelowMinimum):
                reasons.append(below_minimum_label(env, reason))
                continue
            label = labels.get(reason, reason)
            reasons.append(f"{label} ({names[move_id]})" if move_id else label)
        lines.append(
            env._(
                "Customer %(partner)s skipped: %(reasons)s",
                partner=partner.display_name,
                reasons=", ".join(reasons),
            )
        )
    return lines


def below_minimum_label(env, reason):
    """'below the level's minimum amount (4.99 EUR < 5.00 EUR of Reminder)'."""
    currency = env["res.currency"].browse(reason.currency)
    level = env["isp.dunning.level"].browse(reason.level_id)
    return env._(
        "below the level's minimum amount (%(amount)s net overdue, minimum %(minimum)s "
        "for %(level)s)",
        amount=format_amount(env, float(reason.amount), currency),
        minimum=format_amount(env, float(reason.minimum), currency),
        level=level.name,
    )
