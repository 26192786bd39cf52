"""The no-drift Wasserstein functional, simulated once per numeric reference column.

Its quantiles, stored in :attr:`NumericProfile.null_quantiles`, are the noise
floor that :mod:`mlgates.stats.drift` compares a Wasserstein distance with.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from mlgates.stats.summaries import NumericProfile

__all__ = ["NULL_DRAWS", "NULL_LEVELS", "TAIL_LEVEL", "outer_knots", "wasserstein_null_table"]

NULL_LEVELS = (0.5, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9995)
"""Levels at which the no-drift Wasserstein functional is stored."""
TAIL_LEVEL = 1.0
"""Level of the last ``null_quantiles`` pair, which holds the tail's mean excess."""
NULL_DRAWS = 20_000
"""Brownian-bridge draws simulated per numeric reference column."""


@lru_cache(maxsize=4)
def _standard_normals(seed: int, bins: int, draws: int) -> npt.NDArray[np.float32]:
    """Read-only ``(bins, draws)`` standard normals, shared by columns with as many bins."""
    normals = np.random.default_rng(seed).standard_normal((bins, draws), dtype=np.float32)
    normals.flags.writeable = False
    return normals


def outer_knots(profile: NumericProfile) -> tuple[float, float]:
    """Where the open-ended first and last bins end.

    Each is modelled as uniform with the mean of its values: the first bin spans
    ``[2 * tail_means[0] - edges[0], edges[0]]`` and the last
    ``[edges[-1], 2 * tail_means[1] - edges[-1]]``. Without tail means (a profile
    from elsewhere) the extremes are used instead; an empty or infinite tail
    ends at its edge. With no edges at all the one bin spans ``[min, max]``.
    """
    low, high = profile.min, profile.max
    if not profile.edges:
        low = low if math.isfinite(low) else 0.0
        high = high if math.isfinite(high) else low
        return low, max(low, high)
    first, last = profile.edges[0], profile.edges[-1]
    low_mean, high_mean = profile.tail_means
    if math.isfinite(low_mean):
        low = 2 * low_mean - first
    if math.isfinite(high_mean):
        high = 2 * high_mean - last
    low = min(low, first) if math.isfinite(low) else first
    high = max(high, last) if math.isfinite(high) else last
    return low, high


def wasserstein_null_table(
    profile: NumericProfile,
    *,
    tail_spreads: tuple[float, float] | None = None,
    draws: int = NULL_DRAWS,
    seed: int = 0,
) -> tuple[tuple[float, float], ...]:
    """Quantiles of the standardised no-drift Wasserstein functional of a reference.

    Between two samples of one distribution, the difference of their binned CDFs
    at the reference edges is close to ``sqrt(1/n_r + 1/n_c) * B(t_k)``, with
    ``B`` a Brownian bridge and ``t_k`` the reference CDF at the edges, so the
    binned distance (:func:`mlgates.stats.drift.wasserstein_distance`) is that
    factor times ``L``: the integral of ``|B|`` (trapezoid rule between edges)
    over the bin widths divided by the reference std. In the two open-ended bins
    the area also moves with the mean of the values there: each adds
    ``|(e - tail_mean) * B(t) + sqrt(mass) * spread * Z|`` with an independent
    normal ``Z``. ``L`` is simulated with ``draws`` bridges (standard normals
    scaled by the square roots of the bin masses, summed, minus ``t * W(1)``).

    Parameters
    ----------
    profile
        The reference profile (edges, counts, std and tail means are used).
    tail_spreads
        Standard deviations of the values in the first and last bins; nan or
        None assumes an exponential tail (spread equal to the mean excess).
    draws, seed
        Size and seed of the simulation.

    Returns
    -------
    tuple
        ``(level, quantile)`` pairs at :data:`NULL_LEVELS` and a final
        ``(1.0, s)`` pair, ``s`` the mean excess above the last quantile.
    """
    zero = (*((level, 0.0) for level in NULL_LEVELS), (TAIL_LEVEL, 0.0))
    if profile.count == 0 or not profile.edges:
        return zero
    edges = np.asarray(profile.edges, dtype=np.float64)
    masses = np.asarray(profile.counts, dtype=np.float64) / profile.count
    low, high = outer_knots(profile)
    scale = profile.scale
    knots = np.concatenate(([low], edges, [high]))
    widths = np.diff(knots) / scale
    bins = masses.size

    normals = _standard_normals(seed, bins + 2, draws)
    # Row by row over the (bins, draws) array: each row stays in cache, and a running
    # sum this way is far faster than cumsum(axis=0).
    walk = np.empty((bins, draws), dtype=np.float32)
    steps = np.sqrt(masses).astype(np.float32)
    np.multiply(normals[0], steps[0], out=walk[0])
    for row in range(1, bins):
        np.multiply(normals[row], steps[row], out=walk[row])
        walk[row] += walk[row - 1]
    end = walk[-1]
    bridge = walk[:-1]
    for row, time in enumerate(np.cumsum(masses)[:-1].astype(np.float32)):
        bridge[row] -= time * end

    # The two open-ended bins: count fluctuation times the mean excess, plus the
    # fluctuation of the mean of the values beyond the edge.
    spreads = tail_spreads or (math.nan, math.nan)
    functional = np.zeros(draws, dtype=np.float64)
    for side, (position, mass) in enumerate(((0, masses[0]), (-1, masses[-1]))):
        excess = widths[position] / 2
        spread = spreads[side] / scale
        spread = spread if math.isfinite(spread) and spread >= 0 else excess
        tail = excess * bridge[position] + math.sqrt(mass) * spread * normals[bins + side]
        functional += np.abs(tail)
    if bridge.shape[0] > 1:
        # Inner segment j runs from edge j to edge j + 1: trapezoid rule on |B|. Where
        # B changes sign inside a segment this overstates the exact integral used by the
        # distance, by less than 0.5% at the upper quantiles: a slightly conservative floor
        # for half the work.
        inner = widths[1:-1].astype(np.float32)
        weights = np.zeros(bridge.shape[0], dtype=np.float32)
        weights[:-1] += inner / 2
        weights[1:] += inner / 2
        np.abs(bridge, out=bridge)
        functional += np.einsum("i,ij->j", weights, bridge)
    quantiles = np.quantile(functional, NULL_LEVELS)
    top = float(quantiles[-1])
    beyond = functional[functional > top] - top
    slope = float(beyond.mean()) if beyond.size else 0.0
    return (
        *((level, float(value)) for level, value in zip(NULL_LEVELS, quantiles, strict=True)),
        (TAIL_LEVEL, slope),
    )
