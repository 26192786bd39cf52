"""Helpers of the operational gate's tests: a model saved as a pickle (servers that load it
import this module; the tests put this directory on their ``PYTHONPATH``), and checks
that processes are gone."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pandas as pd


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its reaper does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    if not Path("/proc").is_dir():
        return True  # no way to tell a zombie here
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:  # gone meanwhile
        return False


def gone(pids: list[int], within: float = 10.0) -> bool:
    """Whether every one of ``pids`` has stopped within ``within`` seconds."""
    until = time.monotonic() + within
    while any(alive(pid) for pid in pids):
        if time.monotonic() > until:
            return False
        time.sleep(0.05)
    return True


def wait_for_file(path: Path, within: float = 60.0) -> str:
    """The text of ``path`` once it exists (written whole, by a rename)."""
    until = time.monotonic() + within
    while not path.exists():
        if time.monotonic() > until:
            raise AssertionError(f"{path} was not written within {within:g} s")
        time.sleep(0.05)
    return path.read_text(encoding="utf-8")


SPAWNER = """\
import os, signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)  # only a kill stops it
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
with open(sys.argv[1] + ".tmp", "w") as file:
    file.write(f"{os.getpid()} {child.pid}")
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(120)
"""
"""A program that ignores SIGTERM, starts a child, writes ``<its pid> <the child's pid>``
to the file named by its argument, and sleeps."""


class FailsAbove:
    """A fitted model that raises on any row whose ``column`` is above ``limit``."""

    def __init__(self, model: Any, column: str, limit: float) -> None:
        self.model = model
        self.column = column
        self.limit = limit
        self.feature_names_in_ = model.feature_names_in_
        self.classes_ = model.classes_

    def _check(self, frame: pd.DataFrame) -> None:
        if (frame[self.column] > self.limit).any():
            raise ValueError(f"{self.column} above {self.limit:g}")

    def predict(self, frame: pd.DataFrame) -> Any:
        """The model's predictions, unless a row is above the limit."""
        self._check(frame)
        return self.model.predict(frame)

    def predict_proba(self, frame: pd.DataFrame) -> Any:
        """The model's probabilities, unless a row is above the limit."""
        self._check(frame)
        return self.model.predict_proba(frame)
