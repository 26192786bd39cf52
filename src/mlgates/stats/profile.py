"""Column profiles: the entry points, and the names other modules import from here.

A reference data set is profiled once (quantile bins for numbers, category
counts for categories) and can be stored; the current data is then summarised
on the *reference's* bins and categories, so drift is a comparison of two
summaries (:mod:`mlgates.stats.drift`). The work is split by job:
:mod:`~mlgates.stats.summaries` (the profiles and their JSON),
:mod:`~mlgates.stats.numeric`, :mod:`~mlgates.stats.categorical`,
:mod:`~mlgates.stats.noise` (the no-drift simulation) and
:mod:`~mlgates.stats.unreadable` (why a column cannot be summarised).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypeVar, cast

from mlgates.stats.categorical import categorical_against, categorical_reference
from mlgates.stats.columns import type_family
from mlgates.stats.noise import NULL_DRAWS, NULL_LEVELS, TAIL_LEVEL, wasserstein_null_table
from mlgates.stats.numeric import numeric_against, numeric_reference
from mlgates.stats.summaries import (
    FORMAT,
    CategoricalProfile,
    ColumnProfile,
    DatasetProfile,
    Kind,
    NumericProfile,
    column_from_dict,
)
from mlgates.stats.unreadable import UnprofiledColumn

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FORMAT",
    "NULL_DRAWS",
    "NULL_LEVELS",
    "TAIL_LEVEL",
    "CategoricalProfile",
    "ColumnProfile",
    "DatasetProfile",
    "Kind",
    "NumericProfile",
    "UnprofiledColumn",
    "column_from_dict",
    "infer_kind",
    "kind_by_dtype",
    "profile_against",
    "profile_dataset",
    "profile_dataset_against",
    "profile_reference",
    "text_lengths",
    "time_values",
    "wasserstein_null_table",
]

ProfileKind: TypeAlias = Literal["numeric", "categorical", "text", "datetime"]
"""How a column is profiled: ``text`` as its lengths, ``datetime`` as its times."""
_KINDS: tuple[ProfileKind, ...] = ("numeric", "categorical", "text", "datetime")
_PARALLEL_MIN_ROWS = 50_000
_Item = TypeVar("_Item")


def kind_by_dtype(dtype: Any) -> Kind | None:
    """The kind a dtype settles: labels for flags, categories and text, numbers for times.

    None for plain numbers, whose kind depends on how many distinct values they take.
    """
    from pandas.api import types

    if types.is_bool_dtype(dtype) or isinstance(dtype, types.CategoricalDtype):
        return "categorical"
    if types.is_datetime64_any_dtype(dtype) or types.is_timedelta64_dtype(dtype):
        return "numeric"
    if not types.is_numeric_dtype(dtype) or types.is_complex_dtype(dtype):
        return "categorical"
    return None


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
    by_dtype = kind_by_dtype(values.dtype)
    if by_dtype is not None:
        return by_dtype
    # A prefix with too many distinct values settles it without hashing the column.
    head = values.iloc[:4096]
    if head.nunique(dropna=True) > max_numeric_categories:
        return "numeric"
    return "categorical" if values.nunique(dropna=True) <= max_numeric_categories else "numeric"


def text_lengths(values: pd.Series) -> pd.Series:
    """Characters per value of a text column after trimming; blank and missing text is NaN.

    Free text is compared by its lengths rather than its values, which rarely
    repeat: a change in how long the texts are (truncation, a template instead of
    prose) or in how many are empty is what a batch can show. Values that are not
    strings are measured as their text.
    """
    import numpy as np
    import pandas as pd

    present = values.notna().to_numpy()
    lengths = np.full(len(values), np.nan)
    if present.any():
        texts = values[present].astype(str).str.strip()
        counted = texts.str.len().to_numpy(dtype=np.float64, na_value=np.nan)
        counted[counted == 0] = np.nan
        lengths[present] = counted
    return pd.Series(lengths, index=values.index, name=values.name)


def time_values(values: pd.Series) -> pd.Series:
    """A date-time column as naive UTC date-times; ISO 8601 text is parsed.

    Text that does not parse is missing (NaT): dates arriving in another format
    show as missing values, and in the ``data::types`` check.
    """
    import pandas as pd
    from pandas.api import types

    if types.is_datetime64_any_dtype(values.dtype):
        times = values
    else:
        texts = values.astype("string") if not types.is_string_dtype(values.dtype) else values
        times = pd.to_datetime(texts, format="ISO8601", errors="coerce", utc=True)
    if getattr(times.dtype, "tz", None) is not None:
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    return times


def profile_reference(
    values: pd.Series,
    *,
    kind: ProfileKind | None = None,
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
        ``numeric``, ``categorical``, ``text`` (the numbers of
        :func:`text_lengths`) or ``datetime`` (:func:`time_values`); inferred
        with :func:`infer_kind` when None.
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

    Raises
    ------
    UnprofiledColumn
        When the column holds nested values, or values that are not numbers
        for a numeric ``kind``.
    """
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    if max_categories < 1:
        raise ValueError(f"max_categories must be at least 1, got {max_categories}")
    if kind is None:
        kind = infer_kind(values, max_numeric_categories=max_numeric_categories)
    profile: ColumnProfile
    if kind == "numeric":
        profile = numeric_reference(values, bins, seed)
    elif kind == "categorical":
        profile = categorical_reference(values, max_categories)
    elif kind == "text":
        profile = replace(numeric_reference(text_lengths(values), bins, seed), of="length")
    elif kind == "datetime":
        profile = replace(numeric_reference(time_values(values), bins, seed), of="time")
    else:
        raise ValueError(f"kind must be one of {', '.join(_KINDS)}, got {kind!r}")
    return replace(profile, dtype=str(values.dtype), family=type_family(values))


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
        unseen in the reference go to ``other_count``; numbers against a
        categorical reference are counted as labels.

    Raises
    ------
    UnprofiledColumn
        When the column holds nested values, or values that are not numbers
        where the reference is numeric.
    """
    profile: ColumnProfile
    if isinstance(reference, NumericProfile) and reference.of == "length":
        profile = replace(numeric_against(reference, text_lengths(values)), of="length")
    elif isinstance(reference, NumericProfile) and reference.temporal:
        # ISO text against date-times (CSV against Parquet) is read as date-times
        profile = replace(numeric_against(reference, time_values(values)), of=reference.of)
    elif isinstance(reference, NumericProfile):
        profile = numeric_against(reference, values)
    else:
        profile = categorical_against(reference, values)
    return replace(profile, dtype=str(values.dtype), family=type_family(values))


def _resolve_names(frame: pd.DataFrame, columns: Sequence[str] | None) -> dict[str, Any]:
    """Profile key (the column name as a string) -> the frame's column label."""
    by_name = {str(label): label for label in frame.columns}
    if columns is None:
        return by_name
    missing = [name for name in columns if str(name) not in by_name]
    if missing:
        raise ValueError(f"columns not in the data: {', '.join(map(str, missing))}")
    return {str(name): by_name[str(name)] for name in columns}


def _profile_columns(
    work: Sequence[tuple[str, _Item]], rows: int, build: Callable[[_Item], ColumnProfile]
) -> DatasetProfile:
    """Apply ``build`` to each item, in threads for large frames.

    Sorting, reductions and arrow value counts release the GIL, so columns
    profile in parallel. A column that raises :class:`UnprofiledColumn` goes to
    ``unprofiled`` with its reason.
    """

    def attempt(item: _Item) -> ColumnProfile | UnprofiledColumn:
        try:
            return build(item)
        except UnprofiledColumn as exc:
            return exc

    workers = min(len(work), os.cpu_count() or 1, 8)
    items = [item for _, item in work]
    if workers < 2 or rows < _PARALLEL_MIN_ROWS:
        results = [attempt(item) for item in items]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(attempt, items))
    columns: dict[str, ColumnProfile] = {}
    unprofiled: dict[str, str] = {}
    for (name, _), result in zip(work, results, strict=True):
        if isinstance(result, UnprofiledColumn):
            unprofiled[name] = result.reason
        else:
            columns[name] = result
    return DatasetProfile(row_count=rows, columns=columns, unprofiled=unprofiled)


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
        ``numeric``, ``categorical``, ``text`` or ``datetime`` per column name
        (see :func:`profile_reference`), overriding inference.
    bins, max_categories, max_numeric_categories, seed
        As in :func:`profile_reference`.

    Returns
    -------
    DatasetProfile
        Keyed by column name as a string; a column that cannot be summarised
        (nested values, text forced numeric) is in ``unprofiled`` instead.
    """
    kinds = dict(kinds or {})
    bad = {name: kind for name, kind in kinds.items() if kind not in _KINDS}
    if bad:
        raise ValueError(f"kinds must be one of {', '.join(_KINDS)}: {bad}")
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    names = _resolve_names(frame, columns)

    def build(item: tuple[pd.Series, ProfileKind | None]) -> ColumnProfile:
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
    checked = cast("dict[str, ProfileKind]", kinds)
    work = [(name, (frame[label], checked.get(name))) for name, label in names.items()]
    return _profile_columns(work, len(frame), build)


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
        A column that cannot be summarised (nested values, text where the
        reference has numbers) is in ``unprofiled``. Columns unprofiled in the
        reference are not attempted.
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
    return _profile_columns(work, len(frame), build)
