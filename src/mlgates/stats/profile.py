"""Column summaries: one vectorised pass per column, JSON-serialisable.

A reference data set is profiled once (quantile bins for numbers, category counts
for categories) and can be stored; the current data is then summarised on the
*reference's* bins and categories, so drift is a comparison of two summaries
(:mod:`mlgates.stats.drift`).

Numeric bins follow one convention everywhere: with edges ``e_0 < ... < e_m``,
bin 0 holds values ``<= e_0``, bin ``i`` holds ``(e_{i-1}, e_i]`` and the last
bin holds values ``> e_m``. Non-finite floats are written to JSON as the strings
``"nan"``, ``"inf"`` and ``"-inf"``.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt

from mlgates.files import write_text_atomically

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FORMAT",
    "NULL_DRAWS",
    "NULL_LEVELS",
    "CategoricalProfile",
    "ColumnProfile",
    "DatasetProfile",
    "Kind",
    "NumericProfile",
    "column_from_dict",
    "infer_kind",
    "profile_against",
    "profile_dataset",
    "profile_dataset_against",
    "profile_reference",
    "wasserstein_null_table",
]

FORMAT = 1
"""Version of the JSON document written by :meth:`DatasetProfile.to_dict`."""
NULL_LEVELS = (0.5, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9995)
"""Levels at which the no-drift Wasserstein functional is stored."""
TAIL_LEVEL = 1.0
"""Level of the last ``null_quantiles`` pair, which holds the tail's mean excess."""
NULL_DRAWS = 20_000
"""Brownian-bridge draws simulated per numeric reference column."""

Kind: TypeAlias = Literal["numeric", "categorical"]
FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.int64]

_KINDS: tuple[Kind, ...] = ("numeric", "categorical")
_SORT_CHUNK = 1 << 16
_PARALLEL_MIN_ROWS = 50_000


# -- JSON helpers ---------------------------------------------------------------------


def _encode(value: float) -> float | str:
    """A float for JSON: finite values as numbers, others as ``"nan"``/``"inf"``/``"-inf"``."""
    return value if math.isfinite(value) else str(value)


def _decode(value: Any, what: str) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{what}: expected a number, got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if value is None:
        return math.nan
    if isinstance(value, str) and value in ("nan", "inf", "-inf"):
        return float(value)
    raise ValueError(f"{what}: expected a number, got {value!r}")


def _integer(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what}: expected a non-negative integer, got {value!r}")
    return value


def _sequence(data: Mapping[str, Any], key: str, what: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ValueError(f"{what}: {key!r} must be a list, got {type(value).__name__}")
    return value


def _required(data: Mapping[str, Any], key: str, what: str) -> Any:
    if key not in data:
        raise ValueError(f"{what}: missing key {key!r}")
    return data[key]


# -- profiles -------------------------------------------------------------------------


@dataclass(frozen=True)
class NumericProfile:
    """Summary of a numeric column on fixed bins.

    ``mean``, ``std`` (ddof 0), ``min`` and ``max`` describe the non-null values
    and are nan when there are none. ``counts`` has ``len(edges) + 1`` entries
    (see the module docstring for the bin convention). ``null_quantiles`` is
    filled on reference profiles only: ``(level, value)`` pairs of the
    standardised no-drift Wasserstein functional at :data:`NULL_LEVELS`,
    followed by one ``(1.0, s)`` pair where ``s`` is the mean excess of the
    simulated draws above the last stored quantile (the slope of the
    exponential tail used beyond it). ``tail_means`` holds the means of the
    values in the first and in the last bin (nan for an empty bin); they fix
    the extent of the two open-ended bins in the Wasserstein distance.
    """

    count: int
    null_count: int
    mean: float
    std: float
    min: float
    max: float
    edges: tuple[float, ...]
    counts: tuple[int, ...]
    null_quantiles: tuple[tuple[float, float], ...] = ()
    tail_means: tuple[float, float] = (math.nan, math.nan)
    kind: Literal["numeric"] = "numeric"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; the inverse of :meth:`from_dict`."""
        return {
            "kind": self.kind,
            "count": self.count,
            "null_count": self.null_count,
            "mean": _encode(self.mean),
            "std": _encode(self.std),
            "min": _encode(self.min),
            "max": _encode(self.max),
            "edges": [_encode(edge) for edge in self.edges],
            "counts": list(self.counts),
            "null_quantiles": [[level, _encode(value)] for level, value in self.null_quantiles],
            "tail_means": [_encode(value) for value in self.tail_means],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NumericProfile:
        """Rebuild a profile written by :meth:`to_dict`.

        Raises
        ------
        ValueError
            When a key is missing or the bins are inconsistent.
        """
        what = "numeric profile"
        edges = tuple(_decode(edge, f"{what}: edges") for edge in _sequence(data, "edges", what))
        counts = tuple(
            _integer(count, f"{what}: counts") for count in _sequence(data, "counts", what)
        )
        tail_means = [
            _decode(value, f"{what}: tail_means")
            for value in _sequence(data, "tail_means", what) or [None, None]
        ]
        if len(tail_means) != 2:
            raise ValueError(f"{what}: tail_means must hold two numbers")
        pairs: list[tuple[float, float]] = []
        for pair in _sequence(data, "null_quantiles", what):
            if not isinstance(pair, list) or len(pair) != 2:
                raise ValueError(f"{what}: null_quantiles must hold [level, value] pairs")
            pairs.append((_decode(pair[0], f"{what}: null_quantiles"), _decode(pair[1], what)))
        profile = cls(
            count=_integer(_required(data, "count", what), f"{what}: count"),
            null_count=_integer(_required(data, "null_count", what), f"{what}: null_count"),
            mean=_decode(_required(data, "mean", what), f"{what}: mean"),
            std=_decode(_required(data, "std", what), f"{what}: std"),
            min=_decode(_required(data, "min", what), f"{what}: min"),
            max=_decode(_required(data, "max", what), f"{what}: max"),
            edges=edges,
            counts=counts,
            null_quantiles=tuple(pairs),
            tail_means=(tail_means[0], tail_means[1]),
        )
        if len(counts) != len(edges) + 1:
            raise ValueError(
                f"{what}: {len(counts)} counts for {len(edges)} edges (expected edges + 1)"
            )
        if any(not math.isfinite(e) for e in edges) or any(
            a >= b for a, b in itertools.pairwise(edges)
        ):
            raise ValueError(f"{what}: edges must be finite and strictly increasing")
        if sum(counts) != profile.count:
            raise ValueError(f"{what}: counts sum to {sum(counts)}, not count {profile.count}")
        return profile


@dataclass(frozen=True)
class CategoricalProfile:
    """Summary of a categorical column: counts per category label (as strings).

    ``categories`` are sorted by descending count, then label, on a reference
    profile; a current profile keeps the reference's categories and order.
    ``other_count`` counts non-null values whose label is not in ``categories``.
    """

    count: int
    null_count: int
    categories: tuple[str, ...]
    counts: tuple[int, ...]
    other_count: int = 0
    kind: Literal["categorical"] = "categorical"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; the inverse of :meth:`from_dict`."""
        return {
            "kind": self.kind,
            "count": self.count,
            "null_count": self.null_count,
            "categories": list(self.categories),
            "counts": list(self.counts),
            "other_count": self.other_count,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CategoricalProfile:
        """Rebuild a profile written by :meth:`to_dict`.

        Raises
        ------
        ValueError
            When a key is missing or the counts are inconsistent.
        """
        what = "categorical profile"
        categories = _sequence(data, "categories", what)
        if not all(isinstance(label, str) for label in categories):
            raise ValueError(f"{what}: categories must be strings")
        counts = tuple(
            _integer(count, f"{what}: counts") for count in _sequence(data, "counts", what)
        )
        profile = cls(
            count=_integer(_required(data, "count", what), f"{what}: count"),
            null_count=_integer(_required(data, "null_count", what), f"{what}: null_count"),
            categories=tuple(categories),
            counts=counts,
            other_count=_integer(data.get("other_count", 0), f"{what}: other_count"),
        )
        if len(counts) != len(categories):
            raise ValueError(f"{what}: {len(counts)} counts for {len(categories)} categories")
        if len(set(categories)) != len(categories):
            raise ValueError(f"{what}: duplicate category labels")
        if sum(counts) + profile.other_count != profile.count:
            raise ValueError(
                f"{what}: counts and other_count sum to {sum(counts) + profile.other_count}, "
                f"not count {profile.count}"
            )
        return profile


ColumnProfile: TypeAlias = NumericProfile | CategoricalProfile


def column_from_dict(data: Mapping[str, Any]) -> ColumnProfile:
    """A column profile from its :meth:`~NumericProfile.to_dict` form.

    Raises
    ------
    ValueError
        For an unknown ``kind`` or a malformed profile.
    """
    if not isinstance(data, Mapping):
        raise ValueError(f"a column profile must be an object, got {type(data).__name__}")
    kind = data.get("kind")
    if kind == "numeric":
        return NumericProfile.from_dict(data)
    if kind == "categorical":
        return CategoricalProfile.from_dict(data)
    raise ValueError(f"unknown column kind {kind!r} (expected 'numeric' or 'categorical')")


@dataclass(frozen=True)
class DatasetProfile:
    """Row count and one profile per column; treat ``columns`` as read-only."""

    row_count: int
    columns: Mapping[str, ColumnProfile] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form with a ``"format"`` number; the inverse of :meth:`from_dict`."""
        return {
            "format": FORMAT,
            "row_count": self.row_count,
            "columns": {name: column.to_dict() for name, column in self.columns.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetProfile:
        """Rebuild a profile written by :meth:`to_dict`.

        Raises
        ------
        ValueError
            When ``data`` is not a format-1 mlgates profile or a column is malformed.
        """
        if not isinstance(data, Mapping):
            raise ValueError(
                f"not an mlgates profile: expected an object, got {type(data).__name__}"
            )
        if data.get("format") != FORMAT:
            raise ValueError(
                f'not an mlgates profile: expected "format": {FORMAT}, got {data.get("format")!r}'
            )
        row_count = _integer(_required(data, "row_count", "profile"), "profile: row_count")
        columns = _required(data, "columns", "profile")
        if not isinstance(columns, Mapping):
            raise ValueError("profile: 'columns' must be an object of column profiles")
        parsed: dict[str, ColumnProfile] = {}
        for name, column in columns.items():
            try:
                parsed[str(name)] = column_from_dict(column)
            except ValueError as exc:
                raise ValueError(f"column {name!r}: {exc}") from None
        return cls(row_count=row_count, columns=parsed)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the profile as JSON (atomically: a reader never sees half a file)."""
        target = Path(path)
        text = json.dumps(self.to_dict(), allow_nan=False, separators=(",", ":"))
        write_text_atomically(target, text)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> DatasetProfile:
        """Read a profile written by :meth:`save`.

        Raises
        ------
        ValueError
            When the file is not JSON or not an mlgates profile.
        """
        try:
            document = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not JSON: {exc}") from None
        return cls.from_dict(document)


# -- kinds and value extraction -------------------------------------------------------


def infer_kind(values: pd.Series, *, max_numeric_categories: int = 20) -> Kind:
    """Whether a column is profiled as ``numeric`` or ``categorical``.

    Parameters
    ----------
    values
        The column.
    max_numeric_categories
        Numbers with at most this many distinct non-null values (codes,
        flags) are categorical.

    Returns
    -------
    str
        ``categorical`` for bool, object, string and category dtypes and
        low-cardinality numbers; ``numeric`` for other numbers and datetimes.
    """
    from pandas.api import types

    dtype = values.dtype
    if types.is_bool_dtype(dtype) or isinstance(dtype, types.CategoricalDtype):
        return "categorical"
    if types.is_datetime64_any_dtype(dtype) or types.is_timedelta64_dtype(dtype):
        return "numeric"
    if not types.is_numeric_dtype(dtype) or types.is_complex_dtype(dtype):
        return "categorical"
    # A prefix with too many distinct values settles it without hashing the column.
    head = values.iloc[:4096]
    if head.nunique(dropna=True) > max_numeric_categories:
        return "numeric"
    return "categorical" if values.nunique(dropna=True) <= max_numeric_categories else "numeric"


def _float_values(values: pd.Series) -> FloatArray:
    """The column as float64 with nan for nulls (datetimes and timedeltas as int64 ns)."""
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
        raise ValueError(
            f"column {values.name!r} of dtype {dtype} cannot be profiled as numeric: {exc}"
        ) from None


def _non_null(array: FloatArray) -> FloatArray:
    nulls = np.isnan(array)
    return array[~nulls] if nulls.any() else array


def _moments(valid: FloatArray) -> tuple[float, float]:
    if valid.size == 0:
        return math.nan, math.nan
    with np.errstate(invalid="ignore", over="ignore"):
        return float(valid.mean()), float(valid.std())


# -- numeric profiles -----------------------------------------------------------------


def _sorted_quantiles(ordered: FloatArray, levels: FloatArray) -> FloatArray:
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
    """Bin counts of sorted values: values ``<= edges[0]``, then ``(e_{i-1}, e_i]``, then above."""
    at_or_below = np.searchsorted(ordered, edges, side="right")
    bounds = np.concatenate(([0], at_or_below, [ordered.size]))
    return np.diff(bounds).astype(np.int64)


def _tail_means(
    first_bin: FloatArray, last_bin: FloatArray, edge_count: int
) -> tuple[float, float]:
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


@lru_cache(maxsize=4)
def _standard_normals(seed: int, bins: int, draws: int) -> npt.NDArray[np.float32]:
    """Read-only ``(bins, draws)`` standard normals, shared by columns with as many bins."""
    normals = np.random.default_rng(seed).standard_normal((bins, draws), dtype=np.float32)
    normals.flags.writeable = False
    return normals


def _outer_knots(profile: NumericProfile) -> tuple[float, float]:
    """Where the open-ended first and last bins end.

    Each is modelled as uniform with the mean of its values: the first bin spans
    ``[2 * tail_means[0] - edges[0], edges[0]]`` and the last
    ``[edges[-1], 2 * tail_means[1] - edges[-1]]``. Without tail means (a profile
    from elsewhere) the extremes are used instead; an empty or infinite tail
    ends at its edge. With no edges at all the one bin spans ``[min, max]``.
    """
    low, high = profile.min, profile.max
    if not profile.edges:
        low = low if math.isfinite(low) else 0.0
        high = high if math.isfinite(high) else low
        return low, max(low, high)
    first, last = profile.edges[0], profile.edges[-1]
    low_mean, high_mean = profile.tail_means
    if math.isfinite(low_mean):
        low = 2 * low_mean - first
    if math.isfinite(high_mean):
        high = 2 * high_mean - last
    low = min(low, first) if math.isfinite(low) else first
    high = max(high, last) if math.isfinite(high) else last
    return low, high


def wasserstein_null_table(
    profile: NumericProfile,
    *,
    tail_spreads: tuple[float, float] | None = None,
    draws: int = NULL_DRAWS,
    seed: int = 0,
) -> tuple[tuple[float, float], ...]:
    """Quantiles of the standardised no-drift Wasserstein functional of a reference.

    Between two samples of one distribution, the difference of their binned CDFs
    at the reference edges is close to ``sqrt(1/n_r + 1/n_c) * B(t_k)``, with
    ``B`` a Brownian bridge and ``t_k`` the reference CDF at the edges, so the
    binned distance (:func:`mlgates.stats.drift.wasserstein_distance`) is that
    factor times ``L``: the integral of ``|B|`` (trapezoid rule between edges)
    over the bin widths divided by the reference std. In the two open-ended bins
    the area also moves with the mean of the values there: each adds
    ``|(e - tail_mean) * B(t) + sqrt(mass) * spread * Z|`` with an independent
    normal ``Z``. ``L`` is simulated with ``draws`` bridges (standard normals
    scaled by the square roots of the bin masses, summed, minus ``t * W(1)``).

    Parameters
    ----------
    profile
        The reference profile (edges, counts, std and tail means are used).
    tail_spreads
        Standard deviations of the values in the first and last bins; nan or
        None assumes an exponential tail (spread equal to the mean excess).
    draws, seed
        Size and seed of the simulation.

    Returns
    -------
    tuple
        ``(level, quantile)`` pairs at :data:`NULL_LEVELS` and a final
        ``(1.0, s)`` pair, ``s`` the mean excess above the last quantile.
    """
    zero = (*((level, 0.0) for level in NULL_LEVELS), (TAIL_LEVEL, 0.0))
    if profile.count == 0 or not profile.edges:
        return zero
    edges = np.asarray(profile.edges, dtype=np.float64)
    masses = np.asarray(profile.counts, dtype=np.float64) / profile.count
    low, high = _outer_knots(profile)
    scale = profile.std if math.isfinite(profile.std) and profile.std > 0 else 1.0
    knots = np.concatenate(([low], edges, [high]))
    widths = np.diff(knots) / scale
    bins = masses.size

    normals = _standard_normals(seed, bins + 2, draws)
    # Row by row over the (bins, draws) array: each row stays in cache, and a running
    # sum this way is far faster than cumsum(axis=0).
    walk = np.empty((bins, draws), dtype=np.float32)
    steps = np.sqrt(masses).astype(np.float32)
    np.multiply(normals[0], steps[0], out=walk[0])
    for row in range(1, bins):
        np.multiply(normals[row], steps[row], out=walk[row])
        walk[row] += walk[row - 1]
    end = walk[-1]
    bridge = walk[:-1]
    for row, time in enumerate(np.cumsum(masses)[:-1].astype(np.float32)):
        bridge[row] -= time * end

    # The two open-ended bins: count fluctuation times the mean excess, plus the
    # fluctuation of the mean of the values beyond the edge.
    spreads = tail_spreads or (math.nan, math.nan)
    functional = np.zeros(draws, dtype=np.float64)
    for side, (position, mass) in enumerate(((0, masses[0]), (-1, masses[-1]))):
        excess = widths[position] / 2
        spread = spreads[side] / scale
        spread = spread if math.isfinite(spread) and spread >= 0 else excess
        tail = excess * bridge[position] + math.sqrt(mass) * spread * normals[bins + side]
        functional += np.abs(tail)
    if bridge.shape[0] > 1:
        # Inner segment j runs from edge j to edge j + 1: trapezoid rule on |B|. Where
        # B changes sign inside a segment this overstates the exact integral used by the
        # distance, by less than 0.5% at the upper quantiles: a slightly conservative floor
        # for half the work.
        inner = widths[1:-1].astype(np.float32)
        weights = np.zeros(bridge.shape[0], dtype=np.float32)
        weights[:-1] += inner / 2
        weights[1:] += inner / 2
        np.abs(bridge, out=bridge)
        functional += np.einsum("i,ij->j", weights, bridge)
    quantiles = np.quantile(functional, NULL_LEVELS)
    top = float(quantiles[-1])
    beyond = functional[functional > top] - top
    slope = float(beyond.mean()) if beyond.size else 0.0
    return (
        *((level, float(value)) for level, value in zip(NULL_LEVELS, quantiles, strict=True)),
        (TAIL_LEVEL, slope),
    )


def _numeric_reference(values: pd.Series, bins: int, seed: int) -> NumericProfile:
    array = _float_values(values)
    valid = _non_null(array)
    ordered = np.sort(valid)
    n = int(ordered.size)
    if n:
        levels = np.arange(1, bins, dtype=np.float64) / bins
        edges = np.unique(_sorted_quantiles(ordered, levels))
        edges = edges[np.isfinite(edges)]
        low, high = float(ordered[0]), float(ordered[-1])
    else:
        edges = np.empty(0, dtype=np.float64)
        low = high = math.nan
    mean, std = _moments(ordered)
    counts = _counts_from_sorted(ordered, edges)
    first_bin, last_bin = ordered[: counts[0]], ordered[n - counts[-1] :]
    profile = NumericProfile(
        count=n,
        null_count=int(array.size - n),
        mean=mean,
        std=std,
        min=low,
        max=high,
        edges=tuple(edges.tolist()),
        counts=tuple(counts.tolist()),
        tail_means=_tail_means(first_bin, last_bin, edges.size),
    )
    if n == 0:
        return profile
    spreads = (_spread(first_bin), _spread(last_bin))
    table = wasserstein_null_table(profile, tail_spreads=spreads, seed=seed)
    return replace(profile, null_quantiles=table)


def _numeric_against(reference: NumericProfile, values: pd.Series) -> NumericProfile:
    array = _float_values(values)
    valid = _non_null(array)
    n = int(valid.size)
    mean, std = _moments(valid)
    low, high = (float(valid.min()), float(valid.max())) if n else (math.nan, math.nan)
    counts, tail_means = _bin_counts(valid, np.asarray(reference.edges, dtype=np.float64))
    return NumericProfile(
        count=n,
        null_count=int(array.size - n),
        mean=mean,
        std=std,
        min=low,
        max=high,
        edges=reference.edges,
        counts=tuple(counts.tolist()),
        tail_means=tail_means,
    )


# -- categorical profiles -------------------------------------------------------------


def _scalar_label(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (float, np.floating)) and math.isfinite(value):
        number = float(value)
        if number.is_integer() and abs(number) < 2**53:
            return str(int(number))
    return str(value)


def _index_labels(index: pd.Index) -> npt.NDArray[np.object_]:
    """Labels of value-count keys as strings; integral floats print as integers (1.0 -> "1").

    Integral floats are written like integers so that an integer column that
    gains a null (and becomes float) keeps its labels.
    """
    import pandas as pd
    from pandas.api import types

    if isinstance(index, pd.CategoricalIndex):
        index = pd.Index(index.to_numpy())
    dtype = index.dtype
    if types.is_string_dtype(dtype) and not types.is_object_dtype(dtype):
        return np.asarray(index.to_numpy(dtype=object), dtype=object)
    if types.is_float_dtype(dtype):
        numbers = index.to_numpy(dtype=np.float64)
        labels = numbers.astype(str).astype(object)
        integral = np.isfinite(numbers) & (np.abs(numbers) < 2**53)
        integral[integral] = numbers[integral] == np.floor(numbers[integral])
        labels[integral] = numbers[integral].astype(np.int64).astype(str).astype(object)
        return np.asarray(labels, dtype=object)
    if types.is_bool_dtype(dtype) or types.is_integer_dtype(dtype):
        return np.asarray(index.astype(str).to_numpy(dtype=object), dtype=object)
    return np.array([_scalar_label(value) for value in index], dtype=object)


def _label_counts(values: pd.Series) -> tuple[npt.NDArray[np.object_], IntArray, int]:
    """Distinct non-null labels, their counts and the non-null total."""
    import pandas as pd

    counted = values.value_counts(dropna=True, sort=False)
    counts: IntArray = np.asarray(counted.to_numpy(dtype=np.int64), dtype=np.int64)
    labels = _index_labels(counted.index)
    used = counts > 0  # a categorical dtype reports unused categories with zero counts
    if not used.all():
        labels, counts = labels[used], counts[used]
    if labels.size and not pd.Index(labels).is_unique:  # e.g. 1 and "1" in one object column
        merged = pd.Series(counts).groupby(labels, sort=False).sum()
        labels = np.asarray(merged.index.to_numpy(dtype=object), dtype=object)
        counts = np.asarray(merged.to_numpy(dtype=np.int64), dtype=np.int64)
    return labels, counts, int(counts.sum())


def _categorical_reference(values: pd.Series, max_categories: int) -> CategoricalProfile:
    labels, counts, total = _label_counts(values)
    order = np.lexsort((labels, -counts))[:max_categories]
    kept = counts[order]
    return CategoricalProfile(
        count=total,
        null_count=int(len(values) - total),
        categories=tuple(str(label) for label in labels[order]),
        counts=tuple(kept.tolist()),
        other_count=total - int(kept.sum()),
    )


def _categorical_against(reference: CategoricalProfile, values: pd.Series) -> CategoricalProfile:
    import pandas as pd

    labels, counts, total = _label_counts(values)
    by_label = pd.Series(counts, index=pd.Index(labels, dtype=object))
    aligned = by_label.reindex(pd.Index(reference.categories, dtype=object), fill_value=0)
    kept = aligned.to_numpy(dtype=np.int64)
    return CategoricalProfile(
        count=total,
        null_count=int(len(values) - total),
        categories=reference.categories,
        counts=tuple(kept.tolist()),
        other_count=total - int(kept.sum()),
    )


# -- public entry points --------------------------------------------------------------


def profile_reference(
    values: pd.Series,
    *,
    kind: Kind | None = None,
    bins: int = 100,
    max_categories: int = 1000,
    seed: int = 0,
    max_numeric_categories: int = 20,
) -> ColumnProfile:
    """Profile one column of the reference data.

    Parameters
    ----------
    values
        The column.
    kind
        ``numeric`` or ``categorical``; inferred with :func:`infer_kind` when None.
    bins
        Numeric: edges are the quantiles at levels ``k / bins``, ``k = 1 .. bins-1``,
        de-duplicated (so there may be fewer bins for discrete data).
    max_categories
        Categorical: keep this many most frequent labels; the rest is ``other_count``.
    seed
        Seed of the no-drift simulation stored in ``null_quantiles``.
    max_numeric_categories
        Passed to :func:`infer_kind`.

    Returns
    -------
    NumericProfile or CategoricalProfile
    """
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    if max_categories < 1:
        raise ValueError(f"max_categories must be at least 1, got {max_categories}")
    if kind is None:
        kind = infer_kind(values, max_numeric_categories=max_numeric_categories)
    if kind == "numeric":
        return _numeric_reference(values, bins, seed)
    if kind == "categorical":
        return _categorical_reference(values, max_categories)
    raise ValueError(f"kind must be 'numeric' or 'categorical', got {kind!r}")


def profile_against(reference: ColumnProfile, values: pd.Series) -> ColumnProfile:
    """Summarise current data on the reference's bins or categories.

    Parameters
    ----------
    reference
        The column's reference profile.
    values
        The current column.

    Returns
    -------
    NumericProfile or CategoricalProfile
        Same ``edges`` (or ``categories``, in the same order) as ``reference``,
        with the current counts and the current count, nulls and moments. Labels
        unseen in the reference go to ``other_count``.
    """
    if isinstance(reference, NumericProfile):
        return _numeric_against(reference, values)
    return _categorical_against(reference, values)


def _resolve_names(frame: pd.DataFrame, columns: Sequence[str] | None) -> dict[str, Any]:
    """Profile key (the column name as a string) -> the frame's column label."""
    by_name = {str(label): label for label in frame.columns}
    if columns is None:
        return by_name
    missing = [name for name in columns if str(name) not in by_name]
    if missing:
        raise ValueError(f"columns not in the data: {', '.join(map(str, missing))}")
    return {str(name): by_name[str(name)] for name in columns}


def _map_columns(
    work: Sequence[tuple[str, Any]], rows: int, function: Any
) -> dict[str, ColumnProfile]:
    """Apply ``function`` to each item, in threads for large frames.

    Sorting, reductions and arrow value counts release the GIL, so columns
    profile in parallel.
    """
    workers = min(len(work), os.cpu_count() or 1, 8)
    if workers < 2 or rows < _PARALLEL_MIN_ROWS:
        return {name: function(item) for name, item in work}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(function, [item for _, item in work]))
    return {name: result for (name, _), result in zip(work, results, strict=True)}


def profile_dataset(
    frame: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    kinds: Mapping[str, str] | None = None,
    bins: int = 100,
    max_categories: int = 1000,
    max_numeric_categories: int = 20,
    seed: int = 0,
) -> DatasetProfile:
    """Reference profiles of the columns of a data set.

    Parameters
    ----------
    frame
        The reference data.
    columns
        Columns to profile (default: all); a name not in ``frame`` is an error.
    kinds
        ``numeric`` or ``categorical`` per column name, overriding inference.
    bins, max_categories, max_numeric_categories, seed
        As in :func:`profile_reference`.

    Returns
    -------
    DatasetProfile
        Keyed by column name as a string.
    """
    kinds = dict(kinds or {})
    bad = {name: kind for name, kind in kinds.items() if kind not in _KINDS}
    if bad:
        raise ValueError(f"kinds must be 'numeric' or 'categorical': {bad}")
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    names = _resolve_names(frame, columns)

    def build(item: tuple[pd.Series, Kind | None]) -> ColumnProfile:
        values, kind = item
        return profile_reference(
            values,
            kind=kind,
            bins=bins,
            max_categories=max_categories,
            seed=seed,
            max_numeric_categories=max_numeric_categories,
        )

    # Columns are taken out of the frame here, in one thread; workers only see Series.
    work = [(name, (frame[label], kinds.get(name))) for name, label in names.items()]
    return DatasetProfile(row_count=len(frame), columns=_map_columns(work, len(frame), build))


def profile_dataset_against(reference: DatasetProfile, frame: pd.DataFrame) -> DatasetProfile:
    """Summarise a current data set on a reference profile's bins and categories.

    Parameters
    ----------
    reference
        The reference profile.
    frame
        The current data; reference columns missing from it are absent in the result.

    Returns
    -------
    DatasetProfile
    """
    by_name = {str(label): label for label in frame.columns}

    def build(item: tuple[ColumnProfile, pd.Series]) -> ColumnProfile:
        profile, values = item
        return profile_against(profile, values)

    work = [
        (name, (profile, frame[by_name[name]]))
        for name, profile in reference.columns.items()
        if name in by_name
    ]
    return DatasetProfile(row_count=len(frame), columns=_map_columns(work, len(frame), build))
