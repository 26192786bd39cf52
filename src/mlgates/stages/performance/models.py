"""Loading the candidate and baseline models safely.

* ``.skops``: loaded with skops, which refuses types it was not told to
  trust. Types from scikit-learn, NumPy and SciPy are trusted by default;
  anything else must be listed in ``performance.trusted`` after review.
* ``.pkl``, ``.pickle``, ``.joblib``: a pickle runs code when it is loaded,
  so it is loaded only when the config pins its sha256 and the file has it.
* ``.onnx``: run with onnxruntime (the ``onnx`` extra), see :mod:`.onnx_model`.
* an MLflow model directory or URI (the ``mlflow`` extra), see :mod:`.mlflow_model`.

Any loaded object with ``predict`` works; ``predict_proba`` gives the
probabilities that ROC AUC, log loss, Brier and ECE need.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlgates.core import ConfigError, MissingExtraError
from mlgates.stages.performance.settings import ModelFile

TRUSTED_BY_DEFAULT = ("sklearn.", "numpy.", "scipy.")
"""Module prefixes whose types a skops file may hold without being listed in ``trusted``."""
SKOPS_SUFFIXES = (".skops",)
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")
ONNX_SUFFIXES = (".onnx",)


def _sha256(model: ModelFile) -> str:
    from mlgates.datafiles import sha256_file, sha256_tree

    return sha256_tree(model.path) if model.path.is_dir() else sha256_file(model.path)


def verify_pin(model: ModelFile, display: str, *, required: bool, why: str = "a pickle") -> None:
    """Check the file (or directory) against its pinned sha256; a missing pin is an error
    when ``required``, naming the hash to pin after review."""
    if model.sha256 is None and not required:
        return
    actual = _sha256(model)
    if model.sha256 is None:
        where = model.uri or display
        raise ConfigError(
            f"{display} is {why}, which runs code when it is loaded: pin what you "
            f'reviewed, {model.key.rpartition(".")[2]} = {{ path = "{where}", '
            f'sha256 = "{actual}" }}, or save the model with skops',
            key=model.key,
        )
    if actual != model.sha256:
        raise ConfigError(
            f"{display} has sha256 {actual}, not the pinned {model.sha256}: the file changed "
            "since it was pinned; review it and update the pin",
            key=model.key,
        )


def _untrusted(names: Sequence[str], trusted: Sequence[str]) -> list[str]:
    return [
        name for name in names if name not in trusted and not name.startswith(TRUSTED_BY_DEFAULT)
    ]


def load_skops(model: ModelFile, display: str, trusted: Sequence[str]) -> Any:
    """A skops file, refusing types neither trusted by default nor listed in ``trusted``."""
    try:
        import skops.io as sio
    except ImportError:
        raise MissingExtraError(f"loading {display}", "performance", key=model.key) from None
    verify_pin(model, display, required=False)
    try:
        found = sio.get_untrusted_types(file=model.path)
    except Exception as exc:
        raise ConfigError(
            f"{display} is not a skops file skops can read: {type(exc).__name__}: {exc}",
            key=model.key,
        ) from None
    refused = _untrusted(found, trusted)
    if refused:
        listed = ", ".join(f'"{name}"' for name in refused)
        raise ConfigError(
            f"{display} holds types that are not trusted by default: {', '.join(refused)}. "
            f"Review them, then trust them: performance.trusted = [{listed}]",
            key=model.key,
        )
    return sio.load(model.path, trusted=list(found))


def load_pickle(model: ModelFile, display: str) -> Any:
    """A pickle or joblib file whose pinned sha256 matches."""
    verify_pin(model, display, required=True)
    try:
        import joblib
    except ImportError:
        raise MissingExtraError(f"loading {display}", "performance", key=model.key) from None
    try:
        return joblib.load(model.path)
    except Exception as exc:
        raise ConfigError(
            f"{display} matches its pin but does not load: {type(exc).__name__}: {exc}",
            key=model.key,
        ) from None


def load_onnx(model: ModelFile, display: str) -> Any:
    """An ONNX file run with onnxruntime (which executes no Python code from the file)."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        raise MissingExtraError(f"loading {display}", "onnx", key=model.key) from None
    from mlgates.stages.performance.onnx_model import OnnxModel

    verify_pin(model, display, required=False)
    try:
        return OnnxModel(model.path, display)
    except Exception as exc:
        raise ConfigError(
            f"{display} is not an ONNX model onnxruntime can run: {type(exc).__name__}: {exc}",
            key=model.key,
        ) from None


def load_model(model: ModelFile, display: str, trusted: Sequence[str]) -> Any:
    """The model in ``model.path``, by its suffix; it must have ``predict``."""
    suffix = model.path.suffix.lower()
    if model.path.is_dir():
        from mlgates.stages.performance.mlflow_model import load_mlflow

        loaded = load_mlflow(model, display, trusted)
    elif suffix in SKOPS_SUFFIXES:
        loaded = load_skops(model, display, trusted)
    elif suffix in PICKLE_SUFFIXES:
        loaded = load_pickle(model, display)
    elif suffix in ONNX_SUFFIXES:
        loaded = load_onnx(model, display)
    else:
        known = ", ".join((*SKOPS_SUFFIXES, *PICKLE_SUFFIXES, *ONNX_SUFFIXES))
        raise ConfigError(
            f"{display}: unknown model format {suffix or '(no suffix)'!r}; mlgates loads {known}",
            key=model.key,
        )
    if not callable(getattr(loaded, "predict", None)):
        raise ConfigError(
            f"{display} holds a {type(loaded).__name__}, which has no predict method",
            key=model.key,
        )
    return loaded


__all__ = [
    "ONNX_SUFFIXES",
    "PICKLE_SUFFIXES",
    "SKOPS_SUFFIXES",
    "TRUSTED_BY_DEFAULT",
    "load_model",
    "verify_pin",
]
