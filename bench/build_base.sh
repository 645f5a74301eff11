#!/usr/bin/env bash
# Builds the empty German accounting database that every seeded book starts
# from: base (no demo data, German loaded), the company made a German ISP,
# account + l10n_de with SKR03. Usage: bash bench/build_base.sh DBNAME
# The caller (run_bench.py) has checked that DBNAME does not exist yet.
set -euo pipefail
source "$(dirname "$0")/../tools/lib.sh"
ensure_odoo
ensure_postgres
DB="$1"
LOG="${BENCH_LOG:-/dev/null}"
create_db "$DB"
say "[$DB] installing base (no demo data) with German"
odoo_run "$DB" -i base --without-demo=all --load-language=de_DE --stop-after-init --no-http >>"$LOG" 2>&1
odoo_shell "$DB" >>"$LOG" 2>&1 <"$ROOT/tools/german_company.py"
say "[$DB] installing account and l10n_de (SKR03)"
odoo_run "$DB" -i account,l10n_de --without-demo=all --stop-after-init --no-http >>"$LOG" 2>&1
odoo_shell "$DB" >>"$LOG" 2>&1 <<'PY'
company = env.ref("base.main_company")
if company.chart_template != "de_skr03":
    env["account.chart.template"].try_loading("de_skr03", company, install_demo=False)
env.cr.commit()
PY
say "[$DB] done"
