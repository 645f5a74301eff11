#!/usr/bin/env bash
# Builds the demo database (German company, SKR03, isp_dunning with demo
# data), runs the dunning, delivers its mails to a local mail catcher (kept as
# .eml files) and serves Odoo on http://localhost:8069.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

DB="${DEMO_DB:-isp_dunning_demo}"
PORT="${HTTP_PORT:-8069}"
MAIL_DIR="${DEMO_MAIL_DIR:-$ROOT/.demo-mail}"
free_port() { "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

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

say "Installing isp_dunning with its demo data, its Dunning dashboard (Dashboards > Finance) and Odoo's demo payment provider for the pay links"
start=$(wc -l <"$LOG")
odoo_run "$DB" -i isp_dunning,isp_dunning_spreadsheet_dashboard,payment_demo --stop-after-init --no-http >>"$LOG" 2>&1
if tail -n +"$((start + 1))" "$LOG" | grep -qE ' (ERROR|CRITICAL) |demo data failed to install'; then
    tail -n +"$((start + 1))" "$LOG" | grep -E -A8 ' (ERROR|CRITICAL) |demo data failed' | head -n 40
    die "isp_dunning or its demo data did not install; see $LOG"
fi

say "Starting the mail catcher: every mail is kept as an .eml file in $MAIL_DIR"
rm -rf "$MAIL_DIR"
SMTP_PORT="${DEMO_SMTP_PORT:-$(free_port)}"
"$PYTHON" "$ROOT/tools/mail_catcher.py" --port "$SMTP_PORT" --folder "$MAIL_DIR" >>"$LOG" 2>&1 &
CATCHER=$!
SERVER=""
trap 'kill $SERVER $CATCHER 2>/dev/null' EXIT

start_server() {
    # start_server ARGS... : Odoo on $PORT in the background, waits until it answers.
    "${ODOO_CMD[@]}" --addons-path="$(addons_path)" -d "$DB" --db-filter="^$DB\$" \
        --http-port="$PORT" --log-level=warn "$@" >>"$LOG" 2>&1 &
    SERVER=$!
    for _ in $(seq 1 120); do
        curl -s -o /dev/null "http://127.0.0.1:$PORT/web/login" && return
        kill -0 "$SERVER" 2>/dev/null || die "Odoo did not start; see $LOG"
        sleep 1
    done
    die "Odoo did not answer on port $PORT within two minutes; see $LOG"
}

# The server must run while the dunning renders letters: wkhtmltopdf loads
# the report styles from it. Its scheduled actions wait until the mails are
# out, so that the queue is worked by one process only.
say "Starting Odoo on port $PORT for the dunning run"
start_server --max-cron-threads=0

say "Running the dunning: weekly runs over the last ten weeks (one on a Saturday and the Monday after it), then today"
odoo_shell "$DB" 2>>"$LOG" <<PY
from datetime import timedelta
from odoo import fields
env["ir.config_parameter"].set_param("report.url", "http://127.0.0.1:$PORT")
# Pay links in the mails point to this server; the demo provider takes payments.
env["ir.config_parameter"].set_param("web.base.url", "http://localhost:$PORT")
env["ir.config_parameter"].set_param("web.base.url.freeze", "True")
# Letters after DIN 5008, like Odoo's German invoices (l10n_din5008).
env.ref("base.main_company").write({
    "external_report_layout_id": env.ref("l10n_din5008.external_layout_din5008").id,
    "paperformat_id": env.ref("l10n_din5008.paperformat_euro_din").id,
})
env.ref("payment.payment_provider_demo").write({"state": "test"})
env["ir.mail_server"].search([]).write({"active": False})
env["ir.mail_server"].create({
    "name": "Demo mail catcher (127.0.0.1:$SMTP_PORT)",
    "smtp_host": "127.0.0.1", "smtp_port": $SMTP_PORT, "smtp_encryption": "none",
})
for partner in env["res.partner"].search([("ref", "like", "K-1")]):
    partner.lang = "de_DE"
env.cr.commit()
today = fields.Date.context_today(env["isp.dunning.run"])
company = env.ref("base.main_company")
Run = env["isp.dunning.run"].with_company(company).with_context(dunning_autocommit=True)
Notice = env["isp.dunning.notice"]
history = []
for weeks in range(10, 0, -1):
    day = today - timedelta(weeks=weeks)
    # The history runs on working days (Monday to Friday, the company's
    # calendar): a portal block starts only on a working day.
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    if weeks == 4:
        # Four weeks ago the daily run of the Saturday gave the final notices
        # (a blocking level; Beispiel Netzwerke GmbH's block is due): the
        # block waits for the next working day, and the run of that Monday
        # blocks. Then the weekly history goes on.
        saturday = day + timedelta(days=5 - day.weekday())
        history += [saturday, saturday + timedelta(days=2)]
    else:
        history.append(day)
    if weeks == 6:
        promise_day = day
for day in sorted(set(history)):
    Run.run_dunning(date=day)
    # Deliver the day's reminders now (the mail queue's own job runs hourly).
    env["mail.mail"].process_email_queue()
    # In this history they reached the customers on their own day: the
    # consumer guard (§ 61 TKG) counts an announcement from its delivery.
    Notice.search(
        [("company_id", "=", company.id), ("date", "=", day), ("state", "not in", ("error", "cancelled"))]
    ).write({"delivered_date": day})
    if day == promise_day:
        # Two payment promises: one kept, one broken (instalments).
        env["isp.dunning.demo"]._create_demo_promises(day)
    env.cr.commit()
# A transfer quoting the number of another customer's notice arrives on the
# bank account. Before each run the dunning's cron allocates such payments to
# the notice's open items in the order of § 367 BGB (costs, interest,
# principal); the demo takes the same step.
quoted = Notice.search(
    [("company_id", "=", company.id), ("partner_id", "=", env.ref("isp_dunning.demo_partner_beispiel").id),
     ("state", "not in", ("draft", "cancelled"))],
    order="date desc, id desc", limit=1,
)
transfer = quoted and env["isp.dunning.demo"]._create_demo_transfer(quoted)
if transfer:
    env["isp.dunning.payment.match"].sudo()._match_payments(company)
env.cr.commit()
run = Run.run_dunning(date=today)
env.cr.commit()
env["mail.mail"].process_email_queue()
env.cr.commit()
# A second company reviews its dunning first: its run leaves a proposal.
south = env["isp.dunning.demo"]._create_review_company()
env.cr.commit()
env["isp.dunning.run"].with_company(south).with_context(dunning_autocommit=True).run_dunning(date=today)
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
if transfer:
    from odoo.tools import html2plaintext
    print(f"Bank statement line '{transfer.payment_ref}' over {transfer.amount:.2f} EUR, without partner:")
    allocated = quoted.message_ids.filtered(lambda m: "367" in (m.body or ""))[:1]
    print("  " + (html2plaintext(allocated.body) if allocated else "not allocated (see the log)"))
    left = quoted._dunning_open_amount()
    print(f"  {quoted.name} of {quoted.partner_id.name}: {'paid' if not left else f'{left} EUR still open'}, "
          f"statement line reconciled: {transfer.is_reconciled}")
proposal = Notice.search([("company_id", "=", south.id), ("state", "=", "proposed")])
print(f"Proposal (Mahnvorschlag) of {south.name} to review: {len(proposal)} notices "
      f"({', '.join(proposal.partner_id.mapped('name'))}), menu Kunden > Mahnvorschlag")
for promise in env["isp.dunning.promise"].search([("company_id", "=", company.id)], order="id"):
    outcome = {"kept": f"kept (found on {promise.state_date})",
               "broken": f"broken (instalment of {promise.missed_date} missed, notice {promise.notice_id.name or 'to come'})"}
    print(f"Payment promise of {promise.partner_id.name}, {promise.date}, over {promise.amount_promised:.2f} EUR: "
          f"{outcome.get(promise.state, promise.state)}")
blocked = env["res.partner"].search([("dunning_portal_blocked", "=", True)])
print("  portal blocked:", ", ".join(blocked.mapped("name")) or "nobody")
# Blocks only on working days: a block due on a weekend waited for Monday.
for notice in Notice.search(
    [("company_id", "=", company.id), ("portal_block_workday", "!=", False)], order="date, id"
):
    workday = notice.portal_block_workday
    partner = notice.partner_id
    if notice.portal_block:
        outcome = f"blocked on {workday:%A} {workday} instead of {notice.date:%A} {notice.date}"
    elif partner.dunning_portal_blocked:
        outcome = (f"block due on {notice.date:%A} {notice.date} moved to {workday:%A} {workday}; "
                   f"blocked later by {partner.dunning_portal_block_notice_id.name}")
    else:
        outcome = f"block due on {notice.date:%A} {notice.date} waits for {workday:%A} {workday}"
    print(f"  {notice.partner_id.name} ({notice.name}, {notice.level_id.name}): {outcome}")
for partner in blocked:
    notice = env["isp.dunning.notice"].search(
        [("partner_id", "=", partner.id), ("state", "in", ("sent", "printed"))], order="id desc", limit=1
    )
    if notice:
        print(f"  pay link of {partner.name} ({notice.name}): {notice._dunning_pay_url(create_token=False)}")
PY

kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null || true
mails=$(find "$MAIL_DIR" -name '*.eml' | wc -l)
say "$mails mails delivered to the mail catcher, kept in $MAIL_DIR:"
find "$MAIL_DIR" -name '*.eml' | sort | head -n 8 | sed 's/^/    /'
[ "$mails" -gt 8 ] && echo "    ..."

say "Serving the demo on port $PORT"
start_server

cat <<MSG

Odoo serves the demo on http://localhost:$PORT
  database: $DB
  login:    admin
  password: admin
  portal:   max.mustermann@example.com / portal
  mails:    $MAIL_DIR (the catcher on 127.0.0.1:$SMTP_PORT keeps receiving)
Stop it with Ctrl+C.
MSG
wait $SERVER
