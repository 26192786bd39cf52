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

from mlgates.core import ConfigError, InputError
from mlgates.stages.fairness.settings import FairnessConfig, group_selector
from mlgates.stats.groups import Grouping
from mlgates.text import format_number

if TYPE_CHECKING:
    import pandas as pd

MISSING_GROUP = "(missing)"
MAX_GROUPS = 100
"""A sensitive column with more values than this needs ``bins``: its values are not groups."""
MAX_INTERSECTION_GROUPS = 1000
"""An intersection with more groups than this is refused: it would judge noise."""


def _binned(values: pd.Series, edges: tuple[float, ...]) -> tuple[NDArray[np.intp], list[str]]:
    import pandas as pd

    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    shown = [format_number(e, 15) for e in edges]
    labels = [f"below {shown[0]}"]
    labels += [f"{a} to {b}" for a, b in itertools.pairwise(shown)]
    labels.append(f"{shown[-1]} or more")
    codes = np.digitize(numbers, edges).astype(np.intp)
    missing = np.isnan(numbers)
    if missing.any():
        codes[missing] = len(labels)
        labels.append(MISSING_GROUP)
    return codes, labels


def _grouping_hint(values: pd.Series, column: str) -> str:
    """How to turn a column with too many values into groups."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        quartiles = values.dropna().quantile([0.25, 0.5, 0.75]).to_numpy(dtype=np.float64)
        edges = ", ".join(format_number(float(q), 3) for q in np.unique(quartiles))
        return f"cut it into ranges with fairness.bins, e.g. {column} = [{edges}] (its quartiles)"
    return "map its values to a few groups in a column of their own and name that column"


def _present(
    codes: NDArray[np.intp], labels: list[str], column: str
) -> tuple[NDArray[np.intp], list[str]]:
    """Only the groups with rows (a range of ``bins`` may hold none), each label once."""
    counts = np.bincount(codes, minlength=len(labels))
    kept = np.flatnonzero(counts)
    renumber = np.full(len(labels), -1, dtype=np.intp)
    renumber[kept] = np.arange(len(kept))
    shown = [labels[code] for code in kept]
    twice = sorted({label for label in shown if shown.count(label) > 1})
    if twice:
        raise InputError(
            f"the sensitive column {column!r} holds two groups shown as {twice[0]!r} (a value "
            f"written {MISSING_GROUP!r} next to missing values?); rename one of them"
        )
    return renumber[codes], shown


def column_groups(
    frame: pd.DataFrame, column: str, edges: tuple[float, ...] | None, display: str
) -> tuple[NDArray[np.intp], list[str]]:
    """Each row's group code in one sensitive column, and the groups' values as text."""
    import pandas as pd

    values = frame[column]
    if edges is not None:
        if not (pd.api.types.is_numeric_dtype(values) or values.isna().all()):
            raise ConfigError(
                f"needs numbers, but {column!r} in {display} holds {values.dtype} values "
                f"such as {values.dropna().iloc[0]!r}; remove the bins of {column!r}",
                key=f"fairness.bins.{column}",
            )
        return _present(*_binned(values, edges), column)
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
        raise ConfigError(
            f"{column!r} in {display} has {len(uniques):,} distinct values, more than "
            f"{MAX_GROUPS} groups; {_grouping_hint(values, column)}",
            key="fairness.sensitive",
        )
    labels = [str(value) for value in uniques]
    codes = np.asarray(codes, dtype=np.intp)
    if (codes < 0).any():
        codes = np.where(codes < 0, len(labels), codes)
        labels.append(MISSING_GROUP)
    return _present(codes, labels, column)


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
        for name in columns:  # at most 101 groups per column: 9 columns fit in int64
            combined = combined * len(single[name][1]) + single[name][0]
        present, codes = np.unique(combined, return_inverse=True)
        if len(present) > MAX_INTERSECTION_GROUPS:
            raise ConfigError(
                f"{' x '.join(columns)} makes {len(present):,} groups in {display}, more than "
                f"{MAX_INTERSECTION_GROUPS}; intersect fewer columns, or bin them",
                key="fairness.intersections",
            )
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


__all__ = [
    "MAX_GROUPS",
    "MAX_INTERSECTION_GROUPS",
    "MISSING_GROUP",
    "build_groupings",
    "column_groups",
]
