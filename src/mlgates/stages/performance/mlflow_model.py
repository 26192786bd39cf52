"""MLflow models: a local model directory (with its ``MLmodel`` file) or an MLflow URI.

A URI (``runs:/<run>/model``, ``models:/<name>/<version>``) is fetched with
MLflow's own client, under the tracking settings of the environment
(``MLFLOW_TRACKING_URI``), into a temporary directory. A scikit-learn flavor
saved with skops (MLflow's default since 3.0) is loaded by mlgates' skops
rules (:func:`.models.load_skops`); any other flavor runs code from the
directory when it is loaded, so it needs the directory's sha256 pinned, as a
pickle does.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from mlgates.core import ConfigError, MissingExtraError
from mlgates.stages.performance.settings import ModelFile


def _mlflow(display: str, key: str) -> Any:
    try:
        import mlflow
    except ImportError:
        raise MissingExtraError(f"loading the MLflow model {display}", "mlflow", key=key) from None
    return mlflow


def fetch(model: ModelFile, cache_dir: Path | None) -> ModelFile:
    """``model`` with its MLflow URI downloaded afresh to a directory below ``cache_dir``
    (one per URI, replaced on every run), or to a temporary directory."""
    assert model.uri is not None
    mlflow = _mlflow(model.uri, model.key)
    if cache_dir is None:
        target = tempfile.mkdtemp(prefix="mlgates-mlflow-")
    else:
        name = hashlib.sha256(model.uri.encode()).hexdigest()[:16]
        folder = cache_dir / "mlflow" / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        target = str(folder)
    try:
        local = mlflow.artifacts.download_artifacts(artifact_uri=model.uri, dst_path=target)
    except Exception as exc:
        raise ConfigError(
            f"cannot fetch {model.uri}: {type(exc).__name__}: {exc} (MLflow reads the tracking "
            "server from MLFLOW_TRACKING_URI)",
            key=model.key,
        ) from None
    path = Path(local)
    if not (path / "MLmodel").is_file():
        raise ConfigError(
            f"{model.uri} holds no MLmodel file: it is not an MLflow model", key=model.key
        )
    return replace(model, path=path)


def _flavors(model: ModelFile, display: str) -> dict[str, Any]:
    import yaml

    try:
        meta = yaml.safe_load((model.path / "MLmodel").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(
            f"{display}: cannot read its MLmodel file: {exc}", key=model.key
        ) from None
    flavors = meta.get("flavors") if isinstance(meta, dict) else None
    if not isinstance(flavors, dict) or not flavors:
        raise ConfigError(f"{display}: its MLmodel file names no flavor", key=model.key)
    return flavors


def load_mlflow(model: ModelFile, display: str, trusted: Sequence[str]) -> Any:
    """The model of an MLflow model directory (see the module docstring)."""
    from mlgates.stages.performance.models import load_skops, verify_pin

    flavors = _flavors(model, display)
    sklearn_flavor = flavors.get("sklearn")
    if isinstance(sklearn_flavor, dict) and sklearn_flavor.get("serialization_format") == "skops":
        verify_pin(model, display, required=False)  # a pin covers the whole directory
        inner = replace(
            model, path=model.path / str(sklearn_flavor.get("pickled_model")), sha256=None
        )
        return load_skops(inner, f"{display}/{inner.path.name}", trusted)
    verify_pin(model, display, required=True, why="an MLflow model whose flavor loads with pickle")
    mlflow = _mlflow(display, model.key)
    try:
        if isinstance(sklearn_flavor, dict):
            return mlflow.sklearn.load_model(str(model.path))
        return mlflow.pyfunc.load_model(str(model.path))
    except Exception as exc:
        raise ConfigError(
            f"{display}: MLflow could not load it: {type(exc).__name__}: {exc}", key=model.key
        ) from None


__all__ = ["fetch", "load_mlflow"]
