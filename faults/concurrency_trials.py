"""Concurrency trials: two (or three) dunning runs at once, then compare.

    python3 faults/concurrency_trials.py [--keep-template] [--only same|two]

Each case clones the template (see common.ensure_template), starts one
process per run (each loads its registry and waits), then releases them at
the same moment or staggered by a few hundred milliseconds (or at half the
reference run). Every run is the cron's: ``with_context(dunning_autocommit=
True).run_dunning(date=as_of)``. When they are done, a final run per company
(the "third run") completes whatever a skipped or failed run left, and the
snapshot must equal the reference of an undisturbed sequential run: no
notice, fee document, mail or letter twice or missing. A run ended
``skipped`` by the advisory lock is expected for the same company; runs of
two different companies do not share the lock and must both be ``done``.
"""

import sys
import threading
import time

import common
from common import Worker, log

# (label, [(run, delay)]): run "c1"/"c2" is a cron run of that company,
# "c1:now" a "Run now" (one transaction, its commit held a second after
# run_dunning returned); delay in seconds after the first release, a share
# of the reference run's duration ("50%"), or ("after", i, s): s seconds
# after run i returned.
CASES = [
    ("same company, simultaneous", [("c1", 0.0), ("c1", 0.0)]),
    ("same company, simultaneous", [("c1", 0.0), ("c1", 0.0)]),
    ("same company, 2nd +0.15 s", [("c1", 0.0), ("c1", 0.15)]),
    ("same company, 2nd +0.5 s", [("c1", 0.0), ("c1", 0.5)]),
    ("same company, 2nd at half the run", [("c1", 0.0), ("c1", "50%")]),
    ("same company, three runs", [("c1", 0.0), ("c1", 0.0), ("c1", 0.05)]),
    ("two companies, simultaneous", [("c1", 0.0), ("c2", 0.0)]),
    ("two companies, simultaneous", [("c1", 0.0), ("c2", 0.0)]),
    ("two companies, 2nd +0.3 s", [("c1", 0.0), ("c2", 0.3)]),
    ("Run now, cron run before its commit", [("c1:now", 0.0), ("c1", ("after", 0, 0.1))]),
    ("customer updated during its batch", [("c1:inject", 0.0)]),
    (
        "Run now fails (database error), then a cron run",
        [("c1:nowfail", 0.0), ("c1", ("after", 0, 0.2))],
    ),
]


def reference(as_of, companies):
    """The outcome of undisturbed sequential runs (and proof that another
    round changes nothing). Reuses the crash trials' reference if current."""
    key = common.reference_key(as_of)
    name = "reference_" + "_".join(companies)
    cached = common.load_reference(name, key)
    if cached:
        log(f"reference {'+'.join(companies)}: reused from the crash trials")
        return cached
    db = f"{common.PREFIX}conc_ref"
    common.drop_db_if_ours(db)
    common.create_db(db, common.TEMPLATE_DB)
    path = common.RESULTS / f"{name}_snapshots.json"
    worker = Worker(db, companies * 2, common.LOGS / "conc_ref.log", snapshot=path)
    start = worker.wait_for("START")
    done = worker.wait_for("RUN")
    code = worker.finish()
    common.drop_db_if_ours(db)
    if code or not start or not done:
        raise SystemExit(f"reference run failed (exit {code}); see {common.LOGS}/conc_ref.log")
    snaps = common.load_snapshots(path)
    path.unlink()
    first, again = snaps[len(companies) - 1], snaps[-1]
    problems, _notes = common.compare(first, again)
    states = [run[2] for run in worker.runs()]
    if problems or set(states) != {"done"}:
        raise SystemExit(f"reference {companies} not stable: {states} {problems}")
    ref = {"snapshot": first, "duration": done[0] - start[0], "key": key}
    common.save_reference(name, ref)
    log(f"reference {'+'.join(companies)}: {ref['duration']:.1f} s")
    return ref


def prepare(number, case):
    label, runs = case
    db = f"{common.PREFIX}conc_{number:02d}"
    logfile = common.LOGS / f"conc_{number:02d}.log"
    logfile.unlink(missing_ok=True)
    common.drop_db_if_ours(db)
    common.create_db(db, common.TEMPLATE_DB)
    workers = [Worker(db, [company], logfile, wait_go=True) for company, _delay in runs]
    # The final run loads its registry now too, so that nothing but the
    # measured runs competes for the CPU once they are released.
    companies = sorted({company.split(":")[0] for company, _delay in runs})
    snap_path = common.RESULTS / f"conc_{number:02d}.json"
    final = Worker(db, companies, logfile, snapshot=snap_path, wait_go=True)
    return {"number": number, "label": label, "runs": runs, "db": db, "logfile": logfile,
            "workers": workers, "final": final, "snapshot": snap_path}  # fmt: skip


def execute(prepared, refs, as_of, prepare_next):
    number, db, logfile = prepared["number"], prepared["db"], prepared["logfile"]
    workers, runs = prepared["workers"], prepared["runs"]
    final, snap_path = prepared["final"], prepared["snapshot"]
    companies = sorted({company.split(":")[0] for company, _delay in runs})
    ref = refs["_".join(companies)]
    row = {"case": number, "label": prepared["label"], "db": db}
    follower = None
    try:
        for worker in [*workers, final]:
            if not worker.wait_for("READY"):
                raise RuntimeError(f"a worker did not start; see {logfile}")
        t0 = time.monotonic()
        for delay, worker in sorted(zip(runs, workers, strict=True), key=release_order):
            delay = delay[1]
            if isinstance(delay, tuple):
                _after, other, extra = delay
                deadline = time.monotonic() + 600
                while not workers[other].lines("RETURNED") and not workers[other].lines("RUN"):
                    if time.monotonic() > deadline:
                        raise RuntimeError("the first run never returned")
                    time.sleep(0.005)
                time.sleep(extra)
            else:
                if isinstance(delay, str):
                    delay = refs["c1"]["duration"] * float(delay[:-1]) / 100
                time.sleep(max(0.0, t0 + delay - time.monotonic()))
            worker.go()
        # A failed "Run now" stays alive (its pooled connection too) until the
        # other runs are done: is the company's advisory lock still held?
        holders = [w for (c, _d), w in zip(runs, workers, strict=True) if c.endswith(":nowfail")]
        for worker in workers:
            if worker not in holders:
                worker.finish()
        for worker in holders:
            worker.wait_for("IDLE")
            row["locks_held_by_failed_run"] = advisory_locks(db)
            # Its next request (a new cursor) resets the pooled connection.
            worker.proc.stdin.write("NEXT\n")
            worker.proc.stdin.flush()
            worker.wait_for("NEXT_DONE")
            row["locks_after_next_cursor"] = advisory_locks(db)
            worker.proc.stdin.write("EXIT\n")
            worker.proc.stdin.flush()
            worker.finish()
        follower = threading.Thread(target=prepare_next, daemon=True)
        follower.start()
        outcomes = []
        for (company, _delay), worker in zip(runs, workers, strict=True):
            start = worker.lines("START")
            done = worker.runs()
            end = worker.lines("RUN")
            if not start or not done:
                raise RuntimeError(f"a {company} run did not finish; see {logfile}")
            _i, _c, state, notices, errors, _s = done[0]
            outcomes.append(
                {
                    "company": company,
                    "state": state,
                    "notices": notices,
                    "errors": errors,
                    "injected": [p[1] for _at, p in worker.lines("INJECTED")],
                    "start": round(start[0][0] - t0, 2),
                    "end": round(end[0][0] - t0, 2),
                }
            )
        row["runs"] = outcomes
        row["overlap"] = overlapping(outcomes)
        for worker in workers:
            common.wait_no_backends(db, worker.pid)
        row["run_logs"] = [
            f"run {run_id} {state}: {(text or '').strip()[:300]}"
            for run_id, state, text in common.db_query(
                db,
                "SELECT id, state, log FROM isp_dunning_run WHERE date = %s "
                "AND (state NOT IN ('done', 'skipped') OR error_count > 0) ORDER BY id",
                (as_of,),
            )
        ]
        final.go()
        if final.finish():
            raise RuntimeError(f"the final run failed; see {logfile}")
        row["final"] = [f"{c} {state} +{n}" for _i, c, state, n, _e, _s in final.runs()]
        outcome = common.load_snapshots(snap_path)[-1]
        snap_path.unlink()
        problems, notes = common.compare(ref["snapshot"], outcome)
        doubled, warnings = expectations(outcomes)
        if row.get("locks_held_by_failed_run"):
            doubled.append(
                f"LOCK LEAK: after the failed Run now, {row['locks_held_by_failed_run']} "
                "advisory lock(s) of the company stayed held by the request's pooled "
                "connection; the cron run in that time ended skipped. Held after that "
                f"process opened its next cursor: {row.get('locks_after_next_cursor')}"
            )
        row["problems"], row["notes"], row["warnings"] = problems + doubled, notes, warnings
        if any(problem.startswith("LOCK LEAK") for problem in row["problems"]):
            row["result"] = "LOCK LEAK"
        elif row["problems"]:
            row["result"] = "DIFF"
        else:
            row["result"] = "OK" if not warnings else "OK, run errors"
    except Exception as error:  # noqa: BLE001 - a broken case is reported, not fatal
        row["result"] = "ERROR"
        row["problems"] = [f"{type(error).__name__}: {error}"]
        for worker in [*workers, final]:
            worker.kill()
    finally:
        if follower is None:
            follower = threading.Thread(target=prepare_next, daemon=True)
            follower.start()
        common.drop_db_if_ours(db)
    return row, follower


def advisory_locks(db):
    """Granted dunning run locks (key 7311) in the database."""
    return common.db_query(
        db,
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 7311 "
        "AND granted AND database = (SELECT oid FROM pg_database WHERE datname = %s)",
        (db,),
    )[0][0]


def release_order(pair):
    """Timed releases first (by delay), then those waiting for another run."""
    delay = pair[0][1]
    if isinstance(delay, tuple):
        return (1, 0.0)
    if isinstance(delay, str):
        return (0, float(delay[:-1]) * 1000)
    return (0, delay)


def overlapping(outcomes):
    spans = sorted((o["start"], o["end"]) for o in outcomes)
    return any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:], strict=False))


def expectations(outcomes):
    """Per company one run does the work; the others are skipped by the lock
    (or, started after it ended, find nothing to do). Returns (problems,
    warnings): two runs booking notices for one company is a problem; a run
    that failed or reported customer errors is a warning when the outcome is
    still the reference."""
    problems, warnings = [], []
    for company in sorted({o["company"].split(":")[0] for o in outcomes}):
        mine = [o for o in outcomes if o["company"].split(":")[0] == company]
        working = [o for o in mine if o["state"] == "done" and o["notices"]]
        if len(working) > 1:
            problems.append(f"{company}: {len(working)} runs booked notices")
        for o in mine:
            if o["state"] not in ("done", "skipped"):
                warnings.append(f"{o['company']} run ended {o['state']}")
            if o["errors"]:
                warnings.append(f"{o['company']} run reported {o['errors']} customer errors")
    return problems, warnings


def table(rows, refs, as_of):
    lines = [
        f"Concurrency trials ({common.machine_line()}), run date {as_of}; reference "
        f"run of the main company {refs['c1']['duration']:.1f} s.",
        "",
        "| # | case | runs: company state +notices (start-end s) | overlap | final run | result |",
        "|---:|---|---|---|---|---|",
    ]
    for row in rows:
        runs = "; ".join(
            f"{o['company']} {o['state']} +{o['notices']}"
            + (f" ({o['errors']} errors)" if o["errors"] else "")
            + "".join(f" ({ref} updated meanwhile)" for ref in o.get("injected", []))
            + f" ({o['start']}-{o['end']})"
            for o in row.get("runs", [])
        )
        lines.append(
            f"| {row['case']} | {row['label']} | {runs or '-'} | "
            f"{'yes' if row.get('overlap') else 'no'} | {', '.join(row.get('final', [])) or '-'} "
            f"| {row['result']} |"
        )
    return common.report_tail(
        lines,
        rows,
        unit="cases",
        verdict="without a duplicate or a loss",
        title=lambda row: f"Case {row['case']} ({row['label']}, {row['result']})",
        details=lambda row: [
            *row["problems"],
            *row.get("warnings", []),
            *(f"run log: {text}" for text in row.get("run_logs", [])),
        ],
    )


def main():
    parser = common.argument_parser(__doc__)
    parser.add_argument("--only", choices=("same", "two"), help="only these cases")
    parser.add_argument("--case", help="only these case numbers, e.g. 9,13")
    args = parser.parse_args()
    as_of = common.ensure_template(rebuild=args.rebuild)
    wanted = {int(n) for n in args.case.split(",")} if args.case else None
    cases = [
        case
        for number, case in enumerate(CASES, 1)
        if (not args.only or case[0].startswith("same" if args.only == "same" else "two"))
        and (not wanted or number in wanted)
    ]
    rows = []
    try:
        refs = {"c1": reference(as_of, ["c1"])}
        if any(company == "c2" for _label, runs in cases for company, _d in runs):
            refs["c1_c2"] = reference(as_of, ["c1", "c2"])
        pending = {1: prepare(1, cases[0])}

        def preparer(number):
            def run():
                if number <= len(cases):
                    pending[number] = prepare(number, cases[number - 1])

            return run

        for number in range(1, len(cases) + 1):
            row, follower = execute(pending.pop(number), refs, as_of, preparer(number + 1))
            follower.join()
            rows.append(row)
            runs = ", ".join(
                f"{o['company']} {o['state']} +{o['notices']}" for o in row.get("runs", [])
            )
            log(
                f"case {number:2d} {row['label']}: {runs} -> {row['result']}"
                + (f" {row['problems'][:3]}" if row["result"] != "OK" else "")
            )
        markdown = table(rows, refs, as_of)
        common.write_results(
            "concurrency", markdown, {"cases": rows}, readme=not (args.only or args.case)
        )
        print(markdown)
    finally:
        common.cleanup(keep_template=args.keep_template)
    return 0 if rows and all(row["result"].startswith("OK") for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
