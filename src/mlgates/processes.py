"""Running a helper program that reports JSON: bounded in time, every failure explained.

Load tests (locust) and dependency audits (pip-audit) run this way: in their own
process, so nothing they import or patch reaches the gates' process.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mlgates.core import MlgatesError
from mlgates.text import shorten

_TAIL = 600


class ProcessFailed(MlgatesError):
    """A helper program timed out, failed, or did not print JSON."""


def run_json(
    argv: Sequence[str],
    *,
    timeout: float,
    what: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    ok_codes: Sequence[int] = (0,),
) -> Any:
    """Run ``argv`` and parse its standard output as JSON.

    ``what`` names the job in messages ("the load test"). The process is killed
    after ``timeout`` seconds. Raises :class:`ProcessFailed` with the end of the
    program's error output when it cannot start, times out, exits with a code
    not in ``ok_codes`` or prints something other than JSON.
    """
    environment = {**os.environ, **(env or {})}
    try:
        done = subprocess.run(
            list(argv),
            cwd=cwd,
            env=environment,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise ProcessFailed(f"{what}: cannot start {argv[0]!r}: not found") from None
    except subprocess.TimeoutExpired:
        message = f"{what}: no answer within {timeout:g} s; the process was stopped"
        raise ProcessFailed(message) from None
    except OSError as exc:
        raise ProcessFailed(f"{what}: cannot start {argv[0]!r}: {exc.strerror or exc}") from None
    if done.returncode not in ok_codes:
        raise ProcessFailed(
            f"{what}: exited with code {done.returncode}: {_tail(done.stderr or done.stdout)}"
        )
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise ProcessFailed(
            f"{what}: expected JSON on standard output ({exc.msg} at line {exc.lineno}): "
            f"{_tail(done.stdout) or '(nothing printed)'}"
        ) from None


def _tail(text: str) -> str:
    text = " ".join(text.strip().splitlines()[-5:])
    return shorten(text[-_TAIL:], _TAIL)
