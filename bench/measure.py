"""Time one complete dunning pass on a prepared benchmark database.

    python3 bench/measure.py --db DB --product isp|oca [--pdf] [--profile FILE] [--workers N]

Runs in a process of its own (registry loaded before the clock starts) and
prints one JSON line (prefixed ``RESULT``) with:

* wall: seconds of the pass (isp: ``run_dunning`` as the cron calls it,
  context dunning_autocommit=True, committing per batch; OCA: the flow an
  accountant drives: credit control run + generate lines, the marker wizard
  setting them 'to_be_sent', the emailer wizard, commit), and per step;
* cpu_s: user + system CPU seconds of the Odoo process during the pass
  (PostgreSQL's share not included): less sensitive to a busy machine;
* queries: delta of ``odoo.sql_db.sql_counter``;
* peak_rss_mb: ``resource.getrusage`` max RSS of the process at the end,
  base_rss_mb before the pass (registry loaded); tracemalloc stays off;
* dunned: invoices escalated by the pass (isp: run.invoice_count; OCA: the
  credit control lines generated), notices/communications, notice lines,
  fee documents, mail.mail and mail.message records created.

With ``--workers N`` (isp, N > 1) the company's Parallel Workers is set to
N and N - 1 batch worker processes (``--batch-worker``: what the scheduled
actions "Dunning: batch worker N" do, ``_cron_work_batches``) load their
registry before the clock starts and are released with it; the pass ends
when the run (the coordinating process, which claims batches too) is done,
i.e. when every batch is. ``workers`` and each helper's CPU seconds and
batches are in the result.

Both products run as the superuser. If BENCH_SMTP_PORT is set, an outgoing
mail server on localhost:PORT (a local sink the caller started) is
configured and ``mail.mail.process_email_queue()`` is timed separately;
otherwise only the queueing is measured.
"""

import argparse
import cProfile
import datetime as dt
import importlib
import json
import os
import resource
import subprocess
import sys
import time

from odoo_env import environment

from odoo import sql_db


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cpu_s():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def max_id(cr, table):
    cr.execute(f"SELECT COALESCE(max(id), 0) FROM {table}")
    return cr.fetchone()[0]


def count_since(cr, table, since, where="TRUE"):
    cr.execute(f"SELECT count(*) FROM {table} WHERE id > %s AND {where}", (since,))
    return cr.fetchone()[0]


class Clock:
    def __init__(self):
        self.sql_db = sql_db
        self.steps = {}

    def __enter__(self):
        self.cpu0 = cpu_s()
        self.t0 = time.perf_counter()
        self.q0 = self.sql_db.sql_counter
        return self

    def step(self, name, func, *args, **kwargs):
        t = time.perf_counter()
        q = self.sql_db.sql_counter
        result = func(*args, **kwargs)
        self.steps[name] = {
            "wall": round(time.perf_counter() - t, 3),
            "queries": self.sql_db.sql_counter - q,
        }
        return result

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.t0
        self.cpu = cpu_s() - self.cpu0
        self.queries = self.sql_db.sql_counter - self.q0
        return False


def marks(cr):
    return {
        table: max_id(cr, table)
        for table in ("mail_mail", "mail_message", "account_move", "ir_attachment")
    }


def created(cr, before):
    return {
        "mails_queued": count_since(cr, "mail_mail", before["mail_mail"]),
        "messages": count_since(cr, "mail_message", before["mail_message"]),
        "attachments": count_since(cr, "ir_attachment", before["ir_attachment"]),
    }


def configure_smtp(env):
    port = os.environ.get("BENCH_SMTP_PORT")
    if not port:
        return False
    env["ir.mail_server"].search([]).write({"active": False})
    env["ir.mail_server"].create(
        {"name": "bench sink", "smtp_host": "127.0.0.1", "smtp_port": int(port)}
    )
    env.cr.commit()
    return True


def send_queue(env, clock, result):
    if not configure_smtp(env):
        result["send"] = "not measured (no local SMTP sink: set BENCH_SMTP_PORT)"
        return
    t = time.perf_counter()
    q = clock.sql_db.sql_counter
    env["mail.mail"].process_email_queue()
    env.cr.commit()
    result["send"] = {
        "wall": round(time.perf_counter() - t, 3),
        "queries": clock.sql_db.sql_counter - q,
    }


def stub_isp_pdfs(env, result):
    """Variant without PDFs: replace the addon's PDF rendering in this
    process by a stub that returns a tiny placeholder per record, and count
    what would have been rendered. Returns False if the addon has no such
    method (then nothing is stubbed and PDFs, if any, are real)."""
    Notice = type(env["isp.dunning.notice"])
    if not hasattr(Notice, "_render_pdfs"):
        result["pdf_stub"] = "isp.dunning.notice._render_pdfs not found: nothing stubbed"
        return False
    calls = {"calls": 0, "records": 0}

    def _render_pdfs(self, report_ref, records):
        calls["calls"] += 1
        calls["records"] += len(records)
        return {record.id: b"%PDF-1.4 bench stub" for record in records}

    Notice._render_pdfs = _render_pdfs
    result["pdf_stub"] = calls
    return True


BREAKDOWN = {
    "isp.dunning.run": (
        "_deliver",
        "_after_batch",
    ),
    "isp.dunning.notice": (
        "create",
        "_deliver",
        "_pending_delivery",
        "_render_and_store",
        "_queue_emails",
        "_produce_letters",
        "_hand_over",
    ),
    "account.move": ("_dunning_post_batch",),
    "res.partner": (
        "_dunning_recipient_emails",
        "_dunning_refresh_level",
    ),
    # Steps in the addon's services/ modules (functions, not methods).
    "services.batch_reader": (
        "candidate_partner_ids",
        "read_batch",
    ),
    "services.booking": (
        "book_batch",
        "book",
    ),
    "services.fee_documents": ("create_fee_moves",),
    "services.portal_blocking": (
        "apply_notices",
        "retry_postponed_blocks",
    ),
}


def instrument(env):
    """Accumulate wall time and SQL queries per method (inclusive of nested
    calls) by wrapping the methods on the registry classes of this process."""
    totals = {}

    def wrap(cls, model, name):
        original = getattr(cls, name)
        key = f"{model}.{name}"
        totals[key] = {"calls": 0, "wall": 0.0, "queries": 0}

        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            q = sql_db.sql_counter
            try:
                return original(*args, **kwargs)
            finally:
                entry = totals[key]
                entry["calls"] += 1
                entry["wall"] += time.perf_counter() - t
                entry["queries"] += sql_db.sql_counter - q

        for attr in ("_api", "_api_private"):
            if hasattr(original, attr):
                setattr(wrapper, attr, getattr(original, attr))
        setattr(cls, name, wrapper)

    for model, names in BREAKDOWN.items():
        if model.startswith("services."):
            # Called as module attributes: wrap them on the module.
            cls = importlib.import_module(f"odoo.addons.isp_dunning.{model}")
        else:
            cls = type(env[model])
        for name in names:
            if hasattr(cls, name):
                wrap(cls, model, name)
    return totals


def start_helpers(db, count, pdf):
    """Batch worker processes, registry loaded, waiting for GO."""
    helpers = []
    for _number in range(count):
        cmd = [sys.executable, os.path.abspath(__file__), f"--db={db}", "--product=isp"]
        cmd += ["--batch-worker"] + (["--pdf"] if pdf else [])
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        helpers.append(proc)
    for proc in helpers:
        line = proc.stdout.readline()
        if not line.startswith("READY"):
            raise SystemExit(f"a batch worker did not start: {line!r}")
    return helpers


def batch_worker(env, pdf):
    """A batch worker process: claim batches of running runs until none is
    open any more (after the first one appeared, at most 10 minutes)."""
    if not pdf:
        stub_isp_pdfs(env, {})
    cr = env.cr
    Run = env["isp.dunning.run"]
    Run.search([], limit=1)
    cr.commit()
    print("READY", flush=True)
    if sys.stdin.readline().strip() != "GO":
        return
    start, cpu_start = time.monotonic(), cpu_s()
    seen = False
    claimed = 0
    while time.monotonic() - start < 600:
        claimed += Run._cron_work_batches() or 0
        cr.commit()
        cr.execute(
            "SELECT count(*) FILTER (WHERE state = 'running'), count(*) FROM isp_dunning_run r"
            " WHERE EXISTS (SELECT 1 FROM isp_dunning_run_batch b WHERE b.run_id = r.id)"
        )
        running, with_batches = cr.fetchone()
        cr.commit()
        seen = seen or with_batches > 0
        if seen and not running:
            break
        time.sleep(0.05)
    print(
        "HELPER "
        + json.dumps(
            {
                "batches": claimed,
                "wall": round(time.monotonic() - start, 3),
                "cpu_s": round(cpu_s() - cpu_start, 3),
            }
        ),
        flush=True,
    )


def run_isp(env, as_of, result, pdf, no_fees=False, workers=1):
    cr = env.cr
    company = env.ref("base.main_company")
    company.dunning_parallel_workers = workers
    cr.commit()
    result["workers"] = workers
    helpers = start_helpers(cr.dbname, workers - 1, pdf) if workers > 1 else []
    if no_fees:
        env["isp.dunning.level"]._get_ladder(company).write(
            {"fee_amount": 0.0, "interest_mode": "none", "b2b_flat_fee": False}
        )
        cr.commit()
    if not pdf:
        # No letters in the ladder; letters to customers without an email
        # address are still produced, with the PDF rendering stubbed.
        levels = env["isp.dunning.level"]._get_ladder(company)
        levels.write({"send_letter": False, "attach_invoices": False})
        cr.commit()
        stub_isp_pdfs(env, result)
    before = marks(cr)
    notices_before = max_id(cr, "isp_dunning_notice")
    lines_before = max_id(cr, "isp_dunning_notice_line")
    Run = env["isp.dunning.run"].with_company(company).with_context(dunning_autocommit=True)
    breakdown = instrument(env) if result.get("breakdown") is not None else None
    with Clock() as clock:
        for proc in helpers:
            proc.stdin.write("GO\n")
            proc.stdin.flush()
        run = clock.step("run_dunning", Run.run_dunning, date=as_of)
        cr.commit()
    result["helpers"] = []
    for proc in helpers:
        out, _err = proc.communicate(timeout=600)
        for line in out.splitlines():
            if line.startswith("HELPER "):
                result["helpers"].append(json.loads(line[len("HELPER ") :]))
    if workers > 1:
        cr.execute(
            "SELECT worker, count(*) FROM isp_dunning_run_batch WHERE run_id = %s GROUP BY 1",
            [run.id],
        )
        result["batches_by_worker"] = dict(cr.fetchall())
    result.update(
        wall=round(clock.wall, 3),
        queries=clock.queries,
        steps=clock.steps,
        state=run.state,
        customers_checked=run.customer_count,
        dunned=run.invoice_count,
        notices=run.notice_count,
        errors=run.error_count,
        batch_size=company.dunning_batch_size or 500,
        notice_lines=count_since(cr, "isp_dunning_notice_line", lines_before),
        fee_documents=count_since(
            cr, "account_move", before["account_move"], "dunning_fee_notice_id IS NOT NULL"
        ),
        notices_letter=count_since(cr, "isp_dunning_notice", notices_before, "channel = 'letter'"),
        **created(cr, before),
    )
    if breakdown is not None:
        result["breakdown"] = {
            key: {**value, "wall": round(value["wall"], 3)}
            for key, value in breakdown.items()
            if value["calls"]
        }
    if run.state != "done" or run.error_count:
        result["log"] = (run.log or "")[:2000]
    return clock


def run_oca(env, as_of, result, pdf):
    cr = env.cr
    company = env.ref("base.main_company")
    conf = json.loads(env["ir.config_parameter"].get_param("isp_bench.oca"))
    template = conf["template_pdf"] if pdf else conf["template"]
    policy = env["credit.control.policy"].browse(conf["policy"])
    policy.level_ids.write({"email_template_id": template})
    cr.commit()
    before = marks(cr)
    with Clock() as clock:
        run = clock.step(
            "create_run",
            env["credit.control.run"].create,
            {"date": as_of, "company_id": company.id},
        )
        clock.step("generate_lines", run.generate_credit_lines)
        lines = run.line_ids
        marker = env["credit.control.marker"].with_context(
            active_model="credit.control.line", active_ids=lines.ids
        )
        clock.step(
            "mark_to_send",
            lambda: marker.create(
                {"name": "to_be_sent", "line_ids": [(6, 0, lines.ids)]}
            ).mark_lines(),
        )
        email_lines = lines.filtered(lambda line: line.channel == "email")
        emailer = env["credit.control.emailer"].with_context(
            active_model="credit.control.line", active_ids=email_lines.ids
        )
        clock.step(
            "emailer_wizard",
            lambda: emailer.create({"line_ids": [(6, 0, email_lines.ids)]}).email_lines(),
        )
        clock.step("commit", cr.commit)
    comms = lines.communication_id
    result.update(
        wall=round(clock.wall, 3),
        queries=clock.queries,
        steps=clock.steps,
        dunned=len(lines),
        notices=len(comms),
        notice_lines=len(lines),
        lines_email=len(email_lines),
        lines_letter=len(lines) - len(email_lines),
        pdf=pdf,
        **created(cr, before),
    )
    return clock


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--product", choices=("isp", "oca"), required=True)
    parser.add_argument(
        "--pdf",
        action="store_true",
        help="OCA: attach the PDF summary; isp: the ladder as shipped, letters rendered "
        "(without: email-only ladder, PDF rendering stubbed)",
    )
    parser.add_argument(
        "--no-fees",
        action="store_true",
        help="isp: a ladder without fees and interest, so no fee documents (as OCA)",
    )
    parser.add_argument("--profile", help="write cProfile stats of the pass to this file")
    parser.add_argument(
        "--workers", type=int, default=1, help="isp: Parallel Workers (processes) of the run"
    )
    parser.add_argument("--batch-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="isp: time and count queries per run/notice/partner method (inclusive)",
    )
    args = parser.parse_args(argv)
    if args.batch_worker:
        with environment(args.db) as env:
            batch_worker(env, args.pdf)
        return 0
    with environment(args.db) as env:
        info = json.loads(env["ir.config_parameter"].get_param("isp_bench.book"))
        scenario = json.loads(env["ir.config_parameter"].get_param("isp_bench.scenario"))
        as_of = dt.date.fromisoformat(info["as_of"])
        env.cr.commit()
        result = {
            "db": args.db,
            "product": args.product,
            "variant": ("pdf" if args.pdf else "no_pdf") + ("_no_fees" if args.no_fees else ""),
            "open_invoices": info["open_invoices"],
            "customers": info["customers"],
            "scenario": scenario,
            "as_of": info["as_of"],
            "base_rss_mb": round(rss_mb(), 1),
            "loadavg_before": os.getloadavg(),
        }
        if args.breakdown:
            result["breakdown"] = {}
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        if args.product == "isp":
            clock = run_isp(
                env, as_of, result, args.pdf, no_fees=args.no_fees, workers=args.workers
            )
        else:
            clock = run_oca(env, as_of, result, args.pdf)
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
            result["profile"] = args.profile
        result["cpu_s"] = round(clock.cpu, 3)
        result["peak_rss_mb"] = round(rss_mb(), 1)
        result["loadavg_after"] = os.getloadavg()
        result["ms_per_dunned"] = (
            round(1000.0 * result["wall"] / result["dunned"], 3) if result["dunned"] else None
        )
        send_queue(env, clock, result)
    print("RESULT " + json.dumps(result, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
