"""Proxy features: model inputs that give away a sensitive group.

For every feature of the candidate (but the sensitive columns themselves)
and every group of every sensitive column, a one-feature model predicts
"is in the group" and its ROC AUC is measured out of fold:

* the feature's values are categories (a number with more than 20 distinct
  values is cut into 20 quantile bins first; missing values are a category);
* the rows are split in two halves; each category's share of the group in
  one half, shrunk towards the half's overall share, scores the rows of the
  other half (target encoding, cross-fitted);
* the AUC of those scores against membership says how well the feature alone
  separates the group: 0.5 is not at all, 1.0 perfectly.

Cross-fitting keeps identifiers and other high-cardinality columns honest: a
value seen in only one half carries no information to the other, so such a
column scores about 0.5 however unique its values. A feature's result is its
highest AUC over the groups; groups with fewer than :data:`PROXY_MIN_GROUP` (or
``min_group_size``) rows in the sample, or outside the group, are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from mlgates.stats.groups import Grouping

if TYPE_CHECKING:
    import pandas as pd

BINS = 20
"""Numbers with more distinct values than this are cut into this many quantile bins."""
PROXY_MIN_GROUP = 100
"""A group is tested for proxies only with this many rows in it and out of it (or
``min_group_size``, if larger): an AUC on fewer members is noise, and the largest of many
noisy AUCs would look like a proxy."""
SHRINK = 20.0
"""A category's share is shrunk towards the overall share as if it had this many more rows."""


@dataclass(frozen=True)
class Proxy:
    """How well one feature predicts its best-predicted group (``auc`` NaN and ``group``
    None when no group was large enough to test)."""

    feature: str
    auc: float
    group: str | None
    rows: int


def categories(values: pd.Series) -> NDArray[np.intp]:
    """The feature as category codes ``0 .. n-1`` (binned numbers, missing as its own code)."""
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(values):
        values = pd.Series(values.to_numpy().astype("datetime64[ns]").astype(np.int64)).where(
            values.notna().to_numpy()
        )
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric and values.nunique(dropna=True) > BINS:
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(np.float64, na_value=np.nan)
        finite = numbers[np.isfinite(numbers)]
        edges = np.unique(np.quantile(finite, np.linspace(0, 1, BINS + 1)[1:-1]))
        binned: NDArray[np.intp] = np.digitize(numbers, edges).astype(np.intp)
        binned[~np.isfinite(numbers)] = len(edges) + 1
        return binned
    codes, _ = pd.factorize(values, use_na_sentinel=True)
    codes = np.asarray(codes, dtype=np.intp)
    return np.asarray(np.where(codes < 0, codes.max(initial=-1) + 1, codes), dtype=np.intp)


def _auc(scores: NDArray[np.float64], member: NDArray[np.bool_]) -> float:
    """ROC AUC of ``scores`` for ``member``, ties counted half, from counts per score."""
    levels, inverse = np.unique(scores, return_inverse=True)
    positives = np.bincount(inverse, weights=member, minlength=len(levels))
    negatives = np.bincount(inverse, weights=~member, minlength=len(levels))
    below = np.cumsum(negatives) - negatives
    pairs = positives.sum() * negatives.sum()
    if not pairs:
        return float("nan")
    return float((positives * (below + negatives / 2)).sum() / pairs)


def _out_of_fold(
    codes: NDArray[np.intp], member: NDArray[np.bool_], fold: NDArray[np.bool_]
) -> NDArray[np.float64]:
    """Each row's category share of the group, learned on the other half."""
    size = int(codes.max(initial=0)) + 1
    scores = np.empty(len(codes))
    for half in (fold, ~fold):
        learn = ~half
        rows = np.bincount(codes[learn], minlength=size)
        hits = np.bincount(codes[learn], weights=member[learn], minlength=size)
        prior = hits.sum() / max(rows.sum(), 1)
        share = (hits + SHRINK * prior) / (rows + SHRINK)
        scores[half] = share[codes[half]]
    return scores


def proxy_strength(
    values: pd.Series,
    groupings: list[Grouping],
    sample: NDArray[np.intp],
    fold: NDArray[np.bool_],
    min_group_size: int,
    feature: str,
) -> Proxy:
    """The highest out-of-fold AUC of ``values`` (on ``sample`` rows) over the groups."""
    codes = categories(values.iloc[sample].reset_index(drop=True))
    best = Proxy(feature, float("nan"), None, len(sample))
    for grouping in groupings:
        groups = grouping.codes[sample]
        sizes = np.bincount(groups, minlength=len(grouping.labels))
        for code, label in enumerate(grouping.labels):
            if min(sizes[code], len(sample) - sizes[code]) < min_group_size:
                continue
            member = groups == code
            auc = _auc(_out_of_fold(codes, member, fold), member)
            if auc == auc and not best.auc >= auc:  # NaN best: the first group tested
                best = Proxy(feature, auc, label, len(sample))
            if len(grouping.labels) == 2:
                break  # the other group's AUC is the same
    return best


def sample_rows(rows: int, limit: int, seed: int) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
    """At most ``limit`` rows, and a random half of them (the folds)."""
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(rows, size=min(rows, limit), replace=False))
    fold = rng.random(len(chosen)) < 0.5
    return chosen, fold


__all__ = ["BINS", "PROXY_MIN_GROUP", "Proxy", "categories", "proxy_strength", "sample_rows"]
