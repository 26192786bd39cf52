"""The history in a terminal: the run list, one check's trend as a chart, and a diff.

Every user string passes through :func:`mlgates.text.printable`, so a column
name can never move the cursor or fake a line.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from mlgates.changes import (
    RunDiff,
    describe_move,
    diff_runs,
    introduced_by,
    loosened_checks,
    previous_run,
    threshold_change,
)
from mlgates.core import CheckResult, RunRecord, Status
from mlgates.text import format_number, printable

CHART_HEIGHT = 8
MOVES_SHOWN = 15


def run_label(record: RunRecord) -> str:
    """``2026-12-01T10:00:00Z 3f2a9c1d0e (a1b2c3d4e5 main)``: when, which run, which commit."""
    commit = str(record.git.get("commit") or "")[:10]
    branch = str(record.git.get("branch") or "")
    where = " ".join(part for part in (commit, branch) if part)
    return printable(f"{record.started_at} {record.run_id[:10]}" + (f" ({where})" if where else ""))


def verdict(record: RunRecord) -> str:
    """``blocked`` or ``passed``."""
    return "blocked" if record.blocked else "passed"


def loosened_since_previous(record: RunRecord, history: Sequence[RunRecord]) -> int:
    """How many configured checks ``record`` loosened against the run before it."""
    older = previous_run(record, history)
    return 0 if older is None else loosened_checks(diff_runs(older, record))


def render_diff(diff: RunDiff, *, all_moves: bool = False, runs: Sequence[RunRecord] = ()) -> str:
    """Status flips, threshold changes (a loosened one named with the run, time and
    commit that brought it), checks added and removed, and the largest value moves.

    ``runs`` are the runs from ``diff.older`` to ``diff.newer``, oldest first: with
    them a loosened threshold names the run that brought it, else ``diff.newer``.
    """
    lines = [f"from {run_label(diff.older)} [{verdict(diff.older)}]"]
    lines.append(f"to   {run_label(diff.newer)} [{verdict(diff.newer)}]")
    if diff.flips:
        lines.append(f"\nstatus changed ({len(diff.flips)}):")
        for flip in sorted(diff.flips, key=lambda f: (not f.worse, f.check_id)):
            lines.append(
                f"  {flip.before.value:>12} -> {flip.after.value:<12} {_shown(flip.check_id)}"
            )
    if diff.thresholds:
        lines.append(f"\nthresholds changed ({len(diff.thresholds)}):")
        for change in diff.thresholds:
            mark = change.kind.upper()
            lines.append(f"  {mark:<9} {_shown(change.check_id)}: {printable(change.why)}")
            if change.loosened:
                brought = introduced_by(change, runs) if runs else diff.newer
                lines.append(f"            loosened in {run_label(brought)}")
    for title, ids in (("checks added", diff.added), ("checks removed", diff.removed)):
        if ids:
            lines.append(f"\n{title} ({len(ids)}):")
            lines += [f"  {_shown(check_id)}" for check_id in ids]
    moves = diff.moves if all_moves else diff.moves[:MOVES_SHOWN]
    if moves:
        more = len(diff.moves) - len(moves)
        lines.append(f"\nvalues moved ({len(diff.moves)}, largest first):")
        width = min(max(len(m.check_id) for m in moves), 60)
        lines += [f"  {_shown(m.check_id):<{width}}  {describe_move(m)}" for m in moves]
        if more:
            lines.append(f"  ... {more} more (--all shows every one)")
    if diff.empty and not diff.moves:
        lines.append("\nnothing changed")
    return "\n".join(lines)


def render_trend(value_id: str, runs: Sequence[RunRecord], *, width: int = 60) -> str:
    """One check's value over ``runs`` (oldest first) as a terminal chart, then the
    recent values with their bounds, and every threshold change along the way."""
    points = [(run, _check_of(run, value_id)) for run in runs[-width:]]
    shown = [(run, check) for run, check in points if check is not None]
    if not shown:
        return f"{_shown(value_id)}: not measured in the last {len(points)} runs"
    lines = [f"{_shown(value_id)} over the last {len(shown)} runs that measured it"]
    lines += _chart([check for _, check in shown])
    first, last = shown[0][0], shown[-1][0]
    lines.append(f"  runs from {first.started_at} to {last.started_at}")
    lines.append("  o passed  x did not pass  - bound\n")
    lines.append(f"  {'started':<24} {'commit':<10} {'status':<12} {'value':>12} {'bound':>12}")
    for run, check in shown[-10:]:
        commit = str(run.git.get("commit") or "")[:10]
        lines.append(
            printable(
                f"  {run.started_at:<24} {commit:<10} {check.status.value:<12} "
                f"{check.shown(check.value):>12} {_bound(check):>12}"
            )
        )
    changes = _threshold_history(shown)
    if changes:
        lines.append("\nthreshold changes:")
        lines += changes
    return "\n".join(lines)


def _bound(check: CheckResult) -> str:
    return "" if check.bound is None else check.shown(check.bound)


def _check_of(run: RunRecord, value_id: str) -> CheckResult | None:
    found = [c for c in run.checks if c.value_id == value_id or c.id == value_id]
    exact = [c for c in found if c.id == value_id]
    for check in exact or found:
        if check.value is not None and math.isfinite(check.value):
            return check
    return None


def _chart(checks: Sequence[CheckResult]) -> list[str]:
    values = [c.value for c in checks if c.value is not None]
    bounds = [c.bound for c in checks if c.bound is not None and math.isfinite(c.bound)]
    low, high = min(values + bounds), max(values + bounds)
    span = (high - low) or abs(high) or 1.0

    def row(value: float) -> int:
        return round((high - value) / span * (CHART_HEIGHT - 1))

    grid = [[" "] * len(checks) for _ in range(CHART_HEIGHT)]
    for column, check in enumerate(checks):
        if check.bound is not None and math.isfinite(check.bound):
            grid[row(check.bound)][column] = "-"
        assert check.value is not None
        passed = check.status in (Status.PASS, Status.SKIPPED)
        grid[row(check.value)][column] = "o" if passed else "x"
    labels = {0: format_number(high, 4), CHART_HEIGHT - 1: format_number(low, 4)}
    label_width = max(len(text) for text in labels.values())
    return [
        f"  {labels.get(i, ''):>{label_width}} |{''.join(cells)}".rstrip()
        for i, cells in enumerate(grid)
    ]


def _threshold_history(points: Sequence[tuple[RunRecord, CheckResult]]) -> list[str]:
    lines = []
    for (_, older), (run, newer) in itertools.pairwise(points):
        change = threshold_change(older, newer)
        if change is not None:
            lines.append(f"  {change.kind.upper():<9} {printable(change.why)}")
            lines.append(f"            in {run_label(run)}")
    return lines


def _shown(text: str) -> str:
    return printable(text, keep_newlines=False)
