"""Shared by the crash, concurrency and parallel trials: databases, the
template, worker processes, outcome comparison, the command line and the
results table.

Databases follow tools/lib.sh: named ``isp_faults_*``, created with the
comment ``isp_dunning throwaway database``; only databases carrying that
comment are ever dropped.
"""

import argparse
import datetime as dt
import functools
import hashlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg2

FAULTS = Path(__file__).resolve().parent
ROOT = FAULTS.parent
DB_MARK = "isp_dunning throwaway database"
# FAULTS_PREFIX: databases of their own for trials run beside others' (e.g.
# isp_pfaults_ for the parallel trials while someone runs the others).
PREFIX = os.environ.get("FAULTS_PREFIX", "isp_faults_")
if not re.fullmatch(r"isp_[a-z0-9]*faults_", PREFIX):
    raise SystemExit(f"FAULTS_PREFIX {PREFIX!r} must look like isp_faults_ or isp_pfaults_")
TEMPLATE_DB = PREFIX + "tpl"
LOGS = FAULTS / "logs"
RESULTS = FAULTS / "results"
CACHE = FAULTS / "cache"  # reference snapshots, valid for one template and addon
PYTHON = os.environ.get("PYTHON", sys.executable)


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ----------------------------------------------------------------------
# Odoo
# ----------------------------------------------------------------------
def odoo_command():
    odoo_bin = os.environ.get("ODOO_BIN")
    if odoo_bin:
        return [odoo_bin]
    return [PYTHON, "-m", "odoo"]


@functools.cache
def odoo_src():
    odoo_bin = os.environ.get("ODOO_BIN")
    if odoo_bin:
        return str(Path(odoo_bin).resolve().parent)
    out = subprocess.run(
        [PYTHON, "-c", "import odoo, os; print(os.path.dirname(os.path.dirname(odoo.__file__)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


@functools.cache
def addons_path():
    src = Path(odoo_src())
    paths = [str(p) for p in (src / "addons", src / "odoo" / "addons") if p.is_dir()]
    return ",".join([*paths, str(ROOT)])


def worker_env():
    env = dict(os.environ)
    env["FAULTS_ADDONS_PATH"] = addons_path()
    env["FAULTS_ODOO_SRC"] = odoo_src()
    env["PYTHONUNBUFFERED"] = "1"
    env["ODOO_PGAPPNAME"] = "isp_faults-{pid}"
    return env


def addon_hash():
    """Hash of the addon's files: when it changes, the template is updated
    in place (``-u isp_dunning``) before the trials."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "isp_dunning").rglob("*")):
        if path.suffix in (".py", ".xml", ".csv", ".po") and "tests" not in path.parts:
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def book_version():
    """worker.BOOK_VERSION: when it changes, the template is rebuilt."""
    found = re.search(r"^BOOK_VERSION = (\d+)$", (FAULTS / "worker.py").read_text(), re.M)
    return found.group(1) if found else "?"


# ----------------------------------------------------------------------
# PostgreSQL: only databases named isp_faults_* and marked as ours
# ----------------------------------------------------------------------
def pg():
    conn = psycopg2.connect(dbname="postgres")
    conn.autocommit = True
    return conn


def pg_value(sql, params=()):
    with pg() as conn, conn.cursor() as cr:
        cr.execute(sql, params)
        row = cr.fetchone()
    conn.close()
    return row[0] if row else None


def db_exists(name):
    return bool(pg_value("SELECT 1 FROM pg_database WHERE datname = %s", (name,)))


def db_comment(name):
    return pg_value(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        (name,),
    )


def check_name(name):
    if not name.startswith(PREFIX) or not re.fullmatch(r"[a-z0-9_]+", name):
        raise SystemExit(f"refusing database name {name!r}: must be {PREFIX}[a-z0-9_]+")


def create_db(name, template="template0"):
    check_name(name)
    if template != "template0":
        check_name(template)
        wait_no_backends(template)
    args = ["createdb", "-T", template, name]
    if template == "template0":
        args[1:1] = ["-E", "UTF8"]
    subprocess.run(args, check=True)
    with pg() as conn, conn.cursor() as cr:
        cr.execute(f'COMMENT ON DATABASE "{name}" IS %s', (DB_MARK,))
    conn.close()


def drop_db_if_ours(name):
    check_name(name)
    if not db_exists(name):
        return
    if db_comment(name) != DB_MARK:
        raise SystemExit(f"database {name} exists and is not ours; not touching it")
    wait_no_backends(name)
    subprocess.run(["dropdb", name], check=True)


def our_databases():
    with pg() as conn, conn.cursor() as cr:
        cr.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s "
            "AND shobj_description(oid, 'pg_database') = %s",
            (PREFIX.replace("_", r"\_") + "%", DB_MARK),
        )
        names = [row[0] for row in cr.fetchall()]
    conn.close()
    return names


def backends(name, pid=None):
    """Sessions on the database (of the worker process ``pid`` only, if given)."""
    if pid is None:
        return pg_value("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,))
    return pg_value(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
        (name, f"isp_faults-{pid}"),
    )


def wait_no_backends(name, pid=None, timeout=30.0):
    """Wait until no session uses the database, or none of the worker ``pid``
    (a SIGKILLed client's backend ends when it notices the closed socket, and
    only then releases its advisory lock). Returns the seconds waited; our
    own leftover backends are terminated after ``timeout``."""
    start = time.monotonic()
    while backends(name, pid):
        if time.monotonic() - start > timeout:
            check_name(name)
            pg_value(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND (%s IS NULL OR application_name = %s)",
                (name, pid, f"isp_faults-{pid}"),
            )
            time.sleep(0.5)
            break
        time.sleep(0.02)
    return time.monotonic() - start


def db_query(name, sql, params=()):
    check_name(name)
    conn = psycopg2.connect(dbname=name)
    try:
        with conn.cursor() as cr:
            cr.execute(sql, params)
            rows = cr.fetchall()
        conn.rollback()
    finally:
        conn.close()
    return rows


# ----------------------------------------------------------------------
# The template: German company + second company, isp_dunning, the book
# ----------------------------------------------------------------------
def run_logged(args, logfile, **kwargs):
    LOGS.mkdir(exist_ok=True)
    with open(logfile, "a", encoding="utf-8") as out:
        out.write(f"\n$ {' '.join(args)}\n")
        out.flush()
        result = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT, **kwargs)
    if result.returncode:
        raise SystemExit(f"failed ({result.returncode}): {' '.join(args)}; see {logfile}")


def odoo_init(db, modules, logfile, extra=(), option="-i"):
    run_logged(
        [
            *odoo_command(),
            f"--addons-path={addons_path()}",
            "-d",
            db,
            f"--db-filter=^{db}$",
            option,
            modules,
            "--stop-after-init",
            "--no-http",
            "--log-level=warn",
            *extra,
        ],
        logfile,
    )


def odoo_update(db, modules, logfile):
    odoo_init(db, modules, logfile, option="-u")


def worker(args, logfile, **kwargs):
    run_logged([PYTHON, str(FAULTS / "worker.py"), *args], logfile, env=worker_env(), **kwargs)


def template_info():
    if not db_exists(TEMPLATE_DB) or db_comment(TEMPLATE_DB) != DB_MARK:
        return None
    try:
        rows = db_query(
            TEMPLATE_DB,
            "SELECT key, value FROM ir_config_parameter WHERE key LIKE 'isp_faults.%%'",
        )
    except psycopg2.Error:
        return None
    return dict(rows)


def set_template_param(key, value):
    conn = psycopg2.connect(dbname=TEMPLATE_DB)
    with conn, conn.cursor() as cr:
        cr.execute("DELETE FROM ir_config_parameter WHERE key = %s", (key,))
        cr.execute("INSERT INTO ir_config_parameter (key, value) VALUES (%s, %s)", (key, value))
    conn.close()


def ensure_template(rebuild=False, customers=200):
    """Build the template database once. It is reused while worker.BOOK_VERSION
    is unchanged; a changed addon is updated in place. Returns the as-of date."""
    info = template_info()
    logfile = LOGS / "template.log"
    if info and not rebuild and info.get("isp_faults.book") == book_version():
        as_of = dt.date.fromisoformat(info["isp_faults.as_of"])
        if info.get("isp_faults.addon") != addon_hash():
            log(f"template {TEMPLATE_DB}: the addon changed, updating it (-u isp_dunning)")
            odoo_update(TEMPLATE_DB, "isp_dunning", logfile)
            set_template_param("isp_faults.addon", addon_hash())
        log(f"template {TEMPLATE_DB} reused (as-of {as_of})")
        return as_of
    drop_db_if_ours(TEMPLATE_DB)
    LOGS.mkdir(exist_ok=True)
    logfile.unlink(missing_ok=True)
    as_of = dt.date.today()
    start = time.monotonic()
    log(f"building template {TEMPLATE_DB} (as-of {as_of}); log: {logfile}")
    create_db(TEMPLATE_DB)
    log("  base (no demo data)")
    odoo_init(TEMPLATE_DB, "base", logfile, ["--without-demo=all"])
    log("  account, l10n_de")
    odoo_init(TEMPLATE_DB, "account,l10n_de", logfile, ["--without-demo=all"])
    log("  two German companies with SKR03")
    worker(["company", "--db", TEMPLATE_DB], logfile)
    log("  isp_dunning")
    addon = addon_hash()
    odoo_init(TEMPLATE_DB, "isp_dunning", logfile, ["--without-demo=all"])
    log(f"  the book ({customers} customers) and the weekly runs before {as_of}")
    worker(
        ["seed", "--db", TEMPLATE_DB, "--as-of", as_of.isoformat(), "--customers", str(customers)],
        logfile,
    )
    set_template_param("isp_faults.addon", addon)
    set_template_param("isp_faults.book", book_version())
    set_template_param("isp_faults.built", time.strftime("%Y-%m-%dT%H:%M:%S"))
    log(f"template ready in {time.monotonic() - start:.0f} s")
    return as_of


# ----------------------------------------------------------------------
# Worker processes driven line by line
# ----------------------------------------------------------------------
class Worker:
    """A ``worker.py run`` process; its stdout events are timestamped on arrival."""

    def __init__(self, db, plan, logfile, snapshot=None, wait_go=False, extra=()):
        if plan == "work":  # a batch worker (parallel trials)
            args = [PYTHON, str(FAULTS / "worker.py"), "work", "--db", db, *extra]
        else:
            args = [PYTHON, str(FAULTS / "worker.py"), "run", "--db", db, "--plan", ",".join(plan)]
            args += list(extra)
        if snapshot:
            args += ["--snapshot", str(snapshot)]
        if wait_go:
            args.append("--wait-go")
        LOGS.mkdir(exist_ok=True)
        self.stderr = open(logfile, "a", encoding="utf-8")  # noqa: SIM115
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            env=worker_env(),
        )
        self.pid = self.proc.pid
        self.events = []
        self.queue = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            event = (time.monotonic(), line.split())
            self.events.append(event)
            self.queue.put(event)
        self.queue.put(None)

    def wait_for(self, word, timeout=300.0):
        """Block until an event starting with ``word``; None if the process ended."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                event = self.queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty as error:
                raise TimeoutError(f"no {word} within {timeout} s") from error
            if event is None:
                return None
            if event[1] and event[1][0] == word:
                return event

    def go(self):
        self.proc.stdin.write("GO\n")
        self.proc.stdin.flush()

    def kill(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            return True
        return False

    def finish(self, timeout=900.0):
        code = self.proc.wait(timeout=timeout)
        self.reader.join(timeout=10)
        self.stderr.close()
        return code

    def lines(self, word):
        return [(at, parts) for at, parts in self.events if parts and parts[0] == word]

    def runs(self):
        """[(index, company, state, notices, errors, seconds)] of the finished runs."""
        return [
            (int(p[1]), p[2], p[3], int(p[4]), int(p[5]), float(p[6]))
            for _at, p in self.lines("RUN")
        ]


def reference_key(as_of):
    """What a stored reference is valid for: this template, this addon."""
    info = template_info() or {}
    return f"{as_of} built {info.get('isp_faults.built')} addon {info.get('isp_faults.addon')}"


def save_reference(name, ref):
    CACHE.mkdir(exist_ok=True)
    (CACHE / f"{name}.json").write_text(json.dumps(ref, sort_keys=True), encoding="utf-8")


def load_reference(name, key):
    path = CACHE / f"{name}.json"
    if not path.exists():
        return None
    ref = json.loads(path.read_text(encoding="utf-8"))
    return ref if ref.get("key") == key else None


def load_snapshots(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


# ----------------------------------------------------------------------
# Comparison
# ----------------------------------------------------------------------
HARD_SECTIONS = ("notices", "invoices", "partners", "portal_users", "totals")


def compare(reference, outcome, limit=12):
    """Differences that matter: a notice, fee document, mail, letter missing or
    twice, or a different booking. Returns (problems, notes); notes are the
    soft differences (chatter message counts, numbering)."""
    problems = []
    ref_n, got_n = reference["notices"], outcome["notices"]
    for key in sorted(set(ref_n) | set(got_n)):
        want, have = ref_n.get(key, []), got_n.get(key, [])
        if len(have) > len(want):
            problems.append(f"DUPLICATE notice {key}: {len(have)} instead of {len(want)}")
        elif len(have) < len(want):
            problems.append(f"MISSING notice {key}: {len(have)} instead of {len(want)}")
        for want_row, have_row in zip(want, have, strict=False):
            changed = {
                field: (want_row[field], have_row.get(field))
                for field in want_row
                if want_row[field] != have_row.get(field)
            }
            if changed:
                problems.append(f"CHANGED notice {key}: {describe(changed)}")
    for section in ("invoices", "partners", "portal_users"):
        ref_s, got_s = reference[section], outcome[section]
        for key in sorted(set(ref_s) | set(got_s)):
            if ref_s.get(key) != got_s.get(key):
                a, b = ref_s.get(key), got_s.get(key)
                if isinstance(a, dict) and isinstance(b, dict):
                    delta = {f: (a[f], b.get(f)) for f in a if a[f] != b.get(f)}
                    problems.append(f"CHANGED {section[:-1]} {key}: {describe(delta)}")
                else:
                    problems.append(f"CHANGED {section[:-1]} {key}: {a} -> {b}")
    for key, value in reference["totals"].items():
        if outcome["totals"].get(key) != value:
            problems.append(f"TOTAL {key}: {value} -> {outcome['totals'].get(key)}")
    notes = []
    ref_soft, got_soft = reference["soft"], outcome["soft"]
    if ref_soft["messages"] != got_soft["messages"]:
        delta = ", ".join(
            f"{model} {got_soft['messages'].get(model, 0) - count:+d}"
            for model, count in sorted(ref_soft["messages"].items())
            if got_soft["messages"].get(model, 0) != count
        )
        notes.append(f"chatter message counts differ from the reference ({delta})")
    ref_names = dict(ref_soft["numbering"]["notices"])
    renamed = sum(1 for key, name in got_soft["numbering"]["notices"] if ref_names.get(key) != name)
    if renamed:
        notes.append("notice numbers differ from the reference")
    ref_fees = sorted(ref_soft["numbering"]["fee_docs"])
    if ref_fees != sorted(got_soft["numbering"]["fee_docs"]):
        notes.append("fee document numbers differ from the reference")
    if len(problems) > limit:
        problems = problems[:limit] + [f"... and {len(problems) - limit} more"]
    return problems, notes


def compare_reruns(reference, path):
    """The snapshots after the 2nd and the 3rd run (``path``) against the
    reference snapshot. Returns (problems, notes); the notes are the 2nd
    run's."""
    problems, notes = [], []
    second, third = load_snapshots(path)
    for label, snap in (("2nd run", second), ("3rd run", third)):
        found, soft = compare(reference, snap)
        problems += [f"{label}: {p}" for p in found]
        notes += soft if label == "2nd run" else []
    return problems, notes


def summarize_notes(rows, label):
    """One line per kind of note: in how many trials it occurred."""
    counts = {}
    for row in rows:
        for note in set(row.get("notes", [])):
            counts[note] = counts.get(note, 0) + 1
    return [f"{note}: {count} of {len(rows)} {label}" for note, count in sorted(counts.items())]


def describe(changed):
    return ", ".join(f"{field} {a!r} -> {b!r}" for field, (a, b) in sorted(changed.items()))


def outcome_summary(snap, date):
    """Counts of what one run day produced, for the reports."""
    notices = [
        (key, row) for key, rows in snap["notices"].items() for row in rows if f"|{date}|" in key
    ]
    return {
        "notices": len(notices),
        "fee_docs": sum(len(row["fee_docs"]) for _k, row in notices),
        "mails": sum(row["mails"] for _k, row in notices),
        "letters": sum(1 for _k, row in notices if row["letter"]),
        "handovers": sum(1 for _k, row in notices if row["handover_mail"]),
        "errors": sum(1 for _k, row in notices if row["state"] == "error"),
    }


# ----------------------------------------------------------------------
# Command line and results
# ----------------------------------------------------------------------
def argument_parser(doc, trials=None):
    """The options every trial script has (``--keep-template``,
    ``--rebuild``); with ``trials``, also ``--trials`` (that many by
    default) and ``--seed``. The description is the first line of ``doc``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    if trials is not None:
        parser.add_argument("--trials", type=int, default=trials)
        parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-template", action="store_true")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the template")
    return parser


def trial_title(row):
    return f"Trial {row['trial']} ({row['result']})"


def row_problems(row):
    return row["problems"]


def report_tail(lines, rows, unit="trials", verdict="OK", title=trial_title, details=row_problems):
    """The end of a results table: how many rows are OK (``verdict``), the
    ``details`` of each row that is not under its ``title``, and the notes
    (soft differences) with the number of rows they occurred in. Returns
    ``lines`` and the tail as one text."""
    ok = sum(1 for row in rows if row["result"].startswith("OK"))
    lines = [*lines, "", f"**{ok} of {len(rows)} {unit} {verdict}.**"]
    for row in rows:
        if row["result"] != "OK":
            lines.append(f"\n{title(row)}:")
            lines += [f"- {item}" for item in details(row)]
    notes = summarize_notes(rows, unit)
    if notes:
        lines += ["", "Notes (not compared):"] + [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


def write_results(name, markdown, data, readme=True):
    """results/NAME.md and .json; the README's table too unless ``readme``
    is false (a partial selection of cases)."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.md").write_text(markdown, encoding="utf-8")
    (RESULTS / f"{name}.json").write_text(
        json.dumps(data, indent=1, sort_keys=True, default=str), encoding="utf-8"
    )
    if readme:
        update_readme(name, markdown)


def update_readme(name, markdown):
    """Replace the block between <!-- NAME:start --> and <!-- NAME:end --> in README.md."""
    readme = FAULTS / "README.md"
    if not readme.exists():
        return
    text = readme.read_text(encoding="utf-8")
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if start not in text or end not in text:
        return
    head, rest = text.split(start, 1)
    _old, tail = rest.split(end, 1)
    readme.write_text(f"{head}{start}\n{markdown.strip()}\n{end}{tail}", encoding="utf-8")


def machine_line():
    load = os.getloadavg()
    return (
        f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
        f"load {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}, Python {sys.version.split()[0]}"
    )


def cleanup(keep_template=False):
    for name in our_databases():
        if keep_template and name == TEMPLATE_DB:
            continue
        drop_db_if_ours(name)


def which(tool):
    if not shutil.which(tool):
        raise SystemExit(f"{tool} not found (PostgreSQL client tools are needed)")


if __name__ == "__main__":
    if "--cleanup" in sys.argv:
        cleanup(keep_template="--keep-template" in sys.argv)
