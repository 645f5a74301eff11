"""Shared helpers of the end-to-end checks: throwaway databases and Odoo
processes (install, shell) run the way an administrator runs them."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import pytest

ROOT = Path(__file__).resolve().parents[1]
DB_MARK = "isp_dunning throwaway database"


def odoo_command():
    if os.environ.get("ODOO_BIN"):
        return [os.environ["ODOO_BIN"]]
    return [sys.executable, "-m", "odoo"]


def addons_path():
    import odoo  # noqa: PLC0415 - only where Odoo is needed

    source = Path(odoo.__file__).resolve().parents[1]
    paths = [source / "addons", source / "odoo" / "addons", ROOT]
    return ",".join(str(path) for path in paths if path.is_dir())


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Odoo:
    """One throwaway database and the Odoo commands that work on it."""

    def __init__(self, database):
        self.database = database
        self.base = [*odoo_command(), f"--addons-path={addons_path()}", "-d", database]

    free_port = staticmethod(free_port)

    def install(self, *extra):
        subprocess.run(
            [*self.base, "-i", "isp_dunning", *extra, "--stop-after-init", "--no-http"]
            + ["--log-level=warn"],
            check=True,
            capture_output=True,
            timeout=900,
        )

    def shell_command(self):
        command = odoo_command()
        return [*command, "shell", *self.base[len(command) :], "--no-http", "--log-level=warn"]

    def shell(self, script):
        """Run a script in an Odoo shell; {first word: words} of what it printed."""
        shell = subprocess.run(
            self.shell_command(),
            input=script,
            check=False,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert shell.returncode == 0, shell.stderr[-3000:]
        return {line.split()[0]: line.split() for line in shell.stdout.splitlines() if line}

    def query(self, sql):
        with psycopg2.connect(dbname=self.database) as conn, conn.cursor() as cr:
            cr.execute(sql)
            return cr.fetchall()


def _create_database(prefix):
    name = f"{prefix}_{int(time.time())}_{os.getpid()}"
    conn = psycopg2.connect(dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cr:
        cr.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
        cr.execute(f"COMMENT ON DATABASE \"{name}\" IS '{DB_MARK}'")
    return conn, name


def _drop_database(conn, name):
    with conn.cursor() as cr:
        cr.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,),
        )
        row = cr.fetchone()
        if row and row[0] == DB_MARK:
            cr.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    conn.close()


@pytest.fixture(scope="module")
def odoo_db(request):
    """An empty throwaway database for the module's checks, dropped after."""
    prefix = f"isp_dunning_e2e_{request.module.__name__.rsplit('_', 1)[-1]}"
    conn, name = _create_database(prefix)
    try:
        yield Odoo(name)
    finally:
        _drop_database(conn, name)
