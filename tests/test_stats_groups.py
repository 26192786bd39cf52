"""Group confusion counts, the bootstrap within groups and the gaps between groups
(:mod:`mlgates.stats.groups`).

The rates read from the eight cells per group are held to scikit-learn's metrics on
each group's rows, for the candidate and the baseline; the multinomial resampling to
its defining properties (group sizes kept, mean and spread of the counts); the gaps to
their definitions by brute force and, as the fairness gate reports them (the worst
group), to fairlearn's ``demographic_parity_*`` and ``equalized_odds_*`` (both
methods) over random data. Every random draw has a fixed seed.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from numpy.typing import NDArray
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
)

from mlgates.stats.groups import (
    CELLS,
    RATES,
    cell_counts,
    confusion_of,
    group_gaps,
    overall_gaps,
    rate_of,
    resample_cells,
    stratified_weights,
)

SEED = 20250214


def _confusion(truth: NDArray, predicted: NDArray) -> tuple[int, int, int, int]:
    (tn, fp), (fn, tp) = confusion_matrix(truth, predicted, labels=[0, 1])
    return tp, fp, tn, fn


SKLEARN = {
    "selection_rate": lambda t, p: float(np.mean(p)),
    "accuracy": accuracy_score,
    "tpr": recall_score,
    "fpr": lambda t, p: _confusion(t, p)[1] / (_confusion(t, p)[1] + _confusion(t, p)[2]),
    "fnr": lambda t, p: 1 - recall_score(t, p),
    "tnr": lambda t, p: recall_score(t, p, pos_label=0),
    "precision": lambda t, p: precision_score(t, p, zero_division=0),
    "f1": lambda t, p: f1_score(t, p, zero_division=0),
    "balanced_accuracy": balanced_accuracy_score,
}
"""Every rate of :data:`RATES` as scikit-learn computes it on one group's rows."""


def _data(seed: int, sizes: list[int]) -> dict[str, NDArray]:
    """Rows of ``len(sizes)`` groups (size 0: an empty group) with truth, candidate and
    baseline labels; group 1's candidate predicts no positive at all."""
    rng = np.random.default_rng(seed)
    codes = np.repeat(np.arange(len(sizes)), sizes)
    rng.shuffle(codes)
    rows = len(codes)
    truth = rng.random(rows) < 0.2 + 0.15 * (codes % 3)
    candidate = np.where(rng.random(rows) < 0.75, truth, ~truth)
    candidate[codes == 1] = False
    baseline = np.where(rng.random(rows) < 0.65, truth, rng.random(rows) < 0.5)
    return {"codes": codes, "truth": truth, "candidate": candidate, "baseline": baseline}


SIZES = [400, 250, 0, 90, 1200]
EMPTY = 2


def test_rates_read_from_the_cells_match_scikit_learn_per_group_and_model():
    data = _data(SEED, SIZES)
    counts = cell_counts(
        data["codes"], len(SIZES), data["truth"], data["candidate"], data["baseline"]
    )
    assert counts.shape == (len(SIZES), CELLS)
    assert counts.sum(axis=1).tolist() == SIZES
    assert set(RATES) == set(SKLEARN)
    compared = 0
    for model, predicted in enumerate((data["candidate"], data["baseline"])):
        tp, fp, tn, fn = confusion_of(counts, model)
        for group, size in enumerate(SIZES):
            if not size:
                continue
            rows = data["codes"] == group
            truth, labels = data["truth"][rows].astype(int), predicted[rows].astype(int)
            assert (tp[group], fp[group], tn[group], fn[group]) == _confusion(truth, labels)
            for metric, reference in SKLEARN.items():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # recall of a group never predicted positive
                    expected = reference(truth, labels)
                got = rate_of(metric, counts, model)[group]
                assert got == pytest.approx(expected, abs=1e-12), (metric, model, group)
                compared += 1
    assert compared == 2 * 4 * len(SKLEARN)
    # group 1's candidate predicts no positive: precision and F1 are 0, as zero_division=0
    assert rate_of("precision", counts, 0)[1] == 0 and rate_of("f1", counts, 0)[1] == 0
    assert rate_of("selection_rate", counts, 0)[1] == 0


def test_an_empty_group_has_no_counts_and_undefined_rates():
    data = _data(SEED + 1, SIZES)
    counts = cell_counts(
        data["codes"], len(SIZES), data["truth"], data["candidate"], data["baseline"]
    )
    assert not counts[EMPTY].any()
    for model in (0, 1):
        for metric in ("selection_rate", "accuracy", "tpr", "fpr", "fnr", "tnr"):
            assert math.isnan(rate_of(metric, counts, model)[EMPTY]), metric
        # documented: precision and F1 are 0 where nothing is predicted positive
        assert rate_of("precision", counts, model)[EMPTY] == 0
        assert rate_of("f1", counts, model)[EMPTY] == 0


def test_cells_count_truth_candidate_and_baseline_separately():
    """Each row lands in cell ``truth * 4 + candidate * 2 + baseline`` of its group."""
    codes = np.array([0, 0, 1, 1, 1, 2])
    truth = np.array([1, 0, 1, 1, 0, 1], dtype=bool)
    candidate = np.array([1, 1, 0, 1, 0, 0], dtype=bool)
    baseline = np.array([0, 1, 0, 1, 1, 1], dtype=bool)
    counts = cell_counts(codes, 4, truth, candidate, baseline)
    expected = np.zeros((4, CELLS))
    expected[0, [6, 3]] = 1
    expected[1, [4, 7, 1]] = 1
    expected[2, 5] = 1
    np.testing.assert_array_equal(counts, expected)
    assert rate_of("tpr", counts, 0)[1] == 0.5 and rate_of("tpr", counts, 1)[1] == 0.5
    assert rate_of("fpr", counts, 0)[1] == 0.0 and rate_of("fpr", counts, 1)[1] == 1.0


# -- the bootstrap within groups -------------------------------------------------------


def _counts(seed: int = SEED) -> NDArray[np.float64]:
    data = _data(seed, SIZES)
    return cell_counts(
        data["codes"], len(SIZES), data["truth"], data["candidate"], data["baseline"]
    )


def test_every_resample_keeps_each_groups_size():
    counts = _counts()
    drawn = resample_cells(counts, 500, np.random.default_rng(1))
    assert drawn.shape == (500, len(SIZES), CELLS)
    np.testing.assert_array_equal(drawn.sum(axis=-1), np.broadcast_to(SIZES, (500, len(SIZES))))
    assert (drawn >= 0).all() and (drawn == np.round(drawn)).all()
    # a cell with no rows in the data gets none in any resample
    assert not drawn[:, counts == 0].any()
    # ... and the resamples do vary
    assert drawn[:, 0].std(axis=0).max() > 1


def test_resampled_counts_center_on_the_data_with_multinomial_spread():
    counts = _counts()
    resamples = 4000
    drawn = resample_cells(counts, resamples, np.random.default_rng(2))
    sizes = counts.sum(axis=-1, keepdims=True)
    shares = np.divide(counts, sizes, out=np.zeros_like(counts), where=sizes > 0)
    variance = sizes * shares * (1 - shares)
    # the mean of 4000 resamples is within 5 standard errors of the data's counts
    tolerance = 5 * np.sqrt(variance / resamples) + 1e-9
    assert (np.abs(drawn.mean(axis=0) - counts) <= tolerance).all()
    # and the spread is a multinomial's: n p (1 - p) per cell, within 10%
    spread = drawn.var(axis=0)
    sizable = variance > 5
    assert sizable.sum() > 20
    np.testing.assert_allclose(spread[sizable], variance[sizable], rtol=0.1)


def test_an_empty_group_stays_empty_in_every_resample():
    counts = _counts()
    drawn = resample_cells(counts, 300, np.random.default_rng(3))
    assert not drawn[:, EMPTY].any()
    with np.errstate(invalid="ignore", divide="ignore"):
        assert np.isnan(rate_of("tpr", drawn, 0)[:, EMPTY]).all()


def test_resampling_is_reproducible_for_a_seed():
    counts = _counts()
    first = resample_cells(counts, 200, np.random.default_rng(7))
    again = resample_cells(counts, 200, np.random.default_rng(7))
    other = resample_cells(counts, 200, np.random.default_rng(8))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_stratified_weights_keep_each_groups_size_in_every_resample():
    rng = np.random.default_rng(SEED)
    sizes = [37, 0, 400, 5, 1]
    codes = np.repeat(np.arange(len(sizes)), sizes)
    rng.shuffle(codes)
    members = [np.flatnonzero(codes == g) for g in range(len(sizes))]
    count = 250
    weights = stratified_weights(members, len(codes), count, np.random.default_rng(4))
    assert weights.shape == (count, len(codes))
    assert (weights >= 0).all() and (weights == np.round(weights)).all()
    for positions, size in zip(members, sizes, strict=True):
        np.testing.assert_array_equal(weights[:, positions].sum(axis=1), np.full(count, size))
    # rows are drawn within their group: the weights of a group's rows vary
    assert weights[:, members[2]].std() > 0.5
    # a one-row group is that row, once, in every resample
    np.testing.assert_array_equal(weights[:, members[4]], np.ones((count, 1)))
    again = stratified_weights(members, len(codes), count, np.random.default_rng(4))
    np.testing.assert_array_equal(weights, again)


# -- gaps between groups ---------------------------------------------------------------


def _pairwise(values: NDArray[np.float64], kind: str) -> NDArray[np.float64]:
    """Each group's worst gap to every other judged group, by brute force."""
    out = np.full(values.shape, np.nan)
    for index in np.ndindex(values.shape[:-1]):
        row = values[index]
        for g, own in enumerate(row):
            if math.isnan(own):
                continue
            others = [v for v in row if not math.isnan(v)]
            if kind == "difference":
                out[(*index, g)] = max(abs(own - v) for v in others)
            else:
                out[(*index, g)] = min(
                    1.0 if own == v else min(own, v) / max(own, v) for v in others
                )
    return out


@pytest.mark.parametrize("groups", [2, 3, 7])
def test_difference_gaps_are_each_groups_largest_distance(groups: int):
    rng = np.random.default_rng(SEED + groups)
    values = rng.random((50, groups))
    values[rng.random(values.shape) < 0.15] = np.nan
    gaps = group_gaps(values, "difference")
    np.testing.assert_allclose(gaps, _pairwise(values, "difference"), atol=1e-12)
    np.testing.assert_array_equal(np.isnan(gaps), np.isnan(values))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # rows where every group is NaN
        spread = np.nanmax(values, axis=1) - np.nanmin(values, axis=1)
        worst = np.nanmax(gaps, axis=1)
    judged = (~np.isnan(values)).sum(axis=1) > 0
    np.testing.assert_allclose(worst[judged], spread[judged], atol=1e-12)


@pytest.mark.parametrize("groups", [2, 3, 7])
def test_ratio_gaps_are_each_groups_smallest_ratio(groups: int):
    rng = np.random.default_rng(SEED - groups)
    values = rng.random((50, groups)) * 0.9 + 0.05
    values[rng.random(values.shape) < 0.15] = np.nan
    gaps = group_gaps(values, "ratio")
    np.testing.assert_allclose(gaps, _pairwise(values, "ratio"), atol=1e-12)
    np.testing.assert_array_equal(np.isnan(gaps), np.isnan(values))
    assert (gaps[~np.isnan(gaps)] <= 1).all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.nanmin(values, axis=1) / np.nanmax(values, axis=1)
        worst = np.nanmin(gaps, axis=1)
    judged = (~np.isnan(values)).sum(axis=1) > 0
    np.testing.assert_allclose(worst[judged], expected[judged], atol=1e-12)


def test_nan_groups_take_no_part_in_the_gaps():
    values = np.array([0.2, np.nan, 0.5, 0.4])
    np.testing.assert_allclose(
        group_gaps(values, "difference"), [0.3, np.nan, 0.3, 0.2], equal_nan=True
    )
    np.testing.assert_allclose(group_gaps(values, "ratio"), [0.4, np.nan, 0.4, 0.5], equal_nan=True)
    # a NaN group is ignored even where it would be the extreme
    assert np.nanmax(group_gaps(np.array([np.nan, 0.5, 0.6]), "difference")) == pytest.approx(0.1)
    # one judged group: no gap to anyone but itself
    np.testing.assert_array_equal(group_gaps(np.array([np.nan, 0.3]), "difference"), [np.nan, 0])
    np.testing.assert_array_equal(group_gaps(np.array([np.nan, 0.3]), "ratio"), [np.nan, 1])
    # nothing judged: nothing but NaN
    assert np.isnan(group_gaps(np.full(3, np.nan), "ratio")).all()
    assert np.isnan(group_gaps(np.full(3, np.nan), "difference")).all()


@pytest.mark.parametrize("value", [0.0, 0.37, 1.0])
def test_equal_values_have_ratio_one_and_difference_zero(value: float):
    values = np.full((4, 3), value)
    np.testing.assert_array_equal(group_gaps(values, "ratio"), np.ones((4, 3)))
    np.testing.assert_array_equal(group_gaps(values, "difference"), np.zeros((4, 3)))
    np.testing.assert_array_equal(overall_gaps(values, np.full(4, value), "ratio"), 1.0)
    np.testing.assert_array_equal(overall_gaps(values, np.full(4, value), "difference"), 0.0)


def test_a_zero_rate_beside_a_positive_one_has_ratio_zero():
    np.testing.assert_array_equal(group_gaps(np.array([0.0, 0.5, 0.0]), "ratio"), [0, 0, 0])
    np.testing.assert_array_equal(
        overall_gaps(np.array([0.0, 0.5]), np.array(0.25), "ratio"), [0, 0.5]
    )


def test_overall_gaps_against_a_reference_per_leading_index():
    rng = np.random.default_rng(SEED)
    values = rng.random((30, 5)) * 0.9 + 0.05
    values[rng.random(values.shape) < 0.2] = np.nan
    overall = rng.random(30) * 0.9 + 0.05
    difference = overall_gaps(values, overall, "difference")
    ratio = overall_gaps(values, overall, "ratio")
    np.testing.assert_allclose(difference, np.abs(values - overall[:, None]), equal_nan=True)
    expected = np.minimum(values / overall[:, None], overall[:, None] / values)
    np.testing.assert_allclose(ratio, expected, equal_nan=True)
    np.testing.assert_array_equal(np.isnan(difference), np.isnan(values))
    np.testing.assert_array_equal(np.isnan(ratio), np.isnan(values))


# -- the worst group is fairlearn's disparity -------------------------------------------


def _fairlearn_data(seed: int, groups: int) -> dict[str, NDArray]:
    """Rows of ``groups`` groups of uneven sizes and base rates, each with positives and
    negatives, labelled by two models of different quality."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(40, 400, groups)
    codes = np.repeat(np.arange(groups), sizes)
    rng.shuffle(codes)
    rows = len(codes)
    base = rng.uniform(0.15, 0.7, groups)[codes]
    truth = rng.random(rows) < base
    truth[np.unique(codes, return_index=True)[1]] = True  # every group has a positive
    truth[[np.flatnonzero(codes == g)[1] for g in range(groups)]] = False  # and a negative
    bias = rng.uniform(-0.2, 0.2, groups)[codes]
    candidate = rng.random(rows) < np.where(truth, 0.75 + bias / 2, 0.2 + bias / 2)
    baseline = rng.random(rows) < np.where(truth, 0.6, 0.3)
    names = np.array([f"g{g:02d}" for g in range(groups)])
    return {
        "codes": codes,
        "names": names[codes],
        "truth": truth,
        "candidate": candidate,
        "baseline": baseline,
    }


FAIRLEARN_RATES = {
    "demographic_parity": ("selection_rate",),
    "equalized_odds": ("tpr", "fpr"),
}


def _ours(cells: NDArray, model: int, rates: tuple[str, ...], kind: str, method: str) -> float:
    worst = []
    for rate in rates:
        values = rate_of(rate, cells, model)
        if method == "between_groups":
            gaps = group_gaps(values, kind)
        else:
            gaps = overall_gaps(values, rate_of(rate, cells.sum(axis=0), model), kind)
        worst.append(np.nanmax(gaps) if kind == "difference" else np.nanmin(gaps))
    return float(max(worst) if kind == "difference" else min(worst))


@pytest.mark.parametrize(("seed", "groups"), list(itertools.product([1, 2, 3], [2, 3, 6])))
def test_the_worst_groups_gap_is_fairlearns_disparity(seed: int, groups: int):
    from fairlearn import metrics as fairlearn

    data = _fairlearn_data(seed, groups)
    cells = cell_counts(data["codes"], groups, data["truth"], data["candidate"], data["baseline"])
    truth = data["truth"].astype(int)
    checked = 0
    for model, predicted in enumerate((data["candidate"], data["baseline"])):
        labels = predicted.astype(int)
        for (name, rates), kind, method in itertools.product(
            FAIRLEARN_RATES.items(), ("difference", "ratio"), ("between_groups", "to_overall")
        ):
            function = getattr(fairlearn, f"{name}_{kind}")
            expected = function(truth, labels, sensitive_features=data["names"], method=method)
            got = _ours(cells, model, rates, kind, method)
            assert got == pytest.approx(expected, abs=1e-12), (name, kind, method, model)
            checked += 1
    assert checked == 2 * 2 * 2 * 2
