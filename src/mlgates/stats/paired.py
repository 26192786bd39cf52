"""Confidence bounds for model metrics, alone or paired (candidate and baseline on the same rows).

* :func:`bootstrap` works for any metric: each resample is a weighting of the
  evaluation rows by how often a draw with replacement picked them
  (multinomial counts), scored for every metric and model at once
  (:mod:`mlgates.stats.scoring`). Candidate and baseline share each resample,
  so the difference keeps their correlation.
* :func:`delong` gives the variance of a ROC AUC and the covariance of two AUCs
  on the same rows (DeLong, DeLong & Clarke-Pearson 1988), from placement values.
* :func:`paired_accuracy` bounds the difference of two accuracies on the same
  rows from the discordant pairs (the McNemar table), with Agresti & Min's
  (2005) adjusted Wald interval, and gives McNemar's exact p-value.

Bounds are one-sided at ``level``: ``(low, high)`` where the quantity exceeds
``low`` with probability ``level``, and likewise stays below ``high``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from numpy.typing import NDArray

from mlgates.stats.scoring import Scorer

CHUNK_CELLS = 1 << 24
"""Resamples are drawn in chunks of at most this many row weights (64 MiB of float32), or
of one resample when it has more rows."""

_CHUNK_RESAMPLES = 32
"""Resamples per chunk, or more while a chunk holds at most ``_CHUNK_SMALL`` row weights:
the scorers' sparse products are fastest on a few dozen resamples at a time."""

_CHUNK_SMALL = 1 << 20

_BLOCK_ROWS = 1 << 14
"""Above this many rows, :func:`resample_weights` draws each resample by blocks of rows."""

_GROUP_CELLS = 1 << 16
"""Up to ``_BLOCK_ROWS`` rows, draws counted by one ``np.bincount`` (512 KiB of int64)."""


@dataclass(frozen=True)
class Statistic:
    """One metric to bootstrap: a scorer on some rows (``None``: every row).

    ``point`` is the metric's exact value when the scorer approximates it for
    speed (binned ROC AUC): the replicates are then shifted by ``point`` minus
    the scorer's own value on the data, so that only their spread comes from
    the approximation.
    """

    scorer: Scorer
    rows: NDArray[np.intp] | None = None
    point: float | None = None


def _z(level: float) -> float:
    if not 0.5 <= level < 1:
        raise ValueError(f"level must be in [0.5, 1), got {level}")
    return NormalDist().inv_cdf(level)


_SIXTY_FOUR_BITS = (np.random.PCG64, np.random.PCG64DXSM, np.random.Philox, np.random.SFC64)


def _uniform16(rng: np.random.Generator, size: int) -> NDArray[np.uint16]:
    """``size`` uniform 16-bit integers: the generator's raw 64-bit outputs cut in four
    when all their bits are random, else ``rng.integers``."""
    if isinstance(rng.bit_generator, _SIXTY_FOUR_BITS):
        raw = rng.bit_generator.random_raw(-(-size // 4))
        return np.asarray(raw).view(np.uint16)[:size]
    return rng.integers(0, 1 << 16, size=size, dtype=np.uint16)


def _blocks(rows: int) -> NDArray[np.intp]:
    """Widths of the blocks :func:`resample_weights` splits ``rows`` rows into: blocks of
    ``2**16`` rows, then one block per binary digit of the rest from ``2**15`` down to
    ``2**12``, then the last ``rows % 2**12`` rows."""
    full, rest = divmod(rows, 1 << 16)
    powers = [1 << bit for bit in range(15, 11, -1) if rest >> bit & 1]
    tail = [rest & 0xFFF] if rest & 0xFFF else []
    return np.array([1 << 16] * full + powers + tail, dtype=np.intp)


def resample_weights(rows: int, count: int, rng: np.random.Generator) -> NDArray[np.float32]:
    """``count`` bootstrap resamples of ``rows`` rows as weights: how often each row was drawn.

    Each resample is ``rows`` draws with replacement, counted per row (multinomial counts).
    Up to ``_BLOCK_ROWS`` rows, resample ``b`` is the ``b``-th run of ``rows`` draws
    ``rng.integers(0, rows)`` of the generator's stream. Above it, the rows are split into
    blocks (:func:`_blocks`): each resample first splits its ``rows`` draws between the
    blocks (``rng.multinomial``, in proportion to their widths), then draws each block's
    share uniformly among its rows. Given the shares, the counts within each block are
    multinomial, so together they are those of ``rows`` draws from all the rows (exactly,
    up to the floating-point block probabilities). A block's counting stays in cache, and
    a block of ``2**k`` rows takes the top ``k`` bits of 16 random bits, so most draws
    need neither a 64-bit integer nor a rejection step.

    The ``(count, rows)`` result is stored column-major (``weights.T`` is C-contiguous): a
    row's weights in all the resamples are adjacent, the order in which the scorers' sparse
    products read them (:class:`mlgates.stats.scoring._CellSums`).
    """
    if rows > _BLOCK_ROWS:
        return _by_blocks(rows, count, rng)
    stride = rows + (-rows % 16)  # rows padded off multiples of 4 KiB: a faster transpose
    if not 64 <= stride % 1024 <= 960:
        stride += 128
    weights = np.empty((count, stride), dtype=np.float32)[:, :rows]
    if rows and count:
        together = max(1, _GROUP_CELLS // rows)
        offsets = np.arange(together, dtype=np.intp)[:, None] * rows
        for start in range(0, count, together):
            size = min(together, count - start)
            draws = rng.integers(0, rows, size=(size, rows), dtype=np.intp)
            draws += offsets[:size]
            counts = np.bincount(draws.reshape(-1), minlength=size * rows)
            weights[start : start + size] = counts.reshape(size, rows)
    return np.ascontiguousarray(weights.T).T


def _by_blocks(rows: int, count: int, rng: np.random.Generator) -> NDArray[np.float32]:
    """:func:`resample_weights` above ``_BLOCK_ROWS`` rows: block by block, resample by
    resample, each block's counts written straight into the column-major result."""
    columns = np.empty((rows, count), dtype=np.float32)
    widths = _blocks(rows)
    edges = np.concatenate([[0], np.cumsum(widths)])
    shares = rng.multinomial(rows, widths / rows, size=count)
    powers = (widths & (widths - 1)) == 0  # all but the tail
    shifts = [17 - int(width).bit_length() for width in widths]  # 2**k rows: top k bits
    bits = _uniform16(rng, int(shares[:, powers].sum()))  # the chunk's 16-bit draws at once
    scratch = np.empty(int(shares.max(initial=0)), dtype=np.intp)
    used = 0
    for block, width in enumerate(widths):
        block_columns = columns[edges[block] : edges[block + 1]]
        for resample in range(count):
            size = int(shares[resample, block])
            if powers[block]:
                draws = scratch[:size]
                np.right_shift(bits[used : used + size], shifts[block], out=draws)
                used += size
            else:
                draws = rng.integers(0, width, size=size, dtype=np.intp)
            block_columns[:, resample] = np.bincount(draws, minlength=width)
    return columns.T


def bootstrap(
    statistics: Sequence[Statistic],
    rows: int,
    *,
    resamples: int = 1000,
    seed: int = 0,
    workers: int = 2,
) -> NDArray[np.float64]:
    """Bootstrap replicates of every statistic: ``(resamples, len(statistics))``.

    All statistics are scored on the same resamples. The result depends only on
    ``seed`` (not on ``workers``): chunk ``i`` always draws from the ``i``-th
    child of the seed.
    """
    if rows <= 0 or resamples <= 0:
        return np.full((max(resamples, 0), len(statistics)), np.nan)
    per_chunk = max(_CHUNK_RESAMPLES, _CHUNK_SMALL // rows)
    size = max(1, min(resamples, CHUNK_CELLS // rows, per_chunk))
    starts = list(range(0, resamples, size))
    seeds = np.random.SeedSequence(seed).spawn(len(starts))

    def chunk(index: int) -> NDArray[np.float64]:
        count = min(size, resamples - starts[index])
        weights = resample_weights(rows, count, np.random.default_rng(seeds[index]))
        out = np.empty((count, len(statistics)))
        for column, statistic in enumerate(statistics):
            part = weights if statistic.rows is None else weights[:, statistic.rows]
            out[:, column] = statistic.scorer(part)
        return out

    if workers > 1 and len(starts) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(chunk, range(len(starts))))
    else:
        parts = [chunk(index) for index in range(len(starts))]
    replicates = np.concatenate(parts, axis=0)
    for column, statistic in enumerate(statistics):
        if statistic.point is not None:
            size_of = rows if statistic.rows is None else len(statistic.rows)
            plug_in = float(statistic.scorer(np.ones((1, size_of), dtype=np.float32))[0])
            replicates[:, column] += statistic.point - plug_in
    return replicates


def percentile_bounds(replicates: NDArray[np.floating], level: float) -> tuple[float, float]:
    """One-sided percentile bounds at ``level`` of bootstrap replicates (NaNs left out)."""
    _z(level)
    finite = np.asarray(replicates, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if not len(finite):
        return math.nan, math.nan
    low, high = np.quantile(finite, [1 - level, level])
    return float(low), float(high)


@dataclass(frozen=True)
class DeLong:
    """ROC AUCs of one or two score vectors on the same rows, with their (co)variances."""

    auc: tuple[float, ...]
    covariance: NDArray[np.float64]

    def value_bounds(self, level: float, which: int = 0) -> tuple[float, float]:
        """One-sided bounds of one AUC, clipped to [0, 1]."""
        spread = _z(level) * math.sqrt(max(self.covariance[which, which], 0.0))
        value = self.auc[which]
        return max(0.0, value - spread), min(1.0, value + spread)

    @property
    def difference(self) -> float:
        """AUC of the first scores minus AUC of the second."""
        return self.auc[0] - self.auc[1]

    @property
    def difference_variance(self) -> float:
        """Variance of :attr:`difference`: var(a) + var(b) - 2 cov(a, b)."""
        c = self.covariance
        return float(max(c[0, 0] + c[1, 1] - 2 * c[0, 1], 0.0))

    def difference_bounds(self, level: float) -> tuple[float, float]:
        """One-sided bounds of :attr:`difference`."""
        spread = _z(level) * math.sqrt(self.difference_variance)
        return self.difference - spread, self.difference + spread

    @property
    def p_value(self) -> float:
        """Two-sided p-value of "the two AUCs are equal"."""
        if self.difference_variance <= 0:
            return 1.0 if self.difference == 0 else 0.0
        z = abs(self.difference) / math.sqrt(self.difference_variance)
        return 2 * (1 - NormalDist().cdf(z))


def delong(positive: NDArray[np.bool_], *scores: NDArray[np.floating]) -> DeLong:
    """DeLong's AUCs and covariance matrix for one or more score vectors (ties count half).

    Raises ``ValueError`` unless both classes have at least two rows.
    """
    from scipy.stats import rankdata

    positive = np.asarray(positive, dtype=bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos < 2 or n_neg < 2:
        raise ValueError(f"DeLong needs two rows of each class, got {n_pos} and {n_neg}")
    placements_pos = []
    placements_neg = []
    for values in scores:
        values = np.asarray(values, dtype=np.float64)
        everywhere = rankdata(values)
        among_pos = rankdata(values[positive])
        among_neg = rankdata(values[~positive])
        placements_pos.append((everywhere[positive] - among_pos) / n_neg)
        placements_neg.append(1.0 - (everywhere[~positive] - among_neg) / n_pos)
    v10, v01 = np.vstack(placements_pos), np.vstack(placements_neg)
    covariance = np.atleast_2d(np.cov(v10)) / n_pos + np.atleast_2d(np.cov(v01)) / n_neg
    return DeLong(tuple(float(v) for v in v10.mean(axis=1)), covariance)


@dataclass(frozen=True)
class PairedAccuracy:
    """Two accuracies on the same rows and the McNemar table of their disagreements."""

    rows: int
    only_first: int
    only_second: int
    first: float
    second: float

    @property
    def difference(self) -> float:
        """Accuracy of the first minus accuracy of the second."""
        return self.first - self.second

    def difference_bounds(self, level: float) -> tuple[float, float]:
        """One-sided bounds of :attr:`difference`: Agresti & Min's adjusted Wald interval
        (half a row added to each cell of the paired 2x2 table)."""
        z = _z(level)
        if self.rows <= 0:
            return math.nan, math.nan
        n = self.rows + 2
        a, b = self.only_first + 0.5, self.only_second + 0.5
        centre = (a - b) / n
        spread = z * math.sqrt(max((a + b) - (a - b) ** 2 / n, 0.0)) / n
        return max(-1.0, centre - spread), min(1.0, centre + spread)

    @property
    def p_value(self) -> float:
        """McNemar's exact two-sided p-value (binomial on the discordant rows)."""
        from scipy.stats import binomtest

        discordant = self.only_first + self.only_second
        if discordant == 0:
            return 1.0
        return float(binomtest(self.only_first, discordant, 0.5).pvalue)


def paired_accuracy(
    right_first: NDArray[np.bool_], right_second: NDArray[np.bool_]
) -> PairedAccuracy:
    """The paired accuracy comparison of two models from whether each got each row right."""
    first = np.asarray(right_first, dtype=bool)
    second = np.asarray(right_second, dtype=bool)
    rows = len(first)
    return PairedAccuracy(
        rows=rows,
        only_first=int((first & ~second).sum()),
        only_second=int((~first & second).sum()),
        first=float(first.mean()) if rows else math.nan,
        second=float(second.mean()) if rows else math.nan,
    )


__all__ = [
    "CHUNK_CELLS",
    "DeLong",
    "PairedAccuracy",
    "Statistic",
    "bootstrap",
    "delong",
    "paired_accuracy",
    "percentile_bounds",
    "resample_weights",
]
