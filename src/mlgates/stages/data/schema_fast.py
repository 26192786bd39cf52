"""Vectorised validation of the common pandera column rules.

Pandera validates each column through a chain of objects per rule. For the
rules a schema usually holds (presence, dtype, nullability, uniqueness and the
built-in value checks such as ``in_range`` and ``isin``) this module computes
the same outcome directly on the column's values. A cheap sufficient test comes
first (the minimum and maximum of a numeric column for range checks, the
distinct values of an Arrow string column for set and string checks); only a
column that may fail is checked value by value, with pandera's own check
function, so the failures are pandera's.

Everything else is left to pandera: a column with any other option or check, a
column whose dtype does not match (pandera reports the values it cannot coerce),
and schema-level options (which then run on a sub-schema that keeps them). The
failures come out as pandera records them, so that the caller can merge them
with pandera's own and report both alike.
"""

from __future__ import annotations

import copy
import operator
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
from pandera.api.checks import Check
from pandera.api.function_dispatch import Dispatcher
from pandera.backends.pandas import builtin_checks  # noqa: F401  # registers the check functions
from pandera.backends.pandas.checks import PandasCheckBackend
from pandera.backends.pandas.components import ColumnBackend
from pandera.backends.pandas.container import DataFrameSchemaBackend
from pandera.engines.pandas_engine import Engine

__all__ = ["Failure", "FastValidation", "check_identifier", "validate_fast"]

_VALUE_CHECKS = frozenset(
    {
        "equal_to",
        "greater_than",
        "greater_than_or_equal_to",
        "in_range",
        "isin",
        "less_than",
        "less_than_or_equal_to",
        "not_equal_to",
        "notin",
        "str_contains",
        "str_endswith",
        "str_length",
        "str_matches",
        "str_startswith",
    }
)

# Attributes an object may have, and the values the fast path requires of the rest:
# any other attribute (a newer pandera option) sends the object to pandera.
_COLUMN_KNOWN = frozenset(
    {"_dtype", "checks", "description", "metadata", "name", "nullable", "required", "title"}
    | {"unique", "report_duplicates"}
)
_COLUMN_PLAIN: dict[str, object] = {
    "coerce": False,
    "default": None,
    "drop_invalid_rows": False,
    "on_missing": None,
    "parsers": [],
    "regex": False,
}
_CHECK_KNOWN = frozenset(
    {"_check_fn", "_check_kwargs", "constraint", "description", "determined_by_unique"}
    | {"error", "name", "statistics", "statistics_args", "strategy", "title"}
)
_CHECK_PLAIN: dict[str, object] = {
    "element_wise": False,
    "groupby": None,
    "groups": None,
    "ignore_na": True,
    "n_failure_cases": None,
    "native": False,
    "raise_warning": False,
}
_SCHEMA_KNOWN = frozenset(
    {"columns", "description", "metadata", "name", "report_duplicates", "title"}
)
_SCHEMA_PLAIN: dict[str, object] = {
    "_coerce": False,
    "_dtype": None,
    "add_missing_columns": False,
    "drop_invalid_rows": False,
    "on_missing_columns": None,
    "parsers": [],
}
_SCHEMA_FOR_PANDERA: dict[str, object] = {
    "_unique": None,
    "checks": [],
    "index": None,
    "ordered": False,
    "strict": False,
    "unique_column_names": False,
}
_KEEP: dict[str, Literal["first", "last", False]] = {
    "all": False,
    "exclude_first": "first",
    "exclude_last": "last",
}
_CHUNK = 1 << 14  # values per chunk when scanning a numeric column for its extremes


@dataclass(frozen=True)
class Failure:
    """One failing rule of one column, as pandera records it.

    Attributes
    ----------
    column : Hashable
        Column key in the schema.
    check : str
        Pandera's check identifier, e.g. ``"not_nullable"``, ``"field_uniqueness"``
        or ``"in_range(0, 120)"``.
    cases : pandas.Series
        Failing values with the column's dtype: the first distinct ones in order
        of first occurrence (at most the number asked for), or a single missing
        value for ``not_nullable``.
    count : int
        Number of failing values.
    """

    column: Hashable
    check: str
    cases: pd.Series
    count: int


@dataclass(frozen=True)
class FastValidation:
    """Outcome of :func:`validate_fast`.

    Attributes
    ----------
    failures : tuple of Failure
        Failures of the columns validated here, in pandera's order.
    missing : tuple
        Keys of required columns, validated here, that the frame lacks.
    rest : pandera.pandas.DataFrameSchema or None
        What pandera still has to validate: the whole schema, or a copy with the
        other columns and every schema-level option; ``None`` when nothing is left.
    """

    failures: tuple[Failure, ...]
    missing: tuple[Hashable, ...]
    rest: pa.DataFrameSchema | None


class _Unsupported(Exception):
    """A column turned out to need pandera."""


def validate_fast(
    frame: pd.DataFrame, schema: pa.DataFrameSchema, *, sample: int
) -> FastValidation:
    """Validate the columns whose rules the fast path covers; leave the rest to pandera.

    Parameters
    ----------
    frame : pandas.DataFrame
        Data to validate; not modified.
    schema : pandera.pandas.DataFrameSchema
        Schema to validate against.
    sample : int
        Distinct failing values to keep per failure.

    Returns
    -------
    FastValidation
    """
    if not (_frame_fits(frame) and _schema_fits(schema) and _pandas_backends(frame, schema)):
        return FastValidation((), (), schema)
    failures: list[Failure] = []
    missing: list[Hashable] = []
    slow: set[Hashable] = set()
    for key, column in schema.columns.items():
        if not _column_fits(column):
            slow.add(key)
        elif key not in frame:
            if column.required:
                missing.append(key)
        else:
            found = _validate_column(key, frame[key], column, sample)
            if found is None:
                slow.add(key)
            else:
                failures.extend(found)
    return FastValidation(tuple(failures), tuple(missing), _rest(schema, slow))


def check_identifier(check: object) -> object:
    """The name pandera records for a check: its error text, else its name."""
    if check is None or isinstance(check, str):
        return check
    error = getattr(check, "error", None)
    if error is not None:
        return error
    name = getattr(check, "name", None)
    return name if name is not None else str(check)


# --------------------------------------------------------------------------- what fits


def _frame_fits(frame: object) -> bool:
    """A plain frame: flat, unique column labels and a flat index without missing labels."""
    if not isinstance(frame, pd.DataFrame):
        return False
    columns, index = frame.columns, frame.index
    return (
        not isinstance(columns, pd.MultiIndex)
        and columns.is_unique
        and not isinstance(index, pd.MultiIndex)
        and not index.hasnans
    )


def _schema_fits(schema: object) -> bool:
    """A plain pandera schema: no coercion, parsers, defaults or frame-wide dtype."""
    return type(schema) is pa.DataFrameSchema and _plain(
        schema, _SCHEMA_PLAIN, _SCHEMA_KNOWN | set(_SCHEMA_FOR_PANDERA)
    )


def _pandas_backends(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> bool:
    """Whether pandera would use its pandas backends, whose semantics this module matches."""
    try:
        return (
            type(schema.get_backend(frame)) is DataFrameSchemaBackend
            and type(pa.Column.get_backend(frame)) is ColumnBackend
            and Check.get_backend(pd.Series(dtype=float)) is PandasCheckBackend
        )
    except Exception:  # pandera raises its own error types when no backend is registered
        return False


def _column_fits(column: object) -> bool:
    return (
        type(column) is pa.Column
        and _plain(column, _COLUMN_PLAIN, _COLUMN_KNOWN)
        and getattr(column, "report_duplicates", None) in _KEEP
        and all(_builtin_name(check) is not None for check in column.checks)
    )


def _builtin_name(check: object) -> str | None:
    """The name of the pandera built-in value check ``check`` is, with plain options, or None.

    Like pandera, the check then runs the function registered under that name now
    (checks made before pandera registered its pandas functions hold older ones).
    """
    if type(check) is not Check or not _plain(check, _CHECK_PLAIN, _CHECK_KNOWN):
        return None
    if not isinstance(check_identifier(check), str):
        return None
    function = check._check_fn
    name = getattr(function, "__name__", None)
    if not isinstance(function, Dispatcher) or name not in _VALUE_CHECKS:
        return None
    return str(name) if Check.is_builtin_check(name) else None


def _plain(thing: object, plain: dict[str, object], known: frozenset[str] | set[str]) -> bool:
    """Whether ``thing`` has only known attributes and the plain values of ``plain``."""
    attributes = vars(thing)
    if not set(attributes) <= set(known) | set(plain):
        return False
    return all(_same(attributes.get(name, value), value) for name, value in plain.items())


def _same(actual: object, expected: object) -> bool:
    return type(actual) is type(expected) and bool(actual == expected)


def _rest(schema: pa.DataFrameSchema, slow: set[Hashable]) -> pa.DataFrameSchema | None:
    """The schema pandera still validates: the slow columns and the schema-level options.

    Under ``strict`` or ``ordered`` the other columns stay as placeholders without
    rules, so that pandera still knows them.
    """
    for_pandera = not _plain(schema, _SCHEMA_FOR_PANDERA, _SCHEMA_KNOWN | set(_SCHEMA_PLAIN))
    if not slow and not for_pandera:
        return None
    placeholders = bool(schema.strict or schema.ordered)
    rest = copy.copy(schema)
    rest.columns = {
        key: column if key in slow else pa.Column(None, nullable=True, required=False, name=key)
        for key, column in schema.columns.items()
        if key in slow or placeholders
    }
    return rest


# --------------------------------------------------------------------------- one column


def _validate_column(
    key: Hashable, series: pd.Series, column: pa.Column, sample: int
) -> list[Failure] | None:
    """Failures of one column in pandera's order, or None when pandera must validate it."""
    try:
        if not _dtype_matches(series, column.dtype):
            return None
        values = _Values(series)
        found = [
            _null_failure(key, values, column),
            _duplicate_failure(key, values, column, sample),
            *(_check_failure(key, values, check, sample) for check in column.checks),
        ]
    except Exception:  # anything unexpected: pandera validates the column and reports it
        return None
    return [failure for failure in found if failure is not None]


def _dtype_matches(series: pd.Series, dtype: Any) -> bool:
    """Pandera's dtype test; a mismatch goes to pandera, which reports the failing values."""
    if dtype is None:
        return True
    result = dtype.check(Engine.dtype(series.dtype), series)
    if isinstance(result, (bool, np.bool_)):
        return bool(result)
    return bool(result.all())  # one verdict per value, as for strings


class _Summary(NamedTuple):
    low: Any
    high: Any
    has_nan: bool


class _Values:
    """A column's values and what several rules derive from them, each computed once."""

    def __init__(self, series: pd.Series) -> None:
        self.series = series

    @cached_property
    def summary(self) -> _Summary | None:
        """Minimum and maximum (NaN ignored) of a non-empty numpy integer or float64 column."""
        dtype = self.series.dtype
        if not isinstance(dtype, np.dtype) or not (dtype.kind in "iu" or dtype == np.float64):
            return None
        values = self.series.to_numpy()
        if values.size == 0:
            return None
        low, high = _extremes(values)
        if dtype.kind == "f" and np.isnan(low):  # min and max propagate NaN
            return _Summary(np.fmin.reduce(values), np.fmax.reduce(values), True)
        return _Summary(low, high, False)

    @cached_property
    def has_nulls(self) -> bool:
        summary = self.summary
        return summary.has_nan if summary is not None else bool(self.series.hasnans)

    @cached_property
    def present(self) -> pd.Series:
        """The values a check sees: missing ones dropped, as pandera does for ``ignore_na``."""
        return self.series.dropna() if self.has_nulls else self.series

    @cached_property
    def distinct(self) -> pd.Series | None:
        """Distinct present values of an Arrow string column, with its dtype; else None."""
        if not _is_arrow_string(self.series.dtype):
            return None
        return pd.Series(self.series.unique()).dropna()


def _extremes(values: np.ndarray) -> tuple[Any, Any]:
    """Minimum and maximum, as numpy scalars of the array's dtype, in one pass over memory.

    The array is read in cache-sized chunks, each reduced twice while it is in
    cache: about half the time of two passes over a column larger than the cache.
    """
    lows, highs = [], []
    for start in range(0, values.size, _CHUNK):
        chunk = values[start : start + _CHUNK]
        lows.append(chunk.min())
        highs.append(chunk.max())
    return np.array(lows, dtype=values.dtype).min(), np.array(highs, dtype=values.dtype).max()


def _is_arrow_string(dtype: object) -> bool:
    if isinstance(dtype, pd.StringDtype):
        return dtype.storage == "pyarrow"
    if isinstance(dtype, pd.ArrowDtype):
        kind = dtype.pyarrow_dtype
        return bool(pyarrow.types.is_string(kind) or pyarrow.types.is_large_string(kind))
    return False


def _null_failure(key: Hashable, values: _Values, column: pa.Column) -> Failure | None:
    if column.nullable or not values.has_nulls:
        return None
    series = values.series
    cases = series[series.isna()]
    return Failure(key, "not_nullable", cases.iloc[:1].reset_index(drop=True), len(cases))


def _duplicate_failure(
    key: Hashable, values: _Values, column: pa.Column, sample: int
) -> Failure | None:
    series = values.series
    if not column.unique or series.is_unique:
        return None
    duplicated = series.duplicated(keep=_KEEP[column.report_duplicates])
    if not duplicated.any():
        return None
    return _failure(key, "field_uniqueness", series[duplicated].dropna(), sample)


def _check_failure(key: Hashable, values: _Values, check: Check, sample: int) -> Failure | None:
    """Run one built-in check the way pandera does, after a cheap test that it passes."""
    name = _builtin_name(check)
    if name is None:  # pragma: no cover - the column was screened
        raise _Unsupported(str(check))
    function = Check.get_builtin_check_fn(name)
    arguments = dict(check._check_kwargs)
    if _passes(values, name, arguments, function):
        return None
    data = values.present
    output = function(data, **arguments)
    if not isinstance(output, pd.Series) or not output.index.equals(data.index):
        raise _Unsupported(name)
    if output.empty and output.dtype != bool:
        output = output.astype(bool)
    if output.all():
        return None
    if output.dtype != bool:
        output = output.astype(bool)
    return _failure(key, str(check_identifier(check)), data[~output], sample)


def _failure(key: Hashable, check: str, cases: pd.Series, sample: int) -> Failure:
    distinct = cases.drop_duplicates().iloc[:sample].reset_index(drop=True)
    return Failure(key, check, distinct, len(cases))


# --------------------------------------------------------------------------- quick passes


def _passes(
    values: _Values, name: str, arguments: dict[str, Any], function: Callable[..., Any]
) -> bool:
    """A sufficient test that every present value passes the check (False: not known)."""
    summary = values.summary
    if summary is not None and name in _BOUND_TESTS:
        return _bounds_hold(name, arguments, summary.low, summary.high)
    distinct = values.distinct
    if distinct is not None:  # the checks depend on each value alone
        output = function(distinct, **arguments)
        return isinstance(output, pd.Series) and bool(output.all())
    return False


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _in_range(arguments: dict[str, Any], low: Any, high: Any) -> bool:
    lower: Any = arguments.get("min_value")
    upper: Any = arguments.get("max_value")
    if not (_is_number(lower) and _is_number(upper)):
        return False
    left = operator.le if arguments.get("include_min", True) else operator.lt
    right = operator.ge if arguments.get("include_max", True) else operator.gt
    return bool(left(lower, low)) and bool(right(upper, high))


def _one_bound(
    argument: str, holds: Callable[[Any, Any, Any], Any]
) -> Callable[[dict[str, Any], Any, Any], bool]:
    def test(arguments: dict[str, Any], low: Any, high: Any) -> bool:
        bound = arguments.get(argument)
        return _is_number(bound) and bool(holds(bound, low, high))

    return test


# Comparisons are monotone, so a bound holds for every value when it holds for the
# extremes. The extremes are numpy scalars of the column's dtype, compared with the
# bound under the same promotion rules as the column itself.
_BOUND_TESTS: dict[str, Callable[[dict[str, Any], Any, Any], bool]] = {
    "in_range": _in_range,
    "greater_than": _one_bound("min_value", lambda bound, low, high: low > bound),
    "greater_than_or_equal_to": _one_bound("min_value", lambda bound, low, high: low >= bound),
    "less_than": _one_bound("max_value", lambda bound, low, high: high < bound),
    "less_than_or_equal_to": _one_bound("max_value", lambda bound, low, high: high <= bound),
    "equal_to": _one_bound("value", lambda bound, low, high: low == bound and high == bound),
    "not_equal_to": _one_bound("value", lambda bound, low, high: bound < low or bound > high),
}


def _bounds_hold(name: str, arguments: dict[str, Any], low: Any, high: Any) -> bool:
    return _BOUND_TESTS[name](arguments, low, high)
