"""Crash trials: SIGKILL a dunning run at a random moment, run again, compare.

    python3 faults/crash_trials.py [--trials 20] [--seed 1] [--keep-template]

1. The template database (built once, see common.ensure_template) holds a
   German ISP book: ~200 customers of the main company with overdue
   invoices in every dunning situation, weeks of weekly runs behind
   them, ``dunning_batch_size`` 10.
2. Reference: a clone runs the dunning of the as-of date once, without
   interruption (the cron's way: ``dunning_autocommit=True``), and a
   snapshot of the outcome is taken; a second run on the same date must
   change nothing.
3. Each trial: a clone starts the same run; after a random delay between 0
   and the reference's duration (stratified: trial i draws from the i-th
   slice, so the kills cover the whole run) the process is SIGKILLed. Then
   a second full run on the same date, and a third one, each followed by a
   snapshot that must equal the reference: no notice, fee document, mail or
   letter missing or twice, same invoice and customer dunning state.
"""

import math
import random
import sys
import threading
import time

import common
from common import Worker, log

BATCH_SIZE = 10


def reference_run(as_of):
    db = common.PREFIX + "crash_ref"
    common.drop_db_if_ours(db)
    common.create_db(db, common.TEMPLATE_DB)
    snap_path = common.RESULTS / "crash_reference_snapshots.json"
    common.RESULTS.mkdir(exist_ok=True)
    worker = Worker(db, ["c1", "c1"], common.LOGS / "crash_ref.log", snapshot=snap_path)
    start = worker.wait_for("START")
    done = worker.wait_for("RUN")
    code = worker.finish()
    if code or not start or not done:
        raise SystemExit(f"reference run failed (exit {code}); see {common.LOGS}/crash_ref.log")
    duration = done[0] - start[0]
    runs = worker.runs()
    first, second = common.load_snapshots(snap_path)
    problems, _notes = common.compare(first, second)
    if runs[0][2] != "done" or problems:
        raise SystemExit(f"reference is not stable: runs {runs}, second run changed {problems}")
    commits = [
        (at - start[0], int(parts[1]))
        for at, parts in worker.events
        if parts[0] == "COMMIT_END" and at <= done[0]
    ]
    candidates = int(worker.lines("CANDIDATES")[0][1][1])
    common.drop_db_if_ours(db)
    snap_path.unlink()
    key = common.reference_key(as_of)
    common.save_reference("reference_c1", {"snapshot": first, "duration": duration, "key": key})
    summary = common.outcome_summary(first, as_of.isoformat())
    log(
        f"reference: {duration:.1f} s, {candidates} customers, "
        f"{math.ceil(candidates / BATCH_SIZE)} batches, {summary}"
    )
    return {
        "snapshot": first,
        "duration": duration,
        "commits": commits,
        "candidates": candidates,
        "batches": math.ceil(candidates / BATCH_SIZE),
        "summary": summary,
        "runs": runs,
    }


def phase_at_kill(worker, batches):
    """Where the run was when it died, from the events it reported."""
    events = [parts for _at, parts in worker.events]
    words = [parts[0] for parts in events]
    if "RUN" in words:
        return "finished before the kill", batches, None
    ends = [int(p[1]) for p in events if p[0] == "COMMIT_END"]
    begins = [p for p in events if p[0] == "COMMIT_BEGIN"]
    last_end = ends[-1] if ends else -1
    in_flight = None
    if begins and int(begins[-1][1]) > last_end:
        in_flight = (int(begins[-1][1]), int(begins[-1][2]))
    committed_batches = max(0, min(last_end, batches))
    if "START" not in words:
        phase = "before the run started"
    elif last_end < 0 and not in_flight:
        phase = "creating the run"
    elif in_flight and in_flight[0] == 0:
        phase = "committing state 'running'"
    elif "CANDIDATES" not in words:
        phase = "setup (lock, pending deliveries)"
    elif in_flight:
        phase = (
            f"committing batch {in_flight[0]}"
            if in_flight[0] <= batches
            else "committing state 'done'"
        )
    elif last_end < batches:
        phase = f"booking batch {last_end + 1}"
    else:
        phase = "after the last batch"
    return phase, committed_batches, in_flight


def prepare(index):
    """Clone the template and start the victim and the rerun; both load
    their registry and wait for GO. Done while the previous trial reruns, so
    that the victim later runs alone, as the reference did."""
    db = f"{common.PREFIX}crash_{index:02d}"
    logfile = common.LOGS / f"crash_{index:02d}.log"
    logfile.unlink(missing_ok=True)
    common.drop_db_if_ours(db)
    common.create_db(db, common.TEMPLATE_DB)
    snap_path = common.RESULTS / f"crash_{index:02d}.json"
    return {
        "index": index,
        "db": db,
        "logfile": logfile,
        "snapshot": snap_path,
        "victim": Worker(db, ["c1"], logfile, wait_go=True),
        "rerun": Worker(db, ["c1", "c1"], logfile, snapshot=snap_path, wait_go=True),
    }


def wait_event(worker, word, index, timeout=600.0):
    """Poll until the worker reported ``word`` (with first argument ``index``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for _at, parts in list(worker.events):
            if parts[0] == word and (index is None or int(parts[1]) == index):
                return True
        if worker.proc.poll() is not None:
            return False
        time.sleep(0.001)
    return False


def trial(prepared, delay, as_of, reference, prepare_next, trigger=None):
    """Run one trial; ``prepare_next`` is started in a thread once the victim
    is dead. With ``trigger`` (event word, index) the kill follows that event
    of the victim instead of the delay. Returns (row, thread)."""
    index, db, logfile = prepared["index"], prepared["db"], prepared["logfile"]
    victim, rerun, snap_path = prepared["victim"], prepared["rerun"], prepared["snapshot"]
    row = {"trial": index, "db": db, "planned_kill": round(delay, 3)}
    follower = None
    clock = [time.monotonic()]

    def lap(name):
        row.setdefault("timing", {})[name] = round(time.monotonic() - clock[0], 1)
        clock[0] = time.monotonic()

    try:
        if not victim.wait_for("READY") or not rerun.wait_for("READY"):
            raise RuntimeError(f"a worker did not start; see {logfile}")
        lap("ready")
        victim.go()
        start = victim.wait_for("START")
        if not start:
            raise RuntimeError(f"the run did not start; see {logfile}")
        if trigger:
            row["trigger"] = " ".join(str(part) for part in trigger if part is not None)
            wait_event(victim, *trigger)
        else:
            time.sleep(max(0.0, start[0] + delay - time.monotonic()))
        killed = victim.kill()
        kill_at = time.monotonic() - start[0]
        victim.finish()
        lap("victim")
        follower = threading.Thread(target=prepare_next, daemon=True)
        follower.start()
        phase, batches, in_flight = phase_at_kill(victim, reference["batches"])
        row.update(kill_at=round(kill_at, 2), killed=killed, phase=phase, batches=batches)
        # Its PostgreSQL session must be gone (and its advisory lock with it).
        row["backend_wait"] = round(common.wait_no_backends(db, victim.pid), 3)
        killed_runs = common.db_query(
            db,
            "SELECT r.id, r.state, (SELECT count(*) FROM isp_dunning_notice n "
            "WHERE n.run_id = r.id) FROM isp_dunning_run r WHERE r.date = %s ORDER BY r.id",
            (as_of,),
        )
        row["killed_run"] = [list(r) for r in killed_runs]
        durable = killed_runs[-1][2] if killed_runs else 0
        row["notices_durable"] = durable
        if in_flight:
            if in_flight[0] == 0:
                landed = bool(killed_runs)
            else:
                landed = durable == in_flight[1] and in_flight[1] > 0
            row["in_flight_commit"] = f"{in_flight[0]} ({'landed' if landed else 'not seen'})"
            if landed and 1 <= in_flight[0] <= reference["batches"]:
                row["batches"] = in_flight[0]

        rerun.go()
        code = rerun.finish()
        lap("rerun")
        if code:
            raise RuntimeError(f"rerun exited with {code}; see {logfile}")
        row["reruns"] = [f"{state} +{notices}" for _i, _c, state, notices, _e, _s in rerun.runs()]
        row["healed"] = [int(p[1]) for _at, p in rerun.lines("HEALED")]
        problems, notes = common.compare_reruns(reference["snapshot"], snap_path)
        if len(row["reruns"]) != 2 or any(r.split()[0] != "done" for r in row["reruns"]):
            problems.append(f"a rerun did not end done: {row['reruns']}")
        row["result"] = "OK" if not problems else "DIFF"
        row["problems"] = problems
        row["notes"] = notes
        snap_path.unlink()
    except Exception as error:  # noqa: BLE001 - a broken trial is reported, not fatal
        row["result"] = "ERROR"
        row["problems"] = [f"{type(error).__name__}: {error}"]
        victim.kill()
        rerun.kill()
    finally:
        if follower is None:
            follower = threading.Thread(target=prepare_next, daemon=True)
            follower.start()
        common.drop_db_if_ours(db)
    return row, follower


def reference_batches(reference, row):
    """Batches the reference run had committed at the trial's kill time: the
    victim is slower than the reference when the machine is busier."""
    if "kill_at" not in row:
        return "-"
    done = [index for at, index in reference["commits"] if at <= row["kill_at"]]
    return max(0, min(max(done, default=0), reference["batches"]))


def table(rows, reference, as_of):
    lines = [
        f"Crash trials of {time.strftime('%Y-%m-%d %H:%M')} ({common.machine_line()}).",
        "",
        f"Reference run of {as_of}: {reference['duration']:.1f} s, "
        f"{reference['candidates']} customers in {reference['batches']} batches of "
        f"{BATCH_SIZE}; {reference['summary']['notices']} notices, "
        f"{reference['summary']['fee_docs']} fee documents, "
        f"{reference['summary']['mails']} mails, {reference['summary']['letters']} letters, "
        f"{reference['summary']['handovers']} handovers. A second run on the same date "
        "changes nothing.",
        "",
        "| # | kill at (s) | phase at the kill | batches committed (reference then) "
        "| notices durable "
        "| 2nd / 3rd run | healed | result |",
        "|---:|---:|---|---:|---:|---|---|---|",
    ]
    for row in rows:
        lines.append(
            "| {trial} | {kill} | {phase} | {batches} | {durable} | {reruns} | {healed} "
            "| {result} |".format(
                trial=row["trial"],
                kill=f"{row.get('kill_at', '-')}"
                + (f" (at {row['trigger']})" if row.get("trigger") else ""),
                phase=row.get("phase", "-")
                + (f", commit {row['in_flight_commit']}" if row.get("in_flight_commit") else ""),
                batches=f"{row.get('batches', '-')} ({reference_batches(reference, row)})",
                durable=row.get("notices_durable", "-"),
                reruns=" / ".join(row.get("reruns", [])) or "-",
                healed=",".join(map(str, row.get("healed", []))) or "-",
                result=row["result"],
            )
        )
    return common.report_tail(lines, rows)


def main():
    parser = common.argument_parser(__doc__, trials=20)
    parser.add_argument(
        "--targeted", type=int, default=3, choices=range(4), help="event-triggered kills (0-3)"
    )
    args = parser.parse_args()
    as_of = common.ensure_template(rebuild=args.rebuild)
    try:
        reference = reference_run(as_of)
        rng = random.Random(args.seed)
        rows = []
        pending = {1: prepare(1)}

        def preparer(number):
            def run():
                if number <= args.trials + args.targeted:
                    pending[number] = prepare(number)

            return run

        batches = reference["batches"]
        # After the random kills, three at chosen events, whatever the load:
        # right after the set-up, inside the commit of a random batch, and
        # after the last batch (retrying postponed blocks, state done).
        targeted = [
            ("CANDIDATES", None),
            ("COMMIT_BEGIN", rng.randint(1, batches)),
            ("COMMIT_END", batches),
        ][: args.targeted]
        total = args.trials + len(targeted)
        for index in range(1, total + 1):
            share = rng.uniform((index - 1) / args.trials, index / args.trials)
            trigger = targeted[index - args.trials - 1] if index > args.trials else None
            began = time.monotonic()
            row, follower = trial(
                pending.pop(index),
                share * reference["duration"],
                as_of,
                reference,
                preparer(index + 1),
                trigger=trigger,
            )
            follower.join()
            row.setdefault("timing", {})["next_ready"] = round(time.monotonic() - began, 1)
            rows.append(row)
            log(
                f"trial {index:2d}: kill at {row.get('kill_at', '-')} s "
                f"({row.get('phase', '-')}, {row.get('batches', '-')} batches) -> {row['result']}"
                + (f" {row['problems'][:3]}" if row["result"] != "OK" else "")
                + f" timing {row.get('timing')}"
            )
        markdown = table(rows, reference, as_of)
        reference_data = {k: v for k, v in reference.items() if k != "snapshot"}
        common.write_results("crash", markdown, {"reference": reference_data, "trials": rows})
        print(markdown)
    finally:
        common.cleanup(keep_template=args.keep_template)
    return 0 if all(row["result"] == "OK" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
