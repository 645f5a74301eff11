#!/usr/bin/env bash
# Crash and concurrency fault trials of isp_dunning (see faults/README.md).
#
#   bash faults/run.sh                    # template, 20+3 crash trials, 12 concurrency cases
#   bash faults/run.sh --trials 5         # fewer crash trials
#   bash faults/run.sh --only crash       # or: --only concurrency
#   bash faults/run.sh --keep-template    # keep isp_faults_tpl for the next call
#   bash faults/run.sh --rebuild          # rebuild the template first
#   bash faults/run.sh --clean            # only drop every isp_faults_* database
#
# Exit status 0 when every trial is OK. Results: faults/results/, and the
# tables in faults/README.md; Odoo logs: faults/logs/.
set -euo pipefail
source "$(dirname "$0")/../tools/lib.sh"
cd "$ROOT"

TRIALS=20
SEED=1
ONLY=""
KEEP=0
REBUILD=()
while [ $# -gt 0 ]; do
    case "$1" in
        --trials) TRIALS="$2"; shift 2 ;;
        --seed) SEED="$2"; shift 2 ;;
        --only) ONLY="$2"; shift 2 ;;
        --keep-template) KEEP=1; shift ;;
        --rebuild) REBUILD=(--rebuild); shift ;;
        --clean) ONLY=clean; shift ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done

ensure_odoo
ensure_postgres
export PYTHON
[ -n "${ODOO_BIN:-}" ] && export ODOO_BIN

cleanup() {
    if [ "$KEEP" = 1 ]; then
        "$PYTHON" faults/common.py --cleanup --keep-template
    else
        "$PYTHON" faults/common.py --cleanup
    fi
}
if [ "$ONLY" = clean ]; then
    KEEP=0
    cleanup
    exit 0
fi
trap cleanup EXIT

status=0
start=$(date +%s)
if [ -z "$ONLY" ] || [ "$ONLY" = crash ]; then
    say "Crash trials ($TRIALS)"
    "$PYTHON" faults/crash_trials.py --trials "$TRIALS" --seed "$SEED" --keep-template \
        "${REBUILD[@]}" || status=1
    REBUILD=()
fi
if [ -z "$ONLY" ] || [ "$ONLY" = concurrency ]; then
    say "Concurrency trials"
    "$PYTHON" faults/concurrency_trials.py --keep-template "${REBUILD[@]}" || status=1
fi
say "Done in $(( $(date +%s) - start )) s; results in faults/results/ and faults/README.md"
exit "$status"
