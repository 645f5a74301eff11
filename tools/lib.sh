# Shared helpers for the demo and test commands (sourced, not executed).
# Sets up Odoo 18 (tools/setup.sh) and a PostgreSQL server, and creates or
# drops only the databases it marked as its own.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DB_MARK="isp_dunning throwaway database"

die() { echo "ERROR: $*" >&2; exit 1; }
say() { echo "==> $*"; }

source "$ROOT/tools/setup.sh"

addons_path() {
    local paths=()
    [ -d "$ODOO_SRC/addons" ] && paths+=("$ODOO_SRC/addons")
    [ -d "$ODOO_SRC/odoo/addons" ] && paths+=("$ODOO_SRC/odoo/addons")
    paths+=("$ROOT")
    local IFS=,
    echo "${paths[*]}"
}

ensure_postgres() {
    if command -v pg_isready >/dev/null && pg_isready -q 2>/dev/null; then
        return
    fi
    # No server answers: start a private throwaway cluster inside the project.
    local initdb
    initdb="$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)"
    if [ -z "$initdb" ]; then
        apt_install "no PostgreSQL server answers (or set PGHOST/PGPORT/PGUSER)" postgresql
        initdb="$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)"
        [ -n "$initdb" ] || die "PostgreSQL's initdb is missing after installing postgresql."
    fi
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
