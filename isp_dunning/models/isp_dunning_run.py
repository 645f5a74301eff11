import logging
import time

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import split_every

from ..domain import planning
from ..services import (
    batch_reader,
    booking,
    parallel_batches,
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

    @api.model
    def _cron_work_batches(self):
        """The batch workers' scheduled action: take batches of the runs that
        several workers share (company setting "Parallel Workers" > 1),
        services/parallel_batches.py."""
        return parallel_batches.cron_work_batches(self)

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
            parallel_batches.give_up_batches(run)
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
        and commit (``_process_batch``); then deliver the committed notices.
        A company that reviews first replaces its proposals not released
        before (isp_dunning_run_review.py)."""
        Notice = self.env["isp.dunning.notice"]
        context = run_setup.prepare_context(self, run_setup.ladder(self))
        if not self.dry_run:
            # Finish what an interrupted run or a failed delivery left behind.
            self._deliver(Notice._pending_delivery(self.company_id), outcome)
            # Batches of an earlier run that stopped half way come first: no
            # second run of the company while batches of one are open.
            parallel_batches.complete_open_runs(self)
        partner_ids = batch_reader.candidate_partner_ids(self)  # select
        if parallel_batches.use_parallel(self):
            # The same steps per batch, by several workers (services/parallel_batches.py).
            parallel_batches.run_shared(self, partner_ids, context, outcome)
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
