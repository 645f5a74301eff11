"""The proposal (Mahnvorschlag): with *Review proposals before sending* on,
a run books nothing and sends nothing; it proposes notices (state
``proposed``) that Dunning Users review and a Dunning Manager releases.

* ``book_step``: the run's book step; proposes instead of booking when the
  company reviews (``propose``);
* ``replace_proposals``: a new run removes the company's proposals not
  released, so a proposal is replaced, never doubled;
* ``refresh``: after a review decision, the proposal is planned again with
  the decisions (``domain.review``) and shows what a release would book;
* ``release``: the same pipeline as the automatic run (read, decide with the
  review applied, ``booking.book_batch``, deliver) for the released
  customers; each proposal ends up released (linked to its booked notice)
  or removed.
"""

from collections import defaultdict

from markupsafe import Markup, escape

from odoo.exceptions import AccessError, UserError
from odoo.tools import split_every

from ..domain import review
from . import batch_reader, booking, promises, run_lock, run_log, run_setup

PROPOSED = "proposed"
RELEASED = "released"
# Notices that are not (or not any more) live notices to a customer.
NOT_LIVE_STATES = ("cancelled", PROPOSED, RELEASED)


def reviews(run):
    """Whether the run proposes instead of booking."""
    return not run.dry_run and bool(run.company_id.dunning_review_required)


def book_step(run, plans, move_data, context, outcome):
    """The run's book step: book the plans (``booking.book_batch``), or, when
    the company reviews its proposals, propose them. Returns the notices to
    deliver (none for a proposal)."""
    if reviews(run):
        propose(run, plans, move_data, context, outcome)
        return run.env["isp.dunning.notice"]
    return booking.book_batch(run, plans, move_data, context, outcome)


def proposal_name(env, company):
    """The neutral name of a proposed notice (no sequence number used)."""
    lang = company.partner_id.lang or env.lang
    return env["isp.dunning.notice"].with_context(lang=lang).env._("Proposal")


def _proposal_vals(run, plans, move_data, context):
    name = proposal_name(run.env, run.company_id)
    return [
        {**vals, "name": name, "state": PROPOSED}
        for _notice, vals in booking.notices_vals(run, plans, move_data, context["levels"])
    ]


def propose(run, plans, move_data, context, outcome):
    """Create the proposed notices of the plans: their lines and amounts as
    booking would state them, nothing else (no fee document, no invoice
    change, no block, no number, no delivery)."""
    Notice = run.env["isp.dunning.notice"].with_context(
        tracking_disable=True, mail_create_nolog=True
    )
    groups = [plans]
    try:
        with run.env.cr.savepoint():
            notices = Notice.create(_proposal_vals(run, plans, move_data, context))
            groups = []
    except Exception:  # noqa: BLE001 - retried customer by customer below
        groups = [{pid: plan} for pid, plan in plans.items()]
        notices = Notice
    for group in groups:
        try:
            with run.env.cr.savepoint():
                notices |= Notice.create(_proposal_vals(run, group, move_data, context))
        except Exception as error:  # noqa: BLE001 - one customer never stops the run
            outcome.error(run, next(iter(group)), run_log.readable(error), postponed=True)
    outcome.totals["notices"] += len(notices)
    outcome.totals["invoices"] += sum(
        len(n.escalated_move_ids) for plan in plans.values() for n in plan.notices
    )
    return notices


def replace_proposals(run, outcome):
    """Remove the company's proposed notices not released (a new run
    proposes afresh); the run log says how many."""
    proposed = (
        run.env["isp.dunning.notice"]
        .sudo()
        .search([("company_id", "=", run.company_id.id), ("state", "=", PROPOSED)])
    )
    if proposed:
        count = len(proposed)
        proposed.unlink()
        outcome.log.append(
            run.env._(
                "%s proposed notices of an earlier run were not released and are replaced "
                "by this run.",
                count,
            )
        )
    return len(proposed)


# ----------------------------------------------------------------------
# Review
# ----------------------------------------------------------------------
def decision_of(notice):
    """The notice's review decisions as a ``review.Decision``."""
    return review.Decision(
        excluded_move_ids=frozenset(notice.review_excluded_move_ids.ids),
        level_id=notice.review_level_id.id or None,
        waive_fee=notice.review_waive_fee,
        waive_interest=notice.review_waive_interest,
        removed=notice.review_removed,
    )


def _reviewed_plans(run, proposals, context):
    """Read the proposals' customers as the run does and plan them with the
    review's decisions: (batch, plans, waived, errors)."""
    decisions = defaultdict(dict)
    for notice in proposals:
        decisions[notice.partner_id.id][notice.currency_id.id] = decision_of(notice)
    batch = batch_reader.read_batch(run, sorted(decisions), context)
    plans, waived, errors = {}, {}, {}
    for customer in batch.customers:
        pid = customer.partner_id
        try:
            plans[pid], waived[pid] = review.plan_reviewed(
                customer,
                batch.items.get(pid, []),
                batch.invoices.get(pid, {}),
                context["configs"],
                batch.settings,
                decisions[pid],
            )
        except Exception as error:  # noqa: BLE001 - reported per customer
            errors[pid] = error
    return batch, plans, waived, errors


def refresh(proposals):
    """Plan the proposals again with their review decisions and store the
    lines and amounts a release would book."""
    proposals = proposals.sudo().filtered(lambda n: n.state == PROPOSED)
    for run in proposals.run_id:
        run = run.with_company(run.company_id)
        group = proposals.filtered(lambda n, r=run: n.run_id == r)
        context = run_setup.prepare_context(run, run_setup.ladder(run))
        batch, plans, waived, errors = _reviewed_plans(run, group, context)
        if errors:
            raise UserError(run_log.readable(next(iter(errors.values()))))
        vals_list = {
            (notice.partner_id, notice.currency): vals
            for notice, vals in booking.notices_vals(run, plans, batch.move_data, context["levels"])
        }
        for notice in group:
            key = (notice.partner_id.id, notice.currency_id.id)
            vals = vals_list.get(key)
            amounts = waived.get(key[0], {}).get(key[1], review.Waived())
            common = {
                "review_fee_waived_amount": float(amounts.fee),
                "review_interest_waived_amount": float(amounts.interest),
            }
            if vals is None:
                notice.line_ids.unlink()
                notice.write(
                    {
                        **common,
                        "move_ids": [(5, 0, 0)],
                        "amount_open": 0.0,
                        "fee_amount": 0.0,
                        "lump_sum_amount": 0.0,
                        "interest_amount": 0.0,
                        "return_charge_amount": 0.0,
                        "amount_earlier_charges": 0.0,
                        "amount_credits": 0.0,
                        "fee_credited": 0.0,
                        "claim_data": False,
                        "review_nothing_due": True,
                    }
                )
                continue
            for key_name in ("company_id", "partner_id", "run_id", "state", "currency_id", "date"):
                vals.pop(key_name, None)
            notice.line_ids.unlink()
            notice.write({**vals, **common, "review_nothing_due": False})


def note(notice, body):
    """A review decision with its reason in the proposal's chatter."""
    notice.sudo().message_post(body=body, message_type="comment", subtype_xmlid="mail.mt_note")
    line = f"{notice.env.user.name}: {body}"
    notice.sudo().review_note = f"{notice.review_note}\n{line}" if notice.review_note else line


# ----------------------------------------------------------------------
# Release
# ----------------------------------------------------------------------
def release(proposals):
    """Book and deliver the proposals as the automatic run does, with the
    review's decisions applied. Returns the booked notices."""
    env = proposals.env
    if not (env.su or env.user.has_group("isp_dunning.group_dunning_manager")):
        raise AccessError(env._("Only dunning managers can release a dunning proposal."))
    proposals = proposals.filtered(lambda n: n.state == PROPOSED)
    booked_all = env["isp.dunning.notice"]
    for run in proposals.run_id:
        run = run.with_company(run.company_id)
        group = proposals.filtered(lambda n, r=run: n.run_id == r)
        booked_all |= _release_run(run, group)
    return booked_all


def _release_run(run, group):
    env = run.env
    if not run_lock.try_lock(env.cr, run.company_id.id, session=False):
        raise UserError(
            env._(
                "A dunning run of %s is in progress; release the proposal afterwards.",
                run.company_id.name,
            )
        )
    outcome = run_log.Outcome()
    outcome.log.append(
        env._(
            "Release of %(count)s proposed notices by %(user)s:",
            count=len(group),
            user=env.user.name,
        )
    )
    context = run_setup.prepare_context(run, run_setup.ladder(run))
    to_book = group.filtered(lambda n: not n.review_removed)
    booked = env["isp.dunning.notice"]
    waived_all = {}
    size = run.company_id.dunning_batch_size or 500
    for partner_ids in split_every(size, to_book.partner_id.ids, list):
        batch_proposals = to_book.filtered(lambda n, ids=partner_ids: n.partner_id.id in ids)
        outcome.conflicts = {}
        with env.cr.savepoint():
            batch, plans, waived, errors = _reviewed_plans(run, batch_proposals, context)
            for pid, error in errors.items():
                outcome.error(run, pid, run_log.readable(error))
            outcome.log.extend(run_log.skip_lines(env, plans))
            batch_booked = booking.book_batch(run, plans, batch.move_data, context, outcome)
            promises.record(
                run, batch.promises, batch_booked, batch.move_data, context["levels"], outcome
            )
            booked |= batch_booked
            waived_all.update(waived)
        for pid, reason in outcome.conflicts.items():
            outcome.error(run, pid, reason, postponed=True)
        outcome.conflicts = {}
    _link(group, booked, waived_all)
    run._deliver(booked, outcome)
    for notice in group.filtered(lambda n: n.state == PROPOSED):
        reason = (
            env._("removed in the review")
            if notice.review_removed
            else env._("nothing to book any more (paid, or everything removed in the review)")
        )
        outcome.log.append(
            env._(
                "Customer %(partner)s: proposal not released, %(reason)s.",
                partner=notice.partner_id.display_name,
                reason=reason,
            )
        )
    group.filtered(lambda n: n.state == PROPOSED).sudo().unlink()
    outcome.log.append(env._("%s notices booked.", len(booked)))
    run.sudo().write({"log": "\n".join(filter(None, [run.log, *outcome.log]))})
    return booked


def _link(group, booked, waived):
    """Each proposal with a booked notice: released, linked to it; the booked
    notice gets the review's reasons and what the review waived."""
    by_key = {(n.partner_id.id, n.currency_id.id): n for n in booked}
    for proposal in group:
        notice = by_key.get((proposal.partner_id.id, proposal.currency_id.id))
        if not notice:
            continue
        amounts = waived.get(notice.partner_id.id, {}).get(notice.currency_id.id, review.Waived())
        notice.sudo().write(
            {
                "review_proposal_id": proposal.id,
                "review_fee_waived_amount": float(amounts.fee),
                "review_interest_waived_amount": float(amounts.interest),
                "review_note": proposal.review_note,
            }
        )
        body = Markup("%s") % escape(
            notice.env._("Released from the dunning proposal by %s.", notice.env.user.name)
        )
        if proposal.review_note:
            body += Markup("<br/>%s<br/>") % escape(notice.env._("Review:"))
            body += Markup("<br/>").join(escape(line) for line in proposal.review_note.splitlines())
        notice.sudo().message_post(body=body, message_type="comment", subtype_xmlid="mail.mt_note")
        proposal.sudo().write({"state": RELEASED, "review_released_notice_id": notice.id})
