"""One run of the operational gate: timing, then the load test, then the audit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from mlgates.authoring import Measurement, PlannedCheck
from mlgates.stages.operational.settings import AUDITED, LOAD, OperationalConfig

if TYPE_CHECKING:
    from mlgates.context import Context


def measure_operational(
    config: OperationalConfig, plan: Sequence[PlannedCheck], context: Context
) -> dict[str, Measurement]:
    """Every planned operational check, measured."""
    audited = [c for c in plan if c.metric in AUDITED]
    loaded = [c for c in plan if c.selector == LOAD]
    timed = [c for c in plan if c not in audited and c not in loaded]
    measured: dict[str, Measurement] = {}
    if timed:
        from mlgates.stages.operational.latency import measure_timed

        measured.update(measure_timed(config, timed, context))
    if loaded:
        from mlgates.stages.operational.loadtest import measure_load

        measured.update(measure_load(config, loaded, context))
    if audited:
        from mlgates.stages.operational.audit import measure_audit

        assert config.audit is not None
        measured.update(measure_audit(config.audit, audited, context))
    return measured


__all__ = ["measure_operational"]
