"""Drift between a reference and a current column summary.

A column drifted only when its distance is beyond the threshold (an effect that
matters) *and* beyond the sampling noise at the two sample sizes (the ``1 -
alpha`` quantile of the distance between two samples of one distribution). The
first condition stops large samples from flagging trivial differences; the second
stops small samples from flagging noise. ``alpha`` is per column: callers split a
family-wise level over the columns they check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

from mlgates.stats.profile import (
    NULL_DRAWS,
    NULL_LEVELS,
    CategoricalProfile,
    ColumnProfile,
    NumericProfile,
)

DriftMethod = Literal["wasserstein", "jensenshannon", "psi", "ks"]
DEFAULT_THRESHOLDS: dict[str, float] = {
    "wasserstein": 0.1,
    "jensenshannon": 0.1,
    "psi": 0.2,
    "ks": 0.1,
}
PSI_GROUPS = 10
PSI_EPSILON = 1e-4


@dataclass(frozen=True)
class DriftAssessment:
    """The distance, the bounds it was held to and the decision for one column."""

    method: DriftMethod
    distance: float
    threshold: float
    noise_floor: float
    n_reference: int
    n_current: int
    drifted: bool
    top_changes: tuple[tuple[str, float, float], ...] = ()


def default_method(profile: ColumnProfile) -> DriftMethod:
    """Wasserstein for numeric columns, Jensen–Shannon for categorical ones."""
    return "wasserstein" if isinstance(profile, NumericProfile) else "jensenshannon"


def methods_for(profile: ColumnProfile) -> tuple[DriftMethod, ...]:
    """The methods that apply to a column of this kind."""
    if isinstance(profile, NumericProfile):
        return ("wasserstein", "ks", "psi")
    return ("jensenshannon", "psi")


# -- shares and labels ---------------------------------------------------------------


def _counts(profile: ColumnProfile) -> np.ndarray:
    if isinstance(profile, CategoricalProfile):
        return np.array([*profile.counts, profile.other_count], dtype=np.float64)
    return np.asarray(profile.counts, dtype=np.float64)


def _labels(profile: ColumnProfile) -> list[str]:
    if isinstance(profile, CategoricalProfile):
        return [*profile.categories, "(unseen categories)"]
    edges = [f"{e:.4g}" for e in profile.edges]
    if not edges:
        return ["all values"]
    return [f"<= {edges[0]}"] + [f"({a}, {b}]" for a, b in zip(edges, edges[1:])] + [
        f"> {edges[-1]}"
    ]


def _check_compatible(reference: ColumnProfile, current: ColumnProfile) -> None:
    if type(reference) is not type(current):
        raise ValueError(
            f"reference is {reference.kind} but current data is {current.kind}"
        )
    if isinstance(reference, NumericProfile) and isinstance(current, NumericProfile):
        if reference.edges != current.edges:
            raise ValueError("profiles use different bins; summarise the current data "
                             "with profile_against(reference, values)")
    elif isinstance(reference, CategoricalProfile) and isinstance(current, CategoricalProfile):
        if reference.categories != current.categories:
            raise ValueError("profiles use different categories; summarise the current data "
                             "with profile_against(reference, values)")


# -- distances -----------------------------------------------------------------------


def jensenshannon_distance(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen–Shannon distance in bits (0 to 1) between two share vectors."""
    p = p / p.sum()
    q = q / q.sum()
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.where(p > 0, p * np.log2(p / m), 0.0)
        right = np.where(q > 0, q * np.log2(q / m), 0.0)
    divergence = max(float(left.sum() + right.sum()) / 2, 0.0)
    return math.sqrt(divergence)


def psi(p: np.ndarray, q: np.ndarray) -> float:
    """Population stability index of shares ``q`` against ``p``, zeros smoothed."""
    p = np.maximum(p / p.sum(), PSI_EPSILON)
    q = np.maximum(q / q.sum(), PSI_EPSILON)
    p, q = p / p.sum(), q / q.sum()
    return float(np.sum((q - p) * np.log(q / p)))


def _decile_groups(reference_counts: np.ndarray) -> np.ndarray:
    """Group index (0..9) of each numeric bin: consecutive bins merged into reference deciles."""
    total = reference_counts.sum()
    if total == 0:
        return np.zeros(reference_counts.size, dtype=np.int64)
    ends = np.cumsum(reference_counts) / total
    starts = ends - reference_counts / total
    return np.minimum((starts * PSI_GROUPS + 1e-9).astype(np.int64), PSI_GROUPS - 1)


def _cdf_at_edges(counts: np.ndarray) -> np.ndarray:
    """CDF at the bin edges: the cumulative share through each bin but the last."""
    return np.cumsum(counts)[:-1] / counts.sum()


def ks_statistic(reference: NumericProfile, current: NumericProfile) -> float:
    """Largest CDF gap at the bin edges (exact statistic within one bin's mass)."""
    if not reference.edges:
        return 0.0
    gap = _cdf_at_edges(_counts(reference)) - _cdf_at_edges(_counts(current))
    return float(np.max(np.abs(gap)))


def _scale(profile: NumericProfile) -> float:
    return profile.std if math.isfinite(profile.std) and profile.std > 0 else 1.0


def wasserstein_distance(reference: NumericProfile, current: NumericProfile) -> float:
    """W1 distance between the binned distributions over the reference's std.

    Both CDFs are linear inside each bin; the outer bins reach to the smallest and
    largest value seen in either sample, so mass beyond the reference range counts.
    """
    low = min(reference.min, current.min)
    high = max(reference.max, current.max)
    grid = np.array([low, *reference.edges, high], dtype=np.float64)
    widths = np.maximum(np.diff(grid), 0.0)
    inner_r = _cdf_at_edges(_counts(reference))
    inner_c = _cdf_at_edges(_counts(current))
    gaps = np.concatenate(([0.0], inner_r - inner_c, [0.0]))
    a, b = gaps[:-1], gaps[1:]
    same_sign = a * b >= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing = (a * a + b * b) / (2 * (np.abs(a) + np.abs(b)))
    area = np.where(same_sign, (np.abs(a) + np.abs(b)) / 2, np.nan_to_num(crossing))
    return float(np.sum(area * widths)) / _scale(reference)


def simulate_wasserstein_null(
    reference: NumericProfile, *, draws: int = NULL_DRAWS, seed: int = 0
) -> tuple[tuple[float, float], ...]:
    """Quantiles of the no-drift Wasserstein distance, standardised to ``1/n + 1/m = 1``.

    Between two samples of one distribution, ``F_r - F_c`` is close to
    ``sqrt(1/n + 1/m)`` times a Brownian bridge over the reference CDF, so the
    distance is that factor times ``L = integral |B(F(x))| dx / std``. ``L`` is
    simulated once per reference over its bins. Returns ``(level, quantile)``
    pairs at :data:`NULL_LEVELS` and a final ``(1.0, mean excess)`` pair that
    extends the tail exponentially.
    """
    counts = _counts(reference)
    if reference.count == 0 or not reference.edges:
        return tuple((level, 0.0) for level in NULL_LEVELS) + ((1.0, 0.0),)
    masses = counts / counts.sum()
    grid = np.array([reference.min, *reference.edges, reference.max], dtype=np.float64)
    widths = np.maximum(np.diff(grid), 0.0) / _scale(reference)
    rng = np.random.default_rng(seed)
    steps = rng.standard_normal((draws, masses.size), dtype=np.float32)
    steps *= np.sqrt(masses, dtype=np.float32)
    walk = np.cumsum(steps, axis=1)
    times = np.cumsum(masses).astype(np.float32)
    bridge = walk - walk[:, -1:] * times
    bridge = np.abs(bridge[:, :-1])  # the bridge at the inner edges; 0 at both ends
    padded = np.zeros((draws, bridge.shape[1] + 2), dtype=np.float32)
    padded[:, 1:-1] = bridge
    functional = ((padded[:, :-1] + padded[:, 1:]) / 2) @ widths.astype(np.float32)
    quantiles = np.quantile(functional, NULL_LEVELS)
    top = quantiles[-1]
    excess = functional[functional > top] - top
    mean_excess = float(excess.mean()) if excess.size else 0.0
    return tuple((level, float(q)) for level, q in zip(NULL_LEVELS, quantiles)) + (
        (1.0, mean_excess),
    )


def wasserstein_null_quantile(table: tuple[tuple[float, float], ...], level: float) -> float:
    """The standardised no-drift quantile at ``level`` from a simulated table."""
    levels = [pair[0] for pair in table[:-1]]
    values = [pair[1] for pair in table[:-1]]
    if level <= levels[0]:
        return values[0]
    if level > levels[-1]:
        return values[-1] + table[-1][1] * math.log((1 - levels[-1]) / (1 - level))
    x = [-math.log(1 - lv) for lv in levels]
    return float(np.interp(-math.log(1 - level), x, values))


# -- the decision --------------------------------------------------------------------


def _noise_floor(
    method: DriftMethod,
    reference: ColumnProfile,
    pooled_bins: int,
    factor: float,
    alpha: float,
) -> float:
    if method == "ks":
        return float(stats.kstwobign.ppf(1 - alpha)) * math.sqrt(factor)
    if method == "wasserstein":
        assert isinstance(reference, NumericProfile)
        table = reference.null_quantiles or simulate_wasserstein_null(reference)
        return math.sqrt(factor) * wasserstein_null_quantile(table, 1 - alpha)
    if pooled_bins < 2:
        return 0.0
    chi2 = float(stats.chi2.ppf(1 - alpha, pooled_bins - 1))
    if method == "psi":
        return factor * chi2
    return math.sqrt(factor * chi2 / (8 * math.log(2)))


def assess_drift(
    reference: ColumnProfile,
    current: ColumnProfile,
    *,
    method: DriftMethod | None = None,
    threshold: float | None = None,
    alpha: float = 0.01,
) -> DriftAssessment:
    """Distance, noise floor and decision for one column.

    ``current`` must be summarised on ``reference``'s bins
    (:func:`mlgates.stats.profile.profile_against`). Raises ``ValueError`` for a
    method that does not fit the column kind or incompatible profiles.
    """
    _check_compatible(reference, current)
    method = method or default_method(reference)
    if method not in methods_for(reference):
        valid = ", ".join(methods_for(reference))
        raise ValueError(f"{method!r} does not apply to a {reference.kind} column; use {valid}")
    if reference.count == 0 or current.count == 0:
        raise ValueError("no non-missing values to compare")
    if threshold is None:
        threshold = DEFAULT_THRESHOLDS[method]
    p, q = _counts(reference), _counts(current)
    if method == "psi" and isinstance(reference, NumericProfile):
        groups = _decile_groups(p)
        p = np.bincount(groups, weights=p, minlength=PSI_GROUPS)
        q = np.bincount(groups, weights=q, minlength=PSI_GROUPS)
    if method == "jensenshannon":
        distance = jensenshannon_distance(p, q)
    elif method == "psi":
        distance = psi(p, q)
    elif method == "ks":
        assert isinstance(reference, NumericProfile) and isinstance(current, NumericProfile)
        distance = ks_statistic(reference, current)
    else:
        assert isinstance(reference, NumericProfile) and isinstance(current, NumericProfile)
        distance = wasserstein_distance(reference, current)
    factor = 1 / reference.count + 1 / current.count
    pooled_bins = int(np.count_nonzero(p + q))
    floor = _noise_floor(method, reference, pooled_bins, factor, alpha)
    share_r = _counts(reference) / reference.count
    share_c = _counts(current) / current.count
    labels = _labels(reference)
    order = np.argsort(-np.abs(share_c - share_r), kind="stable")[:3]
    changes = tuple(
        (labels[i], float(share_r[i]), float(share_c[i]))
        for i in order
        if share_r[i] != share_c[i]
    )
    return DriftAssessment(
        method=method,
        distance=distance,
        threshold=threshold,
        noise_floor=floor,
        n_reference=reference.count,
        n_current=current.count,
        drifted=distance > threshold and distance > floor,
        top_changes=changes,
    )
