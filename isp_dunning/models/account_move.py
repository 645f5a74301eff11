from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..services import portal_blocking


class AccountMove(models.Model):
    _inherit = "account.move"

    # Odoo does not index the commercial partner of a move; dunning reads a
    # customer's invoices by it (the consumer guard, the portal block).
    commercial_partner_id = fields.Many2one(index="btree_not_null")
    dunning_level_id = fields.Many2one(
        "isp.dunning.level",
        copy=False,
        index="btree_not_null",
        readonly=True,
        tracking=True,
    )
    dunning_first_date = fields.Date(string="First Reminder", copy=False, readonly=True)
    dunning_last_date = fields.Date(string="Last Reminder", copy=False, readonly=True)
    dunning_next_date = fields.Date(
        string="Next Reminder",
        copy=False,
        readonly=True,
        help="When the next dunning level becomes due (as of the last run).",
    )
    dunning_blocked_until = fields.Date(
        string="Dunning Paused Until",
        copy=False,
        tracking=True,
        help="No reminders until this date, e.g. while the invoice is disputed "
        "or a payment was promised.",
    )
    dunning_block_reason = fields.Selection(
        [("dispute", "Dispute"), ("promise", "Payment promise"), ("other", "Other")],
        string="Pause Reason",
        copy=False,
        tracking=True,
    )
    dunning_notice_ids = fields.Many2many(
        "isp.dunning.notice",
        "isp_dunning_notice_account_move_rel",
        "move_id",
        "notice_id",
        copy=False,
        readonly=True,
        domain=[("state", "not in", ("proposed", "released"))],
    )
    dunning_notice_count = fields.Integer(compute="_compute_dunning_notice_count")
    dunning_interest_until = fields.Date(
        string="Interest Charged Until",
        copy=False,
        readonly=True,
        help="Default interest has been charged up to and including this day.",
    )
    dunning_lump_sum_charged = fields.Boolean(
        string="Lump Sum Charged",
        copy=False,
        readonly=True,
        help="The 40 EUR lump sum of § 288 (5) BGB was charged for this invoice.",
    )
    dunning_returns_pending = fields.Integer(
        string="Returned Debits to Charge",
        copy=False,
        readonly=True,
        help="Returned direct debits of this invoice whose charge the next notice passes on.",
    )
    dunning_handed_over = fields.Boolean(
        string="Handed Over to Collection", copy=False, readonly=True, tracking=True
    )
    dunning_handover_date = fields.Date(copy=False, readonly=True)
    dunning_fee_notice_id = fields.Many2one(
        "isp.dunning.notice",
        string="Fees of Notice",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="This document books the fees and interest of that notice.",
    )

    dunning_promise_ids = fields.Many2many(
        "isp.dunning.promise",
        "isp_dunning_promise_account_move_rel",
        "move_id",
        "promise_id",
        string="Payment Promises",
        copy=False,
        readonly=True,
    )
    dunning_promise_count = fields.Integer(compute="_compute_dunning_promise_count")

    @api.depends("dunning_promise_ids")
    def _compute_dunning_promise_count(self):
        for move in self:
            move.dunning_promise_count = len(move.dunning_promise_ids)

    def action_view_dunning_promises(self):
        self.ensure_one()
        return self.env["isp.dunning.promise"]._action_for(
            [("move_ids", "in", self.ids)], {"active_model": "account.move", "active_id": self.id}
        )

    @api.depends("dunning_notice_ids")
    def _compute_dunning_notice_count(self):
        for move in self:
            move.dunning_notice_count = len(move.dunning_notice_ids)

    @api.constrains("dunning_blocked_until", "dunning_block_reason")
    def _check_dunning_block(self):
        for move in self:
            if move.dunning_blocked_until and not move.dunning_block_reason:
                raise ValidationError(
                    self.env._(
                        "Invoice %s: say why dunning is paused (dispute, payment "
                        "promise or other).",
                        move.display_name,
                    )
                )

    def _dunning_is_open(self):
        """Whether the invoice is still to be paid: not paid, in payment,
        credited or otherwise settled."""
        self.ensure_one()
        return self.payment_state not in (
            "paid",
            "in_payment",
            "reversed",
        ) and not self.currency_id.is_zero(self.amount_residual)

    def _dunning_leave(self):
        """Invoices that are paid, in payment, credited or no longer open
        leave dunning. They keep their level, dates and notices: the customer's
        level and portal block no longer count them (they read open invoices
        only), and when the payment is undone (a returned direct debit) the
        invoice resumes where it was."""
        leaving = self.filtered(lambda m: m.dunning_level_id and not m._dunning_is_open())
        if not leaving:
            return leaving
        leaving.filtered("dunning_next_date").write({"dunning_next_date": False})
        for move in leaving:
            move.message_post(body=self.env._("Paid: the invoice left dunning."))
        partners = leaving.commercial_partner_id
        partners._dunning_refresh_level()
        portal_blocking.release_if_settled(partners)
        return leaving

    def _dunning_record_returns(self, counts):
        """Record returned direct debits, {invoice id: count}, on these
        invoices; those back in dunning say at which level they resume. The
        portal block is not restored here: the next run decides it."""
        for move in self:
            count = counts.get(move.id, 0)
            if not count:
                continue
            # A dunning field only: no journal item sync or balance check.
            move.with_context(skip_invoice_sync=True, check_move_validity=False).write(
                {"dunning_returns_pending": move.dunning_returns_pending + count}
            )
            if move.dunning_level_id:
                body = self.env._(
                    "Payment returned: the invoice resumes dunning at level %s.",
                    move.dunning_level_id.name,
                )
            else:
                body = self.env._("Payment returned: the invoice is open again.")
            move.message_post(body=body)
        self.commercial_partner_id._dunning_refresh_level()

    def button_draft(self):
        # An invoice reset to draft undoes its own reconciliations: that is no
        # returned payment.
        drafted = set(self.env.context.get("dunning_drafted_move_ids", ())) | set(self.ids)
        return super(
            AccountMove, self.with_context(dunning_drafted_move_ids=tuple(drafted))
        ).button_draft()

    def _get_next_sequence_format(self):
        # While a batch of fee documents is posted: the documents of one
        # journal, date and kind share the format; only the first looks up
        # the last number, the others continue from the sequence cache.
        formats = self.env.context.get("dunning_sequence_formats")
        if formats is None:
            return super()._get_next_sequence_format()
        key = (
            self.journal_id.id,
            self.date,
            self.move_type,
            bool(self.origin_payment_id),
            bool(self.env.context.get("is_payment")),
        )
        if key not in formats:
            formats[key] = super()._get_next_sequence_format()
        format_string, format_values = formats[key]
        return format_string, dict(format_values)

    def action_view_dunning_notices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "isp_dunning.action_isp_dunning_notice"
        )
        action["domain"] = [("move_ids", "in", self.ids)]
        return action

    def write(self, vals):
        result = super().write(vals)
        if "dunning_blocked_until" in vals:
            # A paused invoice no longer justifies a portal block.
            portal_blocking.release_if_settled(self.commercial_partner_id)
        return result
