"""Per-document cost of booking fee documents, each way of
``fee_documents.book_documents``: the INSERTs below the ORM, the ORM
shortcuts (create + post_batch) and Odoo's plain create + action_post.

Run in an Odoo shell of a database with isp_dunning installed; everything is
rolled back:

    source tools/lib.sh; ensure_odoo; ensure_postgres
    odoo_shell DB < bench/fee_documents_cost.py
"""

import time
from datetime import date
from unittest.mock import patch

from odoo.addons.isp_dunning.services import fee_documents, fee_documents_sql

env = globals()["env"]  # the Odoo shell's
N = 500
company = env.company
journal = company._dunning_journal()
accounts = company._dunning_charge_accounts()
product = company.dunning_product_id
partners = env["res.partner"].create([{"name": f"Fee cost {i}"} for i in range(2 * N + 140)])
env.flush_all()


def vals_list(customers):
    return [
        {
            "move_type": "out_invoice",
            "company_id": company.id,
            "journal_id": journal.id,
            "partner_id": partner.id,
            "currency_id": company.currency_id.id,
            "invoice_date": date.today(),
            "date": date.today(),
            "invoice_payment_term_id": False,
            "invoice_date_due": date.today(),
            "invoice_origin": "MA/00001",
            "ref": "MA/00001",
            "invoice_line_ids": [
                fee_documents._fee_line("Dunning fee", 2.5, product, accounts["fee"]),
                fee_documents._fee_line("Lump sum", 40.0, product, accounts["lump_sum"]),
                fee_documents._fee_line("Default interest", 3.37, product, accounts["interest"]),
            ],
        }
        for partner in customers
    ]


def measure(label, customers, way):
    vl = vals_list(customers)
    env.invalidate_all()
    queries = env.cr.sql_log_count
    wall, cpu = time.perf_counter(), time.process_time()
    if way == "plain":
        moves = fee_documents.book_documents(env, vl, shortcuts=False)
    elif way == "orm":
        with patch.object(fee_documents_sql, "batch_covered", lambda env: False):
            moves = fee_documents.book_documents(env, vl)
    else:
        moves = fee_documents.book_documents(env, vl)
    env.flush_all()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert set(moves.mapped("state")) == {"posted"}
    print(
        f"{label}: {len(moves)} documents, {wall * 1000 / len(moves):.2f} ms wall and "
        f"{cpu * 1000 / len(moves):.2f} ms CPU per document, "
        f"{env.cr.sql_log_count - queries} queries"
    )


measure("warm-up", partners[:20], "orm")
measure("warm-up", partners[20:40], "sql")
measure("ORM shortcuts (create + post_batch)", partners[40 : 40 + N], "orm")
measure("INSERTs below the ORM", partners[40 + N : 40 + 2 * N], "sql")
measure("plain create + action_post", partners[40 + 2 * N :], "plain")
env.cr.rollback()
