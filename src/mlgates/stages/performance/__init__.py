"""The performance gate: the candidate model against the baseline, on the same rows.

Modules: :mod:`.settings` (the ``[performance]`` table), :mod:`.models`
(safe loading: skops, pinned pickles) with :mod:`.onnx_model` and
:mod:`.mlflow_model`, :mod:`.evaluation` (data, task, labels, predictions once
per run, the dummy baseline), :mod:`.metrics` (metric name to scorer, user
metrics), :mod:`.sensitivity` (perturbed inputs), :mod:`.planning` (overall and
slice checks), :mod:`.measuring` (values and intervals: DeLong, McNemar, paired
bootstrap), :mod:`.deepchecks_suite` (the deepchecks adapter).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from mlgates.authoring import CheckSpec, Measurement, MetricInfo, PlannedCheck, TableReader
from mlgates.stages.performance.settings import (
    METRICS,
    STAGE,
    PerformanceConfig,
    override,
    parse_performance_config,
)

if TYPE_CHECKING:
    from mlgates.context import Context


class PerformanceStage:
    """Candidate metrics, absolute and against a baseline, overall and per slice."""

    name = STAGE
    metrics: Mapping[str, MetricInfo] = METRICS

    def metrics_for(self, config: PerformanceConfig) -> Mapping[str, MetricInfo]:
        """The built-in metrics plus the config's user metrics."""
        return config.metrics

    def parse_config(self, table: TableReader) -> PerformanceConfig:
        """Read ``[performance]``; see docs/performance-gate.md for every key."""
        return parse_performance_config(table)

    def override(self, config: PerformanceConfig, spec: CheckSpec) -> PerformanceConfig:
        """``config`` with ``spec`` replacing the check of the same metric, slice and anchor."""
        return override(config, spec)

    def plan(self, config: PerformanceConfig, context: Context) -> list[PlannedCheck]:
        """Overall checks, slice families and single-slice checks."""
        from mlgates.stages.performance.planning import plan_performance

        return plan_performance(config, context)

    def measure(
        self, config: PerformanceConfig, plan: Sequence[PlannedCheck], context: Context
    ) -> dict[str, Measurement]:
        """Score both models once, then measure every planned check."""
        from mlgates.stages.performance.measuring import PerformanceRun

        return PerformanceRun(config, context).measure_all(plan)


__all__ = ["PerformanceConfig", "PerformanceStage"]
