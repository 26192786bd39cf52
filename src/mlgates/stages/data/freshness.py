"""``freshness[<column>]``: how old the newest value of a date-time column is at run time.

``freshness = now - max(column)`` in seconds, measured on the current data
alone (no reference), against the run's one ``now``
(:attr:`mlgates.context.Context.now`). Bounds are durations
(``freshness[event_time] <= 2d``); the check is planned only where the config
names a column.

* ``datetime64`` columns: a time-zone-aware column is converted to UTC; a naive
  one is taken as UTC.
* text columns (and objects such as ``datetime.date``): parsed as ISO 8601 by
  pandas (``2026-11-30``, ``2026-11-30 14:02``, ``2026-11-30T14:02:00+01:00``);
  values that do not parse are ignored and counted in the message; when none
  parses the check is an ``error`` naming the column. A date without a time
  counts from its midnight UTC.
* any other column (numbers, flags, durations) is a configuration error naming
  the check's key, the column and its type.
* no value at all (no rows, or every value missing) is ``inconclusive``.
* a newest value after ``now`` (clock skew, a time-zone mix-up) counts as 0
  seconds old, and the message says by how much it is ahead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

from mlgates.authoring import CheckSpec, Measurement, PlannedCheck
from mlgates.core import ConfigError, Status
from mlgates.text import did_you_mean, format_duration, shorten

if TYPE_CHECKING:
    import pandas as pd

    from mlgates.stages.data.settings import ColumnSettings, DataConfig
    from mlgates.thresholds import Threshold

METRIC = "freshness"
_ISO_EXAMPLES = "ISO 8601 dates such as 2026-11-30 or 2026-11-30T14:02:00Z"


def validate_freshness(spec: CheckSpec, *, file: str | None = None) -> None:
    """Reject a ``freshness`` check without a column, or that is not a positive maximum age."""
    threshold = spec.threshold
    key = spec.origin.key
    column = threshold.selector or "<column>"
    example = f"'{METRIC}[{column}] <= {threshold.bound_text}'"
    if threshold.selector is None:
        raise ConfigError(
            f"'{threshold}' needs a column: write {example}, or put "
            f"'{METRIC} <= {threshold.bound_text}' in the checks of [data.columns.<column>]",
            file=file,
            key=key,
        )
    if threshold.op not in ("<=", "<"):
        raise ConfigError(
            f"'{threshold}': a {METRIC} bound is a maximum age: write {example}",
            file=file,
            key=key,
        )
    if threshold.value <= 0:
        raise ConfigError(
            f"'{threshold}': a maximum age must be more than 0, e.g. '{METRIC}[{column}] <= 2d'",
            file=file,
            key=key,
        )


def freshness_only(settings: ColumnSettings) -> bool:
    """Whether a ``[data.columns.<name>]`` table holds nothing but ``freshness`` checks.

    Such a column needs to be in the current data only (not in the reference,
    and it may be excluded from the other checks).
    """
    others = (settings.method, settings.drift, settings.out_of_range)
    return (
        bool(settings.checks)
        and all(spec.metric == METRIC for spec in settings.checks)
        and all(value is None for value in others)
    )


def plan_freshness(stage: str, config: DataConfig, present: Sequence[str]) -> list[PlannedCheck]:
    """One check per column a ``freshness`` bound names; a column override wins.

    A column that is not in the current data is a configuration error.
    """
    specs = [s for s in config.checks if s.metric == METRIC]
    specs += [s for settings in config.columns.values() for s in settings.checks]
    by_column: dict[str, CheckSpec] = {}
    for spec in specs:
        column = spec.threshold.selector
        if spec.metric != METRIC or column is None:
            continue
        if column not in present:
            raise ConfigError(
                f"'{spec.threshold}' checks column {column!r}, which is not a column of "
                f"the current data{did_you_mean(column, present)}",
                key=spec.origin.key,
            )
        by_column.pop(column, None)
        by_column[column] = spec
    return [PlannedCheck.from_spec(stage, spec) for spec in by_column.values()]


def measure_freshness(values: pd.Series[Any], check: PlannedCheck, *, now: datetime) -> Measurement:
    """The age of the newest value of ``values`` at ``now``, decided against the bound."""
    column = check.selector or ""
    threshold = check.threshold
    assert threshold is not None  # planned from a configured bound only
    present = values.dropna()
    if len(present) == 0:
        why = (
            "the current data has no rows"
            if len(values) == 0
            else (f"all {len(values)} values are missing")
        )
        return Measurement(
            status=Status.INCONCLUSIVE,
            bound=threshold.value,
            message=f"{column}: no date to judge its freshness: {why}",
        )
    newest, ignored, examples, read_as = _newest(present, check)
    if newest is None:
        shown = ", ".join(repr(shorten(str(e), 30)) for e in examples)
        return Measurement(
            status=Status.ERROR,
            bound=threshold.value,
            message=(
                f"{column}: none of its {len(present)} values is a date (e.g. {shown}); "
                f"{METRIC} needs date-times or {_ISO_EXAMPLES}"
            ),
        )
    return _decide(column, threshold, newest, now, ignored, examples, read_as, len(present))


def _decide(
    column: str,
    threshold: Threshold,
    newest: datetime,
    now: datetime,
    ignored: int,
    examples: Sequence[object],
    read_as: str,
    count: int,
) -> Measurement:
    age = (now - newest).total_seconds()
    bound = threshold.value
    shown_bound = f"bound {threshold.bound_text}"
    if age < 0:
        message = (
            f"{column}: newest value {_time(newest)} is {format_duration(-age)} after the run "
            f"time {_time(now)} (clock skew or a time-zone mix-up?); counted as 0s old "
            f"({shown_bound})"
        )
        age = 0.0
    else:
        message = (
            f"{column}: newest value {_time(newest)}, {format_duration(age)} old ({shown_bound})"
        )
    if ignored:
        shown = ", ".join(repr(shorten(str(e), 30)) for e in examples)
        message += f"; {ignored} of {count} values are not dates and were ignored (e.g. {shown})"
    return Measurement(
        value=age,
        bound=bound,
        status=Status.PASS if threshold.holds(age, bound) else Status.FAIL,
        method="now - max",
        message=message,
        details={
            "newest": newest.isoformat(),
            "now": now.isoformat(),
            "values": count,
            "not_dates": ignored,
            "read_as": read_as,
        },
    )


def _newest(
    present: pd.Series[Any], check: PlannedCheck
) -> tuple[datetime | None, int, list[object], str]:
    """(newest value in UTC, values that are not dates, examples of those, how they were read)."""
    import pandas as pd
    from pandas.api import types

    dtype = present.dtype
    if types.is_datetime64_any_dtype(dtype):
        newest = pd.Timestamp(present.max())
        if newest.tzinfo is None:
            newest, read_as = newest.tz_localize("UTC"), "date-times without a time zone, as UTC"
        else:
            newest, read_as = newest.tz_convert("UTC"), f"date-times in {newest.tzinfo}"
        return newest.to_pydatetime(warn=False), 0, [], read_as
    textual = (
        types.is_object_dtype(dtype)
        or types.is_string_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
    )
    if not textual:
        raise _not_dates(check, present)
    try:
        distinct = pd.Series(present.astype(object).unique(), dtype=object)
    except TypeError:  # unhashable values (lists, dicts): not a column of dates
        raise _not_dates(check, present) from None
    candidate = distinct.map(lambda v: isinstance(v, (str, date))).astype(bool)
    parsed = pd.to_datetime(distinct[candidate], errors="coerce", utc=True, format="ISO8601")
    failed = pd.concat([distinct[~candidate], distinct[candidate][parsed.isna()]])
    ignored = int(present.isin(set(failed.tolist())).sum()) if len(failed) else 0
    examples = failed.head(3).tolist()
    read_as = "ISO 8601 text, without an offset as UTC"
    if parsed.notna().sum() == 0:
        return None, ignored, examples, read_as
    newest = pd.Timestamp(parsed.max())
    return newest.to_pydatetime(warn=False), ignored, examples, read_as


def _not_dates(check: PlannedCheck, present: pd.Series[Any]) -> ConfigError:
    column = check.selector
    examples = ", ".join(shorten(str(v), 30) for v in present.head(3).tolist())
    where = check.origin.key if check.origin is not None else None
    return ConfigError(
        f"'{check.threshold}': {METRIC} needs a date-time column, but {column!r} holds "
        f"{present.dtype} values (e.g. {examples}); name a column of date-times or of "
        f"{_ISO_EXAMPLES}",
        key=where,
    )


def _time(moment: datetime) -> str:
    """``2026-11-30 14:02 UTC`` (seconds shown only when there are any)."""
    moment = moment.astimezone(timezone.utc)
    if moment.second or moment.microsecond:
        return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    return moment.strftime("%Y-%m-%d %H:%M UTC")
