"""What changed between two runs: statuses that flipped, thresholds loosened or
tightened, checks added or removed, and the values that moved most.

A loosened threshold is the change a gate suite must never let pass unseen: a
bound moved the lenient way, a confidence level lowered or dropped, a severity
turned from ``block`` to ``warn``, a check removed, or ``on_inconclusive``
relaxed. :func:`diff_runs` names each one with the run (time and commit) that
brought it, so the history doubles as an audit trail.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

from mlgates.core import CheckResult, InconclusivePolicy, RunRecord, Severity, Status
from mlgates.text import format_number
from mlgates.thresholds import Threshold, ThresholdError, parse_threshold

LOOSENED = "loosened"
TIGHTENED = "tightened"
CHANGED = "changed"

RUN_POLICY_ID = "mlgates.on_inconclusive"
"""The id a change of the run's ``on_inconclusive`` policy is reported under."""


@dataclass(frozen=True)
class StatusFlip:
    """A check whose status differs between the two runs."""

    check_id: str
    before: Status
    after: Status
    message: str

    @property
    def worse(self) -> bool:
        """Whether the check got worse (``pass`` to ``fail``, say)."""
        return self.after.rank > self.before.rank


@dataclass(frozen=True)
class ThresholdChange:
    """A bound, level or severity of one check that changed, and which way.

    ``kind`` is :data:`LOOSENED`, :data:`TIGHTENED` or :data:`CHANGED` (neither
    clearly, e.g. another anchor); ``why`` says what moved in one line.
    """

    check_id: str
    before: str | None
    after: str | None
    kind: str
    why: str

    @property
    def loosened(self) -> bool:
        """Whether the check became easier to pass."""
        return self.kind == LOOSENED


@dataclass(frozen=True)
class ValueMove:
    """A measured value that changed: ``change`` is ``after - before``,
    ``relative`` the change as a fraction of ``|before|`` (None when ``before`` is 0)."""

    check_id: str
    before: float
    after: float
    change: float
    relative: float | None


@dataclass(frozen=True)
class RunDiff:
    """Everything that differs between ``older`` and ``newer``.

    ``moves`` are sorted largest first (by relative change, then absolute);
    ``added``/``removed`` hold check ids.
    """

    older: RunRecord
    newer: RunRecord
    flips: tuple[StatusFlip, ...]
    thresholds: tuple[ThresholdChange, ...]
    moves: tuple[ValueMove, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def loosened(self) -> tuple[ThresholdChange, ...]:
        """The threshold changes that made a check easier to pass."""
        return tuple(change for change in self.thresholds if change.loosened)

    @property
    def empty(self) -> bool:
        """Whether nothing but values changed (no flips, thresholds or checks)."""
        return not (self.flips or self.thresholds or self.added or self.removed)


def previous_run(record: RunRecord, history: Sequence[RunRecord]) -> RunRecord | None:
    """The latest complete run of ``history`` (oldest first) before ``record``, of the
    same config file and profile; ``None`` for a first run.

    When ``record`` is in ``history`` (a past run rendered again), only the runs
    before it count; otherwise the runs that started earlier.
    """
    position = next((i for i, run in enumerate(history) if run.run_id == record.run_id), None)
    earlier = (
        history[:position]
        if position is not None
        else [run for run in history if run.started_at <= record.started_at]
    )
    for run in reversed(earlier):
        if run.run_id == record.run_id or run.partial or run.profile != record.profile:
            continue
        if record.config_path is None or run.config_path in (None, record.config_path):
            return run
    return None


def introduced_by(change: ThresholdChange, runs: Sequence[RunRecord]) -> RunRecord:
    """The run that brought ``change``: of ``runs`` (oldest first, ending with the run
    the change was seen in), the earliest complete one from which the check stays as
    it is in the last. A diff across several runs names that run, not the last."""
    last = runs[-1]
    complete = [run for run in runs if not run.partial] or [last]

    def state(run: RunRecord) -> object:
        if change.check_id == RUN_POLICY_ID:
            return run.on_inconclusive
        check = _checks_by_id(run).get(change.check_id)
        return None if check is None else (check.threshold, check.severity)

    final = state(last)
    brought = last
    for run in reversed(complete):
        if state(run) != final:
            break
        brought = run
    return brought


def diff_runs(older: RunRecord, newer: RunRecord) -> RunDiff:
    """What changed from ``older`` to ``newer``.

    A check missing from a partial ``newer`` run (``--stage``, ``-k``) is not
    reported as removed: that run never meant to judge it.
    """
    before = {check.id: check for check in older.checks}
    after = {check.id: check for check in newer.checks}
    flips = tuple(
        StatusFlip(check_id, before[check_id].status, check.status, check.message)
        for check_id, check in after.items()
        if check_id in before and before[check_id].status is not check.status
    )
    thresholds = [
        change
        for check_id, check in after.items()
        if check_id in before
        for change in [threshold_change(before[check_id], check)]
        if change is not None
    ]
    removed = tuple(i for i in before if i not in after) if not newer.partial else ()
    planned_removed = [i for i in removed if before[i].family is None]  # members come and go
    thresholds += [
        ThresholdChange(i, before[i].threshold, None, LOOSENED, "check removed")
        for i in planned_removed
    ]
    policy = _policy_change(older.on_inconclusive, newer.on_inconclusive)
    if policy is not None:
        thresholds.append(policy)
    return RunDiff(
        older=older,
        newer=newer,
        flips=flips,
        thresholds=tuple(thresholds),
        moves=_moves(before, after),
        added=tuple(i for i in after if i not in before),
        removed=removed,
    )


_BY_ID: dict[int, tuple[weakref.ref[RunRecord], dict[str, CheckResult]]] = {}


def _checks_by_id(run: RunRecord) -> dict[str, CheckResult]:
    """A run's checks by id, built once per record object (a diff over many runs of
    thousands of checks looks each change up in every run)."""
    cached = _BY_ID.get(id(run))
    if cached is not None and cached[0]() is run:
        return cached[1]
    if len(_BY_ID) > 256:
        _BY_ID.clear()
    found = {check.id: check for check in run.checks}
    _BY_ID[id(run)] = (weakref.ref(run), found)
    return found


def loosened_checks(diff: RunDiff) -> int:
    """How many configured checks a diff loosened: the members of one slice or
    column family loosened by one edit count once."""
    newer = _checks_by_id(diff.newer)
    older = _checks_by_id(diff.older)
    planned = set()
    for change in diff.loosened:
        check = newer.get(change.check_id) or older.get(change.check_id)
        planned.add(check.family if check is not None and check.family else change.check_id)
    return len(planned)


def threshold_change(before: CheckResult, after: CheckResult) -> ThresholdChange | None:
    """How the threshold or severity of one check changed between two runs, if it did.

    A threshold missing on either side (a history that kept only the numbers)
    is not a change.
    """
    steps: list[tuple[str, str]] = []  # (direction, why)
    if before.severity is not after.severity:
        direction = LOOSENED if after.severity is Severity.WARN else TIGHTENED
        steps.append((direction, f"severity {before.severity.value} -> {after.severity.value}"))
    if before.threshold and after.threshold and before.threshold != after.threshold:
        steps += _bound_steps(before.threshold, after.threshold)
    if not steps:
        return None
    directions = {direction for direction, _ in steps}
    kind = directions.pop() if len(directions) == 1 else CHANGED
    if before.severity is Severity.BLOCK and after.severity is Severity.WARN:
        kind = LOOSENED  # a check that can no longer block is looser, whatever its bound
    why = "; ".join(why for _, why in steps)
    return ThresholdChange(after.id, before.threshold, after.threshold, kind, why)


def _bound_steps(old_text: str, new_text: str) -> list[tuple[str, str]]:
    try:
        old, new = parse_threshold(old_text), parse_threshold(new_text)
    except ThresholdError:
        return [(CHANGED, f"{old_text!r} -> {new_text!r}")]
    if _side(old.op) != _side(new.op) or _side(old.op) == "equal":
        return [(CHANGED, f"{old_text!r} -> {new_text!r}")]
    steps: list[tuple[str, str]] = []
    if (old.anchor, old.relative, old.is_duration) != (new.anchor, new.relative, new.is_duration):
        steps.append((CHANGED, f"bound {old.bound_text} -> {new.bound_text}"))
    else:
        direction = _bound_direction(old, new)
        if direction is not None:
            steps.append(
                (direction, f"bound {old.op} {old.bound_text} -> {new.op} {new.bound_text}")
            )
    if old.confidence != new.confidence:
        looser = (new.confidence or 0.0) < (old.confidence or 0.0)
        steps.append((LOOSENED if looser else TIGHTENED, f"level {_level(old)} -> {_level(new)}"))
    return steps


def _side(op: str) -> str:
    return {">=": "higher", ">": "higher", "<=": "lower", "<": "lower"}.get(op, "equal")


def _bound_direction(old: Threshold, new: Threshold) -> str | None:
    """Loosened when the bound moved towards failing values; a strict operator
    (``>``) is a hair stricter than its inclusive twin (``>=``) at the same bound."""
    higher = _side(old.op) == "higher"
    if old.value != new.value:
        lower_bound = new.value < old.value
        return LOOSENED if lower_bound == higher else TIGHTENED
    if old.op != new.op:
        return LOOSENED if len(new.op) == 2 else TIGHTENED
    return None


def _level(threshold: Threshold) -> str:
    return "none" if not threshold.confidence else f"{threshold.confidence * 100:g}%"


def _policy_change(old: InconclusivePolicy, new: InconclusivePolicy) -> ThresholdChange | None:
    if old is new:
        return None
    kind = LOOSENED if new is InconclusivePolicy.WARN else TIGHTENED
    why = f"on_inconclusive {old.value} -> {new.value}"
    return ThresholdChange(RUN_POLICY_ID, old.value, new.value, kind, why)


def _moves(before: dict[str, CheckResult], after: dict[str, CheckResult]) -> tuple[ValueMove, ...]:
    moves = []
    for check_id, check in after.items():
        old = before.get(check_id)
        if old is None or old.value is None or check.value is None:
            continue
        if not (math.isfinite(old.value) and math.isfinite(check.value)):
            continue
        if old.value == check.value:
            continue
        change = check.value - old.value
        relative = change / abs(old.value) if old.value else None
        moves.append(ValueMove(check_id, old.value, check.value, change, relative))
    moves.sort(
        key=lambda m: (m.relative is None, -abs(m.relative or 0.0), -abs(m.change), m.check_id)
    )
    return tuple(moves)


def describe_move(move: ValueMove) -> str:
    """``0.81 -> 0.78 (-3.7%)``: a value move as reporters show it."""
    text = f"{format_number(move.before, 4)} -> {format_number(move.after, 4)}"
    if move.relative is not None:
        text += f" ({move.relative * 100:+.1f}%)"
    return text


__all__ = [
    "CHANGED",
    "LOOSENED",
    "RUN_POLICY_ID",
    "TIGHTENED",
    "RunDiff",
    "StatusFlip",
    "ThresholdChange",
    "ValueMove",
    "describe_move",
    "diff_runs",
    "introduced_by",
    "loosened_checks",
    "previous_run",
    "threshold_change",
]
