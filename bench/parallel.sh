#!/usr/bin/env bash
# The isp pass with 1 and with N workers on the same book, one after the other:
#   bash bench/parallel.sh [--workers "1 2"] [--repeat 1] SIZE...
# Uses the isp template of bench.sh (isp_bench_tpl_isp_steady_SIZE; built with
# `bash bench/bench.sh --prepare SIZE --products isp` when missing), copied to
# isp_bench_partpl_SIZE and updated to this checkout's isp_dunning, so that the
# shared template is never changed. Each pass runs on a fresh copy
# (isp_bench_parrun_SIZE, dropped after it): bench/measure.py --workers W, the
# coordinating run in one process and W - 1 batch worker processes. Results:
# one JSON line per pass in bench/results/parallel.jsonl (wall, CPU, load).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../tools/lib.sh"
ensure_odoo
ensure_postgres

WORKERS="1 2"
REPEAT=1
SIZES=()
while [ $# -gt 0 ]; do
    case "$1" in
        --workers) WORKERS="$2"; shift 2 ;;
        --repeat) REPEAT="$2"; shift 2 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) SIZES+=("$1"); shift ;;
    esac
done
[ ${#SIZES[@]} -gt 0 ] || SIZES=(10000)

hash_addon() {
    (cd "$ROOT" && find isp_dunning -type f ! -path '*__pycache__*' -print0 | sort -z \
        | xargs -0 sha1sum | sha1sum | cut -c1-12)
}
param() { psql -d "$1" -tAc "SELECT value FROM ir_config_parameter WHERE key = '$2'"; }

mkdir -p "$HERE/results"
for size in "${SIZES[@]}"; do
    shared="isp_bench_tpl_isp_steady_$size"
    db_exists "$shared" || "$HERE/bench.sh" --prepare --products isp "$size"
    tpl="isp_bench_partpl_$size"
    addon="$(hash_addon)"
    if ! db_exists "$tpl" || [ "$(param "$tpl" isp_bench.parallel_addon)" != "$addon" ]; then
        drop_db_if_ours "$tpl"
        say "Copying $shared to $tpl and updating isp_dunning there"
        createdb -T "$shared" "$tpl"
        psql -d postgres -qc "COMMENT ON DATABASE \"$tpl\" IS '$DB_MARK'"
        odoo_run "$tpl" -u isp_dunning --stop-after-init --no-http --log-level=warn \
            >> "${TMPDIR:-/tmp}/isp_bench_parallel.log" 2>&1
        psql -d "$tpl" -qc "INSERT INTO ir_config_parameter (key, value) VALUES
            ('isp_bench.parallel_addon', '$addon')
            ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
        psql -d "$tpl" -qc "VACUUM ANALYZE"
    fi
    for _round in $(seq "$REPEAT"); do
        for workers in $WORKERS; do
            run="isp_bench_parrun_$size"
            drop_db_if_ours "$run"
            createdb -T "$tpl" "$run"
            psql -d postgres -qc "COMMENT ON DATABASE \"$run\" IS '$DB_MARK'"
            say "isp pass on $size open invoices with $workers worker(s); load $(cut -d' ' -f1-3 /proc/loadavg)"
            out="$(BENCH_ADDONS_PATH="$(addons_path)" "$PYTHON" "$HERE/measure.py" \
                --db="$run" --product=isp --workers="$workers" 2>>"${TMPDIR:-/tmp}/isp_bench_parallel.log" \
                | grep '^RESULT ' | sed 's/^RESULT //')"
            dropdb "$run"
            echo "$out" | "$PYTHON" "$HERE/parallel_record.py" "$size" "$addon" \
                "$HERE/results/parallel.jsonl"
        done
    done
done
