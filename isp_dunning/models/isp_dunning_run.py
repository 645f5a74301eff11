import logging
import time
from collections import defaultdict

import psycopg2
from psycopg2 import errors as pg_errors

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, split_every

from ..domain import planning
from ..domain.money import to_decimal
from ..services import batch_reader, booking, fee_documents, portal_blocking, preview

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
    dry_run = fields.Boolean(string="Preview Run", readonly=True)
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
            label = self.env._("Preview run") if run.dry_run else self.env._("Dunning run")
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
        # Before the run decides: payments quoting a notice number are
        # allocated to that notice (§ 367 BGB), see isp_dunning_payment_match.
        self.env["isp.dunning.payment.match"].sudo()._match_payments(companies)
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
        """Commit per batch: the cron's way (``dunning_autocommit``)."""
        return bool(self.env.context.get("dunning_autocommit"))

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
        """The pipeline: select the candidates; per batch read, decide, book
        and commit; then deliver the committed notices."""
        context = self._prepare_context(self._ladder())
        if not self.dry_run:
            # Finish what an interrupted run or a failed delivery left behind.
            self._deliver(self.env["isp.dunning.notice"]._pending_delivery(self.company_id), log)
        partner_ids = self._candidate_partner_ids()  # select
        totals = defaultdict(int)
        preview_rows = []
        for done, batch in self._batches(partner_ids):
            notices = self._book_batch(batch, context, log, preview_rows, totals)  # read..commit
            self._deliver(notices, log)  # deliver, from committed notices
            self._refresh_statistics()
            self.env["ir.cron"]._notify_progress(done=done, remaining=len(partner_ids) - done)
        if not self.dry_run:
            self._retry_on_conflict(lambda: portal_blocking.retry_postponed_blocks(self))
        self._finish(partner_ids, totals, log, preview_rows)

    def _batches(self, partner_ids):
        """(customers done after the batch, batch) in batches of the company's size."""
        done = 0
        for batch in split_every(self.company_id.dunning_batch_size or 500, partner_ids, list):
            done += len(batch)
            yield done, batch

    def _book_batch(self, partner_ids, context, log, preview_rows, totals):
        """Read, decide and book one batch in a savepoint and commit it (cron);
        customers that met a concurrent update are booked again in a new
        transaction after a pause, or left to the next run. Returns the
        booked notices."""
        conflicts = {}
        with self.env.cr.savepoint():
            stats, notices = self._process_batch(partner_ids, context, log, preview_rows, conflicts)
        self._commit()
        retries = CONFLICT_RETRY_DELAYS if self._autocommit() else ()
        for delay in retries:
            if not conflicts:
                break
            # A new transaction sees what the other worker committed.
            time.sleep(delay)
            retry_ids = sorted(conflicts)
            conflicts = {}
            with self.env.cr.savepoint():
                retried, more = self._process_batch(
                    retry_ids, context, log, preview_rows, conflicts
                )
            for key, value in retried.items():
                stats[key] += value
            notices |= more
            self._commit()
        for partner_id, reason in conflicts.items():
            # Still in conflict: nothing is recorded, the next run books it.
            stats["errors"] += 1
            log.append(self._customer_log_line(partner_id, reason, postponed=True))
        for key, value in stats.items():
            totals[key] += value
        return notices

    def _process_batch(self, partner_ids, context, log, preview_rows, conflicts):
        """Read one batch, decide it in the core and book the plans. Customers
        whose booking met a concurrency conflict go to ``conflicts`` (partner
        id: reason), not to the log: the caller retries them or leaves them to
        the next run. Returns (statistics, booked notices)."""
        stats = defaultdict(int)
        batch = batch_reader.read_batch(self, partner_ids, context)  # read
        plans, errors = planning.plan_batch(  # decide
            batch.customers, batch.items, batch.invoices, context["configs"], batch.settings
        )
        for partner_id, error in errors.items():
            stats["errors"] += 1
            log.append(self._customer_log_line(partner_id, _readable(error)))
        log.extend(self._skip_log_lines(plans))
        if self.dry_run:
            for partner_id, plan in plans.items():
                preview_rows.extend((partner_id, notice) for notice in plan.notices)
                stats["notices"] += len(plan.notices)
                stats["invoices"] += sum(len(n.escalated_move_ids) for n in plan.notices)
            return stats, self.env["isp.dunning.notice"]
        notices = self._book_plans(plans, batch.move_data, context, stats, log, conflicts)  # book
        return stats, notices

    def _book_plans(self, plans, move_data, context, stats, log, conflicts):
        """Book the batch in one go; when that fails, customer by customer so
        that one failure stays local."""
        try:
            with self.env.cr.savepoint():
                return self._book(plans, move_data, context, stats)
        except Exception:
            _logger.info("Dunning batch failed, retrying customer by customer")
        notices = self.env["isp.dunning.notice"]
        for partner_id, plan in plans.items():
            try:
                with self.env.cr.savepoint():
                    notices |= self._book({partner_id: plan}, move_data, context, stats)
            except Exception as error:
                reason = _readable(error)
                if isinstance(error, TRANSIENT_ERRORS):
                    # Another worker changed the same rows (e.g. a shared
                    # customer of another company): nothing is recorded.
                    conflicts[partner_id] = reason
                    continue
                # Nothing is recorded: no notice takes the customer's slot of
                # the day, and the next run books the customer again.
                stats["errors"] += 1
                log.append(self._customer_log_line(partner_id, reason, postponed=True))
        return notices

    def _book(self, plans, move_data, context, stats):
        """Notices, fee documents and invoice updates of the plans."""
        return booking.book(self, plans, move_data, context, stats)

    def _create_fee_moves(self, notices, notice_plans):
        return fee_documents.create_fee_moves(self, notices, notice_plans)

    def _deliver(self, notices, log):
        """Deliver committed notices (emails, letters, handover) outside the
        booking's savepoint; a failure leaves them pending for the next run."""
        if not notices:
            return
        try:
            with self.env.cr.savepoint():
                notices._deliver()
        except Exception as error:
            _logger.exception("Dunning run %s: delivery failed", self.id)
            log.append(
                self.env._(
                    "Delivery of %(count)s notices failed and is retried by the next run: "
                    "%(error)s",
                    count=len(notices),
                    error=_readable(error),
                )
            )
        self._commit()

    def _finish(self, partner_ids, totals, log, preview_rows):
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
            vals["preview_html"] = preview.preview_table(self.env, preview_rows)
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

    def _ladder(self):
        """The company's levels; a run without levels or, when it books,
        without a usable journal stops with a clear message."""
        company = self.company_id
        levels = self.env["isp.dunning.level"]._get_ladder(company)
        if not levels:
            raise UserError(
                self.env._("%s has no dunning levels; configure them first.", company.name)
            )
        if not self.dry_run:
            self._check_booking_setup()
        return levels

    def _check_booking_setup(self):
        company = self.company_id
        journal = company._dunning_journal()
        if not journal:
            raise UserError(
                self.env._(
                    "%s has no journal for dunning charges; choose a sales journal in the "
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
        for kind, account in company._dunning_charge_accounts().items():
            if not account:
                raise UserError(
                    self.env._(
                        "%(company)s has no income account for %(charge)s; choose one in the "
                        "Accounting settings.",
                        company=company.name,
                        charge=company._dunning_charge_label(kind),
                    )
                )
            # The account may have got a default tax since it was chosen.
            company._dunning_check_charge_account(kind, account, UserError)

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

    def _candidate_partner_ids(self):
        return batch_reader.candidate_partner_ids(self)

    def _skip_log_lines(self, plans):
        """One line per customer that gets no notice, with the reasons the
        core gave (pause, netting, excluded, below tolerance)."""
        skipped = {
            pid: plan.skipped for pid, plan in plans.items() if plan.skipped and not plan.notices
        }
        if not skipped:
            return []
        move_ids = {move_id for reasons in skipped.values() for move_id, _r in reasons if move_id}
        names = {move.id: move.name for move in self.env["account.move"].browse(move_ids)}
        labels = {
            planning.SKIP_EXCLUDED: self.env._("excluded from dunning"),
            planning.SKIP_PAUSED: self.env._("paused"),
            planning.SKIP_NETTED: self.env._("net balance covered by credits and payments"),
            planning.SKIP_BELOW_TOLERANCE: self.env._("below the tolerance"),
            planning.SKIP_IN_PAYMENT: self.env._("in payment"),
        }
        lines = []
        partners = self.env["res.partner"].browse(list(skipped))
        for partner in partners:
            reasons = []
            for move_id, reason in skipped[partner.id]:
                label = labels.get(reason, reason)
                reasons.append(f"{label} ({names[move_id]})" if move_id else label)
            lines.append(
                self.env._(
                    "Customer %(partner)s skipped: %(reasons)s",
                    partner=partner.display_name,
                    reasons=", ".join(reasons),
                )
            )
        return lines

    def _customer_log_line(self, partner_id, reason, postponed=False):
        partner = self.env["res.partner"].browse(partner_id).display_name
        if postponed:
            return self.env._(
                "Customer %(partner)s: %(error)s (left to the next run)",
                partner=partner,
                error=reason,
            )
        return self.env._("Customer %(partner)s: %(error)s", partner=partner, error=reason)
