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

__all__ = ["categorical_against", "categorical_reference"]

IntArray: TypeAlias = npt.NDArray[np.int64]
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


def _label_counts(values: pd.Series) -> tuple[ObjectArray, IntArray, int]:
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


def _summary(
    values: pd.Series, categories: tuple[str, ...], kept: IntArray, total: int
) -> CategoricalProfile:
    return CategoricalProfile(
        count=total,
        null_count=int(len(values) - total),
        categories=categories,
        counts=tuple(kept.tolist()),
        other_count=total - int(kept.sum()),
    )


def categorical_reference(values: pd.Series, max_categories: int) -> CategoricalProfile:
    """Reference profile: the ``max_categories`` most frequent labels (ties by label).

    Raises
    ------
    UnprofiledColumn
        When the column holds nested values.
    """
    labels, counts, total = _label_counts(values)
    order = np.lexsort((labels, -counts))[:max_categories]
    categories = tuple(str(label) for label in labels[order])
    return _summary(values, categories, counts[order], total)


def categorical_against(reference: CategoricalProfile, values: pd.Series) -> CategoricalProfile:
    """Current profile on the reference's categories; unseen labels go to ``other_count``.

    Raises
    ------
    UnprofiledColumn
        When the column holds nested values.
    """
    import pandas as pd

    labels, counts, total = _label_counts(values)
    by_label = pd.Series(counts, index=pd.Index(labels, dtype=object))
    aligned = by_label.reindex(pd.Index(reference.categories, dtype=object), fill_value=0)
    kept: IntArray = np.asarray(aligned.to_numpy(dtype=np.int64), dtype=np.int64)
    return _summary(values, reference.categories, kept, total)
