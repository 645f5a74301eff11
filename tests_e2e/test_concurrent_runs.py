"""End to end: two Odoo processes start the dunning of one company at the
same moment, as two cron workers would. One run does the work, the other
ends skipped (or, if it starts after the first finished, finds nothing left
to do); nothing is booked, queued or charged twice."""

import os
import subprocess

import pytest

pytestmark = pytest.mark.skipif(
    os.environ.get("ISP_DUNNING_E2E") != "1",
    reason="end-to-end run: started by tools/test.sh (ISP_DUNNING_E2E=1)",
)

SETUP = """
company = env.ref("base.main_company")
# One customer per batch: the run commits many times and lasts long enough
# for the second process to meet it.
company.dunning_batch_size = 1
env.cr.commit()
"""

WORKER = """
import os, time
company = env.ref("base.main_company")
Run = env["isp.dunning.run"].with_company(company).with_context(dunning_autocommit=True)
print("READY", flush=True)
while not os.path.exists(%(go)r):
    time.sleep(0.002)
run = Run.run_dunning()
env.cr.commit()
print("RUN", run.state, run.notice_count, run.error_count, flush=True)
"""


@pytest.fixture(scope="module")
def two_runs(odoo_db, tmp_path_factory):
    odoo_db.install()
    odoo_db.shell(SETUP)
    go = tmp_path_factory.mktemp("go") / "go"
    workers = [
        subprocess.Popen(
            odoo_db.shell_command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for worker in workers:
            worker.stdin.write(WORKER % {"go": str(go)})
            worker.stdin.close()
        for worker in workers:
            # Both registries loaded and waiting: then they start together.
            line = worker.stdout.readline()
            assert line.startswith("READY"), line + worker.stderr.read()[-3000:]
        go.touch()
        results = []
        for worker in workers:
            out, err = worker.stdout.read(), worker.stderr.read()
            assert worker.wait(timeout=900) == 0, err[-3000:]
            words = next(line.split() for line in out.splitlines() if line.startswith("RUN"))
            results.append((words[1], int(words[2]), int(words[3])))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    print("runs (state, notices, errors):", results)
    return odoo_db, sorted(results, key=lambda result: -result[1])


def test_one_run_works_the_other_skips(two_runs):
    _odoo, ((state_1, notices_1, errors_1), (state_2, notices_2, errors_2)) = two_runs
    assert (state_1, errors_1) == ("done", 0)
    assert notices_1 > 0, "the demo book has customers to remind"
    assert state_2 in ("skipped", "done"), state_2
    assert (notices_2, errors_2) == (0, 0), "the second run booked nothing"


def test_nothing_twice(two_runs):
    odoo, ((_state, notices, _errors), _second) = two_runs
    assert odoo.query("SELECT count(*) FROM isp_dunning_notice") == [(notices,)]
    assert not odoo.query(
        "SELECT partner_id, level_id FROM isp_dunning_notice"
        " GROUP BY partner_id, level_id, date HAVING count(*) > 1"
    )
    assert not odoo.query(
        "SELECT dunning_fee_notice_id FROM account_move"
        " WHERE dunning_fee_notice_id IS NOT NULL"
        " GROUP BY dunning_fee_notice_id HAVING count(*) > 1"
    ), "one fee document per notice"
    assert odoo.query(
        "SELECT count(*) FROM mail_mail mail WHERE dunning_notice_id IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM isp_dunning_notice notice"
        " WHERE mail.id IN (notice.mail_id, notice.handover_mail_id))"
    ) == [(0,)], "every mail is the one mail of its notice (reminder or handover)"
    runs = odoo.query("SELECT state FROM isp_dunning_run ORDER BY id")
    assert "failed" not in {state for (state,) in runs}
