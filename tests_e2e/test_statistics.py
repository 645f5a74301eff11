"""End to end: a committing run keeps PostgreSQL's statistics of the tables
it fills current, so that the foreign-key checks of its inserts stay index
lookups while the tables grow (autovacuum is switched off for them here, as
it may be late or off on a real server)."""

import os

import pytest

pytestmark = pytest.mark.skipif(
    os.environ.get("ISP_DUNNING_E2E") != "1",
    reason="end-to-end run: started by tools/test.sh (ISP_DUNNING_E2E=1)",
)

TABLES = ("isp_dunning_notice", "isp_dunning_notice_line")

SETUP = """
import datetime
from odoo.fields import Command
company = env.ref("base.main_company")
company.dunning_batch_size = 5  # many commits, as a large run has
journal = env["account.journal"].search(
    [("type", "=", "sale"), ("company_id", "=", company.id)], limit=1
)
product = env.ref("isp_dunning.demo_product_internet")
# 200 more customers, each with an invoice overdue for two months
# (no payment term: due on the invoice date, set as such).
partners = env["res.partner"].create(
    [{"name": f"Kunde {n:03d}", "email": f"kunde{n}@example.com"} for n in range(200)]
)
moves = env["account.move"].create([
    {
        "move_type": "out_invoice",
        "partner_id": partner.id,
        "journal_id": journal.id,
        "invoice_date": datetime.date.today() - datetime.timedelta(days=60),
        "invoice_payment_term_id": False,
        "invoice_date_due": datetime.date.today() - datetime.timedelta(days=60),
        "invoice_line_ids": [Command.create({"product_id": product.id, "price_unit": 39.99})],
    }
    for partner in partners
])
moves.action_post()
for table in %(tables)r:
    env.cr.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
env.cr.commit()
print("NOTICES", env["isp.dunning.notice"].search_count([]))
"""

RUN = """
company = env.ref("base.main_company")
Run = env["isp.dunning.run"].with_company(company).with_context(dunning_autocommit=True)
run = Run.run_dunning()
env.cr.commit()
print("RUN", run.state, run.notice_count, run.error_count)
print("NOTICES", env["isp.dunning.notice"].search_count([]))
print("LINES", env["isp.dunning.notice.line"].search_count([]))
"""

STATISTICS = """
SELECT s.relname, s.last_analyze IS NOT NULL, c.reltuples
  FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
 WHERE s.relname IN %s
"""


@pytest.fixture(scope="module")
def committed_run(odoo_db):
    odoo_db.install()
    before_setup = odoo_db.shell(SETUP % {"tables": TABLES})
    before = {name: (analyzed, tuples) for name, analyzed, tuples in statistics(odoo_db)}
    printed = odoo_db.shell(RUN)
    after = {name: (analyzed, tuples) for name, analyzed, tuples in statistics(odoo_db)}
    print("statistics before:", before, "after:", after, "printed:", printed)
    return before_setup, before, printed, after


def statistics(odoo):
    return odoo.query(STATISTICS.replace("%s", repr(TABLES)))


def test_the_run_books_enough_to_need_fresh_statistics(committed_run):
    before_setup, before, printed, _after = committed_run
    assert int(before_setup["NOTICES"][1]) == 0
    assert (printed["RUN"][1], printed["RUN"][3]) == ("done", "0")
    assert int(printed["NOTICES"][1]) >= 200, "the tables double several times"
    # Nothing had analyzed the empty tables before the run.
    assert before == dict.fromkeys(TABLES, (False, -1.0))


def test_the_run_analyzed_the_tables_it_filled(committed_run):
    _before_setup, _before, printed, after = committed_run
    # Refreshed whenever a table had doubled, as PostgreSQL counted it (its
    # counts lag up to a second behind): the statistics know a good part of
    # each table, not the nothing they knew before.
    for table, count in (
        ("isp_dunning_notice", int(printed["NOTICES"][1])),
        ("isp_dunning_notice_line", int(printed["LINES"][1])),
    ):
        analyzed, tuples = after[table]
        assert analyzed, table
        assert count / 4 <= tuples <= count, (table, tuples, count)
