"""The verdict of one check: thresholds, anchors, intervals, severities and policies.

These rules are the contract users rely on (docs/configuration.md), so they
live in one place and mean the same in every stage.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mlgates.authoring import SECONDS, Measurement, PlannedCheck, interval_needed
from mlgates.config import Config
from mlgates.core import (
    CheckResult,
    Direction,
    FirstRunPolicy,
    RunRecord,
    Severity,
    Status,
    is_blocking,
)
from mlgates.text import format_duration, format_number, named, shorten
from mlgates.thresholds import Anchor, Threshold


@dataclass(frozen=True)
class AnchorValue:
    """The value a relative bound is built on, and where it came from."""

    value: float
    run_id: str | None = None
    started_at: str | None = None

    def describe(self, anchor: Anchor, unit: str | None = None) -> str:
        """``baseline 0.85`` or ``previous 0.83 (run 1a2b3c4d5e6f, 2026-11-20T...)``."""
        where = f" (run {self.run_id[:12]}, {self.started_at})" if self.run_id else ""
        return f"{anchor.value} {_number(self.value, unit)}{where}"


def _number(value: float | None, unit: str | None) -> str:
    """A value in a message: a duration (``4d 3h``) for a metric in seconds."""
    return format_duration(value) if unit == SECONDS else format_number(value)


def history_anchor(
    history: Sequence[RunRecord],
    check_id: str,
    anchor: Anchor,
    direction: Direction,
    *,
    profile: str | None,
    config_path: str | None = None,
) -> AnchorValue | None:
    """``previous`` (the last comparable run) or ``best`` value of a check in the history.

    ``check_id`` is the id of the measured value (:attr:`CheckResult.value_id`):
    every bound on one metric shares it. Comparable runs are complete (not
    partial), passed, and ran under the same profile (:meth:`RunRecord.comparable_to`).
    """
    found: list[AnchorValue] = []
    for record in history:
        if not record.comparable_to(profile, config_path):
            continue
        value = record.measured(check_id)
        if value is not None:
            found.append(AnchorValue(value, record.run_id, record.started_at))
    if not found:
        return None
    if anchor is Anchor.PREVIOUS:
        return found[-1]
    if direction is Direction.LOWER:
        return min(found, key=lambda item: item.value)
    return max(found, key=lambda item: item.value)


@dataclass(frozen=True)
class _Decision:
    status: Status
    message: str
    bound: float | None = None
    anchor: AnchorValue | None = None


def _result(
    check: PlannedCheck, status: Status, message: str, *, blocking: bool, **measured: Any
) -> CheckResult:
    """A check result with the planned check's identity, threshold, severity and origin."""
    threshold = check.threshold
    return CheckResult(
        stage=check.stage,
        metric=check.metric,
        selector=check.selector,
        variant=check.variant,
        status=status,
        severity=check.severity,
        threshold=str(threshold) if threshold is not None else None,
        anchor=threshold.anchor.value if threshold is not None and threshold.anchor else None,
        message=message,
        reason=check.reason,
        origin=check.origin,
        blocking=blocking,
        **measured,
    )


def judge(
    check: PlannedCheck,
    measured: Measurement,
    *,
    config: Config,
    direction: Direction = Direction.NEITHER,
    history: Sequence[RunRecord] = (),
    family: str | None = None,
    unit: str | None = None,
) -> CheckResult:
    """The verdict of one check from its measurement, applying severity and policies.

    ``unit`` is the metric's (:attr:`~mlgates.tables.MetricInfo.unit`): ``"s"``
    shows values as durations in the message and marks the result's values as seconds.
    """
    decision = _decide(
        check, measured, config=config, direction=direction, history=history, unit=unit
    )
    status = decision.status
    if status is Status.FAIL and check.severity is Severity.WARN:
        status = Status.WARN
    details = dict(measured.details)
    if decision.anchor is not None and decision.anchor.run_id:
        details["anchor_run"] = decision.anchor.run_id
    return _result(
        check,
        status,
        decision.message,
        blocking=is_blocking(status, check.severity, config.on_inconclusive),
        value=measured.value,
        bound=decision.bound,
        anchor_value=None if decision.anchor is None else decision.anchor.value,
        interval=measured.interval,
        level=measured.level,
        method=measured.method,
        family=family,
        details=details,
        unit=unit,
    )


def judge_family(
    check: PlannedCheck,
    members: Sequence[CheckResult],
    *,
    config: Config,
    kind: str,
    own: CheckResult | None = None,
) -> CheckResult:
    """The verdict of a family: the worst of its members (and of ``own``, what the stage
    measured for the family itself); it blocks when any of them does."""
    if not members:
        if own is not None:
            return own
        status = Status.INCONCLUSIVE
        blocking = is_blocking(status, check.severity, config.on_inconclusive)
        return _result(check, status, f"found no {kind} to check", blocking=blocking)
    parts = [] if own is None or own.status is Status.PASS else [own.message]
    bad = [m for m in members if m.status not in (Status.PASS, Status.SKIPPED)]
    passed = sum(m.status is Status.PASS for m in members)
    skipped = len(members) - passed - len(bad)
    counts = f"{passed} of {len(members)} {kind}s pass"
    if skipped:
        skips = (m.message for m in members if m.status is Status.SKIPPED)
        counts += f", {skipped} skipped ({shorten('; '.join(dict.fromkeys(skips)), 200)})"
    parts.append(counts)
    parts.extend(_named(m) for m in bad[:5])
    if len(bad) > 5:
        parts.append(f"+{len(bad) - 5} more")
    everything = [*members, *([] if own is None else [own])]
    return _result(
        check,
        Status.worst(item.status for item in everything),
        "; ".join(parts),
        blocking=any(item.blocking for item in everything),
        details={"members": [member.selector for member in members]},
    )


def _named(member: CheckResult) -> str:
    """A member's message, prefixed with its selector unless the message starts with it."""
    prefix = f"{member.selector}: "
    return member.message if member.message.startswith(prefix) else prefix + member.message


def _decide(
    check: PlannedCheck,
    measured: Measurement,
    *,
    config: Config,
    direction: Direction,
    history: Sequence[RunRecord],
    unit: str | None = None,
) -> _Decision:
    threshold = check.threshold
    if measured.status is not None:
        return _Decision(measured.status, measured.message, measured.bound)
    if threshold is None:
        return _Decision(Status.ERROR, f"{check.id} has no threshold to compare with")
    if measured.value is None or math.isnan(measured.value):
        note = f": {measured.message}" if measured.message else ""
        return _Decision(Status.ERROR, f"{check.metric} could not be measured{note}")

    anchor: AnchorValue | None = None
    if threshold.anchor is not None:
        if threshold.anchor.from_history:
            anchor = history_anchor(
                history,
                check.value_id,
                threshold.anchor,
                direction,
                profile=config.profile,
                config_path=config.record_name,
            )
        elif measured.anchor_value is not None and not math.isnan(measured.anchor_value):
            anchor = AnchorValue(measured.anchor_value)
        if anchor is None:
            return _missing_anchor(threshold, config)
    bound = threshold.bound(None if anchor is None else anchor.value)
    shown = named(check.metric, check.selector)
    anchor_note = "" if anchor is None else f" ({anchor.describe(threshold.anchor, unit)})"  # type: ignore[arg-type]
    context = f"; {measured.message}" if measured.message else ""
    value = measured.value
    if threshold.confidence is not None:
        return _decide_on_interval(check, measured, threshold, anchor, bound, context, unit)
    holds = threshold.holds(value, bound)
    verb = threshold.op if holds else f"fails {threshold.op}"
    status = Status.PASS if holds else Status.FAIL
    return _Decision(
        status,
        f"{shown} = {_number(value, unit)} {verb} {_number(bound, unit)}{anchor_note}{context}",
        bound,
        anchor,
    )


def _missing_anchor(threshold: Threshold, config: Config) -> _Decision:
    assert threshold.anchor is not None
    if threshold.anchor is Anchor.REFERENCE:
        return _Decision(Status.ERROR, f"{threshold}: the reference has no value to compare")
    what = (
        "no comparable earlier run (complete, passed, same config file and profile) with a value"
        if threshold.anchor.from_history
        else f"no {threshold.anchor.value} value"
    )
    if config.first_run is FirstRunPolicy.PASS:
        return _Decision(Status.SKIPPED, f'{threshold}: {what} (first_run = "pass")')
    return _Decision(
        Status.INCONCLUSIVE,
        f'{threshold}: {what}; set first_run = "pass" to skip such bounds until there is one',
    )


def _decide_on_interval(
    check: PlannedCheck,
    measured: Measurement,
    threshold: Threshold,
    anchor: AnchorValue | None,
    bound: float,
    context: str,
    unit: str | None = None,
) -> _Decision:
    """Pass when the one-sided bound holds, fail when even the far side fails, else inconclusive."""
    needed = interval_needed(threshold)
    assert needed is not None
    level = f"{threshold.confidence:.0%}"
    if measured.interval is None or measured.interval_of is not needed:
        got = "no interval"
        if measured.interval is not None and measured.interval_of is not None:
            got = f"an interval of the {measured.interval_of.value}"
        return _Decision(
            Status.ERROR,
            f"{threshold} needs a {level} interval of the {needed.value} but the "
            f"{check.stage} stage gave {got}",
        )
    if measured.level is None or not math.isclose(measured.level, threshold.confidence or 0):
        return _Decision(
            Status.ERROR,
            f"{threshold} needs a {level} interval but the {check.stage} stage gave one at "
            f"{format_number(measured.level)}",
        )
    each = measured.details.get("level_each")
    if isinstance(each, float) and not math.isclose(each, threshold.confidence or 0):
        level = f"{format_number(each * 100, 4)}% ({level} over the family)"
    low, high = measured.interval
    value = measured.value
    assert value is not None
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        return _Decision(
            Status.ERROR,
            f"{threshold}: the {check.stage} stage gave an unusable interval "
            f"[{format_number(low)}, {format_number(high)}]",
        )
    shown = named(check.metric, check.selector)
    if threshold.on_difference and anchor is not None:
        limit = threshold.value
        point = value - anchor.value
        if threshold.relative:
            point = point / abs(anchor.value) if anchor.value else math.nan
        quantity = (
            f"{shown} = {_number(value, unit)}, {anchor.describe(threshold.anchor, unit)}: "  # type: ignore[arg-type]
            f"{needed.value} {_offset(point, threshold.relative)}"
        )
        limit_text = _offset(limit, threshold.relative)
        shown_low, shown_high = _offset(low, threshold.relative), _offset(high, threshold.relative)
    else:
        limit = bound
        quantity = f"{shown} = {_number(value, unit)}"
        limit_text = _number(bound, unit)
        shown_low, shown_high = _number(low, unit), _number(high, unit)
    conservative, optimistic = (low, high) if threshold.higher_is_better else (high, low)
    side = "lower" if threshold.higher_is_better else "upper"
    bounds = f"[{shown_low}, {shown_high}]"
    if threshold.holds(conservative, limit):
        near = shown_low if side == "lower" else shown_high
        status, verdict = Status.PASS, f"{level} {side} bound {near} {threshold.op} {limit_text}"
    elif not threshold.holds(optimistic, limit):
        status = Status.FAIL
        verdict = f"fails {threshold.op} {limit_text} even at the {level} bounds {bounds}"
    else:
        status = Status.INCONCLUSIVE
        verdict = f"its {level} bounds {bounds} straddle {limit_text}"
    return _Decision(status, f"{quantity}: {verdict}{context}", bound, anchor)


def _offset(value: float, relative: bool) -> str:
    return f"{value * 100:+.3g}%" if relative else f"{value:+.6g}"
