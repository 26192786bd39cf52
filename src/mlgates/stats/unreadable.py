"""Why a column cannot be summarised: the error and its one-line reasons.

The diagnosis runs only after a vectorised conversion or count has failed (or,
for nested values, over the distinct values a count already produced), so
columns that profile normally pay nothing for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["UnprofiledColumn", "count_error", "nested_error", "numbers_error"]

_EXAMPLES = 3
_EXAMPLE_WIDTH = 40


class UnprofiledColumn(ValueError):
    """A column that cannot be summarised as ``kind``.

    ``reason`` is one line without the column's name, as stored in
    :attr:`~mlgates.stats.summaries.DatasetProfile.unprofiled`.
    """

    def __init__(self, column: object, kind: str, reason: str) -> None:
        super().__init__(f"column {column!r} cannot be profiled as {kind}: {reason}")
        self.column = column
        self.kind = kind
        self.reason = reason


def _nested_types(values: Iterable[object]) -> list[str]:
    """Names of the unhashable types (lists, dicts, sets, arrays) among ``values``."""
    found = dict.fromkeys(map(type, values))
    return [kind.__name__ for kind in found if kind.__hash__ is None]


def _column_nested_types(values: pd.Series) -> list[str]:
    if values.dtype != object:
        return []
    return _nested_types(values.to_numpy(dtype=object))


def _one_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _example(value: object) -> str:
    """A short one-line repr: long strings are cut inside their quotes."""
    if isinstance(value, str) and len(value) > _EXAMPLE_WIDTH:
        value = f"{value[:_EXAMPLE_WIDTH]}..."
    text = " ".join(repr(value).split())
    return text if len(text) <= 2 * _EXAMPLE_WIDTH else f"{text[: 2 * _EXAMPLE_WIDTH]}..."


def _nested_reason(names: list[str]) -> str:
    return f"holds nested values ({', '.join(names)}); drift is not measured for nested values"


def nested_error(values: pd.Series, distinct: Iterable[object]) -> UnprofiledColumn | None:
    """The error for a categorical column whose ``distinct`` values include nested ones."""
    names = _nested_types(distinct)
    return UnprofiledColumn(values.name, "categorical", _nested_reason(names)) if names else None


def count_error(values: pd.Series, error: Exception) -> UnprofiledColumn:
    """The error for a column whose values could not be counted (``error``)."""
    names = _column_nested_types(values)
    reason = _nested_reason(names) if names else f"cannot be counted: {_one_line(error)}"
    return UnprofiledColumn(values.name, "categorical", reason)


def numbers_error(values: pd.Series, expected: str, error: Exception) -> UnprofiledColumn:
    """The error for a column whose conversion to float failed with ``error``.

    ``expected`` says why numbers were wanted, e.g. ``"where the reference has
    numbers"``. The reason names what the column holds instead and shows up to
    three offending values with their count, found in one vectorised pass.
    """
    import pandas as pd

    names = _column_nested_types(values)
    if names:
        return UnprofiledColumn(values.name, "numeric", _nested_reason(names))
    fallback = f"cannot be read as numbers {expected}: {_one_line(error)}"
    try:
        numbers = pd.to_numeric(values, errors="coerce")
    except (TypeError, ValueError):
        return UnprofiledColumn(values.name, "numeric", fallback)
    present = values.notna().to_numpy(dtype=bool)
    offending = present & numbers.isna().to_numpy(dtype=bool)
    bad = int(np.count_nonzero(offending))
    if bad == 0:
        return UnprofiledColumn(values.name, "numeric", fallback)
    found = values[offending].to_numpy(dtype=object)
    kinds = [kind.__name__ for kind in dict.fromkeys(map(type, found))]
    holds = "text" if kinds == ["str"] else f"{', '.join(kinds)} values"
    examples = ", ".join(_example(value) for value in pd.unique(found)[:_EXAMPLES])
    total = int(np.count_nonzero(present))
    reason = f"holds {holds} {expected}: {bad} of {total} values are not numbers, e.g. {examples}"
    return UnprofiledColumn(values.name, "numeric", reason)
