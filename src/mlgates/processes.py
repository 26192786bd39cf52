"""Running helper programs: bounded in time, stopped with their children, failures explained.

:func:`run_bounded` runs a program to its end in a session (and process group)
of its own, its output going to temporary files; the whole group is killed when
the time runs out and on any exception on the way, an interrupt (Ctrl-C)
included, so nothing it started outlives the gates. The dependency audit runs
pip-audit this way, and :func:`run_json` (the timing worker of the operational
gate) runs a program that prints JSON through it. The load test's server and
locust processes run alongside the gates instead, started and stopped by
:class:`mlgates.stages.operational.loadtest.Processes` with :func:`kill_group`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from mlgates.core import MlgatesError
from mlgates.text import shorten

_TAIL = 600
_KILL_GRACE = 5.0
"""Seconds a killed process group is given to be reaped."""


class ProcessFailed(MlgatesError):
    """A helper program timed out, failed, or did not print JSON."""


@dataclass(frozen=True)
class Finished:
    """A program that ran to its end: its exit code and what it printed."""

    code: int
    stdout: str
    stderr: str


def run_bounded(
    argv: Sequence[str],
    *,
    timeout: float,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Finished:
    """Run ``argv`` to its end, or kill it and everything it started after ``timeout`` s.

    The program runs with no standard input, in a session of its own; its
    standard output and error go to temporary files (a grandchild holding them
    open cannot keep the caller waiting, and output of any size is fine). ``env``
    is the whole environment (default: this process's). On timeout, and on any
    exception while waiting (``KeyboardInterrupt`` included), the program's
    process group is killed and reaped before the exception goes on. Raises
    ``subprocess.TimeoutExpired`` on timeout and ``OSError`` (``FileNotFoundError``
    for a missing program) when it cannot start.
    """
    with (
        tempfile.TemporaryFile("w+b", prefix="mlgates-out-") as out,
        tempfile.TemporaryFile("w+b", prefix="mlgates-err-") as err,
    ):
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        try:
            code = process.wait(timeout=timeout)
        except BaseException:
            kill_group(process)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=_KILL_GRACE)
            raise
        kill_group(process)  # whatever it left running in its session
        return Finished(code, _read(out), _read(err))


def _read(stream: IO[bytes]) -> str:
    stream.seek(0)
    return stream.read().decode("utf-8", errors="replace")


def kill_group(process: subprocess.Popen[Any], sig: int | None = None) -> None:
    """Send ``sig`` (default: kill) to the process group ``process`` leads, started with
    ``start_new_session=True``; to ``process`` alone where there are no process groups.
    Call it before ``process`` is reaped: its id names the group until then."""
    killpg = getattr(os, "killpg", None)
    if killpg is None:  # Windows
        with contextlib.suppress(OSError):
            if sig is None:
                process.kill()
            else:
                process.send_signal(sig)
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        killpg(process.pid, signal.SIGKILL if sig is None else sig)


def run_json(
    argv: Sequence[str],
    *,
    timeout: float,
    what: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    ok_codes: Sequence[int] = (0,),
) -> Any:
    """Run ``argv`` with :func:`run_bounded` and parse its standard output as JSON.

    ``what`` names the job in messages ("timing the models"); ``env`` is added to
    this process's environment. The program (with its children) is killed after
    ``timeout`` seconds. Raises :class:`ProcessFailed` with the end of the
    program's error output when it cannot start, times out, exits with a code
    not in ``ok_codes`` or prints something other than JSON.
    """
    environment = {**os.environ, **(env or {})}
    try:
        done = run_bounded(argv, timeout=timeout, cwd=cwd, env=environment)
    except FileNotFoundError:
        raise ProcessFailed(f"{what}: cannot start {argv[0]!r}: not found") from None
    except subprocess.TimeoutExpired:
        message = f"{what}: no answer within {timeout:g} s; the process was stopped"
        raise ProcessFailed(message) from None
    except OSError as exc:
        raise ProcessFailed(f"{what}: cannot start {argv[0]!r}: {exc.strerror or exc}") from None
    if done.code not in ok_codes:
        raise ProcessFailed(
            f"{what}: exited with code {done.code}: {tail(done.stderr or done.stdout)}"
        )
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise ProcessFailed(
            f"{what}: expected JSON on standard output ({exc.msg} at line {exc.lineno}): "
            f"{tail(done.stdout) or '(nothing printed)'}"
        ) from None


def tail(text: str, lines: int = 5) -> str:
    """The last ``lines`` lines of ``text`` on one line, at most the last 600 characters."""
    text = " ".join(text.strip().splitlines()[-lines:])
    return shorten(text[-_TAIL:], _TAIL)


__all__ = ["Finished", "ProcessFailed", "kill_group", "run_bounded", "run_json", "tail"]
