"""The built wheel installs in a fresh virtual environment and runs the example project.

This is what a new user does before mlgates is on PyPI: build (or download) the
wheel, ``pip install`` it, run the gates. It catches package data left out of
the wheel (the report templates) and dependencies missing from its metadata.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from conftest import copy_example

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str | Path, cwd: Path | None = None, timeout: int = 900) -> str:
    done = subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.slow
def test_wheel_installs_in_a_fresh_venv_and_runs_the_example(tmp_path: Path):
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".venv", ".venv-*", ".git", "*.egg-info", "build", "dist", ".mlgates"
        ),
    )
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", tmp_path / "dist", source)
    (wheel,) = (tmp_path / "dist").glob("mlgates-*.whl")

    environment = tmp_path / "env"
    venv.EnvBuilder(with_pip=True).create(environment)
    python = environment / "bin" / "python"
    _run(python, "-m", "pip", "install", "--quiet", f"{wheel}[performance,operational]")

    project = tmp_path / "credit"
    copy_example(project)
    output = _run(environment / "bin" / "mlgates", "run", "--config", "mlgates.toml", cwd=project)
    assert "PASSED" in output
    report = (project / ".mlgates" / "report.html").read_text(encoding="utf-8")
    assert "Passed" in report and "data::drift[income]" in report
    assert "performance::roc_auc~baseline" in report
    assert "operational::failure_ratio[load]" in report  # the locustfile ships in the wheel
    location = _run(python, "-c", "import mlgates, sys; print(mlgates.__file__)")
    assert str(environment) in location  # the installed wheel, not this checkout
