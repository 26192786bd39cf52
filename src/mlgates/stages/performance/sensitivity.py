"""Prediction stability under small perturbations of the inputs.

Each numeric feature gets Gaussian noise with a standard deviation of
``noise`` times the column's own (integers are rounded back); in each
categorical feature (text, categories, booleans) a share ``swap`` of the rows
moves to a neighbouring category: the next or previous value in the column's
sorted distinct values (grades A/B/C, codes 1/2/3). Missing values stay
missing. Both models score the same perturbed rows, so ``flip_rate`` (share of
predicted labels that change) and ``metric_drop`` (how much the metric loses)
compare candidate and baseline on equal terms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class SensitivitySettings:
    """``[performance.sensitivity]``: how strongly inputs are perturbed, and the metric watched."""

    noise: float = 0.05
    swap: float = 0.05
    metric: str | None = None
    columns: tuple[str, ...] = ()


def perturb(
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    noise: float,
    swap: float,
    seed: int,
) -> pd.DataFrame:
    """A copy of ``frame`` with ``columns`` perturbed (see the module docstring)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    out = frame.copy()
    for column in columns:
        values = out[column]
        present = values.notna().to_numpy()
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if numeric:
            numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
            spread = float(np.nanstd(numbers)) if present.any() else 0.0
            if not np.isfinite(spread) or spread == 0:
                continue
            moved = numbers + rng.normal(0.0, noise * spread, len(numbers))
            if pd.api.types.is_integer_dtype(values):
                moved = np.round(moved)
            moved[~present] = np.nan
            out[column] = pd.Series(moved, index=values.index).astype(values.dtype)
            continue
        distinct = sorted(values.dropna().unique(), key=str)
        if len(distinct) < 2:
            continue
        chosen = (rng.random(len(values)) < swap) & present
        if not chosen.any():
            continue
        position = {value: index for index, value in enumerate(distinct)}
        where = np.array([position[v] for v in values[chosen]])
        step = np.where(rng.random(len(where)) < 0.5, -1, 1)
        step = np.where(where == 0, 1, np.where(where == len(distinct) - 1, -1, step))
        replacement = np.asarray(distinct, dtype=object)[where + step]
        updated = values.astype(object).to_numpy(copy=True)
        updated[chosen] = replacement
        out[column] = pd.Series(updated, index=values.index).astype(values.dtype)
    return out


__all__ = ["SensitivitySettings", "perturb"]
