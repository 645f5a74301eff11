from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..services import cancellation, notice_context

NOTICE_STATES = [
    ("draft", "Draft"),
    ("to_send", "To Send"),
    ("sent", "Sent"),
    ("to_print", "To Print"),
    ("printed", "Printed"),
    ("error", "Error"),
    ("cancelled", "Cancelled"),
]


class IspDunningNotice(models.Model):
    """One reminder to one customer at one level on one date."""

    _name = "isp.dunning.notice"
    _description = "Dunning Notice"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(string="Number", required=True, copy=False, readonly=True, default="/")
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        readonly=True,
        tracking=True,
    )
    level_id = fields.Many2one(
        "isp.dunning.level",
        required=True,
        index=True,
        readonly=True,
        ondelete="restrict",
    )
    # Precomputed (here and below): inserted with the notice instead of
    # updated right after it.
    level_sequence = fields.Integer(related="level_id.sequence", store=True, precompute=True)
    date = fields.Date(required=True, index=True, readonly=True)
    deadline_date = fields.Date(
        string="Payment Deadline",
        readonly=True,
        help="The new payment deadline stated on the notice.",
    )
    run_id = fields.Many2one("isp.dunning.run", readonly=True, ondelete="set null")
    move_ids = fields.Many2many(
        "account.move",
        "isp_dunning_notice_account_move_rel",
        "notice_id",
        "move_id",
        string="Invoices",
        readonly=True,
    )
    line_ids = fields.One2many("isp.dunning.notice.line", "notice_id", readonly=True)
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    amount_open = fields.Monetary(string="Open Amount", readonly=True)
    fee_amount = fields.Monetary(string="Fee", readonly=True)
    lump_sum_amount = fields.Monetary(string="Lump Sums", readonly=True)
    interest_amount = fields.Monetary(string="Interest", readonly=True)
    return_charge_amount = fields.Monetary(
        string="Returned Debit Charges",
        readonly=True,
        help="Charges for returned direct debits of the invoices on this notice.",
    )
    amount_earlier_charges = fields.Monetary(
        string="Earlier Charges",
        readonly=True,
        help="Open fee documents of earlier notices that are not on this notice.",
    )
    amount_credits = fields.Monetary(
        string="Credits",
        readonly=True,
        help="Open credit notes and payments of the customer netted against the claim.",
    )
    fee_credited = fields.Monetary(
        readonly=True,
        help="The part of the level's fee not charged: it is credited against the lump "
        "sums charged for the invoices on the notice (§ 288 (5) sentence 3 BGB).",
    )
    claim_data = fields.Json(
        readonly=True,
        copy=False,
        help="The claim statement of the notice (rows and amounts) as stated to the customer.",
    )
    amount_total_due = fields.Monetary(
        string="Total Due", compute="_compute_amount_total_due", store=True, precompute=True
    )
    state = fields.Selection(
        NOTICE_STATES, default="draft", required=True, index=True, tracking=True
    )
    channel = fields.Selection(
        [("email", "Email"), ("letter", "Letter"), ("email_letter", "Email and Letter")],
        required=True,
        default="email",
        readonly=True,
    )
    email_to = fields.Char(string="Recipient", readonly=True)
    fee_move_ids = fields.One2many(
        "account.move", "dunning_fee_notice_id", string="Fee Documents", readonly=True
    )
    fee_move_id = fields.Many2one(
        "account.move",
        string="Fee Document",
        compute="_compute_fee_move_id",
        store=True,
        precompute=True,
        help="The customer invoice that books this notice's fees and interest.",
    )
    broken_promise_id = fields.Many2one(
        "isp.dunning.promise",
        string="Broken Payment Promise",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The payment promise the customer did not keep; the notice says so.",
    )
    delivered_date = fields.Date(
        string="Delivered On",
        readonly=True,
        copy=False,
        help="The day the notice was actually sent (its email) or printed (its letter).",
    )
    error_message = fields.Text(readonly=True)
    portal_block_announced = fields.Boolean(readonly=True)
    portal_block_postponed = fields.Boolean(
        readonly=True,
        help="The level blocks the portal, but the consumer guard (§ 61 TKG) or a day that "
        "is not a working day of the company (weekend, public holiday) postponed it.",
    )
    portal_block_note = fields.Char(readonly=True)
    portal_block_workday = fields.Date(
        string="Block Postponed To",
        readonly=True,
        copy=False,
        help="The block was due on a weekend or a public holiday of the company's working "
        "calendar and waits for this working day; the first run on or after it blocks.",
    )
    action_workday = fields.Date(
        string="Action Postponed To",
        readonly=True,
        copy=False,
        help="The level's provisioning action was due on a weekend or a public holiday of "
        "the company's working calendar and waits for this working day; the first run on "
        "or after it runs the action.",
    )
    portal_block = fields.Boolean(
        string="Portal Blocked",
        readonly=True,
        help="This notice blocked the customer's portal access.",
    )
    portal_block_released = fields.Boolean(
        string="Portal Block Lifted on Payment",
        readonly=True,
        help="Dunning lifted this notice's block when the invoices were paid or paused. "
        "A later run blocks again when one of them is open at a blocking level again, "
        "e.g. after a returned direct debit.",
    )
    collection_handover = fields.Boolean(related="level_id.collection_handover")

    # What was delivered: the rendered texts, the mail and the letter.
    subject = fields.Char(readonly=True)
    body_text = fields.Text(string="Text Body", readonly=True)
    body_html = fields.Html(string="HTML Body", readonly=True, sanitize=True, sanitize_style=True)
    email_cc = fields.Char(string="CC", readonly=True)
    email_bcc = fields.Char(string="BCC", readonly=True)
    mail_id = fields.Many2one("mail.mail", string="Email", readonly=True, copy=False)
    letter_attachment_id = fields.Many2one(
        "ir.attachment", string="Letter", readonly=True, copy=False
    )
    handover_mail_id = fields.Many2one(
        "mail.mail", string="Handover Email", readonly=True, copy=False
    )

    _sql_constraints = [
        (
            "amounts_positive",
            "CHECK(fee_amount >= 0 AND interest_amount >= 0 AND lump_sum_amount >= 0)",
            "Fees and interest of a notice cannot be negative.",
        ),
    ]

    def init(self):
        # The database itself guarantees one live notice per customer, currency
        # and day: two workers running at once cannot both create it.
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS isp_dunning_notice_unique_per_day
                ON isp_dunning_notice (company_id, partner_id, currency_id, date)
             WHERE state != 'cancelled'
            """
        )

    @api.depends("fee_move_ids")
    def _compute_fee_move_id(self):
        for notice in self:
            notice.fee_move_id = notice.fee_move_ids[:1]

    @api.depends(
        "amount_open",
        "fee_amount",
        "lump_sum_amount",
        "interest_amount",
        "amount_earlier_charges",
        "amount_credits",
        "return_charge_amount",
    )
    def _compute_amount_total_due(self):
        # The whole claim of the notice's currency (domain.claim).
        for notice in self:
            notice.amount_total_due = notice.currency_id.round(
                notice.amount_open
                + notice.amount_earlier_charges
                + notice.fee_amount
                + notice.lump_sum_amount
                + notice.interest_amount
                + notice.return_charge_amount
                - notice.amount_credits
            )

    @api.model_create_multi
    def create(self, vals_list):
        unnamed = defaultdict(list)
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                unnamed[vals.get("company_id"), vals.get("date")].append(vals)
        for (company_id, date), group in unnamed.items():
            names = self._next_numbers(company_id, date, len(group))
            for vals, name in zip(group, names, strict=True):
                vals["name"] = name or "/"
        return super().create(vals_list)

    @api.model
    def _next_numbers(self, company_id, date, count):
        """``count`` consecutive numbers of the notice sequence for ``date``,
        as ``next_by_code`` would draw them one by one, reserved with one
        query on a standard (gapped) sequence."""
        sequence = self.env["ir.sequence"].with_company(company_id)
        sequence.browse().check_access("read")
        company = sequence.env.company
        found = sequence.search(
            [("code", "=", "isp.dunning.notice"), ("company_id", "in", [company.id, False])],
            order="company_id",
            limit=1,
        )
        if not found:
            return [False] * count
        # The first number through Odoo: it finds or creates the date range.
        names = [found._next(sequence_date=date)]
        if count == 1:
            return names
        if found.implementation != "standard":
            # No-gap sequences lock their row per number; keep Odoo's way.
            return names + [found._next(sequence_date=date) for _i in range(count - 1)]
        if found.use_date_range:
            day = date or self.env.context.get("ir_sequence_date", fields.Date.today())
            date_range = self.env["ir.sequence.date_range"].search(
                [
                    ("sequence_id", "=", found.id),
                    ("date_from", "<=", day),
                    ("date_to", ">=", day),
                ],
                limit=1,
            )
            pg_sequence = f"ir_sequence_{found.id:03d}_{date_range.id:03d}"
            formatter = found.with_context(ir_sequence_date_range=date_range.date_from)
        else:
            pg_sequence = f"ir_sequence_{found.id:03d}"
            formatter = found
        self.env.cr.execute(
            "SELECT nextval(%s) FROM generate_series(1, %s)", (pg_sequence, count - 1)
        )
        numbers = sorted(row[0] for row in self.env.cr.fetchall())
        return names + [formatter.get_next_char(number) for number in numbers]

    @api.ondelete(at_uninstall=False)
    def _unlink_only_draft_or_cancelled(self):
        if any(notice.state not in ("draft", "cancelled") for notice in self):
            raise UserError(
                self.env._("Only draft or cancelled notices can be deleted; cancel it first.")
            )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_cancel(self):
        """Cancel notices and undo them: the queued mail is cancelled (a sent
        one is recorded), the fee document reversed by a reconciled credit
        note, a portal block it caused lifted and the invoices returned to
        their dunning state before the notice (services/cancellation.py).
        A notice handed over to the collection agency cannot be cancelled."""
        return cancellation.cancel(self)

    def action_retry(self):
        """Put failed notices back in the queue."""
        for notice in self.filtered(lambda n: n.state == "error"):
            # mail.mail is for administrators only; requeueing the notice's own mail is safe.
            mail = notice.mail_id.sudo()
            if mail.state == "exception":
                mail.mark_outgoing()
            notice.write(
                {
                    "state": "to_send" if notice.channel != "letter" else "to_print",
                    "error_message": False,
                }
            )
        return True

    def action_mark_printed(self):
        printed = self.filtered(lambda n: n.state == "to_print")
        printed.write({"state": "printed"})
        printed._mark_delivered()
        return True

    def action_register_payment(self):
        """Open *Register Payment*: the payment is allocated to this notice's
        open items in the order of § 367 BGB."""
        self.ensure_one()
        if self.state == "cancelled":
            raise UserError(self.env._("Notice %s is cancelled.", self.name))
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "isp_dunning.action_isp_dunning_register_payment"
        )
        action["context"] = {"default_notice_id": self.id}
        return action

    def _mark_delivered(self):
        """Record the day the notices reached the customer (first delivery)."""
        self.filtered(lambda n: not n.delivered_date).write(
            {"delivered_date": fields.Date.context_today(self)}
        )

    def action_view_fee_move(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": self.fee_move_id.id,
            "view_mode": "form",
        }

    # ------------------------------------------------------------------
    # Rendering (services/notice_context.py)
    # ------------------------------------------------------------------
    def _render_context(self, calendar=None):
        """The plain data snapshot the reminder templates see."""
        self.ensure_one()
        return notice_context.render_context(self, calendar)

    def _claim_statement(self):
        """The notice's claim statement (domain.claim.Claim) as stated to the
        customer."""
        self.ensure_one()
        return notice_context.claim_statement(self)

    def _claim_earlier_charges(self):
        """The earlier fee documents the notices' claim statements list."""
        return notice_context.claim_earlier_charges(self)

    @api.model
    def _claim_context(self, statement, lang):
        """What the templates see as ``claim``, labelled in ``lang``."""
        return notice_context.claim_context(self.env, statement, lang)

    @api.model
    def _build_render_context(self, **parts):
        """A render context from its parts (see
        ``notice_context.build_render_context``)."""
        return notice_context.build_render_context(self.env, **parts)

    def _render_parts(self, level=None, context=None, calendar=None):
        """Subject, text and HTML of the notice in the customer's language."""
        self.ensure_one()
        level = (level or self.level_id).with_context(lang=self.partner_id.lang)
        context = context or self._render_context(calendar)
        return notice_context.render_level(level, context)
