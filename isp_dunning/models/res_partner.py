from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..domain.emails import parse_email_list


class ResPartner(models.Model):
    _inherit = "res.partner"

    dunning_level_id = fields.Many2one(
        "isp.dunning.level",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Highest dunning level among the customer's open invoices.",
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
    dunning_notice_ids = fields.One2many(
        "isp.dunning.notice", "partner_id", string="Dunning Notices"
    )
    dunning_notice_count = fields.Integer(compute="_compute_dunning_notice_count")

    def _compute_dunning_notice_count(self):
        counts = dict(
            self.env["isp.dunning.notice"]._read_group(
                [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.dunning_notice_count = counts.get(partner, 0)

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
        """Store the highest level among the open invoices of these
        commercial partners, with one grouped query."""
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
                ["commercial_partner_id", "dunning_level_id"],
            )
        )
        highest = {}
        for partner, level in groups:
            current = highest.get(partner.id)
            if not current or (level.sequence, level.id) > (current.sequence, current.id):
                highest[partner.id] = level
        changes = defaultdict(list)
        for partner in partners:
            level = highest.get(partner.id, self.env["isp.dunning.level"])
            if partner.dunning_level_id != level:
                changes[level.id].append(partner.id)
        for level_id, partner_ids in changes.items():
            self.browse(partner_ids).sudo().write({"dunning_level_id": level_id})

    # ------------------------------------------------------------------
    # Consequences of a level: portal block and provisioning hooks
    # ------------------------------------------------------------------
    def _dunning_apply_notices(self, notices):
        """Run what the notices' levels trigger: the level's server action
        and, at a blocking level, the portal block."""
        for notice in notices:
            action = notice.level_id.server_action_id
            if action:
                action.sudo().with_context(
                    active_model=notice._name,
                    active_id=notice.id,
                    active_ids=notice.ids,
                    dunning_partner_id=notice.partner_id.id,
                    dunning_move_ids=notice.move_ids.ids,
                ).run()

    def _dunning_release_if_settled(self):
        """Lift dunning's portal block of customers with nothing left at a
        blocking level."""
        return self.browse()

    def action_view_dunning_notices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "isp_dunning.action_isp_dunning_notice"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        return action
