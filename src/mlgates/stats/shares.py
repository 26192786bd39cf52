"""Per-category share tests: which single category's share changed, beyond chance and materially.

A distance over all categories dilutes a large change in one category of a
many-category column: one share doubling from 5% to 10%, the rest shrinking in
proportion, is a Jensen-Shannon distance of about 0.08, below the usual 0.1 at
any sample size. :func:`share_changes` tests each category on its own.

The test is Fisher's exact test of two independent shares, conditional on the
category's count in both samples together: under no change the current
sample's count is hypergeometric (exactly so for two random samples of one
table). Its two-sided p-value is twice the smaller tail, at most 1. The tests
of a column's categories are held together by Holm's step-down procedure at
the ``alpha`` the caller gives, so the chance that a column without any change
shows a significant category is at most ``alpha``, whatever the dependence
between the categories' shares.

Significance alone flags trivial changes in large samples, so a category is
flagged only when its change is also material: the current share is at least
:data:`SHARE_RATIO` times the reference share or at most its inverse, *and*
the shares differ by at least :data:`SHARE_CHANGE` (absolute).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
from scipy import stats

__all__ = [
    "SHARE_CHANGE",
    "SHARE_RATIO",
    "ShareChange",
    "holm_rejections",
    "share_changes",
    "share_p_values",
]

SHARE_RATIO = 1.5
"""A category's share must grow to at least this many times its reference share,
or shrink to at most its inverse (two thirds), to count as changed materially.

A doubling or a halving is the change to catch; the observed ratio of a real
doubling scatters around 2 with the sampling noise of both shares, so the bar
sits halfway between no change and a doubling, where a real doubling that is
significant almost always clears it. Shrinking, the bar is the inverse, two
thirds of the reference share, which a halving clears by the same factor (4/3)
as a doubling clears 1.5."""
SHARE_CHANGE = 0.03
"""... and the shares must differ by at least this much (3 percentage points).

Ratios of small shares are noisy and rarely matter: 0.5% to 1.5% of rows is a
tripling but a change a model hardly notices. Three points still catch the
doubling of any category holding 3% or more of the rows (5% to 10% is 5 points)
and the halving of any holding 6% or more."""

FloatArray: TypeAlias = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ShareChange:
    """A category whose share changed significantly and materially.

    ``p_value`` is the two-sided exact p-value of the category on its own;
    ``level`` the Holm level it was held to (``alpha`` over the number of
    categories not yet rejected when it was reached).
    """

    label: str
    reference_share: float
    current_share: float
    p_value: float
    level: float

    def describe(self) -> str:
        """``'FR' 8.1% -> 16.3% (p 2.1e-09 < 1.7e-05)``: the shares, the p-value and its level."""
        p_value = f"p {self.p_value:.2g}" if self.p_value > 0 else "p < 1e-300"
        return (
            f"{self.label!r} {self.reference_share:.1%} -> {self.current_share:.1%} "
            f"({p_value} < {self.level:.2g})"
        )

    @property
    def ratio(self) -> float:
        """Current share over reference share (``inf`` for a share that was 0)."""
        if self.reference_share == 0:
            return math.inf
        return self.current_share / self.reference_share


def share_p_values(
    counts_r: npt.ArrayLike, n_r: int, counts_c: npt.ArrayLike, n_c: int
) -> FloatArray:
    """Two-sided exact p-values of no change in each category's share.

    ``counts_r[i]`` of ``n_r`` reference values and ``counts_c[i]`` of ``n_c``
    current values hold category ``i``. Conditional on ``counts_r[i] +
    counts_c[i]``, the current count is hypergeometric under no change;
    the p-value is twice the smaller tail probability of the observed count,
    at most 1 (Fisher's exact test, doubling the one-sided p-value).
    """
    x_r = np.asarray(counts_r, dtype=np.int64)
    x_c = np.asarray(counts_c, dtype=np.int64)
    if n_r <= 0 or n_c <= 0:
        raise ValueError(f"both samples need values, got n {n_r} and {n_c}")
    if np.any(x_r < 0) or np.any(x_c < 0) or np.any(x_r > n_r) or np.any(x_c > n_c):
        raise ValueError("category counts must lie between 0 and their sample's size")
    total = x_r + x_c
    upper = stats.hypergeom.sf(x_c - 1, n_r + n_c, total, n_c)
    lower = stats.hypergeom.cdf(x_c, n_r + n_c, total, n_c)
    return np.asarray(np.minimum(1.0, 2 * np.minimum(upper, lower)), dtype=np.float64)


def holm_rejections(
    p_values: npt.ArrayLike, alpha: float
) -> tuple[npt.NDArray[np.bool_], FloatArray]:
    """Which hypotheses Holm's step-down procedure rejects at family-wise ``alpha``.

    Returns the rejections and, for every hypothesis, the level it was held to
    (``alpha / (m - rank)`` for its 0-based rank by p-value; ``nan`` for those
    the procedure never reached).
    """
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    rejected = np.zeros(m, dtype=bool)
    levels = np.full(m, math.nan)
    for rank, index in enumerate(np.argsort(p, kind="stable").tolist()):
        levels[index] = alpha / (m - rank)
        if not p[index] <= levels[index]:
            break
        rejected[index] = True
    return rejected, levels


def share_changes(
    labels: Sequence[str],
    counts_r: npt.ArrayLike,
    n_r: int,
    counts_c: npt.ArrayLike,
    n_c: int,
    *,
    alpha: float,
    ratio: float = SHARE_RATIO,
    change: float = SHARE_CHANGE,
) -> tuple[ShareChange, ...]:
    """The categories whose share changed beyond chance (Holm at ``alpha``) and materially.

    Parameters
    ----------
    labels, counts_r, counts_c
        The categories tested and their counts in the reference and the
        current sample (all of them; the family Holm controls).
    n_r, n_c
        Non-null values in each sample (shares are counts over these).
    alpha
        Family-wise false-alarm level over ``labels``.
    ratio
        Material relative change: the current share is at least ``ratio``
        times the reference share or at most ``1 / ratio`` of it (``ratio >= 1``).
    change
        Material absolute change of the share.

    Returns
    -------
    tuple of ShareChange
        The flagged categories, the most significant first (ties: the larger
        absolute change first).
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    if not ratio >= 1 or not change >= 0:
        raise ValueError(f"ratio must be at least 1 and change at least 0, got {ratio}, {change}")
    x_r = np.asarray(counts_r, dtype=np.float64)
    x_c = np.asarray(counts_c, dtype=np.float64)
    if x_r.size == 0:
        return ()
    p = share_p_values(x_r, n_r, x_c, n_c)
    rejected, levels = holm_rejections(p, alpha)
    share_r, share_c = x_r / n_r, x_c / n_c
    material = (np.abs(share_c - share_r) >= change) & (
        (share_c >= ratio * share_r) | (ratio * share_c <= share_r)
    )
    flagged = np.flatnonzero(rejected & material)
    order = sorted(flagged.tolist(), key=lambda i: (p[i], -abs(share_c[i] - share_r[i])))
    return tuple(
        ShareChange(
            label=labels[i],
            reference_share=float(share_r[i]),
            current_share=float(share_c[i]),
            p_value=float(p[i]),
            level=float(levels[i]),
        )
        for i in order
    )
