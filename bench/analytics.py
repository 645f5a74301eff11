"""Time the dunning analysis reports on a benchmark book.

    python3 bench/analytics.py --db DB [--run] [--repeat 5]

On a copy of a prepared isp template (``createdb -T
isp_bench_tpl_isp_steady_N DB`` and ``-u isp_dunning``), ``--run`` first runs
the dunning once on the book's as-of date, as measure.py does for the
``no_pdf`` variant (email-only ladder, PDF rendering stubbed), so that the
notices, notice lines and fee documents of the benchmarked run exist. Then
every report is read the way its pivot and graph views read it
(``read_group`` with the view's groupings and measures), as the superuser,
``--repeat`` times with the ORM cache cleared; the first (cold) and the
median time are printed with the rows of the view, as a Markdown table and
one ``RESULT`` JSON line. The data sources of the Dunning spreadsheet
dashboard (isp_dunning_spreadsheet_dashboard) are read the same way.
"""

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path

from measure import stub_isp_pdfs
from odoo_env import environment

RECOVERY = ["amount_dunned", "recovered_14", "recovered_30", "recovery_rate_30"]
CHARGES = [
    "fee_amount",
    "lump_sum_amount",
    "interest_amount",
    "amount_booked",
    "amount_received",
    "amount_open",
    "amount_credited",
    "received_share",
]
# (report, what, groupby, measures): the default pivot or graph of each view.
READS = [
    ("isp.dunning.open.report", "level x age", ["level_id", "age_bucket"], ["amount_open"]),
    ("isp.dunning.open.report", "customer (list)", ["partner_id"], ["amount_open"]),
    ("isp.dunning.recovery.report", "notices per level x month", ["level_id", "date:month"], []),
    (
        "isp.dunning.recovery.report",
        "recovery per level x month",
        ["level_id", "date:month"],
        RECOVERY,
    ),
    (
        "isp.dunning.handover.report",
        "handover share per month",
        ["date:month"],
        ["amount_dunned", "amount_handed_over", "handover_share"],
    ),
    ("isp.dunning.charges.report", "charges per month", ["date:month"], CHARGES),
    (
        "isp.dunning.dso.report",
        "DSO dunned / not",
        ["dunned"],
        ["amount_receivable", "amount_sales", "dso"],
    ),
    ("isp.dunning.dso.report", "DSO per level", ["level_id"], ["dso"]),
]


DASHBOARD = (
    Path(__file__).resolve().parents[1]
    / "isp_dunning_spreadsheet_dashboard"
    / "data"
    / "files"
    / "dunning_dashboard.json"
)


def dashboard_reads():
    """The data sources of the Dunning spreadsheet dashboard (its pivots and
    Odoo charts) as READS rows: what the dashboard asks when it opens."""
    data = json.loads(DASHBOARD.read_text())
    reads = []
    for pivot in data["pivots"].values():
        groupby = [
            dim["fieldName"] + (f":{dim['granularity']}" if dim.get("granularity") else "")
            for dim in pivot["rows"] + pivot["columns"]
        ]
        measures = [m["fieldName"] for m in pivot["measures"] if m["fieldName"] != "__count"]
        reads.append(
            (pivot["model"], f"dashboard: {pivot['name']}", groupby, measures, pivot["domain"])
        )
    for sheet in data["sheets"]:
        for figure in sheet["figures"]:
            meta = figure["data"].get("metaData")
            if meta:
                measures = [meta["measure"]] if meta["measure"] != "__count" else []
                title = figure["data"]["title"]["text"]
                reads.append(
                    (meta["resModel"], f"dashboard chart: {title}", meta["groupBy"], measures)
                )
    return reads


def run_dunning(env, as_of):
    company = env.ref("base.main_company")
    levels = env["isp.dunning.level"]._get_ladder(company)
    levels.write({"send_letter": False, "attach_invoices": False})
    env.cr.commit()
    stub_isp_pdfs(env, {})
    Run = env["isp.dunning.run"].with_company(company).with_context(dunning_autocommit=True)
    start = time.perf_counter()
    run = Run.run_dunning(date=as_of)
    env.cr.commit()
    # What autovacuum does after a run of this size: fresh planner statistics.
    env.cr.execute("ANALYZE")
    env.cr.commit()
    return {
        "run_wall": round(time.perf_counter() - start, 1),
        "run_notices": run.notice_count,
        "run_dunned": run.invoice_count,
    }


def time_read(env, model, groupby, measures, repeat, domain=()):
    times = []
    groups = None
    for _i in range(repeat):
        env.invalidate_all()
        start = time.perf_counter()
        groups = env[model].read_group(list(domain), measures, groupby, lazy=False)
        times.append(time.perf_counter() - start)
    return times, len(groups)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--run", action="store_true", help="run the dunning on the as-of first")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--jit",
        choices=("server", "off"),
        default="server",
        help="PostgreSQL JIT: the server's setting (default: on) or off for this session",
    )
    args = parser.parse_args(argv)
    with environment(args.db) as env:
        info = json.loads(env["ir.config_parameter"].get_param("isp_bench.book"))
        as_of = dt.date.fromisoformat(info["as_of"])
        result = {"db": args.db, "as_of": info["as_of"], "open_invoices": info["open_invoices"]}
        if args.run:
            result.update(run_dunning(env, as_of))
        if args.jit == "off":
            env.cr.execute("SET jit = off")
        env.cr.execute("SELECT CURRENT_DATE, current_setting('jit')")
        today, jit = env.cr.fetchone()
        result.update(today=str(today), jit=jit)
        counts = {}
        for table in ("account_move", "account_move_line", "account_partial_reconcile"):
            env.cr.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 fixed names
            counts[table] = env.cr.fetchone()[0]
        result["tables"] = counts
        rows = {}
        reads = []
        for model, what, groupby, measures, *domain in READS + dashboard_reads():
            if model not in rows:
                rows[model] = env[model].search_count([])
            times, groups = time_read(
                env, model, groupby, measures, args.repeat, domain[0] if domain else ()
            )
            reads.append(
                {
                    "report": model,
                    "read": what,
                    "rows": rows[model],
                    "groups": groups,
                    "cold_ms": round(1000 * times[0], 1),
                    "median_ms": round(1000 * statistics.median(times), 1),
                }
            )
        result["reads"] = reads
    print(f"jit={result['jit']}")
    print("| report | read_group | rows | groups | first (ms) | median (ms) |")
    print("|---|---|---:|---:|---:|---:|")
    for read in reads:
        print(
            f"| `{read['report']}` | {read['read']} | {read['rows']:,} | {read['groups']} "
            f"| {read['cold_ms']} | {read['median_ms']} |"
        )
    print("RESULT " + json.dumps(result, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
