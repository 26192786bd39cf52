"""Values the reference has never seen: beyond its range, or labels it never held.

A few such values are expected by chance, and how many depends on the sizes
of both samples, so each count is held against what chance explains:

* numbers: for exchangeable data the mass outside the range ``[min, max]`` of
  ``n`` reference values is ``Beta(2, n - 1)``, so the count of ``m`` current
  values outside it is beta-binomial (ties at the extremes only make the test
  conservative);
* labels, when the reference profile holds every label it saw: the labels
  found in one sample only are split between the samples by chance, a label
  seen ``t`` times in all falling wholly in the current data with chance
  ``1 / (1 + (n / m)^t)``, so the count of current values outside the
  reference's labels is held against that split, exactly;
* labels, when the profile kept only the frequent ones (``kept_from`` c > 1):
  the mass of labels a reference of ``n`` has seen fewer than ``c``
  times (``c = 1``: never) is about ``sum(s N_s for s <= c) / n`` (Good-Turing,
  ``N_s`` labels seen ``s`` times; one label seen once is added, so that a
  reference without any still allows for new labels), and the count of
  current values outside the
  reference's labels is held against that with a variance that allows for
  new labels repeating; and separately, the most frequent new label is held
  against the chance that a label that common was missed by the reference
  (with Tarone's correction: only labels common enough to ever be significant
  count towards the multiple-testing bound).

Counts beyond chance flag the column only when their excess share is above
``threshold`` too, so huge batches do not flag a handful of values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from mlgates.stats.drift import rare_mass
from mlgates.stats.summaries import CategoricalProfile, NumericProfile

__all__ = [
    "DEFAULT_THRESHOLD",
    "NoveltyAssessment",
    "assess_labels",
    "assess_range",
    "format_value",
]

_EXACT_LIMIT = 20_000
DEFAULT_THRESHOLD = 0.001
"""Smallest excess share of new values that flags a column (0.1% of rows)."""


@dataclass(frozen=True)
class NoveltyAssessment:
    """Count of current values the reference has not seen, and the decision.

    ``expected`` is the count chance explains; ``p_value`` the chance of a
    count at least this large (for labels, the smaller of the share test and
    the most-frequent-new-label test, each at ``alpha / 2``). ``examples`` are
    shown as found (numbers most extreme first, labels most frequent first).
    """

    count: int
    n_reference: int
    n_current: int
    expected: float
    p_value: float
    threshold: float
    flagged: bool
    examples: tuple[str, ...] = ()
    top: tuple[str, int] | None = None

    @property
    def share(self) -> float:
        """Share of current values outside what the reference has seen."""
        return self.count / self.n_current if self.n_current else 0.0


def assess_range(
    reference: NumericProfile,
    current: NumericProfile,
    *,
    alpha: float = 0.01,
    threshold: float = DEFAULT_THRESHOLD,
) -> NoveltyAssessment:
    """Values of ``current`` (summarised against ``reference``) beyond the reference's range."""
    _check_alpha(alpha)
    n, m = reference.count, current.count
    count = sum(current.beyond)
    if n < 2 or m == 0:
        return NoveltyAssessment(count, n, m, float(count), 1.0, threshold, False)
    expected = 2 * m / (n + 1)
    p_value = float(stats.betabinom.sf(count - 1, m, 2, n - 1)) if count else 1.0
    flagged = p_value < alpha and (count - expected) / m > threshold
    examples = tuple(format_value(value, reference.temporal) for value in current.beyond_examples)
    return NoveltyAssessment(count, n, m, expected, p_value, threshold, flagged, examples)


def assess_labels(
    reference: CategoricalProfile,
    current: CategoricalProfile,
    *,
    alpha: float = 0.01,
    threshold: float = DEFAULT_THRESHOLD,
) -> NoveltyAssessment:
    """Values of ``current`` (summarised against ``reference``) outside its labels."""
    _check_alpha(alpha)
    n, m = reference.count, current.count
    count = current.other_count
    if n == 0 or m == 0:
        return NoveltyAssessment(count, n, m, float(count), 1.0, threshold, False)
    below = reference.kept_from
    mass, _ = rare_mass(reference, below)
    # One more label seen once than observed: with none seen once, the chance of a
    # new label is small, not zero (for exchangeable data it is 1 / (n + 1) or more).
    expected = m * (mass * n + 1) / (n + 1)
    if below == 1:
        share_p = _one_sided_tail(reference, current)
    else:
        variance = _count_variance(reference, m, below) + m / (n + 1)
        share_p = _count_tail(count, expected, variance)
    top = current.other_top[0] if current.other_top else None
    top_p = _top_label_tail(reference, current, alpha / 2)
    share_flag = share_p < alpha / 2 and (count - expected) / m > threshold
    top_flag = top is not None and top_p < alpha / 2 and top[1] / m > threshold
    return NoveltyAssessment(
        count=count,
        n_reference=n,
        n_current=m,
        expected=expected,
        p_value=min(share_p, top_p),
        threshold=threshold,
        flagged=bool(share_flag or top_flag),
        examples=tuple(label for label, _ in current.other_top),
        top=top,
    )


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")


def _count_variance(reference: CategoricalProfile, m: int, below: int) -> float:
    """Variance of the count of current values among labels the reference saw < ``below`` times.

    Poisson sampling of each label: ``m * M + m^2 * sum(p^2 P(seen < below))``,
    the second term (new labels that repeat) by Good-Turing as
    ``sum(s (s - 1) N_s for 2 <= s <= below + 1) / n^2``, plus the variance
    of the estimate of ``M`` itself, ``(m / n)^2 sum(s^2 N_s for s <= below)``.
    """
    n = reference.count
    frequencies = np.array([reference.frequency(s) for s in range(1, below + 2)], dtype=np.float64)
    times = np.arange(1, below + 2, dtype=np.float64)
    mass = float(times[:-1] @ frequencies[:-1]) / n
    repeats = float((times * (times - 1)) @ frequencies) / n**2
    estimate = float((times[:-1] ** 2) @ frequencies[:-1]) / n**2
    return m * mass + m**2 * repeats + m**2 * estimate


def _one_sided_tail(reference: CategoricalProfile, current: CategoricalProfile) -> float:
    """``P(U >= u)`` for the current values of labels the reference never held.

    Exact given the labels that occur in one sample only and their counts: with
    no change, a label seen ``t`` times in all sits wholly in the current data
    rather than wholly in the reference with chance ``1 / (1 + (n / m)^t)``, so
    ``U`` is a sum of ``t`` times independent Bernoulli draws; its tail is
    computed by convolution (normal approximation for very large totals).
    """
    n, m, count = reference.count, current.count, current.other_count
    if count == 0:
        return 1.0
    reference_only = np.asarray(reference.counts, dtype=np.int64)[
        np.asarray(current.counts, dtype=np.int64) == 0
    ]
    times, labels = np.unique(reference_only, return_counts=True)
    by_times: dict[int, int] = dict(zip(times.tolist(), labels.tolist(), strict=True))
    for k, how_many in current.other_frequencies:
        by_times[k] = by_times.get(k, 0) + how_many
    log_ratio = math.log(n / m)
    groups = [
        (t, how_many, 1.0 / (1.0 + math.exp(min(t * log_ratio, 700.0))))
        for t, how_many in sorted(by_times.items())
    ]
    total = sum(t * how_many for t, how_many, _ in groups)
    if total > _EXACT_LIMIT:
        mean = sum(t * h * q for t, h, q in groups)
        variance = sum(t * t * h * q * (1 - q) for t, h, q in groups)
        if variance <= 0:
            return 1.0 if count <= mean else 0.0
        return float(stats.norm.sf((count - 0.5 - mean) / math.sqrt(variance)))
    pmf = np.ones(1)
    for t, how_many, q in groups:
        if q <= 0:
            continue
        group = np.zeros(t * how_many + 1)
        group[::t] = stats.binom.pmf(np.arange(how_many + 1), how_many, q)
        pmf = np.convolve(pmf, group)
    return float(min(1.0, max(0.0, pmf[count:].sum())))


def _count_tail(count: int, expected: float, variance: float) -> float:
    """``P(X >= count)`` for a count with this mean and variance (negative binomial)."""
    if count <= 0:
        return 1.0
    if expected <= 0:
        return 0.0
    if variance <= expected * (1 + 1e-9):
        return float(stats.poisson.sf(count - 1, expected))
    size = expected**2 / (variance - expected)
    return float(stats.nbinom.sf(count - 1, size, expected / variance))


def _top_label_tail(
    reference: CategoricalProfile, current: CategoricalProfile, alpha: float
) -> float:
    """Adjusted chance that the most frequent new label is this frequent.

    A label the reference saw fewer than ``c`` times (``kept_from``) and the
    current data ``k`` times: of its ``k + c - 1`` occurrences (at most), at
    most ``c - 1`` fell in the reference, each with chance ``n / (n + m)``.
    The bound is Bonferroni over the labels of both samples that could reach
    it at all (Tarone): a label seen ``t`` times in all is testable when even
    all ``t`` in the current data would be that unlikely.
    """
    if not current.other_frequencies:
        return 1.0
    n, m, below = reference.count, current.count, reference.kept_from
    in_reference = n / (n + m)
    top = max(k for k, _ in current.other_frequencies)
    p_value = float(stats.binom.cdf(below - 1, top + below - 1, in_reference))
    totals, labels = _label_totals(reference, current)
    smallest = stats.binom.cdf(below - 1, totals + below - 1, in_reference)
    order = np.argsort(smallest)
    ranked, cumulative = smallest[order], np.cumsum(labels[order])

    def testable(tests: int) -> int:
        reachable = int(np.searchsorted(ranked, alpha / tests, side="right"))
        return int(cumulative[reachable - 1]) if reachable else 0

    tests = 1  # the smallest T with at most T labels able to reach alpha / T
    while testable(tests) > tests:
        tests += 1
    return min(1.0, p_value * tests)


def _label_totals(
    reference: CategoricalProfile, current: CategoricalProfile
) -> tuple[np.ndarray, np.ndarray]:
    """Occurrences in both samples per label (as counts, with how many labels have each)."""
    kept = np.asarray(reference.counts, dtype=np.int64) + np.asarray(current.counts, dtype=np.int64)
    rare = np.arange(1, len(reference.rare_frequencies) + 1, dtype=np.int64)
    new = np.array([k for k, _ in current.other_frequencies], dtype=np.int64)
    totals = np.concatenate((kept, rare, new))
    labels = np.concatenate(
        (
            np.ones(kept.size, dtype=np.int64),
            np.asarray(reference.rare_frequencies, dtype=np.int64),
            np.array([count for _, count in current.other_frequencies], dtype=np.int64),
        )
    )
    return totals, labels


def format_value(value: float, temporal: bool = False) -> str:
    """A profiled number as a user reads it: a date-time for temporal columns."""
    if temporal and math.isfinite(value):
        text = str(np.datetime64(int(value), "ns")).replace("T", " ")
        return text.removesuffix(".000000000").removesuffix(" 00:00:00")
    return f"{value:.6g}"
