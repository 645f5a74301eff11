from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command
from odoo.tools import format_amount, format_date

from ..domain import promises
from ..services import portal_blocking

PROMISE_STATES = [
    ("open", "Pending"),
    ("kept", "Kept"),
    ("broken", "Broken"),
    ("cancelled", "Cancelled"),
]


class IspDunningPromise(models.Model):
    """A payment promise or instalment agreement (Zahlungszusage,
    Ratenzahlungsvereinbarung): a customer promises to pay some of its open
    invoices by one or more dates. While it is pending, dunning of those
    invoices pauses; the run decides whether it was kept or broken
    (``domain.promises``, ``services.promises``)."""

    _name = "isp.dunning.promise"
    _description = "Payment Promise"
    _inherit = ["mail.thread"]
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        tracking=True,
        domain="[('parent_id', '=', False)]",
    )
    currency_id = fields.Many2one(
        "res.currency", required=True, default=lambda self: self.env.company.currency_id
    )
    date = fields.Date(
        string="Promised On",
        required=True,
        default=fields.Date.context_today,
        help="The day the customer made the promise; the instalments are on or after it.",
    )
    move_ids = fields.Many2many(
        "account.move",
        "isp_dunning_promise_account_move_rel",
        "promise_id",
        "move_id",
        string="Invoices",
        required=True,
        check_company=True,
        domain="[('commercial_partner_id', '=', partner_id), ('move_type', '=', 'out_invoice'),"
        " ('state', '=', 'posted'), ('currency_id', '=', currency_id),"
        " ('payment_state', 'in', ('not_paid', 'partial'))]",
        help="The open invoices the promise covers; their dunning pauses while it is pending.",
    )
    line_ids = fields.One2many(
        "isp.dunning.promise.line", "promise_id", string="Instalments", copy=True
    )
    amount_promised = fields.Monetary(
        string="Promised", compute="_compute_amount_promised", store=True
    )
    amount_open_start = fields.Monetary(
        string="Open When Promised",
        readonly=True,
        help="The open amount of the covered invoices when the promise was made; what "
        "they went down by since (payments, credit notes) counts as paid.",
    )
    amount_open_now = fields.Monetary(string="Open Now", compute="_compute_amount_paid")
    amount_paid = fields.Monetary(string="Paid", compute="_compute_amount_paid")
    grace_days = fields.Integer(
        default=promises.GRACE_DAYS,
        help="Days after an instalment's date that a payment still counts as in time "
        "(a transfer made on the date arrives a business day later).",
    )
    state = fields.Selection(
        PROMISE_STATES, default="open", required=True, index=True, readonly=True, tracking=True
    )
    state_date = fields.Date(
        string="Decided On",
        readonly=True,
        copy=False,
        help="The day the run found the promise kept or broken.",
    )
    missed_date = fields.Date(
        string="Instalment Missed",
        readonly=True,
        copy=False,
        help="The date of the instalment that was not paid in time.",
    )
    missed_amount = fields.Monetary(
        string="Due by Then",
        readonly=True,
        copy=False,
        help="The amount that was due in total by the missed instalment.",
    )
    paid_when_decided = fields.Monetary(
        readonly=True,
        copy=False,
        help="What the customer had paid of the promise when the run found it kept or broken.",
    )
    notice_id = fields.Many2one(
        "isp.dunning.notice",
        string="Notice After Breach",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The notice that resumed dunning and told the customer the promise was not kept.",
    )
    note = fields.Text(string="Agreement")

    _sql_constraints = [
        (
            "grace_days_positive",
            "CHECK(grace_days >= 0)",
            "The grace days of a payment promise cannot be negative.",
        ),
    ]

    @api.depends("date", "amount_promised", "currency_id")
    def _compute_name(self):
        for promise in self:
            promise.name = self.env._(
                "Promise of %(date)s over %(amount)s",
                date=format_date(self.env, promise.date) if promise.date else "",
                amount=format_amount(self.env, promise.amount_promised, promise.currency_id)
                if promise.currency_id
                else "",
            )

    @api.depends("line_ids.amount")
    def _compute_amount_promised(self):
        for promise in self:
            promise.amount_promised = sum(promise.line_ids.mapped("amount"))

    @api.depends("move_ids.amount_residual", "amount_open_start")
    def _compute_amount_paid(self):
        for promise in self:
            open_now = sum(promise.move_ids.mapped("amount_residual"))
            promise.amount_open_now = open_now
            promise.amount_paid = max(promise.amount_open_start - open_now, 0.0)

    # ------------------------------------------------------------------
    # Defaults: the customer's overdue invoices in one currency
    # ------------------------------------------------------------------
    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        invoice = self.env["account.move"]
        if self.env.context.get("active_model") == "account.move":
            invoice = self.env["account.move"].browse(self.env.context.get("active_id")).exists()
        partner = self.env["res.partner"].browse(values.get("partner_id")).commercial_partner_id
        if invoice:
            partner = invoice.commercial_partner_id
            values["partner_id"] = partner.id
            values["company_id"] = invoice.company_id.id
        if not partner:
            return values
        moves = self._default_moves(partner, invoice)
        if moves:
            values["currency_id"] = moves.currency_id.id
            values["move_ids"] = [Command.set(moves.ids)]
            if "line_ids" in fields_list and not values.get("line_ids"):
                today = fields.Date.context_today(self)
                values["line_ids"] = [
                    Command.create(
                        {
                            "date": today + timedelta(days=14),
                            "amount": sum(moves.mapped("amount_residual")),
                        }
                    )
                ]
        return values

    def _default_moves(self, partner, invoice):
        """The customer's overdue open invoices in the currency of ``invoice``
        (else of the oldest overdue one), without those another pending
        promise covers; ``invoice`` itself always."""
        today = fields.Date.context_today(self)
        company = invoice.company_id or self.env.company
        overdue = self.env["account.move"].search(
            [
                ("commercial_partner_id", "=", partner.id),
                ("company_id", "=", company.id),
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
                ("invoice_date_due", "<", today),
                ("dunning_promise_ids", "not any", [("state", "=", "open")]),
            ],
            order="invoice_date_due, id",
        )
        currency = invoice.currency_id or overdue.sorted("invoice_date_due")[:1].currency_id
        return (invoice | overdue.filtered(lambda m: m.currency_id == currency)).sorted(
            lambda m: (m.invoice_date_due or m.invoice_date, m.id)
        )

    # ------------------------------------------------------------------
    # Create, checks
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        Move = self.env["account.move"]
        for vals in vals_list:
            if vals.get("partner_id"):
                partner = self.env["res.partner"].browse(vals["partner_id"])
                vals["partner_id"] = partner.commercial_partner_id.id
            if "amount_open_start" not in vals:
                move_ids = self._command_ids(vals.get("move_ids"))
                vals["amount_open_start"] = sum(Move.browse(move_ids).mapped("amount_residual"))
        records = super().create(vals_list)
        records._check_new_instalments()
        for promise in records:
            promise.message_post(
                body=self.env._(
                    "Payment promise recorded: %(lines)s. Dunning of %(invoices)s pauses "
                    "while it is pending.",
                    lines=promise._describe_lines(),
                    invoices=", ".join(promise.move_ids.mapped("name")),
                )
            )
        # A pending promise pauses its invoices: like a pause, it no longer
        # justifies a portal block (the block comes back if it is broken).
        portal_blocking.release_if_settled(records.partner_id)
        return records

    @api.model
    def _command_ids(self, commands):
        """The ids a many2many's commands set (create values of a promise)."""
        ids = []
        for command in commands or ():
            if command[0] == Command.SET:
                ids = list(command[2])
            elif command[0] == Command.LINK:
                ids.append(command[1])
        return ids

    def _check_new_instalments(self):
        """At creation: no instalment dated before the promise was made, and
        no promise made in the future."""
        today = fields.Date.context_today(self)
        for promise in self:
            if promise.date > today:
                raise ValidationError(
                    self.env._(
                        "The payment promise cannot be made on %s, a day in the future.",
                        format_date(self.env, promise.date),
                    )
                )
            past = promise.line_ids.filtered(lambda line, p=promise: line.date < p.date)
            if past:
                raise ValidationError(
                    self.env._(
                        "The instalment of %(date)s is before the promise was made "
                        "(%(made)s): enter a date on or after it.",
                        date=format_date(self.env, past[0].date),
                        made=format_date(self.env, promise.date),
                    )
                )

    @api.constrains("line_ids", "move_ids", "amount_open_start", "currency_id", "partner_id")
    def _check_promise(self):
        for promise in self.filtered(lambda p: p.state == "open"):
            if not promise.move_ids:
                raise ValidationError(
                    self.env._("Choose the open invoices the payment promise covers.")
                )
            if not promise.line_ids:
                raise ValidationError(
                    self.env._("Enter at least one instalment: the date and the amount promised.")
                )
            for line in promise.line_ids:
                if promise.currency_id.compare_amounts(line.amount, 0.0) <= 0:
                    raise ValidationError(
                        self.env._(
                            "The instalment of %s must be a positive amount.",
                            format_date(self.env, line.date),
                        )
                    )
            wrong = promise.move_ids.filtered(
                lambda m, p=promise: (
                    m.commercial_partner_id != p.partner_id
                    or m.move_type != "out_invoice"
                    or m.state != "posted"
                )
            )
            if wrong:
                raise ValidationError(
                    self.env._(
                        "%(invoices)s: a payment promise covers posted invoices of "
                        "%(partner)s only.",
                        invoices=", ".join(wrong.mapped("display_name")),
                        partner=promise.partner_id.display_name,
                    )
                )
            other_currency = promise.move_ids.filtered(
                lambda m, p=promise: m.currency_id != p.currency_id
            )
            if other_currency:
                raise ValidationError(
                    self.env._(
                        "%(invoices)s: a payment promise covers invoices in one currency "
                        "(%(currency)s); make one promise per currency.",
                        invoices=", ".join(other_currency.mapped("name")),
                        currency=promise.currency_id.name,
                    )
                )
            if promise.currency_id.compare_amounts(promise.amount_open_start, 0.0) <= 0:
                raise ValidationError(
                    self.env._("The invoices of the payment promise are already paid.")
                )
            if (
                promise.currency_id.compare_amounts(
                    promise.amount_promised, promise.amount_open_start
                )
                > 0
            ):
                raise ValidationError(
                    self.env._(
                        "The instalments add up to %(promised)s, more than the %(open)s open "
                        "on the invoices. Promise at most what is open (less is fine: a "
                        "partial payment agreed).",
                        promised=format_amount(
                            self.env, promise.amount_promised, promise.currency_id
                        ),
                        open=format_amount(
                            self.env, promise.amount_open_start, promise.currency_id
                        ),
                    )
                )
            others = self.search(
                [
                    ("id", "!=", promise.id),
                    ("state", "=", "open"),
                    ("move_ids", "in", promise.move_ids.ids),
                ],
                limit=1,
            )
            if others:
                raise ValidationError(
                    self.env._(
                        "%(invoices)s: already covered by the pending %(promise)s.",
                        invoices=", ".join((others.move_ids & promise.move_ids).mapped("name")),
                        promise=others.display_name,
                    )
                )

    def write(self, vals):
        frozen = {"move_ids", "line_ids", "date", "currency_id", "partner_id", "grace_days"}
        if frozen & set(vals) and self.filtered(lambda p: p.state != "open"):
            raise UserError(
                self.env._(
                    "A payment promise that was kept, broken or cancelled cannot be changed; "
                    "record a new one."
                )
            )
        return super().write(vals)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_cancel(self):
        """Withdraw a pending promise: dunning of its invoices resumes as
        before, without a broken-promise notice."""
        for promise in self:
            if promise.state != "open":
                raise UserError(self.env._("Only a pending payment promise can be cancelled."))
        self.write({"state": "cancelled", "state_date": fields.Date.context_today(self)})
        for promise in self:
            promise.message_post(
                body=self.env._("Payment promise cancelled: dunning of its invoices resumes.")
            )
        return True

    def action_view_notice(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "isp.dunning.notice",
            "res_id": self.notice_id.id,
            "view_mode": "form",
        }

    @api.model
    def _action_for(self, domain, context):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "isp_dunning.action_isp_dunning_promise"
        )
        action["domain"] = domain
        action["context"] = context
        return action

    def _describe_lines(self):
        return ", ".join(
            self.env._(
                "%(amount)s by %(date)s",
                amount=format_amount(self.env, line.amount, self.currency_id),
                date=format_date(self.env, line.date),
            )
            for line in self.line_ids.sorted("date")
        )
