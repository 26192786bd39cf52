"""Infer a pandera schema from reference data: the rules a sample can vouch for.

The schema records what one reference sample can tell without blocking good
batches by chance: the dtype where it does not depend on whether a batch has
missing values, uniqueness and presence of key columns, the sign of numbers
that are never negative, and the allowed values of low-cardinality columns
whose value set looks closed. How many values are missing and how far values
stray beyond the reference's range are judged by the data gate's statistical
checks (``missing_share``, ``out_of_range``), which know the batch size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

__all__ = ["infer_schema", "is_nested"]

_YAML_SCALARS = (str, bool, int, float)
_NESTED_PROBE = 100
_PROBE_CHUNK = 4096
_PLAUSIBLE_MIN_VALUES = 1000
_PLAUSIBLE_FACTOR = 10.0


def infer_schema(
    frame: pd.DataFrame,
    *,
    margin: float | None = None,
    max_categories: int = 20,
    keys: Sequence[str] = (),
) -> pa.DataFrameSchema:
    """Infer a validation schema from reference data.

    Parameters
    ----------
    frame : pandas.DataFrame
        Reference data; not modified.
    margin : float or None
        None (the default): numeric columns of at least 1,000 values get
        plausibility bounds an order of magnitude beyond their extremes, and 0
        below when no value is negative (see :func:`_plausible_range`); values
        between the extremes and those bounds are the ``out_of_range`` check's
        to judge, against chance. A number: numeric ranges are widened by
        ``margin * (max - min)`` on each side
        (``margin * |value|``, or ``margin``, when the column is constant),
        but never below zero for a column without negative values. The ranges
        are plausibility bounds (sign errors, sentinels, unit mix-ups), not
        distribution bounds: the maximum of a new sample of a heavy-tailed column
        often lies well beyond the reference's, and distribution changes are the
        drift checks' job. A side whose tail is longer than the body (the
        distance from the 99th percentile to the maximum exceeds the distance
        from the median to the 99th percentile, likewise for the minimum) gets
        no bound: new samples of a long-tailed column exceed any observed
        extreme. Integer bounds are rounded outward.
    max_categories : int
        String, object, categorical and boolean columns with at most this many
        distinct values, none of them seen only once, get an ``isin`` check;
        others only dtype and nullability.
    keys : sequence of str
        Key columns: every value distinct and present, with no range or value
        set (new rows bring new keys).

    Returns
    -------
    pandera.pandas.DataFrameSchema
        All columns required, extra columns allowed, no coercion. Only key
        columns are not nullable: a column without missing values in a sample
        may well have them in the next (``missing_share`` judges how many).

    Notes
    -----
    Nested columns (see :func:`is_nested`) get dtype and nullability only,
    and are never checked for uniqueness: their values cannot be hashed or
    compared with a range or a value set. Two kinds of column whose dtype
    depends on whether a batch happens to hold missing values get no dtype
    (their ranges and value sets still apply), and say why in their
    ``description``: whole numbers (int64, or float64 in a batch with missing
    values) and booleans (bool, or object with missing values), except in key
    columns. So does a dtype that pandera cannot read back from YAML.
    """
    if margin is not None and margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    columns: dict[Any, pa.Column] = {}
    for name in frame.columns:
        series = frame[name]
        if isinstance(series, pd.DataFrame):
            raise ValueError(f"duplicate column name {name!r}")
        nested = is_nested(series)
        key = str(name) in keys and not nested
        nullable = not key or bool(series.isna().any())
        dtype, description = _schema_dtype(series, nullable=nullable, nested=nested)
        checks = None if key or nested else _infer_checks(series, margin, max_categories)
        columns[name] = pa.Column(
            dtype,
            checks=checks,
            unique=key,
            nullable=nullable,
            coerce=False,
            required=True,
            description=description,
        )
    return pa.DataFrameSchema(columns, strict=False, coerce=False)


def is_nested(series: pd.Series) -> bool:
    """Whether a column holds nested values: lists, tuples, dicts, sets, arrays or structs.

    Decided without hashing a value: by the dtype for pyarrow-backed columns
    (list, struct, map and union types) and by the first 100 non-missing values
    of an object column. Never raises.

    Parameters
    ----------
    series : pandas.Series
        The column.

    Returns
    -------
    bool
    """
    dtype = series.dtype
    if isinstance(dtype, pd.ArrowDtype):
        import pyarrow as arrow

        return bool(arrow.types.is_nested(dtype.pyarrow_dtype))
    if not pd.api.types.is_object_dtype(dtype):
        return False
    values = series.to_numpy(dtype=object, copy=False)
    seen = 0
    for start in range(0, len(values), _PROBE_CHUNK):
        chunk = values[start : start + _PROBE_CHUNK]
        for value in chunk[pd.notna(chunk)][: _NESTED_PROBE - seen]:
            if pd.api.types.is_list_like(value):
                return True
            seen += 1
        if seen >= _NESTED_PROBE:
            break
    return False


def _schema_dtype(series: pd.Series, *, nullable: bool, nested: bool) -> tuple[Any, str | None]:
    """The dtype to require, or ``None`` with the reason it is not checked.

    ``nullable``: whether the column may hold missing values, which turn numpy
    integers into floats and booleans into objects.
    """
    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        return None, (
            f"date-times with a time zone ({dtype}): their unit and zone depend on the file "
            "format and writer; the dtype is not checked (data::types checks the family)"
        )
    if nullable and not nested:
        if isinstance(dtype, np.dtype) and dtype.kind in "iub":
            what = "booleans" if dtype.kind == "b" else "whole numbers"
            other = "object" if dtype.kind == "b" else "float64"
            return None, (
                f"{what} ({dtype}, or {other} from a batch with missing values); "
                "the dtype is not checked"
            )
        if isinstance(dtype, np.dtype) and dtype.kind == "f":  # numpy floats only
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
            finite = values[np.isfinite(values)]
            if finite.size and bool(np.all(finite == np.floor(finite))):
                return None, (
                    "whole numbers with missing values: read as float64, or as int64 "
                    "from a batch without missing values; the dtype is not checked"
                )
        elif pd.api.types.is_object_dtype(dtype):
            present = series.dropna()
            if len(present) and all(isinstance(v, (bool, np.bool_)) for v in present):
                return None, (
                    "booleans with missing values: read as object, or as bool "
                    "from a batch without missing values; the dtype is not checked"
                )
    if not nested and _holds_text(series):
        return None, (
            f"text ({dtype}): read as object, str or string[pyarrow] depending on the pandas "
            "release and the file's reader; the dtype is not checked (data::types checks "
            "the family)"
        )
    if not _dtype_round_trips(dtype):
        return None, f"dtype {dtype} cannot be stored in a schema file; it is not checked"
    return dtype, None


def _holds_text(series: pd.Series) -> bool:
    """Whether ``series`` is a column of strings, whichever pandas dtype holds them."""
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype):
        return True
    if isinstance(dtype, pd.ArrowDtype):
        import pyarrow

        kind = dtype.pyarrow_dtype
        return bool(pyarrow.types.is_string(kind) or pyarrow.types.is_large_string(kind))
    if pd.api.types.is_object_dtype(dtype):
        present = series.dropna()
        return bool(len(present)) and all(isinstance(value, str) for value in present)
    return False


def _dtype_round_trips(dtype: Any) -> bool:
    """Whether pandera can read back the name it writes for ``dtype``."""
    from pandera.engines import pandas_engine

    try:
        pandas_engine.Engine.dtype(str(pandas_engine.Engine.dtype(dtype)))
    except Exception:  # pandera and pandas raise TypeError, ValueError and others here
        return False
    return True


def _infer_checks(series: pd.Series, margin: float | None, max_categories: int) -> list[pa.Check]:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return _set_check(series, max_categories)
    numeric = pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_float_dtype(dtype)
    if numeric and margin is None:
        return _plausible_range(series)
    if pd.api.types.is_integer_dtype(dtype):
        return _int_range_check(series, margin or 0.0)
    if pd.api.types.is_float_dtype(dtype):
        return _float_range_check(series, margin or 0.0)
    if (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_string_dtype(dtype)
        or pd.api.types.is_object_dtype(dtype)
    ):
        return _set_check(series, max_categories)
    return []


def _set_check(series: pd.Series, max_categories: int) -> list[pa.Check]:
    """An ``isin`` check when the value set looks closed: few values, none seen only once.

    A value seen once says the sample has not met every value yet (Good-Turing:
    the share of values seen once estimates the share of values not seen at
    all), so a new batch may hold one by chance; such open sets get no value
    set, and the data gate's ``out_of_range`` check judges new values against
    chance instead.
    """
    try:
        counts = series.dropna().value_counts(sort=False)
    except TypeError:  # unhashable values such as lists
        return []
    counts = counts[counts > 0]  # a categorical dtype lists unused categories too
    if len(counts) == 0 or len(counts) > max_categories or bool((counts == 1).any()):
        return []
    values = counts.index.tolist()
    if not all(isinstance(value, _YAML_SCALARS) for value in values):
        return []
    try:
        ordered = sorted(values)
    except TypeError:
        ordered = sorted(values, key=lambda value: (type(value).__name__, str(value)))
    return [pa.Check.isin(ordered)]


def _plausible_range(series: pd.Series) -> list[pa.Check]:
    """Bounds for wild values: an order of magnitude beyond the reference's extremes.

    With ``scale`` the larger magnitude of the minimum and the maximum, the
    bounds are ``max + 10 * scale`` and ``min - 10 * scale``, or 0 for a column
    without negative values (counts, amounts and ages are never negative: a
    negative value is a sign error or a sentinel such as -1). A side whose tail is
    longer than the body gets no bound (a new sample of a long-tailed column
    exceeds any observed extreme), and so does a column of fewer than 1,000 values,
    whose extremes say little about the next batch's.
    A value between the reference's extremes and these bounds is the
    ``out_of_range`` check's to judge, against chance.
    """
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    finite = values[np.isfinite(values)]
    if finite.size < _PLAUSIBLE_MIN_VALUES:
        return []
    low, high = float(finite.min()), float(finite.max())
    long_low, long_high = _long_tails(finite)
    pad = _PLAUSIBLE_FACTOR * max(abs(low), abs(high))
    if low >= 0:
        lower = 0.0
    else:
        lower = -math.inf if long_low or pad == 0 else _round_bound(low - pad, down=True)
    upper = math.inf if long_high or pad == 0 else _round_bound(high + pad, down=False)
    if np.isneginf(values).any():
        lower = -math.inf
    if np.isposinf(values).any():
        upper = math.inf
    if math.isinf(lower) and math.isinf(upper):
        return []
    if math.isinf(upper):
        return [pa.Check.greater_than_or_equal_to(_integral(lower))]
    if math.isinf(lower):
        return [pa.Check.less_than_or_equal_to(_integral(upper))]
    return [pa.Check.in_range(_integral(lower), _integral(upper))]


def _round_bound(value: float, *, down: bool) -> float:
    """``value`` rounded outward to three significant digits."""
    if value == 0 or not math.isfinite(value):
        return value
    step = 10.0 ** (math.floor(math.log10(abs(value))) - 2)
    return float((math.floor if down else math.ceil)(value / step) * step)


def _integral(bound: float) -> float | int:
    """A whole-number bound as an int, so that the schema file reads ``0``, not ``0.0``."""
    return int(bound) if bound.is_integer() and abs(bound) < 2**53 else bound


def _pad(low: float, high: float, margin: float) -> float:
    span = high - low
    if span > 0:
        return margin * span
    return margin * abs(low) if low != 0 else margin


def _int_range_check(series: pd.Series, margin: float) -> list[pa.Check]:
    values = series.dropna()
    if values.empty:
        return []
    low, high = int(values.min()), int(values.max())
    long_low, long_high = _long_tails(values.to_numpy(dtype=np.float64))
    pad = math.ceil(_pad(float(low), float(high), margin))
    low, high = (max(low - pad, 0) if low >= 0 else low - pad), high + pad
    try:
        info = np.iinfo(getattr(series.dtype, "numpy_dtype", series.dtype))
    except (TypeError, ValueError):
        pass
    else:
        low, high = max(low, int(info.min)), min(high, int(info.max))
        if long_low and low < 0:
            low = int(info.min)
        if long_high:
            high = int(info.max)
    return [pa.Check.in_range(low, high)]


def _long_tails(finite: np.ndarray) -> tuple[bool, bool]:
    """Whether the lower and the upper tail are longer than the body next to them."""
    if finite.size < 100:
        return False, False
    low, q01, median, q99, high = np.quantile(finite, [0.0, 0.01, 0.5, 0.99, 1.0])
    return bool(q01 - low > median - q01), bool(high - q99 > q99 - median)


def _float_range_check(series: pd.Series, margin: float) -> list[pa.Check]:
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return []
    low, high = float(finite.min()), float(finite.max())
    long_low, long_high = _long_tails(finite)
    pad = _pad(low, high, margin)
    low, high = _round_outward(max(low - pad, 0.0) if low >= 0 else low - pad, high + pad)
    if np.isneginf(values).any() or (long_low and low < 0):
        low = -math.inf
    if np.isposinf(values).any() or long_high:
        high = math.inf
    return [pa.Check.in_range(low, high)]


def _round_outward(low: float, high: float) -> tuple[float, float]:
    """Round bounds outward to four significant digits of their width."""
    width = high - low
    if not (math.isfinite(width) and width > 0):
        return low, high
    digits = 3 - math.floor(math.log10(width))
    step = 10.0**-digits
    rounded_low, rounded_high = round(low, digits), round(high, digits)
    if rounded_low > low:
        rounded_low = round(rounded_low - step, digits)
    if rounded_high < high:
        rounded_high = round(rounded_high + step, digits)
    return float(rounded_low), float(rounded_high)
