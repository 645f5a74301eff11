#!/usr/bin/env bash
# Runs every test: lint, the pure core under pytest, and the Odoo tests in a
# fresh throwaway database (install, tests, upgrade twice, uninstall).
# Exits non-zero on any failure.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

find_odoo
ensure_postgres

for tool in ruff pylint pytest; do
    if ! "$PYTHON" -m "$tool" --version >/dev/null 2>&1; then
        say "Installing the test tools (requirements-test.txt)"
        "$PYTHON" -m pip install -q -r requirements-test.txt
        break
    fi
done

status=0
summary=()

say "Lint: ruff"
if "$PYTHON" -m ruff check . && "$PYTHON" -m ruff format --check --quiet isp_dunning tools conftest.py; then
    summary+=("ruff: ok")
else
    summary+=("ruff: FAILED"); status=1
fi

say "Lint: pylint-odoo"
if "$PYTHON" -m pylint --rcfile=.pylintrc isp_dunning; then
    summary+=("pylint-odoo: ok")
else
    summary+=("pylint-odoo: FAILED"); status=1
fi

say "Pure core: pytest"
set +e
"$PYTHON" -m pytest -q -p no:cacheprovider --import-mode=importlib isp_dunning/domain/tests
rc=$?
set -e
if [ $rc -eq 0 ]; then summary+=("pytest: ok"); else summary+=("pytest: FAILED ($rc)"); status=1; fi

DB="isp_dunning_test_$(date +%Y%m%d%H%M%S)_$$"
LOG="$ROOT/.test-logs/$DB.log"
mkdir -p "$ROOT/.test-logs"
cleanup() { drop_db_if_ours "$DB" 2>/dev/null || true; }
trap cleanup EXIT
create_db "$DB"

odoo_step() {
    # odoo_step NAME ARGS... : runs Odoo, fails on a non-zero exit or any ERROR line.
    local name="$1"; shift
    say "Odoo: $name"
    set +e
    odoo_run "$DB" --stop-after-init --no-http --log-level=info "$@" >>"$LOG" 2>&1
    local rc=$?
    set -e
    local errors
    errors="$(grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$LOG" | grep -v 'already exists, skip' || true)"
    : >"$LOG.step"
    if [ $rc -ne 0 ] || [ -n "$errors" ]; then
        echo "$errors" | tail -n 40
        summary+=("odoo $name: FAILED (exit $rc, log $LOG)"); status=1
        return 1
    fi
    summary+=("odoo $name: ok")
}

TAGS="${TEST_TAGS:-/isp_dunning}"
odoo_step "install and test" -i isp_dunning --test-enable --test-tags "$TAGS" || true
grep -E "odoo.tests.result: |tests when loading database|of [0-9]+ tests" "$LOG" | tail -n 3 || true
TESTS_RUN="$(grep -Eo 'isp_dunning: [0-9]+ tests' "$LOG" | awk '{s+=$2} END {print s+0}')"
odoo_step "upgrade 1" -u isp_dunning || true
odoo_step "upgrade 2" -u isp_dunning || true
say "Odoo: uninstall"
if odoo_shell "$DB" >>"$LOG" 2>&1 <<'PY'
module = env["ir.module.module"].search([("name", "=", "isp_dunning")])
module.button_immediate_uninstall()
env.cr.commit()
assert "isp.dunning.level" not in env.registry or module.state == "uninstalled", module.state
PY
then
    state="$(psql -d "$DB" -tAc "SELECT state FROM ir_module_module WHERE name='isp_dunning'")"
    if [ "$state" = "uninstalled" ]; then summary+=("odoo uninstall: ok"); else summary+=("odoo uninstall: FAILED ($state)"); status=1; fi
else
    summary+=("odoo uninstall: FAILED"); status=1
fi

echo
say "Summary"
printf '  %s\n' "${summary[@]}"
failed=0
for line in "${summary[@]}"; do case "$line" in *FAILED*) failed=$((failed + 1));; esac; done
passed=$(( ${#summary[@]} - failed ))
echo "Odoo tests run: ${TESTS_RUN:-0}"
echo "$passed passed, $failed failed"
exit $status
