"""Numeric columns: float extraction, quantile bins, bin counts and tail means.

Bins follow one convention everywhere: with edges ``e_0 < ... < e_m``, bin 0
holds values ``<= e_0``, bin ``i`` holds ``(e_{i-1}, e_i]`` and the last bin
holds values ``> e_m``.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, TypeAlias

import numpy as np
import numpy.typing as npt

from mlgates.stats.noise import wasserstein_null_table
from mlgates.stats.summaries import NumericProfile
from mlgates.stats.unreadable import numbers_error

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["float_values", "numeric_against", "numeric_reference", "sorted_quantiles"]

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.int64]

_SORT_CHUNK = 1 << 16
_EXAMPLES = 5


def float_values(values: pd.Series, *, expected: str) -> FloatArray:
    """The column as float64 with nan for nulls (datetimes and timedeltas as int64 ns).

    Raises
    ------
    UnprofiledColumn
        When the values are not numbers; ``expected`` (e.g. ``"where the
        reference has numbers"``) is part of the reason.
    """
    from pandas.api import types

    dtype = values.dtype
    try:
        if types.is_datetime64_any_dtype(dtype) or types.is_timedelta64_dtype(dtype):
            unit = "datetime64[ns]" if types.is_datetime64_any_dtype(dtype) else "timedelta64[ns]"
            raw = values.to_numpy(dtype=unit)
            array = raw.view(np.int64).astype(np.float64)
            array[np.isnat(raw)] = np.nan
            return array
        return np.asarray(values.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise numbers_error(values, expected, exc) from None


def _non_null(array: FloatArray) -> FloatArray:
    nulls = np.isnan(array)
    return array[~nulls] if nulls.any() else array


def _moments(valid: FloatArray) -> tuple[float, float]:
    if valid.size == 0:
        return math.nan, math.nan
    with np.errstate(invalid="ignore", over="ignore"):
        return float(valid.mean()), float(valid.std())


def sorted_quantiles(ordered: FloatArray, levels: FloatArray) -> FloatArray:
    """``np.quantile(..., method="linear")`` of already sorted values, without re-sorting."""
    n = ordered.size
    position = (n - 1) * levels
    lower = np.floor(position)
    gamma = position - lower
    below = lower.astype(np.intp)
    above = np.minimum(below + 1, n - 1)
    a, b = ordered[below], ordered[above]
    with np.errstate(invalid="ignore"):
        diff = b - a
        result = a + diff * gamma
        upper = gamma >= 0.5
        result[upper] = (b - diff * (1 - gamma))[upper]
    return result


def _counts_from_sorted(ordered: FloatArray, edges: FloatArray) -> IntArray:
    """Bin counts of sorted values."""
    at_or_below = np.searchsorted(ordered, edges, side="right")
    bounds = np.concatenate(([0], at_or_below, [ordered.size]))
    return np.diff(bounds).astype(np.int64)


def _tail_means(
    first_bin: FloatArray, last_bin: FloatArray, edge_count: int
) -> tuple[float, float]:
    """Means of the values in the first and last bins; nan for an empty bin or no edges."""
    if edge_count == 0:
        return math.nan, math.nan
    with np.errstate(invalid="ignore", over="ignore"):
        low = float(first_bin.mean()) if first_bin.size else math.nan
        high = float(last_bin.mean()) if last_bin.size else math.nan
    return low, high


def _spread(values: FloatArray) -> float:
    """Sample standard deviation; nan for fewer than two values or non-finite ones."""
    if values.size < 2:
        return math.nan
    with np.errstate(invalid="ignore", over="ignore"):
        return float(values.std(ddof=1))


def _bin_counts(valid: FloatArray, edges: FloatArray) -> tuple[IntArray, tuple[float, float]]:
    """Bin counts of unsorted values and the means of the first and last bins.

    Sorting cache-sized chunks and bisecting the edges into them is several
    times faster than bisecting every value into the edges.
    """
    if edges.size == 0:
        return np.array([valid.size], dtype=np.int64), (math.nan, math.nan)
    at_or_below = np.zeros(edges.size, dtype=np.int64)
    low_sum = high_sum = 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        for start in range(0, valid.size, _SORT_CHUNK):
            chunk = np.sort(valid[start : start + _SORT_CHUNK])
            positions = np.searchsorted(chunk, edges, side="right")
            at_or_below += positions
            low_sum += float(chunk[: positions[0]].sum())
            high_sum += float(chunk[positions[-1] :].sum())
    bounds = np.concatenate(([0], at_or_below, [valid.size]))
    counts = np.diff(bounds).astype(np.int64)
    low = low_sum / int(counts[0]) if counts[0] else math.nan
    high = high_sum / int(counts[-1]) if counts[-1] else math.nan
    return counts, (low, high)


def _summary(
    array: FloatArray,
    valid: FloatArray,
    edges: tuple[float, ...],
    counts: IntArray,
    tail_means: tuple[float, float],
    *,
    ordered: bool = False,
) -> NumericProfile:
    """A profile of ``valid`` (the non-null part of ``array``, sorted if ``ordered``)."""
    n = int(valid.size)
    mean, std = _moments(valid)
    if n == 0:
        low = high = math.nan
    elif ordered:
        low, high = float(valid[0]), float(valid[-1])
    else:
        low, high = float(valid.min()), float(valid.max())
    return NumericProfile(
        count=n,
        null_count=int(array.size - n),
        mean=mean,
        std=std,
        min=low,
        max=high,
        edges=edges,
        counts=tuple(counts.tolist()),
        tail_means=tail_means,
    )


def numeric_reference(values: pd.Series, bins: int, seed: int) -> NumericProfile:
    """Reference profile: edges at the quantiles ``k / bins`` and a no-drift table.

    Raises
    ------
    UnprofiledColumn
        When the values are not numbers.
    """
    array = float_values(values, expected="where numbers were asked for")
    ordered = np.sort(_non_null(array))
    n = int(ordered.size)
    if n:
        levels = np.arange(1, bins, dtype=np.float64) / bins
        edges = np.unique(sorted_quantiles(ordered, levels))
        edges = edges[np.isfinite(edges)]
    else:
        edges = np.empty(0, dtype=np.float64)
    counts = _counts_from_sorted(ordered, edges)
    first_bin, last_bin = ordered[: counts[0]], ordered[n - counts[-1] :]
    tails = _tail_means(first_bin, last_bin, edges.size)
    profile = _summary(array, ordered, tuple(edges.tolist()), counts, tails, ordered=True)
    if n == 0:
        return profile
    spreads = (_spread(first_bin), _spread(last_bin))
    table = wasserstein_null_table(profile, tail_spreads=spreads, seed=seed)
    return replace(profile, null_quantiles=table)


def numeric_against(reference: NumericProfile, values: pd.Series) -> NumericProfile:
    """Current profile on the reference's edges.

    Raises
    ------
    UnprofiledColumn
        When the values are not numbers.
    """
    array = float_values(values, expected="where the reference has numbers")
    valid = _non_null(array)
    counts, tails = _bin_counts(valid, np.asarray(reference.edges, dtype=np.float64))
    profile = _summary(array, valid, reference.edges, counts, tails)
    if profile.count and reference.min <= profile.min and profile.max <= reference.max:
        return profile  # nothing beyond the reference's range: no pass over the values
    beyond, examples = _beyond_range(valid, reference.min, reference.max)
    return replace(profile, beyond=beyond, beyond_examples=examples)


def _beyond_range(
    valid: FloatArray, low: float, high: float
) -> tuple[tuple[int, int], tuple[float, ...]]:
    """Counts of values below ``low`` and above ``high``, and up to five, most extreme first."""
    if valid.size == 0 or not (math.isfinite(low) and math.isfinite(high)):
        return (0, 0), ()
    below, above = valid[valid < low], valid[valid > high]
    distance = np.concatenate((low - below, above - high))
    outside = np.concatenate((below, above))
    if outside.size > _EXAMPLES:
        picked = np.argpartition(-distance, _EXAMPLES - 1)[:_EXAMPLES]
        outside, distance = outside[picked], distance[picked]
    order = np.argsort(-distance, kind="stable")
    return (int(below.size), int(above.size)), tuple(float(v) for v in outside[order])
