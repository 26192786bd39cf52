"""A small reference-versus-current view of a column's distribution, for a report's chart.

Built from the two summaries the drift check compares (no row is read again):

* numbers: at most :data:`MAX_BINS` bins of roughly equal reference mass, made
  by merging the reference profile's quantile bins, with the outer edges at the
  smallest and largest value of either sample. Current values beyond the
  reference's range (counted in the current profile's ``beyond``) get a bin of
  their own on that side, which the reference leaves empty;
* labels: the :data:`MAX_CATEGORIES` labels with the largest share in either
  sample, and the share of all the others.

Shares are over the non-null values. Numbers are rounded to
:data:`DIGITS` significant digits (edges to more where that is what keeps them
strictly increasing), so the view stays a few hundred bytes of JSON.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from mlgates.stats.summaries import CategoricalProfile, ColumnProfile, NumericProfile
from mlgates.text import shorten

__all__ = ["DIGITS", "LABEL_LIMIT", "MAX_BINS", "MAX_CATEGORIES", "distribution_view"]

MAX_BINS = 20
"""Most bins of a numeric view, the bins beyond the reference's range included."""
MAX_CATEGORIES = 12
"""Most labels a categorical view names; the rest is its ``other`` share."""
DIGITS = 4
"""Significant digits of the numbers of a view."""
LABEL_LIMIT = 32
"""Labels are cut to this many characters (:func:`mlgates.text.shorten`)."""
_NANOSECONDS = 1e-9

FloatArray: TypeAlias = npt.NDArray[np.float64]
IndexArray: TypeAlias = npt.NDArray[np.intp]


def distribution_view(reference: ColumnProfile, current: ColumnProfile) -> dict[str, Any] | None:
    """The reference and current distributions of one column, binned for a chart.

    Parameters
    ----------
    reference
        The column's reference profile.
    current
        The current data summarised on the reference's bins or categories
        (:func:`mlgates.stats.profile.profile_against`).

    Returns
    -------
    dict or None
        For numbers ``{"kind": "numeric", "edges": [e0, ..., ek], "reference":
        [...k shares], "current": [...k shares]}``: ``k <= MAX_BINS``, the edges
        finite and strictly increasing, bin ``i`` holding the values in
        ``(edges[i], edges[i + 1]]`` (the first bin its lower edge too), the
        inner edges taken from the reference's quantiles. A bin the reference
        leaves empty at either end holds the current values beyond its range:
        at the low end those in ``[edges[0], edges[1])``, ``edges[1]`` being the
        reference's minimum. Date-times have edges in seconds since 1970 and
        ``"datetime": True``; durations have edges in seconds and ``"unit":
        "s"``; text lengths are characters.

        For labels ``{"kind": "categorical", "categories": [...], "reference":
        [...], "current": [...], "other": [reference_other, current_other]}``,
        the labels ranked by the larger of their two shares.

        None when there is nothing to draw: a side has no non-null value, the
        reference kept no label (every label rare, as in an identifier), or
        the summaries do not match (kinds, edges or categories differ).
    """
    if isinstance(reference, NumericProfile) and isinstance(current, NumericProfile):
        if reference.edges != current.edges or not (reference.count and current.count):
            return None
        return _numeric_view(reference, current)
    if isinstance(reference, CategoricalProfile) and isinstance(current, CategoricalProfile):
        if reference.categories != current.categories or not (reference.count and current.count):
            return None
        return _categorical_view(reference, current)
    return None


# -- numbers --------------------------------------------------------------------------


def _outer(reference: NumericProfile, current: NumericProfile) -> tuple[float, float] | None:
    """The lowest and highest value of both samples; an infinite one one span further out.

    None when neither sample has a finite value.
    """
    ends = reference.edges[:1] + reference.edges[-1:]  # edges are finite
    extremes = (reference.min, reference.max, current.min, current.max, *ends)
    known = [x for x in extremes if math.isfinite(x)]
    if not known:
        return None
    floor, ceiling = min(known), max(known)
    span = ceiling - floor or max(abs(floor), 1.0)
    low = min(reference.min, current.min)
    high = max(reference.max, current.max)
    low = low if math.isfinite(low) else floor - span
    high = high if math.isfinite(high) else ceiling + span
    if high <= low:  # one value in both samples: a bin around it
        half = max(abs(low) * 0.01, 0.5)
        low, high = low - half, high + half
    return low, high


def _pieces(
    reference: NumericProfile, current: NumericProfile, high: float
) -> tuple[FloatArray, FloatArray, FloatArray, int, int]:
    """Upper ends and both samples' counts of the pieces a view's bins are made of.

    The pieces are the profile's bins, the last one ending at the highest
    value, and, where the current data has values beyond the reference's
    range, one piece on that side that holds them (the reference's ``min`` and
    ``max`` are then edges). Also returns the first and last index of the
    pieces inside the reference's range.
    """
    counts_r = np.asarray(reference.counts, dtype=np.float64)
    counts_c = np.asarray(current.counts, dtype=np.float64)
    below, above = current.beyond if math.isfinite(reference.min + reference.max) else (0, 0)
    below = min(below, int(counts_c[0]))
    counts_c[0] -= below
    above = min(above, int(counts_c[-1]))
    counts_c[-1] -= above
    uppers = [*reference.edges, reference.max if above else high]
    if below:
        uppers.insert(0, reference.min)
        counts_r = np.concatenate(([0.0], counts_r))
        counts_c = np.concatenate(([float(below)], counts_c))
    if above:
        uppers.append(high)
        counts_r = np.append(counts_r, 0.0)
        counts_c = np.append(counts_c, float(above))
    first, last = int(below > 0), len(uppers) - 1 - int(above > 0)
    return np.asarray(uppers, dtype=np.float64), counts_r, counts_c, first, last


def _inner_ends(
    uppers: FloatArray, counts_r: FloatArray, start: float, first: int, last: int, bins: int
) -> IndexArray:
    """The last piece of each bin among pieces ``first .. last``: ``bins`` of equal reference mass.

    A bin ends where the reference's CDF is nearest ``k / bins``, at a piece
    that is wider than nothing (a value repeated across quantiles makes
    pieces of no width, which join the next piece); ends that coincide (a
    value holding much of the mass) merge their bins.
    """
    inner = uppers[first : last + 1]
    before = np.concatenate(([start], inner[:-1]))
    candidates = np.flatnonzero(inner > before)[:-1]  # the last bin ends at ``last``
    if candidates.size == 0:
        return np.array([last], dtype=np.intp)
    cdf = np.cumsum(counts_r[first : last + 1])[candidates] / counts_r[first : last + 1].sum()
    targets = np.arange(1, bins) / bins
    nearest = np.abs(cdf[None, :] - targets[:, None]).argmin(axis=1)
    ends = np.unique(candidates[nearest]) + first
    return np.append(ends, last).astype(np.intp)


def _numeric_view(reference: NumericProfile, current: NumericProfile) -> dict[str, Any] | None:
    outer = _outer(reference, current)
    if outer is None:
        return None
    low, high = outer
    uppers, counts_r, counts_c, first, last = _pieces(reference, current, high)
    start = uppers[first - 1] if first else low
    if uppers[last] <= start:  # a constant reference: its bin gets 1% of the width
        width = 0.01 * (high - low)
        if first:  # taken from the bin of the current values below it
            start = uppers[first - 1] = uppers[last] - min(width, (uppers[last] - low) / 2)
        else:
            start = low = uppers[last] - width
    if not math.isfinite(high - low):  # extremes near the largest float
        return None
    bins = MAX_BINS - first - (len(uppers) - 1 - last)
    ends = _inner_ends(uppers, counts_r, start, first, last, bins)
    if first:
        ends = np.concatenate(([0], ends))
    if last < len(uppers) - 1:
        ends = np.append(ends, len(uppers) - 1)
    starts = np.concatenate(([0], ends[:-1] + 1))
    shares_r = np.add.reduceat(counts_r, starts) / reference.count
    shares_c = np.add.reduceat(counts_c, starts) / current.count
    edges = np.concatenate(([low], uppers[ends]))
    if edges.size > 2 and shares_r[-1] == 0 and shares_c[-1] == 0:  # room around one value
        edges = np.delete(edges, -2)
        shares_r, shares_c = shares_r[:-1], shares_c[:-1]
    view: dict[str, Any] = {"kind": "numeric"}
    if reference.temporal or reference.family == "duration":
        edges = edges * _NANOSECONDS
    view["edges"] = _rounded_edges(edges.tolist())
    shares = _rounded(np.concatenate((shares_r, shares_c)))
    view["reference"], view["current"] = shares[: shares_r.size], shares[shares_r.size :]
    if reference.temporal:
        view["datetime"] = True
    elif reference.family == "duration":
        view["unit"] = "s"
    return view


# -- labels ---------------------------------------------------------------------------


def _categorical_view(
    reference: CategoricalProfile, current: CategoricalProfile
) -> dict[str, Any] | None:
    labels = list(reference.categories)
    counts_r, counts_c = list(reference.counts), list(current.counts)
    if reference.kept_from == 1:  # the reference holds every label: a new one had none
        for label, count in current.other_top:
            labels.append(label)
            counts_r.append(0)
            counts_c.append(count)
    shares_r = np.asarray(counts_r, dtype=np.float64) / reference.count
    shares_c = np.asarray(counts_c, dtype=np.float64) / current.count
    shown = np.argsort(-np.maximum(shares_r, shares_c), kind="stable")[:MAX_CATEGORIES]
    if shown.size == 0:  # every label rare (an identifier): nothing to name
        return None
    top_r, top_c = shares_r[shown], shares_c[shown]
    rest = [  # from the counts: no rounding error accumulates
        (reference.count - sum(counts_r[i] for i in shown.tolist())) / reference.count,
        (current.count - sum(counts_c[i] for i in shown.tolist())) / current.count,
    ]
    shares = _rounded(np.concatenate((top_r, top_c, np.maximum(rest, 0.0))))
    k = top_r.size
    return {
        "kind": "categorical",
        "categories": _names([labels[i] for i in shown.tolist()]),
        "reference": shares[:k],
        "current": shares[k : 2 * k],
        "other": shares[2 * k :],
    }


def _names(labels: list[str]) -> list[str]:
    """Labels cut to :data:`LABEL_LIMIT` characters, numbered where two cut ones coincide."""
    names: list[str] = []
    for label in labels:
        name, number = shorten(label, LABEL_LIMIT), 2
        while name in names:
            suffix = f" #{number}"
            name, number = shorten(label, LABEL_LIMIT - len(suffix)) + suffix, number + 1
        names.append(name)
    return names


# -- rounding -------------------------------------------------------------------------


def _rounded(shares: FloatArray) -> list[float]:
    """Shares (0 to 1) at :data:`DIGITS` significant digits, as floats that print short.

    The integer of significant digits is divided by an exact power of ten, so
    each result is the double nearest its decimal form.
    """
    magnitude = np.floor(np.log10(np.where(shares > 0, shares, 1.0)))
    scale = 10.0 ** (DIGITS - 1 - magnitude)
    rounded: list[float] = (np.round(shares * scale) / scale).tolist()
    return rounded


def _directed(value: float, digits: int, *, down: bool) -> float:
    """``value`` at ``digits`` significant digits, rounded down or up."""
    near = float(f"{value:.{digits}g}")
    if value == 0 or (near <= value if down else near >= value):
        return near + 0.0  # + 0.0 turns -0.0 into 0.0
    step = 10.0 ** (math.floor(math.log10(abs(value))) - digits + 1)
    return float(f"{near - step if down else near + step:.{digits}g}") + 0.0


def _rounded_edges(edges: list[float]) -> list[float]:
    """Edges at :data:`DIGITS` significant digits, or more where that is what tells them apart.

    Edges far from zero against their span (dates as seconds since 1970,
    latitudes of one town) keep the digits that resolve :data:`DIGITS` digits
    of the span; when rounded edges still coincide, they get one more digit
    until none do. The first edge is rounded down and the others up: a bin
    holds its upper edge, which is often a value many rows share (a quantile
    of repeated values), and so keeps it.
    """
    span = edges[-1] - edges[0]
    largest = max(abs(edges[0]), abs(edges[-1]))
    digits = DIGITS + max(0, math.floor(math.log10(largest)) - math.floor(math.log10(span)))
    for places in range(digits, max(digits, 17) + 1):
        rounded = [_directed(edges[0], places, down=True)]
        rounded.extend(_directed(edge, places, down=False) for edge in edges[1:])
        if all(a < b for a, b in itertools.pairwise(rounded)):
            return rounded
    return edges
