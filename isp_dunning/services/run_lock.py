"""The advisory lock that keeps two runs of one company apart."""

import psycopg2

# First key of the advisory lock; the second is the company's id.
RUN_LOCK_KEY = 7311


def try_lock(cr, company_id, session):
    """Take the company's run lock without waiting; False when another run
    holds it.

    The cron commits batch by batch, so its lock must outlive them: a
    ``session`` lock, released by :func:`release` when the run ends. "Run
    now" and the tests run in one transaction that the caller commits: a
    transaction lock is held until that commit and goes with a rollback, so
    neither a run started just before the commit nor a failed request (whose
    pooled connection lives on) can leave the company locked.
    """
    if session:
        query = "SELECT pg_try_advisory_lock(%s, %s)"
    else:
        query = "SELECT pg_try_advisory_xact_lock(%s, %s)"
    cr.execute(query, (RUN_LOCK_KEY, company_id))
    return cr.fetchone()[0]


def release(cr, company_id):
    """Release the company's session lock (see :func:`try_lock`)."""
    query = "SELECT pg_advisory_unlock(%s, %s)"
    params = (RUN_LOCK_KEY, company_id)
    try:
        cr.execute(query, params)
    except psycopg2.Error:
        # The transaction broke after the run's last commit: end it so that
        # the lock, which belongs to the session, can be released.
        cr.rollback()
        cr.execute(query, params)


# First key of the session lock a worker holds on the batch it processes
# (``isp.dunning.run.batch``); the second is the batch's id. The lock ends
# with the worker's session: a batch left running without it was abandoned.
BATCH_LOCK_KEY = 7312


def try_lock_batch(cr, batch_id):
    """Take the lock on a batch without waiting; False when a live worker
    holds it."""
    cr.execute("SELECT pg_try_advisory_lock(%s, %s)", (BATCH_LOCK_KEY, batch_id))
    return cr.fetchone()[0]


def release_batch(cr, batch_id):
    """Release a batch's lock (see :func:`try_lock_batch`), also after the
    transaction broke."""
    release_key(cr, BATCH_LOCK_KEY, batch_id)


def release_key(cr, key, object_id):
    query = "SELECT pg_advisory_unlock(%s, %s)"
    try:
        cr.execute(query, (key, object_id))
    except psycopg2.Error:
        cr.rollback()
        cr.execute(query, (key, object_id))
