"""The core must stay importable without Odoo, as 'domain' and as a subpackage."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1]
MODULES = sorted(PACKAGE.glob("*.py"))


def test_modules_present():
    names = {path.stem for path in MODULES}
    assert {
        "__init__",
        "money",
        "dates",
        "interest",
        "escalation",
        "rendering",
        "emails",
    } <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_no_odoo_and_only_relative_imports_inside(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                assert not alias.name.startswith(("odoo", "domain", "isp_dunning"))
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            assert not node.module.startswith(("odoo", "domain", "isp_dunning"))


def test_importable_with_odoo_blocked():
    code = (
        "import sys; sys.modules['odoo'] = None; sys.path.insert(0, sys.argv[1]);"
        "import domain.money, domain.dates, domain.interest, domain.escalation,"
        " domain.rendering, domain.emails; print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(PACKAGE.parent)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
