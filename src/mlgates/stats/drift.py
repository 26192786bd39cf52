"""Drift between a reference and a current column summary.

A column drifted only when its distance is beyond the threshold (a change that
matters) *and* beyond the sampling noise at the two sample sizes (the
``1 - alpha`` quantile of the distance between two samples of one
distribution). The first condition keeps large samples from flagging trivial
differences; the second keeps small samples from flagging noise. ``alpha`` is
per column: callers split a family-wise level over the columns they check
(e.g. ``0.01 / number_of_columns``).

Shares are counts over the non-null count. A categorical column is compared
on what two samples can share: one bin per *frequent* reference category (one
expected at least :data:`MIN_EXPECTED` times in both samples) and one bin for
everything else, rare or never seen. The reference's share of that last bin is
its Good-Turing estimate (the mass of labels seen ``s`` times is about
``(s + 1) N_{s+1} / n``), which counts the labels the reference has not seen: a
sample of names or codes meets new ones all the time, and that is not drift.
New labels with a real share are :mod:`mlgates.stats.novelty`'s job.

A distance over many categories dilutes a large change in one of them (a 5%
category doubling to 10% is a Jensen-Shannon distance of about 0.08), so a
categorical column is also drifted when one frequent category's share changed
beyond chance and materially (:func:`mlgates.stats.shares.share_changes`). The
column's ``alpha`` is split between the two decisions
(:data:`SHARE_ALPHA_FRACTION`), so it still bounds the column's false alarms.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, TypeAlias

import numpy as np
import numpy.typing as npt
from scipy import special, stats

from mlgates.stats.noise import TAIL_LEVEL, outer_knots, wasserstein_null_table
from mlgates.stats.shares import SHARE_CHANGE, SHARE_RATIO, ShareChange, share_changes
from mlgates.stats.summaries import CategoricalProfile, ColumnProfile, NumericProfile

__all__ = [
    "DEFAULT_THRESHOLDS",
    "SHARE_ALPHA_FRACTION",
    "DriftAssessment",
    "DriftMethod",
    "ShareChange",
    "assess_drift",
    "default_method",
    "frequent_bins",
    "jensenshannon_distance",
    "ks_statistic",
    "methods_for",
    "population_stability_index",
    "rare_mass",
    "wasserstein_distance",
    "wasserstein_null_quantile",
]

DriftMethod: TypeAlias = Literal["wasserstein", "jensenshannon", "psi", "ks"]
DEFAULT_THRESHOLDS: Mapping[str, float] = MappingProxyType(
    {"wasserstein": 0.1, "jensenshannon": 0.1, "psi": 0.2, "ks": 0.1}
)
"""Default threshold per method (read-only)."""
PSI_GROUPS = 10
"""Numeric PSI merges the reference bins into this many equal-mass groups."""
PSI_EPSILON = 1e-4
"""Share given to empty bins in the PSI, before renormalising."""
OTHER_LABEL = "<rare or new>"
"""Label of the bin of categories that are not frequent in the reference."""
MIN_EXPECTED = 5
"""A category gets its own bin when expected this many times in both samples."""
SHARE_ALPHA_FRACTION = 0.5
"""Part of a categorical column's ``alpha`` spent on the per-category share tests.

The rest goes to the distance's noise floor. A column is drifted when either
decision says so, so by Bonferroni the two together keep the column's false
alarms at most ``alpha``. Half each: neither test is more credible than the
other, and the distance loses little (its noise floor at ``alpha / 2`` is 2-4%
above that at ``alpha`` for 5 to 40 bins at ``alpha = 0.0005``)."""

FloatArray: TypeAlias = npt.NDArray[np.float64]
_TOP_CHANGES = 3


@dataclass(frozen=True)
class DriftAssessment:
    """Distance, the bounds it was held to, and the decision for one column.

    ``drifted`` is ``distance > threshold and distance > noise_floor``, or, for
    a categorical column, a non-empty ``share_changes``: the frequent categories
    whose share changed beyond chance and materially, the most significant
    first (:func:`mlgates.stats.shares.share_changes`).
    ``top_changes`` holds up to three ``(label, reference_share, current_share)``
    for the bins or categories whose share changed most.
    """

    method: DriftMethod
    distance: float
    threshold: float
    noise_floor: float
    n_reference: int
    n_current: int
    drifted: bool
    top_changes: tuple[tuple[str, float, float], ...] = ()
    share_changes: tuple[ShareChange, ...] = ()

    @property
    def distance_drifted(self) -> bool:
        """Whether the distance alone is beyond both its threshold and the noise floor."""
        return self.distance > self.threshold and self.distance > self.noise_floor


def default_method(profile: ColumnProfile) -> DriftMethod:
    """``wasserstein`` for numeric columns, ``jensenshannon`` for categorical ones."""
    return "wasserstein" if isinstance(profile, NumericProfile) else "jensenshannon"


def methods_for(profile: ColumnProfile) -> tuple[DriftMethod, ...]:
    """The methods that apply to a column of this kind, the default first."""
    if isinstance(profile, NumericProfile):
        return ("wasserstein", "ks", "psi")
    return ("jensenshannon", "psi")


# -- bins, shares and labels ----------------------------------------------------------


def _counts(profile: NumericProfile) -> FloatArray:
    return np.asarray(profile.counts, dtype=np.float64)


def rare_mass(reference: CategoricalProfile, below: int) -> tuple[float, float]:
    """Good-Turing estimate of the mass of labels seen fewer than ``below`` times.

    Labels seen ``r`` times hold about ``(r + 1) N_{r+1} / n`` of the mass
    (``N_s``: labels seen ``s`` times), so those seen ``0 .. below - 1`` times,
    the unseen included, hold about ``sum(s N_s for s in 1 .. below) / n``.

    Returns the estimate and how many times its variance exceeds that of a
    share counted directly (``sum(s^2 N_s) / sum(s N_s)``, at least 1): the
    estimate rests on a few labels' counts, not on the whole sample.
    """
    if reference.count == 0 or below < 1:
        return 0.0, 1.0
    rare = np.asarray(reference.rare_frequencies[:below], dtype=np.float64)
    times = np.arange(1, rare.size + 1, dtype=np.float64)
    counts = np.asarray(reference.counts, dtype=np.float64)
    kept = counts[counts <= below]
    mass = float(times @ rare + kept.sum())
    square = float((times**2) @ rare + (kept**2).sum())
    inflation = max(1.0, square / mass) if mass else 1.0
    return min(1.0, mass / reference.count), inflation


def _frequent_from(n_r: int, n_c: int) -> int:
    """Reference count from which a category is expected :data:`MIN_EXPECTED` times in both."""
    return max(MIN_EXPECTED, math.ceil(MIN_EXPECTED * n_r / max(n_c, 1)))


def frequent_bins(
    reference: CategoricalProfile, current: CategoricalProfile
) -> tuple[list[str], FloatArray, FloatArray, float]:
    """Labels, reference counts and current counts on the bins two samples can share.

    One bin per category expected at least :data:`MIN_EXPECTED` times in both
    samples, then one for the rest, rare or new. The reference's rest holds its
    Good-Turing share (:func:`rare_mass`) and its frequent bins shrink in
    proportion; the reference counts are those shares times its count. The
    last item is the variance inflation of the reference's rest share.
    """
    n_r, n_c = reference.count, current.count
    cut = _frequent_from(n_r, n_c)
    counts_r = np.asarray(reference.counts, dtype=np.float64)
    counts_c = np.asarray(current.counts, dtype=np.float64)
    frequent = counts_r >= cut
    observed_rest = 1.0 - float(counts_r[frequent].sum()) / n_r
    estimate, inflation = rare_mass(reference, max(cut, reference.kept_from))
    rest = max(estimate, observed_rest)
    shares_r = counts_r[frequent] / n_r
    if observed_rest < 1.0:
        shares_r = shares_r * (1.0 - rest) / (1.0 - observed_rest)
    labels = [label for label, keep in zip(reference.categories, frequent, strict=True) if keep]
    return (
        [*labels, OTHER_LABEL],
        np.append(shares_r, rest) * n_r,
        np.append(counts_c[frequent], n_c - counts_c[frequent].sum()),
        inflation,
    )


def _interval(low: float, high: float) -> str:
    right = "]" if math.isfinite(high) else ")"
    return f"({low:.4g}, {high:.4g}{right}"


def _labels(profile: NumericProfile) -> list[str]:
    bounds = [-math.inf, *profile.edges, math.inf]
    return [_interval(low, high) for low, high in itertools.pairwise(bounds)]


def _check_compatible(reference: ColumnProfile, current: ColumnProfile) -> None:
    if type(reference) is not type(current):
        raise ValueError(
            f"the reference profile is {reference.kind} but the current one is {current.kind}"
        )
    if isinstance(reference, NumericProfile):
        assert isinstance(current, NumericProfile)
        if reference.edges != current.edges:
            raise ValueError(
                "the profiles have different bin edges; summarise the current data with "
                "profile_against(reference, values)"
            )
    else:
        assert isinstance(current, CategoricalProfile)
        if reference.categories != current.categories:
            raise ValueError(
                "the profiles have different categories; summarise the current data with "
                "profile_against(reference, values)"
            )


def _decile_starts(reference_counts: FloatArray) -> npt.NDArray[np.intp]:
    """First bin of each group when consecutive bins are merged into reference deciles.

    Each decile boundary is the edge whose reference CDF is closest to ``k / 10``;
    boundaries that coincide (point masses) merge their groups.
    """
    cdf = np.cumsum(reference_counts)[:-1] / reference_counts.sum()
    if cdf.size == 0:
        return np.zeros(1, dtype=np.intp)
    targets = np.arange(1, PSI_GROUPS) / PSI_GROUPS
    nearest = np.abs(cdf[None, :] - targets[:, None]).argmin(axis=1)
    return np.concatenate(([0], np.unique(nearest) + 1)).astype(np.intp)


# -- distances ------------------------------------------------------------------------


def jensenshannon_distance(p: npt.ArrayLike, q: npt.ArrayLike) -> float:
    """Jensen-Shannon distance in bits (0 to 1) between two count or share vectors.

    Equal to ``scipy.spatial.distance.jensenshannon(p, q, base=2)``.
    """
    left = np.asarray(p, dtype=np.float64)
    right = np.asarray(q, dtype=np.float64)
    left = left / left.sum()
    right = right / right.sum()
    middle = (left + right) / 2
    divergence = float(
        np.sum(special.rel_entr(left, middle)) + np.sum(special.rel_entr(right, middle))
    )
    return math.sqrt(max(divergence / (2 * math.log(2)), 0.0))


def population_stability_index(p: npt.ArrayLike, q: npt.ArrayLike) -> float:
    """PSI ``sum((q - p) * ln(q / p))`` of shares ``q`` against reference shares ``p``.

    Both vectors are normalised; empty bins get a share of :data:`PSI_EPSILON`
    before renormalising.
    """
    ref = np.asarray(p, dtype=np.float64)
    cur = np.asarray(q, dtype=np.float64)
    ref = np.where(ref > 0, ref / ref.sum(), PSI_EPSILON)
    cur = np.where(cur > 0, cur / cur.sum(), PSI_EPSILON)
    ref, cur = ref / ref.sum(), cur / cur.sum()
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def ks_statistic(reference: NumericProfile, current: NumericProfile) -> float:
    """Largest gap between the two CDFs at the bin edges.

    A lower bound of the exact two-sample statistic, short of it by at most the
    mass of one bin.
    """
    _check_compatible(reference, current)
    if not reference.edges or reference.count == 0 or current.count == 0:
        return 0.0
    cdf_r = np.cumsum(reference.counts)[:-1] / reference.count
    cdf_c = np.cumsum(current.counts)[:-1] / current.count
    return float(np.max(np.abs(cdf_r - cdf_c)))


def _cdf_knots(profile: NumericProfile, edges: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Knots of a binned CDF that is linear inside each bin (see :func:`wasserstein_distance`)."""
    low, high = outer_knots(profile)
    inner = np.cumsum(profile.counts)[:-1] / profile.count
    return (
        np.concatenate(([low], edges, [high])),
        np.concatenate(([0.0], inner, [1.0])),
    )


def _abs_linear_integral(left: FloatArray, right: FloatArray) -> FloatArray:
    """Integral over [0, 1] of ``|left + (right - left) t|``, elementwise."""
    a, b = np.abs(left), np.abs(right)
    total = a + b
    product = left * right
    correction = np.divide(-product, total, out=np.zeros_like(total), where=product < 0)
    return np.asarray(total / 2 - correction, dtype=np.float64)


def wasserstein_distance(reference: NumericProfile, current: NumericProfile) -> float:
    """W1 distance between the binned distributions, over the reference std.

    Each CDF is linear inside each bin. The two open-ended bins of each profile
    are uniform with the mean of their values (``tail_means``), so mass beyond
    the reference range counts at its actual distance; profiles without tail
    means reach to their own minimum and maximum. ``|F_r - F_c|`` is integrated
    exactly on every segment between the knots of both CDFs (sign changes
    included). The std is replaced by 1 when it is 0 or nan; infinite values
    count as mass at the outermost edge.
    """
    _check_compatible(reference, current)
    if reference.count == 0 or current.count == 0:
        return math.nan
    edges = np.asarray(reference.edges, dtype=np.float64)
    x_r, f_r = _cdf_knots(reference, edges)
    x_c, f_c = _cdf_knots(current, edges)
    grid = np.unique(np.concatenate((x_r, x_c)))
    if grid.size < 2:
        return 0.0
    start, width = grid[:-1], np.diff(grid)
    # Both CDFs are linear inside every segment; sampling them strictly inside avoids
    # the ambiguity of a jump at a knot, and the one-sided limits follow by linearity.
    quarter, middle, three_quarters = (start + width * f for f in (0.25, 0.5, 0.75))

    def gap(points: FloatArray) -> FloatArray:
        return np.interp(points, x_r, f_r) - np.interp(points, x_c, f_c)

    at_middle = gap(middle)
    left = 2 * gap(quarter) - at_middle
    right = 2 * gap(three_quarters) - at_middle
    area = float(np.sum(width * _abs_linear_integral(left, right)))
    return area / reference.scale


def wasserstein_null_quantile(table: tuple[tuple[float, float], ...], level: float) -> float:
    """The standardised no-drift quantile at ``level`` from a ``null_quantiles`` table.

    Interpolates linearly in ``log(1 - level)`` between the stored levels; beyond
    the last stored level ``q0`` it extends the tail exponentially,
    ``L_q0 + s * ln((1 - q0) / (1 - level))`` with ``s`` from the ``(1.0, s)``
    pair; below the first stored level it returns the first quantile.
    """
    pairs = [(lv, value) for lv, value in table if lv < TAIL_LEVEL]
    slopes = [value for lv, value in table if lv >= TAIL_LEVEL]
    if not pairs:
        raise ValueError("a null_quantiles table needs at least one (level, value) pair")
    levels = np.array([lv for lv, _ in pairs])
    values = np.array([value for _, value in pairs])
    if level <= levels[0]:
        return float(values[0])
    if level > levels[-1]:
        slope = slopes[0] if slopes else 0.0
        return float(values[-1] + slope * math.log((1 - levels[-1]) / (1 - level)))
    return float(np.interp(-math.log1p(-level), -np.log1p(-levels), values))


# -- the decision ---------------------------------------------------------------------


def _chi2_floor(pooled_bins: int, alpha: float) -> float:
    return float(stats.chi2.ppf(1 - alpha, pooled_bins - 1)) if pooled_bins >= 2 else 0.0


def assess_drift(
    reference: ColumnProfile,
    current: ColumnProfile,
    *,
    method: DriftMethod | None = None,
    threshold: float | None = None,
    alpha: float = 0.01,
    share_ratio: float = SHARE_RATIO,
    share_change: float = SHARE_CHANGE,
) -> DriftAssessment:
    """Distance, noise floor, share tests and drift decision for one column.

    Parameters
    ----------
    reference
        The reference profile (:func:`~mlgates.stats.profile.profile_reference`).
    current
        The current data summarised on the reference's bins
        (:func:`~mlgates.stats.profile.profile_against`).
    method
        One of :func:`methods_for`; default :func:`default_method`.
    threshold
        The smallest distance that matters; default :data:`DEFAULT_THRESHOLDS`.
    alpha
        Per-column false-alarm level: of the noise floor for a numeric column;
        split between the noise floor and the share tests of the frequent
        categories (:data:`SHARE_ALPHA_FRACTION`) for a categorical one.
    share_ratio, share_change
        Material change of one category's share, relative and absolute
        (:data:`~mlgates.stats.shares.SHARE_RATIO`,
        :data:`~mlgates.stats.shares.SHARE_CHANGE`).

    Returns
    -------
    DriftAssessment

    Raises
    ------
    ValueError
        For a method that does not fit the column kind, profiles on different
        bins or categories, a side without non-null values, or a bad ``alpha``.
    """
    _check_compatible(reference, current)
    chosen: DriftMethod = method or default_method(reference)
    if chosen not in methods_for(reference):
        valid = ", ".join(methods_for(reference))
        raise ValueError(
            f"method {chosen!r} does not apply to a {reference.kind} column; use one of {valid}"
        )
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    limit = DEFAULT_THRESHOLDS[chosen] if threshold is None else float(threshold)
    if math.isnan(limit) or limit < 0:
        raise ValueError(f"threshold must be a non-negative number, got {threshold}")
    n_r, n_c = reference.count, current.count
    if n_r == 0 or n_c == 0:
        side = "reference" if n_r == 0 else "current data"
        raise ValueError(f"the {side} has no non-null values to compare")

    factor = 1 / n_r + 1 / n_c
    shares: tuple[ShareChange, ...] = ()
    if isinstance(reference, CategoricalProfile):
        assert isinstance(current, CategoricalProfile)
        labels, counts_r, counts_c, inflation = frequent_bins(reference, current)
        factor = inflation / n_r + 1 / n_c
        shares = _frequent_share_changes(
            reference, current, alpha * SHARE_ALPHA_FRACTION, share_ratio, share_change
        )
        alpha *= 1 - SHARE_ALPHA_FRACTION
    else:
        assert isinstance(current, NumericProfile)
        counts_r, counts_c = _counts(reference), _counts(current)
        labels = _labels(reference)
    if chosen == "psi" and isinstance(reference, NumericProfile):
        starts = _decile_starts(counts_r)
        counts_r = np.add.reduceat(counts_r, starts)
        counts_c = np.add.reduceat(counts_c, starts)
        bounds = [-math.inf, *reference.edges, math.inf]
        ends = [*(starts[1:].tolist()), len(bounds) - 1]
        labels = [
            _interval(bounds[a], bounds[b]) for a, b in zip(starts.tolist(), ends, strict=True)
        ]
    pooled_bins = int(np.count_nonzero(counts_r + counts_c))

    if chosen == "jensenshannon":
        distance = jensenshannon_distance(counts_r, counts_c)
        floor = math.sqrt(factor * _chi2_floor(pooled_bins, alpha) / (8 * math.log(2)))
    elif chosen == "psi":
        occupied = (counts_r + counts_c) > 0
        distance = population_stability_index(counts_r[occupied], counts_c[occupied])
        floor = factor * _chi2_floor(pooled_bins, alpha)
    elif chosen == "ks":
        assert isinstance(reference, NumericProfile) and isinstance(current, NumericProfile)
        distance = ks_statistic(reference, current)
        floor = float(stats.kstwobign.ppf(1 - alpha)) * math.sqrt(factor)
    else:
        assert isinstance(reference, NumericProfile) and isinstance(current, NumericProfile)
        distance = wasserstein_distance(reference, current)
        table = reference.null_quantiles or wasserstein_null_table(reference)
        floor = math.sqrt(factor) * wasserstein_null_quantile(table, 1 - alpha)

    return DriftAssessment(
        method=chosen,
        distance=distance,
        threshold=limit,
        noise_floor=floor,
        n_reference=n_r,
        n_current=n_c,
        drifted=bool(distance > limit and distance > floor) or bool(shares),
        top_changes=_top_changes(labels, counts_r / n_r, counts_c / n_c),
        share_changes=shares,
    )


def _frequent_share_changes(
    reference: CategoricalProfile,
    current: CategoricalProfile,
    alpha: float,
    ratio: float,
    change: float,
) -> tuple[ShareChange, ...]:
    """Share tests of the categories that get their own bin (:func:`frequent_bins`).

    On the raw counts: a category's reference share is its count over the
    non-null count (the Good-Turing shrinking only makes room in the distance
    for labels the reference has not met). The rest bin is left to
    :mod:`mlgates.stats.novelty`, which judges new labels against chance.
    """
    n_r, n_c = reference.count, current.count
    cut = _frequent_from(n_r, n_c)
    frequent = [i for i, count in enumerate(reference.counts) if count >= cut]
    return share_changes(
        [reference.categories[i] for i in frequent],
        [reference.counts[i] for i in frequent],
        n_r,
        [current.counts[i] for i in frequent],
        n_c,
        alpha=alpha,
        ratio=ratio,
        change=change,
    )


def _top_changes(
    labels: list[str], shares_r: FloatArray, shares_c: FloatArray
) -> tuple[tuple[str, float, float], ...]:
    change = np.abs(shares_c - shares_r)
    order = np.argsort(-change, kind="stable")[:_TOP_CHANGES]
    return tuple(
        (labels[i], float(shares_r[i]), float(shares_c[i])) for i in order.tolist() if change[i] > 0
    )
