"""Fresh planner statistics for the tables a run fills.

PostgreSQL plans the foreign-key check of an insert once per connection and
keeps that plan until the referenced table's statistics change: planned
while a table was nearly empty, each check is a sequential scan that grows
with the table, and a long run slows down quadratically. Autovacuum
refreshes statistics late or, where it is off, never; a run that commits
per batch refreshes those of a table that has doubled (the counts are those
of committed transactions).
"""

import logging

from psycopg2 import errors as pg_errors

from odoo.tools import SQL

_logger = logging.getLogger(__name__)

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


def stale_tables(cr):
    """The tables of GROWING_TABLES that changed more rows since their last
    analysis than they held then, sorted."""
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
    return sorted(row[0] for row in cr.fetchall())


def analyze(cr, tables):
    """ANALYZE the tables unless another session holds one of them (a long
    VACUUM, another run analyzing): never waits more than a second for that,
    a later batch tries again. A table the database user does not own is
    skipped by PostgreSQL with a warning. Returns whether it analyzed."""
    cr.execute("SELECT current_setting('lock_timeout')")
    lock_timeout = cr.fetchone()[0]
    try:
        with cr.savepoint(flush=False):
            cr.execute("SELECT set_config('lock_timeout', '1s', true)")
            cr.execute(SQL("ANALYZE %s", SQL(", ").join(SQL.identifier(t) for t in tables)))
            cr.execute("SELECT set_config('lock_timeout', %s, true)", [lock_timeout])
    except pg_errors.LockNotAvailable:
        _logger.info("Statistics not refreshed, tables busy: %s", ", ".join(tables))
        return False
    return True


def refresh(cr):
    """Analyze the stale tables; returns those analyzed (the caller commits)."""
    tables = stale_tables(cr)
    if tables and analyze(cr, tables):
        _logger.info("Statistics refreshed: %s", ", ".join(tables))
        return tables
    return []
