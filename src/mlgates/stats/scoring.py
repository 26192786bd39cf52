"""Model metrics under row weights, for many weightings at once.

Every scorer takes a weight matrix ``weights`` of shape ``(resamples, rows)``
and returns one value per row of it: row ``b`` is the metric on the
evaluation rows weighted by ``weights[b]``. A bootstrap resample is such a
weighting (each row weighted by how often it was drawn), so one matrix
product scores many resamples without copying the data; the point value is
the same scorer under a single row of ones.

Metrics built on sums of the weights per cell (confusion matrices, weight per
score group and class) take them as one sparse product with the rows' cell
assignment (:class:`_CellSums`), which reads the weights column by column:
fastest when ``weights.T`` is C-contiguous, as the bootstrap's resamples are
(:func:`mlgates.stats.paired.resample_weights`); any layout gives the same values.

The definitions follow scikit-learn's (``roc_auc_score``,
``average_precision_score``, ``f1_score`` ...) and the tests hold them to it;
where scikit-learn has no multiclass form the docstring says what is used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

Weights = NDArray[np.floating]
Scorer = Callable[[Weights], NDArray[np.float64]]

_EPS = float(np.finfo(np.float64).eps)
ECE_BINS = 15


@dataclass(frozen=True)
class Classified:
    """Labels and scores of a classifier on the evaluation rows, as class codes.

    ``truth`` and ``predicted`` are codes ``0 .. k-1`` into the class list;
    ``proba`` is ``(rows, k)`` class probabilities (``None`` when the model
    gives none); for two classes ``positive`` is the code of the positive class.
    """

    truth: NDArray[np.intp]
    predicted: NDArray[np.intp]
    proba: NDArray[np.float64] | None
    classes: int
    positive: int = 1

    @property
    def rows(self) -> int:
        """How many evaluation rows."""
        return len(self.truth)

    def subset(self, rows: NDArray[np.intp]) -> Classified:
        """The same predictions on some rows only (a slice)."""
        proba = None if self.proba is None else self.proba[rows]
        return Classified(
            self.truth[rows], self.predicted[rows], proba, self.classes, self.positive
        )


@dataclass(frozen=True)
class Regressed:
    """Targets and predictions of a regressor on the evaluation rows."""

    truth: NDArray[np.float64]
    predicted: NDArray[np.float64]

    @property
    def rows(self) -> int:
        """How many evaluation rows."""
        return len(self.truth)

    def subset(self, rows: NDArray[np.intp]) -> Regressed:
        """The same predictions on some rows only (a slice)."""
        return Regressed(self.truth[rows], self.predicted[rows])


def _ratio(top: NDArray[np.floating], bottom: NDArray[np.floating]) -> NDArray[np.float64]:
    """``top / bottom`` with NaN where the bottom is 0 (a metric with nothing to measure)."""
    top = np.asarray(top, dtype=np.float64)
    bottom = np.asarray(bottom, dtype=np.float64)
    out = np.full(np.broadcast(top, bottom).shape, np.nan)
    np.divide(top, bottom, out=out, where=bottom != 0)
    return out


def weighted_mean(values: NDArray[np.floating]) -> Scorer:
    """Scorer of the weighted mean of per-row ``values`` (losses, costs, errors)."""
    column = np.asarray(values, dtype=np.float64)

    def score(weights: Weights) -> NDArray[np.float64]:
        return _ratio(weights @ column.astype(weights.dtype), weights.sum(axis=1))

    return score


def _one_hot(codes: NDArray[np.intp], size: int, dtype: np.dtype) -> NDArray[np.floating]:
    out = np.zeros((len(codes), size), dtype=dtype)
    out[np.arange(len(codes)), codes] = 1
    return out


class _CellSums:
    """Per-resample sum of the weights in each cell, ``(resamples, size)``, for a fixed
    assignment of the rows to cells ``0 .. size-1``.

    One sparse product of the ``(size, rows)`` indicator matrix (compressed by column: row
    ``i`` is one entry in column ``i``) with ``weights.T``: it streams through the weights
    once, row by row, adding each row's weights across the resamples into its cell's sums,
    which stay in cache. float32 weights are summed in float32, exact for integer weights
    (bootstrap counts) while a cell's sum stays below 2**24.
    """

    def __init__(self, cells: NDArray[np.integer], size: int) -> None:
        self.cells = np.asarray(cells).reshape(-1)
        self.size = size
        self._indicators: dict[np.dtype, object] = {}

    def _indicator(self, dtype: np.dtype) -> Any:
        cached = self._indicators.get(dtype)
        if cached is None:
            from scipy import sparse

            rows = len(self.cells)
            index = np.int32 if max(rows + 1, self.size) < 2**31 else np.int64
            cached = sparse.csc_array(
                (
                    np.ones(rows, dtype=dtype),
                    self.cells.astype(index),
                    np.arange(rows + 1, dtype=index),
                ),
                shape=(self.size, rows),
            )
            self._indicators[dtype] = cached
        return cached

    def __call__(self, weights: Weights) -> NDArray[np.float64]:
        w = np.asarray(weights)
        if w.dtype != np.float32:
            w = w.astype(np.float64, copy=False)
        if not len(self.cells) or not self.size:
            return np.zeros((len(w), self.size))
        summed = self._indicator(w.dtype) @ w.T  # reads w.T in place when it is C-contiguous
        return np.asarray(summed, dtype=np.float64).T


def confusion(data: Classified) -> Callable[[Weights], NDArray[np.float64]]:
    """Weighted confusion matrices, ``(resamples, k, k)``: truth by row, prediction by column."""
    k = data.classes
    sums = _CellSums(data.truth * k + data.predicted, k * k)

    def counts(weights: Weights) -> NDArray[np.float64]:
        return sums(weights).reshape(len(weights), k, k)

    return counts


def accuracy(data: Classified) -> Scorer:
    """Share of rows predicted right."""
    return weighted_mean(data.truth == data.predicted)


def _per_class(
    data: Classified,
) -> Callable[[Weights], tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]]:
    """True positives, predicted totals and true totals per class, ``(resamples, k)`` each."""
    table = confusion(data)

    def parts(
        weights: Weights,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        counts = table(weights)
        hits = np.diagonal(counts, axis1=1, axis2=2)
        return hits, counts.sum(axis=1), counts.sum(axis=2)

    return parts


def _zero_division(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """scikit-learn's ``zero_division=0``: a class never predicted has precision 0."""
    return np.nan_to_num(values, nan=0.0)


def class_metric(data: Classified, kind: str, average: str) -> Scorer:
    """Precision, recall or F1 (``kind``) of the positive class (``average="binary"``)
    or averaged over the classes present in truth or prediction (``"macro"``,
    ``"weighted"`` by true class count), as scikit-learn computes them."""
    parts = _per_class(data)
    present = np.zeros(data.classes, dtype=bool)
    present[np.unique(data.truth)] = True
    present[np.unique(data.predicted)] = True

    def score(weights: Weights) -> NDArray[np.float64]:
        hits, predicted, actual = parts(weights)
        precision = _zero_division(_ratio(hits, predicted))
        recall = _zero_division(_ratio(hits, actual))
        if kind == "precision":
            value = precision
        elif kind == "recall":
            value = recall
        else:
            value = _zero_division(_ratio(2 * hits, predicted + actual))
        if average == "binary":
            return value[:, data.positive]
        if average == "weighted":
            return _ratio((value * actual).sum(axis=1), actual.sum(axis=1))
        return np.asarray(value[:, present].mean(axis=1), dtype=np.float64)

    return score


def balanced_accuracy(data: Classified) -> Scorer:
    """Mean recall over the classes present in the truth."""
    parts = _per_class(data)
    present = np.unique(data.truth)

    def score(weights: Weights) -> NDArray[np.float64]:
        hits, _, actual = parts(weights)
        recalls = _ratio(hits[:, present], actual[:, present])
        return np.asarray(np.nanmean(recalls, axis=1), dtype=np.float64)

    return score


class _GroupSums:
    """Per-resample weight of negatives and positives at each distinct score, ascending.

    With ``max_groups``, scores with more distinct values are grouped into that
    many quantile bins (ties within a bin count half): what a bootstrap needs
    to score a million rows fast, centred on the exact value (see
    :class:`mlgates.stats.paired.Statistic`).
    """

    def __init__(
        self,
        scores: NDArray[np.floating],
        positive: NDArray[np.bool_],
        max_groups: int | None = None,
    ) -> None:
        values = np.asarray(scores, dtype=np.float64)
        distinct, group = np.unique(values, return_inverse=True)
        if max_groups is not None and len(distinct) > max_groups:
            inner = np.linspace(0, 1, max_groups + 1)[1:-1]
            edges = np.unique(np.quantile(values, inner))
            group = np.searchsorted(edges, values, side="right")
        self.groups = int(group.max()) + 1 if len(group) else 0
        cells = group.reshape(-1) * 2 + np.asarray(positive, dtype=np.intp)
        self.sums = _CellSums(cells, 2 * self.groups)

    def __call__(self, weights: Weights) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        summed = self.sums(weights)
        return summed[:, 0::2], summed[:, 1::2]


def _binary_auc(
    scores: NDArray[np.floating], positive: NDArray[np.bool_], max_groups: int | None = None
) -> Scorer:
    """Area under the ROC curve: the chance a positive scores above a negative (ties half)."""
    sums = _GroupSums(scores, positive, max_groups)

    def score(weights: Weights) -> NDArray[np.float64]:
        negatives, positives = sums(weights)
        below = np.cumsum(negatives, axis=1) - negatives
        wins = (positives * (below + 0.5 * negatives)).sum(axis=1)
        return _ratio(wins, positives.sum(axis=1) * negatives.sum(axis=1))

    return score


def _binary_average_precision(
    scores: NDArray[np.floating], positive: NDArray[np.bool_], max_groups: int | None = None
) -> Scorer:
    """Average precision: precision at each distinct threshold, weighted by the recall gained."""
    sums = _GroupSums(-np.asarray(scores, dtype=np.float64), positive, max_groups)

    def score(weights: Weights) -> NDArray[np.float64]:
        negatives, positives = sums(weights)
        hits = np.cumsum(positives, axis=1)
        taken = hits + np.cumsum(negatives, axis=1)
        precision = _zero_division(_ratio(hits, taken))
        return _ratio((positives * precision).sum(axis=1), positives.sum(axis=1))

    return score


def _needs_proba(data: Classified, metric: str) -> NDArray[np.float64]:
    if data.proba is None:
        raise ValueError(
            f"{metric} needs class probabilities or scores; the model gives labels only"
        )
    return data.proba


def _one_vs_rest(
    data: Classified,
    binary: Callable[[NDArray[np.floating], NDArray[np.bool_], int | None], Scorer],
    name: str,
    max_groups: int | None,
) -> Scorer:
    """The binary form on the positive class, or its macro mean over classes (one against rest)."""
    proba = _needs_proba(data, name)
    if data.classes == 2:
        return binary(proba[:, data.positive], data.truth == data.positive, max_groups)
    present = np.unique(data.truth)
    scorers = [binary(proba[:, code], data.truth == code, max_groups) for code in present]

    def score(weights: Weights) -> NDArray[np.float64]:
        return np.asarray(np.mean([each(weights) for each in scorers], axis=0), dtype=np.float64)

    return score


def roc_auc(data: Classified, *, max_groups: int | None = None) -> Scorer:
    """ROC AUC; multiclass: the unweighted mean of one-against-rest AUCs (``ovr``, macro).

    ``max_groups`` bins the scores for speed (:class:`_GroupSums`); None is exact.
    """
    return _one_vs_rest(data, _binary_auc, "roc_auc", max_groups)


def pr_auc(data: Classified, *, max_groups: int | None = None) -> Scorer:
    """Average precision; multiclass: the macro mean of one-against-rest values."""
    return _one_vs_rest(data, _binary_average_precision, "pr_auc", max_groups)


def _true_class_proba(data: Classified, metric: str) -> NDArray[np.float64]:
    proba = _needs_proba(data, metric)
    return proba[np.arange(data.rows), data.truth]


def log_loss(data: Classified) -> Scorer:
    """Mean negative log probability of the true class (clipped at machine epsilon)."""
    proba = np.clip(_true_class_proba(data, "log_loss"), _EPS, 1.0)
    return weighted_mean(-np.log(proba))


def brier(data: Classified) -> Scorer:
    """Mean squared error of the probabilities: of the positive class for two classes,
    summed over classes (Brier's original form) for more."""
    proba = _needs_proba(data, "brier")
    if data.classes == 2:
        truth = (data.truth == data.positive).astype(np.float64)
        return weighted_mean((proba[:, data.positive] - truth) ** 2)
    target = _one_hot(data.truth, data.classes, np.dtype(np.float64))
    return weighted_mean(((proba - target) ** 2).sum(axis=1))


def ece(data: Classified, bins: int = ECE_BINS) -> Scorer:
    """Expected calibration error of the top-class confidence over ``bins`` equal-width bins:
    the row-weighted mean of ``|accuracy - confidence|`` per bin."""
    proba = _needs_proba(data, "ece")
    confidence = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == data.truth).astype(np.float64)
    where = np.clip(np.ceil(confidence * bins).astype(np.intp) - 1, 0, bins - 1)
    members = _one_hot(where, bins, np.dtype(np.float64))
    gap = members * (correct - confidence)[:, None]

    def score(weights: Weights) -> NDArray[np.float64]:
        w = weights.astype(np.float64, copy=False)
        return _ratio(np.abs(w @ gap).sum(axis=1), w.sum(axis=1))

    return score


def expected_cost(data: Classified, costs: dict[str, float]) -> Scorer:
    """Mean cost per row from a binary cost table ``{tp, fp, tn, fn}`` (missing cells cost 0)."""
    truth = data.truth == data.positive
    predicted = data.predicted == data.positive
    per_row = np.select(
        [truth & predicted, ~truth & predicted, ~truth & ~predicted, truth & ~predicted],
        [costs.get("tp", 0.0), costs.get("fp", 0.0), costs.get("tn", 0.0), costs.get("fn", 0.0)],
    )
    return weighted_mean(per_row)


def mae(data: Regressed) -> Scorer:
    """Mean absolute error."""
    return weighted_mean(np.abs(data.truth - data.predicted))


def rmse(data: Regressed) -> Scorer:
    """Root mean squared error."""
    mean_square = weighted_mean((data.truth - data.predicted) ** 2)

    def score(weights: Weights) -> NDArray[np.float64]:
        return np.sqrt(mean_square(weights))

    return score


def mape(data: Regressed) -> Scorer:
    """Mean absolute percentage error as a fraction (0.1 is 10%), scikit-learn's definition."""
    scale = np.maximum(np.abs(data.truth), _EPS)
    return weighted_mean(np.abs(data.truth - data.predicted) / scale)


def r2(data: Regressed) -> Scorer:
    """Coefficient of determination: 1 - residual / total sum of squares (weighted).

    The targets are centred first, so that targets far from zero (timestamps,
    large amounts) keep their digits in the total sum of squares.
    """
    truth = data.truth - (float(np.mean(data.truth)) if len(data.truth) else 0.0)
    columns = np.column_stack([(data.truth - data.predicted) ** 2, truth, truth**2])

    def score(weights: Weights) -> NDArray[np.float64]:
        w = weights.astype(np.float64, copy=False)
        residual, total, squares = (w @ columns).T
        mass = w.sum(axis=1)
        spread = squares - _ratio(total**2, mass)
        return 1.0 - _ratio(residual, spread)

    return score


__all__ = [
    "ECE_BINS",
    "Classified",
    "Regressed",
    "Scorer",
    "Weights",
    "accuracy",
    "balanced_accuracy",
    "brier",
    "class_metric",
    "confusion",
    "ece",
    "expected_cost",
    "log_loss",
    "mae",
    "mape",
    "pr_auc",
    "r2",
    "rmse",
    "roc_auc",
    "weighted_mean",
]
