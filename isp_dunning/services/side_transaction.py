"""Side transactions with a bounded lock wait.

A run sometimes needs work committed in a transaction of its own (report
bundles that wkhtmltopdf fetches over HTTP). While the run's transaction
holds row locks (e.g. it renamed the company: a key update), the side
transaction would wait for its own parent for ever. Every side transaction
therefore waits at most ``lock_timeout`` for a lock; when that passes it
is rolled back and the caller takes its fallback.
"""

import logging
from contextlib import contextmanager

from psycopg2 import errors as pg_errors

from odoo import SUPERUSER_ID, api

_logger = logging.getLogger(__name__)

# How long a side transaction waits for a lock before it gives up.
SIDE_LOCK_TIMEOUT = "5s"


class SideTransactionBlocked(Exception):
    """The side transaction met a lock held too long (e.g. by the caller's
    own transaction) and was rolled back."""


def open_cursor(env):
    """A new cursor on the run's database (tests replace it with an
    independent connection to reproduce a wait on the parent)."""
    return env.registry.cursor()


@contextmanager
def side_transaction(env, lock_timeout=None):
    """Yield a superuser environment on a new cursor whose statements wait at
    most ``lock_timeout`` (default :data:`SIDE_LOCK_TIMEOUT`) for a lock;
    commit on success. Raises :class:`SideTransactionBlocked` when a lock
    wait ran out."""
    lock_timeout = lock_timeout or SIDE_LOCK_TIMEOUT
    cr = open_cursor(env)
    try:
        cr.execute("SELECT current_setting('lock_timeout')")
        previous = cr.fetchone()[0]
        cr.execute("SELECT set_config('lock_timeout', %s, false)", [lock_timeout])
        try:
            # The superuser and its company: the side transaction cannot see
            # users or companies the caller's transaction has not committed.
            yield api.Environment(cr, SUPERUSER_ID, {})
            cr.commit()  # pylint: disable=invalid-commit
        except (pg_errors.LockNotAvailable, pg_errors.QueryCanceled) as error:
            cr.rollback()
            raise SideTransactionBlocked(str(error).strip()) from error
        except Exception:
            cr.rollback()
            raise
        finally:
            cr.execute("SELECT set_config('lock_timeout', %s, false)", [previous])
    finally:
        cr.close()
