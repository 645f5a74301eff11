import logging
import time

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import split_every

from ..domain import parallel, planning
from ..services import (
    batch_reader,
    booking,
    portal_blocking,
    preview,
    promises,
    proposal,
    run_lock,
    run_log,
    run_setup,
    table_statistics,
)

_logger = logging.getLogger(__name__)

# Seconds to wait before each new attempt at customers whose booking met a
# concurrency conflict (cron only: each attempt is a new transaction).
CONFLICT_RETRY_DELAYS = (0.2, 1.0, 3.0)

# Seconds between two looks of the coordinating run at batches that other
# workers are still processing.
BATCH_POLL_SECONDS = 0.5

# The scheduled actions that the coordinating run wakes to share its
# batches (``parallel.MAX_WORKERS`` - 1 of them).
BATCH_WORKER_CRONS = tuple(
    f"isp_dunning.ir_cron_dunning_batch_worker_{number}"
    for number in range(1, parallel.MAX_WORKERS)
)


class IspDunningRun(models.Model):
    """One execution of the dunning for one company and date.

    ``run_dunning`` is the single entry point (cron, "Run now", preview,
    tests); ``_execute_locked`` is the pipeline. Decisions come from
    ``domain``; reading, booking and delivering are steps in ``services``.
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
    batch_ids = fields.One2many("isp.dunning.run.batch", "run_id", readonly=True)
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
        if not run_lock.try_lock(run.env.cr, run.company_id.id, session=autocommit):
            run.write(
                {
                    "state": "skipped",
                    "finished_at": fields.Datetime.now(),
                    "log": self.env._("Another dunning run of this company is in progress."),
                }
            )
            run._commit()
            return
        outcome = run_log.Outcome()
        try:
            run._execute_locked(outcome)
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
            run._give_up_batches()
            outcome.log.append(self.env._("The run stopped: %s", error))
            run.write(
                {
                    "state": "failed",
                    "finished_at": fields.Datetime.now(),
                    "log": "\n".join(outcome.log),
                }
            )
            run._commit()
        finally:
            if autocommit:
                run_lock.release(run.env.cr, run.company_id.id)

    def _execute_locked(self, outcome):
        """The pipeline: select the candidates; per batch read, decide, book
        and commit (``_process_batch``); then deliver the committed notices."""
        Notice = self.env["isp.dunning.notice"]
        context = run_setup.prepare_context(self, run_setup.ladder(self))
        if not self.dry_run:
            # Finish what an interrupted run or a failed delivery left behind.
            self._deliver(Notice._pending_delivery(self.company_id), outcome)
            # Batches of an earlier run that stopped half way come first: no
            # second run of the company while batches of one are open.
            self._complete_open_runs()
        partner_ids = batch_reader.candidate_partner_ids(self)  # select
        if self._parallel():
            # The same steps per batch, by several workers (_work_batches).
            self._share_batches(partner_ids)
            self._work_batches({self.id: context}, wait=True)
            self._finish_batches(context, outcome)
            return
        for done, batch_ids in self._batches(partner_ids):
            notices = self._process_batch(batch_ids, context, outcome)
            self._deliver(notices, outcome)  # deliver, from committed notices
            self._after_batch(done, len(partner_ids))
        if not self.dry_run:
            self._retry_postponed_blocks(context)
        self._finish(len(partner_ids), outcome)

    def _retry_postponed_blocks(self, context):
        self._retry_on_conflict(
            lambda: portal_blocking.retry_postponed_blocks(self, context["working_calendar"])
        )

    def _process_batch(self, partner_ids, context, outcome):
        """One batch of customers: read, decide, book and commit; the notices
        booked (committed in the cron) are returned for delivery."""
        notices = self.env["isp.dunning.notice"]
        for attempt_ids in self._attempts(partner_ids, outcome):
            with self.env.cr.savepoint():
                batch = batch_reader.read_batch(self, attempt_ids, context)  # read
                plans, errors = planning.plan_batch(  # decide
                    batch.customers,
                    batch.items,
                    batch.invoices,
                    context["configs"],
                    batch.settings,
                )
                outcome.decided(self, plans, errors)
                if not self.dry_run:  # book (or propose, when the company reviews first)
                    notices |= proposal.book_step(self, plans, batch.move_data, context, outcome)
                promises.record(  # payment promises kept or broken (a preview only logs)
                    self, batch.promises, notices, batch.move_data, context["levels"], outcome
                )
            self._commit()  # commit
        return notices

    def _batches(self, partner_ids):
        """(customers done after the batch, batch) in batches of the company's size."""
        done = 0
        for batch in split_every(self.company_id.dunning_batch_size or 500, partner_ids, list):
            done += len(batch)
            yield done, batch

    def _attempts(self, partner_ids, outcome):
        """The customers of a batch, then (cron) those whose booking met a
        concurrent update, each time after a pause in a new transaction that
        sees what the other worker committed; those still in conflict are
        left to the next run with nothing recorded."""
        outcome.conflicts = {}
        yield partner_ids
        for delay in CONFLICT_RETRY_DELAYS if self._autocommit() else ():
            if not outcome.conflicts:
                break
            time.sleep(delay)
            retry_ids = sorted(outcome.conflicts)
            outcome.conflicts = {}
            yield retry_ids
        for partner_id, reason in outcome.conflicts.items():
            outcome.error(self, partner_id, reason, postponed=True)
        outcome.conflicts = {}

    def _deliver(self, notices, outcome):
        """Deliver committed notices (emails, letters, handover) outside the
        booking's savepoint; a failure leaves them pending for the next run."""
        if not notices:
            return
        try:
            with self.env.cr.savepoint():
                notices._deliver()
        except Exception as error:
            _logger.exception("Dunning run %s: delivery failed", self.id)
            outcome.log.append(
                self.env._(
                    "Delivery of %(count)s notices failed and is retried by the next run: "
                    "%(error)s",
                    count=len(notices),
                    error=run_log.readable(error),
                )
            )
        self._commit()

    def _after_batch(self, done, total):
        """Between batches of the cron: fresh statistics for the tables the
        run fills (the counts are those of committed batches) and the
        progress."""
        if self._autocommit() and table_statistics.refresh(self.env.cr):
            self._commit()
        self.env["ir.cron"]._notify_progress(done=done, remaining=total - done)

    def _finish(self, customer_count, outcome):
        vals = {
            "state": "done",
            "finished_at": fields.Datetime.now(),
            "customer_count": customer_count,
            "invoice_count": outcome.totals["invoices"],
            "notice_count": outcome.totals["notices"],
            "error_count": outcome.totals["errors"],
            "log": "\n".join(outcome.log),
        }
        if self.dry_run:
            vals["preview_html"] = preview.preview_table(self.env, outcome.preview_rows)
        self.write(vals)
        self._commit()

    def _retry_on_conflict(self, step):
        """Run a step; in the cron, run it again in a new transaction when
        another worker changed the same rows meanwhile."""
        for delay in (*CONFLICT_RETRY_DELAYS, None):
            try:
                with self.env.cr.savepoint():
                    step()
                return
            except booking.TRANSIENT_ERRORS:
                if delay is None or not self._autocommit():
                    raise
                _logger.info("Dunning run %s: concurrent update, retrying", self.id)
                self.env.cr.rollback()
                time.sleep(delay)

    # ------------------------------------------------------------------
    # Several workers (company setting "Parallel Workers" > 1, cron only)
    # ------------------------------------------------------------------
    def _parallel(self):
        return parallel.use_parallel(
            self.company_id.dunning_parallel_workers, self._autocommit(), self.dry_run
        )

    def _share_batches(self, partner_ids):
        """Store the run's batches, commit them and wake the batch workers."""
        workers = self.company_id.dunning_parallel_workers
        size = parallel.shared_batch_size(
            len(partner_ids), self.company_id.dunning_batch_size or 500, workers
        )
        batches = self.env["isp.dunning.run.batch"].sudo()._store(self, partner_ids, size)
        helpers = parallel.helpers_to_trigger(workers, len(batches))
        self._prepare_shared_rows()
        for xmlid in BATCH_WORKER_CRONS[:helpers]:
            cron = self.env.ref(xmlid, raise_if_not_found=False)
            if cron and cron.sudo().active:
                cron.sudo()._trigger()
        self._commit()

    def _prepare_shared_rows(self):
        """Rows that the first booking of a year creates on the fly, created
        here before the workers start: two workers creating the notice
        sequence's date range at once would both fail on its unique key and
        leave their batches' customers to the next run."""
        company = self.company_id
        sequence = (
            self.env["ir.sequence"]
            .sudo()
            .search(
                [("code", "=", "isp.dunning.notice"), ("company_id", "in", [company.id, False])],
                order="company_id",
                limit=1,
            )
        )
        if sequence:
            sequence._get_current_sequence(sequence_date=self.date)

    def _work_batches(self, contexts, wait=False):
        """Claim and process batches of these runs until none is left to
        take; with ``wait``, until none is open (the coordinating run waits
        for the other workers and takes over the batches of one that died).
        ``contexts``: run id -> the run's prepared context, filled as
        needed. Returns the number of batches this worker processed."""
        # Batches are the run's machinery: the run's user needs no rights on them.
        Batch = self.env["isp.dunning.run.batch"].sudo()
        worker = Batch._worker_name()
        processed = 0
        while True:
            self._commit()  # a new snapshot: what the other workers committed
            try:
                batch = Batch._claim(self.ids, worker=worker)
            except booking.TRANSIENT_ERRORS:
                if not self._autocommit():
                    raise
                self.env.cr.rollback()
                continue
            if batch:
                run = self.browse(batch.run_id.id)
                if run.id not in contexts:
                    contexts[run.id] = run_setup.prepare_context(run, run_setup.ladder(run))
                run._process_claimed(batch, contexts[run.id])
                processed += 1
                continue
            if not wait or parallel.finished(self._batch_states()):
                return processed
            time.sleep(BATCH_POLL_SECONDS)

    def _batch_states(self):
        self.env.cr.execute(
            "SELECT state FROM isp_dunning_run_batch WHERE run_id = ANY(%s)", [self.ids]
        )
        return [state for (state,) in self.env.cr.fetchall()]

    def _process_claimed(self, batch, context):
        """One claimed batch: read, decide, book and commit (the commit also
        records the claim), deliver, then the batch is done with its counts
        and log lines. A batch whose processing raises is rolled back and
        left to another attempt, or given up after a few."""
        outcome = run_log.Outcome()
        attempts = batch.attempts
        try:
            notices = self._process_batch(batch.partner_ids, context, outcome)
            self._deliver(notices, outcome)
            batch.write(
                {
                    "state": parallel.DONE,
                    "done_at": fields.Datetime.now(),
                    "customer_count": len(batch.partner_ids),
                    "notice_count": outcome.totals["notices"],
                    "invoice_count": outcome.totals["invoices"],
                    "error_count": outcome.totals["errors"],
                    "log": "\n".join(outcome.log),
                }
            )
            self._commit()
        except Exception as error:
            if not self._autocommit():
                raise
            _logger.exception("Dunning run %s: batch %s failed", self.id, batch.sequence)
            self.env.cr.rollback()
            state = parallel.after_failure(attempts)
            vals = {"state": state, "attempts": attempts, "worker": False}
            if state == parallel.FAILED:
                vals.update(
                    done_at=fields.Datetime.now(),
                    customer_count=len(batch.partner_ids),
                    error_count=1,
                    log=self.env._(
                        "Batch %(batch)s (%(count)s customers) failed %(attempts)s times and "
                        "is left to the next run: %(error)s",
                        batch=batch.sequence,
                        count=len(batch.partner_ids),
                        attempts=attempts,
                        error=run_log.readable(error),
                    ),
                )
            batch.write(vals)
            self._commit()
        finally:
            batch._release()
        self._after_batch_of_many()

    def _after_batch_of_many(self):
        if self._autocommit():
            try:
                if table_statistics.refresh(self.env.cr):
                    self._commit()
            except psycopg2.Error:
                # Another worker analyzed the same table at the same moment;
                # the batch is committed, a later batch refreshes them.
                _logger.info("Dunning run %s: statistics not refreshed", self.id)
                self.env.cr.rollback()
        self.env.cr.execute(
            "SELECT count(*) FILTER (WHERE state IN %s), count(*) FROM isp_dunning_run_batch"
            " WHERE run_id = %s",
            [parallel.OPEN_STATES, self.id],
        )
        open_count, count = self.env.cr.fetchone()
        self.env["ir.cron"]._notify_progress(done=count - open_count, remaining=open_count)

    def _finish_batches(self, context, outcome):
        """The end of a run whose batches are done: deliver what a worker that
        died left undelivered, retry postponed blocks, then the run's counts
        and log from its batches. The notices and invoices are counted from
        the notices the run booked, so that a batch taken over after its
        worker died half way counts what the dead worker committed."""
        self._deliver(self.env["isp.dunning.notice"]._pending_delivery(self.company_id), outcome)
        self._retry_postponed_blocks(context)
        batches = self.sudo().batch_ids.sorted("sequence")
        counts = parallel.total(batch._counts() for batch in batches)
        outcome.log.extend(batch.log for batch in batches if batch.log)
        outcome.totals["errors"] += counts.errors
        self.env.cr.execute(
            """
            SELECT count(DISTINCT n.id), count(l.id) FILTER (WHERE l.escalated)
              FROM isp_dunning_notice n
              LEFT JOIN isp_dunning_notice_line l ON l.notice_id = n.id
             WHERE n.run_id = %s
            """,
            [self.id],
        )
        outcome.totals["notices"], outcome.totals["invoices"] = self.env.cr.fetchone()
        self._finish(counts.customers, outcome)

    def _complete_open_runs(self):
        """Finish earlier runs of the company whose batches are still open or
        whose end was not written (their coordinating worker died): process
        what is left, then end them as their own coordinator would."""
        others = self.search(
            [
                ("company_id", "=", self.company_id.id),
                ("state", "=", "running"),
                ("id", "!=", self.id),
                ("batch_ids", "!=", False),
            ]
        )
        for run in others:
            run._complete_orphan()

    def _complete_orphan(self):
        context = run_setup.prepare_context(self, run_setup.ladder(self))
        self._work_batches({self.id: context}, wait=True)
        self._finish_batches(context, run_log.Outcome())

    @api.model
    def _cron_work_batches(self):
        """The batch workers' scheduled action: take batches of any company's
        running run until none is left; the last worker of a run whose
        coordinating worker died ends the run (it then holds the company's
        run lock, as a run does)."""
        runs = self.sudo().search([("state", "=", "running"), ("batch_ids", "!=", False)])
        processed = 0
        for run in runs:
            run = run.with_company(run.company_id).with_context(dunning_autocommit=True)
            processed += run._work_batches({})
            if not parallel.finished(run._batch_states()):
                continue
            if not run_lock.try_lock(run.env.cr, run.company_id.id, session=True):
                continue  # the coordinating run is alive and ends it
            try:
                run._commit()  # a snapshot after the coordinating run's end
                run.invalidate_recordset(["state"])
                if run.state == "running":
                    run._complete_orphan()
            finally:
                run_lock.release(run.env.cr, run.company_id.id)
        return processed

    def _give_up_batches(self):
        """A coordinating run that failed: its pending batches are given up
        (the customers are left to the next run); a batch being processed by
        another worker ends on its own."""
        self.env["isp.dunning.run.batch"].sudo().search(
            [("run_id", "=", self.id), ("state", "=", parallel.PENDING)]
        ).write({"state": parallel.FAILED})
