"""The data gate: schema, missing values, drift against a reference, optional GX suites.

Statistics come from column summaries (:mod:`mlgates.stats.profile`): the
reference is profiled once (and cached by its sha256, or stored with
``mlgates profile``), the current data is summarised on the reference's bins,
and drift is decided from the two summaries.

Modules: :mod:`.settings` (the ``[data]`` table), :mod:`.planning` (check ids
from headers), :mod:`.measuring` (one pass over the data), :mod:`.reference`
(the profile cache), :mod:`.streamed` (large Parquet files, batch by batch),
:mod:`.schema` (pandera), :mod:`.gx_suite` (Great Expectations).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from mlgates.authoring import (
    CheckSpec,
    Measurement,
    MetricInfo,
    PlannedCheck,
    TableReader,
)
from mlgates.stages.data.settings import METRICS, STAGE, DataConfig, override, parse_data_config

if TYPE_CHECKING:
    from mlgates.context import Context


class DataStage:
    """Schema, missing values, drift and expectation checks on tabular data."""

    name = STAGE
    metrics: Mapping[str, MetricInfo] = METRICS

    def parse_config(self, table: TableReader) -> DataConfig:
        """Read ``[data]``; see docs/configuration.md for every key."""
        return parse_data_config(table)

    def override(self, config: DataConfig, spec: CheckSpec) -> DataConfig:
        """``config`` with ``spec`` replacing checks of the same metric and column."""
        return override(config, spec)

    def plan(self, config: DataConfig, context: Context) -> list[PlannedCheck]:
        """Every check of the data gate, in report order."""
        from mlgates.stages.data.planning import plan_data

        return plan_data(config, context)

    def measure(
        self, config: DataConfig, plan: Sequence[PlannedCheck], context: Context
    ) -> dict[str, Measurement]:
        """Measure every planned check; see :mod:`.measuring`."""
        from mlgates.stages.data.measuring import DataRun

        run = DataRun(config, context)
        run.load_current()
        return run.measure_all(plan)


__all__ = ["DataConfig", "DataStage"]
