"""Turn a seeded book into the benchmark scenario of one product.

    python3 bench/scenario.py --db DB --product isp|oca [--scenario steady|first]

Both products get the same situation, derived deterministically from the
book (invoice names and due dates) and its as-of date:

* disputes: 2 % of the open overdue invoices are disputed (isp_dunning:
  dunning_blocked_until = as-of + 30 days, reason 'dispute'; OCA: the
  invoice is put on the 'No follow' policy, OCA's way to exclude it);
* history: the dunning has run every week (on the as-of weekday) since the
  first invoice. Each open invoice has reached the levels such weekly runs
  gave it: reminder at the first run >= due + 7, then one level per run >=
  previous + 14 (isp ladder 7/14/14/14; OCA levels 7/21/35/49 days after
  due, which fall on the same runs). isp_dunning: the invoice's dunning
  fields (level, first/last/next date, interest charged until the last
  notice from level 2 on, business lump sum from level 3 on) and the
  customers' level; OCA: one sent credit control line at the invoice's
  current level. Notices, fee documents and mails of the history are not
  recreated: the benchmarked run is the next weekly run, on the as-of date.
  Scenario 'first' leaves out the history: the first run on the book, every
  overdue invoice gets its first reminder (most notices, no fees).

OCA is configured as the equivalent of the isp ladder: policy 'ISP
Mahnwesen' on the receivable account, four levels (net days 7, 21, 35, 49),
email channel, invoice details in the mail; the company's policy. Two
email templates are created: without the PDF summary (default) and with it
(the OCA template's credit_control_summary report), chosen by measure.py.
"""

import argparse
import datetime as dt
import json
import random
import sys
from collections import defaultdict

from odoo_env import environment

DISPUTE_SHARE = 0.02
OCA_DELAYS = (7, 21, 35, 49)


def book_info(env):
    return json.loads(env["ir.config_parameter"].get_param("isp_bench.book"))


def history_dates(due, as_of, levels=4):
    """Dates of the weekly runs that escalated an invoice due on ``due``,
    strictly before ``as_of``."""
    dates = []
    earliest = due + dt.timedelta(days=7)
    while len(dates) < levels:
        days = (as_of - earliest).days
        if days < 7:
            break
        run = as_of - dt.timedelta(days=7 * (days // 7))
        dates.append(run)
        earliest = run + dt.timedelta(days=14)
    return dates


def open_invoices(env, as_of):
    """Open or partly paid customer invoices, due before as-of, by name."""
    env.cr.execute(
        """
        SELECT move.id, move.name, line.id, line.date_maturity, move.commercial_partner_id,
               partner.is_company
          FROM account_move move
          JOIN account_move_line line ON line.move_id = move.id
          JOIN account_account account ON account.id = line.account_id
          JOIN res_partner partner ON partner.id = move.commercial_partner_id
         WHERE move.move_type = 'out_invoice' AND move.state = 'posted'
           AND account.account_type = 'asset_receivable'
           AND NOT line.reconciled AND line.amount_residual > 0
           AND line.date_maturity < %s
         ORDER BY move.name
        """,
        (as_of,),
    )
    return env.cr.fetchall()


def plan(env, scenario="steady"):
    info = book_info(env)
    as_of = dt.date.fromisoformat(info["as_of"])
    rng = random.Random(f"{info['seed']}:scenario")
    rows = []
    for move_id, name, line_id, due, partner_id, is_company in open_invoices(env, as_of):
        disputed = rng.random() < DISPUTE_SHARE
        rows.append(
            {
                "move_id": move_id,
                "name": name,
                "line_id": line_id,
                "due": due,
                "partner_id": partner_id,
                "business": bool(is_company),
                "disputed": disputed,
                "history": history_dates(due, as_of) if scenario == "steady" else [],
            }
        )
    return info, as_of, rows


def apply_isp(env, scenario):
    info, as_of, rows = plan(env, scenario)
    levels = env["isp.dunning.level"]._get_ladder(env.ref("base.main_company"))
    assert len(levels) == 4, "expected the default ladder of four levels"
    groups = defaultdict(list)
    partner_level = {}
    for row in rows:
        vals = {}
        if row["disputed"]:
            vals["dunning_blocked_until"] = as_of + dt.timedelta(days=30)
            vals["dunning_block_reason"] = "dispute"
        history = row["history"]
        if history:
            level = levels[len(history) - 1]
            vals["dunning_level_id"] = level.id
            vals["dunning_first_date"] = history[0]
            vals["dunning_last_date"] = history[-1]
            vals["dunning_next_date"] = (
                history[-1] + dt.timedelta(days=14) if len(history) < 4 else False
            )
            if len(history) >= 2:
                vals["dunning_interest_until"] = history[-1]
            if len(history) >= 3 and row["business"]:
                vals["dunning_lump_sum_charged"] = True
            previous = partner_level.get(row["partner_id"], -1)
            partner_level[row["partner_id"]] = max(previous, len(history) - 1)
        if vals:
            groups[tuple(sorted(vals.items()))].append(row["move_id"])
    Move = env["account.move"].with_context(tracking_disable=True)
    for vals, ids in groups.items():
        Move.browse(ids).write(dict(vals))
    by_level = defaultdict(list)
    for partner_id, index in partner_level.items():
        by_level[levels[index].id].append(partner_id)
    for level_id, partner_ids in by_level.items():
        env["res.partner"].browse(partner_ids).with_context(tracking_disable=True).write(
            {"dunning_level_id": level_id}
        )
    return summary(rows)


def configure_oca(env):
    company = env.ref("base.main_company")
    receivable = env["account.account"].search(
        [("account_type", "=", "asset_receivable"), ("company_ids", "in", company.ids)]
    )
    base = env.ref("account_credit_control.email_template_credit_control_base")
    with_pdf = base.copy({"name": "ISP Bench Mahnung (PDF)"})
    with_pdf.report_template_ids = base.report_template_ids
    without_pdf = base.copy({"name": "ISP Bench Mahnung", "report_template_ids": [(5, 0, 0)]})
    names = ("Zahlungserinnerung", "1. Mahnung", "2. Mahnung", "Letzte Mahnung")
    policy = env["credit.control.policy"].create(
        {
            "name": "ISP Mahnwesen",
            "account_ids": [(6, 0, receivable.ids)],
            "level_ids": [
                (
                    0,
                    0,
                    {
                        "name": name,
                        "level": number,
                        "computation_mode": "net_days",
                        "delay_days": delay,
                        "email_template_id": without_pdf.id,
                        "channel": "email",
                        "custom_text": f"{name}: bitte begleichen Sie die offenen Rechnungen.",
                        "custom_mail_text": f"<p>{name}: bitte begleichen Sie die offenen "
                        "Rechnungen.</p>",
                        "mail_show_invoice_detail": True,
                    },
                )
                for number, (name, delay) in enumerate(zip(names, OCA_DELAYS, strict=True), 1)
            ],
        }
    )
    company.credit_policy_id = policy
    env["ir.config_parameter"].set_param(
        "isp_bench.oca",
        json.dumps({"policy": policy.id, "template": without_pdf.id, "template_pdf": with_pdf.id}),
    )
    return policy


def apply_oca(env, scenario):
    info, as_of, rows = plan(env, scenario)
    policy = configure_oca(env)
    levels = policy.level_ids.sorted("level")
    no_follow = env.ref("account_credit_control.credit_control_no_follow")
    disputed = [row["move_id"] for row in rows if row["disputed"]]
    env["account.move"].browse(disputed).with_context(tracking_disable=True).write(
        {"credit_policy_id": no_follow.id}
    )
    lines = env["account.move.line"].browse([row["line_id"] for row in rows if row["history"]])
    residual = {line.id: line.amount_residual for line in lines}
    vals = []
    for row in rows:
        history = row["history"]
        if not history:
            continue
        vals.append(
            {
                "date": history[-1],
                "date_due": row["due"],
                "date_sent": history[-1],
                "state": "sent",
                "channel": "email",
                "invoice_id": row["move_id"],
                "partner_id": row["partner_id"],
                "amount_due": residual[row["line_id"]],
                "balance_due": residual[row["line_id"]],
                "move_line_id": row["line_id"],
                "policy_level_id": levels[len(history) - 1].id,
            }
        )
    Line = env["credit.control.line"].with_context(
        tracking_disable=True, mail_create_nolog=True, mail_create_nosubscribe=True
    )
    for start in range(0, len(vals), 5000):
        Line.create(vals[start : start + 5000])
    return summary(rows)


def summary(rows):
    levels = defaultdict(int)
    for row in rows:
        levels[len(row["history"])] += 1
    return {
        "overdue_open_invoices": len(rows),
        "disputed": sum(row["disputed"] for row in rows),
        "by_history_level": dict(sorted(levels.items())),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--product", choices=("isp", "oca"), required=True)
    parser.add_argument("--scenario", choices=("steady", "first"), default="steady")
    args = parser.parse_args(argv)
    with environment(args.db) as env:
        apply = apply_isp if args.product == "isp" else apply_oca
        result = apply(env, args.scenario)
        result["scenario"] = args.scenario
        env["ir.config_parameter"].set_param("isp_bench.scenario", json.dumps(result))
    print(f"scenario {args.product}: {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
