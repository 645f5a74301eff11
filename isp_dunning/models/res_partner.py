import logging
from collections import defaultdict

from markupsafe import escape

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import format_date

from ..domain import portal_guard
from ..domain.emails import parse_email_list
from ..domain.escalation import highest_level
from ..services import portal_blocking

_logger = logging.getLogger(__name__)


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
    # Consequences of a level: portal block and provisioning hooks
    # ------------------------------------------------------------------
    def _dunning_apply_notices(self, notices):
        """Apply what the notices' levels trigger: at a blocking level the
        portal block, unless the consumer guard postpones it, then the
        level's server action. On a blocking level the action waits for the
        block, so that a provisioning hook never suspends a line that § 61
        TKG still protects; it runs when a later run lifts the postponement.
        The guard of all customers is computed at once (a few queries per
        batch, not per customer)."""
        notices = notices.sudo()
        blocking = notices.filtered(
            lambda n: n.level_id.block_portal and not n.partner_id.dunning_portal_blocked
        )
        guards = {}
        for (company, date), group in blocking.grouped(lambda n: (n.company_id, n.date)).items():
            partner_guards = portal_blocking.block_guards(group.partner_id, company, date)
            for partner_id, reasons in partner_guards.items():
                guards[partner_id, company.id, date] = reasons
        postponed = []
        blocks = []
        blocked = set()
        with_action = []
        for notice in notices:
            partner = notice.partner_id
            already_blocked = partner.dunning_portal_blocked or partner.id in blocked
            reasons = guards.get((partner.id, notice.company_id.id, notice.date), [])
            step = portal_guard.notice_block_step(
                notice.level_id.block_portal, already_blocked, reasons
            )
            if step == portal_guard.POSTPONE:
                postponed.append((notice, reasons))
                continue
            if step == portal_guard.BLOCK:
                blocks.append((partner, notice))
                blocked.add(partner.id)
            with_action.append(notice)
        self._dunning_block_portals(blocks)
        for notice in with_action:
            self._dunning_run_level_action(notice)
        self._dunning_postpone_blocks(postponed)

    @api.model
    def _dunning_retry_postponed_blocks(self, date, run=None):
        """At the end of a run of the current company: block the customers
        whose block was postponed once the consumer guard allows it, and
        lift blocks whose invoices left the blocking levels without a
        reconciliation (e.g. a cancelled invoice). Notices of ``run`` itself
        were checked moments ago with the same date and are skipped."""
        company = self.env.company
        notices = (
            self.env["isp.dunning.notice"]
            .sudo()
            .search_fetch(
                [
                    ("company_id", "=", company.id),
                    ("level_id.block_portal", "=", True),
                    ("state", "!=", "cancelled"),
                    ("partner_id.dunning_level_id", "!=", False),
                    ("partner_id.dunning_portal_blocked", "=", False),
                ],
                ["partner_id", "portal_block_postponed", "portal_block", "run_id"],
                order="date desc, id desc",
            )
        )
        latest = {}
        for notice in notices:
            latest.setdefault(notice.partner_id, notice)
        # Only the customer's latest blocking notice counts: a block lifted by
        # a manager after a later notice stays lifted.
        waiting = [
            n
            for n in latest.values()
            if n.portal_block_postponed and not n.portal_block and not (run and n.run_id == run)
        ]
        partners = self.sudo().browse([n.partner_id.id for n in waiting])
        pending = portal_blocking.blocking_moves(partners, date).commercial_partner_id
        guards = portal_blocking.block_guards(pending, company, date) if pending else {}
        for notice in waiting:
            partner = notice.partner_id.sudo()
            if partner not in pending or guards[partner.id]:
                continue
            try:
                # One customer's failing provisioning hook must not fail the run.
                with self.env.cr.savepoint():
                    partner._dunning_block_portal(notice)
                    notice.message_post(
                        body=self.env._(
                            "Portal blocked on %s: the consumer guard (§ 61 TKG) allows it now.",
                            format_date(self.env, date),
                        )
                    )
                    self._dunning_run_level_action(notice)
            except Exception as error:
                _logger.warning("Portal block of %s failed: %s", partner.display_name, error)
                notice.message_post(body=self.env._("The postponed portal block failed: %s", error))
        blocked = (
            self.sudo()
            .with_context(active_test=False)
            .search(
                [
                    ("dunning_portal_blocked", "=", True),
                    ("dunning_portal_block_manual", "=", False),
                    ("dunning_portal_block_notice_id.company_id", "=", company.id),
                ]
            )
        )
        blocked._dunning_release_if_settled(date)

    def _dunning_release_if_settled(self, date=None):
        """Lift dunning's portal block of customers with no open invoice left
        at or above a blocking level: paid, credited, written off or paused.
        A block set by hand stays until a manager lifts it."""
        partners = self.commercial_partner_id.sudo().filtered(
            lambda p: p.dunning_portal_blocked and not p.dunning_portal_block_manual
        )
        if not partners:
            return self.browse()
        date = date or fields.Date.context_today(self)
        released = partners - portal_blocking.blocking_moves(partners, date).commercial_partner_id
        released._dunning_unblock_portal(
            self.env._(
                "Portal access restored: no invoice is left open at a blocking dunning level."
            )
        )
        return released

    @api.model
    def _dunning_postpone_blocks(self, postponements):
        """Record on each notice of [(notice, reasons)] that its block waits
        for the consumer guard: one write and one batch of log notes."""
        notes = {}
        for notice, reasons in postponements:
            notes[notice.sudo()] = self.env._(
                "Portal block postponed (§ 61 TKG): %s.", "; ".join(reasons)
            )
        if not notes:
            return
        for notice, note in notes.items():
            notice.write({"portal_block_postponed": True, "portal_block_note": note})
        notices = self.env["isp.dunning.notice"].sudo().browse([n.id for n in notes])
        notices._message_log_batch(
            bodies={notice.id: escape(note) for notice, note in notes.items()}
        )

    # ------------------------------------------------------------------
    # Block and release
    # ------------------------------------------------------------------
    def _dunning_portal_users(self):
        """Portal users of these customers and of their contacts, archived
        ones included so that a user reactivated by hand stays blocked."""
        if not self:
            return self.env["res.users"]
        return (
            self.env["res.users"]
            .sudo()
            .with_context(active_test=False)
            .search(
                [
                    ("partner_id", "child_of", self.ids),
                    ("share", "=", True),
                    ("groups_id", "in", self.env.ref("base.group_portal").ids),
                ]
            )
        )

    def _dunning_portal_users_by_partner(self):
        """{partner id: ``_dunning_portal_users`` of that customer} for all
        these customers with one search."""
        result = {partner.id: self.env["res.users"].sudo() for partner in self}
        for user in self._dunning_portal_users():
            # child_of: the user's contact or any of its parents.
            partner = user.partner_id
            seen = set()
            while partner and partner.id not in seen:
                seen.add(partner.id)
                if partner.id in result:
                    result[partner.id] |= user
                partner = partner.parent_id
        return result

    def _dunning_block_portal(self, notice=None):
        """Block the portal of these customers: by ``notice``, or by hand
        without one."""
        notice = (notice or self.env["isp.dunning.notice"]).sudo()
        self._dunning_block_portals([(partner, notice) for partner in self])

    @api.model
    def _dunning_block_portals(self, blocks):
        """Block the portal of the customer of each (customer, notice) of
        ``blocks``, by that notice or, without one, by hand: one search for
        their portal users and one batch of log notes."""
        if not blocks:
            return
        now = fields.Datetime.now()
        partners = self.sudo().browse([partner.id for partner, _notice in blocks])
        users_of = partners._dunning_portal_users_by_partner()
        bodies = {}
        for partner, notice in blocks:
            partner = partner.sudo()
            notice = notice.sudo()
            users = users_of[partner.id].filtered(lambda u: not u.dunning_blocked)
            if users:
                users.write(
                    {
                        "dunning_blocked": True,
                        "dunning_blocked_date": now,
                        "dunning_block_notice_id": notice.id,
                    }
                )
            partner.write(
                {
                    "dunning_portal_blocked": True,
                    "dunning_portal_block_notice_id": notice.id,
                    "dunning_portal_block_manual": not notice,
                }
            )
            names = ", ".join(users.mapped("display_name")) or self.env._("none")
            if notice:
                notice.portal_block = True
                body = self.env._(
                    "Portal access blocked by dunning notice %(notice)s. Blocked users: %(users)s.",
                    notice=notice.name,
                    users=names,
                )
            else:
                body = self.env._(
                    "Portal access blocked by hand by %(manager)s. Blocked users: %(users)s.",
                    manager=self.env.user.name,
                    users=names,
                )
            bodies[partner.id] = escape(body)
        partners._message_log_batch(bodies=bodies)

    def _dunning_unblock_portal(self, message):
        """Restore the users dunning blocked and run the company's release
        action; users archived or blocked otherwise stay as they are."""
        for partner in self.sudo():
            users = (
                self.env["res.users"]
                .sudo()
                .with_context(active_test=False)
                .search(
                    [
                        ("dunning_blocked", "=", True),
                        "|",
                        ("partner_id", "child_of", partner.id),
                        ("dunning_block_notice_id.partner_id", "=", partner.id),
                    ]
                )
            )
            users.write(
                {
                    "dunning_blocked": False,
                    "dunning_blocked_date": False,
                    "dunning_block_notice_id": False,
                }
            )
            company = partner.dunning_portal_block_notice_id.company_id or self.env.company
            partner.write(
                {
                    "dunning_portal_blocked": False,
                    "dunning_portal_block_notice_id": False,
                    "dunning_portal_block_manual": False,
                }
            )
            names = ", ".join(users.mapped("display_name")) or self.env._("none")
            partner.message_post(
                body=self.env._(
                    "%(message)s Restored users: %(users)s.", message=message, users=names
                )
            )
            partner._dunning_run_release_action(company)

    def _dunning_run_level_action(self, notice):
        """Run the level's server action with the access rights of the
        company's provisioning user (not as superuser)."""
        action = notice.sudo().level_id.server_action_id
        if action:
            user = notice.company_id._dunning_action_user()
            action.with_user(user).with_company(notice.company_id).with_context(
                active_model=notice._name,
                active_id=notice.id,
                active_ids=notice.ids,
                dunning_partner_id=notice.partner_id.id,
                dunning_move_ids=notice.move_ids.ids,
            ).run()

    def _dunning_run_release_action(self, company):
        self.ensure_one()
        action = company.sudo().dunning_release_action_id
        if action:
            user = company._dunning_action_user()
            action.with_user(user).with_company(company).with_context(
                active_model=self._name,
                active_id=self.id,
                active_ids=self.ids,
                dunning_partner_id=self.id,
                dunning_release=True,
            ).run()

    def action_dunning_block_portal(self):
        self._dunning_check_manager()
        self.commercial_partner_id.filtered(
            lambda p: not p.dunning_portal_blocked
        )._dunning_block_portal()
        return True

    def action_dunning_unblock_portal(self):
        self._dunning_check_manager()
        self.commercial_partner_id.filtered("dunning_portal_blocked")._dunning_unblock_portal(
            self.env._("Portal access restored by hand by %s.", self.env.user.name)
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
