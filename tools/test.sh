#!/usr/bin/env bash
# Runs every test: lint, the pure core under pytest, and the Odoo tests in a
# fresh throwaway database (install, tests, upgrade twice, uninstall).
# Exits non-zero on any failure.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_odoo
ensure_wkhtmltopdf
ensure_test_programs
ensure_postgres

status=0
summary=()

say "Lint: ruff"
# Only what the repository tracks: a work in progress beside it is not linted.
mapfile -t PY_FILES < <(git ls-files '*.py')
if "$PYTHON" -m ruff check "${PY_FILES[@]}" && "$PYTHON" -m ruff format --check --quiet "${PY_FILES[@]}"; then
    summary+=("ruff: ok")
else
    summary+=("ruff: FAILED"); status=1
fi

# The addons of this repository: isp_dunning and its bridge to Odoo's
# spreadsheet dashboards (installed automatically beside spreadsheet_dashboard).
ADDONS=(isp_dunning isp_dunning_spreadsheet_dashboard)
ADDONS_CSV="$(IFS=,; echo "${ADDONS[*]}")"

say "Lint: pylint-odoo"
if "$PYTHON" -m pylint --rcfile=.pylintrc "${ADDONS[@]}"; then
    summary+=("pylint-odoo: ok")
else
    summary+=("pylint-odoo: FAILED"); status=1
fi

say "Packaging: pip wheel . and pip wheel isp_dunning_spreadsheet_dashboard (whool)"
WHEEL_DIR="$(mktemp -d)"
if "$PYTHON" -m pip wheel --quiet --no-deps -w "$WHEEL_DIR" . >/dev/null 2>&1 \
    && ls "$WHEEL_DIR"/odoo_addon_isp_dunning-18.0.*.whl >/dev/null 2>&1; then
    summary+=("wheel: ok ($(basename "$WHEEL_DIR"/odoo_addon_isp_dunning-*.whl))")
else
    summary+=("wheel: FAILED"); status=1
fi
if "$PYTHON" -m pip wheel --quiet --no-deps -w "$WHEEL_DIR" ./isp_dunning_spreadsheet_dashboard \
        >/dev/null 2>&1 \
    && ls "$WHEEL_DIR"/odoo_addon_isp_dunning_spreadsheet_dashboard-18.0.*.whl >/dev/null 2>&1; then
    summary+=("wheel: ok ($(basename "$WHEEL_DIR"/odoo_addon_isp_dunning_spreadsheet_dashboard-*.whl))")
else
    summary+=("wheel isp_dunning_spreadsheet_dashboard: FAILED"); status=1
fi
rm -rf "$WHEEL_DIR"

say "Pure core: pytest"
mkdir -p "$ROOT/.test-logs"
set +e
"$PYTHON" -m pytest -q -p no:cacheprovider -p no:benchmark --import-mode=importlib \
    isp_dunning/domain/tests 2>&1 | tee "$ROOT/.test-logs/pytest.log"
rc=${PIPESTATUS[0]}
set -e
PY_PASSED="$(grep -Eo '[0-9]+ passed' "$ROOT/.test-logs/pytest.log" | tail -n 1 | grep -Eo '[0-9]+' || echo 0)"
PY_FAILED="$(tail -n 1 "$ROOT/.test-logs/pytest.log" | grep -Eo '[0-9]+ (failed|errors?)' | awk '{s+=$1} END {print s+0}' || true)"
if [ $rc -eq 0 ] && [ "$PY_PASSED" -gt 0 ]; then
    summary+=("pytest: ok ($PY_PASSED passed)")
else
    summary+=("pytest: FAILED (exit $rc)"); status=1
fi

say "End to end: real SMTP delivery and PDF letters"
set +e
ISP_DUNNING_E2E=1 "$PYTHON" -m pytest -q -p no:cacheprovider -p no:benchmark \
    --import-mode=importlib tests_e2e 2>&1 | tee "$ROOT/.test-logs/e2e.log"
rc=${PIPESTATUS[0]}
set -e
E2E_PASSED="$(grep -Eo '[0-9]+ passed' "$ROOT/.test-logs/e2e.log" | tail -n 1 | grep -Eo '[0-9]+' || echo 0)"
E2E_FAILED="$(tail -n 1 "$ROOT/.test-logs/e2e.log" | grep -Eo '[0-9]+ (failed|errors?)' | awk '{s+=$1} END {print s+0}' || true)"
if [ $rc -eq 0 ] && [ "$E2E_PASSED" -gt 0 ]; then
    summary+=("e2e: ok ($E2E_PASSED passed)")
else
    summary+=("e2e: FAILED (exit $rc)"); status=1
fi

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
    local start
    start=$(wc -l <"$LOG")
    set +e
    odoo_run "$DB" --stop-after-init --log-level=info "$@" >>"$LOG" 2>&1
    local rc=$?
    set -e
    local errors
    errors="$(tail -n +"$((start + 1))" "$LOG" | grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) |demo data failed to install' || true)"
    if [ $rc -ne 0 ] || [ -n "$errors" ]; then
        echo "$errors" | tail -n 40
        summary+=("odoo $name: FAILED (exit $rc, log $LOG)"); status=1
        return 1
    fi
    summary+=("odoo $name: ok")
}

TAGS="${TEST_TAGS:-/isp_dunning,/isp_dunning_spreadsheet_dashboard}"
HTTP_PORT="$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
: >"$LOG"
odoo_step "install and test" -i "$ADDONS_CSV",payment_demo --test-enable --test-tags "$TAGS" \
    --http-port="$HTTP_PORT" || true
RESULT_LINE="$(grep -E 'failed, [0-9]+ error\(s\) of [0-9]+ tests' "$LOG" | tail -n 1 || true)"
echo "$RESULT_LINE"
ODOO_TESTS="$(echo "$RESULT_LINE" | sed -nE 's/.* of ([0-9]+) tests.*/\1/p')"
ODOO_FAILED="$(echo "$RESULT_LINE" | sed -nE 's/.*: ([0-9]+) failed, ([0-9]+) error.*/\1 \2/p' | awk '{print $1 + $2}' || true)"
ODOO_TESTS="${ODOO_TESTS:-0}"; ODOO_FAILED="${ODOO_FAILED:-0}"
if [ "$ODOO_TESTS" -eq 0 ]; then
    summary+=("odoo tests: FAILED (no test ran)"); status=1
fi
# A skipped test proves nothing: a browser test skips without Chromium or
# websocket-client.
SKIPPED="$(grep -cE ' INFO .* skipped .* : ' "$LOG" || true)"
if [ "${SKIPPED:-0}" -gt 0 ]; then
    grep -E ' INFO .* skipped .* : ' "$LOG" | tail -n 5
    summary+=("odoo tests: FAILED ($SKIPPED skipped)"); status=1
fi
odoo_step "upgrade 1" -u "$ADDONS_CSV" --no-http || true
odoo_step "upgrade 2" -u "$ADDONS_CSV" --no-http || true
say "Translations: every exported term has a German translation"
POT="$(mktemp --suffix=.pot)"
for addon in "${ADDONS[@]}"; do
    if odoo_run "$DB" --i18n-export="$POT" --modules="$addon" --stop-after-init --no-http \
            >>"$LOG" 2>&1 \
        && "$PYTHON" tools/check_translations.py "$POT" "$addon/i18n/de.po"; then
        summary+=("translations $addon: ok")
    else
        summary+=("translations $addon: FAILED"); status=1
    fi
done
rm -f "$POT"

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
# Tests counted one by one; a failed lint or upgrade step counts as one failure.
steps_failed=0
for line in "${summary[@]}"; do
    case "$line" in pytest:*|e2e:*|"odoo install and test"*) ;; *FAILED*) steps_failed=$((steps_failed + 1));; esac
done
passed=$(( PY_PASSED + E2E_PASSED + ODOO_TESTS - ODOO_FAILED ))
failed=$(( PY_FAILED + E2E_FAILED + ODOO_FAILED + steps_failed ))
if [ $status -ne 0 ] && [ $failed -eq 0 ]; then failed=1; fi
echo "pure core: $PY_PASSED passed; end to end: $E2E_PASSED passed; Odoo: $ODOO_TESTS tests, $ODOO_FAILED failed"
echo "$passed passed, $failed failed"
exit $status
