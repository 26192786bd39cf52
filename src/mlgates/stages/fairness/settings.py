"""The ``[fairness]`` table: its metrics, its keys and their validation.

The fairness gate judges the models of ``[performance]`` (candidate, baseline,
target, positive class) on the same labelled rows, or on its own ``data``.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from mlgates.authoring import HISTORY_ANCHORS, CheckSpec, MetricInfo, TableReader, replace_checks
from mlgates.core import ConfigError, Direction
from mlgates.stages.performance.settings import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    PerformanceConfig,
)
from mlgates.text import did_you_mean
from mlgates.thresholds import Anchor

STAGE = "fairness"
_HIGHER, _LOWER, _NEITHER = Direction.HIGHER, Direction.LOWER, Direction.NEITHER
_ANCHORS = HISTORY_ANCHORS | {Anchor.BASELINE}

_OWN_RATES: Mapping[str, tuple[str, Direction]] = {
    "selection_rate": ("share of rows predicted positive", _NEITHER),
    "tpr": ("true positive rate: share of positive rows predicted positive", _HIGHER),
    "fpr": ("false positive rate: share of negative rows predicted positive", _LOWER),
    "fnr": ("false negative rate: share of positive rows predicted negative", _LOWER),
    "tnr": ("true negative rate: share of negative rows predicted negative", _HIGHER),
}
GROUP_METRICS: Mapping[str, tuple[str, Direction]] = {
    **_OWN_RATES,
    **{
        name: (info.description, info.direction)
        for name, info in {**CLASSIFICATION_METRICS, **REGRESSION_METRICS}.items()
    },
}
"""Metrics measured per group: description and direction."""

ALIASES: Mapping[str, str] = {"recall": "tpr"}
"""Group metrics that are another's rate under a second name."""

NAMED_DISPARITIES: Mapping[str, tuple[str, ...]] = {
    "demographic_parity": ("selection_rate",),
    "equalized_odds": ("tpr", "fpr"),
    "equal_opportunity": ("tpr",),
}
"""The usual named disparities and the rates they compare (equalized odds: the worse of
its two)."""

KINDS = ("difference", "ratio")
SIGNED = frozenset({"r2"})
"""Group metrics that can be negative: no ratios of them."""
TO_OVERALL = "_to_overall"

SENSITIVE_IN_TOP_K = "sensitive_in_top_k"
RANK_CORRELATION = "importance_rank_correlation"
PROXY_AUC = "proxy_auc"
MEASURED_ONCE = (SENSITIVE_IN_TOP_K, RANK_CORRELATION)
"""The explainability metrics measured once per run (no group, no feature)."""


@dataclass(frozen=True)
class Disparity:
    """What a disparity metric compares: rates, kind, and against what."""

    rates: tuple[str, ...]
    kind: str
    to_overall: bool


def _disparities() -> dict[str, Disparity]:
    found: dict[str, Disparity] = {}
    bases: dict[str, tuple[str, ...]] = {m: (m,) for m in GROUP_METRICS}
    bases.update({m: (a,) for m, a in ALIASES.items()})
    bases.update(NAMED_DISPARITIES)
    for base, rates in bases.items():
        for kind in KINDS:
            if kind == "ratio" and base in SIGNED:
                continue
            for to_overall in (False, True):
                name = f"{base}_{kind}{TO_OVERALL if to_overall else ''}"
                found[name] = Disparity(tuple(ALIASES.get(r, r) for r in rates), kind, to_overall)
    return found


DISPARITIES: Mapping[str, Disparity] = _disparities()


def _group_metric(description: str, direction: Direction) -> MetricInfo:
    return MetricInfo(
        description,
        direction=direction,
        selector="group",
        anchors=_ANCHORS,
        interval=True,
        track_members=True,
    )


def _describe(name: str, disparity: Disparity) -> str:
    rates = " or ".join(disparity.rates)
    against = "the value on all rows" if disparity.to_overall else "the group farthest from it"
    kind = "difference" if disparity.kind == "difference" else "ratio (smaller over larger)"
    return f"each group's {kind} of {rates} to {against}"


METRICS: Mapping[str, MetricInfo] = {
    **{name: _group_metric(*GROUP_METRICS[name]) for name in GROUP_METRICS},
    **{name: _group_metric(*GROUP_METRICS[target]) for name, target in ALIASES.items()},
    **{
        name: _group_metric(_describe(name, d), _LOWER if d.kind == "difference" else _HIGHER)
        for name, d in DISPARITIES.items()
    },
    SENSITIVE_IN_TOP_K: MetricInfo(
        "sensitive features among the candidate's top_k features by permutation importance",
        direction=_LOWER,
        anchors=HISTORY_ANCHORS,
    ),
    RANK_CORRELATION: MetricInfo(
        "Spearman correlation of candidate and baseline permutation importances over both "
        "models' top_k features",
        direction=_HIGHER,
        anchors=HISTORY_ANCHORS,
    ),
    PROXY_AUC: MetricInfo(
        "how well a feature alone predicts a sensitive group (out-of-fold ROC AUC)",
        direction=_LOWER,
        selector="feature",
        anchors=HISTORY_ANCHORS,
    ),
}

_KEYS = (
    "sensitive",
    "favourable",
    "intersections",
    "bins",
    "data",
    "checks",
    "min_group_size",
    "resamples",
    "seed",
    "top_k",
    "importance",
    "proxies",
)
_IMPORTANCE_KEYS = ("rows", "repeats")
_GROUP_START = re.compile(r"\s*([^=]+?)\s*=")
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


@dataclass(frozen=True)
class ImportanceSettings:
    """Permutation importance: rows sampled and shuffles per feature."""

    rows: int = 5000
    repeats: int = 5


@dataclass(frozen=True)
class FairnessConfig:
    """The validated ``[fairness]`` table, with the ``[performance]`` models it judges."""

    models: PerformanceConfig
    sensitive: tuple[str, ...]
    intersections: tuple[tuple[str, ...], ...] = ()
    bins: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    checks: tuple[CheckSpec, ...] = ()
    min_group_size: int = 30
    resamples: int = 1000
    seed: int = 0
    top_k: int = 5
    importance: ImportanceSettings = field(default_factory=ImportanceSettings)
    proxy_rows: int = 50_000
    favourable: str | int | float | bool | None = None
    own_data: bool = False

    @property
    def data_key(self) -> str:
        """The config key that names :attr:`data`."""
        return "fairness.data" if self.own_data else "performance.data"

    @property
    def data(self) -> Path:
        """The labelled rows the models are judged on."""
        return self.models.data

    @property
    def groupings(self) -> tuple[tuple[str, ...], ...]:
        """Every grouping: each sensitive column alone, then the intersections."""
        return tuple((name,) for name in self.sensitive) + self.intersections


def parse_fairness_config(table: TableReader) -> FairnessConfig:
    """Read ``[fairness]``; see docs/fairness-gate.md for every key."""
    table.expect(_KEYS)
    performance = table.stages.get("performance")
    if not isinstance(performance, PerformanceConfig):
        raise ConfigError(
            "the fairness gate judges the models of [performance]: add a [performance] table "
            "with candidate, data and target (its checks may be empty)",
            file=table.file,
            key=table.prefix or STAGE,
        )
    sensitive = table.strings("sensitive")
    if not sensitive:
        raise table.error(
            "sensitive", 'is required: the columns that define the groups, e.g. ["sex", "race"]'
        )
    repeated = sorted({name for name in sensitive if sensitive.count(name) > 1})
    if repeated:
        raise table.error("sensitive", f"names {', '.join(map(repr, repeated))} twice")
    odd = [name for name in sensitive if "=" in name or "," in name or not name.strip()]
    if odd:
        raise table.error(
            "sensitive",
            f"{odd[0]!r}: a sensitive column's name may not hold '=' or ',' (groups are "
            "written column=value, column=value); rename the column",
        )
    if performance.target in sensitive:
        raise table.error("sensitive", f"{performance.target!r} is the target, not a group")
    models = performance
    favourable = table.raw("favourable")
    if isinstance(favourable, (dict, list)):
        raise table.error(
            "favourable", f"expected the label of the favourable outcome, got {favourable!r}"
        )
    if table.has("data"):
        data = table.path("data")
        assert data is not None
        models = replace(performance, data=data)
    config = FairnessConfig(
        models=models,
        sensitive=sensitive,
        intersections=_intersections(table, sensitive),
        bins=_bins(table, sensitive),
        checks=table.checks("checks", STAGE, METRICS),
        min_group_size=table.integer("min_group_size", 30, minimum=1),
        resamples=table.integer("resamples", 1000, minimum=100, maximum=100_000),
        seed=table.integer("seed", 0, minimum=0),
        top_k=table.integer("top_k", 5, minimum=1),
        importance=_importance(table),
        proxy_rows=_proxy_rows(table),
        favourable=favourable,
        own_data=table.has("data"),
    )
    checks = tuple(validate_check(spec, config, file=table.file) for spec in config.checks)
    return replace(config, checks=checks)


def _intersections(table: TableReader, sensitive: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    raw = table.raw("intersections")
    if raw is None or raw is False:
        return ()
    if raw is True:
        if len(sensitive) > 9:
            raise table.error(
                "intersections",
                f"true intersects all {len(sensitive)} sensitive columns; at most nine: name "
                'the intersections instead, e.g. [["sex", "race"]]',
            )
        return (sensitive,) if len(sensitive) > 1 else ()
    example = '[["sex", "race"]]'
    if not isinstance(raw, list) or not all(isinstance(item, list) for item in raw):
        raise table.error(
            "intersections", f"expected true, false or a list of column lists such as {example}"
        )
    found = []
    for item in raw:
        if not 2 <= len(item) <= 9 or not all(isinstance(name, str) for name in item):
            raise table.error(
                "intersections",
                f"{item!r}: an intersection is two to nine sensitive columns, e.g. {example}",
            )
        unknown = [name for name in item if name not in sensitive]
        if unknown:
            raise table.error(
                "intersections",
                f"{unknown[0]!r} is not in fairness.sensitive{did_you_mean(unknown[0], sensitive)}",
            )
        ordered = tuple(name for name in sensitive if name in item)
        if len(set(item)) != len(item) or ordered in found:
            raise table.error("intersections", f"{item!r} repeats a column or an intersection")
        found.append(ordered)
    return tuple(found)


def _bins(table: TableReader, sensitive: tuple[str, ...]) -> dict[str, tuple[float, ...]]:
    found = {}
    for name, edges in table.table("bins").items():
        key = f"bins.{name}"
        if name not in sensitive:
            raise table.error(
                key, f"{name!r} is not in fairness.sensitive{did_you_mean(name, sensitive)}"
            )
        if (
            not isinstance(edges, list)
            or not edges
            or not all(isinstance(e, (int, float)) and not isinstance(e, bool) for e in edges)
            or not all(math.isfinite(e) for e in edges)
        ):
            raise table.error(key, "expected a list of numbers, the edges, e.g. [25, 45, 65]")
        if any(b <= a for a, b in itertools.pairwise(edges)):
            raise table.error(key, f"{edges!r}: the edges must increase")
        found[name] = tuple(float(e) for e in edges)
    return found


def _importance(table: TableReader) -> ImportanceSettings:
    entry = table.sub("importance", table.table("importance"))
    entry.expect(_IMPORTANCE_KEYS)
    return ImportanceSettings(
        rows=entry.integer("rows", 5000, minimum=100),
        repeats=entry.integer("repeats", 5, minimum=2, maximum=100),
    )


def _proxy_rows(table: TableReader) -> int:
    entry = table.sub("proxies", table.table("proxies"))
    entry.expect(("rows",))
    return entry.integer("rows", 50_000, minimum=200)


def group_selector(parts: tuple[tuple[str, str], ...]) -> str:
    """The selector of one group: ``sex=female`` or ``sex=female, race=black``."""
    return ", ".join(f"{column}={value}" for column, value in parts)


def parse_group(selector: str, columns: tuple[str, ...] = ()) -> tuple[tuple[str, str], ...]:
    """``sex=female, race=black`` as ((column, value), ...); () when it is not one.

    A comma starts the next column only when a column name and ``=`` follow it (one
    of ``columns``, or a plain name): a value may hold commas (``race=hispanic,
    latino``).
    """
    parts: list[list[str]] = []
    for piece in selector.split(","):
        match = _GROUP_START.match(piece)
        starts = match is not None and (
            match.group(1) in columns or _PLAIN_NAME.fullmatch(match.group(1)) is not None
        )
        if starts and match is not None:
            parts.append([match.group(1), piece[match.end() :]])
        elif parts:
            parts[-1][1] += "," + piece
        else:
            return ()
    return tuple((column, value.strip()) for column, value in parts)


def validate_check(
    spec: CheckSpec, config: FairnessConfig, *, file: str | None = None
) -> CheckSpec:
    """``spec`` with its group written as the gate names it (columns in the order of
    ``sensitive``), or a :class:`ConfigError` when the gate cannot decide it."""
    threshold = spec.threshold
    key = spec.origin.key
    anchor = threshold.anchor
    if anchor is Anchor.BASELINE and config.models.baseline is None:
        raise ConfigError(
            f"{threshold} compares with the baseline model: set performance.baseline (the "
            "model in production), or bound the value itself",
            file=file,
            key=key,
        )
    if threshold.metric == RANK_CORRELATION and config.models.baseline is None:
        raise ConfigError(
            f"{threshold} compares the candidate's feature importances with the baseline's: "
            "set performance.baseline",
            file=file,
            key=key,
        )
    selector = threshold.selector
    if selector is None or threshold.metric == PROXY_AUC:
        return spec
    if METRICS[threshold.metric].selector is None:
        raise ConfigError(
            f"{threshold}: {threshold.metric} is measured once; remove [{selector}]",
            file=file,
            key=key,
        )
    parts = parse_group(selector, config.sensitive)
    columns = tuple(column for column, _ in parts)
    if not parts or len(set(columns)) != len(columns):
        raise ConfigError(
            f"{threshold}: name a group as column=value, or column=value, column=value for an "
            f"intersection; e.g. {threshold.metric}[{config.sensitive[0]}=<value>]",
            file=file,
            key=key,
        )
    ordered = tuple(c for c in config.sensitive if c in columns)
    if len(ordered) != len(columns):
        unknown = next(c for c in columns if c not in config.sensitive)
        raise ConfigError(
            f"{threshold}: {unknown!r} is not a sensitive column"
            f"{did_you_mean(unknown, config.sensitive)}; add it to fairness.sensitive",
            file=file,
            key=key,
        )
    if ordered not in config.groupings:
        raise ConfigError(
            f"{threshold}: {' x '.join(ordered)} is not an intersection of fairness."
            "intersections; add it there",
            file=file,
            key=key,
        )
    values = dict(parts)
    canonical = group_selector(tuple((column, values[column]) for column in ordered))
    return replace(spec, threshold=threshold.for_selector(canonical))


def override(config: FairnessConfig, spec: CheckSpec) -> FairnessConfig:
    """``config`` with ``spec`` replacing the check of the same metric, group and anchor."""
    return replace(config, checks=replace_checks(config.checks, validate_check(spec, config)))


__all__ = [
    "DISPARITIES",
    "GROUP_METRICS",
    "MEASURED_ONCE",
    "METRICS",
    "NAMED_DISPARITIES",
    "PROXY_AUC",
    "RANK_CORRELATION",
    "SENSITIVE_IN_TOP_K",
    "STAGE",
    "Disparity",
    "FairnessConfig",
    "ImportanceSettings",
    "group_selector",
    "override",
    "parse_fairness_config",
    "parse_group",
    "validate_check",
]
