"""Weighted model metrics (:mod:`mlgates.stats.scoring`) held to scikit-learn.

Every scorer is checked on models trained here on scikit-learn's bundled data
sets (breast cancer, wine, iris, diabetes), under a weight matrix whose first
row is all ones (compared with scikit-learn unweighted) and whose other rows
are integer weights (compared with scikit-learn's ``sample_weight=``, and with
scikit-learn on the rows repeated that many times: a bootstrap resample).
Tied scores come from a decision tree and from rounded probabilities; a
class never predicted comes from a decision stump on three classes. Metrics
scikit-learn does not have (ECE, expected cost) are checked against plain
loops written here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from numpy.typing import NDArray
from sklearn import metrics
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from mlgates.stats import scoring
from mlgates.stats.scoring import Classified, Regressed

RTOL = 1e-9
ATOL = 1e-12
SEED = 20240611


# --------------------------------------------------------------------------- data and models


@dataclass(frozen=True)
class Case:
    """A fitted model's predictions on held-out rows, and the weight rows to score them under."""

    name: str
    data: Classified
    weights: NDArray[np.float64]


def _split(features: NDArray, target: NDArray, seed: int = 0) -> tuple[NDArray, ...]:
    return train_test_split(features, target, test_size=0.5, random_state=seed, stratify=target)


def _weights(rows: int, seed: int) -> NDArray[np.float64]:
    """A row of ones, then four rows of integer weights 0..3 (zeros included)."""
    rng = np.random.default_rng(seed)
    return np.vstack([np.ones(rows), rng.integers(0, 4, size=(4, rows))]).astype(np.float64)


def _classified(model, features: NDArray, truth: NDArray, positive: int = 1) -> Classified:
    proba = model.predict_proba(features)
    classes = proba.shape[1]
    return Classified(
        truth=np.asarray(truth, dtype=np.intp),
        predicted=np.asarray(model.predict(features), dtype=np.intp),
        proba=proba,
        classes=classes,
        positive=positive,
    )


@pytest.fixture(scope="module")
def binary_cases() -> dict[str, Case]:
    """Breast cancer: a logistic model, a depth-3 tree (tied scores), rounded probabilities
    (tied scores), and the logistic model with the malignant class (code 0) as positive."""
    features, target = load_breast_cancer(return_X_y=True)
    train_x, test_x, train_y, test_y = _split(features, target)
    logistic = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    logistic.fit(train_x, train_y)
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(train_x, train_y)
    fitted = _classified(logistic, test_x, test_y)
    rounded_positive = np.round(fitted.proba[:, 1], 1)
    rounded = Classified(
        fitted.truth,
        (rounded_positive >= 0.5).astype(np.intp),
        np.column_stack([1 - rounded_positive, rounded_positive]),
        2,
    )
    weights = _weights(len(test_y), SEED)
    return {
        "logistic": Case("logistic", fitted, weights),
        "tree": Case("tree", _classified(tree, test_x, test_y), weights),
        "rounded": Case("rounded", rounded, weights),
        "malignant-positive": Case(
            "malignant-positive", _classified(logistic, test_x, test_y, positive=0), weights
        ),
    }


@pytest.fixture(scope="module")
def multiclass_cases() -> dict[str, Case]:
    """Wine: logistic, and naive Bayes on two features (many errors); iris: a depth-2 tree
    (tied scores) and a stump, which has two leaves for three classes."""
    wine_x, wine_y = load_wine(return_X_y=True)
    train_x, test_x, train_y, test_y = _split(wine_x, wine_y, seed=1)
    logistic = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    logistic.fit(train_x, train_y)
    bayes = GaussianNB().fit(train_x[:, [0, 1]], train_y)
    iris_x, iris_y = load_iris(return_X_y=True)
    itrain_x, itest_x, itrain_y, itest_y = _split(iris_x, iris_y, seed=2)
    tree = DecisionTreeClassifier(max_depth=2, random_state=0).fit(itrain_x, itrain_y)
    stump = DecisionTreeClassifier(max_depth=1, random_state=0).fit(itrain_x, itrain_y)
    wine_weights = _weights(len(test_y), SEED + 1)
    iris_weights = _weights(len(itest_y), SEED + 2)
    return {
        "wine-logistic": Case("wine-logistic", _classified(logistic, test_x, test_y), wine_weights),
        "wine-bayes": Case(
            "wine-bayes", _classified(bayes, test_x[:, [0, 1]], test_y), wine_weights
        ),
        "iris-tree": Case("iris-tree", _classified(tree, itest_x, itest_y), iris_weights),
        "iris-stump": Case("iris-stump", _classified(stump, itest_x, itest_y), iris_weights),
    }


@pytest.fixture(scope="module")
def regression_cases() -> dict[str, tuple[Regressed, NDArray[np.float64]]]:
    """Diabetes: a linear model and a depth-3 tree (tied predictions)."""
    features, target = load_diabetes(return_X_y=True)
    train_x, test_x, train_y, test_y = train_test_split(
        features, target, test_size=0.5, random_state=0
    )
    weights = _weights(len(test_y), SEED + 3)
    linear = LinearRegression().fit(train_x, train_y)
    tree = DecisionTreeRegressor(max_depth=3, random_state=0).fit(train_x, train_y)
    return {
        "linear": (Regressed(test_y, linear.predict(test_x)), weights),
        "tree": (Regressed(test_y, tree.predict(test_x)), weights),
    }


BINARY = ("logistic", "tree", "rounded", "malignant-positive")
MULTICLASS = ("wine-logistic", "wine-bayes", "iris-tree", "iris-stump")


def _reference(
    weights: NDArray[np.float64], metric: Callable[[NDArray | None], float]
) -> NDArray[np.float64]:
    """scikit-learn's value for each weight row: unweighted for the first (all ones) row,
    ``sample_weight=row`` for the others."""
    assert np.all(weights[0] == 1)
    return np.array([metric(None)] + [metric(row) for row in weights[1:]])


def _assert_rows(got: NDArray[np.float64], expected: NDArray[np.float64]) -> None:
    assert got.shape == expected.shape
    assert np.all(np.isfinite(expected))
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


def _assert_integer_weights_matter(expected: NDArray[np.float64]) -> None:
    """The weighted rows must differ from the unweighted one, or the comparison proves little."""
    assert not np.allclose(expected[1:], expected[0], rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- label metrics


@pytest.mark.parametrize("name", BINARY)
def test_binary_label_metrics_match_sklearn(binary_cases: dict[str, Case], name: str) -> None:
    case = binary_cases[name]
    data, weights = case.data, case.weights
    truth, predicted = data.truth, data.predicted

    expected = _reference(
        weights, lambda w: metrics.accuracy_score(truth, predicted, sample_weight=w)
    )
    _assert_rows(scoring.accuracy(data)(weights), expected)
    _assert_integer_weights_matter(expected)

    expected = _reference(
        weights, lambda w: metrics.balanced_accuracy_score(truth, predicted, sample_weight=w)
    )
    _assert_rows(scoring.balanced_accuracy(data)(weights), expected)

    functions = {
        "precision": metrics.precision_score,
        "recall": metrics.recall_score,
        "f1": metrics.f1_score,
    }
    for kind, function in functions.items():
        for average in ("binary", "macro", "weighted"):
            expected = _reference(
                weights,
                lambda w, f=function, a=average: f(
                    truth,
                    predicted,
                    average=a,
                    pos_label=data.positive if a == "binary" else 1,
                    sample_weight=w,
                    zero_division=0,
                ),
            )
            _assert_rows(scoring.class_metric(data, kind, average)(weights), expected)


@pytest.mark.parametrize("name", MULTICLASS)
def test_multiclass_label_metrics_match_sklearn(
    multiclass_cases: dict[str, Case], name: str
) -> None:
    case = multiclass_cases[name]
    data, weights = case.data, case.weights
    truth, predicted = data.truth, data.predicted
    assert data.classes == 3

    expected = _reference(
        weights, lambda w: metrics.accuracy_score(truth, predicted, sample_weight=w)
    )
    _assert_rows(scoring.accuracy(data)(weights), expected)
    expected = _reference(
        weights, lambda w: metrics.balanced_accuracy_score(truth, predicted, sample_weight=w)
    )
    _assert_rows(scoring.balanced_accuracy(data)(weights), expected)

    functions = {
        "precision": metrics.precision_score,
        "recall": metrics.recall_score,
        "f1": metrics.f1_score,
    }
    for kind, function in functions.items():
        for average in ("macro", "weighted"):
            expected = _reference(
                weights,
                lambda w, f=function, a=average: f(
                    truth, predicted, average=a, sample_weight=w, zero_division=0
                ),
            )
            _assert_rows(scoring.class_metric(data, kind, average)(weights), expected)


def test_class_never_predicted(multiclass_cases: dict[str, Case]) -> None:
    """A stump on iris has two leaves: one class is never predicted. Its precision counts
    as 0 (``zero_division=0``) and it still enters the macro mean."""
    case = multiclass_cases["iris-stump"]
    data, weights = case.data, case.weights
    never = sorted(set(range(3)) - set(data.predicted.tolist()))
    assert len(never) == 1, "premise: the stump never predicts one of the three classes"
    assert never[0] in set(data.truth.tolist())
    for kind, function in (
        ("precision", metrics.precision_score),
        ("recall", metrics.recall_score),
        ("f1", metrics.f1_score),
    ):
        expected = _reference(
            weights,
            lambda w, f=function: f(
                data.truth, data.predicted, average="macro", sample_weight=w, zero_division=0
            ),
        )
        _assert_rows(scoring.class_metric(data, kind, "macro")(weights), expected)
    # The per-class value of the class never predicted is 0, so the macro precision is
    # the mean of the other two classes' precisions times 2/3.
    per_class = metrics.precision_score(data.truth, data.predicted, average=None, zero_division=0)
    assert per_class[never[0]] == 0
    macro = scoring.class_metric(data, "precision", "macro")(weights[:1])[0]
    assert macro == pytest.approx(per_class.sum() / 3, rel=RTOL)


def test_class_predicted_but_absent_from_truth(multiclass_cases: dict[str, Case]) -> None:
    """Rows of two wine cultivars only, scored by a model that also predicts the third:
    that class has recall 0 (nothing to recall) and enters the macro mean."""
    case = multiclass_cases["wine-bayes"]
    rows = np.flatnonzero(case.data.truth != 2)
    data = case.data.subset(rows)
    weights = case.weights[:, rows]
    assert 2 not in set(data.truth.tolist())
    assert 2 in set(data.predicted.tolist()), "premise: the weak model predicts class 2 here"
    for kind, function in (
        ("precision", metrics.precision_score),
        ("recall", metrics.recall_score),
        ("f1", metrics.f1_score),
    ):
        for average in ("macro", "weighted"):
            expected = _reference(
                weights,
                lambda w, f=function, a=average: f(
                    data.truth, data.predicted, average=a, sample_weight=w, zero_division=0
                ),
            )
            _assert_rows(scoring.class_metric(data, kind, average)(weights), expected)
    # scikit-learn leaves out the class with no true rows, and says so
    with pytest.warns(UserWarning, match="not in y_true"):
        expected = _reference(
            weights,
            lambda w: metrics.balanced_accuracy_score(data.truth, data.predicted, sample_weight=w),
        )
    _assert_rows(scoring.balanced_accuracy(data)(weights), expected)


@pytest.mark.parametrize("name", BINARY[:2] + MULTICLASS)
def test_confusion_matches_sklearn(
    binary_cases: dict[str, Case], multiclass_cases: dict[str, Case], name: str
) -> None:
    case = {**binary_cases, **multiclass_cases}[name]
    data, weights = case.data, case.weights
    got = scoring.confusion(data)(weights)
    assert got.shape == (len(weights), data.classes, data.classes)
    for row, table in zip(weights, got, strict=True):
        expected = metrics.confusion_matrix(
            data.truth, data.predicted, labels=range(data.classes), sample_weight=row
        )
        np.testing.assert_allclose(table, expected, rtol=0, atol=1e-9)


# --------------------------------------------------------------------------- score metrics


@pytest.mark.parametrize("name", BINARY)
def test_binary_ranking_metrics_match_sklearn(binary_cases: dict[str, Case], name: str) -> None:
    case = binary_cases[name]
    data, weights = case.data, case.weights
    positive = data.truth == data.positive
    score = data.proba[:, data.positive]
    if name in ("tree", "rounded"):
        assert len(np.unique(score)) < len(score) / 5, "premise: many tied scores"

    expected = _reference(
        weights, lambda w: metrics.roc_auc_score(positive, score, sample_weight=w)
    )
    _assert_rows(scoring.roc_auc(data)(weights), expected)
    _assert_integer_weights_matter(expected)

    expected = _reference(
        weights, lambda w: metrics.average_precision_score(positive, score, sample_weight=w)
    )
    _assert_rows(scoring.pr_auc(data)(weights), expected)


@pytest.mark.parametrize("name", MULTICLASS)
def test_multiclass_ranking_metrics_match_sklearn(
    multiclass_cases: dict[str, Case], name: str
) -> None:
    case = multiclass_cases[name]
    data, weights = case.data, case.weights
    expected = _reference(
        weights,
        lambda w: metrics.roc_auc_score(
            data.truth, data.proba, multi_class="ovr", average="macro", sample_weight=w
        ),
    )
    _assert_rows(scoring.roc_auc(data)(weights), expected)
    expected = _reference(
        weights,
        lambda w: metrics.average_precision_score(
            data.truth, data.proba, average="macro", sample_weight=w
        ),
    )
    _assert_rows(scoring.pr_auc(data)(weights), expected)


@pytest.mark.parametrize("name", BINARY + MULTICLASS)
def test_probability_losses_match_sklearn(
    binary_cases: dict[str, Case], multiclass_cases: dict[str, Case], name: str
) -> None:
    case = {**binary_cases, **multiclass_cases}[name]
    data, weights = case.data, case.weights
    labels = list(range(data.classes))

    expected = _reference(
        weights,
        lambda w: metrics.log_loss(data.truth, data.proba, labels=labels, sample_weight=w),
    )
    _assert_rows(scoring.log_loss(data)(weights), expected)

    if data.classes == 2:
        expected = _reference(
            weights,
            lambda w: metrics.brier_score_loss(
                data.truth == data.positive, data.proba[:, data.positive], sample_weight=w
            ),
        )
    else:
        pytest.importorskip("sklearn", minversion="1.7")  # multiclass Brier score
        expected = _reference(
            weights,
            lambda w: metrics.brier_score_loss(
                data.truth, data.proba, labels=labels, sample_weight=w, scale_by_half=False
            ),
        )
    _assert_rows(scoring.brier(data)(weights), expected)


def test_log_loss_clips_a_zero_probability(binary_cases: dict[str, Case]) -> None:
    """A pure tree leaf gives probability 0 to the true class of some rows: the loss is
    clipped at machine epsilon, as scikit-learn clips it, rather than infinite."""
    data = binary_cases["tree"].data
    true_class = data.proba[np.arange(data.rows), data.truth]
    assert np.any(true_class == 0), "premise: a confidently wrong leaf"
    got = scoring.log_loss(data)(np.ones((1, data.rows)))[0]
    assert np.isfinite(got)
    assert got == pytest.approx(metrics.log_loss(data.truth, data.proba), rel=RTOL)


def test_metrics_needing_probabilities_refuse_labels_only(binary_cases: dict[str, Case]) -> None:
    data = binary_cases["logistic"].data
    labels_only = Classified(data.truth, data.predicted, None, 2)
    for metric in (scoring.roc_auc, scoring.pr_auc, scoring.log_loss, scoring.brier, scoring.ece):
        with pytest.raises(ValueError, match="labels only"):
            metric(labels_only)
    assert np.isfinite(scoring.accuracy(labels_only)(np.ones((1, data.rows)))).all()


# --------------------------------------------------------------------------- regression


@pytest.mark.parametrize("name", ["linear", "tree"])
def test_regression_metrics_match_sklearn(regression_cases, name: str) -> None:
    pytest.importorskip("sklearn", minversion="1.4")  # root_mean_squared_error
    data, weights = regression_cases[name]
    truth, predicted = data.truth, data.predicted
    references = {
        scoring.mae: metrics.mean_absolute_error,
        scoring.rmse: metrics.root_mean_squared_error,
        scoring.mape: metrics.mean_absolute_percentage_error,
        scoring.r2: metrics.r2_score,
    }
    for ours, theirs in references.items():
        expected = _reference(weights, lambda w, f=theirs: f(truth, predicted, sample_weight=w))
        _assert_rows(ours(data)(weights), expected)
        _assert_integer_weights_matter(expected)


def test_weighted_mean_is_numpy_average(regression_cases) -> None:
    data, weights = regression_cases["linear"]
    values = (data.truth - data.predicted) ** 2
    expected = np.array([np.average(values, weights=row) for row in weights])
    _assert_rows(scoring.weighted_mean(values)(weights), expected)


def test_r2_does_not_depend_on_where_the_targets_sit() -> None:
    """R^2 is unchanged when targets and predictions move together; here diabetes targets
    (mean ~150, sd ~77) are moved by 1e9, a Unix timestamp's magnitude."""
    features, target = load_diabetes(return_X_y=True)
    predicted = LinearRegression().fit(features, target).predict(features)
    weights = _weights(len(target), SEED + 4)
    at_home = scoring.r2(Regressed(target, predicted))(weights)
    moved = scoring.r2(Regressed(target + 1e9, predicted + 1e9))(weights)
    np.testing.assert_allclose(moved, at_home, rtol=1e-6)


# --------------------------------------------------------------------------- weighting contract


def _repeat(data: Classified, counts: NDArray[np.float64]) -> Classified:
    rows = np.repeat(np.arange(data.rows), counts.astype(np.intp))
    return data.subset(rows)


@pytest.mark.parametrize("name", ["tree", "wine-bayes"])
def test_integer_weights_equal_repeated_rows(
    binary_cases: dict[str, Case], multiclass_cases: dict[str, Case], name: str
) -> None:
    """A weight row of counts scores like the data with each row repeated that many times
    (a bootstrap resample), scored unweighted."""
    case = {**binary_cases, **multiclass_cases}[name]
    data, weights = case.data, case.weights
    scorers = {
        "accuracy": scoring.accuracy,
        "balanced_accuracy": scoring.balanced_accuracy,
        "f1_weighted": lambda d: scoring.class_metric(d, "f1", "weighted"),
        "roc_auc": scoring.roc_auc,
        "pr_auc": scoring.pr_auc,
        "log_loss": scoring.log_loss,
        "brier": scoring.brier,
        "ece": scoring.ece,
    }
    for label, make in scorers.items():
        weighted = make(data)(weights)
        for row, value in zip(weights, weighted, strict=True):
            repeated = _repeat(data, row)
            assert set(repeated.truth.tolist()) == set(data.truth.tolist())
            alone = make(repeated)(np.ones((1, repeated.rows)))[0]
            assert value == pytest.approx(alone, rel=1e-9, abs=1e-12), label


def test_float32_weights_agree_with_float64(binary_cases: dict[str, Case], regression_cases):
    """Bootstrap weights are float32; the scores must agree with float64 weights closely."""
    case = binary_cases["logistic"]
    data = case.data
    weights32 = case.weights.astype(np.float32)
    for make in (
        scoring.accuracy,
        scoring.balanced_accuracy,
        lambda d: scoring.class_metric(d, "f1", "macro"),
        scoring.roc_auc,
        scoring.pr_auc,
        scoring.log_loss,
        scoring.brier,
        scoring.ece,
    ):
        scorer = make(data)
        np.testing.assert_allclose(scorer(weights32), scorer(case.weights), rtol=1e-6)
        # the bootstrap's resamples are column-major; the layout changes only the rounding
        np.testing.assert_allclose(
            scorer(np.asfortranarray(weights32)), scorer(case.weights), rtol=1e-6
        )
    regressed, weights = regression_cases["linear"]
    for make in (scoring.mae, scoring.rmse, scoring.mape, scoring.r2):
        scorer = make(regressed)
        np.testing.assert_allclose(scorer(weights.astype(np.float32)), scorer(weights), rtol=1e-6)


def test_subset_scores_like_zero_weights_elsewhere(binary_cases: dict[str, Case]) -> None:
    case = binary_cases["logistic"]
    rows = np.flatnonzero(np.arange(case.data.rows) % 3 == 0)
    mask = np.zeros(case.data.rows)
    mask[rows] = 1
    for make in (scoring.accuracy, scoring.log_loss, scoring.roc_auc, scoring.brier):
        on_subset = make(case.data.subset(rows))(case.weights[:, rows])
        masked = make(case.data)(case.weights * mask)
        np.testing.assert_allclose(on_subset, masked, rtol=1e-12)


def test_zero_weight_row_scores_nan(binary_cases: dict[str, Case]) -> None:
    data = binary_cases["logistic"].data
    weights = np.vstack([np.ones(data.rows), np.zeros(data.rows)])
    for make in (scoring.accuracy, scoring.log_loss, scoring.roc_auc, scoring.ece):
        values = make(data)(weights)
        assert np.isfinite(values[0])
        assert np.isnan(values[1])


# --------------------------------------------------------------------------- ECE and expected cost


def _ece_by_hand(
    proba: NDArray[np.float64], truth: NDArray[np.intp], weight: NDArray[np.float64], bins: int
) -> float:
    """Bins ``(i/bins, (i+1)/bins]`` of the top-class confidence; the weighted share of rows
    in each bin times the gap between its accuracy and its mean confidence."""
    total_weight = float(weight.sum())
    total = 0.0
    for index in range(bins):
        low, high = index / bins, (index + 1) / bins
        members_weight = 0.0
        right = 0.0
        confident = 0.0
        for p, t, w in zip(proba, truth, weight, strict=True):
            confidence = float(max(p))
            inside = low < confidence <= high or (index == 0 and confidence <= low)
            if inside:
                members_weight += w
                right += w * (int(np.argmax(p)) == t)
                confident += w * confidence
        if members_weight > 0:
            gap = abs(right / members_weight - confident / members_weight)
            total += members_weight / total_weight * gap
    return total


@pytest.mark.parametrize("name", ["logistic", "tree", "rounded", "wine-bayes", "iris-tree"])
@pytest.mark.parametrize("bins", [scoring.ECE_BINS, 10])
def test_ece_matches_a_plain_loop(
    binary_cases: dict[str, Case], multiclass_cases: dict[str, Case], name: str, bins: int
) -> None:
    case = {**binary_cases, **multiclass_cases}[name]
    data, weights = case.data, case.weights
    got = scoring.ece(data, bins=bins)(weights)
    expected = np.array([_ece_by_hand(data.proba, data.truth, row, bins) for row in weights])
    assert np.all(expected > 0)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_ece_bins_are_closed_on_the_right() -> None:
    """A confidence on a bin edge belongs to the bin below: 0.8 is in (0.7, 0.8], not in
    (0.8, 0.9] with 0.85. Right answers at 0.8 and wrong ones at 0.85 then do not offset."""
    proba = np.array([[0.2, 0.8]] * 4 + [[0.15, 0.85]] * 2)
    truth = np.array([1, 1, 1, 1, 0, 0], dtype=np.intp)
    data = Classified(truth, np.ones(6, dtype=np.intp), proba, 2)
    expected = _ece_by_hand(proba, truth, np.ones(6), 10)
    assert expected == pytest.approx((4 * 0.2 + 2 * 0.85) / 6)
    assert scoring.ece(data, bins=10)(np.ones((1, 6)))[0] == pytest.approx(expected, rel=1e-12)


def test_ece_uses_the_top_class_not_the_predicted_label(binary_cases: dict[str, Case]) -> None:
    """A classifier thresholded at 0.2 predicts labels other than its most probable class;
    ECE is about the top-class confidence, so it is unchanged."""
    data = binary_cases["logistic"].data
    thresholded = Classified(data.truth, (data.proba[:, 1] >= 0.2).astype(np.intp), data.proba, 2)
    assert np.any(thresholded.predicted != data.proba.argmax(axis=1))
    weights = binary_cases["logistic"].weights
    expected = [_ece_by_hand(data.proba, data.truth, row, scoring.ECE_BINS) for row in weights]
    np.testing.assert_allclose(scoring.ece(thresholded)(weights), expected, rtol=1e-9)


def test_ece_of_a_calibrated_constant_forecast_is_zero() -> None:
    """Confidence 0.7 on every row and exactly 70% right: no calibration error."""
    truth = np.array([1] * 7 + [0] * 3, dtype=np.intp)
    proba = np.tile([0.3, 0.7], (10, 1))
    data = Classified(truth, np.ones(10, dtype=np.intp), proba, 2)
    assert scoring.ece(data)(np.ones((1, 10)))[0] == pytest.approx(0, abs=1e-12)


@pytest.mark.parametrize(
    "costs",
    [
        {"tp": -2.0, "fp": 5.0, "tn": 0.5, "fn": 20.0},
        {"fp": 1.0, "fn": 10.0},  # missing cells cost nothing
    ],
)
@pytest.mark.parametrize("name", ["logistic", "malignant-positive"])
def test_expected_cost_matches_a_hand_count(
    binary_cases: dict[str, Case], costs: dict[str, float], name: str
) -> None:
    case = binary_cases[name]
    data, weights = case.data, case.weights
    expected = []
    for row in weights:
        total = 0.0
        for truth, predicted, weight in zip(data.truth, data.predicted, row, strict=True):
            actual, called = truth == data.positive, predicted == data.positive
            cell = ("t" if actual == called else "f") + ("p" if called else "n")
            total += weight * costs.get(cell, 0.0)
        expected.append(total / row.sum())
    # the hand count must cover every cell, or the check is vacuous for some of them
    tn, fp, fn, tp = metrics.confusion_matrix(
        data.truth == data.positive, data.predicted == data.positive
    ).ravel()
    assert min(tn, fp, fn, tp) > 0
    _assert_rows(scoring.expected_cost(data, costs)(weights), np.array(expected))


# --------------------------------------------------------------------------- binned AUC


@pytest.mark.parametrize("max_groups", [2, 3, 5, 10, 20, 50, 100])
def test_binned_auc_stays_within_one_over_max_groups(
    binary_cases: dict[str, Case], multiclass_cases: dict[str, Case], max_groups: int
) -> None:
    """Quantile bins count ties within a bin as half: at most 1/max_groups off the exact AUC.
    Checked on the models here and on 20,000 binormal rows with 10% positives."""
    rng = np.random.default_rng(SEED + 5)
    positive = rng.random(20_000) < 0.1
    score = rng.normal(size=20_000) + 1.2 * positive
    large = Classified(
        positive.astype(np.intp),
        (score > 1).astype(np.intp),
        np.column_stack([1 - score, score]),  # only the ranking of column 1 matters here
        2,
    )
    large_weights = np.vstack([np.ones(20_000), rng.poisson(1.0, size=(2, 20_000))])
    cases = [
        (binary_cases["logistic"].data, binary_cases["logistic"].weights),
        (multiclass_cases["wine-logistic"].data, multiclass_cases["wine-logistic"].weights),
        (multiclass_cases["wine-bayes"].data, multiclass_cases["wine-bayes"].weights),
        (large, large_weights),
    ]
    for data, weights in cases:
        exact = scoring.roc_auc(data)(weights)
        binned = scoring.roc_auc(data, max_groups=max_groups)(weights)
        assert np.all(np.abs(binned - exact) <= 1 / max_groups)
        if max_groups <= 5:  # coarse bins do move the value: the bound is not vacuous
            assert np.all(np.abs(binned - exact) > 1e-3 / max_groups)


def test_binning_changes_nothing_with_few_distinct_scores(binary_cases: dict[str, Case]) -> None:
    """The tree has a handful of distinct scores: bins that many or more give the exact values."""
    case = binary_cases["tree"]
    distinct = len(np.unique(case.data.proba[:, 1]))
    for make in (scoring.roc_auc, scoring.pr_auc):
        exact = make(case.data)(case.weights)
        same = make(case.data, max_groups=distinct)(case.weights)
        np.testing.assert_array_equal(same, exact)
