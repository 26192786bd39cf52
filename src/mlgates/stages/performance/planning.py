"""Which checks the performance gate runs, overall and per slice.

``checks`` hold on all evaluation rows and, when ``slices`` names columns, on
every slice (each value of each slice column) as well, unless
``slice_checks`` gives the slices their own list. A check written for one
slice (``roc_auc[region=north] >= 0.7``) replaces the check of the same
metric and anchor for that slice. Slices are found in the data, so each
slice check is planned as a family (``roc_auc[*]``) whose members are the
slices measured.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlgates.authoring import FAMILY, CheckSpec, PlannedCheck, anchored_variants
from mlgates.core import ConfigError
from mlgates.stages.performance.settings import DEEPCHECKS, STAGE, PerformanceConfig

if TYPE_CHECKING:
    from mlgates.context import Context


def slice_selector(column: str, value: str) -> str:
    """The selector of one slice: ``region=north``."""
    return f"{column}={value}"


def generic_slice_checks(config: PerformanceConfig) -> tuple[CheckSpec, ...]:
    """The checks every slice gets: ``slice_checks`` when set (``[]``: none), else the
    unselected ``checks``."""
    source = config.checks if config.slice_checks is None else config.slice_checks
    return anchored_variants([s for s in source if s.threshold.selector is None])


def explicit_slice_checks(config: PerformanceConfig) -> tuple[CheckSpec, ...]:
    """Checks written for one slice, ``metric[column=value]``."""
    every = config.checks + (config.slice_checks or ())
    return anchored_variants([s for s in every if s.threshold.selector is not None])


def replaced_for(config: PerformanceConfig, check: PlannedCheck, selector: str) -> bool:
    """Whether a check written for this slice replaces the family ``check`` on it
    (same metric and anchor)."""
    anchor = (
        None
        if check.threshold is None or check.threshold.anchor is None
        else (check.threshold.anchor.value)
    )
    return any(
        spec.threshold.selector == selector and (spec.metric, spec.key[2]) == (check.metric, anchor)
        for spec in explicit_slice_checks(config)
    )


def plan_performance(config: PerformanceConfig, context: Context) -> list[PlannedCheck]:
    """Overall checks, then one family per slice check, then checks written for one slice."""
    columns = context.columns(config.data)
    for key, names in (("slices", config.slices), ("features", config.features)):
        missing = [name for name in names if name not in columns]
        if missing:
            raise ConfigError(
                f"{', '.join(map(repr, missing))} not in {context.display(config.data)}; "
                f"its columns: {', '.join(columns[:30])}",
                key=f"performance.{key}",
            )
    if config.target not in columns:
        raise ConfigError(
            f"{config.target!r} is not a column of {context.display(config.data)}; "
            f"its columns: {', '.join(columns[:30])}",
            key="performance.target",
        )
    overall = anchored_variants([s for s in config.checks if s.threshold.selector is None])
    planned = [PlannedCheck.from_spec(STAGE, spec) for spec in overall]
    if config.slices:
        planned += [
            PlannedCheck.from_spec(STAGE, spec, selector=FAMILY)
            for spec in generic_slice_checks(config)
        ]
    planned += [PlannedCheck.from_spec(STAGE, spec) for spec in explicit_slice_checks(config)]
    if config.deepchecks.enabled:
        planned.append(PlannedCheck(STAGE, DEEPCHECKS, FAMILY, description="deepchecks"))
    return planned


__all__ = [
    "explicit_slice_checks",
    "generic_slice_checks",
    "plan_performance",
    "replaced_for",
    "slice_selector",
]
