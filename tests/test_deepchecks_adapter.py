"""The deepchecks adapter: every condition of a suite is one mlgates check.

deepchecks 0.19 needs numpy < 2, scikit-learn < 1.6 and pandas < 2.3, so these
tests run in the second environment (`make deepchecks-tests`); in the main one
only the missing-extra error is checked.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.datasets import load_breast_cancer
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlgates import load_config, run_gates
from mlgates.core import ConfigError, Status

from conftest import write_config

HAS_DEEPCHECKS = importlib.util.find_spec("deepchecks") is not None
needs_deepchecks = pytest.mark.skipif(
    not HAS_DEEPCHECKS, reason="deepchecks runs in its own environment (make deepchecks-tests)"
)


def _cancer_project(directory: Path, model, *, deepchecks: str, checks: str = "") -> Path:
    frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "label"})
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    train, test = train_test_split(frame, test_size=0.5, random_state=0, stratify=frame["label"])
    model.fit(train.drop(columns="label"), train["label"])
    train.to_parquet(directory / "train.parquet", index=False)
    test.to_parquet(directory / "eval.parquet", index=False)
    sio.dump(model, directory / "model.skops")
    return write_config(
        directory,
        '[performance]\ncandidate = "model.skops"\ndata = "eval.parquet"\ntarget = "label"\n'
        f"checks = [{checks}]\n[performance.deepchecks]\n{deepchecks}\n",
    )


def _deepchecks_directly(model, directory: Path, suite_name: str):
    """The same suite run by deepchecks itself, for comparison."""
    import deepchecks
    from deepchecks.tabular import Dataset, suites

    deepchecks.set_verbosity(logging.WARNING)
    train = pd.read_parquet(directory / "train.parquet")
    test = pd.read_parquet(directory / "eval.parquet")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = getattr(suites, suite_name)().run(
            train_dataset=Dataset(train, label="label", cat_features=[]),
            test_dataset=Dataset(test, label="label", cat_features=[]),
            model=model,
            with_display=False,
        )
    return [
        condition.category.name
        for check in result.results
        for condition in getattr(check, "conditions_results", [])
    ]


@needs_deepchecks
def test_each_condition_of_a_suite_is_one_check_with_deepchecks_verdict(tmp_path: Path):
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    path = _cancer_project(
        tmp_path,
        model,
        deepchecks='suite = "model_evaluation"\ntrain = "train.parquet"',
        checks='"roc_auc >= 0.9"',
    )
    record = run_gates(load_config(path))
    members = [c for c in record.checks if c.family == "performance::deepchecks[*]"]
    expected = _deepchecks_directly(model, tmp_path, "model_evaluation")
    ran = (": not relevant", ": could not run")
    conditions = [c for c in members if not c.selector.endswith(ran)]
    assert len(conditions) == len(expected) > 5
    mapping = {"PASS": Status.PASS, "FAIL": Status.FAIL, "WARN": Status.WARN}
    assert sorted(c.status.value for c in conditions) == sorted(mapping[e].value for e in expected)
    for member in members:
        assert member.method == "deepchecks" and member.message
        assert member.id.startswith("performance::deepchecks[")
    skipped = [c for c in members if c.status is Status.SKIPPED]
    assert any("Boosting" in c.message for c in skipped), "irrelevant checks are skipped"
    assert json.dumps(record.to_dict())


@needs_deepchecks
def test_a_failing_condition_blocks_and_is_named(tmp_path: Path):
    path = _cancer_project(
        tmp_path,
        DummyClassifier(strategy="prior"),
        deepchecks='checks = ["SimpleModelComparison"]\ntrain = "train.parquet"',
    )
    record = run_gates(load_config(path))
    assert record.blocked
    failing = [c for c in record.checks if c.status is Status.FAIL and c.family]
    assert failing and "Simple Model Comparison" in failing[0].id
    family = next(c for c in record.checks if c.id == "performance::deepchecks[*]")
    assert family.status is Status.FAIL and "Simple Model Comparison" in family.message


@needs_deepchecks
def test_an_unknown_deepchecks_check_is_a_config_error(tmp_path: Path):
    path = _cancer_project(
        tmp_path, LogisticRegression(max_iter=1000), deepchecks='checks = ["SimpleModelComparisn"]'
    )
    with pytest.raises(ConfigError, match="not a deepchecks tabular check; known: "):
        run_gates(load_config(path))


@pytest.mark.skipif(HAS_DEEPCHECKS, reason="checks the error without deepchecks")
def test_without_deepchecks_the_error_names_the_extra(tmp_path: Path):
    path = _cancer_project(
        tmp_path,
        make_pipeline(StandardScaler(), LogisticRegression()),
        deepchecks='suite = "model_evaluation"',
    )
    with pytest.raises(ConfigError, match=r"pip install 'mlgates\[deepchecks\]'"):
        run_gates(load_config(path))


def test_deepchecks_settings_are_validated(tmp_path: Path):
    frame = pd.DataFrame({"a": np.arange(200.0), "label": np.arange(200) % 2})
    frame.to_parquet(tmp_path / "eval.parquet", index=False)
    sio.dump(LogisticRegression().fit(frame[["a"]], frame["label"]), tmp_path / "model.skops")
    base = '[performance]\ncandidate = "model.skops"\ndata = "eval.parquet"\ntarget = "label"\n'
    for text, fragment in (
        ('checks = ["deepchecks <= 1"]\n', "deepchecks conditions decide themselves"),
        (
            'checks = ["accuracy >= 0"]\n[performance.deepchecks]\nsuite = "model_eval"\n',
            "did you mean",
        ),
        (
            'checks = ["accuracy >= 0"]\n[performance.deepchecks]\ntrain = "no.parquet"\n',
            "not found",
        ),
    ):
        path = write_config(tmp_path, base + text)
        with pytest.raises(ConfigError) as caught:
            load_config(path)
        assert fragment in str(caught.value)
