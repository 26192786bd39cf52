"""Everything a stage author needs, in one import.

A stage reads its config table (:class:`TableReader`), *plans* its checks
cheaply (ids known before any heavy work, so pytest collects them), then
*measures* them. The runner turns measurements into verdicts, so thresholds,
anchors, intervals, severities and policies mean the same in every stage.

A stage may find checks while measuring (slices or groups present in the
data, packages with advisories): it plans a *family* check whose selector is
``*`` (``performance::roc_auc[*]``) and returns one measurement per member it
found, keyed by the member's id and carrying the member's
:class:`PlannedCheck` (:meth:`PlannedCheck.member`). The family's own verdict
is the worst of its members, so a failing member fails the family's pytest item.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from mlgates.context import Context
from mlgates.core import (
    ConfigError,
    Direction,
    InputError,
    Origin,
    Severity,
    Status,
    check_id,
)
from mlgates.tables import (
    SECONDS,
    CheckSpec,
    MetricInfo,
    SourceLines,
    TableReader,
    anchored_variants,
    parse_check,
)
from mlgates.thresholds import Anchor, Threshold

FAMILY = "*"
"""Selector of a planned check whose members a stage discovers while measuring."""

HISTORY_ANCHORS = frozenset({Anchor.PREVIOUS, Anchor.BEST})
"""Anchors every stage gets from the history."""


@contextmanager
def reading(key: str) -> Iterator[None]:
    """Inside, an :class:`InputError` names the config key of the file being read.

    ``with reading("data.current"): frame = context.frame(config.current)``
    turns "current.csv: is empty" into "data.current: current.csv: is empty".
    """
    try:
        yield
    except InputError as exc:
        if str(exc).startswith(f"{key}: "):
            raise
        raise InputError(f"{key}: {exc}") from None


def replace_checks(checks: Sequence[CheckSpec], spec: CheckSpec) -> tuple[CheckSpec, ...]:
    """``checks`` with ``spec`` replacing the one of the same metric, selector and anchor
    (or added)."""
    kept = tuple(c for c in checks if c.key != spec.key)
    return (*kept, spec)


@dataclass(frozen=True)
class PlannedCheck:
    """A check as known before measuring: its id, threshold, severity and origin."""

    stage: str
    metric: str
    selector: str | None = None
    threshold: Threshold | None = None
    severity: Severity = Severity.BLOCK
    reason: str | None = None
    origin: Origin | None = None
    description: str = ""
    variant: str | None = None

    @property
    def id(self) -> str:
        """``stage::metric[selector]``, with ``~variant`` when the metric has several bounds."""
        return check_id(self.stage, self.metric, self.selector, self.variant)

    @property
    def value_id(self) -> str:
        """The id of the measured value, shared by every bound on it."""
        return check_id(self.stage, self.metric, self.selector)

    @property
    def family(self) -> bool:
        """Whether this check stands for members found while measuring."""
        return self.selector == FAMILY

    def member(self, selector: str) -> PlannedCheck:
        """The check for one member of this family (a slice, group or package)."""
        threshold = None if self.threshold is None else self.threshold.for_selector(selector)
        return replace(self, selector=selector, threshold=threshold)

    @classmethod
    def from_spec(cls, stage: str, spec: CheckSpec, *, selector: str | None = None) -> PlannedCheck:
        """A planned check for a configured threshold, optionally bound to a selector."""
        threshold = spec.threshold if selector is None else spec.threshold.for_selector(selector)
        return cls(
            stage=stage,
            metric=threshold.metric,
            selector=threshold.selector,
            threshold=threshold,
            severity=spec.severity,
            reason=spec.reason,
            origin=spec.origin,
            variant=spec.variant,
        )


class IntervalOf(str, enum.Enum):
    """The quantity a confidence interval is about."""

    VALUE = "value"
    DIFFERENCE = "difference"
    RELATIVE_DIFFERENCE = "relative difference"


def interval_needed(threshold: Threshold) -> IntervalOf | None:
    """What a stage must give an interval of to decide ``threshold`` (None: no ``@``)."""
    if threshold.confidence is None:
        return None
    if threshold.on_difference:
        return IntervalOf.RELATIVE_DIFFERENCE if threshold.relative else IntervalOf.DIFFERENCE
    return IntervalOf.VALUE


@dataclass(frozen=True)
class Measurement:
    """What a stage measured for one check.

    Either the stage leaves ``status`` unset and the runner compares ``value``
    with the threshold (with ``anchor_value`` for ``reference`` or ``baseline``
    bounds), or the stage decides the status itself (schema, drift, too few
    rows) and says why in ``message``. For an ``@level`` threshold the stage
    gives ``interval``: the one-sided lower and upper bounds at ``level`` of the
    quantity :func:`interval_needed` names (``interval_of``). ``check`` is set
    on a member a stage discovered while measuring.
    """

    value: float | None = None
    anchor_value: float | None = None
    interval: tuple[float, float] | None = None
    interval_of: IntervalOf | None = None
    level: float | None = None
    status: Status | None = None
    message: str = ""
    method: str | None = None
    bound: float | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    check: PlannedCheck | None = None


class Stage(Protocol):
    """The interface the runner, the config loader and the adapters rely on."""

    name: str
    metrics: Mapping[str, MetricInfo]

    def parse_config(self, table: TableReader) -> Any:
        """Read and validate this stage's config table (unknown keys first)."""

    def override(self, config: Any, spec: CheckSpec) -> Any:
        """``config`` with ``spec`` replacing the checks of the same metric and selector."""

    def plan(self, config: Any, context: Context) -> Sequence[PlannedCheck]:
        """The checks this config yields, cheaply (file headers at most)."""

    def measure(
        self, config: Any, plan: Sequence[PlannedCheck], context: Context
    ) -> Mapping[str, Measurement]:
        """Measurements keyed by check id: every planned check, plus discovered members."""


__all__ = [
    "FAMILY",
    "HISTORY_ANCHORS",
    "SECONDS",
    "CheckSpec",
    "ConfigError",
    "Context",
    "Direction",
    "InputError",
    "IntervalOf",
    "Measurement",
    "MetricInfo",
    "PlannedCheck",
    "Severity",
    "SourceLines",
    "Stage",
    "Status",
    "TableReader",
    "anchored_variants",
    "interval_needed",
    "parse_check",
    "reading",
    "replace_checks",
]
