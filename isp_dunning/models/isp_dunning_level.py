from psycopg2.extras import Json

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..domain import escalation, rendering, template_context, template_upgrades
from ..domain.emails import parse_email_list

TEMPLATE_FIELDS = (
    "subject_template",
    "body_text_template",
    "body_html_template",
    "letter_text_template",
)
HTML_TEMPLATE_FIELDS = ("body_html_template", "letter_text_template")


class IspDunningLevel(models.Model):
    """One step of a company's dunning ladder."""

    _name = "isp.dunning.level"
    _description = "Dunning Level"
    _order = "company_id, sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10, required=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")

    # When the level is reached
    delay_days = fields.Integer(
        string="Delay (days)",
        required=True,
        default=14,
        help="Days after the due date or after the previous level's notice.",
    )
    delay_basis = fields.Selection(
        [
            ("due_date", "Days after due date"),
            ("previous_level", "Days after previous notice"),
        ],
        required=True,
        default="previous_level",
    )

    # What it costs
    fee_amount = fields.Monetary(
        string="Dunning Fee",
        currency_field="currency_id",
        help="Charged once per notice at this level. German courts accept only "
        "real costs (postage, material); keep it low. The business lump sum of "
        "§ 288 (5) BGB is credited against it (sentence 3): a notice charges only "
        "the part of its fee that exceeds the lump sums charged, on it or before, "
        "for the invoices it lists.",
    )
    minimum_amount = fields.Monetary(
        currency_field="currency_id",
        default=5.0,
        help="The level is reached only when the customer's net overdue amount (overdue "
        "invoices less open credit notes and payments, per currency) is at least this "
        "amount; below it the customer waits and the run log says why. In another "
        "currency the amount is converted at the run date. 0: no minimum.",
    )
    interest_mode = fields.Selection(
        [
            ("none", "No interest"),
            ("fixed", "Fixed annual rate"),
            ("statutory", "Statutory (§ 288 BGB: base rate + 5 / 9 points)"),
        ],
        required=True,
        default="none",
    )
    interest_rate = fields.Float(
        string="Interest Rate (% p.a.)",
        digits=(5, 2),
        help="Annual rate for the fixed interest mode.",
    )
    b2b_flat_fee = fields.Boolean(
        string="Business Lump Sum (40 EUR)",
        help="Charge the lump sum of § 288 (5) BGB once per invoice to business customers. "
        "It is credited against the dunning fees (§ 288 (5) sentence 3 BGB): a notice "
        "at a level charging both charges the larger of fee and lump sums, and later "
        "notices charge their fee only as far as it exceeds the lump sums of their "
        "invoices. Fee documents never get a lump sum or interest (§ 289 BGB).",
    )

    # What is sent
    subject_template = fields.Char(translate=True, required=True)
    body_text_template = fields.Text(string="Text Body", translate=True)
    body_html_template = fields.Text(string="HTML Body", translate=True)
    letter_text_template = fields.Text(
        string="Letter Text",
        translate=True,
        help="The level's text on the letter by post, between the salutation and the claim "
        "statement: a template in HTML with the variables of the email. The letter adds the "
        "address, the information block, the level's name as subject, the salutation, the "
        "claim statement, how to pay (pay link and GiroCode) and the closing itself. "
        "Empty: the letter states the claim without a text of the level.",
    )
    send_email = fields.Boolean(default=True)
    send_letter = fields.Boolean(
        string="Send Letter by Post",
        help="Produce a PDF letter that the company prints and posts.",
    )
    attach_invoices = fields.Boolean(string="Attach Invoice PDFs")
    cc_emails = fields.Char(string="CC", help="Comma-separated addresses copied on every email.")
    bcc_emails = fields.Char(string="BCC")
    copy_to_company = fields.Boolean(help="Send a blind copy to the company's own email address.")

    # Consequences
    collection_handover = fields.Boolean(
        string="Hand Over to Collection Agency",
        help="Invoices reaching this level are sent to the collection agency "
        "and leave automatic dunning.",
    )
    collection_agency_id = fields.Many2one(
        "res.partner",
        check_company=True,
    )
    block_portal = fields.Boolean(
        string="Block Portal Access",
        help="Block the customer's portal users when an invoice reaches this level.",
    )
    announce_portal_block = fields.Boolean(
        help="The notice announces that portal access will be blocked.",
    )
    server_action_id = fields.Many2one(
        "ir.actions.server",
        domain=[("model_id.model", "=", "isp.dunning.notice")],
        groups="base.group_system",
        help="Runs when a customer reaches this level, e.g. to suspend the "
        "internet line in the provisioning system. Only Settings administrators can set "
        "it; it runs with the access rights of the company's Run Provisioning Actions As user.",
    )
    notice_count = fields.Integer(compute="_compute_notice_count")

    def _compute_notice_count(self):
        counts = dict(
            self.env["isp.dunning.notice"]._read_group(
                [
                    ("level_id", "in", self.ids),
                    ("state", "not in", ("proposed", "released")),
                ],
                ["level_id"],
                ["__count"],
            )
        )
        for level in self:
            level.notice_count = counts.get(level, 0)

    # ------------------------------------------------------------------
    # Constraints
    # ------------------------------------------------------------------
    @api.constrains("delay_days", "fee_amount", "minimum_amount", "interest_rate", "interest_mode")
    def _check_amounts(self):
        for level in self:
            if level.delay_days < 0:
                raise ValidationError(
                    self.env._("Level '%s': the delay cannot be negative.", level.name)
                )
            if level.fee_amount < 0:
                raise ValidationError(
                    self.env._("Level '%s': the dunning fee cannot be negative.", level.name)
                )
            if level.minimum_amount < 0:
                raise ValidationError(
                    self.env._(
                        "Level '%s': the minimum amount cannot be negative; enter 0 for no "
                        "minimum.",
                        level.name,
                    )
                )
            if level.interest_rate < 0:
                raise ValidationError(
                    self.env._("Level '%s': the interest rate cannot be negative.", level.name)
                )
            if level.interest_mode == "fixed" and not level.interest_rate:
                raise ValidationError(
                    self.env._(
                        "Level '%s': enter the annual interest rate for the fixed interest mode.",
                        level.name,
                    )
                )

    @api.constrains("sequence", "delay_days", "delay_basis", "active", "company_id")
    def _check_ladder(self):
        for company in self.company_id:
            levels = self.search([("company_id", "=", company.id)], order="sequence, id")
            problems = escalation.validate_ladder([level._to_domain_level() for level in levels])
            if problems:
                raise ValidationError(
                    self.env._(
                        "The dunning levels of %(company)s are not consistent:\n%(problems)s",
                        company=company.name,
                        problems="\n".join(problems),
                    )
                )

    @api.constrains("cc_emails", "bcc_emails")
    def _check_emails(self):
        for level in self:
            for field_name in ("cc_emails", "bcc_emails"):
                try:
                    parse_email_list(level[field_name])
                except ValueError as error:
                    raise ValidationError(
                        self.env._(
                            "Level '%(level)s', %(field)s: %(error)s",
                            level=level.name,
                            field=self._fields[field_name].string,
                            error=error,
                        )
                    ) from error

    @api.constrains(*TEMPLATE_FIELDS)
    def _check_templates(self):
        """Each template must compile and render against the sample of the
        template context (the schema real notices are built with), so that a
        template that saves and previews fine cannot fail on a key or a kind
        of value in production."""
        lang = self.env.context.get("lang") or "en_US"
        sample = template_context.sample_context(lang)
        for level in self:
            for field_name in TEMPLATE_FIELDS:
                source = level[field_name]
                try:
                    rendering.check_syntax(source)
                except rendering.TemplateProblem as problem:
                    raise ValidationError(
                        self.env._(
                            "Level '%(level)s', %(field)s is not a valid template: %(problem)s",
                            level=level.name,
                            field=self._fields[field_name].string,
                            problem=problem,
                        )
                    ) from problem
                if not source:
                    continue
                try:
                    rendering.render(source, sample, html=field_name in HTML_TEMPLATE_FIELDS)
                except rendering.TemplateProblem as problem:
                    raise ValidationError(
                        self.env._(
                            "Level '%(level)s', %(field)s does not render with the data of a "
                            "notice: %(problem)s",
                            level=level.name,
                            field=self._fields[field_name].string,
                            problem=problem,
                        )
                    ) from problem

    @api.constrains("collection_handover", "collection_agency_id")
    def _check_collection_agency(self):
        for level in self:
            if level.collection_handover and not level.collection_agency_id:
                raise ValidationError(
                    self.env._(
                        "Level '%s' hands cases over to a collection agency: choose the agency.",
                        level.name,
                    )
                )
            if level.collection_handover and not level.collection_agency_id.email:
                raise ValidationError(
                    self.env._(
                        "The collection agency %s has no email address; it is "
                        "needed for the handover.",
                        level.collection_agency_id.display_name,
                    )
                )
            if level.collection_handover:
                # The handover mail goes to this address: refuse it now, not at sending.
                try:
                    parse_email_list(level.collection_agency_id.email)
                except ValueError as error:
                    raise ValidationError(
                        self.env._(
                            "The email address of the collection agency %(agency)s is "
                            "not usable for the handover: %(error)s",
                            agency=level.collection_agency_id.display_name,
                            error=error,
                        )
                    ) from error

    @api.constrains("active")
    def _check_archive_in_use(self):
        # The run cannot place an invoice whose level left the ladder: its
        # customer would fail every run from then on.
        archived = self.filtered(lambda level: not level.active)
        if not archived:
            return
        groups = (
            self.env["account.move"]
            .sudo()
            ._read_group(
                [
                    ("dunning_level_id", "in", archived.ids),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                    ("dunning_handed_over", "=", False),
                    ("payment_state", "not in", ("paid", "in_payment", "reversed")),
                ],
                ["dunning_level_id"],
                ["__count"],
            )
        )
        for level, count in groups:
            raise ValidationError(
                self.env._(
                    "Level '%(level)s' is the current level of %(count)s open invoices; "
                    "archive it only when they have left dunning.",
                    level=level.name,
                    count=count,
                )
            )

    @api.constrains("server_action_id")
    def _check_server_action_user(self):
        for level in self.sudo().filtered("server_action_id"):
            if not level.company_id.dunning_action_user_id:
                raise ValidationError(
                    self.env._(
                        "Level '%(level)s' has a server action: first choose the user it runs "
                        "as for %(company)s (Run Provisioning Actions As).",
                        level=level.name,
                        company=level.company_id.name,
                    )
                )

    @api.constrains("send_email", "send_letter")
    def _check_channel(self):
        for level in self:
            if not (level.send_email or level.send_letter):
                raise ValidationError(
                    self.env._(
                        "Level '%s' must be sent by email, by letter, or both.",
                        level.name,
                    )
                )

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    def _to_domain_level(self):
        self.ensure_one()
        return escalation.Level(
            id=self.id,
            sequence=self.sequence,
            delay_days=self.delay_days,
            delay_basis=self.delay_basis,
            name=self.name or "",
        )

    @api.model
    def _get_ladder(self, company):
        """Active levels of a company, in escalation order."""
        return self.with_company(company).search(
            [("company_id", "=", company.id)], order="sequence, id"
        )

    def action_view_notices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "isp_dunning.action_isp_dunning_notice"
        )
        action["domain"] = [("level_id", "=", self.id)]
        return action

    def action_preview(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Preview Notice"),
            "res_model": "isp.dunning.preview.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_level_id": self.id},
        }

    @api.model
    def _mend_shipped_text_templates(self):
        """Restore the line breaks of the shipped claim table in the text
        bodies of every level and language (``template_upgrades``); levels
        are not updated by a module upgrade, their texts are the
        accountants'. Returns the levels changed."""
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT id, body_text_template FROM isp_dunning_level"
            " WHERE body_text_template IS NOT NULL"
        )
        changed = []
        for level_id, values in self.env.cr.fetchall():
            mended = {
                lang: template_upgrades.mend_claim_line_breaks(text)
                for lang, text in values.items()
            }
            if mended != values:
                self.env.cr.execute(
                    "UPDATE isp_dunning_level SET body_text_template = %s WHERE id = %s",
                    [Json(mended), level_id],
                )
                changed.append(level_id)
        levels = self.browse(changed)
        levels.invalidate_recordset(["body_text_template"])
        return levels
