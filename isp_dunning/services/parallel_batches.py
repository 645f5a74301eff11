"""Several workers share one company's run (company setting *Parallel
Workers* > 1, cron only). The rules are in ``domain.parallel``; the batches
are ``isp.dunning.run.batch`` records.

* ``use_parallel``: whether the run shares its customers;
* ``run_shared``: the run's select-and-process step with several workers:
  store the batches and wake the batch workers (``share_batches``), work on
  them alongside until none is open (``work_batches``), then end the run
  from its batches (``finish_batches``);
* ``process_claimed``: one claimed batch, with the run's own per-batch steps
  (``_process_batch``, ``_deliver``);
* ``complete_open_runs``: a new run first ends earlier runs of its company
  whose batches are still open;
* ``cron_work_batches``: the batch workers' scheduled action;
* ``give_up_batches``: a coordinating run that failed gives up its pending
  batches.
"""

import logging
import time

import psycopg2

from odoo import fields

from ..domain import parallel
from . import booking, run_lock, run_log, run_setup, table_statistics

_logger = logging.getLogger(__name__)

# Seconds between two looks of the coordinating run at batches that other
# workers are still processing.
BATCH_POLL_SECONDS = 0.5

# The scheduled actions that the coordinating run wakes to share its
# batches (``parallel.MAX_WORKERS`` - 1 of them).
BATCH_WORKER_CRONS = tuple(
    f"isp_dunning.ir_cron_dunning_batch_worker_{number}"
    for number in range(1, parallel.MAX_WORKERS)
)


def use_parallel(run):
    return parallel.use_parallel(
        run.company_id.dunning_parallel_workers, run._autocommit(), run.dry_run
    )


def run_shared(run, partner_ids, context, outcome):
    """The run's customers processed by several workers: the same steps per
    batch as the serial run, then the run's end."""
    share_batches(run, partner_ids)
    work_batches(run, {run.id: context}, wait=True)
    finish_batches(run, context, outcome)


def share_batches(run, partner_ids):
    """Store the run's batches, commit them and wake the batch workers."""
    workers = run.company_id.dunning_parallel_workers
    size = parallel.shared_batch_size(
        len(partner_ids), run.company_id.dunning_batch_size or 500, workers
    )
    batches = run.env["isp.dunning.run.batch"].sudo()._store(run, partner_ids, size)
    helpers = parallel.helpers_to_trigger(workers, len(batches))
    _prepare_shared_rows(run)
    for xmlid in BATCH_WORKER_CRONS[:helpers]:
        cron = run.env.ref(xmlid, raise_if_not_found=False)
        if cron and cron.sudo().active:
            cron.sudo()._trigger()
    run._commit()


def _prepare_shared_rows(run):
    """Rows that the first booking of a year creates on the fly, created
    here before the workers start: two workers creating the notice
    sequence's date range at once would both fail on its unique key and
    leave their batches' customers to the next run."""
    company = run.company_id
    sequence = (
        run.env["ir.sequence"]
        .sudo()
        .search(
            [("code", "=", "isp.dunning.notice"), ("company_id", "in", [company.id, False])],
            order="company_id",
            limit=1,
        )
    )
    if sequence:
        sequence._get_current_sequence(sequence_date=run.date)


def work_batches(runs, contexts, wait=False):
    """Claim and process batches of these runs until none is left to
    take; with ``wait``, until none is open (the coordinating run waits
    for the other workers and takes over the batches of one that died).
    ``contexts``: run id -> the run's prepared context, filled as
    needed. Returns the number of batches this worker processed."""
    # Batches are the run's machinery: the run's user needs no rights on them.
    Batch = runs.env["isp.dunning.run.batch"].sudo()
    worker = Batch._worker_name()
    processed = 0
    while True:
        runs._commit()  # a new snapshot: what the other workers committed
        try:
            batch = Batch._claim(runs.ids, worker=worker)
        except booking.TRANSIENT_ERRORS:
            if not runs._autocommit():
                raise
            runs.env.cr.rollback()
            continue
        if batch:
            run = runs.browse(batch.run_id.id)
            if run.id not in contexts:
                contexts[run.id] = run_setup.prepare_context(run, run_setup.ladder(run))
            process_claimed(run, batch, contexts[run.id])
            processed += 1
            continue
        if not wait or parallel.finished(_batch_states(runs)):
            return processed
        time.sleep(BATCH_POLL_SECONDS)


def _batch_states(runs):
    runs.env.cr.execute(
        "SELECT state FROM isp_dunning_run_batch WHERE run_id = ANY(%s)", [runs.ids]
    )
    return [state for (state,) in runs.env.cr.fetchall()]


def process_claimed(run, batch, context):
    """One claimed batch: read, decide, book and commit (the commit also
    records the claim), deliver, then the batch is done with its counts
    and log lines. A batch whose processing raises is rolled back and
    left to another attempt, or given up after a few."""
    outcome = run_log.Outcome()
    attempts = batch.attempts
    try:
        notices = run._process_batch(batch.partner_ids, context, outcome)
        run._deliver(notices, outcome)
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
        run._commit()
    except Exception as error:
        if not run._autocommit():
            raise
        _logger.exception("Dunning run %s: batch %s failed", run.id, batch.sequence)
        run.env.cr.rollback()
        state = parallel.after_failure(attempts)
        vals = {"state": state, "attempts": attempts, "worker": False}
        if state == parallel.FAILED:
            vals.update(
                done_at=fields.Datetime.now(),
                customer_count=len(batch.partner_ids),
                error_count=1,
                log=run.env._(
                    "Batch %(batch)s (%(count)s customers) failed %(attempts)s times and "
                    "is left to the next run: %(error)s",
                    batch=batch.sequence,
                    count=len(batch.partner_ids),
                    attempts=attempts,
                    error=run_log.readable(error),
                ),
            )
        batch.write(vals)
        run._commit()
    finally:
        batch._release()
    _after_batch(run)


def _after_batch(run):
    """Between batches: fresh statistics for the tables the run fills and
    the run's progress over all its workers."""
    if run._autocommit():
        try:
            if table_statistics.refresh(run.env.cr):
                run._commit()
        except psycopg2.Error:
            # Another worker analyzed the same table at the same moment;
            # the batch is committed, a later batch refreshes them.
            _logger.info("Dunning run %s: statistics not refreshed", run.id)
            run.env.cr.rollback()
    run.env.cr.execute(
        "SELECT count(*) FILTER (WHERE state IN %s), count(*) FROM isp_dunning_run_batch"
        " WHERE run_id = %s",
        [parallel.OPEN_STATES, run.id],
    )
    open_count, count = run.env.cr.fetchone()
    run.env["ir.cron"]._notify_progress(done=count - open_count, remaining=open_count)


def finish_batches(run, context, outcome):
    """The end of a run whose batches are done: deliver what a worker that
    died left undelivered, retry postponed blocks, then the run's counts
    and log from its batches. The notices and invoices are counted from
    the notices the run booked, so that a batch taken over after its
    worker died half way counts what the dead worker committed."""
    run._deliver(run.env["isp.dunning.notice"]._pending_delivery(run.company_id), outcome)
    run._retry_postponed_blocks(context)
    batches = run.sudo().batch_ids.sorted("sequence")
    counts = parallel.total(batch._counts() for batch in batches)
    outcome.log.extend(batch.log for batch in batches if batch.log)
    outcome.totals["errors"] += counts.errors
    run.env.cr.execute(
        """
        SELECT count(DISTINCT n.id), count(l.id) FILTER (WHERE l.escalated)
          FROM isp_dunning_notice n
          LEFT JOIN isp_dunning_notice_line l ON l.notice_id = n.id
         WHERE n.run_id = %s
        """,
        [run.id],
    )
    outcome.totals["notices"], outcome.totals["invoices"] = run.env.cr.fetchone()
    run._finish(counts.customers, outcome)


def complete_open_runs(run):
    """Finish earlier runs of the company whose batches are still open or
    whose end was not written (their coordinating worker died): process
    what is left, then end them as their own coordinator would."""
    others = run.search(
        [
            ("company_id", "=", run.company_id.id),
            ("state", "=", "running"),
            ("id", "!=", run.id),
            ("batch_ids", "!=", False),
        ]
    )
    for other in others:
        _complete_orphan(other)


def _complete_orphan(run):
    context = run_setup.prepare_context(run, run_setup.ladder(run))
    work_batches(run, {run.id: context}, wait=True)
    finish_batches(run, context, run_log.Outcome())


def cron_work_batches(Run):
    """Take batches of any company's running run until none is left; the
    last worker of a run whose coordinating worker died ends the run (it
    then holds the company's run lock, as a run does). Returns the number
    of batches processed."""
    runs = Run.sudo().search([("state", "=", "running"), ("batch_ids", "!=", False)])
    processed = 0
    for run in runs:
        run = run.with_company(run.company_id).with_context(dunning_autocommit=True)
        processed += work_batches(run, {})
        if not parallel.finished(_batch_states(run)):
            continue
        if not run_lock.try_lock(run.env.cr, run.company_id.id, session=True):
            continue  # the coordinating run is alive and ends it
        try:
            run._commit()  # a snapshot after the coordinating run's end
            run.invalidate_recordset(["state"])
            if run.state == "running":
                _complete_orphan(run)
        finally:
            run_lock.release(run.env.cr, run.company_id.id)
    return processed


def give_up_batches(run):
    """A coordinating run that failed: its pending batches are given up
    (the customers are left to the next run); a batch being processed by
    another worker ends on its own."""
    run.env["isp.dunning.run.batch"].sudo().search(
        [("run_id", "=", run.id), ("state", "=", parallel.PENDING)]
    ).write({"state": parallel.FAILED})
