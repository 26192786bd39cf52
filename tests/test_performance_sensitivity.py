"""Sensitivity: perturbation of real tables, and flip rate / metric drop verdicts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlgates import load_config, run_gates
from mlgates.core import ConfigError, Status
from mlgates.stages.performance.sensitivity import perturb
from test_performance_stage import _nonlinear, _project


def _table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = 5000
    return pd.DataFrame(
        {
            "income": rng.lognormal(10, 0.5, rows),
            "children": rng.integers(0, 5, rows),
            "grade": pd.Series(rng.choice(list("ABCDE"), rows), dtype="string"),
            "region": pd.Categorical(rng.choice(["east", "north", "west"], rows)),
            "flag": rng.random(rows) < 0.3,
            "score": np.where(rng.random(rows) < 0.1, np.nan, rng.normal(size=rows)),
        }
    )


def test_perturb_scales_noise_to_each_column_and_keeps_types_and_gaps():
    frame = _table()
    out = perturb(frame, list(frame.columns), noise=0.1, swap=0.2, seed=1)
    assert list(out.dtypes) == list(frame.dtypes)
    change = out["income"] - frame["income"]
    assert change.std() == pytest.approx(0.1 * frame["income"].std(), rel=0.1)
    assert (out["children"] % 1 == 0).all()
    assert out["score"].isna().equals(frame["score"].isna())
    moved = out["grade"] != frame["grade"]
    assert moved.mean() == pytest.approx(0.2, abs=0.03)
    steps = (out["grade"].str.slice(0, 1).map(ord) - frame["grade"].map(ord))[moved]
    assert set(steps.abs()) == {1}, "a category moves to a neighbour, never further"
    assert set(out["region"].unique()) <= {"east", "north", "west"}
    assert (out["flag"] != frame["flag"]).mean() == pytest.approx(0.2, abs=0.03)
    again = perturb(frame, list(frame.columns), noise=0.1, swap=0.2, seed=1)
    pd.testing.assert_frame_equal(out, again)
    untouched = perturb(frame, ["income"], noise=0.1, swap=0.2, seed=1)
    pd.testing.assert_frame_equal(untouched.drop(columns="income"), frame.drop(columns="income"))


@pytest.mark.parametrize("seed", range(3))
def test_a_fragile_candidate_flips_more_than_a_smooth_baseline(tmp_path: Path, seed: int):
    frame = _nonlinear(seed, rows=4000)
    train, test = train_test_split(frame, test_size=0.5, random_state=seed)
    features, label = train.drop(columns="label"), train["label"]
    fragile = make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=1))
    fragile.fit(features, label)
    smooth = LogisticRegression().fit(features, label)
    checks = ["flip_rate <= baseline + 0.02 @95%", "metric_drop <= 0.05"]
    extra = "[performance.sensitivity]\nnoise = 0.1"
    path = _project(tmp_path, test, fragile, smooth, checks=checks, extra=extra)
    record = run_gates(load_config(path))
    found = {check.id: check for check in record.checks}
    flips = found["performance::flip_rate~baseline"]
    assert flips.status is Status.FAIL, flips.message
    assert "labels on inputs perturbed by 0.1 SD" in flips.message
    path = _project(tmp_path, test, smooth, fragile, checks=checks, extra=extra)
    assert run_gates(load_config(path)).passed


def test_metric_drop_watches_the_configured_metric(tmp_path: Path):
    frame = _nonlinear(4, rows=3000)
    train, test = train_test_split(frame, test_size=0.5, random_state=4)
    model = HistGradientBoostingClassifier(random_state=0)
    model.fit(train.drop(columns="label"), train["label"])
    extra = '[performance.sensitivity]\nnoise = 0.3\nmetric = "accuracy"\ncolumns = ["a"]'
    path = _project(tmp_path, test, model, checks=["metric_drop <= 0.5"], extra=extra)
    record = run_gates(load_config(path))
    drop = record.checks[0]
    assert "accuracy on inputs perturbed by 0.3 SD" in drop.message
    features = test.drop(columns="label")
    shaken = perturb(features, ["a"], noise=0.3, swap=0.05, seed=0)
    truth = test["label"].to_numpy()
    expected = (model.predict(features) == truth).mean() - (model.predict(shaken) == truth).mean()
    assert drop.value == pytest.approx(expected)


@pytest.mark.parametrize(
    ("extra", "checks", "fragment"),
    [
        ('[performance.sensitivity]\nmetric = "roc_aux"', ["flip_rate <= 0.1"], "did you mean"),
        ("[performance.sensitivity]\nnoise = 2", ["flip_rate <= 0.1"], "too large"),
        ("[performance.sensitivity]\nshake = 1", ["flip_rate <= 0.1"], "unknown key"),
    ],
)
def test_sensitivity_settings_are_validated(
    tmp_path: Path, extra: str, checks: list[str], fragment: str
):
    frame = _nonlinear(1, rows=300)
    model = LogisticRegression().fit(frame.drop(columns="label"), frame["label"])
    path = _project(tmp_path, frame, model, checks=checks, extra=extra)
    with pytest.raises(ConfigError, match=r"performance\.sensitivity") as caught:
        load_config(path)
    assert fragment in str(caught.value)


def test_flip_rate_is_for_classifiers(tmp_path: Path):
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge

    diabetes = load_diabetes(as_frame=True).frame.rename(columns={"target": "label"})
    model = Ridge().fit(diabetes.drop(columns="label"), diabetes["label"])
    path = _project(tmp_path, diabetes, model, checks=["flip_rate <= 0.1"])
    with pytest.raises(ConfigError, match="use metric_drop"):
        run_gates(load_config(path))
    path = _project(tmp_path, diabetes, model, checks=["metric_drop <= 5"])
    record = run_gates(load_config(path))
    assert "rmse on inputs perturbed" in record.checks[0].message
    assert json.dumps(record.to_dict())
