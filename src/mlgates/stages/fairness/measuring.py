"""Measuring the group checks: per-group metrics and disparities, with intervals.

Every group metric is computed for every group of every grouping, for the
candidate and the baseline on the same rows. A binary classifier's rates come
from confusion counts per group (:mod:`mlgates.stats.groups`), resampled
within groups as multinomial counts; any other metric is scored by the
performance gate's scorers on each group's rows, resampled within groups row
by row. Both models share every resample, so differences are paired.

A group with fewer than ``min_group_size`` rows (or, for a rate of the
positive or negative rows, fewer than 10 of them) is not judged: its checks
are inconclusive, and it takes no part in the other groups' disparities.

Every group check carries its grouping's values for the report to draw (see
:meth:`FairnessRun.group_details`): ``details["group_metric"]``, the metric the
groups are compared on, and ``details["groups"]``, one entry per group, at most
:data:`GROUPS_SHOWN` of them.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from mlgates.authoring import IntervalOf, Measurement, PlannedCheck, interval_needed
from mlgates.core import ConfigError, Status
from mlgates.stages.fairness.groups import build_groupings
from mlgates.stages.fairness.settings import (
    ALIASES,
    DISPARITIES,
    FairnessConfig,
)
from mlgates.stages.performance.evaluation import Evaluation, shared_evaluation
from mlgates.stages.performance.measuring import (
    MIN_CLASS_ROWS,
    family_note,
    interval_quantity,
)
from mlgates.stages.performance.metrics import NEEDS_BOTH_CLASSES, point, scorer
from mlgates.stats.groups import (
    DENOMINATORS,
    RATES,
    Grouping,
    cell_counts,
    denominator,
    group_gaps,
    overall_gaps,
    rate_of,
    resample_cells,
    stratified_weights,
)
from mlgates.stats.paired import percentile_bounds
from mlgates.stats.scoring import Classified
from mlgates.text import format_number

if TYPE_CHECKING:
    from mlgates.context import Context

BINNED_WHEN_RESAMPLED = frozenset({"roc_auc", "pr_auc"})
"""Metrics whose resampled scorer bins the scores (:data:`mlgates.stages.performance.metrics.
BOOTSTRAP_GROUPS`)."""

GROUPS_SHOWN = 50
"""Groups listed in a check's ``details["groups"]``, at most: the extremes and its own."""
DIGITS = 6
"""Significant digits of the values in ``details["groups"]``."""

_READABLE = {
    "selection_rate": "selection rate",
    "tpr": "TPR",
    "fpr": "FPR",
    "fnr": "FNR",
    "tnr": "TNR",
}


def readable(metric: str) -> str:
    """A metric's name as prose."""
    return _READABLE.get(metric, metric)


@dataclass(frozen=True)
class GroupValues:
    """One metric on one grouping: row 0 the point values, rows 1.. the bootstrap
    replicates; ``judged[g]`` false with ``why[g]`` for a group too small to judge."""

    metric: str
    grouping: Grouping
    sizes: NDArray[np.float64]  # rows per group
    candidate: NDArray[np.float64]  # (1 + resamples, groups)
    baseline: NDArray[np.float64]
    overall_candidate: NDArray[np.float64]  # (1 + resamples,)
    overall_baseline: NDArray[np.float64]
    judged: NDArray[np.bool_]
    why: tuple[str, ...]

    def only_judged(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """``values`` with NaN for the groups not judged."""
        return np.where(self.judged, values, np.nan)


class FairnessRun:
    """Measures the planned group checks of one run."""

    def __init__(self, config: FairnessConfig, context: Context) -> None:
        self.config = config
        self.context = context
        self.evaluation: Evaluation = shared_evaluation(config.models, context)
        display = context.display(config.data)
        self.groupings: list[Grouping] = context.memo(
            (
                "fairness-groupings",
                config.data,
                config.sensitive,
                config.groupings,
                tuple(sorted(config.bins.items())),
            ),
            lambda: build_groupings(self.evaluation.frame, config, display),
        )
        self._values: dict[tuple[str, str, bool], GroupValues] = {}
        self._cell_cache: dict[tuple[str, bool], NDArray[np.float64]] = {}
        seeds = np.random.SeedSequence(config.seed).spawn(len(self.groupings))
        self._seeds = {g.name: seed for g, seed in zip(self.groupings, seeds, strict=True)}

    # -- groups ---------------------------------------------------------------------------

    def members(
        self, check: PlannedCheck, replaced: Collection[str] = ()
    ) -> list[tuple[Grouping, int]]:
        """The (grouping, group) pairs a check is measured on: every group for a family
        but those in ``replaced``, else the one its selector names (none when no such
        group occurs)."""
        found = []
        for grouping in self.groupings:
            for code, label in enumerate(grouping.labels):
                if (check.family and label not in replaced) or label == check.selector:
                    found.append((grouping, code))
        return found

    def all_labels(self) -> list[str]:
        """Every group's selector."""
        return [label for g in self.groupings for label in g.labels]

    # -- values -------------------------------------------------------------------------

    def values(self, metric: str, grouping: Grouping, resampled: bool) -> GroupValues:
        """``metric`` on every group of ``grouping``, with replicates when ``resampled``."""
        metric = ALIASES.get(metric, metric)
        key = (metric, grouping.name, resampled)
        if key not in self._values:
            if not resampled and (metric, grouping.name, True) in self._values:
                self._values[key] = self._values[(metric, grouping.name, True)]
            elif self._fast(metric):
                self._values[key] = self._from_cells(metric, grouping, resampled)
            else:
                self._values[key] = self._from_rows(metric, grouping, resampled)
        return self._values[key]

    def _fast(self, metric: str) -> bool:
        data = self.evaluation.candidate.data
        binary = isinstance(data, Classified) and data.classes == 2
        if metric in RATES and metric not in ("accuracy",) and not binary:
            if metric in ("precision", "f1", "balanced_accuracy"):
                return False
            task = self.evaluation.task
            fits = "mae, rmse or mape" if task == "regression" else "accuracy or f1_macro"
            raise ConfigError(
                f"{readable(metric)} is a rate of a binary classifier's positive predictions; "
                f"this evaluation is {task}: measure a metric of the task per group, e.g. "
                f"{fits} (or their _difference)",
                key="fairness.checks",
            )
        return binary and metric in RATES

    def _cells(self, grouping: Grouping, resampled: bool) -> NDArray[np.float64]:
        """``(1 + resamples, groups, 8)`` cell counts: the data, then the resamples."""
        key = (grouping.name, resampled)
        if key not in self._cell_cache:
            candidate = self.evaluation.candidate.data
            baseline = self.evaluation.baseline.data
            assert isinstance(candidate, Classified) and isinstance(baseline, Classified)
            positive = candidate.positive
            counts = cell_counts(
                grouping.codes,
                len(grouping.labels),
                candidate.truth == positive,
                candidate.predicted == positive,
                baseline.predicted == positive,
            )
            layers = [counts[None]]
            if resampled:
                rng = np.random.default_rng(self._seeds[grouping.name])
                layers.append(resample_cells(counts, self.config.resamples, rng))
            self._cell_cache[key] = np.concatenate(layers, axis=0)
        return self._cell_cache[key]

    def _from_cells(self, metric: str, grouping: Grouping, resampled: bool) -> GroupValues:
        cells = self._cells(grouping, resampled)
        totals = cells.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            candidate, baseline = rate_of(metric, cells, 0), rate_of(metric, cells, 1)
            overall = rate_of(metric, totals, 0), rate_of(metric, totals, 1)
        sizes = cells[0].sum(axis=-1)
        among = denominator(metric, cells[0]) if metric in DENOMINATORS else None
        judged, why = self._judge_sizes(metric, grouping, sizes, among, fast=True)
        if metric == "selection_rate" and self._favours_negative():
            candidate, baseline = 1 - candidate, 1 - baseline
            overall = 1 - overall[0], 1 - overall[1]
        return GroupValues(metric, grouping, sizes, candidate, baseline, *overall, judged, why)

    def _favours_negative(self) -> bool:
        """Whether ``favourable`` names the negative class: selection rates then count the
        rows predicted negative."""
        favourable = self.config.favourable
        if favourable is None:
            return False
        classes = self.evaluation.classes
        data = self.evaluation.candidate.data
        assert isinstance(data, Classified)
        for code, label in enumerate(classes):
            if label == favourable or str(label) == str(favourable):
                return code != data.positive
        shown = ", ".join(repr(c) for c in classes)
        raise ConfigError(
            f"{favourable!r} is not one of the labels: {shown}", key="fairness.favourable"
        )

    def _judge_sizes(
        self,
        metric: str,
        grouping: Grouping,
        sizes: NDArray[np.float64],
        among: NDArray[np.float64] | None,
        *,
        fast: bool,
    ) -> tuple[NDArray[np.bool_], tuple[str, ...]]:
        """Which groups are judged: ``min_group_size`` rows, and for a rate of some rows
        (``among``: the positive rows for TPR ...) ``MIN_CLASS_ROWS`` of them."""
        minimum = self.config.min_group_size
        judged = np.ones(len(sizes), dtype=bool)
        why = []
        for code, label in enumerate(grouping.labels):
            size = int(sizes[code])
            reason = ""
            if size < minimum:
                reason = (
                    f"{label}: {_rows(size)}, fewer than min_group_size = {minimum}: too few "
                    "to judge"
                )
            elif among is not None and among[code] < MIN_CLASS_ROWS:
                kind = DENOMINATORS.get(metric, "both") if fast else "both"
                rows = "positive or negative" if kind == "both" else kind
                reason = (
                    f"{label}: {_rows(int(among[code]), rows)}, fewer than {MIN_CLASS_ROWS}: "
                    f"{readable(metric)} cannot be judged"
                )
            judged[code] = not reason
            why.append(reason)
        return judged, tuple(why)

    def _from_rows(self, metric: str, grouping: Grouping, resampled: bool) -> GroupValues:
        """Any performance metric, scored on each group's rows; resampled within groups."""
        evaluation = self.evaluation
        groups = len(grouping.labels)
        members = [grouping.rows(code) for code in range(groups)]
        sizes = np.array([len(rows) for rows in members], dtype=np.float64)
        among = None
        data = evaluation.candidate.data
        if metric in NEEDS_BOTH_CLASSES and isinstance(data, Classified):
            counts = np.array(
                [np.bincount(data.truth[rows], minlength=data.classes) for rows in members]
            ).reshape(groups, data.classes)
            among = counts.min(axis=1) if data.classes == 2 else np.sort(counts, axis=1)[:, -2]
        judged, why = self._judge_sizes(metric, grouping, sizes, among, fast=False)
        extra = self.config.resamples if resampled else 0
        out = {which: np.full((1 + extra, groups), np.nan) for which in ("candidate", "baseline")}
        overall = {which: np.full(1 + extra, np.nan) for which in ("candidate", "baseline")}
        scorers: dict[str, list[tuple[Any, float] | None]] = {"candidate": [], "baseline": []}
        for which in ("candidate", "baseline"):
            for code, rows in enumerate(members):
                if not judged[code]:
                    scorers[which].append(None)
                    continue
                out[which][0, code], resampler = self._scored(metric, which, rows, extra)
                scorers[which].append(resampler)
            overall[which][0], resampler = self._scored(metric, which, None, extra)
            scorers[which].append(resampler)
        if extra:
            rng = np.random.default_rng(self._seeds[grouping.name])
            chunk = max(1, min(extra, (1 << 24) // max(evaluation.rows, 1)))
            for start in range(0, extra, chunk):
                count = min(chunk, extra - start)
                weights = stratified_weights(members, evaluation.rows, count, rng)
                span = slice(1 + start, 1 + start + count)
                for which in ("candidate", "baseline"):
                    for code, rows in enumerate(members):
                        found = scorers[which][code]
                        if found is not None:
                            score, shift = found
                            out[which][span, code] = score(weights[:, rows]) + shift
                    found = scorers[which][-1]
                    assert found is not None
                    overall[which][span] = found[0](weights) + found[1]
        return GroupValues(
            metric,
            grouping,
            sizes,
            out["candidate"],
            out["baseline"],
            overall["candidate"],
            overall["baseline"],
            judged,
            why,
        )

    def _scored(
        self, metric: str, which: str, rows: NDArray[np.intp] | None, resamples: int
    ) -> tuple[float, tuple[Any, float]]:
        """The metric's exact value on ``rows``, and the scorer for resamples with the shift
        that recentres it on that value: ROC AUC and average precision are resampled on
        binned scores, as in the performance gate (see
        :class:`mlgates.stats.paired.Statistic`)."""
        evaluation = self.evaluation
        scored = evaluation.candidate if which == "candidate" else evaluation.baseline
        size = evaluation.rows if rows is None else len(rows)

        def make(resampling: bool) -> Any:
            return scorer(
                metric,
                scored,
                task=evaluation.task,
                config=self.config.models,
                truth=evaluation.truth,
                rows=rows,
                resampling=resampling,
            )

        try:
            exact = make(False)
        except ConfigError as exc:  # the performance gate's words, about this gate's check
            raise ConfigError(exc.problem, key="fairness.checks") from None
        value = point(exact, size)
        if not resamples or metric not in BINNED_WHEN_RESAMPLED:
            return value, (exact, 0.0)
        binned = make(True)
        return value, (binned, value - point(binned, size))

    # -- checks -------------------------------------------------------------------------

    def measure(self, plan: Sequence[PlannedCheck]) -> dict[str, Measurement]:
        """A measurement for every group check: every member of a family, or the one group
        a check names. A check written for one group replaces the family of the same
        metric and anchor on that group."""
        explicit = [c for c in plan if not c.family and c.selector is not None]
        measured: dict[str, Measurement] = {}
        for check in plan:
            same = [c for c in explicit if (c.metric, c.variant) == (check.metric, check.variant)]
            members = self.members(check, {str(c.selector) for c in same})
            if not check.family and not members:
                shown = ", ".join(self.all_labels()[:20])
                measured[check.id] = Measurement(
                    status=Status.INCONCLUSIVE,
                    message=f"{check.selector}: no such group in the data; the groups are {shown}",
                )
                continue
            try:
                measured.update(self._family(check, members))
            except ConfigError as exc:  # a metric that does not fit the task
                if exc.key != "fairness.checks":
                    raise
                key = check.origin.key if check.origin else "fairness.checks"
                raise ConfigError(f"{check.threshold}: {exc.problem}", key=key) from None
        return measured

    def _family(
        self, check: PlannedCheck, members: list[tuple[Grouping, int]]
    ) -> dict[str, Measurement]:
        """One measurement per member: Bonferroni over the judged ones for ``@level``."""
        assert check.threshold is not None
        resampled = interval_needed(check.threshold) is not None
        judged = [
            (g, code) for g, code in members if self._judged(check.metric, g, code, resampled)
        ]
        size = max(len(judged), 1)
        measured = {}
        for grouping, code in members:
            member = check.member(grouping.labels[code]) if check.family else check
            measurement = self._one(member, grouping, code, resampled, size)
            if check.family:
                measurement = replace(measurement, check=member)
            measured[member.id] = measurement
        return measured

    def _rates(self, metric: str) -> tuple[str, ...]:
        disparity = DISPARITIES.get(metric)
        return (metric,) if disparity is None else disparity.rates

    def _judged(self, metric: str, grouping: Grouping, code: int, resampled: bool) -> bool:
        return all(
            bool(self.values(rate, grouping, resampled).judged[code])
            for rate in self._rates(metric)
        )

    def _one(
        self, check: PlannedCheck, grouping: Grouping, code: int, resampled: bool, family: int
    ) -> Measurement:
        threshold = check.threshold
        assert threshold is not None
        needed = interval_needed(threshold)
        level = None
        if needed is not None:
            assert threshold.confidence is not None
            level = 1 - (1 - threshold.confidence) / family
        rates = [self.values(rate, grouping, resampled) for rate in self._rates(check.metric)]
        for values in rates:
            if not values.judged[code]:
                return Measurement(
                    status=Status.INCONCLUSIVE,
                    message=values.why[code],
                    details=self.group_details(values, code, level),
                )
        disparity = DISPARITIES.get(check.metric)
        notes: list[str] = []
        candidate: NDArray[np.float64] | None
        decided = 0
        if disparity is None:
            candidate = rates[0].candidate[:, code]
            baseline = rates[0].baseline[:, code]
            notes.append(f"{grouping.labels[code]}: {_rows(int(rates[0].sizes[code]))}")
        else:
            candidate, baseline, notes, decided = self._disparity(check.metric, rates, code)
            if candidate is None:
                return Measurement(
                    status=Status.INCONCLUSIVE,
                    message="; ".join(notes),
                    details=self.group_details(rates[decided], code, level),
                )
        groups = self.group_details(rates[decided], code, level)
        value = float(candidate[0])
        if not math.isfinite(value):
            return Measurement(
                status=Status.INCONCLUSIVE,
                message=f"{grouping.labels[code]}: {readable(check.metric)} is undefined here",
                details=groups,
            )
        anchored = threshold.anchor is not None and threshold.anchor.value == "baseline"
        if anchored:
            notes.append(
                f"baseline {self.evaluation.baseline.name}: {format_number(float(baseline[0]), 4)}"
            )
        interval = None
        details: dict[str, Any] = {"baseline_value": float(baseline[0]), **groups}
        method = None
        if needed is not None:
            assert threshold.confidence is not None and level is not None
            quantity = interval_quantity(needed, candidate[1:], baseline[1:])
            if disparity is not None:
                measured = interval_quantity(needed, candidate[:1], baseline[:1])
                quantity = _recentred(quantity, float(measured[0]))
                if needed is IntervalOf.VALUE:  # a gap stays a gap: 0 <= difference, ratio <= 1
                    low, high = (0.0, np.inf) if disparity.kind == "difference" else (0.0, 1.0)
                    quantity = np.clip(quantity, low, high)
            interval = percentile_bounds(quantity, level)
            details["level_each"] = level
            details["resamples_used"] = int(np.isfinite(quantity).sum())
            method = f"bootstrap within groups, {self.config.resamples} resamples"
            if disparity is not None:
                method += ", recentred on the value"
            if family > 1:
                notes.append(family_note(level, threshold.confidence, family, "group"))
        return Measurement(
            value=value,
            anchor_value=float(baseline[0]) if anchored else None,
            interval=interval,
            interval_of=needed,
            level=threshold.confidence,
            method=method,
            message="; ".join(notes),
            details=details,
        )

    def _disparity(
        self, metric: str, rates: list[GroupValues], code: int
    ) -> tuple[NDArray[np.float64] | None, NDArray[np.float64], list[str], int]:
        """Each model's gap for group ``code`` (the worse over equalized odds' two rates),
        a note naming the groups compared, and which of ``rates`` decided: the one with
        the worse gap (or, when there is nothing to compare, the one that lacks groups)."""
        disparity = DISPARITIES[metric]
        gaps: dict[str, list[NDArray[np.float64]]] = {"candidate": [], "baseline": []}
        notes: list[str] = []
        worst = -1
        for index, values in enumerate(rates):
            label = values.grouping.labels[code]
            if not disparity.to_overall and int(values.judged.sum()) < 2:
                shown = values.grouping.name
                if len(values.grouping.labels) == 1:
                    why = f"every row is {label}: {shown} has no other group to compare with"
                else:
                    why = f"{label}: no other group of {shown} has enough rows to compare with"
                return None, np.array([]), [why], index
            for which in ("candidate", "baseline"):
                own = values.only_judged(getattr(values, which))
                if disparity.to_overall:
                    overall = getattr(values, f"overall_{which}")
                    gap = overall_gaps(own, overall, disparity.kind)[:, code]
                else:
                    gap = group_gaps(own, disparity.kind)[:, code]
                gaps[which].append(gap)
            worse = (
                gaps["candidate"][-1][0] > gaps["candidate"][worst][0]
                if disparity.kind == "difference"
                else gaps["candidate"][-1][0] < gaps["candidate"][worst][0]
            )
            if worst < 0 or worse:
                worst = index
        combine = np.fmax if disparity.kind == "difference" else np.fmin
        result = {}
        for which in ("candidate", "baseline"):
            stacked = gaps[which][0]
            for more in gaps[which][1:]:
                stacked = combine(stacked, more)
            result[which] = stacked
        notes.append(self._describe(rates[worst], code, disparity.kind, disparity.to_overall))
        if len(rates) > 1:
            parts = ", ".join(
                f"{readable(r)} {format_number(float(g[0]), 4)}"
                for r, g in zip(disparity.rates, gaps["candidate"], strict=True)
            )
            notes.append(f"gaps: {parts} (the worse counts)")
        return result["candidate"], result["baseline"], notes, max(worst, 0)

    def group_details(self, values: GroupValues, code: int, level: float | None) -> dict[str, Any]:
        """What a group check carries for the report to draw its grouping's groups.

        ``group_metric`` names the metric the groups are compared on (the gate's own
        names: ``selection_rate``, ``tpr``, ``fpr``, ``mae`` ...): the check's metric for
        a group metric, the rate it compares for a disparity. Equalized odds compares
        two rates, TPR and FPR; its groups are those of the rate whose gap decided the
        check's value for its group (the larger difference, the smaller ratio), named
        in ``group_metric``; the other rate's gap is in the message.

        ``groups`` lists ``{"group": "sex=female", "value": 0.74, "low": 0.71,
        "high": 0.77, "rows": 1419}`` in the grouping's order, plus ``"baseline"``, the
        baseline model's value, when ``[performance]`` names a baseline. ``value`` is
        the group's own metric (its selection rate, its TPR), not its gap; null for a
        group not judged (too few rows: it takes no part in the disparities) or where
        the metric is undefined. ``low`` and ``high`` bound the candidate's value at the
        check's level for each group (``level_each``), from the bootstrap the check
        already ran; null without ``@level``. Values have :data:`DIGITS` significant
        digits. At most :data:`GROUPS_SHOWN` groups are listed: the check's own and
        the extremes, lowest and highest values in turn; ``groups_omitted`` says how
        many were left out (0 when none).
        """
        grouping = values.grouping
        candidate = values.only_judged(values.candidate[0])
        baseline = values.only_judged(values.baseline[0])
        kept, omitted = extremes(candidate, code, GROUPS_SHOWN)
        replicated = level is not None and values.candidate.shape[0] > 1
        with_baseline = not self.evaluation.baseline_is_dummy
        entries = []
        for group in kept:
            low = high = math.nan
            if replicated and values.judged[group]:
                assert level is not None
                low, high = percentile_bounds(values.candidate[1:, group], level)
            entry: dict[str, Any] = {
                "group": grouping.labels[group],
                "value": significant(candidate[group]),
                "low": significant(low),
                "high": significant(high),
                "rows": int(values.sizes[group]),
            }
            if with_baseline:
                entry["baseline"] = significant(baseline[group])
            entries.append(entry)
        return {"group_metric": values.metric, "groups": entries, "groups_omitted": omitted}

    def _describe(self, values: GroupValues, code: int, kind: str, to_overall: bool) -> str:
        """``sex=female: selection rate 0.12 (1,203 rows); farthest: sex=male 0.31``."""
        grouping = values.grouping
        point_values = values.only_judged(values.candidate[0])
        own = float(point_values[code])
        size = int(values.sizes[code])
        metric = readable(values.metric)
        text = f"{grouping.labels[code]}: {metric} {format_number(own, 4)} ({_rows(size)})"
        if to_overall:
            return f"{text}; all rows: {format_number(float(values.overall_candidate[0]), 4)}"
        finite = np.where(np.isnan(point_values), np.nan, point_values)
        if kind == "difference":
            far = int(np.nanargmax(np.abs(finite - own)))
        else:
            low, high = int(np.nanargmin(finite)), int(np.nanargmax(finite))
            ratios = _pair_ratio(own, float(finite[low])), _pair_ratio(own, float(finite[high]))
            far = low if ratios[0] <= ratios[1] else high
        if far == code:
            return text
        other = grouping.labels[far]
        return f"{text}; farthest: {other} {format_number(float(finite[far]), 4)}"


def extremes(values: NDArray[np.float64], own: int, limit: int) -> tuple[list[int], int]:
    """Which of ``values`` (one per group, NaN for none) to list when there are more
    than ``limit``: ``own``, then the lowest and the highest in turn, then groups
    without a value; in the groups' order, with how many were left out."""
    count = len(values)
    if count <= limit:
        return list(range(count)), 0
    ordered = [int(g) for g in np.argsort(values, kind="stable") if math.isfinite(values[g])]
    chosen = {own}
    low, high = 0, len(ordered) - 1
    from_below = True
    while len(chosen) < limit and low <= high:
        if from_below:
            chosen.add(ordered[low])
            low += 1
        else:
            chosen.add(ordered[high])
            high -= 1
        from_below = not from_below
    for group in range(count):
        if len(chosen) >= limit:
            break
        if not math.isfinite(values[group]):
            chosen.add(group)
    return sorted(chosen), count - len(chosen)


def significant(value: float, digits: int = DIGITS) -> float | None:
    """``value`` rounded to ``digits`` significant digits; None when it is not finite."""
    value = float(value)
    return float(f"{value:.{digits}g}") if math.isfinite(value) else None


def _pair_ratio(a: float, b: float) -> float:
    """Smaller over larger; 1 for equal values."""
    low, high = min(a, b), max(a, b)
    return 1.0 if low == high else (low / high if high else math.nan)


def _rows(count: int, kind: str = "") -> str:
    """``1 row``, ``1,419 rows``, ``4 positive rows``."""
    noun = "row" if count == 1 else "rows"
    return f"{count:,} {kind + ' ' if kind else ''}{noun}"


def _recentred(replicates: NDArray[np.float64], point: float) -> NDArray[np.float64]:
    """Replicates shifted so that their median is the point value.

    A group's gap is a maximum (or minimum) over groups, and resampling noise moves the
    groups apart: resampled gaps sit above the gap in the data, and an interval read
    from them as they are would miss it. Shifting keeps their spread and drops that bias.
    """
    finite = replicates[np.isfinite(replicates)]
    if not len(finite) or not math.isfinite(point):
        return replicates
    return replicates + (point - float(np.median(finite)))


__all__ = ["FairnessRun", "GroupValues", "readable"]
