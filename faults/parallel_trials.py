"""Parallel trials: one company's run shared by two worker processes, one of
them SIGKILLed in the middle of a batch, then compared with the serial run.

    python3 faults/parallel_trials.py [--trials 10] [--seed 1] [--keep-template]

1. Reference: the serial run of the as-of date on a clone of the template
   (``crash_trials.reference_run``: Parallel Workers 1, one process).
2. Each trial: a fresh clone with Parallel Workers 2; a coordinating
   process (the cron's run: select, store the batches, claim batches) and a
   batch worker process (``worker.py work``: what "Dunning: batch worker 1"
   does) start at the same moment. Odd trials kill the batch worker, even
   trials the coordinating run, right after it claimed its k-th batch (k
   random among the first half of its share) plus a random 0 to 0.4 s:
   in the middle of that batch's reading, booking, commit or delivery. The
   other process goes on alone: the coordinating run takes the dead
   worker's batch again and ends the run; a batch worker whose coordinator
   died takes the rest and ends the run itself (it then holds the
   company's run lock).
3. Checked: the killed run ends ``done`` with its counts equal to the
   notices it booked; then a second and a third run on the same date (the
   cron's, Parallel Workers 2, one process) each followed by a snapshot
   that must equal the reference: no notice, fee document, mail or letter
   missing or twice.
"""

import random
import sys
import time

import common
import crash_trials
import psycopg2
from common import Worker, log


def prepare(index):
    db = f"{common.PREFIX}par_{index:02d}"
    logfile = common.LOGS / f"parallel_{index:02d}.log"
    logfile.unlink(missing_ok=True)
    common.drop_db_if_ours(db)
    common.create_db(db, common.TEMPLATE_DB)
    common.check_name(db)
    conn = psycopg2.connect(dbname=db)
    with conn, conn.cursor() as cr:
        cr.execute("UPDATE res_company SET dunning_parallel_workers = 2")
    conn.close()
    return {
        "index": index,
        "db": db,
        "logfile": logfile,
        "snapshot": common.RESULTS / f"parallel_{index:02d}.json",
    }


def claims(worker):
    return [(at, int(parts[1]), int(parts[2])) for at, parts in worker.lines("CLAIM")]


def trial(prepared, rng, reference):
    index, db, logfile = prepared["index"], prepared["db"], prepared["logfile"]
    victim_role = "worker" if index % 2 else "coordinator"
    row = {"trial": index, "db": db, "victim": victim_role}
    coordinator = Worker(db, ["c1"], logfile, wait_go=True)
    helper = Worker(db, "work", logfile, wait_go=True, extra=["--idle", "60"])
    rerun = None
    try:
        if not coordinator.wait_for("READY") or not helper.wait_for("READY"):
            raise RuntimeError(f"a worker did not start; see {logfile}")
        victim, survivor = (
            (helper, coordinator) if victim_role == "worker" else (coordinator, helper)
        )
        # Each process takes about half of the batches: k among the first
        # half of the victim's share.
        target = rng.randint(1, max(1, reference["batches"] // 4))
        extra = rng.uniform(0.0, 0.4)
        row["kill_after"] = f"claim {target} + {extra:.2f} s"
        start = time.monotonic()
        coordinator.go()
        helper.go()
        while len(claims(victim)) < target and victim.proc.poll() is None:
            if time.monotonic() - start > 300:
                raise RuntimeError("the victim claimed no batch in 300 s")
            time.sleep(0.005)
        time.sleep(extra)
        row["killed"] = victim.kill()
        row["kill_at"] = round(time.monotonic() - start, 2)
        victim.finish()
        victim_claims = claims(victim)
        row["victim_batches"] = len(victim_claims)
        row["victim_commits"] = len(victim.lines("COMMIT_END"))
        row["backend_wait"] = round(common.wait_no_backends(db, victim.pid), 3)
        code = survivor.finish(timeout=600)
        row["survivor_exit"] = code
        row["survivor_batches"] = len(claims(survivor))
        row["survivor_run"] = [list(r) for r in survivor.runs()]
        row["wall"] = round(time.monotonic() - start, 2)
        runs = common.db_query(
            db,
            "SELECT r.id, r.state, r.notice_count, r.customer_count, r.error_count,"
            " (SELECT count(*) FROM isp_dunning_notice n WHERE n.run_id = r.id),"
            " (SELECT count(*) FROM isp_dunning_run_batch b WHERE b.run_id = r.id),"
            " (SELECT count(*) FROM isp_dunning_run_batch b WHERE b.run_id = r.id"
            "   AND b.attempts > 1)"
            " FROM isp_dunning_run r WHERE r.date = %s ORDER BY r.id",
            (reference["as_of"],),
        )
        row["killed_run"] = [list(r) for r in runs]
        problems = []
        if not runs:
            problems.append("no run recorded")
        else:
            _id, state, count, customers, _errors, booked, batches, _again = runs[-1]
            if state != "done":
                problems.append(f"the shared run ended {state}")
            if count != booked:
                problems.append(f"the run counts {count} notices, it booked {booked}")
            if customers != reference["candidates"]:
                problems.append(f"the run checked {customers} customers")
            if batches != reference["batches"]:
                problems.append(f"{batches} batches stored")
        rerun = Worker(db, ["c1", "c1"], logfile, snapshot=prepared["snapshot"], wait_go=True)
        rerun.go()
        if rerun.finish(timeout=600):
            raise RuntimeError(f"rerun failed; see {logfile}")
        row["reruns"] = [f"{state} +{notices}" for _i, _c, state, notices, _e, _s in rerun.runs()]
        found, notes = common.compare_reruns(reference["snapshot"], prepared["snapshot"])
        problems += found
        if any(r.split()[0] != "done" or r.split()[1] != "+0" for r in row["reruns"]):
            problems.append(f"a rerun booked or failed: {row['reruns']}")
        row["result"] = "OK" if not problems else "DIFF"
        row["problems"] = problems
        row["notes"] = notes
        prepared["snapshot"].unlink()
    except Exception as error:  # noqa: BLE001 - a broken trial is reported, not fatal
        row["result"] = "ERROR"
        row["problems"] = [f"{type(error).__name__}: {error}"]
        for worker in (coordinator, helper, rerun):
            if worker:
                worker.kill()
    finally:
        common.drop_db_if_ours(db)
    return row


def table(rows, reference, as_of):
    lines = [
        f"Parallel trials ({common.machine_line()}), run date {as_of}: Parallel Workers 2, "
        "a coordinating run and a batch worker in two processes on one PostgreSQL, one of "
        "them SIGKILLed in the middle of a batch.",
        "",
        f"Reference (serial run): {reference['duration']:.1f} s, {reference['candidates']} "
        f"customers in {reference['batches']} batches; {reference['summary']['notices']} "
        f"notices, {reference['summary']['fee_docs']} fee documents, "
        f"{reference['summary']['mails']} mails, {reference['summary']['letters']} letters.",
        "",
        "| # | killed | kill after | at (s) | batches taken by the killed / the other "
        "| shared run: state, notices (booked), batches taken again | 2nd / 3rd run | result |",
        "|---:|---|---|---:|---|---|---|---|",
    ]
    for row in rows:
        run = (row.get("killed_run") or [[None] * 8])[-1]
        lines.append(
            f"| {row['trial']} | {row['victim']} | {row.get('kill_after', '-')} "
            f"| {row.get('kill_at', '-')} "
            f"| {row.get('victim_batches', '-')} / {row.get('survivor_batches', '-')} "
            f"| {run[1]}, {run[2]} ({run[5]}), {run[7]} "
            f"| {' / '.join(row.get('reruns', [])) or '-'} | {row['result']} |"
        )
    return common.report_tail(lines, rows)


def main():
    args = common.argument_parser(__doc__, trials=10).parse_args()
    as_of = common.ensure_template(rebuild=args.rebuild)
    rows = []
    try:
        reference = crash_trials.reference_run(as_of)
        reference["as_of"] = as_of
        rng = random.Random(args.seed)
        for index in range(1, args.trials + 1):
            row = trial(prepare(index), rng, reference)
            rows.append(row)
            log(
                f"trial {index:2d}: {row['victim']} killed after {row.get('kill_after')} "
                f"at {row.get('kill_at', '-')} s -> {row['result']}"
                + (f" {row['problems'][:3]}" if row["result"] != "OK" else "")
            )
        markdown = table(rows, reference, as_of)
        reference_data = {k: v for k, v in reference.items() if k != "snapshot"}
        common.write_results("parallel", markdown, {"reference": reference_data, "trials": rows})
        print(markdown)
    finally:
        common.cleanup(keep_template=args.keep_template)
    return 0 if rows and all(row["result"] == "OK" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
