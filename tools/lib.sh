# Shared helpers for the demo and test commands (sourced, not executed).
# Finds Odoo 18 and a PostgreSQL server, and creates or drops only the
# databases it marked as its own.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DB_MARK="isp_dunning throwaway database"
PYTHON="${PYTHON:-python3}"

die() { echo "ERROR: $*" >&2; exit 1; }
say() { echo "==> $*"; }

find_odoo() {
    # ODOO_BIN may point to an odoo-bin; otherwise Odoo must be importable.
    if [ -n "${ODOO_BIN:-}" ]; then
        [ -x "$ODOO_BIN" ] || die "ODOO_BIN=$ODOO_BIN is not an executable odoo-bin."
        ODOO_CMD=("$ODOO_BIN")
        ODOO_SRC="$(cd "$(dirname "$ODOO_BIN")" && pwd)"
        return
    fi
    if ! "$PYTHON" -c 'import odoo.release as r, sys; sys.exit(0 if r.version_info[:2] == (18, 0) else 1)' 2>/dev/null; then
        die "Odoo 18.0 is not installed for $PYTHON ('import odoo' fails or is another version).
Install Odoo 18.0 Community (see README.md, 'Requirements') or set ODOO_BIN=/path/to/odoo-bin."
    fi
    ODOO_CMD=("$PYTHON" -m odoo)
    ODOO_SRC="$("$PYTHON" -c 'import odoo, os; print(os.path.dirname(os.path.dirname(odoo.__file__)))')"
}

addons_path() {
    local paths=()
    [ -d "$ODOO_SRC/addons" ] && paths+=("$ODOO_SRC/addons")
    [ -d "$ODOO_SRC/odoo/addons" ] && paths+=("$ODOO_SRC/odoo/addons")
    paths+=("$ROOT")
    local IFS=,
    echo "${paths[*]}"
}

ensure_postgres() {
    if pg_isready -q 2>/dev/null; then
        return
    fi
    # No server answers: start a private throwaway cluster inside the project.
    local initdb
    initdb="$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)"
    [ -n "$initdb" ] || die "No PostgreSQL server answers and PostgreSQL is not installed.
Start a server (PGHOST/PGPORT/PGUSER are honoured) or install PostgreSQL."
    local bindir data run
    bindir="$(dirname "$initdb")"
    data="$ROOT/.pgdata/data"
    run="$ROOT/.pgdata/run"
    mkdir -p "$run"
    local as=()
    if [ "$(id -u)" = 0 ]; then
        chown -R postgres: "$ROOT/.pgdata"
        as=(runuser -u postgres --)
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
        say "Creating a private PostgreSQL cluster in .pgdata/"
        "${as[@]}" "$initdb" -D "$data" -A trust -U postgres >/dev/null
    fi
    export PGHOST="$run" PGPORT=54329
    if ! pg_isready -q; then
        "${as[@]}" "$bindir/pg_ctl" -D "$data" -l "$ROOT/.pgdata/server.log" \
            -o "-k $run -p $PGPORT -c listen_addresses=''" -w start >/dev/null
    fi
    # Odoo refuses to work as the 'postgres' superuser: use a role of our own.
    export PGUSER=odoo
    psql -U postgres -d postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname='odoo'" | grep -q 1 \
        || psql -U postgres -d postgres -qc "CREATE ROLE odoo LOGIN CREATEDB SUPERUSER"
}

db_exists() {
    psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$1'" | grep -q 1
}

db_is_ours() {
    [ "$(psql -d postgres -tAc "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname='$1'")" = "$DB_MARK" ]
}

create_db() {
    createdb -T template0 -E UTF8 "$1" || die "Could not create database $1."
    psql -d postgres -qc "COMMENT ON DATABASE \"$1\" IS '$DB_MARK'"
}

drop_db_if_ours() {
    if db_exists "$1"; then
        db_is_ours "$1" || die "Database $1 exists and was not created by this project; not touching it."
        dropdb "$1"
    fi
}

odoo_run() {
    # odoo_run DB ARGS... ; logs go to stdout
    local db="$1"; shift
    "${ODOO_CMD[@]}" --addons-path="$(addons_path)" -d "$db" --db-filter="^$db\$" "$@"
}

odoo_shell() {
    # odoo_shell DB < script.py
    local db="$1"; shift
    "${ODOO_CMD[@]}" shell --addons-path="$(addons_path)" -d "$db" --no-http --log-level=warn "$@"
}
