#!/usr/bin/env bash
# Runs the setup as a fresh machine would: a clean clone of HEAD in a temporary
# folder, PATH=/usr/bin:/bin (no Odoo, no Python environment of the caller's),
# up to a working `.venv/bin/odoo --version`. ODOO_SOURCE is passed on.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
git clone -q "$ROOT" "$WORK/clone"
cd "$WORK/clone"
echo "==> Setup in a clean clone of $(git rev-parse --short HEAD) with PATH=/usr/bin:/bin"
if env -i HOME="${HOME:-/root}" PATH=/usr/bin:/bin ${ODOO_SOURCE:+ODOO_SOURCE="$ODOO_SOURCE"} \
        bash -c 'source tools/lib.sh; ensure_odoo; ensure_wkhtmltopdf' \
    && version="$(.venv/bin/odoo --version)" && [[ "$version" == "Odoo Server 18.0"* ]] \
    && .venv/bin/wkhtmltopdf --version | grep -q "with patched qt"; then
    echo "==> $version and a patched wkhtmltopdf in the clone's .venv"
    echo "setup: 1 passed, 0 failed"
else
    echo "ERROR: the setup did not end with Odoo 18.0 in the clone's .venv" >&2
    echo "setup: 0 passed, 1 failed"
    exit 1
fi
