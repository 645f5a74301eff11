"""Orchestrate the dunning benchmark: templates, runs, table.

Called by ``bash bench/bench.sh [options] [sizes...]`` (which finds Odoo and
PostgreSQL through tools/lib.sh and installs the OCA peer); see README.md.

Databases (all named isp_bench_*, all marked as throwaway databases):

* isp_bench_base: base + German company + account + l10n_de (SKR03);
* isp_bench_book_<N>: the seeded book (seed.py), a template;
* isp_bench_tpl_<product>_<scenario>_<N>: the book with isp_dunning or
  account_credit_control installed and the scenario applied (scenario.py),
  a template; the isp one is updated (-u isp_dunning) when the addon's
  files changed since;
* isp_bench_run_<product>_<N>: ``createdb -T`` of the product template,
  measured once (measure.py) and dropped.
"""

import argparse
import datetime as dt
import hashlib
import io
import json
import os
import platform
import pstats
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS_DIR = HERE / "results"
DB_MARK = os.environ.get("BENCH_DB_MARK", "isp_dunning throwaway database")
ODOO_CMD = shlex.split(os.environ.get("BENCH_ODOO_CMD", f"{sys.executable} -m odoo"))
ADDONS = os.environ.get("BENCH_ODOO_ADDONS", "")
OCA_ADDONS = os.environ.get("BENCH_OCA_ADDONS", "")
PREFIX = "isp_bench_"


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def psql(sql, db="postgres"):
    out = subprocess.run(
        ["psql", "-X", "-d", db, "-tAc", sql], check=True, capture_output=True, text=True
    )
    return out.stdout.strip()


def db_exists(name):
    return psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1"


def db_is_ours(name):
    return (
        psql(
            f"SELECT shobj_description(oid, 'pg_database') FROM pg_database "
            f"WHERE datname = '{name}'"
        )
        == DB_MARK
    )


def create_db(name, template):
    assert name.startswith(PREFIX)
    subprocess.run(["createdb", "-T", template, name], check=True)
    psql(f"COMMENT ON DATABASE \"{name}\" IS '{DB_MARK}'")


def drop_db(name):
    assert name.startswith(PREFIX)
    if not db_exists(name):
        return
    if not db_is_ours(name):
        raise SystemExit(f"Database {name} exists and is not marked as ours; not touching it.")
    subprocess.run(["dropdb", name], check=True)


def addons_for(product):
    if product == "oca":
        if not OCA_ADDONS:
            raise SystemExit("BENCH_OCA_ADDONS is not set (bench.sh installs the peer).")
        return f"{ADDONS},{OCA_ADDONS}"
    return ADDONS


def run(cmd, product="isp", logfile=None, env_extra=None):
    env = dict(os.environ, BENCH_ADDONS_PATH=addons_for(product), **(env_extra or {}))
    with open(logfile or os.devnull, "a") as out:
        proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=out, text=True)
    if proc.returncode:
        sys.stdout.write(proc.stdout)
        raise SystemExit(f"Command failed ({proc.returncode}): {' '.join(cmd)}; see {logfile}")
    return proc.stdout


def odoo(db, product, *args, logfile=None):
    cmd = [*ODOO_CMD, f"--addons-path={addons_for(product)}", "-d", db]
    cmd += [f"--db-filter=^{db}$", "--no-http", "--stop-after-init", "--log-level=warn", *args]
    return run(cmd, product, logfile)


def script(name, *args, product="isp", logfile=None, env_extra=None):
    return run([sys.executable, str(HERE / name), *args], product, logfile, env_extra)


def addon_hash():
    digest = hashlib.sha1()
    for path in sorted((ROOT / "isp_dunning").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def get_param(db, key):
    return psql(f"SELECT value FROM ir_config_parameter WHERE key = '{key}'", db)


def set_param(db, key, value):
    psql(
        "INSERT INTO ir_config_parameter (key, value, create_date, write_date) "
        f"VALUES ('{key}', '{value}', now(), now()) "
        f"ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        db,
    )


# ----------------------------------------------------------------------
def ensure_base(args):
    name = f"{PREFIX}base"
    if db_exists(name):
        return name
    log(f"building {name} (base, German company, account, l10n_de)")
    subprocess.run(
        ["bash", str(HERE / "build_base.sh"), name],
        check=True,
        env=dict(os.environ, BENCH_LOG=str(args.logfile)),
    )
    return name


def ensure_book(args, size):
    name = f"{PREFIX}book_{size}"
    if db_exists(name) and not args.reseed:
        info = json.loads(get_param(name, "isp_bench.book") or "{}")
        if info.get("seed") == args.seed and (not args.as_of or info.get("as_of") == args.as_of):
            return name
        log(f"{name} was seeded differently ({info}); reseeding")
    drop_db(name)
    base = ensure_base(args)
    create_db(name, base)
    as_of = args.as_of or dt.date.today().isoformat()
    log(f"seeding {name}: {size} open invoices, seed {args.seed}, as of {as_of}")
    t = time.monotonic()
    try:
        out = script(
            "seed.py",
            f"--db={name}",
            f"--open-invoices={size}",
            f"--seed={args.seed}",
            f"--as-of={as_of}",
            logfile=args.logfile,
        )
    except SystemExit:
        drop_db(name)
        raise
    for line in out.strip().splitlines():
        log(f"  {line}")
    log(f"seeded {name} in {time.monotonic() - t:.0f}s")
    return name


def ensure_template(args, product, size):
    name = f"{PREFIX}tpl_{product}_{args.scenario}_{size}"
    book = ensure_book(args, size)
    book_info = get_param(book, "isp_bench.book")
    if db_exists(name) and not args.reseed:
        if get_param(name, "isp_bench.book") != book_info:
            log(f"{name} is older than its book; rebuilding")
        else:
            if product == "isp" and get_param(name, "isp_bench.addon_hash") != addon_hash():
                log(f"isp_dunning changed: updating the module in {name}")
                odoo(name, product, "-u", "isp_dunning", logfile=args.logfile)
                set_param(name, "isp_bench.addon_hash", addon_hash())
            return name
    drop_db(name)
    create_db(name, book)
    module = "isp_dunning" if product == "isp" else "account_credit_control"
    log(f"{name}: installing {module}, applying scenario {args.scenario}")
    try:
        odoo(name, product, "-i", module, "--without-demo=all", logfile=args.logfile)
        out = script(
            "scenario.py",
            f"--db={name}",
            f"--product={product}",
            f"--scenario={args.scenario}",
            product=product,
            logfile=args.logfile,
        )
    except SystemExit:
        drop_db(name)
        raise
    log(f"  {out.strip()}")
    if product == "isp":
        set_param(name, "isp_bench.addon_hash", addon_hash())
    psql("VACUUM ANALYZE", name)
    return name


def measure(args, product, size, pdf=False, profile=None, no_fees=False):
    template = ensure_template(args, product, size)
    name = f"{PREFIX}run_{product}_{size}"
    drop_db(name)
    create_db(name, template)
    cmd = [f"--db={name}", f"--product={product}"]
    if product == "isp":
        cmd.append("--breakdown")
        if getattr(args, "workers", 1) > 1:
            cmd.append(f"--workers={args.workers}")
    if pdf:
        cmd.append("--pdf")
    if no_fees:
        cmd.append("--no-fees")
    if profile:
        cmd.append(f"--profile={profile}")
    label = (
        f"{product}{' pdf' if pdf else ''}{' without fees' if no_fees else ''}"
        f"{' (profiled)' if profile else ''}"
    )
    log(f"measuring {label} on {size} open invoices")
    try:
        out = script("measure.py", *cmd, product=product, logfile=args.logfile)
    finally:
        if not args.keep:
            drop_db(name)
    result = None
    for line in out.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
    if result is None:
        raise SystemExit(f"measure.py printed no result:\n{out}")
    result["size"] = size
    result["addon_hash"] = addon_hash() if product == "isp" else None
    result["measured_at"] = dt.datetime.now().isoformat(timespec="seconds")
    log(
        f"  {label} {size}: {result['wall']:.1f}s, {result['queries']} queries, "
        f"{result['dunned']} dunned, {result['ms_per_dunned']} ms/dunned, "
        f"peak {result['peak_rss_mb']} MB, {result['mails_queued']} mails queued"
    )
    with open(RESULTS_DIR / "results.jsonl", "a") as out_file:
        out_file.write(json.dumps(result) + "\n")
    return result


def profile_summary(path, limit=35):
    stream = io.StringIO()
    stats = pstats.Stats(str(path), stream=stream)
    stats.sort_stats("cumulative").print_stats(limit)
    stream.write("\n--- by own time ---\n")
    stats.sort_stats("tottime").print_stats(limit)
    return stream.getvalue()


# ----------------------------------------------------------------------
def fmt(value, digits=1):
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def pdfs(result):
    stub = result.get("pdf_stub")
    stubbed = f" ({stub['records']:,})" if isinstance(stub, dict) else ""
    return f"{result['attachments']:,}{stubbed}"


def growth(rows, key):
    out = []
    for small, big in zip(rows, rows[1:], strict=False):
        if small.get(key) and big.get(key):
            factor = big[key] / small[key]
            mixed = " †" if small.get("addon_hash") != big.get("addon_hash") else ""
            out.append(f"{small['size']:,}→{big['size']:,}: ×{factor:.1f}{mixed}")
    return "; ".join(out) or "–"


def machine_state():
    cores = os.cpu_count()
    load = os.getloadavg()
    try:
        procs = subprocess.run(
            ["ps", "-eo", "pcpu,comm", "--sort=-pcpu"], capture_output=True, text=True
        ).stdout.splitlines()[1:8]
    except OSError:
        procs = []
    return cores, load, [p.strip() for p in procs]


def write_results(args, results, extrapolated, profiles, notes):
    cores, load, procs = machine_state()
    lines = [
        "# isp_dunning benchmark results",
        "",
        f"Generated by `bash bench/bench.sh {' '.join(args.raw_argv)}` on "
        f"{dt.datetime.now().isoformat(timespec='minutes')} "
        f"({platform.node()}, {cores} cores, Python {platform.python_version()}).",
        "",
        "**Machine load:** other processes may share the machine. Load average at the end: "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min) on {cores} cores; each "
        "result row records the load before and after its run. Wall times vary with the "
        "load; query counts do not.",
        "",
        f"Scenario `{args.scenario}`, seed {args.seed}; see README.md for what the book and "
        "the scenario contain and what each step measures.",
        "",
        "## One complete pass",
        "",
        "| product | variant | open invoices | customers checked | dunned invoices | "
        "notices | fee docs | mails queued | PDFs (stubbed) | wall s | Odoo CPU s | SQL queries | "
        "peak RSS MB | "
        "ms / dunned | load before→after | isp addon | measured |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['product']} | {r['variant']} | {fmt(r['open_invoices'])} | "
            f"{fmt(r.get('customers_checked'))} | {fmt(r['dunned'])} | {fmt(r['notices'])} | "
            f"{fmt(r.get('fee_documents'))} | {fmt(r['mails_queued'])} | {pdfs(r)} | "
            f"{fmt(r['wall'])} | {fmt(r.get('cpu_s'))} | "
            f"{fmt(r['queries'])} | {fmt(r['peak_rss_mb'], 0)} | {fmt(r['ms_per_dunned'], 2)} | "
            f"{r['loadavg_before'][0]:.1f}→{r['loadavg_after'][0]:.1f} | "
            f"{r.get('addon_hash') or '–'} | {r.get('measured_at', '–')} |"
        )
    for row in extrapolated:
        lines.append(row)
    lines += ["", "## Growth between sizes", ""]
    groups = {}
    for r in results:
        groups.setdefault((r["product"], r["variant"]), []).append(r)
    lines += ["| product | variant | wall | SQL queries | ms / dunned |", "|---|---|---|---|---|"]
    for (product, variant), rows in groups.items():
        rows = sorted(rows, key=lambda r: r["size"])
        lines.append(
            f"| {product} | {variant} | {growth(rows, 'wall')} | {growth(rows, 'queries')} | "
            f"{growth(rows, 'ms_per_dunned')} |"
        )
    if any("†" in line for line in lines):
        lines += ["", "† the two sizes were measured with different isp_dunning versions."]
    lines += ["", "## isp_dunning vs OCA account_credit_control (per dunned invoice)", ""]
    lines += ["| open invoices | variant | isp ms/dunned | OCA ms/dunned | OCA / isp |"]
    lines += ["|---:|---|---:|---:|---:|"]
    isp = {(r["size"], r["variant"]): r for r in results if r["product"] == "isp"}
    for r in results:
        if r["product"] != "oca" or not r["ms_per_dunned"]:
            continue
        # OCA books no fees or interest: "no_pdf_no_fees" is isp doing the same.
        own = [r["variant"]] + (["no_pdf_no_fees"] if r["variant"] == "no_pdf" else [])
        for variant in own:
            if (r["size"], variant) not in isp:
                continue
            mine = isp[r["size"], variant]["ms_per_dunned"]
            lines.append(
                f"| {fmt(r['size'])} | {variant} | {fmt(mine, 2)} | "
                f"{fmt(r['ms_per_dunned'], 2)} | {r['ms_per_dunned'] / mine:.1f}× |"
            )
    for size, variant, from_size, oca_ms in getattr(args, "extra_ratios", []):
        mine = isp.get((size, variant))
        if mine and mine["ms_per_dunned"]:
            lines.append(
                f"| {fmt(size)} | {variant} | {fmt(mine['ms_per_dunned'], 2)} | "
                f"≈{fmt(oca_ms, 2)} (EXTRAPOLATED from {from_size:,}) | "
                f"≈{oca_ms / mine['ms_per_dunned']:.1f}× |"
            )
    lines += ["", "## Steps", ""]
    for r in results:
        steps = ", ".join(
            f"{name} {s['wall']:.1f}s/{s['queries']}q" for name, s in r["steps"].items()
        )
        send = r.get("send")
        lines.append(
            f"- {r['product']} {r['variant']} {fmt(r['size'])}: {steps}; "
            f"messages {fmt(r['messages'])}, attachments {fmt(r['attachments'])}; "
            f"send: {send if isinstance(send, str) else json.dumps(send)}"
        )
    breakdowns = [r for r in results if r.get("breakdown")]
    if breakdowns:
        lines += ["", "## isp: time and queries per method (inclusive, one pass)", ""]
        head = (
            "| method | " + " | ".join(f"{r['variant']} {r['size']:,}" for r in breakdowns) + " |"
        )
        lines += [head, "|---|" + "---:|" * len(breakdowns)]
        keys = []
        for r in breakdowns:
            keys += [k for k in r["breakdown"] if k not in keys]
        for key in keys:
            cells = []
            for r in breakdowns:
                entry = r["breakdown"].get(key)
                cells.append(
                    f"{entry['wall']:.1f}s / {entry['queries']:,}q / {entry['calls']}×"
                    if entry
                    else "–"
                )
            lines.append(f"| {key} | " + " | ".join(cells) + " |")
    lines += parallel_section()
    if notes:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in notes]
    lines += ["", "## Busiest processes at the end", "", "```", *procs, "```"]
    findings = HERE / "FINDINGS.md"
    if findings.exists():
        lines += ["", findings.read_text().rstrip()]
    for size, text in profiles.items():
        lines += ["", f"## Profile of the isp run at {size:,} open invoices (top)", ""]
        lines += ["```", *text.splitlines()[:60], "```"]
    path = HERE / args.results_file
    if path.exists() and args.keep_results:
        log(f"{path} exists; not overwritten (--keep-results)")
        path = RESULTS_DIR / "RESULTS.generated.md"
    path.write_text("\n".join(lines) + "\n")
    log(f"wrote {path}")
    print("\n".join(lines))


def parallel_section():
    """One company's pass on 1 and on N workers (bench/parallel.sh), per
    size the latest pass of each worker count measured with the addon of
    that size's latest pass."""
    path = RESULTS_DIR / "parallel.jsonl"
    if not path.exists():
        return []
    passes = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    latest_addon = {}
    for r in passes:
        latest_addon[r["size"]] = r["addon_hash"]
    lines = [
        "",
        "## One company's run on 1 and on 2 workers (`bench/parallel.sh`)",
        "",
        "The isp pass with fee documents on the same book, once by one Odoo process and once "
        "by the run and a batch worker process beside it (cron-triggered batch claims, `FOR "
        "UPDATE SKIP LOCKED`), one right after the other, each on a fresh copy of the book. "
        '"Same outcome": the same notices, dunned invoices and fee documents as on one '
        "worker.",
        "",
        "| open invoices | workers | wall s | Odoo CPU s (all processes) | notices | dunned | "
        "fee docs | errors | same outcome | speed-up | load before→after | isp addon | measured |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---|---|",
    ]
    for size in sorted(latest_addon):
        by_workers = {}
        for r in passes:
            if r["size"] == size and r["addon_hash"] == latest_addon[size]:
                by_workers[r["workers"]] = r
        single = by_workers.get(1)
        for workers, r in sorted(by_workers.items()):
            cpu = r.get("cpu_s", 0) + sum(h.get("cpu_s", 0) for h in r.get("helpers", []))
            speed_up = f"{single['wall'] / r['wall']:.2f}×" if single and workers != 1 else "–"
            outcome = ("notices", "dunned", "fee_documents")
            same = (
                "–"
                if not single or workers == 1
                else "yes"
                if all(r.get(key) == single.get(key) for key in outcome)
                else "NO"
            )
            lines.append(
                f"| {fmt(size)} | {workers} | {fmt(r['wall'])} | {fmt(cpu)} | "
                f"{fmt(r['notices'])} | {fmt(r['dunned'])} | {fmt(r.get('fee_documents'))} | "
                f"{fmt(r.get('errors'))} | {same} | {speed_up} | "
                f"{r['loadavg_before'][0]:.1f}→{r['loadavg_after'][0]:.1f} | "
                f"{r['addon_hash']} | {r.get('measured_at', '–')} |"
            )
    return lines


def merge_previous(args, results):
    """Add the latest earlier result of every (product, variant, size) of this
    scenario from results.jsonl that this invocation did not measure."""
    path = RESULTS_DIR / "results.jsonl"
    latest = {}
    if path.exists():
        for line in path.read_text().splitlines():
            r = json.loads(line)
            if r.get("profile") or r.get("what_if"):
                continue  # profiled or experimental passes are not figures
            if r.get("scenario", {}).get("scenario", "steady") != args.scenario:
                continue
            latest[(r["product"], r["variant"], r["size"])] = r
    for r in results:
        latest[(r["product"], r["variant"], r["size"])] = r
    order = {"isp": 0, "oca": 1}
    return sorted(
        latest.values(), key=lambda r: (r["size"], order.get(r["product"], 9), r["variant"])
    )


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description="isp_dunning benchmark")
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 10000, 100000])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--as-of", help="book date (default: today when seeding)")
    parser.add_argument("--scenario", choices=("steady", "first"), default="steady")
    parser.add_argument("--products", default="isp,oca")
    parser.add_argument("--oca-max", type=int, default=10000, help="largest size OCA runs at")
    parser.add_argument(
        "--oca-pdf-max", type=int, default=10000, help="largest size of the OCA PDF variant"
    )
    parser.add_argument(
        "--isp-pdf-max", type=int, default=10000, help="largest size of the isp PDF variant"
    )
    parser.add_argument(
        "--isp-no-fees",
        action="store_true",
        help="also measure isp with a ladder without fees and interest (no fee "
        "documents: what OCA's flow books), variant no_pdf_no_fees",
    )
    parser.add_argument("--profile", action="store_true", help="also profile the isp runs")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="isp: Parallel Workers of the run, N - 1 batch worker processes beside it "
        "(bench/parallel.sh compares 1 and N on one book)",
    )
    parser.add_argument(
        "--prepare", action="store_true", help="only build the templates, measure nothing"
    )
    parser.add_argument("--reseed", action="store_true", help="rebuild books and templates")
    parser.add_argument("--keep", action="store_true", help="keep the run databases")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="RESULTS.md also shows the latest earlier results (results.jsonl) of the "
        "sizes and variants not measured now",
    )
    parser.add_argument("--results-file", default="RESULTS.md")
    parser.add_argument("--keep-results", action="store_true")
    args = parser.parse_args(argv)
    args.raw_argv = argv
    args.sizes = sorted(set(args.sizes))
    RESULTS_DIR.mkdir(exist_ok=True)
    args.logfile = RESULTS_DIR / "bench.log"
    products = args.products.split(",")
    if args.prepare:
        for size in args.sizes:
            for product in products:
                ensure_template(args, product, size)
        log("templates ready")
        return 0
    results, profiles, notes, extrapolated, extra_ratios = [], {}, [], [], []
    for size in args.sizes:
        if "isp" in products:
            results.append(measure(args, "isp", size))
            if args.isp_no_fees:
                results.append(measure(args, "isp", size, no_fees=True))
            if size <= args.isp_pdf_max:
                results.append(measure(args, "isp", size, pdf=True))
            if args.profile:
                path = RESULTS_DIR / f"profile_isp_{size}.prof"
                measure(args, "isp", size, profile=str(path))
                text = profile_summary(path)
                (RESULTS_DIR / f"profile_isp_{size}.txt").write_text(text)
                profiles[size] = text
        if "oca" in products:
            if size <= args.oca_max:
                results.append(measure(args, "oca", size))
            if size <= min(args.oca_pdf_max, args.oca_max):
                results.append(measure(args, "oca", size, pdf=True))
    if args.merge:
        results = merge_previous(args, results)
    # Extrapolate OCA beyond its cap from its largest measured size, linearly
    # per dunned invoice (labelled as such).
    isp_by_size = {r["size"]: r for r in results if r["product"] == "isp"}
    for variant in ("no_pdf", "pdf"):
        measured = [r for r in results if r["product"] == "oca" and r["variant"] == variant]
        if not measured:
            continue
        last = max(measured, key=lambda r: r["size"])
        for size in sorted(isp_by_size):
            if size <= last["size"]:
                continue
            dunned = isp_by_size[size]["dunned"]
            wall = last["ms_per_dunned"] * dunned / 1000.0
            extra_ratios.append((size, variant, last["size"], last["ms_per_dunned"]))
            extrapolated.append(
                f"| oca | {variant} (EXTRAPOLATED from {last['size']:,}) | {fmt(size)} | – | "
                f"{fmt(dunned)} (isp's) | – | – | – | – | ≈{fmt(wall, 0)} | – | – | – | "
                f"≈{fmt(last['ms_per_dunned'], 2)} (assumed constant) | – | – | – |"
            )
    isp_rows = sorted(
        (r for r in results if r["product"] == "isp" and r["variant"] == "no_pdf"),
        key=lambda r: r["size"],
    )
    if len(isp_rows) > 1:
        per_batch = [
            r["queries"] / max(1, -(-r["customers_checked"] // r["batch_size"])) for r in isp_rows
        ]
        per_dunned = [r["queries"] / max(1, r["dunned"]) for r in isp_rows]
        notes.append(
            "isp queries per batch: "
            + ", ".join(
                f"{r['size']:,}: {q:,.0f}" for r, q in zip(isp_rows, per_batch, strict=True)
            )
            + "; per dunned invoice: "
            + ", ".join(
                f"{r['size']:,}: {q:.1f}" for r, q in zip(isp_rows, per_dunned, strict=True)
            )
            + f" (median {statistics.median(per_dunned):.1f})"
        )
    args.extra_ratios = extra_ratios
    write_results(args, results, extrapolated, profiles, notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
