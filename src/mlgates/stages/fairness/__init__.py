"""The fairness gate: how the candidate treats the groups the sensitive columns define.

Modules: :mod:`.settings` (the ``[fairness]`` table and its metrics),
:mod:`.groups` (the groups of each sensitive column and intersection),
:mod:`.measuring` (per-group metrics and disparities, with intervals from a
bootstrap within groups), :mod:`.explaining` (permutation importance:
sensitive features in the top k, ranking stability) and :mod:`.proxies`
(features that give a group away), :mod:`.runs` (one run of the stage: which
module measures which check). The models, target and labelled rows are
those of ``[performance]``, scored once for both gates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from mlgates.authoring import (
    FAMILY,
    CheckSpec,
    ConfigError,
    Measurement,
    MetricInfo,
    PlannedCheck,
    TableReader,
    anchored_variants,
)
from mlgates.stages.fairness.settings import (
    MEASURED_ONCE,
    METRICS,
    STAGE,
    FairnessConfig,
    override,
    parse_fairness_config,
)

if TYPE_CHECKING:
    from mlgates.context import Context


class FairnessStage:
    """Group metrics and disparities of the candidate, absolute and against the baseline;
    feature importance and proxies."""

    name = STAGE
    metrics: Mapping[str, MetricInfo] = METRICS
    builds_on = ("performance",)
    """Stages whose config this one reads: theirs may hold no checks of their own."""

    def parse_config(self, table: TableReader) -> FairnessConfig:
        """Read ``[fairness]``; see docs/fairness-gate.md for every key."""
        return parse_fairness_config(table)

    def override(self, config: FairnessConfig, spec: CheckSpec) -> FairnessConfig:
        """``config`` with ``spec`` replacing the check of the same metric, group and anchor."""
        return override(config, spec)

    def plan(self, config: FairnessConfig, context: Context) -> list[PlannedCheck]:
        """One family per check without a group (its members: every group, or every
        feature for ``proxy_auc``), one check per check naming its group."""
        columns = context.columns(config.data)
        missing = [name for name in config.sensitive if name not in columns]
        if missing:
            raise ConfigError(
                f"{', '.join(map(repr, missing))} not in {context.display(config.data)}; "
                f"its columns: {', '.join(columns[:30])}",
                key="fairness.sensitive",
            )
        planned = []
        for spec in anchored_variants(config.checks):
            family = spec.threshold.selector is None and spec.metric not in MEASURED_ONCE
            planned.append(PlannedCheck.from_spec(STAGE, spec, selector=FAMILY if family else None))
        return planned

    def measure(
        self, config: FairnessConfig, plan: Sequence[PlannedCheck], context: Context
    ) -> dict[str, Measurement]:
        """Score both models once (shared with the performance gate), then measure."""
        from mlgates.stages.fairness.runs import measure_fairness

        return measure_fairness(config, plan, context)


__all__ = ["FairnessConfig", "FairnessStage"]
