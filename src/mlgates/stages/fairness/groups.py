"""The groups of the evaluation rows: one grouping per sensitive column and per intersection.

A column's groups are its values (missing values are a group of their own,
``(missing)``), or for a column with ``bins`` the ranges between the edges. An
intersection's groups are the combinations of its columns' groups that occur.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from mlgates.core import InputError
from mlgates.stages.fairness.settings import FairnessConfig, group_selector
from mlgates.stats.groups import Grouping
from mlgates.text import format_number

if TYPE_CHECKING:
    import pandas as pd

MISSING_GROUP = "(missing)"
MAX_GROUPS = 100
"""A sensitive column with more values than this needs ``bins``: its values are not groups."""


def _binned(values: pd.Series, edges: tuple[float, ...]) -> tuple[NDArray[np.intp], list[str]]:
    import pandas as pd

    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    shown = [format_number(e) for e in edges]
    labels = [f"below {shown[0]}"]
    labels += [f"{a} to {b}" for a, b in itertools.pairwise(shown)]
    labels.append(f"{shown[-1]} or more")
    codes = np.digitize(numbers, edges).astype(np.intp)
    missing = np.isnan(numbers)
    if missing.any():
        codes[missing] = len(labels)
        labels.append(MISSING_GROUP)
    return codes, labels


def column_groups(
    frame: pd.DataFrame, column: str, edges: tuple[float, ...] | None, display: str
) -> tuple[NDArray[np.intp], list[str]]:
    """Each row's group code in one sensitive column, and the groups' values as text."""
    import pandas as pd

    values = frame[column]
    if edges is not None:
        if not (pd.api.types.is_numeric_dtype(values) or values.isna().all()):
            raise InputError(
                f"{display}: fairness.bins.{column} needs numbers, but {column!r} holds "
                f"{values.dtype} values such as {values.dropna().iloc[0]!r}"
            )
        return _binned(values, edges)
    try:
        codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
    except TypeError:  # values of mixed types (numbers and text) do not sort
        codes, uniques = pd.factorize(
            values.astype(object)
            .where(values.notna(), None)
            .map(lambda v: v if v is None else str(v)),
            sort=True,
            use_na_sentinel=True,
        )
    if len(uniques) > MAX_GROUPS:
        hint = (
            f"set fairness.bins.{column}, e.g. [25, 45, 65]"
            if pd.api.types.is_numeric_dtype(values)
            else "group its values into a column of their own"
        )
        raise InputError(
            f"{display}: the sensitive column {column!r} has {len(uniques):,} distinct values, "
            f"more than {MAX_GROUPS} groups; {hint}"
        )
    labels = [str(value) for value in uniques]
    codes = np.asarray(codes, dtype=np.intp)
    if (codes < 0).any():
        codes = np.where(codes < 0, len(labels), codes)
        labels.append(MISSING_GROUP)
    return codes, labels


def build_groupings(frame: pd.DataFrame, config: FairnessConfig, display: str) -> list[Grouping]:
    """Every grouping of ``config`` on ``frame``: the sensitive columns, then the
    intersections."""
    missing = [name for name in config.sensitive if name not in frame.columns]
    if missing:
        raise InputError(
            f"{display} has no column {', '.join(map(repr, missing))} (fairness.sensitive)"
        )
    single: Mapping[str, tuple[NDArray[np.intp], list[str]]] = {
        name: column_groups(frame, name, config.bins.get(name), display)
        for name in config.sensitive
    }
    found = []
    for columns in config.groupings:
        if len(columns) == 1:
            codes, labels = single[columns[0]]
            found.append(
                Grouping(
                    columns[0],
                    codes,
                    tuple(group_selector(((columns[0], label),)) for label in labels),
                )
            )
            continue
        combined = np.zeros(len(frame), dtype=np.int64)
        for name in columns:
            combined = combined * len(single[name][1]) + single[name][0]
        present, codes = np.unique(combined, return_inverse=True)
        labels = []
        for value in present:
            parts = []
            for name in reversed(columns):
                size = len(single[name][1])
                parts.append((name, single[name][1][int(value % size)]))
                value //= size
            labels.append(group_selector(tuple(reversed(parts))))
        found.append(Grouping(" x ".join(columns), codes.astype(np.intp), tuple(labels)))
    return found


__all__ = ["MAX_GROUPS", "MISSING_GROUP", "build_groupings", "column_groups"]
