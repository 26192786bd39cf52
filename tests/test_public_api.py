"""The public API: a sorted ``__all__`` whose every name resolves, and a light import."""

from __future__ import annotations

import subprocess
import sys

import mlgates


def test_all_is_sorted_and_every_name_resolves():
    assert mlgates.__all__ == sorted(mlgates.__all__)
    for name in mlgates.__all__:
        assert getattr(mlgates, name) is not None
    assert set(mlgates.__all__) == set(mlgates._HOMES)


def test_importing_the_package_and_plugin_stays_light():
    code = (
        "import sys, mlgates, mlgates.plugin, mlgates.session, mlgates.authoring, mlgates.cli\n"
        "heavy = [m for m in ('pandas', 'numpy', 'pandera', 'great_expectations', 'scipy',"
        " 'pyarrow', 'sklearn', 'jinja2', 'yaml') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""


def test_the_plugin_alone_loads_no_engine():
    code = (
        "import sys, mlgates.plugin\n"
        "loaded = [m for m in ('mlgates.runner', 'mlgates.config', 'mlgates.session', 'filelock')"
        " if m in sys.modules]\n"
        "print(','.join(loaded))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""
