"""Column summaries: one vectorised pass per column, JSON-serialisable.

A reference data set is profiled once (quantile bins for numbers, category counts
for categories); the current data is then summarised on the *reference's* bins
and categories, so drift is a comparison of two summaries
(:mod:`mlgates.stats.drift`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

FORMAT = 1
NULL_LEVELS = (0.5, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9995)
"""Levels at which the no-drift distribution of the Wasserstein distance is stored."""
NULL_DRAWS = 20_000
Kind = Literal["numeric", "categorical"]


def _encode(value: float) -> float | str:
    return value if math.isfinite(value) else str(value)


def _decode(value: float | str) -> float:
    return float(value)


@dataclass(frozen=True)
class NumericProfile:
    """Summary of a numeric column on fixed bins.

    ``counts[i]`` counts values in ``(edges[i-1], edges[i]]``; the first bin is
    ``<= edges[0]`` and the last ``> edges[-1]``. ``null_quantiles`` holds
    ``(level, value)`` pairs of the standardised no-drift Wasserstein functional
    (see :func:`mlgates.stats.drift.wasserstein_null_quantile`) with a final
    ``(1.0, mean_excess)`` pair for the exponential tail; reference profiles only.
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
    kind: Literal["numeric"] = "numeric"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "kind": self.kind,
            "count": self.count,
            "null_count": self.null_count,
            "mean": _encode(self.mean),
            "std": _encode(self.std),
            "min": _encode(self.min),
            "max": _encode(self.max),
            "edges": [_encode(e) for e in self.edges],
            "counts": list(self.counts),
            "null_quantiles": [[level, value] for level, value in self.null_quantiles],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NumericProfile:
        """Inverse of :meth:`to_dict`."""
        return cls(
            count=int(data["count"]),
            null_count=int(data["null_count"]),
            mean=_decode(data["mean"]),
            std=_decode(data["std"]),
            min=_decode(data["min"]),
            max=_decode(data["max"]),
            edges=tuple(_decode(e) for e in data["edges"]),
            counts=tuple(int(c) for c in data["counts"]),
            null_quantiles=tuple((float(a), float(b)) for a, b in data.get("null_quantiles", ())),
        )


@dataclass(frozen=True)
class CategoricalProfile:
    """Summary of a categorical column: counts per category (labels as strings)."""

    count: int
    null_count: int
    categories: tuple[str, ...]
    counts: tuple[int, ...]
    other_count: int = 0
    kind: Literal["categorical"] = "categorical"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
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
        """Inverse of :meth:`to_dict`."""
        return cls(
            count=int(data["count"]),
            null_count=int(data["null_count"]),
            categories=tuple(str(c) for c in data["categories"]),
            counts=tuple(int(c) for c in data["counts"]),
            other_count=int(data.get("other_count", 0)),
        )


ColumnProfile = NumericProfile | CategoricalProfile


def column_from_dict(data: Mapping[str, Any]) -> ColumnProfile:
    """A column profile from its JSON form."""
    kind = data.get("kind")
    if kind == "numeric":
        return NumericProfile.from_dict(data)
    if kind == "categorical":
        return CategoricalProfile.from_dict(data)
    raise ValueError(f"unknown column kind {kind!r}")


@dataclass(frozen=True)
class DatasetProfile:
    """Row count and one profile per column."""

    row_count: int
    columns: Mapping[str, ColumnProfile] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with a format number."""
        return {
            "format": FORMAT,
            "row_count": self.row_count,
            "columns": {name: column.to_dict() for name, column in self.columns.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetProfile:
        """Inverse of :meth:`to_dict`; ``ValueError`` on a document of another kind."""
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise ValueError(f"not an mlgates profile (expected \"format\": {FORMAT})")
        try:
            columns = {str(k): column_from_dict(v) for k, v in data["columns"].items()}
            return cls(row_count=int(data["row_count"]), columns=columns)
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"malformed profile: missing or invalid {exc}") from None

    def save(self, path: Path) -> None:
        """Write as JSON."""
        path.write_text(json.dumps(self.to_dict(), separators=(",", ":")), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> DatasetProfile:
        """Read a profile written by :meth:`save`."""
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"not JSON: {exc}") from None
        return cls.from_dict(document)


def infer_kind(values: pd.Series, *, max_numeric_categories: int = 20) -> Kind:
    """``numeric`` or ``categorical``.

    Booleans, strings, objects and categories are categorical; so are numbers
    with at most ``max_numeric_categories`` distinct values (codes, flags).
    """
    import pandas as pd

    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype) or not (
        pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype)
    ):
        return "categorical"
    if values.nunique(dropna=True) <= max_numeric_categories:
        return "categorical"
    return "numeric"


def _numeric_values(values: pd.Series) -> np.ndarray:
    """Non-missing values as float64."""
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        array = values.dropna().astype("int64").to_numpy(dtype=np.float64)
    else:
        array = values.to_numpy(dtype=np.float64, na_value=np.nan)
        array = array[~np.isnan(array)]
    return array


def _moments(array: np.ndarray) -> tuple[float, float, float, float]:
    if array.size == 0:
        nan = float("nan")
        return nan, nan, nan, nan
    return float(array.mean()), float(array.std()), float(array.min()), float(array.max())


def _bin_counts(array: np.ndarray, edges: np.ndarray) -> tuple[int, ...]:
    indices = np.searchsorted(edges, array, side="left")
    return tuple(int(c) for c in np.bincount(indices, minlength=edges.size + 1))


def profile_reference(
    values: pd.Series,
    *,
    kind: Kind | None = None,
    bins: int = 100,
    max_categories: int = 1000,
    seed: int = 0,
) -> ColumnProfile:
    """The reference summary of one column.

    Numeric: quantile edges at levels ``k / bins`` (de-duplicated), counts per
    bin, and the simulated no-drift quantiles of the Wasserstein distance.
    Categorical: counts of the ``max_categories`` most frequent labels.
    """
    kind = kind or infer_kind(values)
    if kind == "categorical":
        return _categorical(values, None, max_categories)
    array = _numeric_values(values)
    mean, std, low, high = _moments(array)
    if array.size:
        levels = np.arange(1, bins) / bins
        edges = np.unique(np.quantile(array, levels))
    else:
        edges = np.array([], dtype=np.float64)
    counts = _bin_counts(array, edges)
    profile = NumericProfile(
        count=int(array.size),
        null_count=int(len(values) - array.size),
        mean=mean,
        std=std,
        min=low,
        max=high,
        edges=tuple(float(e) for e in edges),
        counts=counts,
    )
    from mlgates.stats.drift import simulate_wasserstein_null

    return NumericProfile(**{**profile.__dict__,
                             "null_quantiles": simulate_wasserstein_null(profile, seed=seed)})


def _categorical(
    values: pd.Series, reference: CategoricalProfile | None, max_categories: int
) -> CategoricalProfile:
    counts = values.value_counts(dropna=True, sort=False)
    labels = [str(label) for label in counts.index]
    numbers = counts.to_numpy(dtype=np.int64)
    total = int(numbers.sum())
    null_count = int(len(values) - total)
    by_label: dict[str, int] = {}
    for label, number in zip(labels, numbers.tolist()):
        by_label[label] = by_label.get(label, 0) + number  # 1 and "1" can meet as strings
    if reference is not None:
        kept = reference.categories
        chosen = tuple(by_label.get(label, 0) for label in kept)
        return CategoricalProfile(count=total, null_count=null_count, categories=kept,
                                  counts=chosen, other_count=total - sum(chosen))
    ordered = sorted(by_label.items(), key=lambda item: (-item[1], item[0]))
    kept_items = ordered[:max_categories]
    kept_total = sum(number for _, number in kept_items)
    return CategoricalProfile(
        count=total,
        null_count=null_count,
        categories=tuple(label for label, _ in kept_items),
        counts=tuple(number for _, number in kept_items),
        other_count=total - kept_total,
    )


def profile_against(reference: ColumnProfile, values: pd.Series) -> ColumnProfile:
    """The current data of one column, summarised on the reference's bins or categories."""
    if isinstance(reference, CategoricalProfile):
        return _categorical(values, reference, len(reference.categories))
    array = _numeric_values(values)
    mean, std, low, high = _moments(array)
    return NumericProfile(
        count=int(array.size),
        null_count=int(len(values) - array.size),
        mean=mean,
        std=std,
        min=low,
        max=high,
        edges=reference.edges,
        counts=_bin_counts(array, np.asarray(reference.edges, dtype=np.float64)),
    )


def profile_dataset(
    frame: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    kinds: Mapping[str, Kind] | None = None,
    bins: int = 100,
) -> DatasetProfile:
    """Reference profiles of ``columns`` (default: all) of ``frame``."""
    kinds = kinds or {}
    names = [str(c) for c in frame.columns] if columns is None else list(columns)
    return DatasetProfile(
        row_count=len(frame),
        columns={
            name: profile_reference(frame[name], kind=kinds.get(name), bins=bins)
            for name in names
        },
    )


def profile_dataset_against(reference: DatasetProfile, frame: pd.DataFrame) -> DatasetProfile:
    """``frame`` summarised on ``reference``'s bins; columns ``frame`` lacks are left out."""
    present = {str(c) for c in frame.columns}
    return DatasetProfile(
        row_count=len(frame),
        columns={
            name: profile_against(profile, frame[name])
            for name, profile in reference.columns.items()
            if name in present
        },
    )
