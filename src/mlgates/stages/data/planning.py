"""Which checks a ``[data]`` table yields, known from the config and file headers alone."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mlgates.authoring import FAMILY, CheckSpec, PlannedCheck, reading
from mlgates.core import ConfigError
from mlgates.stages.data.freshness import freshness_only, plan_freshness
from mlgates.stages.data.reference import reference_columns
from mlgates.stages.data.settings import METRICS, STAGE, DataConfig
from mlgates.text import did_you_mean

if TYPE_CHECKING:
    from mlgates.context import Context

SCHEMA_CHECK = "schema"
COLUMNS_CHECK = "columns"
TYPES_CHECK = "types"


def checked_columns(config: DataConfig, context: Context) -> list[str]:
    """Columns present in the current data (and the reference, if any), minus exclusions."""
    with reading("data.current"):
        current = context.columns(config.current)
    if config.reference is not None:
        with reading("data.reference"):
            reference = set(reference_columns(config, context))
        current = [c for c in current if c in reference]
    return [c for c in current if c not in config.exclude]


def plan_data(config: DataConfig, context: Context) -> list[PlannedCheck]:
    """Every check of the data gate, in report order."""
    planned: list[PlannedCheck] = []
    if config.reference is not None:
        planned.append(
            PlannedCheck(
                STAGE, COLUMNS_CHECK, description="reference columns present in current data"
            )
        )
        planned.append(
            PlannedCheck(STAGE, TYPES_CHECK, description="reference columns keep their type")
        )
    if config.schema is not None:
        with reading("data.schema"):  # a broken schema file stops the run before judging
            load_schema(config.schema, context)
        planned.append(
            PlannedCheck(STAGE, SCHEMA_CHECK, description="pandera schema, validated lazily")
        )
    if config.expectations is not None:
        planned.extend(_plan_expectations(config.expectations))
    for spec in config.checks:
        if METRICS[spec.metric].selector is None:
            planned.append(PlannedCheck.from_spec(STAGE, spec))
    with reading("data.current"):
        planned.extend(plan_freshness(STAGE, config, context.columns(config.current)))
    if config.pii.enabled:
        planned.append(_plan_pii(config, context))
    checked = checked_columns(config, context)
    _reject_unchecked_columns(config, checked, context)
    _reject_unknown_roles(config, context)
    for column in checked:
        planned.extend(_plan_column(config, column))
    return _deduplicate(planned)


def _plan_pii(config: DataConfig, context: Context) -> PlannedCheck:
    """The compliance scan: one family, a member per text column found while measuring."""
    with reading("data.current"):
        present = set(context.columns(config.current))
    for column in config.pii.allow:
        if column not in present:
            raise ConfigError(
                f"allows personal data in {column!r}, which is not a column of the current "
                f"data{did_you_mean(column, present)}",
                key=f"data.pii.allow.{column}",
            )
    specs = [s for s in config.checks if s.metric == "pii" and s.threshold.selector is None]
    if specs:
        return PlannedCheck.from_spec(STAGE, specs[-1], selector=FAMILY)
    return PlannedCheck(STAGE, "pii", FAMILY, description="personal data in text columns")


def load_schema(path: Path, context: Context) -> object:
    """The pandera schema in ``path``, read and validated once per run."""
    from mlgates.stages.data.schema import read_schema

    context.file_hash(path)
    return context.memo(("data-schema", path), lambda: read_schema(path))


def _reject_unchecked_columns(config: DataConfig, checked: list[str], context: Context) -> None:
    """A check named for a column that is not checked is an error, never a silent skip."""
    named = {column: "data.exclude" for column in config.exclude}
    for column, settings in config.columns.items():
        if freshness_only(settings):  # current data only: see plan_freshness
            continue
        keys = {spec.origin.key for spec in settings.checks}
        named[column] = "--threshold" if keys == {"--threshold"} else f"data.columns.{column}"
    named.update(
        {
            spec.threshold.selector: spec.origin.key or "data.checks"
            for spec in config.checks
            if spec.threshold.selector is not None and spec.metric != "freshness"
        }
    )
    present = set(context.columns(config.current))
    for column, origin in named.items():
        if column in checked or (origin == "data.exclude" and column in present):
            continue
        if column in config.exclude and origin != "data.exclude":
            why = "is listed in data.exclude"
        elif column not in present:
            why = f"is not a column of the current data{did_you_mean(column, present)}"
        else:
            why = "is not a column of the reference data"
        raise ConfigError(f"checks column {column!r}, which {why}", key=origin)


def _reject_unknown_roles(config: DataConfig, context: Context) -> None:
    """A role for a column that neither the current data nor the reference has is a typo."""
    if not config.roles:
        return
    with reading("data.current"):
        present = set(context.columns(config.current))
    if config.reference is not None:
        with reading("data.reference"):
            present |= set(reference_columns(config, context))
    for column in config.roles:
        if column not in present:
            raise ConfigError(
                f"gives a role to {column!r}, which is not a column of the data"
                f"{did_you_mean(column, present)}",
                key=f"data.roles.{column}",
            )


def _plan_column(config: DataConfig, column: str) -> list[PlannedCheck]:
    settings = config.column(column)
    by_metric: dict[str, CheckSpec] = {
        spec.metric: spec
        for spec in config.checks
        if METRICS[spec.metric].selector is not None and spec.threshold.selector is None
    }
    own = [spec for spec in config.checks if spec.threshold.selector == column]
    own += settings.checks
    by_metric.update({spec.metric: spec for spec in own})
    named = {spec.metric for spec in own}
    by_metric = {m: s for m, s in by_metric.items() if m not in ("pii", "freshness")}
    planned = []
    defaults = (
        ("drift", config.checks_drift(column), "default threshold of the method"),
        ("out_of_range", config.checks_out_of_range(column), "beyond what chance explains"),
        ("stale", config.checks_stale(column), "newest date against the reference"),
    )
    for metric, enabled, description in defaults:
        spec = by_metric.pop(metric, None)
        if spec is not None and metric in named and not enabled:
            if getattr(settings, metric) is False:
                raise ConfigError(
                    f"checks {metric} of {column!r}, which data.columns.{column}.{metric} = false "
                    "turns off: remove one of the two",
                    key=spec.origin.key or f"data.columns.{column}",
                )
            enabled = True  # a check written for this column wins over its role's default
        if config.reference is None or not enabled:
            continue
        if spec is not None:
            planned.append(PlannedCheck.from_spec(STAGE, spec, selector=column))
        else:
            planned.append(PlannedCheck(STAGE, metric, column, description=description))
    for spec in by_metric.values():
        planned.append(PlannedCheck.from_spec(STAGE, spec, selector=column))
    return planned


def _plan_expectations(path: Path) -> list[PlannedCheck]:
    from mlgates.stages.data.gx_suite import SuiteError, load_suite, suite_check_names

    try:
        names = suite_check_names(load_suite(path, check_types=False))
    except SuiteError as exc:
        raise ConfigError(str(exc), key="data.expectations") from None
    planned = []
    for name in names:
        metric, _, rest = name.partition("[")
        selector = rest[:-1] if rest else None
        planned.append(PlannedCheck(STAGE, metric, selector, description="Great Expectations"))
    return planned


def _deduplicate(planned: list[PlannedCheck]) -> list[PlannedCheck]:
    """Keep the last check per id: a column override wins over the table-wide check."""
    by_id: dict[str, PlannedCheck] = {}
    for check in planned:
        by_id.pop(check.id, None)
        by_id[check.id] = check
    return list(by_id.values())
