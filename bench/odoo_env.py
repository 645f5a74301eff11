"""Open an Odoo 18 environment on one database from a plain Python process.

Used by seed.py, scenario.py, measure.py: each runs as its own process so
that peak memory and SQL counts belong to one step only.
"""

import contextlib
import logging
import os

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tools import config

ADDONS_ENV = "BENCH_ADDONS_PATH"


def addons_path():
    path = os.environ.get(ADDONS_ENV)
    if path:
        return path
    src = os.path.dirname(os.path.dirname(odoo.__file__))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return ",".join([os.path.join(src, "addons"), os.path.join(src, "odoo", "addons"), root])


_CONFIGURED = []


def setup(db, log_level="warn"):
    if _CONFIGURED:
        return odoo
    _CONFIGURED.append(db)
    config.parse_config(
        [
            "-d",
            db,
            f"--addons-path={addons_path()}",
            f"--log-level={log_level}",
            "--no-http",
            "--max-cron-threads=0",
        ]
    )
    logging.getLogger("odoo").setLevel(getattr(logging, log_level.upper(), logging.WARNING))
    return odoo


@contextlib.contextmanager
def environment(db, log_level="warn", context=None):
    """Yield a superuser env; commits on success, rolls back on error."""
    setup(db, log_level)
    registry = Registry(db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, dict(context or {}))
        yield env
