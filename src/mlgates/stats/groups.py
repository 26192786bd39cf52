"""Group rates and their disparities, from confusion counts per group.

The fairness metrics of a binary classifier (selection rate, TPR, FPR,
accuracy ...) depend on a group's rows only through four counts: true and
false positives and negatives. Candidate and baseline on the same rows make
eight cells per group (truth x candidate's label x baseline's label), counted
in one ``np.bincount``. Resampling the rows of a group with replacement makes
its cell counts multinomial with the group's own shares, so a bootstrap that
resamples *within* groups draws ``(resamples, groups, 8)`` multinomial counts
and never touches the rows again: its cost does not grow with the data.

Disparities compare the groups of one grouping (one sensitive column, or an
intersection of several). Each group gets its own value, its worst gap:

* difference: ``max |v_g - v_h|`` over the other groups ``h`` (the group's
  distance to the group farthest from it); the largest over the groups is
  fairlearn's ``between_groups`` difference, ``max - min``;
* ratio: ``min min(v_g, v_h) / max(v_g, v_h)``; the smallest is ``min / max``;
* ``to_overall``: ``|v_g - v_all|`` and ``min(v_g / v_all, v_all / v_g)``,
  against the value on all rows.

Two equal values have ratio 1 (also when both are 0).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

CELLS = 8
"""Cells per group: ``truth * 4 + candidate * 2 + baseline``, each 0 or 1."""

Rate = Callable[
    [NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]],
    NDArray[np.float64],
]


def _share(top: NDArray[np.float64], bottom: NDArray[np.float64]) -> NDArray[np.float64]:
    out = np.full(np.broadcast(top, bottom).shape, np.nan)
    np.divide(top, bottom, out=out, where=bottom > 0)
    return out


def _f1(
    tp: NDArray[np.float64],
    fp: NDArray[np.float64],
    tn: NDArray[np.float64],
    fn: NDArray[np.float64],
) -> NDArray[np.float64]:
    del tn
    return np.nan_to_num(_share(2 * tp, 2 * tp + fp + fn), nan=0.0)


RATES: Mapping[str, Rate] = {
    "selection_rate": lambda tp, fp, tn, fn: _share(tp + fp, tp + fp + tn + fn),
    "accuracy": lambda tp, fp, tn, fn: _share(tp + tn, tp + fp + tn + fn),
    "tpr": lambda tp, fp, tn, fn: _share(tp, tp + fn),
    "fpr": lambda tp, fp, tn, fn: _share(fp, fp + tn),
    "fnr": lambda tp, fp, tn, fn: _share(fn, tp + fn),
    "tnr": lambda tp, fp, tn, fn: _share(tn, fp + tn),
    "precision": lambda tp, fp, tn, fn: np.nan_to_num(_share(tp, tp + fp), nan=0.0),
    "f1": _f1,
    "balanced_accuracy": lambda tp, fp, tn, fn: (_share(tp, tp + fn) + _share(tn, fp + tn)) / 2,
}
"""Rates computed from the four counts, as scikit-learn and fairlearn define them
(precision and F1 are 0 where nothing is predicted positive)."""

DENOMINATORS: Mapping[str, str] = {
    "tpr": "positive",
    "fnr": "positive",
    "fpr": "negative",
    "tnr": "negative",
    "balanced_accuracy": "both",
    "precision": "predicted positive",
    "f1": "positive",
}
"""Which rows a conditional rate is a share of (the rest are shares of all rows)."""


@dataclass(frozen=True)
class Grouping:
    """The rows of one grouping (a sensitive column or an intersection) by group.

    ``codes`` gives each row's group ``0 .. len(labels) - 1``; ``labels`` are the
    groups' selectors (``sex=female``, ``sex=female, race=black``).
    """

    name: str
    codes: NDArray[np.intp]
    labels: tuple[str, ...]

    @property
    def sizes(self) -> NDArray[np.int64]:
        """Rows per group."""
        return np.bincount(self.codes, minlength=len(self.labels)).astype(np.int64)

    def rows(self, group: int) -> NDArray[np.intp]:
        """Row positions of one group."""
        return np.flatnonzero(self.codes == group)


def cell_counts(
    codes: NDArray[np.intp],
    groups: int,
    truth: NDArray[np.bool_],
    candidate: NDArray[np.bool_],
    baseline: NDArray[np.bool_],
) -> NDArray[np.float64]:
    """``(groups, 8)`` row counts per group and cell (see :data:`CELLS`)."""
    cells = truth.astype(np.intp) * 4 + candidate.astype(np.intp) * 2 + baseline.astype(np.intp)
    flat = np.bincount(codes * CELLS + cells, minlength=groups * CELLS)
    return flat.reshape(groups, CELLS).astype(np.float64)


def resample_cells(
    counts: NDArray[np.float64], resamples: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    """``(resamples, groups, cells)``: each group's rows resampled with replacement
    (multinomial counts with the group's own size and cell shares)."""
    sizes = counts.sum(axis=-1)
    shares = np.divide(counts, sizes[:, None], out=np.zeros_like(counts), where=sizes[:, None] > 0)
    shares[sizes == 0, 0] = 1.0  # an empty group stays empty: all of nothing in one cell
    drawn = rng.multinomial(sizes.astype(np.int64), shares, size=(resamples, len(counts)))
    return drawn.astype(np.float64)


def confusion_of(cells: NDArray[np.float64], model: int) -> tuple[NDArray[np.float64], ...]:
    """``(tp, fp, tn, fn)`` of the candidate (``model=0``) or the baseline (``1``) from
    cell counts whose last axis is the 8 cells."""
    shape = (*cells.shape[:-1], 2, 2, 2)
    table = cells.reshape(shape)  # truth, candidate, baseline
    by_label = table.sum(axis=-1) if model == 0 else table.sum(axis=-2)
    tn, fp = by_label[..., 0, 0], by_label[..., 0, 1]
    fn, tp = by_label[..., 1, 0], by_label[..., 1, 1]
    return tp, fp, tn, fn


def rate_of(metric: str, cells: NDArray[np.float64], model: int) -> NDArray[np.float64]:
    """The rate ``metric`` of one model from cell counts (any leading shape)."""
    return np.asarray(RATES[metric](*confusion_of(cells, model)), dtype=np.float64)


def denominator(metric: str, cells: NDArray[np.float64]) -> NDArray[np.float64]:
    """How many rows a rate is measured on, per group: the smaller class for
    ``balanced_accuracy``; predicted positives by the candidate for ``precision``."""
    tp, fp, tn, fn = confusion_of(cells, 0)
    kind = DENOMINATORS.get(metric)
    if kind == "positive":
        return tp + fn
    if kind == "negative":
        return fp + tn
    if kind == "both":
        return np.minimum(tp + fn, fp + tn)
    if kind == "predicted positive":
        return tp + fp
    return tp + fp + tn + fn


def _ratio(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """``min(a, b) / max(a, b)``, 1 where both are equal (also 0 and 0)."""
    low, high = np.minimum(a, b), np.maximum(a, b)
    out = np.ones(np.broadcast(low, high).shape)
    unequal = low != high
    np.divide(low, high, out=out, where=unequal & (high != 0))
    out[unequal & (high == 0)] = np.nan  # only with negative values
    return out


def group_gaps(values: NDArray[np.float64], kind: str) -> NDArray[np.float64]:
    """Each group's worst gap to the other groups, along the last axis.

    ``kind`` is ``"difference"`` or ``"ratio"``; NaN values (groups not judged)
    take no part and get NaN.
    """
    with np.errstate(invalid="ignore", all="ignore"):
        low = np.nanmin(np.where(np.isnan(values), np.inf, values), axis=-1, keepdims=True)
        high = np.nanmax(np.where(np.isnan(values), -np.inf, values), axis=-1, keepdims=True)
    if kind == "difference":
        gaps = np.maximum(values - low, high - values)
    else:
        gaps = np.minimum(_ratio(values, low), _ratio(values, high))
    return np.where(np.isnan(values), np.nan, gaps)


def overall_gaps(
    values: NDArray[np.float64], overall: NDArray[np.float64], kind: str
) -> NDArray[np.float64]:
    """Each group's gap to the value on all rows (``overall`` has one value per leading
    index: shape ``values.shape[:-1]``)."""
    reference = np.asarray(overall)[..., None]
    if kind == "difference":
        return np.abs(values - reference)
    return _ratio(values, reference)


def stratified_weights(
    members: list[NDArray[np.intp]], rows: int, count: int, rng: np.random.Generator
) -> NDArray[np.float32]:
    """``(count, rows)`` bootstrap weights that resample each group's rows (``members``,
    row positions that partition ``rows``) within the group: every resample keeps the
    groups' sizes."""
    from mlgates.stats.paired import resample_weights

    weights = np.zeros((count, rows), dtype=np.float32)
    for positions in members:
        if len(positions):
            weights[:, positions] = resample_weights(len(positions), count, rng)
    return weights


__all__ = [
    "CELLS",
    "DENOMINATORS",
    "RATES",
    "Grouping",
    "cell_counts",
    "confusion_of",
    "denominator",
    "group_gaps",
    "overall_gaps",
    "rate_of",
    "resample_cells",
    "stratified_weights",
]
