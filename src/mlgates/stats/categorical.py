"""Categorical columns: labels as strings, their counts, reference and current summaries."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import numpy.typing as npt

from mlgates.stats.summaries import CategoricalProfile
from mlgates.stats.unreadable import count_error, nested_error

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "against_from_counts",
    "categorical_against",
    "categorical_reference",
    "label_counts",
    "reference_from_counts",
]

IntArray: TypeAlias = npt.NDArray[np.int64]
_TOP_OTHERS = 5
ObjectArray: TypeAlias = npt.NDArray[np.object_]


def _scalar_label(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (float, np.floating)) and math.isfinite(value):
        number = float(value)
        if number.is_integer() and abs(number) < 2**53:
            return str(int(number))
    return str(value)


def _index_labels(index: pd.Index) -> ObjectArray:
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


def label_counts(values: pd.Series) -> tuple[ObjectArray, IntArray, int]:
    """Distinct non-null labels, their counts and the non-null total.

    Raises
    ------
    UnprofiledColumn
        When the column holds nested values (lists, dicts, sets, arrays).
    """
    import pandas as pd

    try:
        counted = values.value_counts(dropna=True, sort=False)
    except TypeError as exc:  # unhashable values, on pandas versions that do not count them
        raise count_error(values, exc) from None
    if counted.index.dtype == object:  # only the distinct values are checked
        nested = nested_error(values, counted.index.to_numpy())
        if nested is not None:
            raise nested
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


def categorical_reference(values: pd.Series, max_categories: int) -> CategoricalProfile:
    """Reference profile: every label seen at least ``kept_from`` times, most frequent first.

    ``kept_from`` is the smallest count at which at most ``max_categories``
    labels are kept (1 when there are no more labels than that), so labels of
    equal count are all kept or all left out; the left-out labels are counted
    by frequency in ``rare_frequencies``.

    Raises
    ------
    UnprofiledColumn
        When the column holds nested values.
    """
    labels, counts, total = label_counts(values)
    return reference_from_counts(labels, counts, len(values) - total, max_categories)


def reference_from_counts(
    labels: ObjectArray, counts: IntArray, null_count: int, max_categories: int
) -> CategoricalProfile:
    """:func:`categorical_reference` of distinct ``labels`` seen ``counts`` times."""
    total = int(counts.sum())
    kept_from = 1
    if counts.size > max_categories:
        kept_from = int(np.partition(counts, -(max_categories + 1))[-(max_categories + 1)]) + 1
    kept = counts >= kept_from
    rare = np.bincount(counts[~kept], minlength=kept_from)[1:kept_from]
    order = np.lexsort((labels[kept], -counts[kept]))
    kept_counts = counts[kept][order]
    return CategoricalProfile(
        count=total,
        null_count=int(null_count),
        categories=tuple(str(label) for label in labels[kept][order]),
        counts=tuple(kept_counts.tolist()),
        other_count=total - int(kept_counts.sum()),
        kept_from=kept_from,
        rare_frequencies=tuple(int(n) for n in rare.tolist()) if rare.any() else (),
    )


def categorical_against(reference: CategoricalProfile, values: pd.Series) -> CategoricalProfile:
    """Current profile on the reference's categories; unseen labels go to ``other_count``.

    The labels outside the reference's categories are described by their
    frequencies of frequencies and the five most frequent of them.

    Raises
    ------
    UnprofiledColumn
        When the column holds nested values.
    """
    labels, counts, total = label_counts(values)
    return against_from_counts(reference, labels, counts, len(values) - total)


def against_from_counts(
    reference: CategoricalProfile, labels: ObjectArray, counts: IntArray, null_count: int
) -> CategoricalProfile:
    """:func:`categorical_against` of distinct ``labels`` seen ``counts`` times."""
    import pandas as pd

    total = int(counts.sum())
    index = pd.Index(labels, dtype=object)
    known = index.isin(pd.Index(reference.categories, dtype=object))
    by_label = pd.Series(counts, index=index)
    aligned = by_label.reindex(pd.Index(reference.categories, dtype=object), fill_value=0)
    kept: IntArray = np.asarray(aligned.to_numpy(dtype=np.int64), dtype=np.int64)
    other_labels, other_counts = labels[~known], counts[~known]
    times, how_many = np.unique(other_counts, return_counts=True)
    top = np.lexsort((other_labels, -other_counts))[:_TOP_OTHERS]
    return CategoricalProfile(
        count=total,
        null_count=int(null_count),
        categories=reference.categories,
        counts=tuple(kept.tolist()),
        other_count=total - int(kept.sum()),
        other_frequencies=tuple(zip(times.tolist(), how_many.tolist(), strict=True)),
        other_top=tuple((str(other_labels[i]), int(other_counts[i])) for i in top.tolist()),
    )
