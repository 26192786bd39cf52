"""Confidence bounds for shares (missing values, selection rates): Wilson and Newcombe.

Standard library only. ``level`` is one-sided: the lower bound at 95% is the
value the share exceeds with 95% confidence, and likewise the upper bound.
"""

from __future__ import annotations

import math
from statistics import NormalDist


def _z(level: float) -> float:
    if not 0.5 <= level < 1:
        raise ValueError(f"level must be in [0.5, 1), got {level}")
    return NormalDist().inv_cdf(level)


def wilson_bounds(successes: int, trials: int, level: float) -> tuple[float, float]:
    """One-sided Wilson score bounds at ``level`` of a share ``successes / trials``."""
    if trials <= 0:
        return math.nan, math.nan
    z = _z(level)
    share = successes / trials
    denominator = 1 + z * z / trials
    centre = (share + z * z / (2 * trials)) / denominator
    spread = z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials))
    spread /= denominator
    return max(0.0, centre - spread), min(1.0, centre + spread)


def newcombe_bounds(
    successes: int, trials: int, other_successes: int, other_trials: int, level: float
) -> tuple[float, float]:
    """One-sided bounds at ``level`` of the difference of two independent shares.

    Newcombe's hybrid score interval for ``p1 - p2`` from the Wilson bounds of
    each share; good coverage near 0 and 1 where the Wald interval fails.
    """
    if trials <= 0 or other_trials <= 0:
        return math.nan, math.nan
    p1, p2 = successes / trials, other_successes / other_trials
    low1, high1 = wilson_bounds(successes, trials, level)
    low2, high2 = wilson_bounds(other_successes, other_trials, level)
    difference = p1 - p2
    lower = difference - math.sqrt((p1 - low1) ** 2 + (high2 - p2) ** 2)
    upper = difference + math.sqrt((high1 - p1) ** 2 + (p2 - low2) ** 2)
    return lower, upper
