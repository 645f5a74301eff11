#!/usr/bin/env bash
# The dunning benchmark: bash bench/bench.sh [options] [sizes...]
#   sizes default to 1000 10000 100000; options: see run_bench.py --help
#   e.g. smoke check: bash bench/bench.sh 1000
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../tools/lib.sh"
ensure_odoo
ensure_wkhtmltopdf
ensure_postgres

# OCA's account_credit_control 18.0, the peer: installed with --no-deps into a
# folder of its own, put on the addons path of the peer databases only.
OCA_DIR="${BENCH_OCA_DIR:-/tmp/isp_bench_oca}"
OCA_SPEC="${BENCH_OCA_SPEC:-odoo-addon-account-credit-control==18.0.*}"
if [ ! -f "$OCA_DIR/odoo/addons/account_credit_control/__manifest__.py" ]; then
    say "Installing the peer $OCA_SPEC into $OCA_DIR"
    "$PYTHON" -m pip install -q --no-deps --target "$OCA_DIR" "$OCA_SPEC"
fi
# Its manifest must only need what Odoo itself ships (base, account, mail).
"$PYTHON" - "$OCA_DIR/odoo/addons/account_credit_control/__manifest__.py" <<'PY'
import ast, sys
depends = ast.literal_eval(open(sys.argv[1]).read())["depends"]
missing = sorted(set(depends) - {"base", "account", "mail"})
if missing:
    sys.exit(f"account_credit_control needs {missing}: install them into the OCA folder too")
PY

export BENCH_ODOO_CMD="${ODOO_CMD[*]}"
export BENCH_ODOO_ADDONS="$(addons_path)"
export BENCH_OCA_ADDONS="$OCA_DIR/odoo/addons"
export BENCH_DB_MARK="$DB_MARK"
exec "$PYTHON" "$HERE/run_bench.py" "$@"
