from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

from ..domain.emails import parse_email_list
from ..domain.escalation import highest_level
from ..services import portal_blocking
from .isp_dunning_promise import PROMISE_STATES


class ResPartner(models.Model):
    _inherit = "res.partner"

    # Per company: each company duns its own invoices with its own ladder.
    dunning_level_id = fields.Many2one(
        "isp.dunning.level",
        company_dependent=True,
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Highest dunning level among the customer's open invoices in this company.",
    )
    dunning_excluded = fields.Boolean(
        string="Exclude from Dunning",
        copy=False,
        tracking=True,
        help="No reminders are sent to this customer.",
    )
    dunning_email = fields.Char(
        help="Reminders go to this address instead of the invoice contact.",
    )
    dunning_portal_blocked = fields.Boolean(
        string="Portal Blocked by Dunning", readonly=True, copy=False
    )
    dunning_portal_block_notice_id = fields.Many2one(
        "isp.dunning.notice",
        string="Portal Blocked by Notice",
        readonly=True,
        copy=False,
        ondelete="set null",
        groups="isp_dunning.group_dunning_user",
    )
    dunning_portal_block_manual = fields.Boolean(
        string="Portal Blocked by Hand",
        readonly=True,
        copy=False,
        groups="isp_dunning.group_dunning_user",
        help="A dunning manager blocked the portal; only a manager lifts this block.",
    )
    dunning_notice_ids = fields.One2many(
        "isp.dunning.notice",
        "partner_id",
        string="Dunning Notices",
        domain=[("state", "not in", ("proposed", "released"))],
    )
    dunning_notice_count = fields.Integer(compute="_compute_dunning_notice_count")
    dunning_promise_count = fields.Integer(
        compute="_compute_dunning_promise", groups="isp_dunning.group_dunning_user"
    )
    dunning_promise_state = fields.Selection(
        PROMISE_STATES,
        string="Latest Payment Promise",
        compute="_compute_dunning_promise",
        groups="isp_dunning.group_dunning_user",
    )

    def _compute_dunning_promise(self):
        """The number of the customer's payment promises and the state of
        the latest one, for the smart button (one query)."""
        latest = {}
        counts = {}
        for promise in self.env["isp.dunning.promise"].search_fetch(
            [("partner_id", "in", self.commercial_partner_id.ids)],
            ["partner_id", "state"],
            order="date desc, id desc",
        ):
            counts[promise.partner_id.id] = counts.get(promise.partner_id.id, 0) + 1
            latest.setdefault(promise.partner_id.id, promise.state)
        for partner in self:
            key = partner.commercial_partner_id.id
            partner.dunning_promise_count = counts.get(key, 0)
            partner.dunning_promise_state = latest.get(key, False)

    def action_view_dunning_promises(self):
        self.ensure_one()
        partner = self.commercial_partner_id
        return self.env["isp.dunning.promise"]._action_for(
            [("partner_id", "=", partner.id)], {"default_partner_id": partner.id}
        )

    def _compute_dunning_notice_count(self):
        counts = dict(
            self.env["isp.dunning.notice"]._read_group(
                [
                    ("partner_id", "in", self.ids),
                    ("state", "not in", ("proposed", "released")),
                ],
                ["partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.dunning_notice_count = counts.get(partner, 0)

    def _increase_rank(self, field, n=1):
        # While dunning posts a batch of fee documents, collect the customer
        # ranks and raise them with one update after the batch.
        ranks = self.env.context.get("dunning_customer_ranks")
        if ranks is not None and field == "customer_rank":
            for partner_id in self.ids:
                ranks[partner_id] += n
            return
        super()._increase_rank(field, n)

    @api.constrains("dunning_email")
    def _check_dunning_email(self):
        for partner in self.filtered("dunning_email"):
            try:
                addresses = parse_email_list(partner.dunning_email)
            except ValueError as error:
                raise ValidationError(
                    self.env._(
                        "Dunning email of %(partner)s: %(error)s",
                        partner=partner.display_name,
                        error=error,
                    )
                ) from error
            if len(addresses) != 1:
                raise ValidationError(
                    self.env._(
                        "Dunning email of %s: enter exactly one address.", partner.display_name
                    )
                )

    def _dunning_recipient_emails(self):
        """{partner id: address} for reminders: the dunning email, else the
        invoice address contact's, else the partner's own (one query)."""
        invoice_contacts = self.search_read(
            [
                ("parent_id", "in", self.ids),
                ("type", "=", "invoice"),
                ("email", "!=", False),
            ],
            ["parent_id", "email"],
            order="id",
        )
        invoice_email = {}
        for row in invoice_contacts:
            invoice_email.setdefault(row["parent_id"][0], row["email"])
        return {
            partner.id: partner.dunning_email
            or invoice_email.get(partner.id)
            or partner.email
            or False
            for partner in self
        }

    def _dunning_refresh_level(self):
        """Store, per company, the highest level among the open invoices of
        these commercial partners: one grouped query, one read per company."""
        partners = self.commercial_partner_id
        if not partners:
            return
        groups = (
            self.env["account.move"]
            .sudo()
            ._read_group(
                [
                    ("commercial_partner_id", "in", partners.ids),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                    ("dunning_level_id", "!=", False),
                    ("payment_state", "not in", ("paid", "in_payment", "reversed")),
                ],
                ["company_id", "commercial_partner_id", "dunning_level_id"],
            )
        )
        levels_of = defaultdict(list)
        for company, partner, level in groups:
            levels_of[company.id, partner.id].append(level)
        highest = {key: highest_level(levels) for key, levels in levels_of.items()}
        # Every company that duns, so that a level a company left is cleared.
        companies = (
            self.env["isp.dunning.level"]
            .sudo()
            .with_context(active_test=False)
            ._read_group([], ["company_id"])
        )
        no_level = self.env["isp.dunning.level"]
        for (company,) in companies:
            changes = defaultdict(list)
            for partner in partners.sudo().with_company(company):
                level = highest.get((company.id, partner.id), no_level)
                if partner.dunning_level_id != level:
                    changes[level.id].append(partner.id)
            for level_id, partner_ids in changes.items():
                self.browse(partner_ids).sudo().with_company(company).write(
                    {"dunning_level_id": level_id}
                )

    # ------------------------------------------------------------------
    # Portal block (services/portal_blocking.py)
    # ------------------------------------------------------------------
    def _dunning_unblock_portal(self, message):
        """Restore the portal users dunning blocked of these customers."""
        portal_blocking.unblock_portals(self, message)

    def action_dunning_block_portal(self):
        self._dunning_check_manager()
        customers = self.commercial_partner_id.filtered(lambda p: not p.dunning_portal_blocked)
        by_hand = self.env["isp.dunning.notice"]
        portal_blocking.block_portals(self.env, [(customer, by_hand) for customer in customers])
        return True

    def action_dunning_unblock_portal(self):
        self._dunning_check_manager()
        portal_blocking.unblock_portals(
            self.commercial_partner_id.filtered("dunning_portal_blocked"),
            self.env._("Portal access restored by hand by %s.", self.env.user.name),
        )
        return True

    def _dunning_check_manager(self):
        if not self.env.user.has_group("isp_dunning.group_dunning_manager"):
            raise AccessError(
                self.env._("Only dunning managers can block or unblock portal access.")
            )

    def action_view_dunning_notices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "isp_dunning.action_isp_dunning_notice"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        return action
