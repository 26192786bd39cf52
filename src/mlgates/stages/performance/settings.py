"""The ``[performance]`` table: its metrics, its keys and their validation."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from mlgates.authoring import (
    HISTORY_ANCHORS,
    CheckSpec,
    MetricInfo,
    TableReader,
    replace_checks,
)
from mlgates.core import ConfigError, Direction
from mlgates.stages.performance.deepchecks_suite import SUITES, DeepchecksSettings
from mlgates.stages.performance.sensitivity import SensitivitySettings
from mlgates.tables import config_path
from mlgates.text import did_you_mean
from mlgates.thresholds import Anchor

STAGE = "performance"
TASKS = ("binary", "multiclass", "regression")
COST_CELLS = ("tp", "fp", "tn", "fn")
_ANCHORS = HISTORY_ANCHORS | {Anchor.BASELINE}


def _metric(description: str, direction: Direction) -> MetricInfo:
    return MetricInfo(
        description,
        direction=direction,
        selector="slice",
        anchors=_ANCHORS,
        interval=True,
        track_members=True,
    )


_HIGHER, _LOWER = Direction.HIGHER, Direction.LOWER

CLASSIFICATION_METRICS: Mapping[str, MetricInfo] = {
    "accuracy": _metric("share of rows predicted right", _HIGHER),
    "balanced_accuracy": _metric("mean recall over the classes", _HIGHER),
    "precision": _metric("precision of the positive class (binary)", _HIGHER),
    "recall": _metric("recall of the positive class (binary)", _HIGHER),
    "f1": _metric("F1 of the positive class (binary)", _HIGHER),
    "precision_macro": _metric("precision, unweighted mean over classes", _HIGHER),
    "recall_macro": _metric("recall, unweighted mean over classes", _HIGHER),
    "f1_macro": _metric("F1, unweighted mean over classes", _HIGHER),
    "precision_weighted": _metric("precision, mean over classes weighted by support", _HIGHER),
    "recall_weighted": _metric("recall, mean over classes weighted by support", _HIGHER),
    "f1_weighted": _metric("F1, mean over classes weighted by support", _HIGHER),
    "roc_auc": _metric("area under the ROC curve (multiclass: one-vs-rest, macro)", _HIGHER),
    "pr_auc": _metric("average precision (multiclass: one-vs-rest, macro)", _HIGHER),
    "log_loss": _metric("mean negative log probability of the true class", _LOWER),
    "brier": _metric("mean squared error of the predicted probabilities", _LOWER),
    "ece": _metric("expected calibration error of the top-class confidence", _LOWER),
    "expected_cost": _metric("mean cost per row from the cost table (binary)", _LOWER),
}
REGRESSION_METRICS: Mapping[str, MetricInfo] = {
    "mae": _metric("mean absolute error", _LOWER),
    "rmse": _metric("root mean squared error", _LOWER),
    "r2": _metric("coefficient of determination", _HIGHER),
    "mape": _metric("mean absolute percentage error, as a fraction", _LOWER),
}
SENSITIVITY_METRICS: Mapping[str, MetricInfo] = {
    "flip_rate": _metric(
        "share of predicted labels that change when the inputs are slightly perturbed", _LOWER
    ),
    "metric_drop": _metric(
        "how much the sensitivity metric worsens on slightly perturbed inputs", _LOWER
    ),
}
DEEPCHECKS = "deepchecks"
METRICS: Mapping[str, MetricInfo] = {
    **CLASSIFICATION_METRICS,
    **REGRESSION_METRICS,
    **SENSITIVITY_METRICS,
    DEEPCHECKS: MetricInfo(
        "the conditions of a deepchecks suite or checks ([performance.deepchecks])",
        selector="condition",
    ),
}

_KEYS = (
    "candidate",
    "baseline",
    "trusted",
    "data",
    "target",
    "task",
    "positive",
    "features",
    "exclude",
    "checks",
    "slice_checks",
    "slices",
    "min_rows",
    "min_slice_size",
    "resamples",
    "seed",
    "cost",
    "metrics",
    "sensitivity",
    "deepchecks",
)
_DEEPCHECKS_KEYS = ("suite", "checks", "train", "cat_features")
_SENSITIVITY_KEYS = ("noise", "swap", "metric", "columns")
_MODEL_KEYS = ("path", "sha256")
_USER_METRIC_KEYS = ("function", "direction", "description")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:/")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class ModelFile:
    """A model file (or MLflow model directory), with the sha256 it must have when the
    config pins one; ``uri`` for an MLflow URI (``runs:/...``, ``models:/...``), fetched
    when the run loads it."""

    path: Path
    key: str
    sha256: str | None = None
    uri: str | None = None


@dataclass(frozen=True)
class UserMetric:
    """A metric computed by the user's ``module:function``."""

    name: str
    function: str
    direction: Direction
    description: str = ""


@dataclass(frozen=True)
class PerformanceConfig:
    """The validated ``[performance]`` table."""

    candidate: ModelFile
    data: Path
    target: str
    baseline: ModelFile | None = None
    trusted: tuple[str, ...] = ()
    task: str | None = None
    positive: str | int | float | bool | None = None
    features: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    checks: tuple[CheckSpec, ...] = ()
    slice_checks: tuple[CheckSpec, ...] | None = None
    slices: tuple[str, ...] = ()
    min_rows: int = 100
    min_slice_size: int = 100
    resamples: int = 1000
    seed: int = 0
    cost: Mapping[str, float] = field(default_factory=dict)
    user_metrics: Mapping[str, UserMetric] = field(default_factory=dict)
    sensitivity: SensitivitySettings = field(default_factory=SensitivitySettings)
    deepchecks: DeepchecksSettings = field(default_factory=DeepchecksSettings)
    root: Path = Path(".")

    @property
    def metrics(self) -> Mapping[str, MetricInfo]:
        """Built-in metrics plus the user's."""
        if not self.user_metrics:
            return METRICS
        own = {
            name: _metric(
                metric.description or f"{metric.function} (user metric)", metric.direction
            )
            for name, metric in self.user_metrics.items()
        }
        return {**METRICS, **own}


def parse_performance_config(table: TableReader) -> PerformanceConfig:
    """Read ``[performance]``; see docs/performance-gate.md for every key."""
    table.expect(_KEYS)
    candidate = _model_file(table, "candidate", required=True)
    assert candidate is not None
    data = table.path("data", required=True)
    assert data is not None
    target = table.string("target")
    if not target:
        raise table.error("target", "is required: the column holding the true labels or values")
    user_metrics = _user_metrics(table)
    partial = PerformanceConfig(
        candidate=candidate, data=data, target=target, user_metrics=user_metrics
    )
    metrics = partial.metrics
    positive = table.raw("positive")
    if isinstance(positive, (dict, list)):
        raise table.error("positive", f"expected the label of the positive class, got {positive!r}")
    config = replace(
        partial,
        baseline=_model_file(table, "baseline"),
        trusted=table.strings("trusted"),
        task=table.choice("task", (*TASKS, "auto"), "auto"),
        positive=positive,
        features=table.strings("features"),
        exclude=table.strings("exclude"),
        checks=table.checks("checks", STAGE, metrics),
        slice_checks=(
            table.checks("slice_checks", STAGE, metrics) if table.has("slice_checks") else None
        ),
        slices=table.strings("slices"),
        min_rows=table.integer("min_rows", 100, minimum=1),
        min_slice_size=table.integer("min_slice_size", 100, minimum=1),
        resamples=table.integer("resamples", 1000, minimum=100, maximum=100_000),
        seed=table.integer("seed", 0, minimum=0),
        cost=_cost(table),
        sensitivity=_sensitivity(table, metrics),
        deepchecks=_deepchecks(table),
        root=table.root,
    )
    if config.task == "auto":
        config = replace(config, task=None)
    for spec in config.checks + (config.slice_checks or ()):
        validate_check(spec, config, file=table.file)
    if target in config.features:
        raise table.error("features", f"lists the target {target!r}; leave it out")
    return config


def _model_file(table: TableReader, name: str, *, required: bool = False) -> ModelFile | None:
    raw = table.raw(name)
    if raw is None:
        if required:
            raise table.error(name, "is required: the path of the model file")
        return None
    reader, field_name, digest = table, name, None
    if isinstance(raw, dict):
        reader = table.sub(name, table.table(name))
        reader.expect(_MODEL_KEYS)
        field_name = "path"
        digest = reader.string("sha256")
        if digest is not None:
            digest = digest.strip().lower()
            if not _SHA256.fullmatch(digest):
                raise reader.error("sha256", "expected 64 hexadecimal digits (sha256sum's output)")
        if not reader.has("path"):
            raise reader.error("path", "is required: the path of the model file")
    elif not isinstance(raw, str):
        raise table.error(
            name, 'expected a path, or a table { path = "model.joblib", sha256 = "..." }'
        )
    value = reader.string(field_name)
    assert value is not None
    if _URI.match(value):
        return ModelFile(Path(value), table.key(name), digest, uri=value)
    path = config_path(value, table.root, must_exist=False, error=reader.error, name=field_name)
    if path.is_dir():
        if not (path / "MLmodel").is_file():
            raise reader.error(
                field_name, f"{value!r} is a directory without an MLmodel file; name a model file"
            )
        return ModelFile(path, table.key(name), digest)
    checked = reader.path(field_name)
    assert checked is not None
    return ModelFile(checked, table.key(name), digest)


def _user_metrics(table: TableReader) -> dict[str, UserMetric]:
    """``[performance.metrics]``: ``name = "module:function"`` or a table with a direction."""
    found = {}
    for name, raw in table.table("metrics").items():
        key = f"metrics.{name}"
        if not _NAME.fullmatch(name):
            raise table.error(key, "a metric name is letters, digits and underscores")
        if name in METRICS:
            raise table.error(key, f"{name!r} is a built-in metric; give yours another name")
        if isinstance(raw, str):
            raw = {"function": raw}
        if not isinstance(raw, dict):
            raise table.error(key, 'expected "module:function" or a table { function, direction }')
        entry = table.sub(key, raw)
        entry.expect(_USER_METRIC_KEYS)
        function = entry.string("function")
        if not function or ":" not in function:
            raise entry.error("function", 'expected "module:function", e.g. "kpis:profit"')
        direction = entry.choice("direction", ("higher", "lower"), "higher")
        found[name] = UserMetric(
            name,
            function,
            Direction.HIGHER if direction == "higher" else Direction.LOWER,
            entry.string("description") or "",
        )
    return found


def _sensitivity(table: TableReader, metrics: Mapping[str, MetricInfo]) -> SensitivitySettings:
    entry = table.sub("sensitivity", table.table("sensitivity"))
    entry.expect(_SENSITIVITY_KEYS)
    metric = entry.string("metric")
    watchable = [m for m in metrics if m not in SENSITIVITY_METRICS and m != DEEPCHECKS]
    if metric is not None and metric not in watchable:
        known = watchable
        raise entry.error(
            "metric",
            f"{metric!r} is not a metric{did_you_mean(metric, known)}; use one of "
            f"{', '.join(known)}",
        )
    return SensitivitySettings(
        noise=entry.number("noise", 0.05, minimum=0.0, maximum=1.0),
        swap=entry.number("swap", 0.05, minimum=0.0, maximum=1.0),
        metric=metric,
        columns=entry.strings("columns"),
    )


def _deepchecks(table: TableReader) -> DeepchecksSettings:
    entry = table.sub("deepchecks", table.table("deepchecks"))
    entry.expect(_DEEPCHECKS_KEYS)
    suite = entry.choice("suite", (*SUITES, ""), "") or None
    cat_features = entry.strings("cat_features") if entry.has("cat_features") else None
    return DeepchecksSettings(
        suite=suite,
        checks=entry.strings("checks"),
        train=entry.path("train"),
        cat_features=cat_features,
    )


def _cost(table: TableReader) -> dict[str, float]:
    raw = table.table("cost")
    entry = table.sub("cost", raw)
    entry.expect(COST_CELLS)
    costs = {cell: entry.number(cell, 0.0) for cell in COST_CELLS if entry.has(cell)}
    if raw and not any(costs.values()):
        raise table.error(
            "cost", "every cost is 0: give the cost of errors, e.g. { fp = 5, fn = 50 }"
        )
    return costs


def validate_check(spec: CheckSpec, config: PerformanceConfig, *, file: str | None = None) -> None:
    """Reject checks the performance gate cannot decide as written."""
    threshold = spec.threshold
    key = spec.origin.key
    if threshold.metric == DEEPCHECKS:
        raise ConfigError(
            f"{threshold}: deepchecks conditions decide themselves; name a suite or checks in "
            "[performance.deepchecks] instead",
            file=file,
            key=key,
        )
    if threshold.metric == "expected_cost" and not config.cost:
        raise ConfigError(
            f"{threshold} needs a cost table: set performance.cost, e.g. {{ fp = 5, fn = 50 }}",
            file=file,
            key=key,
        )
    selector = threshold.selector
    if selector is not None:
        column, equals, value = selector.partition("=")
        if not equals or not column.strip() or not value.strip():
            raise ConfigError(
                f"{threshold}: name a slice as column=value, e.g. "
                f"'{threshold.metric}[region=north]'",
                file=file,
                key=key,
            )
        if column.strip() not in config.slices:
            hint = did_you_mean(column.strip(), config.slices)
            raise ConfigError(
                f"{threshold}: {column.strip()!r} is not a slice column{hint}; "
                f"add it to performance.slices",
                file=file,
                key=key,
            )


def override(config: PerformanceConfig, spec: CheckSpec) -> PerformanceConfig:
    """``config`` with ``spec`` replacing the check of the same metric, slice and anchor."""
    validate_check(spec, config)
    return replace(config, checks=replace_checks(config.checks, spec))


__all__ = [
    "CLASSIFICATION_METRICS",
    "COST_CELLS",
    "DEEPCHECKS",
    "METRICS",
    "REGRESSION_METRICS",
    "SENSITIVITY_METRICS",
    "STAGE",
    "TASKS",
    "ModelFile",
    "PerformanceConfig",
    "UserMetric",
    "override",
    "parse_performance_config",
    "validate_check",
]
