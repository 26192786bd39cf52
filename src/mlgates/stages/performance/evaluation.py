"""The evaluation rows, scored once by the candidate and the baseline.

:func:`evaluate` reads the evaluation file, picks the model's features,
infers the task (binary, multiclass, regression) from the target and the
model, and turns both models' predictions into the class codes or numbers
:mod:`mlgates.stats.scoring` works on. Predictions go through the context's
cache, so other stages that score the same model on the same file reuse them.
Without a baseline model, the baseline is a dummy: the class prior (or the
mean) of the evaluation target, the no-skill reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from mlgates.authoring import reading
from mlgates.core import ConfigError, InputError
from mlgates.stages.performance.models import load_model
from mlgates.stages.performance.sensitivity import perturb
from mlgates.stages.performance.settings import ModelFile, PerformanceConfig
from mlgates.stats.scoring import Classified, Regressed

if TYPE_CHECKING:
    import pandas as pd

    from mlgates.context import Context


@dataclass(frozen=True)
class Scored:
    """One model's predictions on the evaluation rows, as the metrics and user metrics need them."""

    name: str
    data: Classified | Regressed
    labels: NDArray[Any]
    scores: NDArray[np.float64] | None
    features: tuple[str, ...] = ()
    proba: NDArray[np.float64] | None = None


@dataclass(frozen=True)
class Evaluation:
    """Everything the performance checks are computed from."""

    task: str
    frame: pd.DataFrame
    truth: NDArray[Any]
    classes: tuple[Any, ...]
    candidate: Scored
    baseline: Scored
    baseline_is_dummy: bool
    models: tuple[Any, ...] = ()

    @property
    def rows(self) -> int:
        """How many evaluation rows."""
        return len(self.truth)


def _features(
    config: PerformanceConfig, model: Any, columns: Sequence[str], display: str
) -> list[str]:
    """The columns the model is given: listed, known to the model, or all but target and exclude."""
    if config.features:
        wanted = list(config.features)
    elif hasattr(model, "feature_names_in_"):
        wanted = [str(name) for name in model.feature_names_in_]
    else:
        left_out = {config.target, *config.exclude}
        return [column for column in columns if column not in left_out]
    missing = [column for column in wanted if column not in columns]
    if missing:
        raise InputError(f"{display} lacks column(s) the model needs: {', '.join(missing)}")
    return wanted


def _is_classifier(model: Any) -> bool:
    return hasattr(model, "classes_") or hasattr(model, "predict_proba")


def _task(config: PerformanceConfig, truth: pd.Series, models: Sequence[Any]) -> str:
    """The configured task; else regression when no model is a classifier (none has
    ``classes_`` or ``predict_proba``) and the target is numeric; else binary or
    multiclass by the number of labels (compared as :func:`_classes` does)."""
    if config.task is not None:
        return config.task
    if not any(_is_classifier(m) for m in models) and _is_numeric(truth):
        return "regression"
    return "binary" if len(_classes(truth, models)) <= 2 else "multiclass"


def _sorted_labels(labels: Sequence[Any]) -> list[Any]:
    """Numbers in numeric order, anything else by its text."""
    numeric = all(isinstance(v, (bool, int, float, np.number, np.bool_)) for v in labels)
    return sorted(labels, key=float if numeric else str)


def _classes(truth: pd.Series, models: Sequence[Any]) -> list[Any]:
    """The class labels: the models' ``classes_`` first, in their order, then any other
    label of the target, sorted; labels are equal as Python compares them (1 == 1.0)."""
    found: list[Any] = []
    for model in models:
        for label in getattr(model, "classes_", ()):
            if label not in found:
                found.append(label)
    for label in _sorted_labels(list(truth.dropna().unique())):
        if label not in found:
            found.append(label)
    return found


def _check_labels(truth: pd.Series, models: Sequence[Any], display: str, target: str) -> None:
    """Target labels must be labels the models know (when they say which they know)."""
    known: list[Any] = []
    for model in models:
        known.extend(label for label in getattr(model, "classes_", ()) if label not in known)
    if not known:
        return
    unknown = [label for label in truth.dropna().unique() if label not in known]
    if unknown:
        shown = ", ".join(repr(v) for v in _sorted_labels(unknown)[:5])
        raise InputError(
            f"{display}: the target {target!r} holds {shown}, which the models never predict "
            f"(their classes: {', '.join(repr(v) for v in known)}); is it the right column, "
            "encoded as in training?"
        )


def _positive(config: PerformanceConfig, classes: Sequence[Any]) -> int:
    """Code of the positive class: ``positive`` if set, else the larger numeric or boolean label."""
    if config.positive is not None:
        for code, label in enumerate(classes):
            if label == config.positive or str(label) == str(config.positive):
                return code
        shown = ", ".join(repr(c) for c in classes)
        raise ConfigError(
            f"{config.positive!r} is not one of the labels: {shown}", key="performance.positive"
        )
    if all(isinstance(label, (bool, int, float, np.number, np.bool_)) for label in classes):
        return int(np.argmax([float(label) for label in classes]))
    shown = ", ".join(repr(c) for c in classes)
    raise ConfigError(
        f"which label is the positive class? The target holds {shown}: set "
        f"performance.positive, e.g. positive = {str(classes[-1])!r}",
        key="performance.positive",
    )


def _codes(values: Any, classes: Sequence[Any], what: str) -> NDArray[np.intp]:
    import pandas as pd

    index = pd.Index(list(classes), dtype=object)
    codes = index.get_indexer(pd.Index(np.asarray(values, dtype=object), dtype=object))
    if (codes < 0).any():
        unknown = sorted({str(v) for v in np.asarray(values, dtype=object)[codes < 0]})[:5]
        raise InputError(f"{what}: labels {', '.join(unknown)} are none of {list(classes)}")
    return np.asarray(codes, dtype=np.intp)


def _predict(
    context: Context,
    config: PerformanceConfig,
    model_file: ModelFile,
    model: Any,
    features: pd.DataFrame,
    method: str,
    perturbed: bool,
) -> Any:
    """``model.method(features)``, once per run: through the context's prediction cache,
    or for perturbed rows under a key naming the perturbation."""

    def compute() -> Any:
        try:
            return getattr(model, method)(features)
        except Exception as exc:
            shown = model_file.uri or context.display(model_file.path)
            rows = "perturbed rows of " if perturbed else ""
            raise InputError(
                f"{shown}: {method} failed on {rows}{context.display(config.data)}: "
                f"{type(exc).__name__}: {exc}"
            ) from None

    if perturbed:
        settings = config.sensitivity
        key = (
            "perturbed-predictions",
            context.file_hash(model_file.path),
            context.file_hash(config.data),
            method,
            (settings.noise, settings.swap, settings.columns, config.seed),
        )
        return context.memo(key, compute)
    return context.predictions(model_file.path, config.data, method, compute)


def _score(
    context: Context,
    config: PerformanceConfig,
    model_file: ModelFile,
    model: Any,
    frame: pd.DataFrame,
    task: str,
    truth: pd.Series,
    classes: list[Any],
    *,
    perturbed: bool = False,
) -> Scored:
    display = model_file.uri or context.display(model_file.path)
    columns = _features(
        config, model, [str(c) for c in frame.columns], context.display(config.data)
    )
    features = frame[columns]
    if perturbed:
        features = _perturbed(config, features)
    raw = _predict(context, config, model_file, model, features, "predict", perturbed)
    predicted = np.asarray(raw)
    if len(predicted) != len(frame):
        raise InputError(f"{display}: predict gave {len(predicted)} values for {len(frame)} rows")
    if task == "regression":
        values = np.asarray(predicted, dtype=np.float64).reshape(-1)
        data = Regressed(truth.to_numpy(np.float64), values)
        return Scored(display, data, predicted, None, tuple(columns))
    proba = None
    own_proba = None
    if callable(getattr(model, "predict_proba", None)):
        raw = _predict(context, config, model_file, model, features, "predict_proba", perturbed)
        own_proba = np.asarray(raw, dtype=np.float64)
        proba = _aligned(own_proba, model, classes)
    classified = Classified(
        _codes(truth.to_numpy(), classes, context.display(config.data)),
        _codes(predicted, classes, f"{display}: predictions"),
        proba,
        len(classes),
        _positive(config, classes) if task == "binary" else 0,
    )
    scores = _user_scores(proba, classified)
    return Scored(display, classified, predicted, scores, tuple(columns), own_proba)


def _perturbed(config: PerformanceConfig, features: pd.DataFrame) -> pd.DataFrame:
    settings = config.sensitivity
    columns = [c for c in settings.columns or features.columns if c in features.columns]
    return perturb(features, columns, noise=settings.noise, swap=settings.swap, seed=config.seed)


def _aligned(raw: NDArray[np.float64], model: Any, classes: list[Any]) -> NDArray[np.float64]:
    own = list(getattr(model, "classes_", classes[: raw.shape[1]]))
    proba = np.zeros((len(raw), len(classes)))
    for column, label in enumerate(own):
        proba[:, classes.index(label)] = raw[:, column]
    return proba


def _user_scores(proba: NDArray[np.float64] | None, data: Classified) -> NDArray[np.float64] | None:
    """``y_score`` for user metrics: the positive class's probability (binary), else all."""
    if proba is None:
        return None
    return proba[:, data.positive] if data.classes == 2 else proba


def _dummy(task: str, truth: pd.Series, candidate: Scored, classes: list[Any]) -> Scored:
    """The no-skill baseline: the class prior (most frequent class) or the mean."""
    data = candidate.data
    if isinstance(data, Regressed):
        mean = float(np.mean(data.truth))
        values = np.full(len(data.truth), mean)
        return Scored(
            "a dummy model predicting the mean", Regressed(data.truth, values), values, None
        )
    shares = np.bincount(data.truth, minlength=data.classes) / max(len(data.truth), 1)
    majority = int(np.argmax(shares))
    proba = np.tile(shares, (len(data.truth), 1))
    dummy = Classified(
        data.truth,
        np.full(len(data.truth), majority, dtype=np.intp),
        proba,
        data.classes,
        data.positive,
    )
    labels = np.full(len(data.truth), classes[majority], dtype=object)
    return Scored(
        "a dummy model predicting the class prior", dummy, labels, _user_scores(proba, dummy)
    )


def evaluate(config: PerformanceConfig, context: Context) -> Evaluation:
    """Read the evaluation data, load both models and score them once per run."""
    with reading("performance.data"):
        frame = context.frame(config.data)
    display = context.display(config.data)
    if config.target not in frame.columns:
        raise InputError(f"{display} has no column {config.target!r} (performance.target)")
    truth = frame[config.target]
    missing = int(truth.isna().sum())
    if missing:
        raise InputError(
            f"{display}: the target {config.target!r} is missing in {missing} row(s); "
            "evaluate on labelled rows only"
        )
    config = _fetched(config, context)
    models = [_load(config.candidate, config, context)]
    if config.baseline is not None:
        models.append(_load(config.baseline, config, context))
    if not len(frame):
        raise InputError(f"{display} has no rows to evaluate")
    task = _task(config, truth, models)
    if task == "regression" and any(_is_classifier(m) for m in models):
        raise ConfigError(
            "task = 'regression' but the model is a classifier (it has classes_ or "
            "predict_proba): use binary or multiclass, or leave task out",
            key="performance.task",
        )
    if task != "regression":
        _check_labels(truth, models, display, config.target)
    classes = [] if task == "regression" else _classes(truth, models)
    if task == "binary" and len(classes) > 2:
        raise ConfigError(
            f"task = 'binary' but the target and models hold {len(classes)} labels",
            key="performance.task",
        )
    if task == "regression" and not _is_numeric(truth):
        raise ConfigError(
            f"task = 'regression' but the target {config.target!r} is not numeric",
            key="performance.task",
        )
    with reading("performance.candidate"):
        candidate = _score(
            context, config, config.candidate, models[0], frame, task, truth, classes
        )
    if config.baseline is not None:
        with reading("performance.baseline"):
            baseline = _score(
                context, config, config.baseline, models[1], frame, task, truth, classes
            )
    else:
        baseline = _dummy(task, truth, candidate, classes)
    return Evaluation(
        task=task,
        frame=frame,
        truth=truth.to_numpy(),
        classes=tuple(classes),
        candidate=candidate,
        baseline=baseline,
        baseline_is_dummy=config.baseline is None,
        models=tuple(models),
    )


def shared_evaluation(config: PerformanceConfig, context: Context) -> Evaluation:
    """:func:`evaluate`, once per run for the same models, data and labels: the
    performance and fairness gates share it."""
    key = (
        "evaluation",
        config.candidate,
        config.baseline,
        config.data,
        config.target,
        config.task,
        config.positive,
        config.features,
        config.exclude,
        config.trusted,
    )
    return context.memo(key, lambda: evaluate(config, context))


def perturbed_scores(
    config: PerformanceConfig, context: Context, evaluation: Evaluation
) -> tuple[Scored, Scored]:
    """Candidate and baseline scored on perturbed inputs (the dummy is not perturbable:
    its predictions stay as they are)."""
    frame = evaluation.frame
    truth = frame[config.target]
    classes = list(evaluation.classes)
    task = evaluation.task
    with reading("performance.candidate"):
        candidate = _score(
            context,
            config,
            config.candidate,
            evaluation.models[0],
            frame,
            task,
            truth,
            classes,
            perturbed=True,
        )
    if config.baseline is None:
        return candidate, evaluation.baseline
    with reading("performance.baseline"):
        baseline = _score(
            context,
            config,
            config.baseline,
            evaluation.models[1],
            frame,
            task,
            truth,
            classes,
            perturbed=True,
        )
    return candidate, baseline


def _fetched(config: PerformanceConfig, context: Context) -> PerformanceConfig:
    """``config`` with its MLflow URIs downloaded, once per run."""
    from dataclasses import replace

    from mlgates.stages.performance.mlflow_model import fetch

    def local(model: ModelFile | None) -> ModelFile | None:
        if model is None or model.uri is None:
            return model
        uri = model.uri
        return context.memo(("mlflow-fetch", uri), lambda: fetch(model, context.cache_dir))

    candidate = local(config.candidate)
    assert candidate is not None
    return replace(config, candidate=candidate, baseline=local(config.baseline))


def _load(model: ModelFile, config: PerformanceConfig, context: Context) -> Any:
    shown = model.uri or context.display(model.path)
    return context.model(model.path, lambda _: load_model(model, shown, config.trusted))


def _is_numeric(values: pd.Series) -> bool:
    """Numbers, not booleans."""
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(values)) and not pd.api.types.is_bool_dtype(values)


__all__ = ["Evaluation", "Scored", "evaluate", "perturbed_scores", "shared_evaluation"]
