"""MLflow models in the performance gate: a model directory and a runs:/ URI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from mlgates import load_config, run_gates
from mlgates.core import ConfigError
from mlgates.datafiles import sha256_tree
from test_performance_stage import _nonlinear

from conftest import write_config

mlflow = pytest.importorskip("mlflow")
pytest.importorskip("mlflow.sklearn")


def _setup(directory: Path):
    frame = _nonlinear(12, rows=2000)
    train, test = train_test_split(frame, test_size=0.5, random_state=12)
    model = LogisticRegression().fit(train.drop(columns="label"), train["label"])
    test.to_parquet(directory / "eval.parquet", index=False)
    expected = roc_auc_score(test["label"], model.predict_proba(test.drop(columns="label"))[:, 1])
    return model, expected


def _config(directory: Path, candidate: str) -> Path:
    return write_config(
        directory,
        f'[performance]\ncandidate = {candidate}\ndata = "eval.parquet"\ntarget = "label"\n'
        'checks = ["roc_auc >= 0.6"]\n',
    )


def test_a_skops_flavored_model_directory_loads_under_the_skops_rules(tmp_path: Path):
    model, expected = _setup(tmp_path)
    mlflow.sklearn.save_model(model, tmp_path / "model", serialization_format="skops")
    record = run_gates(load_config(_config(tmp_path, '"model"')))
    assert record.passed
    assert record.checks[0].value == pytest.approx(expected)
    assert "model" in record.files


def test_a_pickle_flavored_model_directory_needs_its_hash_pinned(tmp_path: Path):
    model, expected = _setup(tmp_path)
    mlflow.sklearn.save_model(model, tmp_path / "model", serialization_format="cloudpickle")
    with pytest.raises(ConfigError, match="flavor loads with pickle") as caught:
        run_gates(load_config(_config(tmp_path, '"model"')))
    digest = sha256_tree(tmp_path / "model")
    assert digest in str(caught.value)
    pinned = _config(tmp_path, f'{{ path = "model", sha256 = "{digest}" }}')
    record = run_gates(load_config(pinned))
    assert record.checks[0].value == pytest.approx(expected)
    (tmp_path / "model" / "extra.txt").write_text("changed")
    with pytest.raises(ConfigError, match="not the pinned"):
        run_gates(load_config(pinned))


def test_a_directory_without_mlmodel_is_a_config_error(tmp_path: Path):
    _setup(tmp_path)
    (tmp_path / "model").mkdir()
    with pytest.raises(ConfigError, match="without an MLmodel file"):
        load_config(_config(tmp_path, '"model"'))


def test_a_runs_uri_is_fetched_from_the_tracking_store(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    mlflow.set_tracking_uri((tmp_path / "mlruns").as_uri())
    model, expected = _setup(tmp_path)
    with mlflow.start_run() as run:
        mlflow.sklearn.log_model(model, name="model", serialization_format="skops")
    uri = f"runs:/{run.info.run_id}/model"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())
    record = run_gates(load_config(_config(tmp_path, json.dumps(uri))))
    assert record.checks[0].value == pytest.approx(expected)
    missing = _config(tmp_path, json.dumps("runs:/0123456789abcdef/model"))
    with pytest.raises(ConfigError, match="cannot fetch runs:/0123456789abcdef/model"):
        run_gates(load_config(missing))


def test_a_pinned_skops_flavored_directory_is_checked_as_a_whole(tmp_path: Path):
    model, expected = _setup(tmp_path)
    mlflow.sklearn.save_model(model, tmp_path / "model", serialization_format="skops")
    digest = sha256_tree(tmp_path / "model")
    record = run_gates(load_config(_config(tmp_path, f'{{ path = "model", sha256 = "{digest}" }}')))
    assert record.checks[0].value == pytest.approx(expected)
