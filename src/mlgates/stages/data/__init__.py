"""The data gate: schema, missing values, drift against a reference, optional GX suites.

Statistics come from column summaries (:mod:`mlgates.stats.profile`): the
reference is profiled once (and cached by its sha256, or stored with
``mlgates profile``), the current data is summarised on the reference's bins,
and drift is decided from the two summaries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgates.config import CheckSpec, MetricInfo, TableReader
from mlgates.core import ConfigError, MlgatesError, Status
from mlgates.stages.base import Measurement, PlannedCheck
from mlgates.thresholds import Anchor

if TYPE_CHECKING:
    import pandas as pd

    from mlgates.context import Context
    from mlgates.stats.drift import DriftAssessment
    from mlgates.stats.profile import ColumnProfile, DatasetProfile

STAGE = "data"
DRIFT_METHODS = ("auto", "wasserstein", "jensenshannon", "psi", "ks")
_HISTORY = frozenset({Anchor.PREVIOUS, Anchor.BEST})

METRICS: Mapping[str, MetricInfo] = {
    "drift": MetricInfo(
        "distance between the reference and current distribution of a column", per_column=True
    ),
    "missing_share": MetricInfo(
        "share of missing values in a column",
        per_column=True,
        anchors=_HISTORY | {Anchor.REFERENCE},
    ),
    "drift_share": MetricInfo("share of checked columns that drifted", anchors=_HISTORY),
    "row_count": MetricInfo(
        "number of rows in the current data", anchors=_HISTORY | {Anchor.REFERENCE}
    ),
}

SCHEMA_CHECK = "schema"
COLUMNS_CHECK = "columns"


@dataclass(frozen=True)
class ColumnSettings:
    """Per-column overrides from ``[data.columns.<name>]``."""

    method: str | None = None
    drift: bool = True
    checks: tuple[CheckSpec, ...] = ()


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

    def column(self, name: str) -> ColumnSettings:
        """The overrides for ``name`` (defaults when there are none)."""
        return self.columns.get(name, ColumnSettings())


class DataStage:
    """Schema, missing values, drift and expectation checks on tabular data."""

    name = STAGE
    metrics = METRICS

    # -- configuration ---------------------------------------------------------------

    def parse_config(self, table: TableReader) -> DataConfig:
        """Read ``[data]``; see docs/configuration.md for every key."""
        current = table.path("current", required=True)
        assert current is not None
        reference = table.path("reference")
        schema = table.path("schema")
        expectations = table.path("expectations")
        checks = table.checks("checks", METRICS)
        drift_method = table.choice("drift_method", DRIFT_METHODS, "auto")
        confidence = table.number("drift_confidence", 0.99, minimum=0.5, maximum=0.99999)
        min_rows = table.integer("min_rows", 100, minimum=1)
        bins = table.integer("bins", 100, minimum=10)
        exclude = table.strings("exclude")
        columns: dict[str, ColumnSettings] = {}
        for column, raw in table.table("columns").items():
            if not isinstance(raw, dict):
                raise table.error(f"columns.{column}", "expected a table of column settings")
            reader = table.sub(f"columns.{column}", raw)
            method = reader.string("method")
            if method is not None and method not in DRIFT_METHODS[1:]:
                valid = ", ".join(DRIFT_METHODS[1:])
                raise reader.error(
                    "method", f"{method!r} is not a drift method; use one of {valid}"
                )
            columns[column] = ColumnSettings(
                method=method,
                drift=reader.boolean("drift", True),
                checks=reader.checks("checks", METRICS, column=column),
            )
            reader.finish()
        for spec in checks + tuple(c for s in columns.values() for c in s.checks):
            self._validate_check(table, spec, has_reference=reference is not None)
        return DataConfig(
            current=current,
            reference=reference,
            schema=schema,
            expectations=expectations,
            checks=checks,
            columns=columns,
            exclude=exclude,
            drift_method=drift_method,
            drift_confidence=confidence,
            min_rows=min_rows,
            bins=bins,
        )

    @staticmethod
    def _validate_check(table: TableReader | None, spec: CheckSpec, *, has_reference: bool) -> None:
        threshold = spec.threshold
        if threshold.metric == "drift" and threshold.op not in ("<=", "<"):
            raise ConfigError(
                f"a drift bound is a maximum: write 'drift <= {threshold.value:g}'",
                file=table.file if table else None,
                key=spec.origin,
            )
        needs_reference = threshold.metric == "drift" or threshold.anchor is Anchor.REFERENCE
        if needs_reference and not has_reference:
            raise ConfigError(
                f"{threshold} needs reference data: set data.reference",
                file=table.file if table else None,
                key=spec.origin,
            )

    def override(self, config: DataConfig, spec: CheckSpec) -> DataConfig:
        """``config`` with ``spec`` replacing checks of the same metric and column."""
        threshold = spec.threshold
        self._validate_check(None, spec, has_reference=config.reference is not None)
        if threshold.selector is None:
            kept = tuple(c for c in config.checks if c.metric != threshold.metric)
            columns = {
                name: replace(s, checks=tuple(c for c in s.checks if c.metric != threshold.metric))
                for name, s in config.columns.items()
            }
            return replace(config, checks=(*kept, spec), columns=columns)
        settings = config.column(threshold.selector)
        kept = tuple(c for c in settings.checks if c.metric != threshold.metric)
        columns = dict(config.columns)
        columns[threshold.selector] = replace(settings, checks=(*kept, spec))
        return replace(config, columns=columns)

    # -- planning --------------------------------------------------------------------

    def checked_columns(self, config: DataConfig, context: Context) -> list[str]:
        """Columns present in the current data (and the reference, if any), minus exclusions."""
        current = context.columns(config.current)
        if config.reference is not None:
            reference = set(self.reference_columns(config, context))
            current = [c for c in current if c in reference]
        return [c for c in current if c not in config.exclude]

    @staticmethod
    def reference_columns(config: DataConfig, context: Context) -> list[str]:
        """Columns of the reference: its file header, or the stored profile's columns."""
        assert config.reference is not None
        if _is_profile(config.reference):
            return list(reference_profile(config, context).columns)
        return context.columns(config.reference)

    def plan(self, config: DataConfig, context: Context) -> list[PlannedCheck]:
        """Every check of the data gate, in report order."""
        planned: list[PlannedCheck] = []
        if config.reference is not None:
            planned.append(
                PlannedCheck(
                    STAGE, COLUMNS_CHECK, description="reference columns present in current data"
                )
            )
        if config.schema is not None:
            planned.append(
                PlannedCheck(STAGE, SCHEMA_CHECK, description="pandera schema, validated lazily")
            )
        if config.expectations is not None:
            planned.extend(self._plan_expectations(config.expectations))
        for spec in config.checks:
            if not METRICS[spec.metric].per_column:
                planned.append(PlannedCheck.from_spec(STAGE, spec))
        checked = self.checked_columns(config, context)
        self._reject_unchecked_columns(config, checked, context)
        for column in checked:
            planned.extend(self._plan_column(config, column))
        return _deduplicate(planned)

    def _reject_unchecked_columns(
        self, config: DataConfig, checked: list[str], context: Context
    ) -> None:
        """A check named for a column that is not checked is an error, never a silent skip."""
        named = {column: "data.exclude" for column in config.exclude}
        named.update({column: f"data.columns.{column}" for column in config.columns})
        named.update(
            {
                spec.threshold.selector: spec.origin
                for spec in config.checks
                if spec.threshold.selector is not None
            }
        )
        present = set(context.columns(config.current))
        for column, origin in named.items():
            if column in checked or (origin == "data.exclude" and column in present):
                continue
            if column in config.exclude and origin != "data.exclude":
                why = "is listed in data.exclude"
            elif column not in present:
                why = f"is not a column of the current data{_suggest_column(column, present)}"
            else:
                why = "is not a column of the reference data"
            raise ConfigError(f"checks column {column!r}, which {why}", key=origin)

    def _plan_column(self, config: DataConfig, column: str) -> list[PlannedCheck]:
        settings = config.column(column)
        by_metric: dict[str, CheckSpec] = {
            spec.metric: spec
            for spec in config.checks
            if METRICS[spec.metric].per_column and spec.threshold.selector is None
        }
        by_metric.update(
            {spec.metric: spec for spec in config.checks if spec.threshold.selector == column}
        )
        by_metric.update({spec.metric: spec for spec in settings.checks})
        planned = []
        drift_spec = by_metric.pop("drift", None)
        if config.reference is not None and settings.drift:
            if drift_spec is not None:
                planned.append(PlannedCheck.from_spec(STAGE, drift_spec, selector=column))
            else:
                planned.append(
                    PlannedCheck(
                        STAGE, "drift", column, description="default threshold of the drift method"
                    )
                )
        for spec in by_metric.values():
            planned.append(PlannedCheck.from_spec(STAGE, spec, selector=column))
        return planned

    @staticmethod
    def _plan_expectations(path: Path) -> list[PlannedCheck]:
        from mlgates.stages.data.gx_suite import SuiteError, load_suite, suite_check_names

        try:
            names = suite_check_names(load_suite(path, check_types=False))
        except SuiteError as exc:
            raise ConfigError(str(exc), key="data.expectations") from None
        planned = []
        for name in names:
            metric, _, rest = name.partition("[")
            planned.append(
                PlannedCheck(
                    STAGE,
                    metric,
                    rest[:-1] if rest else None,
                    description="Great Expectations expectation",
                )
            )
        return planned

    # -- measuring -------------------------------------------------------------------

    def measure(
        self, config: DataConfig, plan: Sequence[PlannedCheck], context: Context
    ) -> list[Measurement]:
        """Measure every planned check; see the module docstring for the flow."""
        current = context.frame(config.current)
        work = _DataRun(config, context, current)
        return [work.measure(check, plan) for check in plan]


def reference_profile(config: DataConfig, context: Context) -> DatasetProfile:
    """The reference's profile: stored, cached by content, or computed (once per run)."""
    from mlgates.stats.profile import profile_dataset

    assert config.reference is not None
    bins = config.bins
    return context.reference_profile(
        config.reference,
        build=lambda frame: profile_dataset(frame, bins=bins),
        settings={"bins": bins},
    )


def _missing_fraction(profile: ColumnProfile) -> float:
    total = profile.count + profile.null_count
    return profile.null_count / total if total else float("nan")


def _suggest_column(column: str, present: set[str]) -> str:
    from mlgates.config import suggest

    return suggest(column, present)


def _is_profile(path: Path) -> bool:
    return path.name.lower().endswith(".json")


def _deduplicate(planned: list[PlannedCheck]) -> list[PlannedCheck]:
    """Keep the last check per id: a column override wins over the table-wide check."""
    by_id: dict[str, PlannedCheck] = {}
    for check in planned:
        by_id.pop(check.id, None)
        by_id[check.id] = check
    return list(by_id.values())


class _DataRun:
    """The state of one measurement pass: profiles, drift results, schema report."""

    def __init__(self, config: DataConfig, context: Context, current: pd.DataFrame) -> None:
        self.config = config
        self.context = context
        self.current = current
        self._reference: DatasetProfile | None = None
        self._current_profile: DatasetProfile | None = None
        self._drift: dict[str, DriftAssessment | Measurement] | None = None
        self._expectations: dict[str, Measurement] | None = None

    # profiles

    @property
    def reference(self) -> DatasetProfile:
        if self._reference is None:
            self._reference = reference_profile(self.config, self.context)
        return self._reference

    @property
    def current_profile(self) -> DatasetProfile:
        if self._current_profile is None:
            from mlgates.stats.profile import profile_dataset, profile_dataset_against

            if self.config.reference is not None:
                self._current_profile = profile_dataset_against(self.reference, self.current)
            else:
                self._current_profile = profile_dataset(self.current, bins=self.config.bins)
        return self._current_profile

    # dispatch

    def measure(self, check: PlannedCheck, plan: Sequence[PlannedCheck]) -> Measurement:
        try:
            if check.metric == COLUMNS_CHECK:
                return self._columns()
            if check.metric == SCHEMA_CHECK:
                return self._schema()
            if check.metric == "drift":
                return self._drift_measurement(check, plan)
            if check.metric == "drift_share":
                return self._drift_share(plan)
            if check.metric == "missing_share":
                return self._missing_share(check)
            if check.metric == "row_count":
                return self._row_count()
            return self._expectation(check)
        except MlgatesError as exc:  # a bad input file fails its own check, not the gate
            return Measurement(status=Status.ERROR, message=str(exc))

    def _columns(self) -> Measurement:
        reference_columns = list(self.reference.columns)
        present = {str(c) for c in self.current.columns}
        missing = [c for c in reference_columns if c not in present]
        if missing:
            shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
            return Measurement(
                value=float(len(missing)),
                status=Status.FAIL,
                message=f"{len(missing)} reference column(s) missing from current data: {shown}",
                details={"missing": missing},
            )
        return Measurement(
            value=0.0,
            status=Status.PASS,
            message=f"all {len(reference_columns)} reference columns present",
        )

    def _schema(self) -> Measurement:
        from mlgates.stages.data.schema import read_schema, validate_frame

        assert self.config.schema is not None
        self.context.file_hash(self.config.schema)
        report = validate_frame(self.current, read_schema(self.config.schema))
        details: dict[str, Any] = {
            "failures": [
                {
                    "column": f.column,
                    "check": f.check,
                    "count": f.failure_count,
                    "examples": list(f.examples),
                }
                for f in report.failures
            ],
            "extra_columns": list(report.extra_columns),
        }
        if report.ok:
            note = ""
            if report.extra_columns:
                note = f"; not in the schema: {', '.join(report.extra_columns[:10])}"
            return Measurement(
                value=0.0,
                status=Status.PASS,
                method="pandera",
                message=f"{report.rows} rows match the schema{note}",
                details=details,
            )
        return Measurement(
            value=float(len(report.failures)),
            status=Status.FAIL,
            method="pandera",
            message=report.summary(),
            details=details,
        )

    def _drift_all(self, plan: Sequence[PlannedCheck]) -> dict[str, DriftAssessment | Measurement]:
        """Drift of every planned column, with the family-wise error split between them."""
        if self._drift is not None:
            return self._drift
        from mlgates.stats.drift import DEFAULT_THRESHOLDS, assess_drift, default_method

        checks = [c for c in plan if c.metric == "drift" and c.selector is not None]
        alpha = (1.0 - self.config.drift_confidence) / max(len(checks), 1)
        results: dict[str, DriftAssessment | Measurement] = {}
        reference, current = self.reference, self.current_profile
        for check in checks:
            column = check.selector
            assert column is not None
            ref, cur = reference.columns.get(column), current.columns.get(column)
            if ref is None or cur is None:
                where = "reference" if ref is None else "current data"
                results[column] = Measurement(
                    status=Status.ERROR, message=f"column {column!r} is not in the {where}"
                )
                continue
            method = self.config.column(column).method
            if method is None and self.config.drift_method != "auto":
                method = self.config.drift_method
            method = method or default_method(ref)
            threshold = (
                check.threshold.value if check.threshold is not None else DEFAULT_THRESHOLDS[method]
            )
            smallest = min(ref.count, cur.count)
            if smallest < self.config.min_rows:
                side = "reference" if ref.count < cur.count else "current data"
                results[column] = Measurement(
                    status=Status.INCONCLUSIVE,
                    method=method,
                    bound=threshold,
                    message=(
                        f"only {smallest} non-missing values in the {side} of {column!r}; "
                        f"drift needs at least min_rows = {self.config.min_rows}"
                    ),
                )
                continue
            try:
                results[column] = assess_drift(
                    ref,
                    cur,
                    method=method,  # type: ignore[arg-type]
                    threshold=threshold,
                    alpha=alpha,
                )
            except ValueError as exc:
                results[column] = Measurement(status=Status.ERROR, message=f"{column}: {exc}")
        self._drift = results
        return results

    def _drift_measurement(self, check: PlannedCheck, plan: Sequence[PlannedCheck]) -> Measurement:
        assert check.selector is not None
        result = self._drift_all(plan)[check.selector]
        if isinstance(result, Measurement):
            return result
        return _drift_to_measurement(check.selector, result)

    def _drift_share(self, plan: Sequence[PlannedCheck]) -> Measurement:
        results = self._drift_all(plan)
        decided = {c: r for c, r in results.items() if not isinstance(r, Measurement)}
        if not results:
            return Measurement(status=Status.INCONCLUSIVE, message="no column is checked for drift")
        if not decided:
            return Measurement(
                status=Status.INCONCLUSIVE, message="no column had enough rows to decide drift"
            )
        drifted = sorted(c for c, r in decided.items() if r.drifted)
        share = len(drifted) / len(decided)
        names = f": {', '.join(drifted[:10])}" if drifted else ""
        undecided = len(results) - len(decided)
        note = f" ({undecided} undecided)" if undecided else ""
        return Measurement(
            value=share,
            message=f"{len(drifted)} of {len(decided)} columns drifted{names}{note}",
            details={"drifted": drifted},
        )

    def _missing_share(self, check: PlannedCheck) -> Measurement:
        column = check.selector
        assert column is not None
        cur = self.current_profile.columns.get(column)
        if cur is None:
            return Measurement(
                status=Status.ERROR, message=f"column {column!r} not in current data"
            )
        share = _missing_fraction(cur)
        anchor = None
        if check.threshold is not None and check.threshold.anchor is Anchor.REFERENCE:
            ref = self.reference.columns.get(column)
            if ref is None:
                return Measurement(
                    status=Status.ERROR, message=f"column {column!r} is not in the reference"
                )
            anchor = _missing_fraction(ref)
        return Measurement(
            value=share,
            anchor_value=anchor,
            message=f"{cur.null_count} of {cur.count + cur.null_count} missing in {column!r}",
        )

    def _row_count(self) -> Measurement:
        anchor = float(self.reference.row_count) if self.config.reference is not None else None
        return Measurement(
            value=float(len(self.current)), anchor_value=anchor, message=f"{len(self.current)} rows"
        )

    def _expectation(self, check: PlannedCheck) -> Measurement:
        if self._expectations is None:
            self._expectations = self._run_expectations()
        found = self._expectations.get(check.id)
        if found is None:
            return Measurement(status=Status.ERROR, message=f"no expectation result for {check.id}")
        return found

    def _run_expectations(self) -> dict[str, Measurement]:
        from mlgates.core import check_id
        from mlgates.stages.data.gx_suite import load_suite, run_suite, suite_check_names

        assert self.config.expectations is not None
        path = self.config.expectations
        self.context.file_hash(path)
        suite = load_suite(path)
        outcomes = run_suite(self.current, suite, suite_name=path.stem)
        measured = {}
        for name, outcome in zip(suite_check_names(suite), outcomes, strict=True):
            metric, _, rest = name.partition("[")
            status = Status.PASS if outcome.success else Status.FAIL
            if outcome.exception:
                status = Status.ERROR
            message = outcome.exception or outcome.observed
            measured[check_id(STAGE, metric, rest[:-1] if rest else None)] = Measurement(
                status=status,
                message=message,
                method="great_expectations",
                details={"kwargs": dict(outcome.kwargs)},
            )
        return measured


def _drift_to_measurement(column: str, result: DriftAssessment) -> Measurement:
    sizes = f"n {result.n_reference} vs {result.n_current}"
    if result.drifted:
        verdict = (
            f"{result.method} distance {result.distance:.3g} > {result.threshold:g} and "
            f"beyond sampling noise {result.noise_floor:.3g} ({sizes})"
        )
    elif result.distance > result.threshold:
        verdict = (
            f"{result.method} distance {result.distance:.3g} > {result.threshold:g} but "
            f"within sampling noise {result.noise_floor:.3g} ({sizes}): no evidence of drift"
        )
    else:
        verdict = (
            f"{result.method} distance {result.distance:.3g} <= {result.threshold:g} ({sizes})"
        )
    changes = "; ".join(
        f"{label} {ref:.1%} -> {cur:.1%}" for label, ref, cur in result.top_changes[:2]
    )
    message = f"{column}: {verdict}" + (
        f"; largest change {changes}" if result.drifted and changes else ""
    )
    return Measurement(
        value=result.distance,
        bound=result.threshold,
        status=Status.FAIL if result.drifted else Status.PASS,
        method=result.method,
        message=message,
        details={
            "noise_floor": result.noise_floor,
            "n_reference": result.n_reference,
            "n_current": result.n_current,
            "top_changes": [list(change) for change in result.top_changes],
        },
    )
