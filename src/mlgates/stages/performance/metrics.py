"""From a metric name to its scorer, for the task at hand.

Built-in metrics map to :mod:`mlgates.stats.scoring`; user metrics
(``[performance.metrics]``) are imported from the config's directory and
called as ``f(y_true, y_pred, y_score, sample_weight)``.
"""

from __future__ import annotations

import importlib
import numbers
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mlgates.core import ConfigError, Direction
from mlgates.stages.performance.evaluation import Scored
from mlgates.stages.performance.settings import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    SENSITIVITY_METRICS,
    PerformanceConfig,
    UserMetric,
)
from mlgates.stats import scoring
from mlgates.stats.scoring import Classified, Regressed, Scorer

BOOTSTRAP_GROUPS = 4096
"""Resampled ROC AUC and average precision bin scores into this many quantiles (see
:class:`mlgates.stats.paired.Statistic`); the point value is always exact."""

NEEDS_BOTH_CLASSES = frozenset(
    {"balanced_accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc"}
)
"""Metrics that mean nothing unless every class is present (binary tasks)."""

_CLASS_METRICS = {
    "precision": ("precision", "binary"),
    "recall": ("recall", "binary"),
    "f1": ("f1", "binary"),
    **{
        f"{kind}_{average}": (kind, average)
        for kind in ("precision", "recall", "f1")
        for average in ("macro", "weighted")
    },
}


class UserMetricError(Exception):
    """A user metric raised or returned something that is not a number."""


def load_user_function(metric: UserMetric, config: PerformanceConfig) -> Callable[..., Any]:
    """Import ``module:function``, looking in the config's directory first."""
    module_name, _, attribute = metric.function.partition(":")
    key = f"performance.metrics.{metric.name}"
    root = str(config.root)
    added = root not in sys.path
    if added:
        sys.path.insert(0, root)
    beside = config.root / (module_name.replace(".", "/") + ".py")
    try:
        module = _from_file(beside) if beside.is_file() else importlib.import_module(module_name)
    except Exception as exc:
        raise ConfigError(
            f"cannot import {module_name!r} (looked in {root} and on sys.path): "
            f"{type(exc).__name__}: {exc}",
            key=key,
        ) from None
    finally:
        if added:
            sys.path.remove(root)
    found: Any = module
    for part in attribute.split("."):
        found = getattr(found, part, None)
    if not callable(found):
        raise ConfigError(f"{module_name!r} has no function {attribute!r}", key=key)
    return found  # type: ignore[no-any-return]


def _from_file(path: Path) -> Any:
    """The module in ``path``, loaded afresh under a private name: two configs may each have
    their own ``kpis.py``."""
    import importlib.util

    name = f"_mlgates_user_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _user_scorer(
    function: Callable[..., Any],
    name: str,
    truth: NDArray[Any],
    scored: Scored,
    rows: NDArray[np.intp] | None,
) -> Scorer:
    def pick(values: NDArray[Any] | None) -> NDArray[Any] | None:
        return values if values is None or rows is None else values[rows]

    y_true, y_pred, y_score = pick(truth), pick(scored.labels), pick(scored.scores)

    def score(weights: scoring.Weights) -> NDArray[np.float64]:
        out = np.empty(len(weights))
        for index, row in enumerate(weights):
            weight = None if bool(np.all(row == 1)) else np.asarray(row, dtype=np.float64)
            try:
                value = function(y_true, y_pred, y_score, weight)
            except Exception as exc:
                raise UserMetricError(f"{name} raised {type(exc).__name__}: {exc}") from None
            if isinstance(value, np.ndarray) and value.ndim == 0:
                value = value.item()
            if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.number)):
                raise UserMetricError(
                    f"{name} (performance.metrics.{name}) returned {value!r}, not a number"
                )
            out[index] = float(value)
        return out

    return score


def _task_name(task: str) -> str:
    return "regression" if task == "regression" else f"{task} classification"


def scorer(
    metric: str,
    scored: Scored,
    *,
    task: str,
    config: PerformanceConfig,
    truth: NDArray[Any],
    rows: NDArray[np.intp] | None = None,
    resampling: bool = False,
    user_functions: dict[str, Callable[..., Any]] | None = None,
    perturbed: Callable[[], Scored] | None = None,
) -> Scorer:
    """The scorer of ``metric`` on ``scored`` (restricted to ``rows``).

    ``perturbed`` gives the same model's predictions on perturbed inputs, for
    ``flip_rate`` and ``metric_drop``. Raises :class:`ConfigError` for a metric
    that does not fit the task, and ``ValueError`` for one the model cannot
    give (no probabilities).
    """
    if metric in SENSITIVITY_METRICS:
        assert perturbed is not None
        moved = perturbed()
        if metric == "flip_rate":
            if task == "regression":
                raise ConfigError(
                    "flip_rate counts changed labels, which regression has none of: "
                    "use metric_drop",
                    key="performance.checks",
                )
            before = scored.labels if rows is None else scored.labels[rows]
            after = moved.labels if rows is None else moved.labels[rows]
            return scoring.weighted_mean(np.asarray(before != after, dtype=np.float64))
        watched = sensitivity_metric(config, task, scored)
        arguments = {
            "task": task,
            "config": config,
            "truth": truth,
            "rows": rows,
            "resampling": resampling,
            "user_functions": user_functions,
        }
        original = scorer(watched, scored, **arguments)  # type: ignore[arg-type]
        shaken = scorer(watched, moved, **arguments)  # type: ignore[arg-type]
        sign = 1.0 if config.metrics[watched].direction is Direction.HIGHER else -1.0

        def drop(weights: scoring.Weights) -> NDArray[np.float64]:
            return np.asarray(sign * (original(weights) - shaken(weights)), dtype=np.float64)

        return drop
    if metric in config.user_metrics:
        functions = user_functions if user_functions is not None else {}
        if metric not in functions:
            functions[metric] = load_user_function(config.user_metrics[metric], config)
        return _user_scorer(functions[metric], metric, truth, scored, rows)
    data = scored.data if rows is None else scored.data.subset(rows)
    if metric in REGRESSION_METRICS:
        if not isinstance(data, Regressed):
            raise ConfigError(
                f"{metric!r} is a regression metric; this evaluation is {_task_name(task)}: "
                f"use one of {', '.join(CLASSIFICATION_METRICS)}",
                key="performance.checks",
            )
        return {
            "mae": scoring.mae,
            "rmse": scoring.rmse,
            "r2": scoring.r2,
            "mape": scoring.mape,
        }[metric](data)
    if not isinstance(data, Classified):
        raise ConfigError(
            f"{metric!r} is a classification metric; this evaluation is regression: "
            f"use one of {', '.join(REGRESSION_METRICS)}",
            key="performance.checks",
        )
    groups = BOOTSTRAP_GROUPS if resampling else None
    if metric in _CLASS_METRICS:
        kind, average = _CLASS_METRICS[metric]
        if average == "binary" and task != "binary":
            raise ConfigError(
                f"{metric!r} is the positive class's {kind} of a binary task; this target has "
                f"{data.classes} classes: use {kind}_macro or {kind}_weighted",
                key="performance.checks",
            )
        return scoring.class_metric(data, kind, average)
    if metric == "expected_cost":
        if task != "binary":
            raise ConfigError(
                "expected_cost takes a binary cost table (fp, fn, tp, tn); this target has "
                f"{data.classes} classes",
                key="performance.cost",
            )
        return scoring.expected_cost(data, dict(config.cost))
    if metric == "roc_auc":
        return scoring.roc_auc(data, max_groups=groups)
    if metric == "pr_auc":
        return scoring.pr_auc(data, max_groups=groups)
    simple: dict[str, Callable[[Classified], Scorer]] = {
        "accuracy": scoring.accuracy,
        "balanced_accuracy": scoring.balanced_accuracy,
        "log_loss": scoring.log_loss,
        "brier": scoring.brier,
        "ece": scoring.ece,
    }
    return simple[metric](data)


def sensitivity_metric(config: PerformanceConfig, task: str, scored: Scored) -> str:
    """The metric ``metric_drop`` watches: configured, else ROC AUC (accuracy for a model
    without probabilities) or RMSE for regression."""
    if config.sensitivity.metric is not None:
        return config.sensitivity.metric
    if task == "regression":
        return "rmse"
    data = scored.data
    return "roc_auc" if isinstance(data, Classified) and data.proba is not None else "accuracy"


def point(score: Scorer, rows: int) -> float:
    """A scorer's value on the unweighted rows."""
    return float(score(np.ones((1, rows), dtype=np.float64))[0])


__all__ = [
    "BOOTSTRAP_GROUPS",
    "NEEDS_BOTH_CLASSES",
    "UserMetricError",
    "load_user_function",
    "point",
    "scorer",
    "sensitivity_metric",
]
