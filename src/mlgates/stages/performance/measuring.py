"""Measuring the performance checks: values, baseline values and confidence intervals.

Every check is first *prepared* on its rows (all rows, or one slice): too few
rows, or too few of a class, make it inconclusive; otherwise candidate and
baseline are scored. Checks with a confidence level then get their interval,
from the test suited to the metric:

=================  ==========================  ===============================
metric             value (``>= 0.8 @95%``)      difference (``>= baseline - 0.01 @95%``)
=================  ==========================  ===============================
accuracy           Wilson score interval        McNemar table, Agresti-Min interval
roc_auc (binary)   DeLong                       paired DeLong
any other metric   bootstrap percentile         paired bootstrap percentile
=================  ==========================  ===============================

Relative differences (``baseline - 2% @95%``) always use the paired
bootstrap. All bootstrap intervals of a run come from one set of resamples.
A family of slice checks at ``@95%`` holds 95% for the whole family: each of
its ``k`` slices is decided at ``1 - 0.05 / k`` (Bonferroni).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from mlgates.authoring import IntervalOf, Measurement, PlannedCheck, interval_needed
from mlgates.core import ConfigError, Status
from mlgates.stages.performance.evaluation import (
    Evaluation,
    Scored,
    perturbed_scores,
    shared_evaluation,
)
from mlgates.stages.performance.metrics import (
    NEEDS_BOTH_CLASSES,
    UserMetricError,
    point,
    scorer,
    sensitivity_metric,
)
from mlgates.stages.performance.planning import replaced_for, slice_selector
from mlgates.stages.performance.settings import (
    DEEPCHECKS,
    SENSITIVITY_METRICS,
    PerformanceConfig,
)
from mlgates.stats.paired import Statistic, bootstrap, delong, paired_accuracy, percentile_bounds
from mlgates.stats.proportions import wilson_bounds
from mlgates.stats.scoring import Classified
from mlgates.text import format_number

if TYPE_CHECKING:
    from mlgates.context import Context

MIN_CLASS_ROWS = 10
"""Below this many rows of a class, metrics that need both classes are inconclusive."""
MISSING_SLICE = "(missing)"


@dataclass
class _Prepared:
    """One check on its rows, before its interval is known."""

    check: PlannedCheck
    rows: NDArray[np.intp] | None
    size: int
    level: float | None = None
    family_size: int = 1
    value: float = math.nan
    baseline: float = math.nan
    done: Measurement | None = None
    interval: tuple[float, float] | None = None
    interval_of: IntervalOf | None = None
    method: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    replicates: tuple[int, int] | None = None


class PerformanceRun:
    """Measures the planned performance checks of one run."""

    def __init__(self, config: PerformanceConfig, context: Context) -> None:
        self.config = config
        self.context = context
        self.evaluation: Evaluation = shared_evaluation(config, context)
        self._functions: dict[str, Callable[..., Any]] = {}
        self._statistics: list[Statistic] = []

    # -- slices -------------------------------------------------------------------------

    def slices(self) -> list[tuple[str, NDArray[np.intp]]]:
        """Every slice as (selector, row positions), by column then value."""
        found = []
        for column in self.config.slices:
            values = self.evaluation.frame[column]
            keys = values.astype(object).where(values.notna(), MISSING_SLICE).astype(str)
            for value, positions in sorted(keys.groupby(keys).indices.items()):
                found.append((slice_selector(column, str(value)), np.asarray(positions)))
        return found

    def _rows_of(self, selector: str) -> NDArray[np.intp]:
        for name, rows in self.slices():
            if name == selector:
                return rows
        return np.empty(0, dtype=np.intp)

    # -- measuring ----------------------------------------------------------------------

    def measure_all(self, plan: Sequence[PlannedCheck]) -> dict[str, Measurement]:
        """A measurement for every planned check and every slice member of a family."""
        prepared: list[_Prepared] = []
        measured: dict[str, Measurement] = {}
        for check in plan:
            if check.metric == DEEPCHECKS:
                measured.update(self._deepchecks(check))
                continue
            if check.family:
                members = [
                    (check.member(selector), rows)
                    for selector, rows in self.slices()
                    if not replaced_for(self.config, check, selector)
                ]
                judged = [m for m, rows in members if len(rows) >= self.config.min_slice_size]
                for member, rows in members:
                    prepared.append(self._prepare(member, rows, family_size=max(len(judged), 1)))
            elif check.selector is not None:
                prepared.append(self._prepare(check, self._rows_of(check.selector)))
            else:
                prepared.append(self._prepare(check, None))
        self._resample(prepared)
        for item in prepared:
            measurement = self._finish(item)
            if item.check.selector is not None and item.check.threshold is not None:
                measurement = _with_check(measurement, item.check)
            measured[item.check.id] = measurement
        return measured

    def _deepchecks(self, family: PlannedCheck) -> dict[str, Measurement]:
        """Every condition of the configured deepchecks suite and checks, on the candidate."""
        from mlgates.authoring import reading
        from mlgates.stages.performance.deepchecks_suite import run_deepchecks

        settings = self.config.deepchecks
        train = None
        if settings.train is not None:
            with reading("performance.deepchecks.train"):
                train = self.context.frame(settings.train)
        candidate = self.evaluation.candidate
        return run_deepchecks(
            settings,
            family,
            evaluation=self.evaluation.frame,
            train=train,
            target=self.config.target,
            features=candidate.features,
            model=self.evaluation.models[0],
            predicted=candidate.labels,
            proba=candidate.proba,
        )

    def _prepare(
        self, check: PlannedCheck, rows: NDArray[np.intp] | None, *, family_size: int = 1
    ) -> _Prepared:
        size = self.evaluation.rows if rows is None else len(rows)
        item = _Prepared(check, rows, size, family_size=family_size)
        threshold = check.threshold
        assert threshold is not None
        if threshold.confidence is not None:
            item.level = 1 - (1 - threshold.confidence) / family_size
        minimum = self.config.min_rows if rows is None else self.config.min_slice_size
        setting = "min_rows" if rows is None else "min_slice_size"
        if rows is not None and size == 0 and not check.family:
            found = ", ".join(name for name, _ in self.slices()[:20])
            item.done = _inconclusive(f"{check.selector}: no such rows; the slices are {found}")
            return item
        if size < minimum:
            item.done = _inconclusive(
                f"{_where(check)}{size} rows, fewer than {setting} = {minimum}: too few to judge"
            )
            return item
        short = self._short_class(check.metric, rows)
        if short:
            item.done = _inconclusive(f"{_where(check)}{short}")
            return item
        which = "candidate"
        try:
            item.value = point(self._scorer(check.metric, which, rows), size)
            which = "baseline"
            item.baseline = point(self._scorer(check.metric, which, rows), size)
        except UserMetricError as exc:
            item.done = Measurement(status=Status.ERROR, message=str(exc))
            return item
        except ValueError as exc:  # the model cannot give what the metric needs
            model = getattr(self.evaluation, which).name
            raise ConfigError(
                f"{model}: {exc}; remove the check or give a model with predict_proba",
                key=check.origin.key if check.origin else "performance.checks",
            ) from None
        needed = interval_needed(threshold)
        if needed is not None:
            self._plan_interval(item, needed)
        return item

    def _short_class(self, metric: str, rows: NDArray[np.intp] | None) -> str:
        """Why the rows hold too few of a class for ``metric`` ("" when they hold enough)."""
        data = self.evaluation.candidate.data
        if metric == "metric_drop":
            metric = sensitivity_metric(
                self.config, self.evaluation.task, self.evaluation.candidate
            )
        if metric not in NEEDS_BOTH_CLASSES or not isinstance(data, Classified):
            return ""
        truth = data.truth if rows is None else data.truth[rows]
        counts = np.bincount(truth, minlength=data.classes)
        if data.classes == 2:
            wanted = {"positive": counts[data.positive], "negative": counts[1 - data.positive]}
            for name, count in wanted.items():
                if count < MIN_CLASS_ROWS:
                    return (
                        f"{count} {name} rows, fewer than {MIN_CLASS_ROWS}: {metric} cannot be "
                        "judged"
                    )
            return ""
        if int((counts >= MIN_CLASS_ROWS).sum()) < 2:
            return f"fewer than two classes with {MIN_CLASS_ROWS} rows: {metric} cannot be judged"
        return ""

    def _scorer(
        self, metric: str, which: str, rows: NDArray[np.intp] | None, *, resampling: bool = False
    ) -> Any:
        scored = self.evaluation.candidate if which == "candidate" else self.evaluation.baseline
        return scorer(
            metric,
            scored,
            task=self.evaluation.task,
            config=self.config,
            truth=self.evaluation.truth,
            rows=rows,
            resampling=resampling,
            user_functions=self._functions,
            perturbed=lambda: self._perturbed()[0 if which == "candidate" else 1],
        )

    def _perturbed(self) -> tuple[Scored, Scored]:
        """Both models on perturbed inputs, computed on first use."""
        key = ("performance-perturbed", id(self.config))
        return self.context.memo(
            key, lambda: perturbed_scores(self.config, self.context, self.evaluation)
        )

    # -- intervals ----------------------------------------------------------------------

    def _plan_interval(self, item: _Prepared, needed: IntervalOf) -> None:
        """Compute a closed-form interval now, or register the statistics to bootstrap."""
        assert item.level is not None
        metric, rows = item.check.metric, item.rows
        data = self.evaluation.candidate.data
        base = self.evaluation.baseline.data
        item.interval_of = needed
        binary = isinstance(data, Classified) and data.classes == 2
        if metric == "accuracy" and needed is IntervalOf.VALUE:
            assert isinstance(data, Classified)
            right = round(item.value * item.size)
            item.interval = wilson_bounds(right, item.size, item.level)
            item.method = "Wilson score interval"
            return
        if metric == "accuracy" and needed is IntervalOf.DIFFERENCE:
            assert isinstance(data, Classified) and isinstance(base, Classified)
            pick = slice(None) if rows is None else rows
            paired = paired_accuracy(
                data.truth[pick] == data.predicted[pick], base.truth[pick] == base.predicted[pick]
            )
            item.interval = paired.difference_bounds(item.level)
            item.method = "McNemar table, Agresti-Min interval"
            item.details.update(
                candidate_only_right=paired.only_first,
                baseline_only_right=paired.only_second,
                mcnemar_p=paired.p_value,
            )
            return
        if metric == "roc_auc" and binary and needed is not IntervalOf.RELATIVE_DIFFERENCE:
            assert isinstance(data, Classified) and isinstance(base, Classified)
            if data.proba is not None and base.proba is not None:
                pick = slice(None) if rows is None else rows
                positive = data.truth[pick] == data.positive
                scores = [data.proba[pick, data.positive]]
                if needed is IntervalOf.DIFFERENCE:
                    scores.append(base.proba[pick, base.positive])
                result = delong(positive, *scores)
                if needed is IntervalOf.VALUE:
                    item.interval = result.value_bounds(item.level)
                    item.method = "DeLong"
                else:
                    item.interval = result.difference_bounds(item.level)
                    item.method = "paired DeLong"
                    item.details["delong_p"] = result.p_value
                return
        start = len(self._statistics)
        for which, value in (("candidate", item.value), ("baseline", item.baseline)):
            resampled = self._scorer(metric, which, rows, resampling=True)
            self._statistics.append(Statistic(resampled, rows, point=value))
        item.replicates = (start, start + 1)
        resamples = self.config.resamples
        item.method = (
            f"bootstrap, {resamples} resamples"
            if needed is IntervalOf.VALUE
            else f"paired bootstrap, {resamples} resamples"
        )

    def _resample(self, prepared: Sequence[_Prepared]) -> None:
        """Run the one bootstrap every bootstrap interval of the run is read from."""
        waiting = [item for item in prepared if item.replicates is not None and item.done is None]
        if not waiting:
            return
        try:
            replicates = bootstrap(
                self._statistics,
                self.evaluation.rows,
                resamples=self.config.resamples,
                seed=self.config.seed,
            )
        except UserMetricError as exc:
            for item in waiting:
                item.done = Measurement(status=Status.ERROR, message=str(exc))
            return
        for item in waiting:
            assert item.replicates is not None and item.level is not None
            first, second = item.replicates
            candidate, baseline = replicates[:, first], replicates[:, second]
            assert item.interval_of is not None
            quantity = interval_quantity(item.interval_of, candidate, baseline)
            finite = np.isfinite(quantity)
            item.details["resamples_used"] = int(finite.sum())
            item.interval = percentile_bounds(quantity, item.level)

    # -- results ------------------------------------------------------------------------

    def _finish(self, item: _Prepared) -> Measurement:
        if item.done is not None:
            return item.done
        threshold = item.check.threshold
        assert threshold is not None
        notes = [f"{_where(item.check)}{item.size} rows"]
        if threshold.anchor is not None and threshold.anchor.value == "baseline":
            notes.append(f"baseline: {self.evaluation.baseline.name}")
        if item.family_size > 1 and threshold.confidence is not None and item.level is not None:
            notes.append(family_note(item.level, threshold.confidence, item.family_size, "slice"))
        if item.check.metric in SENSITIVITY_METRICS:
            settings = self.config.sensitivity
            watched = sensitivity_metric(
                self.config, self.evaluation.task, self.evaluation.candidate
            )
            what = "labels" if item.check.metric == "flip_rate" else watched
            notes.append(
                f"{what} on inputs perturbed by {format_number(settings.noise)} SD of noise and "
                f"{settings.swap:.0%} of categories moved to a neighbour"
            )
        for key in ("mcnemar_p", "delong_p"):
            if key in item.details:
                notes.append(f"two-sided p = {format_number(item.details[key], 3)}")
        details = dict(item.details)
        details["baseline_value"] = item.baseline
        details["rows"] = item.size
        if item.level is not None:
            details["level_each"] = item.level
        return Measurement(
            value=item.value,
            anchor_value=item.baseline,
            interval=item.interval,
            interval_of=item.interval_of,
            level=threshold.confidence,
            method=item.method,
            message="; ".join(notes),
            details=details,
        )


def interval_quantity(
    needed: IntervalOf, candidate: NDArray[np.float64], baseline: NDArray[np.float64]
) -> NDArray[np.float64]:
    """What an interval is read from: the candidate's replicates, or their difference
    from the baseline's (relative: over the baseline's magnitude)."""
    if needed is IntervalOf.VALUE:
        return candidate
    if needed is IntervalOf.DIFFERENCE:
        return candidate - baseline
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray((candidate - baseline) / np.abs(baseline), dtype=np.float64)


def family_note(level: float, confidence: float, size: int, member: str) -> str:
    """``99.5% per slice, so that 95% holds over 10 slices`` (Bonferroni)."""
    return (
        f"{format_number(level * 100, 4)}% per {member}, so that {confidence:.0%} holds over "
        f"{size} {member}s"
    )


def _where(check: PlannedCheck) -> str:
    return f"{check.selector}: " if check.selector else ""


def _inconclusive(message: str) -> Measurement:
    return Measurement(status=Status.INCONCLUSIVE, message=message)


def _with_check(measurement: Measurement, check: PlannedCheck) -> Measurement:
    from dataclasses import replace

    return replace(measurement, check=check)


__all__ = [
    "MIN_CLASS_ROWS",
    "MISSING_SLICE",
    "PerformanceRun",
    "family_note",
    "interval_quantity",
]
