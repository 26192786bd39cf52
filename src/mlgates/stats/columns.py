"""What a column holds: its type family, and the role ``mlgates init`` gives it.

A *type family* (number, flag, date-time, duration, text, mixed) is what a
column's values are, whatever the file format made of them: an int64 and a
float64 column are both numbers, an object column of strings is text. A change
of family between the reference and the current data (numbers arriving as
text) is one failure, and the checks that compare values are skipped.

A *role* says which checks fit a column (see :func:`classify_column`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeAlias

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ColumnRole",
    "Role",
    "classify_column",
    "compatible_families",
    "looks_like_dates",
    "type_family",
]

Role: TypeAlias = Literal[
    "identifier", "code", "text", "datetime", "category", "number", "flag", "nested"
]

_SAMPLE = 1000
_FLAG_WORDS = frozenset({"0", "1", "true", "false", "t", "f", "yes", "no", "y", "n", "on", "off"})
_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}"
    r"(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
_DATE_SHARE = 0.95
_CATEGORY_LIMIT = 20
_IDENTIFIER_MIN_ROWS = 100
_TEXT_WORDS = 4.0
_TEXT_LENGTH = 40.0
_CODE_DISTINCT = 0.5
_FAMILY_BY_INFERRED = {
    "string": "text",
    "bytes": "text",
    "integer": "number",
    "floating": "number",
    "mixed-integer-float": "number",
    "decimal": "number",
    "boolean": "flag",
    "datetime64": "date-time",
    "datetime": "date-time",
    "date": "date-time",
    "timedelta64": "duration",
    "timedelta": "duration",
    "time": "text",
    "empty": "",
}


def type_family(values: pd.Series) -> str:
    """``number``, ``flag``, ``date-time``, ``duration``, ``text``, ``mixed`` or ``""`` (no values).

    Decided by the dtype, and for object columns by the first non-missing values.
    """
    from pandas.api import types

    dtype = values.dtype
    if types.is_bool_dtype(dtype):
        return "flag"
    if types.is_datetime64_any_dtype(dtype):
        return "date-time"
    if types.is_timedelta64_dtype(dtype):
        return "duration"
    if types.is_numeric_dtype(dtype) and not types.is_complex_dtype(dtype):
        return "number"
    if isinstance(dtype, types.CategoricalDtype):
        return type_family(values.cat.categories.to_series())
    if types.is_string_dtype(dtype) and not types.is_object_dtype(dtype):
        return "text"
    sample = _present(values, _SAMPLE)
    if sample.empty:
        return ""
    try:
        inferred = types.infer_dtype(sample, skipna=True)
    except (TypeError, ValueError):
        return "mixed"
    return _FAMILY_BY_INFERRED.get(inferred, "mixed")


def compatible_families(reference: str, current: str, current_values: pd.Series) -> bool:
    """Whether a column that was ``reference`` and is now ``current`` kept its type.

    Unknown families (``""``) are compatible with anything; ISO date strings
    are compatible with date-times (CSV and Parquet read them differently).
    """
    if not reference or not current or reference == current:
        return True
    pair = {reference, current}
    if pair == {"date-time", "text"}:
        return current != "text" or looks_like_dates(current_values)
    return False


def looks_like_dates(values: pd.Series) -> bool:
    """Whether at least 95% of the first non-missing text values are ISO dates or date-times."""
    sample = _present(values, _SAMPLE)
    if sample.empty:
        return False
    texts = sample.astype(str)
    return bool(texts.str.match(_ISO_DATE).mean() >= _DATE_SHARE)


@dataclass(frozen=True)
class ColumnRole:
    """A column's role and the one-line reason ``init`` writes beside it."""

    role: Role
    reason: str


def classify_column(values: pd.Series, *, nested: bool = False) -> ColumnRole:
    """The role of a reference column, from its type and values.

    * ``nested``: lists, dicts or arrays (no value checks);
    * ``flag``: booleans, or two values such as 0/1 or yes/no;
    * ``datetime``: date-times, or text of ISO dates (``2024-03-01``);
    * ``identifier``: integers or short text, every value distinct;
    * ``text``: free text, on average at least four words or 40 characters;
    * ``code``: short text without spaces, mostly distinct (case numbers, zip codes);
    * ``category``: few distinct values, or text that is none of the above (names);
    * ``number``: other numbers.
    """
    if nested:
        return ColumnRole("nested", "holds nested values (lists, dicts, arrays)")
    family = type_family(values)
    present = values.dropna()
    if present.empty:
        return ColumnRole("category", "no values to classify")
    distinct = _distinct(present)
    if family == "flag" or (distinct <= 2 and _flag_words(present)):
        return ColumnRole("flag", "two values")
    if family == "date-time":
        return ColumnRole("datetime", "date-times")
    if family == "duration":
        return ColumnRole("number", "durations")
    if family == "text" and looks_like_dates(present):
        return ColumnRole("datetime", "dates stored as text (ISO 8601)")
    unique = distinct == len(present) and len(present) > _IDENTIFIER_MIN_ROWS
    if family == "number":
        if unique and _integral(present):
            return ColumnRole("identifier", "whole numbers, every value distinct")
        if distinct <= _CATEGORY_LIMIT:
            return ColumnRole("category", f"{distinct} distinct numbers: codes or levels")
        return ColumnRole("number", "numbers")
    if family != "text":
        return ColumnRole("category", f"{family or 'untyped'} values")
    texts = present.astype(str)
    lengths = texts.str.len()
    words = texts.str.count(r"\s+") + 1
    if float(words.mean()) >= _TEXT_WORDS or float(lengths.mean()) >= _TEXT_LENGTH:
        return ColumnRole("text", f"free text, {float(words.mean()):.1f} words on average")
    spaced = bool(texts.str.contains(" ", regex=False).mean() > 0.5)
    if unique and not spaced:
        return ColumnRole("identifier", "short text, every value distinct")
    if distinct > _CODE_DISTINCT * len(present) and not spaced:
        return ColumnRole("code", f"{distinct} distinct short values: identifier-like codes")
    if distinct <= _CATEGORY_LIMIT:
        return ColumnRole("category", f"{distinct} distinct values")
    return ColumnRole("category", f"{distinct} distinct values: new ones are expected")


def _present(values: pd.Series, limit: int) -> pd.Series:
    head = values.iloc[: limit * 4].dropna()
    if len(head) >= limit or len(head) == len(values.dropna()):
        return head.iloc[:limit]
    return values.dropna().iloc[:limit]


def _distinct(values: pd.Series) -> int:
    try:
        return int(values.nunique(dropna=True))
    except TypeError:  # unhashable values
        return len(values)


def _flag_words(values: pd.Series) -> bool:
    labels = {str(value).strip().lower() for value in values.unique()[:3]}
    return bool(labels) and labels <= _FLAG_WORDS


def _integral(values: pd.Series) -> bool:
    from pandas.api import types

    if types.is_integer_dtype(values.dtype):
        return True
    numbers = values.to_numpy(dtype=float)
    return bool((numbers == numbers.round()).all())
