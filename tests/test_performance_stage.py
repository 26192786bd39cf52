"""The performance gate end to end: real models trained here, judged on held-out rows.

Verdicts are tested over repeated random splits: a truly better candidate
passes a non-inferiority bound, a truly worse one fails and is named,
identical models pass, a tiny evaluation set is inconclusive, a degraded
slice is named; models load safely (skops trust, pinned pickles).
"""

from __future__ import annotations

import hashlib
import json
import operator
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_diabetes, load_digits, load_wine
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from mlgates import load_config, run_gates
from mlgates.core import ConfigError, Status

from conftest import write_config

SPLITS = range(4)


def _save(model, path: Path) -> Path:
    sio.dump(model, path)
    return path


def _project(
    directory: Path,
    evaluation: pd.DataFrame,
    candidate,
    baseline=None,
    *,
    checks: list[str],
    target: str = "label",
    extra: str = "",
    settings: str = "",
) -> Path:
    evaluation.to_parquet(directory / "eval.parquet", index=False)
    _save(candidate, directory / "candidate.skops")
    lines = [
        "[mlgates]",
        settings,
        "[performance]",
        'candidate = "candidate.skops"',
        'data = "eval.parquet"',
        f'target = "{target}"',
        f"checks = {json.dumps(checks)}",
        extra,
    ]
    if baseline is not None:
        _save(baseline, directory / "baseline.skops")
        lines.insert(4, 'baseline = "baseline.skops"')
    return write_config(directory, "\n".join(lines) + "\n")


def _results(path: Path, **kwargs):
    record = run_gates(load_config(path), **kwargs)
    return record, {check.id: check for check in record.checks}


def _nonlinear(seed: int, rows: int = 6000) -> pd.DataFrame:
    """A binary task a boosted tree learns far better than a linear model."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 4))
    signal = np.sin(2 * x[:, 0]) + x[:, 1] * x[:, 2] + 0.3 * x[:, 3]
    label = (signal + rng.normal(0, 0.5, rows) > 0).astype(int)
    return pd.DataFrame(x, columns=["a", "b", "c", "d"]).assign(label=label)


@pytest.mark.parametrize("seed", SPLITS)
def test_a_truly_better_candidate_passes_non_inferiority(tmp_path: Path, seed: int):
    frame = _nonlinear(seed)
    train, test = train_test_split(frame, test_size=0.5, random_state=seed)
    features = train.drop(columns="label")
    better = HistGradientBoostingClassifier(random_state=seed).fit(features, train["label"])
    linear = LogisticRegression().fit(features, train["label"])
    checks = ["roc_auc >= baseline - 0.01 @95%", "accuracy >= baseline - 0.01 @95%"]
    path = _project(tmp_path, test, better, linear, checks=checks)
    record, found = _results(path)
    assert record.passed, [c.message for c in record.checks if c.blocking]
    auc = found["performance::roc_auc~baseline"]
    assert auc.method == "paired DeLong"
    low, high = auc.interval
    assert low > 0 and low <= auc.value - auc.anchor_value <= high
    assert found["performance::accuracy~baseline"].method.startswith("McNemar")


@pytest.mark.parametrize("seed", SPLITS)
def test_a_truly_worse_candidate_fails_and_is_named(tmp_path: Path, seed: int):
    frame = _nonlinear(seed)
    train, test = train_test_split(frame, test_size=0.5, random_state=seed)
    features = train.drop(columns="label")
    good = HistGradientBoostingClassifier(random_state=seed).fit(features, train["label"])
    worse = LogisticRegression().fit(features, train["label"])
    checks = ["roc_auc >= baseline - 0.01 @95%", "f1 >= baseline - 2% @95%"]
    path = _project(tmp_path, test, worse, good, checks=checks)
    record, found = _results(path)
    assert record.blocked
    for check_id in ("performance::roc_auc~baseline", "performance::f1~baseline"):
        result = found[check_id]
        assert result.status is Status.FAIL, result.message
        assert result.metric in result.message and "baseline" in result.message
    assert found["performance::f1~baseline"].method == "paired bootstrap, 1000 resamples"


def test_identical_models_pass_non_inferiority_on_every_metric(tmp_path: Path):
    frame = _nonlinear(7, rows=3000)
    train, test = train_test_split(frame, test_size=0.5, random_state=7)
    model = LogisticRegression().fit(train.drop(columns="label"), train["label"])
    checks = [
        f"{metric} >= baseline - 0.01 @95%"
        for metric in ("roc_auc", "accuracy", "f1", "pr_auc", "balanced_accuracy")
    ] + ["log_loss <= baseline + 0.01 @95%", "brier <= baseline @95%", "ece <= baseline @95%"]
    path = _project(tmp_path, test, model, model, checks=checks)
    record, _ = _results(path)
    assert record.passed, [c.message for c in record.checks if c.status is not Status.PASS]
    assert all(
        c.interval == (0.0, 0.0) or c.interval[0] <= 0 <= c.interval[1] for c in record.checks
    )


@pytest.mark.parametrize("rows", [30, 99])
def test_a_tiny_evaluation_set_is_inconclusive_not_a_pass(tmp_path: Path, rows: int):
    frame = _nonlinear(3, rows=2000 + rows)
    train, test = frame.iloc[:2000], frame.iloc[2000:]
    features = train.drop(columns="label")
    good = HistGradientBoostingClassifier(random_state=0).fit(features, train["label"])
    linear = LogisticRegression().fit(features, train["label"])
    checks = ["roc_auc >= 0.5", "roc_auc >= baseline - 0.01 @95%", "accuracy >= 0.5"]
    path = _project(tmp_path, test, good, linear, checks=checks)
    record, found = _results(path)
    assert record.blocked
    for result in found.values():
        assert result.status is Status.INCONCLUSIVE
        assert f"{rows} rows, fewer than min_rows = 100" in result.message
    path.write_text(path.read_text() + "min_rows = 20\n")
    assert run_gates(load_config(path)).passed


def _regional(seed: int, rows: int = 8000) -> pd.DataFrame:
    """Labels follow ``a`` everywhere except in the north, where they follow ``b``."""
    rng = np.random.default_rng(seed)
    regions = rng.choice(["north", "south", "east", "west"], size=rows)
    a, b = rng.normal(size=rows), rng.normal(size=rows)
    signal = np.where(regions == "north", b, a)
    label = (signal + rng.normal(0, 0.6, rows) > 0).astype(int)
    return pd.DataFrame({"region": regions, "a": a, "b": b, "label": label})


def _regional_model(columns: list[str]):
    encode = ColumnTransformer(
        [("region", OneHotEncoder(), ["region"]), ("numbers", "passthrough", columns)]
    )
    return make_pipeline(encode, HistGradientBoostingClassifier(random_state=0))


@pytest.mark.parametrize("seed", SPLITS)
def test_a_degraded_slice_is_named_while_the_others_pass(tmp_path: Path, seed: int):
    frame = _regional(seed)
    train, test = train_test_split(frame, test_size=0.5, random_state=seed)
    features, label = train.drop(columns="label"), train["label"]
    baseline = _regional_model(["a", "b"]).fit(features, label)
    candidate = _regional_model(["a"]).fit(features, label)  # blind in the north
    path = _project(
        tmp_path,
        test,
        candidate,
        baseline,
        checks=["roc_auc >= baseline - 0.05 @95%"],
        extra='slices = ["region"]\nmin_slice_size = 200',
    )
    record, found = _results(path)
    assert record.blocked
    family = found["performance::roc_auc[*]~baseline"]
    assert family.status is Status.FAIL and "region=north" in family.message
    assert found["performance::roc_auc[region=north]~baseline"].status is Status.FAIL
    for region in ("south", "east", "west"):
        member = found[f"performance::roc_auc[region={region}]~baseline"]
        assert member.status is Status.PASS, member.message
        assert "per slice, so that 95% holds over 4 slices" in member.message


def test_a_slice_check_replaces_the_family_for_that_slice(tmp_path: Path):
    frame = _regional(11)
    train, test = train_test_split(frame, test_size=0.5, random_state=11)
    candidate = _regional_model(["a"]).fit(train.drop(columns="label"), train["label"])
    path = _project(
        tmp_path,
        test,
        candidate,
        checks=["roc_auc >= 0.8", "roc_auc[region=north] >= 0.4"],
        extra='slices = ["region"]',
    )
    record, found = _results(path)
    assert found["performance::roc_auc[region=north]"].threshold == "roc_auc[region=north] >= 0.4"
    assert found["performance::roc_auc[region=north]"].status is Status.PASS
    assert found["performance::roc_auc[region=south]"].status is Status.PASS
    assert record.passed


def test_a_slice_measured_before_and_missing_now_is_reported(tmp_path: Path):
    frame = _regional(5)
    train, test = train_test_split(frame, test_size=0.5, random_state=5)
    model = _regional_model(["a", "b"]).fit(train.drop(columns="label"), train["label"])
    path = _project(tmp_path, test, model, checks=["roc_auc >= 0.7"], extra='slices = ["region"]')
    first, _ = _results(path)
    assert first.passed
    test[test["region"] != "west"].to_parquet(tmp_path / "eval.parquet", index=False)
    record, found = _results(path, history=[first])
    gone = found["performance::roc_auc[region=west]"]
    assert gone.status is Status.INCONCLUSIVE and "no rows now" in gone.message
    assert gone.family == "performance::roc_auc[*]" and record.blocked


def test_without_a_baseline_the_dummy_is_named(tmp_path: Path):
    digits = load_digits(as_frame=True).frame.rename(columns={"target": "label"})
    digits["label"] = (digits["label"] == 8).astype(int)
    train, test = train_test_split(digits, test_size=0.5, random_state=0, stratify=digits["label"])
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    model.fit(train.drop(columns="label"), train["label"])
    path = _project(tmp_path, test, model, checks=["roc_auc >= baseline + 0.2 @95%"])
    _, found = _results(path)
    auc = found["performance::roc_auc~baseline"]
    assert auc.status is Status.PASS and auc.anchor_value == pytest.approx(0.5)
    assert "dummy model predicting the class prior" in auc.message


def test_multiclass_metrics_and_a_binary_only_metric_is_a_config_error(tmp_path: Path):
    wine = load_wine(as_frame=True).frame.rename(columns={"target": "label"})
    train, test = train_test_split(wine, test_size=0.6, random_state=1, stratify=wine["label"])
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    model.fit(train.drop(columns="label"), train["label"])
    path = _project(
        tmp_path, test, model, checks=["f1_macro >= 0.9", "roc_auc >= 0.95", "log_loss <= 0.5"]
    )
    record, found = _results(path)
    predicted = model.predict(test.drop(columns="label"))
    expected = f1_score(test["label"], predicted, average="macro")
    assert found["performance::f1_macro"].value == pytest.approx(expected)
    assert record.passed
    path = _project(tmp_path, test, model, checks=["f1 >= 0.9"])
    with pytest.raises(ConfigError, match="use f1_macro or f1_weighted"):
        run_gates(load_config(path))


def test_regression_metrics_against_the_mean(tmp_path: Path):
    diabetes = load_diabetes(as_frame=True).frame.rename(columns={"target": "label"})
    train, test = train_test_split(diabetes, test_size=0.5, random_state=2)
    model = Ridge(alpha=0.1).fit(train.drop(columns="label"), train["label"])
    checks = ["rmse <= baseline - 5% @95%", "r2 >= 0.3", "mae <= baseline", "mape <= 0.6"]
    path = _project(tmp_path, test, model, checks=checks)
    record, found = _results(path)
    assert record.passed, [c.message for c in record.checks if c.blocking]
    assert "predicting the mean" in found["performance::rmse~baseline"].message


def test_cost_table_and_user_metric_are_first_class(tmp_path: Path):
    frame = _nonlinear(9, rows=4000)
    train, test = train_test_split(frame, test_size=0.5, random_state=9)
    model = HistGradientBoostingClassifier(random_state=0).fit(
        train.drop(columns="label"), train["label"]
    )
    (tmp_path / "kpis.py").write_text(
        "import numpy as np\n"
        "def caught(y_true, y_pred, y_score, sample_weight):\n"
        "    w = np.ones(len(y_true)) if sample_weight is None else sample_weight\n"
        "    hit = (np.asarray(y_true) == 1) & (np.asarray(y_pred) == 1)\n"
        "    return float((w * hit).sum() / w.sum())\n"
    )
    path = _project(
        tmp_path,
        test,
        model,
        checks=["expected_cost <= baseline @95%", "caught >= 0.3 @90%"],
        extra='cost = { fp = 5, fn = 50 }\n[performance.metrics]\ncaught = "kpis:caught"',
    )
    record, found = _results(path)
    predicted = model.predict(test.drop(columns="label"))
    truth = test["label"].to_numpy()
    cost = (5 * ((predicted == 1) & (truth == 0)) + 50 * ((predicted == 0) & (truth == 1))).mean()
    assert found["performance::expected_cost~baseline"].value == pytest.approx(cost)
    caught = found["performance::caught"]
    assert caught.value == pytest.approx(((truth == 1) & (predicted == 1)).mean())
    assert caught.method == "bootstrap, 1000 resamples" and caught.interval[0] < caught.value
    assert record.passed, [c.message for c in record.checks if c.blocking]


def _cli(path: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "mlgates", "run", "--config", str(path), "--no-history"]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_pickles_load_only_with_a_matching_pinned_hash(tmp_path: Path):
    frame = _nonlinear(1, rows=1000)
    model = LogisticRegression().fit(frame.drop(columns="label"), frame["label"])
    frame.to_parquet(tmp_path / "eval.parquet", index=False)
    joblib.dump(model, tmp_path / "model.joblib")
    digest = hashlib.sha256((tmp_path / "model.joblib").read_bytes()).hexdigest()
    base = '[performance]\ndata = "eval.parquet"\ntarget = "label"\nchecks = ["roc_auc >= 0.6"]\n'
    unpinned = write_config(tmp_path, base + 'candidate = "model.joblib"\n')
    result = _cli(unpinned)
    assert result.returncode == 2, result.stderr
    assert "performance.candidate" in result.stderr and digest in result.stderr
    wrong = "0" * 64
    pinned_wrong = write_config(
        tmp_path, base + f'candidate = {{ path = "model.joblib", sha256 = "{wrong}" }}\n'
    )
    result = _cli(pinned_wrong)
    assert result.returncode == 2 and "not the pinned" in result.stderr
    assert "Traceback" not in result.stderr
    pinned = write_config(
        tmp_path, base + f'candidate = {{ path = "model.joblib", sha256 = "{digest}" }}\n'
    )
    assert _cli(pinned).returncode == 0


def test_skops_types_beyond_the_defaults_must_be_trusted(tmp_path: Path):
    frame = _nonlinear(2, rows=1000)
    model = make_pipeline(FunctionTransformer(operator.neg), LogisticRegression())
    model.fit(frame.drop(columns="label"), frame["label"])
    path = _project(tmp_path, frame, model, checks=["roc_auc <= 0.99"])
    with pytest.raises(ConfigError, match=r"_operator\.neg.*performance\.trusted"):
        run_gates(load_config(path))
    text = path.read_text() + 'trusted = ["_operator.neg"]\n'
    path.write_text(text)
    _, found = _results(path)
    expected = roc_auc_score(frame["label"], model.predict_proba(frame.drop(columns="label"))[:, 1])
    assert found["performance::roc_auc"].value == pytest.approx(expected)


@pytest.mark.parametrize(
    ("extra_checks", "extra", "fragment"),
    [
        (["roc_aux >= 0.8"], "", "unknown metric 'roc_aux'"),
        (["expected_cost <= 1"], "", "needs a cost table"),
        (["roc_auc[region=north] >= 0.8"], "", "'region' is not a slice column"),
        (["roc_auc[north] >= 0.8"], 'slices = ["region"]', "name a slice as column=value"),
        (["roc_auc >= 0.8", "roc_auc >= 0.9"], "", "twice"),
        (["roc_auc >= 0.8"], 'slices = ["regio"]', "'regio' not in eval.parquet"),
        (["roc_auc >= 0.8"], "cost = { fp = 0 }", "every cost is 0"),
        (["roc_auc >= 0.8"], 'task = "binar"', "did you mean 'binary'"),
    ],
)
def test_config_errors_name_the_key_and_the_fix(
    tmp_path: Path, extra_checks: list[str], extra: str, fragment: str
):
    frame = _regional(0, rows=400)
    model = DummyClassifier().fit(frame.drop(columns="label"), frame["label"])
    path = _project(tmp_path, frame, model, checks=extra_checks, extra=extra)
    with pytest.raises(ConfigError, match="performance") as caught:
        run_gates(load_config(path))
    assert fragment in str(caught.value)


def test_string_labels_need_the_positive_class_named(tmp_path: Path):
    frame = _nonlinear(4, rows=1500)
    frame["label"] = frame["label"].map({0: "repaid", 1: "defaulted"})
    model = LogisticRegression().fit(frame.drop(columns="label"), frame["label"])
    path = _project(tmp_path, frame, model, checks=["recall >= 0.5"])
    with pytest.raises(ConfigError, match=r"performance\.positive"):
        run_gates(load_config(path))
    path.write_text(path.read_text() + 'positive = "defaulted"\n')
    _, found = _results(path)
    predicted = model.predict(frame.drop(columns="label"))
    expected = ((predicted == "defaulted") & (frame["label"] == "defaulted")).sum() / (
        frame["label"] == "defaulted"
    ).sum()
    assert found["performance::recall"].value == pytest.approx(expected)


@pytest.mark.parametrize("zipmap", [True, False])
def test_onnx_models_score_like_the_scikit_learn_original(tmp_path: Path, zipmap: bool):
    pytest.importorskip("onnxruntime")
    skl2onnx = pytest.importorskip("skl2onnx")
    frame = _nonlinear(6, rows=3000)
    train, test = train_test_split(frame, test_size=0.5, random_state=6)
    features = train.drop(columns="label")
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(features, train["label"])
    options = {id(model.steps[-1][1]): {"zipmap": zipmap}}
    onnx = skl2onnx.to_onnx(model, features.to_numpy(np.float32)[:1], options=options)
    (tmp_path / "model.onnx").write_bytes(onnx.SerializeToString())
    test.to_parquet(tmp_path / "eval.parquet", index=False)
    checks = ["roc_auc >= 0.6", "accuracy >= 0.6", "log_loss <= 1"]
    path = write_config(
        tmp_path,
        '[performance]\ncandidate = "model.onnx"\ndata = "eval.parquet"\ntarget = "label"\n'
        f"checks = {json.dumps(checks)}\n",
    )
    _, found = _results(path)
    proba = model.predict_proba(test.drop(columns="label"))[:, 1]
    expected = roc_auc_score(test["label"], proba)
    assert found["performance::roc_auc"].value == pytest.approx(expected, abs=1e-6)
    accuracy = (model.predict(test.drop(columns="label")) == test["label"]).mean()
    assert found["performance::accuracy"].value == pytest.approx(accuracy)


def test_an_onnx_model_given_the_wrong_columns_is_an_input_error(tmp_path: Path):
    pytest.importorskip("onnxruntime")
    skl2onnx = pytest.importorskip("skl2onnx")
    frame = _nonlinear(8, rows=500)
    model = LogisticRegression().fit(frame[["a", "b"]], frame["label"])
    onnx = skl2onnx.to_onnx(model, frame[["a", "b"]].to_numpy(np.float32)[:1])
    (tmp_path / "model.onnx").write_bytes(onnx.SerializeToString())
    frame.to_parquet(tmp_path / "eval.parquet", index=False)
    path = write_config(
        tmp_path,
        '[performance]\ncandidate = "model.onnx"\ndata = "eval.parquet"\ntarget = "label"\n'
        'checks = ["accuracy >= 0.5"]\n',
    )
    result = _cli(path)
    assert result.returncode == 2, result.stderr
    assert "takes 2 features, the data gives 4" in result.stderr
    assert "performance.features" in result.stderr
    path.write_text(path.read_text() + 'features = ["a", "b"]\n')
    assert _cli(path).returncode == 0


def test_slices_are_not_missing_when_checked_alone_or_no_longer_sliced(tmp_path: Path):
    frame = _regional(5)
    train, test = train_test_split(frame, test_size=0.5, random_state=5)
    model = _regional_model(["a", "b"]).fit(train.drop(columns="label"), train["label"])
    path = _project(tmp_path, test, model, checks=["roc_auc >= 0.7"], extra='slices = ["region"]')
    first, _ = _results(path)
    alone = path.read_text().replace(
        'checks = ["roc_auc >= 0.7"]', 'checks = ["roc_auc >= 0.7", "roc_auc[region=north] >= 0.6"]'
    )
    path.write_text(alone)
    record, _ = _results(path, history=[first])
    assert record.passed, [c.message for c in record.checks if c.blocking]
    assert len({c.id for c in record.checks}) == len(record.checks)
    test.assign(channel=np.where(test["a"] > 0, "web", "branch")).to_parquet(
        tmp_path / "eval.parquet", index=False
    )
    path.write_text(
        alone.replace('slices = ["region"]', 'slices = ["channel"]').replace(
            ', "roc_auc[region=north] >= 0.6"', ""
        )
    )
    record, _ = _results(path, history=[first])
    assert record.passed, [c.message for c in record.checks if c.blocking]


@pytest.mark.parametrize("kind", ["float", "bool"])
def test_float_and_boolean_targets_stay_binary(tmp_path: Path, kind: str):
    frame = _nonlinear(13, rows=2000)
    model = LogisticRegression().fit(frame.drop(columns="label"), frame["label"])
    frame["label"] = frame["label"].astype(float if kind == "float" else bool)
    path = _project(tmp_path, frame, model, checks=["f1 >= 0.3", "roc_auc >= 0.6"])
    record, found = _results(path)
    predicted = model.predict(frame.drop(columns="label"))
    assert found["performance::f1"].value == pytest.approx(f1_score(frame["label"], predicted))
    assert record.passed


def test_target_labels_the_models_never_predict_are_an_input_error(tmp_path: Path):
    frame = _nonlinear(14, rows=1000)
    model = LogisticRegression().fit(frame.drop(columns="label"), frame["label"])
    frame["label"] = frame["label"].map({0: "good", 1: "bad"})
    path = _project(tmp_path, frame, model, checks=["roc_auc >= 0.6"])
    result = _cli(path)
    assert result.returncode == 2 and "which the models never predict" in result.stderr


def test_model_and_evaluation_misfits_are_errors_naming_the_fix(tmp_path: Path):
    from sklearn.svm import LinearSVC

    frame = _nonlinear(15, rows=600)
    svm = LinearSVC().fit(frame.drop(columns="label"), frame["label"])
    path = _project(tmp_path, frame, svm, checks=["roc_auc >= 0.6"])
    with pytest.raises(ConfigError, match=r"candidate\.skops: roc_auc needs class probabilities"):
        run_gates(load_config(path))
    path = _project(tmp_path, frame, svm, checks=["mae <= 1"], extra='task = "regression"')
    with pytest.raises(ConfigError, match="the model is a classifier"):
        run_gates(load_config(path))
    path = _project(tmp_path, frame.iloc[:0], svm, checks=["accuracy >= 0.6"])
    result = _cli(path)
    assert result.returncode == 2 and "has no rows to evaluate" in result.stderr


def test_a_corrupt_pinned_pickle_and_a_non_numeric_user_metric(tmp_path: Path):
    frame = _nonlinear(16, rows=600)
    frame.to_parquet(tmp_path / "eval.parquet", index=False)
    (tmp_path / "model.joblib").write_bytes(b"not a pickle at all")
    digest = hashlib.sha256(b"not a pickle at all").hexdigest()
    path = write_config(
        tmp_path,
        f'[performance]\ncandidate = {{ path = "model.joblib", sha256 = "{digest}" }}\n'
        'data = "eval.parquet"\ntarget = "label"\nchecks = ["accuracy >= 0.5"]\n',
    )
    result = _cli(path)
    assert result.returncode == 2 and "matches its pin but does not load" in result.stderr
    model = LogisticRegression().fit(frame.drop(columns="label"), frame["label"])
    (tmp_path / "textkpis.py").write_text(
        "def text(y_true, y_pred, y_score, w):\n    return '0.9'\n"
    )
    path = _project(
        tmp_path,
        frame,
        model,
        checks=["text >= 0.5"],
        extra='[performance.metrics]\ntext = "textkpis:text"',
    )
    _, found = _results(path)
    assert found["performance::text"].status is Status.ERROR
    assert "returned '0.9', not a number" in found["performance::text"].message


def test_empty_slice_checks_leave_slices_unchecked(tmp_path: Path):
    frame = _regional(17, rows=2000)
    model = _regional_model(["a", "b"]).fit(frame.drop(columns="label"), frame["label"])
    path = _project(
        tmp_path,
        frame,
        model,
        checks=["roc_auc >= 0.6"],
        extra='slices = ["region"]\nslice_checks = []',
    )
    record, _ = _results(path)
    assert [c.id for c in record.checks] == ["performance::roc_auc"]
