"""Mergeable column summaries, filled one batch at a time (see :mod:`mlgates.stats.streaming`).

Each accumulator holds a bounded state (counts, moments, extremes, a fixed-size
row sample); only label counts grow, with the number of distinct labels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import numpy.typing as npt

from mlgates.stats.categorical import label_counts
from mlgates.stats.columns import type_family
from mlgates.stats.summaries import NumericProfile

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BinTally", "ColumnType", "LabelTally", "Moments", "merge_numeric"]

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.int64]
_EXAMPLES = 5


@dataclass
class Moments:
    """Count, mean and sum of squared deviations, merged as Chan et al. do."""

    n: int = 0
    mean: float = math.nan
    m2: float = 0.0

    def add(self, values: FloatArray) -> None:
        """Take in the (non-null) ``values``."""
        if values.size == 0:
            return
        with np.errstate(invalid="ignore", over="ignore"):
            mean = float(values.mean())
            deviations = values - mean
            np.multiply(deviations, deviations, out=deviations)
            self.merge(Moments(int(values.size), mean, float(deviations.sum())))

    def merge(self, other: Moments) -> None:
        """Take in another summary."""
        if other.n == 0:
            return
        if self.n == 0:
            self.n, self.mean, self.m2 = other.n, other.mean, other.m2
            return
        n = self.n + other.n
        with np.errstate(invalid="ignore", over="ignore"):
            delta = other.mean - self.mean
            self.mean += delta * other.n / n
            self.m2 += other.m2 + delta * delta * self.n * other.n / n
        self.n = n

    @property
    def std(self) -> float:
        """Standard deviation (ddof 0); nan without values."""
        return math.sqrt(self.m2 / self.n) if self.n and self.m2 >= 0 else math.nan

    @property
    def spread(self) -> float:
        """Sample standard deviation (ddof 1); nan for fewer than two values or non-finite ones."""
        if self.n < 2 or not math.isfinite(self.m2):
            return math.nan
        return math.sqrt(self.m2 / (self.n - 1))


@dataclass
class ColumnType:
    """A column's dtype and type family as the whole column would show them.

    A batch with a missing value decides the dtype (integers with a null read
    as float64, booleans with a null as object, as they do for the whole file).
    """

    dtype: str = ""
    family: str = ""
    _null_seen: bool = False

    def add(self, values: pd.Series, nulls: int) -> None:
        """Take in one batch of the column holding ``nulls`` missing values."""
        if not self.dtype or (nulls and not self._null_seen):
            self.dtype = str(values.dtype)
        self._null_seen = self._null_seen or nulls > 0
        if not self.family and nulls < len(values):
            self.family = type_family(values)


@dataclass
class LabelTally:
    """Counts of labels (as :func:`mlgates.stats.categorical.label_counts` writes them)."""

    counts: dict[str, int] = field(default_factory=dict)
    nulls: int = 0

    def add(self, values: pd.Series) -> int:
        """Count one batch; returns its number of missing values."""
        labels, counts, total = label_counts(values)
        tally = self.counts
        for label, count in zip(labels.tolist(), counts.tolist(), strict=True):
            tally[label] = tally.get(label, 0) + count
        nulls = len(values) - total
        self.nulls += nulls
        return nulls

    def arrays(self) -> tuple[npt.NDArray[np.object_], IntArray]:
        """The distinct labels and their counts."""
        labels = np.array(list(self.counts), dtype=object)
        counts = np.fromiter(self.counts.values(), dtype=np.int64, count=len(self.counts))
        return labels, counts


@dataclass
class BinTally:
    """Counts of values on fixed edges, and the moments of the two outer bins."""

    edges: FloatArray
    counts: IntArray = field(init=False)
    first: Moments = field(default_factory=Moments)
    last: Moments = field(default_factory=Moments)

    def __post_init__(self) -> None:
        self.counts = np.zeros(self.edges.size + 1, dtype=np.int64)

    def add(self, valid: FloatArray) -> None:
        """Count the non-null ``valid`` values."""
        if self.edges.size == 0:
            self.counts[0] += valid.size
            return
        ordered = np.sort(valid)
        at_or_below = np.searchsorted(ordered, self.edges, side="right")
        self.counts += np.diff(np.concatenate(([0], at_or_below, [ordered.size])))
        self.first.add(ordered[: at_or_below[0]])
        self.last.add(ordered[at_or_below[-1] :])

    @property
    def tail_means(self) -> tuple[float, float]:
        """Means of the first and last bins; nan for an empty bin or no edges."""
        if self.edges.size == 0:
            return math.nan, math.nan
        return self.first.mean, self.last.mean


def _weighted(a: float, a_count: int, b: float, b_count: int) -> float:
    if a_count == 0:
        return b
    if b_count == 0:
        return a
    return (a * a_count + b * b_count) / (a_count + b_count)


def _beyond_distance(value: float, reference: NumericProfile) -> float:
    return reference.min - value if value < reference.min else value - reference.max


def merge_numeric(
    a: NumericProfile, b: NumericProfile, reference: NumericProfile
) -> NumericProfile:
    """Two current profiles on ``reference``'s edges (two batches of one column) as one."""
    moments = Moments(a.count, a.mean, a.std**2 * a.count if a.count else 0.0)
    moments.merge(Moments(b.count, b.mean, b.std**2 * b.count if b.count else 0.0))
    first = (a.counts[0], b.counts[0])
    last = (a.counts[-1], b.counts[-1])
    examples = sorted(
        (*a.beyond_examples, *b.beyond_examples),
        key=lambda value: -_beyond_distance(value, reference),
    )[:_EXAMPLES]
    low = min((p.min for p in (a, b) if p.count), default=math.nan)
    high = max((p.max for p in (a, b) if p.count), default=math.nan)
    fields: dict[str, Any] = {
        "count": a.count + b.count,
        "null_count": a.null_count + b.null_count,
        "mean": moments.mean,
        "std": moments.std,
        "min": low,
        "max": high,
        "counts": tuple(x + y for x, y in zip(a.counts, b.counts, strict=True)),
        "tail_means": (
            _weighted(a.tail_means[0], first[0], b.tail_means[0], first[1]),
            _weighted(a.tail_means[1], last[0], b.tail_means[1], last[1]),
        ),
        "beyond": (a.beyond[0] + b.beyond[0], a.beyond[1] + b.beyond[1]),
        "beyond_examples": tuple(examples),
    }
    if b.null_count and not a.null_count:  # a batch with nulls shows the column's dtype
        fields["dtype"] = b.dtype
    if not a.family:
        fields["family"] = b.family
    return replace(a, **fields)
