"""Schema inference and validation with pandera.

:func:`infer_schema` proposes a schema from reference data (``mlgates init``
writes it as YAML for the user to edit); :func:`validate_frame` validates lazily
so that every failing column and check is reported with a count and examples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

FRAME = "<frame>"


class SchemaFileError(ValueError):
    """A schema file that cannot be read; the message names the file and the problem."""


@dataclass(frozen=True)
class ColumnFailure:
    """One failing check of one column."""

    column: str
    check: str
    failure_count: int
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class SchemaReport:
    """Every failure of a lazy validation, aggregated per column and check."""

    failures: tuple[ColumnFailure, ...]
    rows: int
    extra_columns: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether nothing failed."""
        return not self.failures

    def summary(self, max_columns: int = 5) -> str:
        """One line naming the failing columns, checks, counts and examples."""
        if self.ok:
            return f"{self.rows} rows match the schema"
        columns = sorted({f.column for f in self.failures})
        parts = []
        for failure in self.failures:
            if failure.column not in columns[:max_columns]:
                continue
            example = f" e.g. [{', '.join(failure.examples)}]" if failure.examples else ""
            parts.append(f"{failure.column} {failure.check} x{failure.failure_count}{example}")
        more = f"; and {len(columns) - max_columns} more columns" if len(columns) > max_columns else ""
        noun = "column fails" if len(columns) == 1 else "columns fail"
        return f"{len(columns)} {noun}: " + "; ".join(parts) + more


def _pandera() -> Any:
    import pandera.pandas as pa

    return pa


def _bound(value: float, *, down: bool, integer: bool, span: float) -> float | int:
    """``value`` rounded outward: to an integer, or to about three digits of ``span``."""
    if integer:
        return int(math.floor(value)) if down else int(math.ceil(value))
    digits = max(0, 2 - math.floor(math.log10(span))) if span > 0 else 3
    scale = 10.0**digits
    rounded = (math.floor if down else math.ceil)(value * scale) / scale
    return float(round(rounded, digits))


def infer_schema(frame: pd.DataFrame, *, margin: float = 0.25, max_categories: int = 20) -> Any:
    """A pandera ``DataFrameSchema`` proposed from ``frame``.

    Every column gets its dtype and nullability; numeric columns a range widened
    by ``margin`` of the observed span on both sides; low-cardinality strings,
    booleans and categories their observed set of values. A column without
    negative values keeps a lower bound of at least zero. Columns are required;
    extra columns are allowed (and reported).
    """
    import pandas as pd

    pa = _pandera()
    columns = {}
    for name in frame.columns:
        series = frame[name]
        dtype = series.dtype
        checks = []
        nullable = bool(series.isna().any())
        if pd.api.types.is_bool_dtype(dtype):
            schema_dtype: Any = "bool"
        elif pd.api.types.is_numeric_dtype(dtype):
            schema_dtype = str(dtype)
            values = series.dropna()
            if len(values):
                low, high = float(values.min()), float(values.max())
                span = high - low
                pad = margin * span if span > 0 else margin * max(abs(low), 1.0)
                integer = pd.api.types.is_integer_dtype(dtype)
                width = high - low + 2 * pad
                lower = max(low - pad, 0.0) if low >= 0 else low - pad
                checks.append(pa.Check.in_range(
                    _bound(lower, down=True, integer=integer, span=width),
                    _bound(high + pad, down=False, integer=integer, span=width),
                ))
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            schema_dtype = str(dtype)
        else:
            schema_dtype = pa.String if _is_text(series) else str(dtype)
            distinct = series.dropna().unique()
            if len(distinct) <= max_categories:
                checks.append(pa.Check.isin(sorted(str(v) for v in distinct)))
        columns[str(name)] = pa.Column(schema_dtype, nullable=nullable, checks=checks or None)
    return pa.DataFrameSchema(columns, strict=False, coerce=False)


def _is_text(series: pd.Series) -> bool:
    import pandas as pd

    if pd.api.types.is_string_dtype(series.dtype):
        sample = series.dropna().head(1000)
        return bool(sample.map(lambda value: isinstance(value, str)).all())
    return False


def write_schema(schema: Any, path: Path) -> None:
    """Write ``schema`` as pandera YAML."""
    path.write_text(schema.to_yaml(), encoding="utf-8")


def read_schema(path: Path) -> Any:
    """Read a pandera YAML schema; :class:`SchemaFileError` on any problem."""
    import yaml

    pa = _pandera()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SchemaFileError(f"{path}: cannot read the schema: {exc.strerror}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise SchemaFileError(f"{path}: not valid YAML{where}: {exc}") from None
    if not isinstance(document, dict) or "columns" not in document:
        raise SchemaFileError(
            f"{path}: not a pandera schema (expected a 'columns' mapping); "
            "write one with 'mlgates init --reference <data file>'"
        )
    try:
        return pa.DataFrameSchema.from_yaml(text)
    except Exception as exc:  # pandera raises several types for a malformed schema
        raise SchemaFileError(f"{path}: invalid pandera schema: {exc}") from None


def validate_frame(frame: pd.DataFrame, schema: Any) -> SchemaReport:
    """Validate lazily and aggregate the failures per column and check."""
    pa = _pandera()
    extra = tuple(str(c) for c in frame.columns if str(c) not in schema.columns)
    try:
        schema.validate(frame, lazy=True, inplace=False)
    except pa.errors.SchemaErrors as errors:
        return SchemaReport(failures=_aggregate(errors.failure_cases), rows=len(frame),
                            extra_columns=extra)
    return SchemaReport(failures=(), rows=len(frame), extra_columns=extra)


def _aggregate(cases: pd.DataFrame) -> tuple[ColumnFailure, ...]:
    frame = cases.copy()
    missing = frame["check"].astype(str) == "column_in_dataframe"
    frame["column"] = frame["column"].astype(object).where(
        ~missing, frame["failure_case"].astype(str)
    )
    frame["column"] = frame["column"].fillna(FRAME).astype(str)
    frame["check"] = frame["check"].astype(str)
    frame["shown"] = frame["failure_case"].map(_show)
    failures = []
    for (column, check), group in frame.groupby(["column", "check"], sort=True):
        examples = () if check == "column_in_dataframe" else tuple(
            group["shown"].drop_duplicates().head(5)
        )
        failures.append(ColumnFailure(column=str(column), check=_check_name(str(check)),
                                      failure_count=len(group), examples=examples))
    return tuple(failures)


def _check_name(check: str) -> str:
    return "column missing" if check == "column_in_dataframe" else check


def _show(value: object) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."
