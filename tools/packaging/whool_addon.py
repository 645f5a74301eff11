"""PEP 517 backend for the repository root: whool builds an addon from the
addon's own directory, so every hook runs there. `pip wheel .` at the root
then builds odoo-addon-isp_dunning, as `pip wheel isp_dunning` would."""

import os
from contextlib import contextmanager
from pathlib import Path

from whool import buildapi

ADDON_DIR = Path(__file__).resolve().parents[2] / "isp_dunning"


@contextmanager
def _in_addon_dir():
    previous = Path.cwd()
    os.chdir(ADDON_DIR)
    try:
        yield
    finally:
        os.chdir(previous)


def _absolute(directory):
    return str(Path(directory).resolve())


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    with _in_addon_dir():
        return buildapi.prepare_metadata_for_build_wheel(
            _absolute(metadata_directory), config_settings
        )


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    with _in_addon_dir():
        return buildapi.build_wheel(
            _absolute(wheel_directory),
            config_settings,
            metadata_directory and _absolute(metadata_directory),
        )
