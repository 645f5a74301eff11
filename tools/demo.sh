#!/usr/bin/env bash
# Builds the demo database (German company, SKR03, isp_dunning with demo
# data), runs the dunning and serves Odoo on http://localhost:8069.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

DB="${DEMO_DB:-isp_dunning_demo}"
PORT="${HTTP_PORT:-8069}"

ensure_odoo
ensure_wkhtmltopdf
ensure_postgres

drop_db_if_ours "$DB"
create_db "$DB"
LOG="$ROOT/.test-logs/demo.log"
mkdir -p "$ROOT/.test-logs"
: >"$LOG"

say "Installing base with demo data and German"
odoo_run "$DB" -i base --load-language=de_DE --stop-after-init --no-http >>"$LOG" 2>&1

say "Making the main company a German ISP"
odoo_shell "$DB" >>"$LOG" 2>&1 <"$ROOT/tools/german_company.py"

say "Installing accounting with the German chart of accounts (SKR03)"
odoo_run "$DB" -i account,l10n_de --stop-after-init --no-http >>"$LOG" 2>&1
odoo_shell "$DB" >>"$LOG" 2>&1 <<'PY'
company = env.ref("base.main_company")
if company.chart_template != "de_skr03":
    env["account.chart.template"].try_loading("de_skr03", company, install_demo=False)
env.cr.commit()
PY

say "Installing isp_dunning with its demo data"
start=$(wc -l <"$LOG")
odoo_run "$DB" -i isp_dunning --stop-after-init --no-http >>"$LOG" 2>&1
if tail -n +"$((start + 1))" "$LOG" | grep -qE ' (ERROR|CRITICAL) |demo data failed to install'; then
    tail -n +"$((start + 1))" "$LOG" | grep -E -A8 ' (ERROR|CRITICAL) |demo data failed' | head -n 40
    die "isp_dunning or its demo data did not install; see $LOG"
fi

say "Starting Odoo on port $PORT"
# The server must run while the dunning renders letters: wkhtmltopdf loads
# the report styles from it.
"${ODOO_CMD[@]}" --addons-path="$(addons_path)" -d "$DB" --db-filter="^$DB\$" \
    --http-port="$PORT" --log-level=warn >>"$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null' EXIT
for _ in $(seq 1 120); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/web/login" && break
    sleep 1
done

say "Running the dunning: weekly runs over the last ten weeks, then today"
odoo_shell "$DB" 2>>"$LOG" <<PY
from datetime import timedelta
from odoo import fields
env["ir.config_parameter"].set_param("report.url", "http://127.0.0.1:$PORT")
for partner in env["res.partner"].search([("ref", "like", "K-1")]):
    partner.lang = "de_DE"
env.cr.commit()
today = fields.Date.context_today(env["isp.dunning.run"])
company = env.ref("base.main_company")
Run = env["isp.dunning.run"].with_company(company).with_context(dunning_autocommit=True)
for weeks in range(10, 0, -1):
    day = today - timedelta(weeks=weeks)
    Run.run_dunning(date=day)
    # The history's notices reached the customers on their day (the demo
    # has no mail server): the consumer guard counts announcements from it.
    env["isp.dunning.notice"].search(
        [("company_id", "=", company.id), ("date", "=", day), ("delivered_date", "=", False)]
    ).write({"delivered_date": day})
    env.cr.commit()
run = Run.run_dunning(date=today)
env.cr.commit()
notices = env["isp.dunning.notice"].search([("company_id", "=", company.id)])
print(f"Dunning run of {today}: {run.notice_count} notices, {run.invoice_count} invoices escalated, {run.error_count} errors")
print(f"All notices in the demo: {len(notices)}")
for level in env["isp.dunning.level"].search([("company_id", "=", company.id)]):
    print(f"  {level.name}: {level.notice_count} notices")
states = {}
for notice in notices:
    states[notice.state] = states.get(notice.state, 0) + 1
print("  by state:", ", ".join(f"{k} {v}" for k, v in sorted(states.items())))
blocked = env["res.partner"].search([("dunning_portal_blocked", "=", True)])
print("  portal blocked:", ", ".join(blocked.mapped("name")) or "nobody")
PY

cat <<MSG

Odoo serves the demo on http://localhost:$PORT
  database: $DB
  login:    admin
  password: admin
  portal:   max.mustermann@example.com / portal
Stop it with Ctrl+C.
MSG
wait $SERVER
