"""Turns a config and its loaded inputs into verdicts: ``run_gates(config, context)``.

The runner owns the verdict semantics (thresholds, anchors, severities, the
``on_inconclusive`` and ``first_run`` policies) so they mean the same in every
stage. It reads no files of its own: earlier runs arrive as ``history``.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone

from mlgates.config import Config
from mlgates.context import Context
from mlgates.core import (
    CheckResult,
    ConfigError,
    FirstRunPolicy,
    GateResult,
    RunRecord,
    Severity,
    Status,
    is_blocking,
)
from mlgates.stages import STAGES, Measurement, PlannedCheck
from mlgates.thresholds import Anchor, Threshold


def new_context(config: Config) -> Context:
    """The context a config's stages read through (with its profile cache)."""
    return Context(config.root, cache_dir=config.root / ".mlgates" / "cache")


def plan_gates(config: Config, context: Context) -> dict[str, list[PlannedCheck]]:
    """Every check of every configured stage, by stage, before anything is measured."""
    try:
        plans = {
            name: list(STAGES[name].plan(stage_config, context))
            for name, stage_config in config.stages.items()
        }
    except ConfigError as exc:
        if exc.file is not None:
            raise
        raise ConfigError(exc.problem, file=config.display_path, key=exc.key) from None
    for name, plan in plans.items():
        if not plan:
            raise ConfigError(
                f"the {name} stage has nothing to check: add checks to [{name}]",
                file=config.display_path,
            )
    return plans


def run_stage(
    config: Config,
    context: Context,
    name: str,
    plan: Sequence[PlannedCheck],
    *,
    history: Sequence[RunRecord] = (),
) -> GateResult:
    """Measure and judge one stage's planned checks."""
    started = time.perf_counter()
    try:
        measurements = list(STAGES[name].measure(config.stages[name], plan, context))
        if len(measurements) != len(plan):
            raise RuntimeError(
                f"stage {name!r} measured {len(measurements)} checks but planned {len(plan)}"
            )
    except Exception as exc:  # a stage that raises blocks every one of its checks
        failure = Measurement(status=Status.ERROR, message=f"{type(exc).__name__}: {exc}")
        measurements = [failure] * len(plan)
    results = tuple(
        judge(check, measured, config=config, history=history)
        for check, measured in zip(plan, measurements, strict=True)
    )
    return GateResult(stage=name, checks=results, duration_s=time.perf_counter() - started)


def run_gates(
    config: Config,
    context: Context | None = None,
    *,
    history: Sequence[RunRecord] = (),
    source: str = "library",
    partial: bool = False,
) -> RunRecord:
    """Run every configured stage and return the run record (nothing is written).

    ``partial`` marks a run of a subset of the checks (``--stage``, command-line
    thresholds): it is recorded, but never becomes a ``previous``/``best`` anchor.
    """
    context = context or new_context(config)
    started = utc_now()
    plans = plan_gates(config, context)
    gates = [
        run_stage(config, context, name, plan, history=history) for name, plan in plans.items()
    ]
    return build_record(config, context, gates, started=started, source=source, partial=partial)


def utc_now() -> str:
    """The current UTC time in ISO 8601 with a ``Z``."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def build_record(
    config: Config,
    context: Context,
    gates: Sequence[GateResult],
    *,
    started: str,
    source: str,
    partial: bool = False,
) -> RunRecord:
    """A run record for ``gates``, with provenance: git, version, config and file hashes."""
    from mlgates.provenance import git_info, mlgates_version

    files = {context.display(config.path): context.file_hash(config.path), **context.files}
    return RunRecord(
        run_id=uuid.uuid4().hex,
        started_at=started,
        finished_at=utc_now(),
        gates=tuple(gates),
        mlgates_version=mlgates_version(),
        config_path=context.display(config.path),
        config_hash=config.config_hash,
        profile=config.profile,
        on_inconclusive=config.on_inconclusive,
        git=git_info(config.root),
        files=files,
        source=source,
        partial=partial or bool(config.overrides),
    )


def history_value(
    history: Sequence[RunRecord], check_id: str, anchor: Anchor, threshold: Threshold
) -> float | None:
    """The value of ``check_id`` in the last passing run (``previous``) or the best one."""
    values = []
    for record in history:
        if record.blocked or record.partial:
            continue
        result = record.check(check_id)
        if result is not None and result.value is not None and math.isfinite(result.value):
            values.append(result.value)
    if not values:
        return None
    if anchor is Anchor.PREVIOUS:
        return values[-1]
    return max(values) if threshold.higher_is_better else min(values)


def _format(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.6g}"


def judge(
    check: PlannedCheck,
    measured: Measurement,
    *,
    config: Config,
    history: Sequence[RunRecord] = (),
) -> CheckResult:
    """The verdict of one check from its measurement, applying severity and policies."""
    threshold = check.threshold
    status, message, bound = _decide(check, measured, config=config, history=history)
    if status is Status.FAIL and check.severity is Severity.WARN:
        status = Status.WARN
    blocking = is_blocking(status, check.severity, config.on_inconclusive)
    details: Mapping[str, object] = dict(measured.details)
    return CheckResult(
        stage=check.stage,
        metric=check.metric,
        selector=check.selector,
        status=status,
        severity=check.severity,
        threshold=str(threshold) if threshold is not None else None,
        value=measured.value,
        bound=bound,
        method=measured.method,
        message=message,
        reason=check.reason,
        blocking=blocking,
        details=details,
    )


def _decide(
    check: PlannedCheck,
    measured: Measurement,
    *,
    config: Config,
    history: Sequence[RunRecord],
) -> tuple[Status, str, float | None]:
    threshold = check.threshold
    if measured.status is not None:
        return measured.status, measured.message, measured.bound
    if threshold is None:
        return Status.ERROR, f"{check.id} has no threshold to compare with", None
    if measured.value is None or math.isnan(measured.value):
        note = f": {measured.message}" if measured.message else ""
        return Status.ERROR, f"{check.metric} could not be measured{note}", None

    anchor_value: float | None = None
    if threshold.anchor is not None:
        if threshold.anchor.from_history:
            anchor_value = history_value(history, check.id, threshold.anchor, threshold)
        else:
            anchor_value = measured.anchor_value
        if anchor_value is None or math.isnan(anchor_value):
            if threshold.anchor is Anchor.REFERENCE:
                return Status.ERROR, f"{threshold}: the reference has no value to compare", None
            what = (
                "no earlier passing run in the history"
                if threshold.anchor.from_history
                else f"no {threshold.anchor.value} value"
            )
            if config.first_run is FirstRunPolicy.PASS:
                return Status.SKIPPED, f'{threshold}: {what} (first_run = "pass")', None
            return (
                Status.INCONCLUSIVE,
                f'{threshold}: {what}; set first_run = "pass" to skip such bounds until '
                "there is one",
                None,
            )
    bound = threshold.bound(anchor_value)
    shown = f"{check.metric}{f'[{check.selector}]' if check.selector else ''}"
    anchor_note = f" ({threshold.anchor.value} {_format(anchor_value)})" if threshold.anchor else ""
    context = f"; {measured.message}" if measured.message else ""
    value = measured.value
    if threshold.confidence is not None and measured.interval is not None:
        low, high = measured.interval
        conservative = low if threshold.higher_is_better else high
        level = f"{threshold.confidence:.0%}"
        if threshold.holds(conservative, bound):
            return (
                Status.PASS,
                f"{shown} = {_format(value)}, {level} bound {_format(conservative)} "
                f"{threshold.op} {_format(bound)}{anchor_note}{context}",
                bound,
            )
        if not threshold.holds(value, bound):
            return (
                Status.FAIL,
                f"{shown} = {_format(value)} fails {threshold.op} {_format(bound)}"
                f"{anchor_note}{context}",
                bound,
            )
        return (
            Status.INCONCLUSIVE,
            f"{shown} = {_format(value)} meets {threshold.op} {_format(bound)}{anchor_note} "
            f"but its {level} interval [{_format(low)}, {_format(high)}] straddles the bound"
            f"{context}",
            bound,
        )
    if threshold.holds(value, bound):
        return (
            Status.PASS,
            f"{shown} = {_format(value)} {threshold.op} {_format(bound)}{anchor_note}{context}",
            bound,
        )
    return (
        Status.FAIL,
        f"{shown} = {_format(value)} fails {threshold.op} {_format(bound)}{anchor_note}{context}",
        bound,
    )
