"""Turns a config and its inputs into verdicts: plan, measure, judge. No file is written here.

:func:`run_gates` is the library entry point; :mod:`mlgates.session` adds the
history, the report and the outputs around it for the CLI and pytest.
"""

from __future__ import annotations

import time
import traceback
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone

from mlgates.authoring import FAMILY, Measurement, PlannedCheck
from mlgates.config import Config
from mlgates.context import Context
from mlgates.core import (
    CheckResult,
    ConfigError,
    Direction,
    GateResult,
    MlgatesError,
    RunRecord,
    Status,
    check_id,
)
from mlgates.judge import judge, judge_family
from mlgates.registry import configured_metrics, get_stage


def new_context(config: Config, *, now: datetime | None = None) -> Context:
    """The context a config's stages read through (with a cache beside the config).

    ``now`` fixes the run's time (:attr:`Context.now`); by default the clock's.
    """
    return Context(config.root, cache_dir=config.root / ".mlgates" / "cache", now=now)


def plan_gates(config: Config, context: Context) -> dict[str, list[PlannedCheck]]:
    """Every check of every configured stage, by stage, before anything is measured.

    A stage with nothing to check is a configuration error (a typo must never switch a
    gate off), unless another configured stage builds on it: a ``[performance]`` table
    with ``checks = []`` names the models the fairness gate judges. Such a stage is left
    out of the run.
    """
    plans: dict[str, list[PlannedCheck]] = {}
    for name, stage_config in config.stages.items():
        try:
            plans[name] = list(get_stage(name).plan(stage_config, context))
        except ConfigError as exc:
            raise _in_file(exc, config) from None
    supporting = {
        base
        for name, plan in plans.items()
        if plan
        for base in getattr(get_stage(name), "builds_on", ())
    }
    for name, plan in plans.items():
        if not plan and name not in supporting:
            raise ConfigError(
                f"the {name} stage has nothing to check: add checks to [{name}]",
                file=config.display_path,
            )
    return {name: plan for name, plan in plans.items() if plan}


def run_stage(
    config: Config,
    context: Context,
    name: str,
    plan: Sequence[PlannedCheck],
    *,
    history: Sequence[RunRecord] = (),
) -> GateResult:
    """Measure and judge one stage's planned checks (and the members it discovers).

    A stage that raises an unexpected exception yields one ``error`` result per
    planned check; an :class:`~mlgates.core.MlgatesError` (an unreadable input
    file) propagates: nothing was judged.
    """
    started = time.perf_counter()
    stage = get_stage(name)
    try:
        measured = dict(stage.measure(config.stages[name], plan, context))
    except ConfigError as exc:  # a setting that does not fit the data, found while measuring
        raise _in_file(exc, config) from None
    except MlgatesError:
        raise
    except Exception as exc:  # a stage bug blocks every one of its checks, visibly
        failure = Measurement(
            status=Status.ERROR,
            message=f"the {name} stage raised {type(exc).__name__}: {exc}",
            details={"traceback": traceback.format_exc(limit=20)},
        )
        measured = {check.id: failure for check in plan}
    checks = _judge_stage(config, plan, measured, history)
    return GateResult(stage=name, checks=tuple(checks), duration_s=time.perf_counter() - started)


def _in_file(error: ConfigError, config: Config) -> ConfigError:
    """``error`` naming the config file, when the stage could not know it."""
    if error.file is not None:
        return error
    return ConfigError(error.problem, file=config.display_path, key=error.key)


def _judge_stage(
    config: Config,
    plan: Sequence[PlannedCheck],
    measured: Mapping[str, Measurement],
    history: Sequence[RunRecord],
) -> list[CheckResult]:
    if not plan:
        return []
    stage = plan[0].stage
    metrics = configured_metrics(get_stage(stage), config.stages.get(stage))

    def direction(metric: str) -> Direction:
        info = metrics.get(metric)
        return info.direction if info is not None else Direction.NEITHER

    def unit(metric: str) -> str | None:
        info = metrics.get(metric)
        return info.unit if info is not None else None

    members: dict[str, list[tuple[PlannedCheck, Measurement]]] = {}
    planned_ids = {check.id for check in plan}
    for key, measurement in measured.items():
        if key in planned_ids:
            continue
        member = measurement.check
        if member is None:
            member = PlannedCheck(plan[0].stage, key.partition("::")[2] or key)
            measurement = Measurement(
                status=Status.ERROR,
                message=f"the stage measured {key!r}, which it neither planned nor described",
            )
        family = check_id(member.stage, member.metric, FAMILY, member.variant)
        members.setdefault(family, []).append((member, measurement))

    def judged(check: PlannedCheck, found: Measurement, family: str | None) -> CheckResult:
        where, unit_of = direction(check.metric), unit(check.metric)
        return judge(
            check,
            found,
            config=config,
            direction=where,
            history=history,
            family=family,
            unit=unit_of,
        )

    results: list[CheckResult] = []
    for check in plan:
        if not check.family:
            found = measured.get(check.id) or Measurement(
                status=Status.ERROR, message=f"the {check.stage} stage returned no result"
            )
            results.append(judged(check, found, None))
            continue
        discovered = members.pop(check.id, [])
        info = metrics.get(check.metric)
        if info is not None and info.track_members:
            discovered += _vanished(check, [m for m, _ in discovered], config, history, planned_ids)
        found_members = [judged(m, f, check.id) for m, f in discovered]
        own = judged(check, measured[check.id], None) if check.id in measured else None
        kind = (info.selector if info is not None else None) or "member"
        results.append(judge_family(check, found_members, config=config, kind=kind, own=own))
        results.extend(found_members)
    for family, orphans in members.items():  # discovered without a planned family
        results.extend(judged(member, found, family) for member, found in orphans)
    return results


def _vanished(
    family: PlannedCheck,
    found: Sequence[PlannedCheck],
    config: Config,
    history: Sequence[RunRecord],
    planned: set[str],
) -> list[tuple[PlannedCheck, Measurement]]:
    """Members of ``family`` measured in the last comparable run and not found now.

    A member checked on its own now (a check written for that slice), or of a
    column no longer sliced (``region=north`` when no ``region=`` member is
    found), is not missing.
    """
    last = next(
        (
            record
            for record in reversed(history)
            if record.comparable_to(config.profile, config.record_name)
            and any(result.family == family.id for result in record.checks)
        ),
        None,
    )
    if last is None:
        return []
    now = {member.selector for member in found}
    columns = {str(selector).partition("=")[0] for selector in now}
    gone = []
    for result in last.checks:
        if result.family != family.id or result.selector in now or result.selector is None:
            continue
        if result.id in planned:  # now checked on its own
            continue
        column, equals, _ = result.selector.partition("=")
        if equals and column not in columns:  # the column is no longer sliced
            continue
        message = (
            f"{result.selector}: measured in run {last.run_id[:12]} ({last.started_at}), "
            "no rows now; if it is gone for good, accept one run without it "
            '(on_inconclusive = "warn") so that run becomes the comparison'
        )
        gone.append(
            (
                family.member(result.selector),
                Measurement(status=Status.INCONCLUSIVE, message=message),
            )
        )
    return gone


def run_gates(
    config: Config,
    context: Context | None = None,
    *,
    history: Sequence[RunRecord] = (),
    source: str = "library",
) -> RunRecord:
    """Run every configured stage and return the run record.

    No history or report is written (stages may keep caches, such as the data
    gate's reference profiles).

    A config narrowed with :meth:`~mlgates.config.Config.with_stages` or
    :meth:`~mlgates.config.Config.with_thresholds` gives a partial record.
    """
    context = context or new_context(config)
    started = utc_now()
    plans = plan_gates(config, context)
    gates = [
        run_stage(config, context, name, plan, history=history) for name, plan in plans.items()
    ]
    planned = {check.id for plan in plans.values() for check in plan}
    partial = is_partial(config, planned, planned)
    return build_record(config, context, gates, started=started, source=source, partial=partial)


def is_partial(config: Config, planned: set[str], judged: set[str]) -> bool:
    """Whether a run judged a subset of its config: stages left out, thresholds
    overridden on the command line, or checks deselected (pytest ``-k``, ``-x``).

    A partial run is recorded but never anchors ``previous`` or ``best``.
    """
    return config.is_subset or judged != planned


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
    partial: bool,
) -> RunRecord:
    """A run record for ``gates``, with provenance: git, version, config and file hashes."""
    from mlgates.provenance import git_info, mlgates_version

    files = {config.record_name: context.file_hash(config.path), **context.files}
    return RunRecord(
        run_id=uuid.uuid4().hex,
        started_at=started,
        finished_at=utc_now(),
        gates=tuple(gates),
        mlgates_version=mlgates_version(),
        config_path=config.record_name,
        config_hash=config.config_hash,
        profile=config.profile,
        on_inconclusive=config.on_inconclusive,
        git=git_info(config.root),
        files=files,
        source=source,
        partial=partial,
    )
