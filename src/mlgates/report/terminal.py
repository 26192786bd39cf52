"""The compact terminal table printed by ``mlgates run``."""

from __future__ import annotations

import shutil
import sys

from mlgates.core import CheckResult, RunRecord, Status
from mlgates.text import printable

_MARKS = {
    Status.PASS: "PASS",
    Status.WARN: "WARN",
    Status.FAIL: "FAIL",
    Status.INCONCLUSIVE: "INCONCL",
    Status.ERROR: "ERROR",
    Status.SKIPPED: "SKIP",
}


def render_table(record: RunRecord, *, width: int | None = None, verbose: bool = False) -> str:
    """One line per check (passing checks folded unless ``verbose``) and the verdict.

    Lines are cut at ``width``; by default at the terminal's width when printing
    to a terminal, and never in logs (CI), where the whole message matters.
    """
    if width is None and sys.stdout.isatty():
        width = shutil.get_terminal_size((120, 24)).columns
    lines = []
    checks = record.checks
    id_width = min(max((len(c.id) for c in checks), default=10), 48)
    for check in checks:
        if not verbose and not check.needs_attention:
            continue
        quiet = check.blocking or not check.needs_attention
        mark = _MARKS[check.status] + ("" if quiet else "*")
        shown_id = printable(check.id, keep_newlines=False)
        message = printable(check.message or _numbers(check), keep_newlines=False)
        line = f"{mark:<8} {shown_id:<{id_width}}  {message}"
        lines.append(line if width is None or len(line) <= width else line[: width - 3] + "...")
    summary = ", ".join(f"{n} {s.value}" for s, n in record.counts().items() if n)
    verdict = "BLOCKED" if record.blocked else "PASSED"
    lines.append(f"{verdict}: {summary} ({len(checks)} checks)")
    if any(not c.blocking and c.needs_attention for c in checks):
        lines.append('* does not block (severity warn or on_inconclusive = "warn")')
    return "\n".join(lines)


def _numbers(check: CheckResult) -> str:
    """What a check without a message (a pass as the history keeps it) still says."""
    parts = [f"value {check.shown(check.value)}"]
    if check.bound is not None:
        parts.append(f"bound {check.shown(check.bound)}")
    if check.threshold:
        parts.append(check.threshold)
    return ", ".join(parts)
