import os
import socket
import threading

from odoo import api, fields, models

from ..domain import parallel
from ..services import run_lock


class IspDunningRunBatch(models.Model):
    """One batch of customers of a run that several workers share.

    The run stores its batches and commits; each worker claims one pending
    batch with ``FOR UPDATE SKIP LOCKED`` in the transaction that books it
    and holds a session lock on it (``run_lock.try_lock_batch``) until the
    batch is done: a worker that dies leaves the batch pending (nothing
    committed) or running without a lock holder, and another worker takes it
    again (``domain/parallel.py``).
    """

    _name = "isp.dunning.run.batch"
    _description = "Dunning Run Batch"
    _order = "run_id desc, sequence"

    run_id = fields.Many2one(
        "isp.dunning.run", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(related="run_id.company_id", store=True, index=True)
    sequence = fields.Integer(readonly=True)
    partner_ids = fields.Json(string="Customer List", readonly=True)
    state = fields.Selection(
        [
            (parallel.PENDING, "Pending"),
            (parallel.RUNNING, "Running"),
            (parallel.DONE, "Done"),
            (parallel.FAILED, "Failed"),
        ],
        default=parallel.PENDING,
        required=True,
        index=True,
        readonly=True,
    )
    attempts = fields.Integer(readonly=True)
    worker = fields.Char(readonly=True, help="The process and thread that took the batch last.")
    claimed_at = fields.Datetime(readonly=True)
    done_at = fields.Datetime(readonly=True)
    customer_count = fields.Integer(string="Customers", readonly=True)
    notice_count = fields.Integer(string="Notices", readonly=True)
    invoice_count = fields.Integer(string="Invoices Escalated", readonly=True)
    error_count = fields.Integer(string="Errors", readonly=True)
    log = fields.Text(readonly=True)

    @api.model
    def _worker_name(self):
        return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"

    @api.model
    def _store(self, run, partner_ids, size):
        """The run's customers as pending batches of ``size``."""
        return self.create(
            [
                {"run_id": run.id, "sequence": number, "partner_ids": batch}
                for number, batch in enumerate(parallel.split(partner_ids, size), start=1)
            ]
        )

    @api.model
    def _claim(self, run_ids, worker=None):
        """Take one batch of the runs for this transaction: the first pending
        one that no other transaction holds, else one that its worker
        abandoned (running, its lock free). The batch is locked (row and
        session lock) and marked running; nothing is committed. An empty
        recordset when there is nothing to take."""
        cr = self.env.cr
        self.flush_model()
        held = [0]  # batches whose lock a worker holds: one whose attempt just failed
        while True:
            cr.execute(
                """
                SELECT id FROM isp_dunning_run_batch
                 WHERE run_id = ANY(%s) AND state = %s AND id != ALL(%s)
                 ORDER BY run_id, sequence
                 LIMIT 1
                   FOR UPDATE SKIP LOCKED
                """,
                [list(run_ids), parallel.PENDING, held],
            )
            row = cr.fetchone()
            if not row or run_lock.try_lock_batch(cr, row[0]):
                break
            held.append(row[0])
        if not row:
            row = self._claim_abandoned(run_ids)
        if not row:
            return self.browse()
        batch = self.browse(row[0])
        batch.write(
            {
                "state": parallel.RUNNING,
                "attempts": batch.attempts + 1,
                "worker": worker or self._worker_name(),
                "claimed_at": fields.Datetime.now(),
            }
        )
        return batch

    def _claim_abandoned(self, run_ids):
        cr = self.env.cr
        cr.execute(
            "SELECT id FROM isp_dunning_run_batch WHERE run_id = ANY(%s) AND state = %s"
            " ORDER BY run_id, sequence",
            [list(run_ids), parallel.RUNNING],
        )
        for (batch_id,) in cr.fetchall():
            alive = not run_lock.try_lock_batch(cr, batch_id)
            if not parallel.claimable(parallel.RUNNING, worker_alive=alive):
                continue
            try:
                cr.execute(
                    "SELECT id FROM isp_dunning_run_batch WHERE id = %s AND state = %s"
                    " FOR UPDATE SKIP LOCKED",
                    [batch_id, parallel.RUNNING],
                )
            except Exception:
                # Done by its worker since this transaction's snapshot.
                run_lock.release_batch(cr, batch_id)
                raise
            row = cr.fetchone()
            if row:
                return row
            run_lock.release_batch(cr, batch_id)
        return None

    def _release(self):
        for batch in self:
            run_lock.release_batch(self.env.cr, batch.id)

    def _counts(self):
        return parallel.BatchCounts(
            customers=self.customer_count,
            notices=self.notice_count,
            invoices=self.invoice_count,
            errors=self.error_count,
        )
