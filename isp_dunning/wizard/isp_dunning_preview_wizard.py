from odoo import api, fields, models

from ..domain import claim, escalation, planning, rendering, template_context
from ..domain.money import to_decimal
from ..services import batch_reader, run_setup
from ..services.notice_context import render_level


class IspDunningPreviewWizard(models.TransientModel):
    """Render a level's texts for one customer with today's real figures."""

    _name = "isp.dunning.preview.wizard"
    _description = "Dunning Notice Preview"

    level_id = fields.Many2one("isp.dunning.level", required=True)
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        domain="[('parent_id', '=', False)]",
        help="Leave empty to preview with sample data.",
    )
    date = fields.Date(default=fields.Date.context_today, required=True)
    subject = fields.Char(compute="_compute_preview")
    body_text = fields.Text(compute="_compute_preview")
    body_html = fields.Html(compute="_compute_preview", sanitize=True)
    error = fields.Text(compute="_compute_preview")

    @api.depends("level_id", "partner_id", "date")
    def _compute_preview(self):
        for wizard in self:
            wizard.update(
                {"subject": False, "body_text": False, "body_html": False, "error": False}
            )
            if not wizard.level_id:
                continue
            try:
                context = wizard._preview_context()
                level = wizard.level_id.with_context(lang=wizard.partner_id.lang or self.env.lang)
                parts = render_level(level, context)
            except rendering.TemplateProblem as problem:
                wizard.error = str(problem)
                continue
            wizard.subject = parts["subject"]
            wizard.body_text = parts["body_text"]
            wizard.body_html = parts["body_html"]

    def _preview_context(self):
        self.ensure_one()
        level = self.level_id
        company = level.company_id
        if not self.partner_id:
            return template_context.sample_context(self.env.context.get("lang") or "de_DE")
        partner = self.partner_id.commercial_partner_id
        run = self.env["isp.dunning.run"].new(
            {"company_id": company.id, "date": self.date, "dry_run": True}
        )
        items, invoice_ids = batch_reader.read_open_items(run, [partner.id])
        # A one-level ladder reached on the due date: everything overdue is shown.
        config = planning.LevelConfig(
            level=escalation.Level(level.id, level.sequence, 0, "due_date", level.name),
            fee_amount=to_decimal(level.fee_amount),
            interest_mode=level.interest_mode,
            interest_rate=to_decimal(round(level.interest_rate, 2)),
            b2b_flat_fee=level.b2b_flat_fee,
        )
        context = run_setup.prepare_context(run, level)
        currencies = self.env["res.currency"].browse(
            {item.currency for item in items.get(partner.id, [])}
        )
        settings = batch_reader.settings_for(run, context, currencies)
        plan = planning.plan_customer(
            planning.Customer(partner.id, escalation.is_business(partner.is_company, partner.vat)),
            items.get(partner.id, []),
            {
                move.id: planning.Invoice(move.id, fee_document=bool(move.dunning_fee_notice_id))
                for move in self.env["account.move"].browse(sorted(invoice_ids))
            },
            [config],
            settings,
        )
        Notice = self.env["isp.dunning.notice"]
        currency = company.currency_id
        lines = []
        amounts = dict.fromkeys(template_context.MONEY_KEYS, 0.0)
        statement = None
        if plan.notices:
            notice = plan.notices[0]
            currency = self.env["res.currency"].browse(notice.currency)
            moves = self.env["account.move"].browse([ln.move_id for ln in notice.lines])
            for line, move in zip(notice.lines, moves, strict=True):
                lines.append(
                    {
                        "move": move,
                        "due_date": line.due_date,
                        "days_overdue": line.days_overdue,
                        "amount_open": float(line.amount_open),
                        "level": level,
                        "interest_date_from": line.interest_from,
                        "interest_date_to": line.interest_to,
                        "interest_days": line.interest_days,
                        "interest_amount": float(line.interest_amount),
                        "interest_detail": planning.describe_instalments(
                            line.instalments, partner.lang or "de"
                        ),
                    }
                )
            amounts = {
                "amount_open": float(notice.amount_open),
                "fee_amount": float(notice.fee_amount),
                "lump_sum_amount": float(notice.lump_sum_amount),
                "interest_amount": float(notice.interest_amount),
                "return_charge_amount": float(notice.return_charge_amount),
                "amount_earlier_charges": float(notice.amount_earlier_charges),
                "amount_credits": float(notice.amount_credits),
                "fee_credited": float(notice.fee_credited),
                "amount_total_due": float(notice.amount_total_due),
            }
            statement = claim.claim_of(notice)
        return Notice._build_render_context(
            partner=partner,
            level=level,
            date=self.date,
            deadline=fields.Date.add(self.date, days=company.dunning_payment_days),
            currency=currency,
            lines=lines,
            amounts=amounts,
            reference=self.env._("PREVIEW"),
            company=company,
            claim=statement,
        )
