"""Cancelling notices: the mail, the fee document, the portal block and the
invoices' dunning state are undone (rules in ``domain.cancellation``)."""

from odoo.exceptions import UserError

from ..domain import cancellation


def cancel(notices):
    """Cancel these notices, latest first, or refuse with the reasons."""
    env = notices.env
    notices.check_access("write")
    notices = notices.filtered(lambda n: n.state != "cancelled")
    # Latest first: a later notice of the same invoices must go before.
    ordered = notices.sorted(lambda n: (n.date, n.id), reverse=True)
    problems = []
    for notice in ordered:
        reasons = _refusal(notice, notices)
        if reasons:
            problems.append(f"{notice.name}: {', '.join(_describe(env, reasons))}")
    if problems:
        raise UserError(env._("These notices cannot be cancelled:\n%s", "\n".join(problems)))
    for notice in ordered:
        _cancel_one(notice)
    return True


def _refusal(notice, cancelling):
    later = notice.search_count(
        [
            ("id", "not in", cancelling.ids),
            ("company_id", "=", notice.company_id.id),
            ("move_ids", "in", notice.move_ids.ids),
            ("state", "not in", ("cancelled", "proposed", "released")),
            "|",
            ("date", ">", notice.date),
            "&",
            ("date", "=", notice.date),
            ("id", ">", notice.id),
        ],
        limit=1,
    )
    fee_move = notice.fee_move_id
    fee_paid = bool(
        fee_move
        and fee_move.state == "posted"
        and fee_move.move_type == "out_invoice"
        and fee_move.payment_state != "reversed"
        and fee_move.amount_residual != fee_move.amount_total
    )
    return cancellation.refusal(bool(notice.handover_mail_id), bool(later), fee_paid)


def _describe(env, reasons):
    texts = {
        cancellation.HANDED_OVER: env._(
            "the case was handed over to the collection agency, which collects it now"
        ),
        cancellation.LATER_NOTICE: env._(
            "a later notice of the same invoices builds on it; cancel that one first"
        ),
        cancellation.FEE_PAID: env._(
            "its fee document was paid; reverse the payment's reconciliation first"
        ),
    }
    return [texts[reason] for reason in reasons]


def _cancel_one(notice):
    env = notice.env
    _cancel_mail(notice)
    _reverse_fee_document(notice)
    _restore_invoices(notice)
    notice.state = "cancelled"
    partner = notice.partner_id.commercial_partner_id.sudo()
    partner._dunning_refresh_level()
    if partner.dunning_portal_block_notice_id == notice:
        partner._dunning_unblock_portal(
            env._("Portal access restored: notice %s that blocked it was cancelled.", notice.name)
        )


def _cancel_mail(notice):
    env = notice.env
    # mail.mail is for administrators only; this is the notice's own mail.
    mail = notice.mail_id.sudo()
    action = cancellation.mail_action(mail.state if mail else None)
    if action == cancellation.MAIL_CANCEL:
        mail.cancel()
        notice.message_post(body=env._("The queued email was cancelled and will not be sent."))
    elif action == cancellation.MAIL_RECORD:
        notice.message_post(
            body=env._(
                "Cancelled after the email was sent to %s: the customer received it; "
                "its fees and interest are reversed.",
                notice.email_to or mail.email_to,
            )
        )
    if notice.state == "printed":
        notice.message_post(
            body=env._(
                "Cancelled after the letter was printed: its fees and interest are reversed."
            )
        )


def _reverse_fee_document(notice):
    env = notice.env
    fee_move = notice.fee_move_id
    if not fee_move or fee_move.state != "posted" or fee_move.payment_state == "reversed":
        return
    # Odoo's reversal: a credit note reconciled with the fee document, which
    # itself stays as it was posted.
    reversal = fee_move._reverse_moves(
        [{"ref": env._("Cancellation of dunning notice %s", notice.name)}],
        cancel=True,
    )
    notice.message_post(body=env._("Fee document reversed by %s.", reversal.name))


def _restore_invoices(notice):
    """Return the invoices to their dunning state before the notice."""
    Move = notice.env["account.move"].with_context(
        tracking_disable=True, skip_invoice_sync=True, check_move_validity=False
    )
    if notice.line_ids.filtered(lambda line: not line.before_recorded):
        # Booked by an earlier version, which did not store it.
        notice.message_post(
            body=notice.env._(
                "The invoices' dunning state before this notice was not recorded when it "
                "was booked: they keep their current level and dates."
            )
        )
    for line in notice.line_ids.filtered("returns_settled"):
        # The returned debits it passed on are pending again (with any
        # returned since): the next notice passes them on as it did.
        move = line.move_id.sudo()
        Move.browse(move.id).sudo().write(
            {
                "dunning_returns_pending": cancellation.returns_pending_after(
                    move.dunning_returns_pending, line.returns_settled
                )
            }
        )
    for line in notice.line_ids.filtered("before_recorded"):
        before = cancellation.InvoiceBefore(
            level_id=line.before_level_id.id or None,
            first_date=line.before_first_date or None,
            last_date=line.before_last_date or None,
            next_date=line.before_next_date or None,
            interest_until=line.before_interest_until or None,
            lump_sum_charged=line.before_lump_sum_charged,
            handed_over=line.before_handed_over,
            handover_date=line.before_handover_date or None,
        )
        Move.browse(line.move_id.id).sudo().write(cancellation.invoice_values(before))
