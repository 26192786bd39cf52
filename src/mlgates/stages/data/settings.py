"""The ``[data]`` table: its metrics, its keys and their validation."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from mlgates.authoring import (
    HISTORY_ANCHORS,
    SECONDS,
    CheckSpec,
    MetricInfo,
    TableReader,
)
from mlgates.core import ConfigError, Direction, MissingExtraError
from mlgates.stages.data.freshness import validate_freshness
from mlgates.stages.data.pii import PII_KINDS
from mlgates.stages.data.roles import ROLES, VALUES_EXPECTED_NEW
from mlgates.text import did_you_mean
from mlgates.thresholds import Anchor

STAGE = "data"
DRIFT_METHODS = ("auto", "wasserstein", "jensenshannon", "psi", "ks")
MAX_BINS = 1000

METRICS: Mapping[str, MetricInfo] = {
    "drift": MetricInfo(
        "distance between the reference and current distribution of a column",
        direction=Direction.LOWER,
        selector="column",
    ),
    "missing_share": MetricInfo(
        "share of missing values in a column",
        direction=Direction.LOWER,
        selector="column",
        anchors=HISTORY_ANCHORS | {Anchor.REFERENCE},
        interval=True,
    ),
    "out_of_range": MetricInfo(
        "share of current values the reference never saw (numbers beyond its range, "
        "labels it never held), decided against what chance explains",
        direction=Direction.LOWER,
        selector="column",
    ),
    "pii": MetricInfo(
        "share of a text column's rows holding personal data of a kind the column is not "
        "allowed to hold (e-mail, phone, payment card, IBAN, US SSN, IP address)",
        direction=Direction.LOWER,
        selector="column",
    ),
    "stale": MetricInfo(
        "share of the reference newer than the current data's newest date, decided against "
        "what chance explains (last period's data sent again); on by default for date columns",
        direction=Direction.LOWER,
        selector="column",
    ),
    "freshness": MetricInfo(
        "age of the newest value of a date-time column at run time (now - max), current data "
        "only; bounds are durations such as 2d or 36h",
        direction=Direction.LOWER,
        selector="column",
        unit=SECONDS,
    ),
    "drift_share": MetricInfo(
        "share of checked columns that drifted", direction=Direction.LOWER, anchors=HISTORY_ANCHORS
    ),
    "row_count": MetricInfo(
        "number of rows in the current data",
        direction=Direction.HIGHER,
        anchors=HISTORY_ANCHORS | {Anchor.REFERENCE},
    ),
}

_KEYS = (
    "current",
    "reference",
    "schema",
    "expectations",
    "checks",
    "columns",
    "exclude",
    "drift_method",
    "drift_confidence",
    "min_rows",
    "bins",
    "pii",
    "roles",
)
_PII_KEYS = ("enabled", "allow", "kinds", "budget")
_COLUMN_KEYS = ("method", "drift", "out_of_range", "stale", "checks")


@dataclass(frozen=True)
class ColumnSettings:
    """Per-column overrides from ``[data.columns.<name>]``.

    ``drift`` and ``out_of_range`` are None when not set: the column's role decides.
    """

    method: str | None = None
    drift: bool | None = None
    out_of_range: bool | None = None
    stale: bool | None = None
    checks: tuple[CheckSpec, ...] = ()


@dataclass(frozen=True)
class PiiSettings:
    """The ``[data.pii]`` table: the compliance scan of text columns."""

    enabled: bool = True
    allow: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    kinds: tuple[str, ...] = PII_KINDS
    budget: int = 200_000


@dataclass(frozen=True)
class DataConfig:
    """The validated ``[data]`` table."""

    current: Path
    reference: Path | None = None
    schema: Path | None = None
    expectations: Path | None = None
    checks: tuple[CheckSpec, ...] = ()
    columns: Mapping[str, ColumnSettings] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    drift_method: str = "auto"
    drift_confidence: float = 0.99
    min_rows: int = 100
    bins: int = 100
    pii: PiiSettings = field(default_factory=PiiSettings)
    roles: Mapping[str, str] = field(default_factory=dict)

    def column(self, name: str) -> ColumnSettings:
        """The overrides for ``name`` (defaults when there are none)."""
        return self.columns.get(name, ColumnSettings())

    def checks_drift(self, name: str) -> bool:
        """Whether ``name`` gets a drift check: its own setting, else its role's default."""
        chosen = self.column(name).drift
        return self.roles.get(name) not in VALUES_EXPECTED_NEW if chosen is None else chosen

    def checks_out_of_range(self, name: str) -> bool:
        """Whether ``name`` gets an ``out_of_range`` check: its own setting, else its role's."""
        chosen = self.column(name).out_of_range
        return self.roles.get(name) not in VALUES_EXPECTED_NEW if chosen is None else chosen

    def checks_stale(self, name: str) -> bool:
        """Whether ``name`` gets a ``stale`` check: its own setting, else whether it holds dates."""
        chosen = self.column(name).stale
        return self.roles.get(name) == "datetime" if chosen is None else chosen


def parse_data_config(table: TableReader) -> DataConfig:
    """Read ``[data]``; see docs/configuration.md for every key."""
    table.expect(_KEYS)
    current = table.path("current", required=True)
    assert current is not None
    reference = table.path("reference")
    expectations = table.path("expectations")
    if expectations is not None and importlib.util.find_spec("great_expectations") is None:
        raise MissingExtraError(
            "a Great Expectations suite", "gx", file=table.file, key=table.key("expectations")
        )
    columns: dict[str, ColumnSettings] = {}
    for column, raw in table.table("columns").items():
        if not isinstance(raw, dict):
            raise table.error(f"columns.{column}", "expected a table of column settings")
        columns[column] = _column_settings(table.sub(f"columns.{column}", raw), column)
    config = DataConfig(
        current=current,
        reference=reference,
        schema=table.path("schema"),
        expectations=expectations,
        checks=table.checks("checks", STAGE, METRICS, one_bound_per_metric=True),
        columns=columns,
        exclude=table.strings("exclude"),
        drift_method=table.choice("drift_method", DRIFT_METHODS, "auto"),
        drift_confidence=table.number("drift_confidence", 0.99, minimum=0.5, maximum=0.99999),
        min_rows=table.integer("min_rows", 100, minimum=1),
        bins=table.integer("bins", 100, minimum=10, maximum=MAX_BINS),
        pii=_pii_settings(table.sub("pii", table.table("pii"))),
        roles=_roles(table),
    )
    for spec in config.checks + tuple(c for s in columns.values() for c in s.checks):
        validate_check(spec, config, file=table.file)
    return config


def _column_settings(reader: TableReader, column: str) -> ColumnSettings:
    reader.expect(_COLUMN_KEYS)
    method = reader.string("method")
    if method is not None and method not in DRIFT_METHODS[1:]:
        valid = ", ".join(DRIFT_METHODS[1:])
        raise reader.error("method", f"{method!r} is not a drift method; use one of {valid}")
    return ColumnSettings(
        method=method,
        drift=reader.boolean("drift", True) if reader.has("drift") else None,
        out_of_range=reader.boolean("out_of_range", True) if reader.has("out_of_range") else None,
        stale=reader.boolean("stale", True) if reader.has("stale") else None,
        checks=reader.checks("checks", STAGE, METRICS, selector=column, one_bound_per_metric=True),
    )


def _roles(table: TableReader) -> dict[str, str]:
    """``[data.roles]``: column name -> role (see :mod:`mlgates.stages.data.roles`)."""
    roles = {}
    for column, role in table.table("roles").items():
        if role not in ROLES:
            hint = did_you_mean(role, ROLES) if isinstance(role, str) else ""
            raise table.error(
                f"roles.{column}",
                f"{role!r} is not a column role{hint}; use one of {', '.join(ROLES)}",
            )
        roles[column] = role
    return roles


def _pii_settings(reader: TableReader) -> PiiSettings:
    reader.expect(_PII_KEYS)
    kinds = reader.strings("kinds") or PII_KINDS
    for kind in kinds:
        if kind not in PII_KINDS:
            raise reader.error("kinds", _unknown_kind(kind))
    allow: dict[str, tuple[str, ...]] = {}
    for column, allowed in reader.table("allow").items():
        if isinstance(allowed, str):
            allowed = [allowed]
        if not isinstance(allowed, list) or not all(isinstance(k, str) for k in allowed):
            raise reader.error(f"allow.{column}", 'expected a list of kinds, e.g. ["email"]')
        for kind in allowed:
            if kind not in PII_KINDS:
                raise reader.error(f"allow.{column}", _unknown_kind(kind))
        allow[column] = tuple(allowed)
    return PiiSettings(
        enabled=reader.boolean("enabled", True),
        allow=allow,
        kinds=kinds,
        budget=reader.integer("budget", 200_000, minimum=1_000),
    )


def _unknown_kind(kind: str) -> str:
    return f"{kind!r} is not a kind of personal data{did_you_mean(kind, PII_KINDS)}; " + (
        f"use {', '.join(PII_KINDS)}"
    )


def validate_check(spec: CheckSpec, config: DataConfig, *, file: str | None = None) -> None:
    """Reject checks the data gate cannot decide as written."""
    threshold = spec.threshold
    key = spec.origin.key
    if threshold.metric == "pii" and (threshold.op not in ("<=", "<") or threshold.anchor):
        raise ConfigError(
            f"a pii bound is a maximum share of rows: write 'pii <= {threshold.value:g}'",
            file=file,
            key=key,
        )
    if threshold.metric == "freshness":
        validate_freshness(spec, file=file)
    decided_by_stage = threshold.metric in ("drift", "out_of_range", "stale")
    if decided_by_stage and (threshold.op not in ("<=", "<") or threshold.anchor is not None):
        raise ConfigError(
            f"a {threshold.metric} bound is a maximum: write "
            f"'{threshold.metric} <= {threshold.value:g}'",
            file=file,
            key=key,
        )
    needs_reference = decided_by_stage or threshold.anchor is Anchor.REFERENCE
    if needs_reference and config.reference is None:
        raise ConfigError(
            f"{threshold} needs reference data: set data.reference", file=file, key=key
        )
    if threshold.confidence is not None and threshold.relative and threshold.on_difference:
        raise ConfigError(
            f"{threshold}: a confidence level needs an absolute offset here "
            f"(e.g. 'reference + 0.02'), not a relative one",
            file=file,
            key=key,
        )


def override(config: DataConfig, spec: CheckSpec) -> DataConfig:
    """``config`` with ``spec`` replacing checks of the same metric and column."""
    validate_check(spec, config)
    threshold = spec.threshold
    if threshold.selector is None:
        columns = {
            name: replace(s, checks=tuple(c for c in s.checks if c.metric != threshold.metric))
            for name, s in config.columns.items()
        }
        kept = tuple(c for c in config.checks if c.metric != threshold.metric)
        return replace(config, checks=(*kept, spec), columns=columns)
    settings = config.column(threshold.selector)
    columns = dict(config.columns)
    kept = tuple(c for c in settings.checks if c.metric != threshold.metric)
    columns[threshold.selector] = replace(settings, checks=(*kept, spec))
    return replace(config, columns=columns)
