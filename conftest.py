"""Pytest setup for the plain-Python core of isp_dunning.

The core is imported as the top-level package ``domain`` (``from domain
import interest``), so running its tests never imports the Odoo addon.  Odoo
tests in isp_dunning/tests/ belong to Odoo's own test runner.
"""

import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent
ADDON = ROOT / "isp_dunning"

if str(ADDON) not in sys.path:
    sys.path.insert(0, str(ADDON))

# pytest's importlib mode imports the parent packages of a test file
# (isp_dunning.domain.tests -> isp_dunning); isp_dunning/__init__.py loads
# Odoo models, so stand in an empty package for it.
if "isp_dunning" not in sys.modules:
    _placeholder = types.ModuleType(
        "isp_dunning", "Stand-in for the Odoo addon while testing the core."
    )
    _placeholder.__path__ = [str(ADDON)]
    sys.modules["isp_dunning"] = _placeholder

# Everything in the addon except the core's tests needs Odoo.
collect_ignore_glob = ["isp_dunning/tests/*", "isp_dunning/tests"]

_COLLECTED = (ADDON / "domain" / "tests", ROOT / "tests_e2e")


def pytest_ignore_collect(collection_path, config):
    """Collect only the core's tests (and a top-level tests_e2e/)."""
    path = Path(collection_path).resolve()
    if path == ROOT or ROOT not in path.parents:
        return None
    for allowed in _COLLECTED:
        if path == allowed or allowed in path.parents or path in allowed.parents:
            return None
    return True
