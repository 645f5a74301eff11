import logging
import time
from collections import defaultdict

import psycopg2
from markupsafe import Markup
from psycopg2 import errors as pg_errors

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Command
from odoo.modules import module as odoo_module
from odoo.tools import SQL, split_every

from ..domain import claim, planning
from ..domain.escalation import is_business
from ..domain.money import format_money, to_decimal

_logger = logging.getLogger(__name__)


def _readable(error):
    """A message for the run log: user errors as they are, anything else
    with its type so that an accountant can report it."""
    if isinstance(error, UserError | ValidationError):
        return str(error.args[0]) if error.args else str(error)
    return f"{type(error).__name__}: {error}"


# Concurrency conflicts that a later run resolves by itself.
TRANSIENT_ERRORS = (
    pg_errors.SerializationFailure,
    pg_errors.LockNotAvailable,
    pg_errors.DeadlockDetected,
)

# Seconds to wait before each new attempt at customers whose booking met a
# concurrency conflict (cron only: each attempt is a new transaction).
CONFLICT_RETRY_DELAYS = (0.2, 1.0, 3.0)

# First key of the advisory lock that keeps two runs of one company apart.
RUN_LOCK_KEY = 7311

# Tables a run fills. PostgreSQL plans the foreign-key check of an insert
# once per connection and keeps that plan until the referenced table's
# statistics change: planned while a table was nearly empty, each check is
# a sequential scan that grows with the table, and a long run slows down
# quadratically. Autovacuum refreshes statistics late or, where it is off,
# never; a committing run refreshes those of a table that has doubled.
GROWING_TABLES = (
    "isp_dunning_notice",
    "isp_dunning_notice_line",
    "isp_dunning_notice_account_move_rel",
    "account_move",
    "account_move_line",
    "mail_mail",
    "mail_message",
    "mail_followers",
    "mail_followers_mail_message_subtype_rel",
    "ir_attachment",
)
# Changes below this never trigger a refresh (PostgreSQL's own threshold).
STATISTICS_MIN_CHANGES = 50


class IspDunningRun(models.Model):
    """One execution of the dunning for one company and date.

    ``run_dunning`` is the single entry point (cron, "Run now", preview,
    tests). Decisions come from ``domain.planning``; this class only reads
    the data in batches and books the outcome.
    """

    _name = "isp.dunning.run"
    _description = "Dunning Run"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        readonly=True,
        default=lambda self: self.env.company,
    )
    date = fields.Date(required=True, readonly=True, default=fields.Date.context_today)
    dry_run = fields.Boolean(string="Preview", readonly=True)
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("running", "Running"),
            ("done", "Done"),
            ("skipped", "Skipped"),
            ("failed", "Failed"),
        ],
        default="draft",
        required=True,
        readonly=True,
    )
    user_id = fields.Many2one("res.users", readonly=True, default=lambda self: self.env.user)
    started_at = fields.Datetime(readonly=True)
    finished_at = fields.Datetime(readonly=True)
    customer_count = fields.Integer(string="Customers Checked", readonly=True)
    invoice_count = fields.Integer(string="Invoices Escalated", readonly=True)
    notice_count = fields.Integer(string="Notices", readonly=True)
    error_count = fields.Integer(string="Errors", readonly=True)
    notice_ids = fields.One2many("isp.dunning.notice", "run_id", readonly=True)
    log = fields.Text(readonly=True)
    preview_html = fields.Html(readonly=True, sanitize=True)

    @api.depends("date", "dry_run")
    def _compute_name(self):
        for run in self:
            label = self.env._("Preview") if run.dry_run else self.env._("Dunning run")
            run.name = f"{label} {run.date or ''}"

    # ------------------------------------------------------------------
    # Entry points
    # ------------------------------------------------------------------
    @api.model
    def run_dunning(self, date=None, dry_run=False):
        """Create a run for the current company, execute it and return it."""
        if not dry_run and not (
            self.env.su or self.env.user.has_group("isp_dunning.group_dunning_manager")
        ):
            raise AccessError(
                self.env._("Only dunning managers can run the dunning; use the preview.")
            )
        run = self.create(
            {
                "company_id": self.env.company.id,
                "date": date or fields.Date.context_today(self),
                "dry_run": dry_run,
            }
        )
        if dry_run:
            # A preview writes nothing but its own report; Dunning Users may
            # preview without the right to read every invoice themselves.
            run.sudo()._execute()
        else:
            run._execute()
        return run

    @api.model
    def _cron_run_dunning(self):
        companies = self.env["isp.dunning.level"].sudo().search([("active", "=", True)]).company_id
        for company in companies:
            self.with_company(company).with_context(dunning_autocommit=True).run_dunning()

    def action_run_now(self):
        return self._open(self.run_dunning())

    def action_preview(self):
        return self._open(self.run_dunning(dry_run=True))

    def _open(self, run):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": run.id,
            "view_mode": "form",
        }

    def action_view_notices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "isp_dunning.action_isp_dunning_notice"
        )
        action["domain"] = [("run_id", "=", self.id)]
        return action

    # ------------------------------------------------------------------
    # Execution
    # ------------------------------------------------------------------
    def _autocommit(self):
        # Commit per batch in the cron only: never inside a test transaction.
        return bool(
            self.env.context.get("dunning_autocommit")
            and not self.env.registry.in_test_mode()
            and not odoo_module.current_test
        )

    def _commit(self):
        if self._autocommit():
            self.env.cr.commit()  # pylint: disable=invalid-commit

    def _execute(self):
        self.ensure_one()
        run = self.with_company(self.company_id)
        run.write({"state": "running", "started_at": fields.Datetime.now()})
        run._commit()
        autocommit = run._autocommit()
        if not run._try_lock(autocommit):
            run.write(
                {
                    "state": "skipped",
                    "finished_at": fields.Datetime.now(),
                    "log": self.env._("Another dunning run of this company is in progress."),
                }
            )
            run._commit()
            return
        log = []
        try:
            run._execute_locked(log)
        except Exception as error:
            if isinstance(error, UserError):
                _logger.warning("Dunning run %s stopped: %s", run.id, error)
            else:
                _logger.exception("Dunning run %s failed", run.id)
            if not autocommit:
                # One transaction: the caller rolls it back, the run record
                # and the lock with it.
                raise
            self.env.cr.rollback()
            log.append(self.env._("The run stopped: %s", error))
            run.write(
                {
                    "state": "failed",
                    "finished_at": fields.Datetime.now(),
                    "log": "\n".join(log),
                }
            )
            run._commit()
        finally:
            if autocommit:
                run._release_lock()

    def _try_lock(self, autocommit):
        """Take the company's run lock without waiting.

        The cron commits batch by batch, so its lock must outlive them: a
        session lock, released when the run ends. "Run now" and the tests
        run in one transaction that the caller commits: a transaction lock
        is held until that commit and goes with a rollback, so neither a run
        started just before the commit nor a failed request (whose pooled
        connection lives on) can leave the company locked.
        """
        if autocommit:
            query = "SELECT pg_try_advisory_lock(%s, %s)"
        else:
            query = "SELECT pg_try_advisory_xact_lock(%s, %s)"
        self.env.cr.execute(query, (RUN_LOCK_KEY, self.company_id.id))
        return self.env.cr.fetchone()[0]

    def _release_lock(self):
        cr = self.env.cr
        query = "SELECT pg_advisory_unlock(%s, %s)"
        params = (RUN_LOCK_KEY, self.company_id.id)
        try:
            cr.execute(query, params)
        except psycopg2.Error:
            # The transaction broke after the run's last commit: end it so
            # that the lock, which belongs to the session, can be released.
            cr.rollback()
            cr.execute(query, params)

    def _execute_locked(self, log):
        company = self.company_id
        levels = self.env["isp.dunning.level"]._get_ladder(company)
        if not levels:
            raise UserError(
                self.env._("%s has no dunning levels; configure them first.", company.name)
            )
        if not self.dry_run:
            self._check_booking_setup()
        context = self._prepare_context(levels)
        if not self.dry_run:
            # Finish what an interrupted run or a failed delivery left behind.
            self.env["isp.dunning.notice"]._deliver_pending(company)
        partner_ids = self._candidate_partner_ids()
        totals = defaultdict(int)
        preview_rows = []
        done = 0
        batch_size = company.dunning_batch_size or 500
        for batch in split_every(batch_size, partner_ids, list):
            conflicts = {}
            with self.env.cr.savepoint():
                stats = self._process_batch(batch, context, log, preview_rows, conflicts)
            self._commit()
            self._refresh_statistics()
            retries = CONFLICT_RETRY_DELAYS if self._autocommit() else ()
            for delay in retries:
                if not conflicts:
                    break
                # A new transaction sees what the other worker committed.
                time.sleep(delay)
                retry_ids = sorted(conflicts)
                conflicts = {}
                with self.env.cr.savepoint():
                    retried = self._process_batch(retry_ids, context, log, preview_rows, conflicts)
                for key, value in retried.items():
                    stats[key] += value
                self._commit()
            for partner_id, reason in conflicts.items():
                # Still in conflict: nothing is recorded, the next run books it.
                stats["errors"] += 1
                log.append(self._customer_log_line(partner_id, reason, postponed=True))
            for key, value in stats.items():
                totals[key] += value
            done += len(batch)
            self.env["ir.cron"]._notify_progress(done=done, remaining=len(partner_ids) - done)
        if not self.dry_run:
            self._retry_on_conflict(
                lambda: self.env["res.partner"]._dunning_retry_postponed_blocks(self.date, run=self)
            )
        vals = {
            "state": "done",
            "finished_at": fields.Datetime.now(),
            "customer_count": len(partner_ids),
            "invoice_count": totals["invoices"],
            "notice_count": totals["notices"],
            "error_count": totals["errors"],
            "log": "\n".join(log),
        }
        if self.dry_run:
            vals["preview_html"] = self._render_preview(preview_rows)
        self.write(vals)
        self._commit()

    def _refresh_statistics(self):
        """ANALYZE the tables of GROWING_TABLES that changed more rows since
        their last analysis than they held then (cron only: the counts are
        those of committed transactions)."""
        if not self._autocommit():
            return []
        cr = self.env.cr
        cr.execute(
            """
            SELECT s.relname
              FROM pg_stat_user_tables s
              JOIN pg_class c ON c.oid = s.relid
             WHERE s.schemaname = current_schema()
               AND s.relname = ANY(%s)
               AND s.n_mod_since_analyze > GREATEST(%s, c.reltuples)
            """,
            [list(GROWING_TABLES), STATISTICS_MIN_CHANGES],
        )
        tables = sorted(row[0] for row in cr.fetchall())
        if tables and self._analyze(tables):
            self._commit()
            _logger.info("Dunning run %s: statistics refreshed: %s", self.id, ", ".join(tables))
            return tables
        return []

    def _analyze(self, tables):
        """ANALYZE the tables unless another session holds one of them (a
        long VACUUM, another run analyzing): the run never waits for that,
        a later batch tries again. A table the database user does not own
        is skipped by PostgreSQL with a warning."""
        cr = self.env.cr
        cr.execute("SELECT current_setting('lock_timeout')")
        lock_timeout = cr.fetchone()[0]
        try:
            with cr.savepoint(flush=False):
                cr.execute("SELECT set_config('lock_timeout', '1s', true)")
                cr.execute(SQL("ANALYZE %s", SQL(", ").join(SQL.identifier(t) for t in tables)))
                cr.execute("SELECT set_config('lock_timeout', %s, true)", [lock_timeout])
        except pg_errors.LockNotAvailable:
            _logger.info("Dunning run %s: statistics not refreshed, tables busy", self.id)
            return False
        return True

    def _retry_on_conflict(self, step):
        """Run a step; in the cron, run it again in a new transaction when
        another worker changed the same rows meanwhile."""
        for delay in (*CONFLICT_RETRY_DELAYS, None):
            try:
                with self.env.cr.savepoint():
                    step()
                return
            except TRANSIENT_ERRORS:
                if delay is None or not self._autocommit():
                    raise
                _logger.info("Dunning run %s: concurrent update, retrying", self.id)
                self.env.cr.rollback()
                time.sleep(delay)

    def _check_booking_setup(self):
        company = self.company_id
        journal = company._dunning_journal()
        if not journal:
            raise UserError(
                self.env._(
                    "%s has no sales journal for dunning fees; choose one in the "
                    "Accounting settings.",
                    company.name,
                )
            )
        if not journal.active:
            raise UserError(
                self.env._(
                    "The dunning journal %s is archived; choose an active one.",
                    journal.display_name,
                )
            )

    def _prepare_context(self, levels):
        company = self.company_id
        configs = [
            planning.LevelConfig(
                level=level._to_domain_level(),
                fee_amount=to_decimal(level.fee_amount),
                interest_mode=level.interest_mode,
                interest_rate=to_decimal(round(level.interest_rate, 2)),
                b2b_flat_fee=level.b2b_flat_fee,
                block_portal=level.block_portal,
                announce_portal_block=level.announce_portal_block,
                collection_handover=level.collection_handover,
            )
            for level in levels
        ]
        eur = self.env.ref("base.EUR")
        lump_sum = 40.0
        if company.currency_id != eur:
            lump_sum = eur._convert(40.0, company.currency_id, company, self.date)
        return {
            "levels": levels,
            "configs": configs,
            "base_rates": self.env["isp.dunning.base.rate"]._get_base_rates(),
            "lump_sum": to_decimal(company.currency_id.round(lump_sum)),
        }

    def _settings_for(self, context, currencies):
        company = self.company_id
        rates = {}
        precisions = {}
        for currency in currencies:
            precisions[currency.id] = to_decimal(currency.rounding)
            if currency != company.currency_id:
                rates[currency.id] = to_decimal(
                    company.currency_id._get_conversion_rate(
                        company.currency_id, currency, company, self.date
                    )
                )
        return planning.Settings(
            today=self.date,
            tolerance=to_decimal(company.dunning_tolerance),
            interest_start=company.dunning_interest_start,
            payment_days=company.dunning_payment_days,
            lump_sum=context["lump_sum"],
            base_rates=context["base_rates"],
            rates=rates,
            precisions=precisions,
        )

    def _candidate_partner_ids(self):
        """Commercial partners with an overdue open invoice, one query."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT DISTINCT move.commercial_partner_id
              FROM account_move_line line
              JOIN account_move move ON move.id = line.move_id
              JOIN account_account account ON account.id = line.account_id
             WHERE line.company_id = %s
               AND line.parent_state = 'posted'
               AND account.account_type = 'asset_receivable'
               AND NOT line.reconciled
               AND line.amount_residual > 0
               AND line.date_maturity < %s
               AND move.move_type = 'out_invoice'
               AND move.commercial_partner_id IS NOT NULL
             ORDER BY 1
            """,
            (self.company_id.id, self.date),
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def _read_open_items(self, partner_ids):
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT line.move_id, move.commercial_partner_id, line.currency_id,
                   line.amount_residual_currency, line.date_maturity,
                   move.move_type
              FROM account_move_line line
              JOIN account_move move ON move.id = line.move_id
              JOIN account_account account ON account.id = line.account_id
             WHERE line.company_id = %s
               AND line.parent_state = 'posted'
               AND account.account_type = 'asset_receivable'
               AND NOT line.reconciled
               AND line.amount_residual_currency != 0
               AND move.commercial_partner_id = ANY(%s)
            """,
            (self.company_id.id, partner_ids),
        )
        items = defaultdict(list)
        invoice_ids = set()
        for move_id, partner_id, currency_id, residual, due, move_type in self.env.cr.fetchall():
            items[partner_id].append(
                planning.OpenItem(
                    move_id=move_id,
                    currency=currency_id,
                    residual=to_decimal(residual),
                    due_date=due,
                    move_type=move_type,
                )
            )
            if move_type == "out_invoice" and residual > 0:
                invoice_ids.add(move_id)
        return items, invoice_ids

    def _process_batch(self, partner_ids, context, log, preview_rows, conflicts):
        """Plan and book one batch of customers. Customers whose booking met a
        concurrency conflict go to ``conflicts`` (partner id: reason), not
        to the log: the caller retries them or leaves them to the next run."""
        Move = self.env["account.move"]
        Partner = self.env["res.partner"]
        stats = defaultdict(int)
        self.env.flush_all()
        items, invoice_ids = self._read_open_items(partner_ids)
        moves = Move.browse(sorted(invoice_ids))
        move_data = {
            row["id"]: row
            for row in moves.read(
                [
                    "commercial_partner_id",
                    "dunning_level_id",
                    "dunning_first_date",
                    "dunning_last_date",
                    "dunning_next_date",
                    "dunning_interest_until",
                    "dunning_lump_sum_charged",
                    "dunning_blocked_until",
                    "dunning_handed_over",
                    "dunning_fee_notice_id",
                ],
                load=None,
            )
        }
        partners = Partner.browse(partner_ids)
        partner_data = {
            row["id"]: row for row in partners.read(["is_company", "vat", "dunning_excluded"])
        }
        already = set(
            self.env["isp.dunning.notice"]
            .search(
                [
                    ("partner_id", "in", partner_ids),
                    ("date", "=", self.date),
                    ("state", "!=", "cancelled"),
                    ("company_id", "=", self.company_id.id),
                ]
            )
            .partner_id.ids
        )
        currencies = self.env["res.currency"].browse(
            {item.currency for its in items.values() for item in its}
        )
        settings = self._settings_for(context, currencies)
        dun_fee_docs = self.company_id.dunning_dun_fee_documents

        moves_of = defaultdict(list)
        for move_id, data in move_data.items():
            moves_of[data["commercial_partner_id"]].append((move_id, data))

        plans = {}
        for partner_id in partner_ids:
            if partner_id in already:
                continue
            pdata = partner_data[partner_id]
            customer = planning.Customer(
                partner_id=partner_id,
                is_business=is_business(pdata["is_company"], pdata["vat"]),
                excluded=pdata["dunning_excluded"],
            )
            invoices = {
                move_id: planning.Invoice(
                    move_id=move_id,
                    level_id=data["dunning_level_id"] or None,
                    last_notice_date=data["dunning_last_date"] or None,
                    first_notice_date=data["dunning_first_date"] or None,
                    interest_until=data["dunning_interest_until"] or None,
                    lump_sum_charged=data["dunning_lump_sum_charged"],
                    paused_until=data["dunning_blocked_until"] or None,
                    handed_over=data["dunning_handed_over"],
                    excluded=bool(data["dunning_fee_notice_id"]) and not dun_fee_docs,
                    fee_document=bool(data["dunning_fee_notice_id"]),
                )
                for move_id, data in moves_of[partner_id]
            }
            try:
                plans[partner_id] = planning.plan_customer(
                    customer,
                    items.get(partner_id, []),
                    invoices,
                    context["configs"],
                    settings,
                )
            except Exception as error:  # one bad customer never stops the run
                stats["errors"] += 1
                log.append(self._customer_log_line(partner_id, _readable(error)))
        if self.dry_run:
            for partner_id, plan in plans.items():
                preview_rows.extend((partner_id, notice) for notice in plan.notices)
                stats["notices"] += len(plan.notices)
                stats["invoices"] += sum(len(n.escalated_move_ids) for n in plan.notices)
            return stats
        try:
            with self.env.cr.savepoint():
                self._book(plans, move_data, context, stats)
        except Exception:
            # Book customer by customer so that one failure stays local.
            _logger.info("Dunning batch failed, retrying customer by customer")
            for partner_id, plan in plans.items():
                try:
                    with self.env.cr.savepoint():
                        self._book({partner_id: plan}, move_data, context, stats)
                except Exception as error:
                    reason = _readable(error)
                    if isinstance(error, TRANSIENT_ERRORS):
                        # Another worker changed the same rows (e.g. a shared
                        # customer of another company): nothing is recorded.
                        conflicts[partner_id] = reason
                        continue
                    stats["errors"] += 1
                    log.append(self._customer_log_line(partner_id, reason))
                    self._record_failed(partner_id, plan, reason)
        return stats

    # ------------------------------------------------------------------
    # Booking
    # ------------------------------------------------------------------
    def _book(self, plans, move_data, context, stats):
        """Create notices, fee documents and invoice updates for the plans."""
        levels = context["levels"]
        notice_vals = []
        notice_plans = []
        partner_ids = list(plans)
        partners = self.env["res.partner"].browse(partner_ids)
        emails = partners._dunning_recipient_emails()
        for partner_id, plan in plans.items():
            for notice in plan.notices:
                level = levels.browse(notice.level.id)
                email = emails.get(partner_id)
                if level.send_email and email:
                    channel = "email_letter" if level.send_letter else "email"
                else:
                    channel = "letter"
                notice_vals.append(self._notice_vals(notice, channel, email, move_data))
                notice_plans.append(notice)
        Notice = self.env["isp.dunning.notice"].with_context(
            tracking_disable=True, mail_create_nolog=True
        )
        notices = Notice.create(notice_vals)
        self._create_fee_moves(notices, notice_plans)
        self._update_invoices(plans, move_data, levels)
        partners._dunning_refresh_level()
        partners._dunning_apply_notices(notices)
        notices._deliver()
        stats["notices"] += len(notices)
        stats["invoices"] += sum(len(n.escalated_move_ids) for n in notice_plans)
        return notices

    def _notice_vals(self, notice, channel, email, move_data):
        currency_id = notice.currency
        lines = []
        for line in notice.lines:
            lines.append(
                Command.create(
                    {
                        "move_id": line.move_id,
                        "escalated": line.escalated,
                        "level_id": line.new_level_id,
                        "due_date": line.due_date,
                        "days_overdue": line.days_overdue,
                        "amount_open": float(line.amount_open),
                        "lump_sum_amount": float(line.lump_sum),
                        "interest_date_from": line.interest_from,
                        "interest_date_to": line.interest_to,
                        "interest_days": line.interest_days,
                        "interest_detail": planning.describe_instalments(line.instalments),
                        "interest_amount": float(line.interest_amount),
                    }
                )
            )
        return {
            "company_id": self.company_id.id,
            "partner_id": notice.partner_id,
            "level_id": notice.level.id,
            "date": notice.date,
            "deadline_date": notice.deadline,
            "run_id": self.id,
            "currency_id": currency_id,
            "move_ids": [Command.set([line.move_id for line in notice.lines])],
            "line_ids": lines,
            "amount_open": float(notice.amount_open),
            "fee_amount": float(notice.fee_amount),
            "lump_sum_amount": float(notice.lump_sum_amount),
            "interest_amount": float(notice.interest_amount),
            "amount_earlier_charges": float(notice.amount_earlier_charges),
            "amount_credits": float(notice.amount_credits),
            "fee_credited": float(notice.fee_credited),
            "claim_data": claim.claim_of(notice).to_data(),
            "channel": channel,
            "email_to": email if channel != "letter" else False,
            "state": "to_send" if channel != "letter" else "to_print",
            "portal_block_announced": notice.level.announce_portal_block,
        }

    def _create_fee_moves(self, notices, notice_plans):
        """Book fees, lump sums and interest as one posted invoice per notice."""
        company = self.company_id
        journal = company._dunning_journal()
        product = company.dunning_product_id
        account = company.dunning_income_account_id or journal.default_account_id
        # Without any analytic distribution model Odoo's search for one per
        # line finds nothing: say so instead of searching per line.
        no_analytic = not (
            self.env["account.analytic.distribution.model"].sudo().search_count([], limit=1)
        )
        move_vals = []
        booked_vals = []
        for notice, plan in zip(notices, notice_plans, strict=True):
            if plan.charges <= 0:
                continue
            lang = notice.partner_id.lang or self.env.lang
            self_lang = self.with_context(lang=lang, dunning_no_analytic_models=no_analytic)
            names = {line.move_id.id: line.move_id.name for line in notice.line_ids}
            invoice_lines = []
            if plan.fee_amount:
                invoice_lines.append(
                    self_lang._fee_line(
                        self.env._(
                            "Dunning fee, %(level)s, notice %(notice)s",
                            level=notice.level_id.with_context(lang=lang).name,
                            notice=notice.name,
                        ),
                        plan.fee_amount,
                        product,
                        account,
                    )
                )
            for line in plan.lines:
                if line.lump_sum:
                    invoice_lines.append(
                        self_lang._fee_line(
                            self.env._(
                                "Lump sum for late payment (§ 288 (5) BGB), invoice %s",
                                names[line.move_id],
                            ),
                            line.lump_sum,
                            product,
                            account,
                        )
                    )
                if line.interest_amount:
                    invoice_lines.append(
                        self_lang._fee_line(
                            self.env._(
                                "Default interest, invoice %(invoice)s, %(start)s to "
                                "%(end)s: %(detail)s",
                                invoice=names[line.move_id],
                                start=line.interest_from.strftime("%d.%m.%Y"),
                                end=line.interest_to.strftime("%d.%m.%Y"),
                                detail=planning.describe_instalments(
                                    line.instalments, lang or "de"
                                ),
                            ),
                            line.interest_amount,
                            product,
                            account,
                        )
                    )
            vals = {
                "move_type": "out_invoice",
                "company_id": company.id,
                "journal_id": journal.id,
                "partner_id": notice.partner_id.id,
                "currency_id": notice.currency_id.id,
                "invoice_date": notice.date,
                "date": notice.date,
                "invoice_payment_term_id": False,
                "invoice_date_due": notice.deadline_date,
                "invoice_origin": notice.name,
                "ref": notice.name,
                "dunning_fee_notice_id": notice.id,
            }
            if notice.currency_id == company.currency_id:
                vals["line_ids"] = self._fee_journal_items(invoice_lines, notice)
                booked_vals.append(vals)
            else:
                vals["invoice_line_ids"] = invoice_lines
                move_vals.append(vals)
        Move = self.env["account.move"].with_context(tracking_disable=True, mail_create_nolog=True)
        moves = Move.browse()
        if booked_vals:
            # The journal items are complete: Odoo's invoice line sync, which
            # would derive the same receivable line, is not needed.
            moves |= Move.with_context(skip_invoice_sync=True).create(booked_vals)
        if move_vals:
            moves |= Move.create(move_vals)
        if moves:
            moves._dunning_post_batch()
        return moves

    def _fee_journal_items(self, invoice_lines, notice):
        """The journal items of a fee invoice in company currency, as Odoo's
        invoice sync would complete them: the income lines with their
        amounts (no taxes) and the receivable line of the total, due on the
        notice's deadline (no payment term)."""
        currency = notice.currency_id
        items = []
        total = 0.0
        for command, _id, line_vals in invoice_lines:
            amount = currency.round(line_vals["quantity"] * line_vals["price_unit"])
            total += amount
            items.append(
                (
                    command,
                    _id,
                    dict(
                        line_vals,
                        display_type="product",
                        amount_currency=-amount,
                        balance=-amount,
                    ),
                )
            )
        total = currency.round(total)
        items.append(
            Command.create(
                {
                    "display_type": "payment_term",
                    "date_maturity": notice.deadline_date,
                    "discount_date": False,
                    "discount_balance": 0.0,
                    "discount_amount_currency": 0.0,
                    "amount_currency": total,
                    "balance": total,
                }
            )
        )
        return items

    def _fee_line(self, label, amount, product, account):
        vals = {
            "name": label,
            "quantity": 1,
            "price_unit": float(amount),
            "tax_ids": [Command.clear()],
        }
        if product:
            vals["product_id"] = product.id
        if account:
            vals["account_id"] = account.id
        if self.env.context.get("dunning_no_analytic_models"):
            vals["analytic_distribution"] = False
        return Command.create(vals)

    def _update_invoices(self, plans, move_data, levels):
        """Write the invoices' new dunning state, grouped by identical values
        so that a batch costs a handful of UPDATEs."""
        groups = defaultdict(list)
        today = self.date
        handover_level_ids = set(levels.filtered("collection_handover").ids)
        for plan in plans.values():
            escalated = {}
            charged_interest = set()
            charged_lump = set()
            for notice in plan.notices:
                for line in notice.lines:
                    if line.escalated:
                        escalated[line.move_id] = line.new_level_id
                    if line.interest_to:
                        charged_interest.add(line.move_id)
                    if line.lump_sum:
                        charged_lump.add(line.move_id)
            touched = set(plan.next_dates) | set(escalated)
            for move_id in touched:
                data = move_data[move_id]
                vals = {}
                next_date = plan.next_dates.get(move_id)
                if next_date != (data["dunning_next_date"] or None):
                    vals["dunning_next_date"] = next_date or False
                if move_id in escalated:
                    vals["dunning_level_id"] = escalated[move_id]
                    vals["dunning_last_date"] = today
                    if not data["dunning_first_date"]:
                        vals["dunning_first_date"] = today
                    if escalated[move_id] in handover_level_ids:
                        # Handed over: the agency collects, automatic dunning ends.
                        vals["dunning_handed_over"] = True
                        vals["dunning_handover_date"] = today
                        vals["dunning_next_date"] = False
                if move_id in charged_interest:
                    vals["dunning_interest_until"] = today
                if move_id in charged_lump:
                    vals["dunning_lump_sum_charged"] = True
                if vals:
                    groups[tuple(sorted(vals.items()))].append(move_id)
        # Dunning fields only: no journal item sync or balance check needed.
        Move = self.env["account.move"].with_context(
            tracking_disable=True, skip_invoice_sync=True, check_move_validity=False
        )
        for vals, move_ids in groups.items():
            Move.browse(move_ids).write(dict(vals))

    def _customer_log_line(self, partner_id, reason, postponed=False):
        partner = self.env["res.partner"].browse(partner_id).display_name
        if postponed:
            return self.env._(
                "Customer %(partner)s: %(error)s (left to the next run)",
                partner=partner,
                error=reason,
            )
        return self.env._("Customer %(partner)s: %(error)s", partner=partner, error=reason)

    def _record_failed(self, partner_id, plan, reason):
        """Leave a visible notice in error for a customer whose booking failed;
        its invoices stay where they were and the next run tries again."""
        for notice in plan.notices:
            self.env["isp.dunning.notice"].with_context(tracking_disable=True).create(
                {
                    "company_id": self.company_id.id,
                    "partner_id": partner_id,
                    "level_id": notice.level.id,
                    "date": notice.date,
                    "run_id": self.id,
                    "currency_id": notice.currency,
                    "move_ids": [Command.set([line.move_id for line in notice.lines])],
                    "amount_open": float(notice.amount_open),
                    "state": "error",
                    "channel": "email",
                    "error_message": reason,
                }
            )

    # ------------------------------------------------------------------
    # Preview
    # ------------------------------------------------------------------
    def _render_preview(self, rows):
        if not rows:
            return Markup("<p>%s</p>") % self.env._("Nothing is due on this date.")
        partners = self.env["res.partner"].browse({pid for pid, _n in rows})
        names = {p.id: p.display_name for p in partners}
        levels = {
            lv.id: lv.name
            for lv in self.env["isp.dunning.level"].browse({n.level.id for _p, n in rows})
        }
        moves = self.env["account.move"].browse(
            {line.move_id for _p, n in rows for line in n.lines}
        )
        move_names = {m.id: m.name for m in moves}
        currencies = self.env["res.currency"].browse({n.currency for _p, n in rows})
        symbols = {c.id: c.symbol for c in currencies}
        head = Markup(
            "<table class='table table-sm'><thead><tr><th>%s</th><th>%s</th>"
            "<th>%s</th><th class='text-end'>%s</th><th class='text-end'>%s</th>"
            "<th class='text-end'>%s</th><th class='text-end'>%s</th><th>%s</th>"
            "</tr></thead><tbody>"
        ) % (
            self.env._("Customer"),
            self.env._("Invoices"),
            self.env._("New level"),
            self.env._("Open"),
            self.env._("Fee"),
            self.env._("Lump sums"),
            self.env._("Interest"),
            self.env._("Portal"),
        )
        body = Markup()
        open_label = self.env._("open")
        for partner_id, notice in rows:
            symbol = symbols.get(notice.currency, "")
            invoices = ", ".join(
                move_names[line.move_id] + ("" if line.escalated else f" ({open_label})")
                for line in notice.lines
            )
            body += Markup(
                "<tr><td>%s</td><td>%s</td><td>%s</td><td class='text-end'>%s</td>"
                "<td class='text-end'>%s</td><td class='text-end'>%s</td>"
                "<td class='text-end'>%s</td><td>%s</td></tr>"
            ) % (
                names[partner_id],
                invoices,
                levels[notice.level.id],
                format_money(notice.amount_open, symbol),
                format_money(notice.fee_amount, symbol),
                format_money(notice.lump_sum_amount, symbol),
                format_money(notice.interest_amount, symbol),
                self.env._("blocked") if notice.level.block_portal else "",
            )
        return head + body + Markup("</tbody></table>")
