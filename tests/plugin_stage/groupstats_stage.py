"""A third-party mlgates stage, used by the tests: the mean of a column per group.

``[groups]`` reads a CSV, splits it by one column and checks the mean of another
column in every group. ``mean >= 1`` is a *family* (``groups::mean[*]``) whose
members are the groups found in the data; ``mean[north] >= 1`` checks one group
by name, and that group then leaves the family. ``@95%`` decides on a one-sided
Student t bound of the group mean. A group with fewer than ``min_group_size``
rows is inconclusive.

Registered through the ``mlgates.stages`` entry point::

    [project.entry-points."mlgates.stages"]
    groups = "groupstats_stage:GroupStatsStage"
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from mlgates.authoring import (
    FAMILY,
    HISTORY_ANCHORS,
    CheckSpec,
    ConfigError,
    Direction,
    IntervalOf,
    Measurement,
    MetricInfo,
    PlannedCheck,
    Status,
    TableReader,
    interval_needed,
    replace_checks,
)

if TYPE_CHECKING:
    import pandas as pd

    from mlgates.context import Context

STAGE = "groups"
METRICS: Mapping[str, MetricInfo] = {
    "mean": MetricInfo(
        "mean of the value column in a group",
        direction=Direction.HIGHER,
        selector="group",
        anchors=HISTORY_ANCHORS,
        interval=True,
    )
}
_KEYS = ("data", "group", "value", "checks", "min_group_size")


@dataclass(frozen=True)
class GroupStatsConfig:
    """The validated ``[groups]`` table."""

    data: Path
    group: str
    value: str
    checks: tuple[CheckSpec, ...] = ()
    min_group_size: int = 5


class GroupStatsStage:
    """Checks the mean of ``value`` in every group of ``group``."""

    name = STAGE
    metrics: Mapping[str, MetricInfo] = METRICS

    def parse_config(self, table: TableReader) -> GroupStatsConfig:
        """Read ``[groups]``: unknown keys first, then each key."""
        table.expect(_KEYS)
        data = table.path("data", required=True)
        assert data is not None
        names: dict[str, str] = {}
        for key in ("group", "value"):
            name = table.string(key)
            if not name:
                raise table.error(key, "is required: the name of a column of the data")
            names[key] = name
        return GroupStatsConfig(
            data=data,
            group=names["group"],
            value=names["value"],
            checks=table.checks("checks", STAGE, METRICS),
            min_group_size=table.integer("min_group_size", 5, minimum=2),
        )

    def override(self, config: GroupStatsConfig, spec: CheckSpec) -> GroupStatsConfig:
        """``config`` with ``spec`` replacing the check of the same metric and group."""
        return replace(config, checks=replace_checks(config.checks, spec))

    def plan(self, config: GroupStatsConfig, context: Context) -> list[PlannedCheck]:
        """One family per table-wide threshold, one check per threshold naming a group."""
        present = context.columns(config.data)
        for key, column in (("group", config.group), ("value", config.value)):
            if column not in present:
                raise ConfigError(
                    f"{column!r} is not a column of {context.display(config.data)}",
                    key=f"{STAGE}.{key}",
                )
        return [
            PlannedCheck.from_spec(
                STAGE, spec, selector=FAMILY if spec.threshold.selector is None else None
            )
            for spec in config.checks
        ]

    def measure(
        self, config: GroupStatsConfig, plan: Sequence[PlannedCheck], context: Context
    ) -> dict[str, Measurement]:
        """Every planned check, plus one member per group found for each family."""
        import pandas as pd

        frame = context.frame(config.data)
        values = frame[config.value]
        if not pd.api.types.is_numeric_dtype(values):
            problem = Measurement(
                status=Status.ERROR, message=f"column {config.value!r} is not numeric"
            )
            return {check.id: problem for check in plan}
        groups = {
            str(name): rows.dropna()
            for name, rows in values.groupby(frame[config.group], dropna=True, sort=True)
        }
        named = {check.selector for check in plan if not check.family}
        measured: dict[str, Measurement] = {}
        for check in plan:
            if not check.family:
                rows = groups.get(str(check.selector))
                measured[check.id] = (
                    _mean(check, rows, config.min_group_size)
                    if rows is not None
                    else Measurement(
                        status=Status.ERROR,
                        message=f"no rows with {config.group} = {check.selector!r}; "
                        f"groups: {', '.join(groups)}",
                    )
                )
                continue
            for group, rows in groups.items():
                if group not in named:  # a group checked by name is not a member too
                    member = check.member(group)
                    measured[member.id] = _mean(member, rows, config.min_group_size, member=True)
        return measured


def _mean(
    check: PlannedCheck, rows: pd.Series, min_size: int, *, member: bool = False
) -> Measurement:
    """The group mean, with a one-sided t interval when the threshold has ``@level``."""
    found = check if member else None
    count = len(rows)
    if count < min_size:
        return Measurement(
            status=Status.INCONCLUSIVE,
            message=f"only {count} rows (min_group_size = {min_size})",
            details={"rows": count},
            check=found,
        )
    mean = float(rows.mean())
    needed = None if check.threshold is None else interval_needed(check.threshold)
    if needed is None:
        return Measurement(value=mean, method="mean", details={"rows": count}, check=found)
    assert check.threshold is not None and check.threshold.confidence is not None
    if needed is not IntervalOf.VALUE:  # only history anchors: never a paired difference
        return Measurement(
            status=Status.ERROR, message=f"no interval of the {needed.value}", check=found
        )
    from scipy import stats

    level = check.threshold.confidence
    margin = float(stats.t.ppf(level, count - 1)) * float(rows.std(ddof=1)) / math.sqrt(count)
    return Measurement(
        value=mean,
        interval=(mean - margin, mean + margin),
        interval_of=IntervalOf.VALUE,
        level=level,
        method=f"one-sided t, {count - 1} df",
        details={"rows": count},
        check=found,
    )
