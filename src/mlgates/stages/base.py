"""What every stage provides, and the small types that pass between stage and runner.

A stage parses its own config table, *plans* its checks cheaply (ids are known
before any heavy work, so pytest can collect them), then *measures* them. The
runner turns measurements into verdicts, so thresholds, anchors, severities and
policies mean the same in every stage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from mlgates.core import Severity, Status, check_id

if TYPE_CHECKING:
    from mlgates.config import CheckSpec, MetricInfo, TableReader
    from mlgates.context import Context
    from mlgates.thresholds import Threshold


@dataclass(frozen=True)
class PlannedCheck:
    """A check as known before measuring: its id, threshold and severity."""

    stage: str
    metric: str
    selector: str | None = None
    threshold: Threshold | None = None
    severity: Severity = Severity.BLOCK
    reason: str | None = None
    description: str = ""

    @property
    def id(self) -> str:
        """``stage::metric`` or ``stage::metric[selector]``."""
        return check_id(self.stage, self.metric, self.selector)

    @classmethod
    def from_spec(cls, stage: str, spec: CheckSpec, *, selector: str | None = None) -> PlannedCheck:
        """A planned check for a configured threshold, optionally bound to a column."""
        threshold = spec.threshold if selector is None else spec.threshold.for_selector(selector)
        return cls(
            stage=stage,
            metric=threshold.metric,
            selector=threshold.selector,
            threshold=threshold,
            severity=spec.severity,
            reason=spec.reason,
        )


@dataclass(frozen=True)
class Measurement:
    """What a stage measured for one planned check.

    Either the stage leaves ``status`` unset and the runner compares ``value``
    with the threshold (resolving ``anchor_value`` for ``reference`` or
    ``baseline`` bounds, or ``interval`` for ``@confidence`` bounds), or the
    stage decides the status itself (schema, drift, too few rows) and says why in
    ``message``.
    """

    value: float | None = None
    anchor_value: float | None = None
    interval: tuple[float, float] | None = None
    status: Status | None = None
    message: str = ""
    method: str | None = None
    bound: float | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


class Stage(Protocol):
    """The interface the runner, the config loader and the adapters rely on."""

    name: str
    metrics: Mapping[str, MetricInfo]

    def parse_config(self, table: TableReader) -> Any:
        """Read and validate this stage's config table."""

    def override(self, config: Any, spec: CheckSpec) -> Any:
        """``config`` with ``spec`` replacing the checks of the same metric and selector."""

    def plan(self, config: Any, context: Context) -> Sequence[PlannedCheck]:
        """The checks this config yields, cheaply (file headers at most)."""

    def measure(
        self, config: Any, plan: Sequence[PlannedCheck], context: Context
    ) -> Sequence[Measurement]:
        """One measurement per planned check, in plan order."""
