"""The operational gate: is the candidate fast, light and safe enough to serve?

Modules: :mod:`.settings` (the ``[operational]`` table and its metrics),
:mod:`.timing_worker` (the program that loads and times the models in a fresh
process), :mod:`.latency` (percentiles, throughput and memory from its
timings, with bootstrap intervals), :mod:`.serving` (``mlgates serve``: an
HTTP prediction server for a model file), :mod:`.loadtest` (locust, headless,
in a subprocess) with :mod:`.locustfile`, :mod:`.audit` (pip-audit and the
ignores) with :mod:`.advisories` (a local OSV-compatible advisory server),
:mod:`.runs` (one run of the stage: which module measures which check). The
models and rows timed are those of ``[performance]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from mlgates.authoring import (
    FAMILY,
    CheckSpec,
    Measurement,
    MetricInfo,
    PlannedCheck,
    TableReader,
    anchored_variants,
)
from mlgates.stages.operational.settings import (
    METRICS,
    STAGE,
    OperationalConfig,
    override,
    parse_operational_config,
)

if TYPE_CHECKING:
    from mlgates.context import Context


class OperationalStage:
    """Latency, throughput and memory of the candidate against the baseline; an HTTP load
    test; a dependency audit."""

    name = STAGE
    metrics: Mapping[str, MetricInfo] = METRICS
    builds_on = ("performance",)
    """Stages whose config this one reads: theirs may hold no checks of their own."""

    def parse_config(self, table: TableReader) -> OperationalConfig:
        """Read ``[operational]``; see docs/operational-gate.md for every key."""
        return parse_operational_config(table)

    def override(self, config: OperationalConfig, spec: CheckSpec) -> OperationalConfig:
        """``config`` with ``spec`` replacing the check of the same metric, call and anchor."""
        return override(config, spec)

    def plan(self, config: OperationalConfig, context: Context) -> list[PlannedCheck]:
        """A family per call metric without a call (its members: every method and batch
        size timed), per audit check without a package (every package audited); one
        check otherwise."""
        planned = []
        for spec in anchored_variants(config.checks):
            family = spec.threshold.selector is None and METRICS[spec.metric].selector is not None
            planned.append(PlannedCheck.from_spec(STAGE, spec, selector=FAMILY if family else None))
        if config.load is not None:
            planned.extend(
                PlannedCheck.from_spec(STAGE, spec)
                for spec in anchored_variants(config.load.checks)
            )
        if config.audit is not None:
            for spec in anchored_variants(config.audit.checks):
                family = spec.threshold.selector is None
                planned.append(
                    PlannedCheck.from_spec(STAGE, spec, selector=FAMILY if family else None)
                )
        return planned

    def measure(
        self, config: OperationalConfig, plan: Sequence[PlannedCheck], context: Context
    ) -> dict[str, Measurement]:
        """Time the models in a fresh process, then load-test and audit."""
        from mlgates.stages.operational.runs import measure_operational

        return measure_operational(config, plan, context)


__all__ = ["OperationalConfig", "OperationalStage"]
