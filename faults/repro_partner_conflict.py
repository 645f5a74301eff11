"""Deterministic reproduction: a customer updated by another transaction
while the dunning books its batch loses its notice for the day.

    python3 faults/repro_partner_conflict.py [--keep-template]

A clone of the template runs the main company's dunning as the cron does
(``dunning_autocommit=True``). Just before the first batch with a customer
whose dunning level rises is booked, a second transaction updates that
customer (its phone number, as a user or a CRM/provisioning sync would) and
commits. The batch's ``_dunning_refresh_level`` then writes the same
res.partner row from an older snapshot: PostgreSQL raises a serialization
failure (REPEATABLE READ), the run books the customer again alone, fails
the same way and records an "error" notice. A second run on the same date
skips the customer (a live notice exists for the date) and the unique index
would refuse another one: no reminder, fee document, mail or letter for
the day, the invoices stay on their level. The script prints the
differences from the undisturbed reference run.
"""

import argparse
import json
import subprocess
import sys

import common
from common import log


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep-template", action="store_true")
    args = parser.parse_args()
    as_of = common.ensure_template()
    db = common.PREFIX + "repro"
    try:
        reference = common.load_reference("reference_c1", common.reference_key(as_of))
        if not reference:
            common.drop_db_if_ours(db)
            common.create_db(db, common.TEMPLATE_DB)
            path = common.RESULTS / "repro_reference.json"
            common.worker(["run", "--db", db, "--plan", "c1", "--snapshot", str(path)],
                          common.LOGS / "repro.log")  # fmt: skip
            reference = {"snapshot": common.load_snapshots(path)[0]}
            path.unlink()
        common.drop_db_if_ours(db)
        common.create_db(db, common.TEMPLATE_DB)
        path = common.RESULTS / "repro_snapshots.json"
        out = subprocess.run(
            [sys.executable, str(common.FAULTS / "worker.py"), "inject", "--db", db,
             "--snapshot", str(path)],
            capture_output=True, text=True, env=common.worker_env(), check=True,
        )  # fmt: skip
        for line in out.stdout.splitlines():
            word, _sep, rest = line.partition(" ")
            if word in ("RUNLOG", "FAILURE"):
                rest = json.loads(rest)
            log(f"{word} {rest}")
        snapshots = common.load_snapshots(path)
        path.unlink()
        found = False
        for label, snap in zip(("1st run", "2nd run"), snapshots, strict=True):
            problems, _notes = common.compare(reference["snapshot"], snap, limit=20)
            found = found or bool(problems)
            log(f"{label}: {'same as the reference' if not problems else 'DIFF'}")
            for problem in problems:
                print(f"  - {problem}")
        return 1 if found else 0
    finally:
        common.drop_db_if_ours(db)
        if not args.keep_template:
            common.drop_db_if_ours(common.TEMPLATE_DB)


if __name__ == "__main__":
    sys.exit(main())
