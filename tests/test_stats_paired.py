"""Bootstrap, DeLong and paired-accuracy bounds (:mod:`mlgates.stats.paired`).

DeLong's AUCs and covariance are held to a brute-force implementation of
DeLong's structural components written here (every positive against every
negative, ties counting half); the McNemar p-value to statsmodels; the
Agresti-Min interval to its published formula and, like the bootstrap, to
its coverage in simulations with a known truth; the bootstrap's spread of an
AUC difference to DeLong's. Every simulation has a fixed seed, and its
tolerance is stated in terms of its Monte Carlo standard error.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import integrate, stats
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from mlgates.stats import paired, scoring
from mlgates.stats.paired import PairedAccuracy, Statistic
from mlgates.stats.scoring import Classified

SEED = 20240611


def _coverage_tolerance(level: float, trials: int, allowance: float = 0.0) -> float:
    """Four Monte Carlo standard errors of a coverage estimated from ``trials`` at ``level``,
    plus an ``allowance`` for the method's own approximation error."""
    return 4 * math.sqrt(level * (1 - level) / trials) + allowance


# --------------------------------------------------------------------------- real scores


@pytest.fixture(scope="module")
def cancer_scores() -> tuple[NDArray[np.bool_], dict[str, NDArray[np.float64]]]:
    """Held-out breast-cancer rows (malignant = positive) and three correlated scores:
    a logistic model, a depth-3 tree (tied scores) and naive Bayes on three features."""
    features, target = load_breast_cancer(return_X_y=True)
    train_x, test_x, train_y, test_y = train_test_split(
        features, target, test_size=0.5, random_state=0, stratify=target
    )
    malignant = test_y == 0
    logistic = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    tree = DecisionTreeClassifier(max_depth=3, random_state=0)
    bayes = GaussianNB()
    columns = [0, 1, 4]  # mean radius, texture, smoothness: a weaker model
    scores = {
        "logistic": logistic.fit(train_x, train_y).predict_proba(test_x)[:, 0],
        "tree": tree.fit(train_x, train_y).predict_proba(test_x)[:, 0],
        "bayes": bayes.fit(train_x[:, columns], train_y).predict_proba(test_x[:, columns])[:, 0],
    }
    scores["rounded"] = np.round(scores["logistic"], 1)
    return malignant, scores


# --------------------------------------------------------------------------- DeLong


def _delong_by_hand(
    positive: NDArray[np.bool_], *scores: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """DeLong, DeLong & Clarke-Pearson (1988): psi(x, y) = 1 if x > y, 1/2 if equal, else 0
    over every positive x and negative y; V10 (per positive) and V01 (per negative) are its
    row and column means; S = S10 / m + S01 / n with S10, S01 sample covariances."""
    m, n = int(positive.sum()), int((~positive).sum())
    k = len(scores)
    v10 = np.empty((k, m))
    v01 = np.empty((k, n))
    auc = np.empty(k)
    for r, values in enumerate(scores):
        x, y = values[positive], values[~positive]
        psi = np.zeros((m, n))
        for i in range(m):
            psi[i] = (x[i] > y) + 0.5 * (x[i] == y)
        v10[r], v01[r], auc[r] = psi.mean(axis=1), psi.mean(axis=0), psi.mean()
    s10 = np.empty((k, k))
    s01 = np.empty((k, k))
    for r in range(k):
        for s in range(k):
            s10[r, s] = np.sum((v10[r] - auc[r]) * (v10[s] - auc[s])) / (m - 1)
            s01[r, s] = np.sum((v01[r] - auc[r]) * (v01[s] - auc[s])) / (n - 1)
    return auc, s10 / m + s01 / n


@pytest.mark.parametrize(
    "names",
    [
        ("logistic",),
        ("tree",),
        ("logistic", "tree"),
        ("rounded", "bayes"),
        ("logistic", "bayes", "tree"),
    ],
)
def test_delong_matches_brute_force_structural_components(cancer_scores, names) -> None:
    positive, scores = cancer_scores
    chosen = [scores[name] for name in names]
    result = paired.delong(positive, *chosen)
    auc, covariance = _delong_by_hand(positive, *chosen)
    np.testing.assert_allclose(result.auc, auc, rtol=1e-12)
    np.testing.assert_allclose(result.covariance, covariance, rtol=1e-9, atol=1e-15)
    for value, score in zip(result.auc, chosen, strict=True):
        assert value == pytest.approx(roc_auc_score(positive, score), rel=1e-12)
    if len(names) > 1:
        # the scores are correlated: the check covers a sizeable off-diagonal term
        assert covariance[0, 1] > 0.2 * math.sqrt(covariance[0, 0] * covariance[1, 1])


def test_delong_ties_are_present_in_the_tied_scores(cancer_scores) -> None:
    """Premise of the tied cases above: positives and negatives share scores."""
    positive, scores = cancer_scores
    for name in ("tree", "rounded"):
        shared = np.intersect1d(scores[name][positive], scores[name][~positive])
        assert len(shared) >= 2, name


@pytest.mark.parametrize("pair", [("logistic", "bayes"), ("rounded", "tree"), ("tree", "bayes")])
def test_delong_test_of_two_correlated_aucs(cancer_scores, pair) -> None:
    positive, scores = cancer_scores
    first, second = scores[pair[0]], scores[pair[1]]
    result = paired.delong(positive, first, second)
    auc, covariance = _delong_by_hand(positive, first, second)
    variance = covariance[0, 0] + covariance[1, 1] - 2 * covariance[0, 1]
    z = (auc[0] - auc[1]) / math.sqrt(variance)
    assert result.difference == pytest.approx(auc[0] - auc[1], abs=1e-12)
    assert result.difference_variance == pytest.approx(variance, rel=1e-9)
    assert result.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9, abs=1e-15)
    for level in (0.9, 0.95, 0.99):
        spread = stats.norm.ppf(level) * math.sqrt(variance)
        low, high = result.difference_bounds(level)
        assert low == pytest.approx(auc[0] - auc[1] - spread, rel=1e-9)
        assert high == pytest.approx(auc[0] - auc[1] + spread, rel=1e-9)
        for which in (0, 1):
            spread = stats.norm.ppf(level) * math.sqrt(covariance[which, which])
            low, high = result.value_bounds(level, which)
            assert low == pytest.approx(max(0.0, auc[which] - spread), rel=1e-9)
            assert high == pytest.approx(min(1.0, auc[which] + spread), rel=1e-9)
    # swapping the two scores mirrors the difference and keeps the p-value
    swapped = paired.delong(positive, second, first)
    assert swapped.difference == pytest.approx(-result.difference, abs=1e-12)
    assert swapped.p_value == pytest.approx(result.p_value, rel=1e-9)


def test_delong_p_value_of_identical_scores(cancer_scores) -> None:
    positive, scores = cancer_scores
    result = paired.delong(positive, scores["logistic"], scores["logistic"])
    assert result.difference == 0
    assert result.p_value == 1.0


def test_delong_on_hanley_and_mcneil_ratings() -> None:
    """Hanley & McNeil (1982), Radiology 143:29-36, Table 1: CT ratings 1..5 of 58 normal
    and 51 abnormal patients; the published area is 0.893 and its standard error 0.032
    (their exponential approximation, which estimates the same quantity as DeLong's)."""
    normal = [33, 6, 6, 11, 2]
    abnormal = [3, 2, 2, 11, 33]
    ratings = np.repeat(np.tile(np.arange(1, 6), 2), normal + abnormal)
    positive = np.repeat([False, True], [58, 51])
    result = paired.delong(positive, ratings)
    assert round(result.auc[0], 3) == 0.893
    assert math.sqrt(result.covariance[0, 0]) == pytest.approx(0.032, rel=0.1)


def test_delong_refuses_fewer_than_two_rows_of_a_class() -> None:
    with pytest.raises(ValueError, match="two rows of each class"):
        paired.delong(np.array([True, False, False, False]), np.arange(4.0))


# --------------------------------------------------------------------------- paired accuracy


def _rows_of(table: tuple[int, int, int, int], rng: np.random.Generator):
    """Right/wrong per row of two models from a paired table (both, first only, second
    only, neither), in a random order."""
    both, first_only, second_only, neither = table
    first = np.repeat([True, True, False, False], table)
    second = np.repeat([True, False, True, False], table)
    order = rng.permutation(len(first))
    assert len(first) == both + first_only + second_only + neither
    return first[order], second[order]


def test_mcnemar_p_value_matches_statsmodels(cancer_scores) -> None:
    from statsmodels.stats.contingency_tables import mcnemar

    rng = np.random.default_rng(SEED)
    tables = [(10, 0, 0, 5), (10, 3, 3, 5), (0, 1, 0, 0), (40, 7, 1, 2), (40, 1, 7, 2)]
    tables += [tuple(int(v) for v in rng.integers(0, 40, size=4)) for _ in range(200)]
    # and the disagreements of real models: each thresholded at 1/2 on the cancer rows
    positive, scores = cancer_scores
    right = {name: (score >= 0.5) == positive for name, score in scores.items()}
    real = [(right[a], right[b]) for a in right for b in right if a != b]
    pairs = [_rows_of(table, rng) for table in tables] + real
    for first, second in pairs:
        result = paired.paired_accuracy(first, second)
        table = [
            [int(np.sum(first & second)), int(np.sum(first & ~second))],
            [int(np.sum(~first & second)), int(np.sum(~first & ~second))],
        ]
        assert (result.only_first, result.only_second) == (table[0][1], table[1][0])
        assert result.rows == len(first)
        assert result.first == pytest.approx(first.mean())
        assert result.second == pytest.approx(second.mean())
        assert result.difference == pytest.approx(first.mean() - second.mean())
        expected = mcnemar(np.array(table), exact=True).pvalue
        assert result.p_value == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_agresti_min_bounds_follow_the_published_formula() -> None:
    """Agresti & Min (2005), Statistics in Medicine 24:729-740: add 1/2 to each cell of the
    paired table, n* = n + 2, and use the Wald interval of p*12 - p*21 with variance
    [p*12 + p*21 - (p*12 - p*21)^2] / n*."""
    empty = PairedAccuracy(0, 0, 0, math.nan, math.nan).difference_bounds(0.95)
    assert all(math.isnan(bound) for bound in empty), "no rows: no interval, as for Wilson"
    for n11, n12, n21, n22 in [(40, 7, 1, 2), (1, 0, 0, 0), (5, 0, 9, 1), (300, 40, 25, 60)]:
        n = n11 + n12 + n21 + n22
        result = PairedAccuracy(n, n12, n21, math.nan, math.nan)
        starred = n + 2
        p12, p21 = (n12 + 0.5) / starred, (n21 + 0.5) / starred
        se = math.sqrt((p12 + p21 - (p12 - p21) ** 2) / starred)
        for level in (0.8, 0.95, 0.975):
            z = stats.norm.ppf(level)
            low, high = result.difference_bounds(level)
            assert low == pytest.approx(max(-1.0, p12 - p21 - z * se), abs=1e-12)
            assert high == pytest.approx(min(1.0, p12 - p21 + z * se), abs=1e-12)


def _simulated_bound_coverage(
    rows: int, cells: tuple[float, ...], trials: int, level: float, seed: int
) -> tuple[float, float]:
    """Shares of simulated paired tables whose lower / upper one-sided bound holds p12 - p21."""
    truth = cells[1] - cells[2]
    kinds = np.random.default_rng(seed).choice(4, size=(trials, rows), p=cells)
    below = above = 0
    for row in kinds:
        first = (row == 0) | (row == 1)
        second = (row == 0) | (row == 2)
        low, high = paired.paired_accuracy(first, second).difference_bounds(level)
        below += low <= truth
        above += high >= truth
    return below / trials, above / trials


@pytest.mark.parametrize(
    ("rows", "cells"),
    [
        (150, (0.70, 0.10, 0.05, 0.15)),  # first model 5 points better
        (80, (0.60, 0.08, 0.08, 0.24)),  # no difference
        (100, (0.50, 0.10, 0.20, 0.20)),  # first model 10 points worse
    ],
)
def test_agresti_min_coverage_by_simulation(rows: int, cells: tuple[float, ...]) -> None:
    """10,000 simulated paired tables at a known difference p12 - p21: each one-sided 95%
    bound holds in about 95% of them (Monte Carlo standard error 0.22%). Allowance 1.2%: the
    adjusted Wald interval is symmetric, so with unequal discordant cells its two tails
    differ from nominal in opposite directions (exact enumeration of these settings gives
    94.3% to 95.9%)."""
    trials, level = 10_000, 0.95
    below, above = _simulated_bound_coverage(rows, cells, trials, level, SEED + rows)
    tolerance = _coverage_tolerance(level, trials, allowance=0.012)
    assert abs(below - level) <= tolerance
    assert abs(above - level) <= tolerance
    # two-sided 95% (two 97.5% bounds), the form Agresti and Min designed and evaluated; the
    # two misses are disjoint, so the coverage is one less the sum of the misses
    below, above = _simulated_bound_coverage(rows, cells, trials, 0.975, SEED + rows)
    assert abs(below + above - 1 - 0.95) <= _coverage_tolerance(0.95, trials, allowance=0.005)


@pytest.mark.parametrize(
    ("rows", "cells"),
    [
        (50, (0.80, 0.04, 0.01, 0.15)),  # 2.5 discordant rows expected
        (30, (0.60, 0.10, 0.05, 0.25)),
    ],
)
def test_agresti_min_is_not_liberal_with_few_discordant_rows(
    rows: int, cells: tuple[float, ...]
) -> None:
    """Few discordant rows, where the plain Wald interval fails (its 95% upper bound holds in
    only 86.6% of tables at the first setting, by exact enumeration): the adjusted interval's
    one-sided bounds hold in at least 95% less the Monte Carlo error and a 1.2% allowance
    (exact enumeration: 94.7% to 99.1%; the adjustment makes it conservative here)."""
    trials, level = 10_000, 0.95
    for coverage in _simulated_bound_coverage(rows, cells, trials, level, SEED + rows):
        assert coverage >= level - _coverage_tolerance(level, trials, allowance=0.012)


def test_paired_accuracy_without_disagreement() -> None:
    same = np.array([True, False, True, True])
    result = paired.paired_accuracy(same, same)
    assert (result.only_first, result.only_second, result.difference) == (0, 0, 0.0)
    assert result.p_value == 1.0
    low, high = result.difference_bounds(0.95)
    assert low < 0 < high


# --------------------------------------------------------------------------- resampling


@pytest.mark.parametrize("rows", [5, 50])
def test_resample_weights_are_multinomial_counts(rows: int) -> None:
    """Each resample draws ``rows`` rows with replacement: counts sum to ``rows``, each cell
    is Binomial(rows, 1/rows) (mean 1, variance 1 - 1/rows) and two cells covary -1/rows."""
    count = 40_000
    weights = paired.resample_weights(rows, count, np.random.default_rng(SEED))
    assert weights.shape == (count, rows)
    assert weights.dtype == np.float32
    assert np.all(weights >= 0)
    assert np.all(weights == np.round(weights))
    np.testing.assert_array_equal(weights.sum(axis=1), rows)
    values = weights.astype(np.float64)
    variance = 1 - 1 / rows
    mean_se = math.sqrt(variance / count)
    assert np.all(np.abs(values.mean(axis=0) - 1) <= 4.5 * mean_se)
    cells = np.cov(values, rowvar=False)
    # a cell's variance estimate has sd about sqrt((mu4 - var^2) / count) < sqrt(3 / count)
    assert np.all(np.abs(np.diag(cells) - variance) <= 4.5 * math.sqrt(3 / count))
    off_diagonal = cells[~np.eye(rows, dtype=bool)]
    assert abs(off_diagonal.mean() + 1 / rows) <= 4.5 * math.sqrt(3 / count)
    if rows == 5:  # clearly not Poisson(1), whose variance would be 1
        assert abs(np.diag(cells).mean() - 1) > 10 * math.sqrt(3 / count / rows)


@pytest.mark.parametrize(("rows", "count"), [(7, 10_000), (50, 3_000), (paired._BLOCK_ROWS, 3)])
def test_resample_weights_count_the_generator_stream(rows: int, count: int) -> None:
    """Up to a block of rows, resample ``b`` counts the ``b``-th run of ``rows`` draws
    ``rng.integers(0, rows)``: the weights do not depend on how many resamples are counted
    at a time."""
    weights = paired.resample_weights(rows, count, np.random.default_rng(SEED))
    rng = np.random.default_rng(SEED)
    for resample in range(count):
        draws = rng.integers(0, rows, size=rows, dtype=np.int64)
        np.testing.assert_array_equal(weights[resample], np.bincount(draws, minlength=rows))
    assert paired.resample_weights(0, 4, rng).shape == (4, 0)


def test_resample_weights_of_many_rows_are_multinomial_counts() -> None:
    """Above a block of rows, each resample splits its draws between the blocks and then
    draws within each: still ``rows`` draws from all the rows. Each block's total is
    Binomial(rows, block / rows); each cell has mean 1 and variance 1 - 1/rows."""
    block = paired._BLOCK_ROWS
    rows, count = 2 * block + 8_928, 120
    weights = paired.resample_weights(rows, count, np.random.default_rng(SEED))
    assert weights.shape == (count, rows)
    assert np.all(weights >= 0)
    assert np.all(weights == np.round(weights))
    np.testing.assert_array_equal(weights.astype(np.float64).sum(axis=1), rows)
    for start, stop in ((0, block), (block, 2 * block), (2 * block, rows)):
        share = (stop - start) / rows
        totals = weights[:, start:stop].astype(np.float64).sum(axis=1)
        mean, variance = rows * share, rows * share * (1 - share)
        assert abs(totals.mean() - mean) <= 4.5 * math.sqrt(variance / count)
        # sample variance of `count` normal-ish totals: relative sd about sqrt(2 / count)
        assert totals.var(ddof=1) == pytest.approx(variance, rel=4.5 * math.sqrt(2 / count))
    values = weights.astype(np.float64)
    cell_variance = values.var(axis=0, ddof=1).mean()
    # averaged over 140,000 cells: its Monte Carlo sd is about 0.0004
    assert cell_variance == pytest.approx(1 - 1 / rows, abs=0.01)


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of a few resamples, so that several workers really share the work."""
    monkeypatch.setattr(paired, "CHUNK_CELLS", 3_000)


def _statistics(cancer_scores) -> tuple[list[Statistic], int]:
    positive, scores = cancer_scores
    truth = positive.astype(np.intp)
    data = {
        name: Classified(
            truth, (score >= 0.5).astype(np.intp), np.column_stack([1 - score, score]), 2
        )
        for name, score in scores.items()
    }
    statistics = [
        Statistic(scoring.roc_auc(data["logistic"])),
        Statistic(scoring.roc_auc(data["tree"])),
        Statistic(scoring.accuracy(data["bayes"])),
        Statistic(scoring.log_loss(data["logistic"])),
    ]
    return statistics, len(truth)


@pytest.mark.usefixtures("small_chunks")
def test_bootstrap_is_deterministic_and_independent_of_workers(cancer_scores) -> None:
    statistics, rows = _statistics(cancer_scores)
    assert paired.CHUNK_CELLS // rows < 97, "premise: several chunks"
    runs = {
        workers: paired.bootstrap(statistics, rows, resamples=97, seed=7, workers=workers)
        for workers in (1, 2, 5)
    }
    assert runs[1].shape == (97, len(statistics))
    assert np.all(np.isfinite(runs[1]))
    for workers in (2, 5):
        np.testing.assert_array_equal(runs[workers], runs[1])
    np.testing.assert_array_equal(
        paired.bootstrap(statistics, rows, resamples=97, seed=7, workers=2), runs[1]
    )
    other = paired.bootstrap(statistics, rows, resamples=97, seed=8, workers=2)
    assert not np.allclose(other, runs[1])
    # the replicates vary: each chunk draws its own resamples
    assert len(np.unique(runs[1][:, 0])) > 90


def test_bootstrap_scores_the_resample_weights(cancer_scores) -> None:
    """One chunk: the replicates are the scorers applied to ``resample_weights`` drawn from the
    seed's first child, i.e. each replicate is the metric on one resample."""
    statistics, rows = _statistics(cancer_scores)
    assert 50 * rows <= paired.CHUNK_CELLS, "premise: one chunk"
    replicates = paired.bootstrap(statistics, rows, resamples=50, seed=3)
    child = np.random.SeedSequence(3).spawn(1)[0]
    weights = paired.resample_weights(rows, 50, np.random.default_rng(child))
    for column, statistic in enumerate(statistics):
        np.testing.assert_allclose(replicates[:, column], statistic.scorer(weights), rtol=1e-12)


def test_bootstrap_statistic_rows(cancer_scores) -> None:
    """A statistic on some rows is scored on those rows' weights of the shared resamples."""
    positive, scores = cancer_scores
    truth = positive.astype(np.intp)
    data = Classified(truth, (scores["logistic"] >= 0.5).astype(np.intp), None, 2)
    rows = np.flatnonzero(np.arange(len(truth)) % 2 == 0)
    mask = np.zeros(len(truth), dtype=np.float32)
    mask[rows] = 1
    everything = scoring.accuracy(data)
    statistics = [
        Statistic(scoring.accuracy(data.subset(rows)), rows=rows),
        Statistic(lambda weights: everything(weights * mask)),
        Statistic(everything),
    ]
    replicates = paired.bootstrap(statistics, len(truth), resamples=300, seed=1)
    np.testing.assert_allclose(replicates[:, 0], replicates[:, 1], rtol=1e-6)
    assert not np.allclose(replicates[:, 0], replicates[:, 2])


def test_bootstrap_without_rows_or_resamples() -> None:
    statistic = Statistic(scoring.weighted_mean(np.array([])))
    empty = paired.bootstrap([statistic, statistic], 0, resamples=10)
    assert empty.shape == (10, 2)
    assert np.all(np.isnan(empty))
    assert paired.bootstrap([statistic], 5, resamples=0).shape == (0, 1)


def test_point_recentres_binned_replicates(cancer_scores) -> None:
    """A binned AUC with ``point`` set to the exact AUC: every replicate moves by the same
    amount (exact minus binned on all rows), which brings the replicates to within 2/max_groups
    of the exact scorer's replicates on the same resamples."""
    positive, scores = cancer_scores
    score = scores["logistic"]
    data = Classified(
        positive.astype(np.intp),
        (score >= 0.5).astype(np.intp),
        np.column_stack([1 - score, score]),
        2,
    )
    rows, groups = data.rows, 8
    exact_scorer = scoring.roc_auc(data)
    binned_scorer = scoring.roc_auc(data, max_groups=groups)
    exact = float(exact_scorer(np.ones((1, rows)))[0])
    binned = float(binned_scorer(np.ones((1, rows)))[0])
    assert abs(exact - binned) > 1e-3, "premise: binning moves the point value"
    statistics = [
        Statistic(exact_scorer),
        Statistic(binned_scorer),
        Statistic(binned_scorer, point=exact),
    ]
    replicates = paired.bootstrap(statistics, rows, resamples=400, seed=5)
    np.testing.assert_allclose(replicates[:, 2] - replicates[:, 1], exact - binned, atol=1e-12)
    assert np.all(np.abs(replicates[:, 2] - replicates[:, 0]) <= 2 / groups)
    # centred: the recentred replicates' median is nearer the exact value than the binned one's
    assert abs(np.median(replicates[:, 2]) - exact) < abs(np.median(replicates[:, 1]) - exact)


def test_point_recentres_a_statistic_on_some_rows(cancer_scores) -> None:
    positive, scores = cancer_scores
    rows = np.flatnonzero(np.arange(len(positive)) % 3 != 0)
    score = scores["logistic"][rows]
    data = Classified(
        positive[rows].astype(np.intp),
        (score >= 0.5).astype(np.intp),
        np.column_stack([1 - score, score]),
        2,
    )
    binned_scorer = scoring.roc_auc(data, max_groups=4)
    plug_in = float(binned_scorer(np.ones((1, len(rows))))[0])
    statistics = [
        Statistic(binned_scorer, rows=rows),
        Statistic(binned_scorer, rows=rows, point=plug_in + 0.25),
    ]
    replicates = paired.bootstrap(statistics, len(positive), resamples=100, seed=2)
    np.testing.assert_allclose(replicates[:, 1] - replicates[:, 0], 0.25, atol=1e-12)


def test_percentile_bounds() -> None:
    rng = np.random.default_rng(SEED)
    replicates = rng.normal(size=1_001)
    low, high = paired.percentile_bounds(replicates, 0.9)
    assert (low, high) == pytest.approx(tuple(np.quantile(replicates, [0.1, 0.9])))
    with_gaps = np.concatenate([replicates, [np.nan, np.inf, -np.inf]])
    assert paired.percentile_bounds(with_gaps, 0.9) == (low, high)
    assert all(math.isnan(v) for v in paired.percentile_bounds(np.full(4, np.nan), 0.9))
    for level in (0.4, 1.0):
        with pytest.raises(ValueError, match="level"):
            paired.percentile_bounds(replicates, level)


# --------------------------------------------------------------------------- bootstrap vs truth


COVERAGE_LEVELS = (0.8, 0.9, 0.95)


class _Coverage:
    """Counts, per one-sided level, how often the lower and the upper percentile bound of
    bootstrap replicates hold a known truth."""

    def __init__(self, truth: float) -> None:
        self.truth = truth
        self.trials = 0
        self.below = dict.fromkeys(COVERAGE_LEVELS, 0)
        self.above = dict.fromkeys(COVERAGE_LEVELS, 0)

    def add(self, replicates: NDArray[np.float64]) -> None:
        self.trials += 1
        for level in COVERAGE_LEVELS:
            low, high = paired.percentile_bounds(replicates, level)
            self.below[level] += low <= self.truth
            self.above[level] += high >= self.truth

    def check(self, allowance: float) -> None:
        for level in COVERAGE_LEVELS:
            tolerance = _coverage_tolerance(level, self.trials, allowance)
            for side in (self.below, self.above):
                assert abs(side[level] / self.trials - level) <= tolerance, (level, side)


def test_bootstrap_percentile_coverage_of_an_accuracy() -> None:
    """x ~ N(0, 1), P(y = 1 | x) = sigmoid(2x), the classifier says 1 when x > 0: its true
    accuracy is E[sigmoid(2|x|)]. 1,000 samples of 200 rows, 400 resamples each: the one-sided
    80%, 90% and 95% percentile bounds hold in about that share of the samples (Monte Carlo
    standard error 0.7% to 1.3%). Allowance 0.5% for the percentile method's own error."""

    def sigmoid(t):
        return 1 / (1 + np.exp(-t))

    truth = 2 * integrate.quad(lambda x: stats.norm.pdf(x) * sigmoid(2 * x), 0, np.inf)[0]
    rng = np.random.default_rng(SEED)
    rows = 200
    coverage = _Coverage(truth)
    for trial in range(1_000):
        x = rng.normal(size=rows)
        label = (rng.random(rows) < sigmoid(2 * x)).astype(np.intp)
        data = Classified(label, (x > 0).astype(np.intp), None, 2)
        replicates = paired.bootstrap(
            [Statistic(scoring.accuracy(data))], rows, resamples=400, seed=trial, workers=1
        )
        coverage.add(replicates[:, 0])
    coverage.check(allowance=0.005)


def test_bootstrap_spread_of_an_auc_difference_agrees_with_delong() -> None:
    """4,000 rows, two correlated scores of the same latent signal: the standard deviation of
    2,000 paired bootstrap replicates of AUC(first) - AUC(second) is within 15% of DeLong's
    (Monte Carlo error of a standard deviation from 2,000 replicates: about 1.6%). Because the
    resamples are shared, it is far below what independent AUCs would give."""
    rng = np.random.default_rng(SEED)
    rows = 4_000
    positive = rng.random(rows) < 0.3
    signal = rng.normal(size=rows) + 1.0 * positive
    first = signal + rng.normal(scale=0.6, size=rows)
    second = signal + rng.normal(scale=0.9, size=rows)
    truth = positive.astype(np.intp)
    statistics = [
        Statistic(scoring.roc_auc(Classified(truth, truth, np.column_stack([-score, score]), 2)))
        for score in (first, second)
    ]
    replicates = paired.bootstrap(statistics, rows, resamples=2_000, seed=11)
    bootstrap_sd = float(np.std(replicates[:, 0] - replicates[:, 1], ddof=1))
    result = paired.delong(positive, first, second)
    delong_sd = math.sqrt(result.difference_variance)
    assert bootstrap_sd == pytest.approx(delong_sd, rel=0.15)
    independent_sd = math.sqrt(result.covariance[0, 0] + result.covariance[1, 1])
    assert bootstrap_sd < 0.7 * independent_sd
    # and each AUC's own spread agrees with DeLong's variance too
    for column in (0, 1):
        own = float(np.std(replicates[:, column], ddof=1))
        assert own == pytest.approx(math.sqrt(result.covariance[column, column]), rel=0.15)


def test_bootstrap_percentile_coverage_of_an_auc() -> None:
    """Binormal scores, N(0, 1) for negatives and N(1, 1) for positives (40% of 1,000 rows):
    the true AUC is Phi(1 / sqrt(2)). 500 samples, 400 resamples each: the one-sided 80%, 90%
    and 95% percentile bounds hold in about that share (Monte Carlo standard error 1% to
    1.8%). Allowance 1% for the skew of an AUC's sampling distribution at this size
    (DeLong's 95% Wald bounds cover 94.7% and 95.5% at 1,000 rows, half of them positive,
    in a 5,000-sample check)."""
    truth = stats.norm.cdf(1 / math.sqrt(2))
    rng = np.random.default_rng(SEED + 1)
    rows = 1_000
    coverage = _Coverage(truth)
    for trial in range(500):
        positive = rng.random(rows) < 0.4
        score = rng.normal(size=rows) + positive
        codes = positive.astype(np.intp)
        data = Classified(codes, codes, np.column_stack([-score, score]), 2)
        replicates = paired.bootstrap(
            [Statistic(scoring.roc_auc(data))], rows, resamples=400, seed=trial, workers=1
        )
        coverage.add(replicates[:, 0])
    coverage.check(allowance=0.01)
