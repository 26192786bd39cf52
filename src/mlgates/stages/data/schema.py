"""Schema gate: read and write pandera schema files, and validate frames against them.

A schema (inferred by :mod:`.schema_inference`, or written by hand) is stored
as pandera YAML so it can be reviewed and edited. Validation reports failures
per (column, check) with counts and a few examples.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
import yaml
from pandera.config import config_context
from pandera.errors import SchemaError, SchemaErrors

from mlgates.core import InputError
from mlgates.files import read_user_text, write_text_atomically
from mlgates.stages.data.schema_fast import (
    Failure,
    FastValidation,
    check_identifier,
    validate_fast,
)
from mlgates.text import shorten

__all__ = [
    "FRAME",
    "ColumnFailure",
    "SchemaFileError",
    "SchemaReport",
    "read_schema",
    "validate_frame",
    "write_schema",
]

FRAME = "<frame>"
"""Column name used for failures that concern the frame as a whole."""

_MAX_EXAMPLES = 5
_MAX_EXAMPLE_CHARS = 40
_MAX_SET_LABEL_CHARS = 40
_NO_EXAMPLE_CHECKS = frozenset({"not_nullable", "column_in_dataframe"})
_EXAMPLE_POOL = 4 * _MAX_EXAMPLES  # distinct values per check whose texts can become examples
_CASES_KEPT = 4 * _EXAMPLE_POOL  # distinct values the fast path keeps (some may merge in the table)
_TABLE_COLUMNS = ["schema_context", "column", "check", "failure_case", "weight"]


class SchemaFileError(InputError, ValueError):
    """A schema file is missing, unreadable or not a pandera schema."""


@dataclass(frozen=True)
class ColumnFailure:
    """One failing (column, check) pair.

    Attributes
    ----------
    column : str
        Column name, or ``"<frame>"`` for frame-level failures. A missing
        column is reported under its own name with check ``column_in_dataframe``.
    check : str
        Check label, e.g. ``"dtype('int64')"``, ``"not_nullable"``,
        ``"in_range(0, 120)"`` or ``"isin([...])"`` (long value sets are elided).
    failure_count : int
        Number of failing values (1 for a column-level failure such as a dtype
        mismatch reported by dtype name, or a missing column).
    examples : tuple of str
        Up to five distinct failing values, in order of first occurrence.
    """

    column: str
    check: str
    failure_count: int
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class SchemaReport:
    """Outcome of validating one frame against a schema.

    Attributes
    ----------
    failures : tuple of ColumnFailure
        Sorted by column, then check.
    rows : int
        Number of rows validated.
    extra_columns : tuple of str
        Columns in the frame that the schema does not name (allowed, noted).
    """

    failures: tuple[ColumnFailure, ...]
    rows: int
    extra_columns: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether no check failed."""
        return not self.failures

    def summary(self, max_columns: int = 5) -> str:
        """One-line description of the failures.

        Parameters
        ----------
        max_columns : int
            Failing columns spelled out; the rest are only counted.

        Returns
        -------
        str
            E.g. ``"2 columns fail: age in_range(0, 120) x12 e.g. [-5, 300];
            income not_nullable x40"``.
        """
        note = ""
        if self.extra_columns:
            shown = ", ".join(self.extra_columns[:max_columns])
            more = len(self.extra_columns) - max_columns
            tail = f", +{more} more" if more > 0 else ""
            count = len(self.extra_columns)
            noun = "column" if count == 1 else "columns"
            note = f" (note: {count} extra {noun} not in schema: {shown}{tail})"
        if self.ok:
            return f"schema ok: {self.rows} rows{note}"
        columns = list(dict.fromkeys(failure.column for failure in self.failures))
        shown_columns = set(columns[:max_columns])
        parts = [_describe(f) for f in self.failures if f.column in shown_columns]
        if len(columns) > max_columns:
            parts.append(f"+{len(columns) - max_columns} more columns")
        verb = "column fails" if len(columns) == 1 else "columns fail"
        return f"{len(columns)} {verb}: " + "; ".join(parts) + note


def _describe(failure: ColumnFailure) -> str:
    text = f"{failure.column} {failure.check} x{failure.failure_count}"
    if failure.examples:
        shown = ", ".join(_quote(example) for example in failure.examples[:3])
        text += f" e.g. [{shown}]"
    return text


def _quote(example: str) -> str:
    try:
        float(example)
    except ValueError:
        return repr(example)
    return example


# --------------------------------------------------------------------------- files


def write_schema(schema: pa.DataFrameSchema, path: Path) -> None:
    """Write ``schema`` to ``path`` as pandera YAML (atomically).

    Parameters
    ----------
    schema : pandera.pandas.DataFrameSchema
        Schema to store.
    path : pathlib.Path
        Destination; parent directories are created.
    """
    path = Path(path)
    text = schema.to_yaml()
    if not isinstance(text, str):  # pragma: no cover - to_yaml returns text without a stream
        raise TypeError("pandera did not return the schema as YAML text")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(path, text)


def read_schema(path: Path) -> pa.DataFrameSchema:
    """Read a pandera YAML schema.

    Parameters
    ----------
    path : pathlib.Path
        Schema file written by :func:`write_schema` (or by pandera).

    Returns
    -------
    pandera.pandas.DataFrameSchema

    Raises
    ------
    SchemaFileError
        The file is missing or unreadable, is not valid YAML, or does not
        describe a pandera dataframe schema. The message names the file.
    """
    from pandera.io import pandas_io

    deserialize: Any = pandas_io.deserialize_schema
    path = Path(path)
    text = read_user_text(path, "schema file", SchemaFileError)
    try:
        content = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SchemaFileError(
            f"schema file {path} is not valid YAML: {_yaml_problem(exc)}"
        ) from exc
    if not isinstance(content, dict) or (
        content.get("schema_type") != "dataframe" and "columns" not in content
    ):
        raise SchemaFileError(
            f"schema file {path} is not a pandera dataframe schema "
            "(expected a mapping with 'schema_type: dataframe' and 'columns')"
        )
    if content.get("schema_type", "dataframe") != "dataframe":
        raise SchemaFileError(
            f"schema file {path} holds a {content['schema_type']!r} schema, expected 'dataframe'"
        )
    columns = content.get("columns")
    if columns is not None and not isinstance(columns, (dict, list)):
        raise SchemaFileError(f"schema file {path}: 'columns' must be a mapping")
    problem = _unknown_keys(content)
    if problem:
        raise SchemaFileError(f"schema file {path}: {problem}")
    try:
        schema = deserialize(content)
    except Exception as exc:  # pandera raises many exception types here
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise SchemaFileError(
            f"schema file {path} is not a valid pandera schema: "
            f"{type(exc).__name__}: {detail}".rstrip(": ")
        ) from exc
    if not isinstance(schema, pa.DataFrameSchema):  # pragma: no cover - defensive
        raise SchemaFileError(f"schema file {path} is not a pandera dataframe schema")
    return schema


@functools.cache
def _known_keys() -> tuple[frozenset[str], frozenset[str]]:
    """Keys pandera reads at the top level and on a column of a dataframe schema."""
    from pandera.io import pandas_io

    serialize: Any = pandas_io.serialize_schema
    sample = serialize(pa.DataFrameSchema({"a": pa.Column(float)}), minimal=False)
    top = set(sample) | {"metadata", "dataframe_library", "multiindex"}
    column = set(sample["columns"]["a"]) | {"name", "checks", "default"}
    return frozenset(top), frozenset(column)


def _unknown_keys(content: dict[Any, Any]) -> str:
    """Describe keys pandera would silently ignore (typos), or return ``""``."""
    top, column_keys = _known_keys()
    unknown = [str(key) for key in content if key not in top]
    if unknown:
        return f"unknown top-level key(s): {', '.join(unknown)}"
    columns = content.get("columns") or {}
    specs = (
        [(spec.get("name"), spec) if isinstance(spec, dict) else (None, spec) for spec in columns]
        if isinstance(columns, list)
        else list(columns.items())
    )
    for name, spec in specs:
        if not isinstance(spec, dict):
            got = _short_text(repr(spec))
            return f"column {name!r}: expected a mapping of column options, got {got}"
        flat_checks = [
            str(key)
            for key in spec
            if key not in column_keys
            and not str(key).startswith("_")
            and callable(getattr(pa.Check, str(key), None))
        ]
        unknown = [str(key) for key in spec if key not in column_keys and key not in flat_checks]
        if unknown:
            shown = ", ".join(unknown)
            return f"column {name!r}: unknown key(s) {shown} (neither a column option nor a check)"
        if flat_checks and spec.get("checks") is not None:
            return (
                f"column {name!r}: both a 'checks' list and check keys "
                f"({', '.join(flat_checks)}); pandera would ignore the latter"
            )
    return ""


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return str(problem)


# --------------------------------------------------------------------------- validation


def validate_frame(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> SchemaReport:
    """Validate ``frame`` lazily and aggregate failures per (column, check).

    The common column rules (presence, dtype, nullability, uniqueness and the
    built-in value checks) are computed directly on the columns' values by
    :mod:`.schema_fast`; pandera validates the rest. The report is the one
    pandera alone would give. Validation always runs at full depth, whatever
    pandera's environment configuration says. The input frame is not modified.

    Parameters
    ----------
    frame : pandas.DataFrame
        Data to validate.
    schema : pandera.pandas.DataFrameSchema
        Schema, e.g. from :func:`infer_schema` or :func:`read_schema`.

    Returns
    -------
    SchemaReport
    """
    fast = validate_fast(frame, schema, sample=_CASES_KEPT)
    if fast.rest is schema:  # nothing the fast path could take
        return _validate_with_pandera(frame, schema)
    errors = _pandera_errors(frame, fast.rest)
    table = _failure_table(errors, fast, schema.name)
    return _report(frame, schema, () if table is None else _aggregate(table))


def _validate_with_pandera(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> SchemaReport:
    """:func:`validate_frame` by pandera alone, aggregating pandera's own failure table.

    The reference the fast path is held to, in tests and benchmarks.
    """
    errors = _pandera_errors(frame, schema)
    failures = () if errors is None else _aggregate(errors.failure_cases)
    return _report(frame, schema, failures)


def _report(
    frame: pd.DataFrame, schema: pa.DataFrameSchema, failures: tuple[ColumnFailure, ...]
) -> SchemaReport:
    return SchemaReport(
        failures=failures, rows=len(frame), extra_columns=_extra_columns(frame, schema)
    )


def _pandera_errors(frame: pd.DataFrame, schema: pa.DataFrameSchema | None) -> SchemaErrors | None:
    """Pandera's lazy validation of ``frame`` at full depth: its errors, or None."""
    if schema is None:
        return None
    work = frame.copy(deep=False)  # pandera attaches metadata to the object it checks
    with config_context(validation_enabled=True, validation_depth="SCHEMA_AND_DATA"):
        try:
            schema.validate(work, lazy=True, inplace=True)
        except SchemaErrors as exc:
            return exc
        except SchemaError as exc:  # raised eagerly by some frame-level checks
            return SchemaErrors(schema, [exc], work)
    return None


def _failure_table(
    errors: SchemaErrors | None, fast: FastValidation, schema_name: object
) -> pd.DataFrame | None:
    """Pandera's failure-case table for its errors and the fast path's failures together.

    Built as pandera consolidates its errors: one table per failure, the scalar
    failures (a missing column, a dtype name) as one more, concatenated so the
    failure values get the dtype they would get in a pandera run, and sorted by
    schema context. A ``weight`` column carries the fast path's counts, whose
    tables hold only a sample of distinct values.
    """
    tables: list[pd.DataFrame] = []
    scalars: list[dict[str, object]] = []
    for error in [] if errors is None else errors.schema_errors:
        _add_error(error, tables, scalars)
    tables.extend(_fast_table(failure) for failure in fast.failures)
    scalars.extend(_missing_record(key, schema_name) for key in fast.missing)
    if scalars:
        tables.append(pd.DataFrame.from_records(scalars))
    if not tables:
        return None
    combined = pd.concat(tables, ignore_index=True)
    return combined.sort_values("schema_context", ascending=False, kind="stable")


def _add_error(
    error: SchemaError, tables: list[pd.DataFrame], scalars: list[dict[str, object]]
) -> None:
    """Add one pandera error as ``consolidate_failure_cases`` in pandera does."""
    meta: dict[str, Any] = {
        "schema_context": type(error.schema).__name__,
        "check": check_identifier(error.check),
        "weight": 1,
    }
    cases = error.failure_cases
    if not isinstance(cases, pd.DataFrame):
        scalars.append({"column": error.schema.name, "failure_case": cases, **meta})
        return
    if "column" in cases:
        column: Any = cases["column"]
    elif error.column_name is not None:
        column = error.column_name
    else:
        column = error.schema.name
    if isinstance(column, tuple):
        column = [column] * len(cases)
    tables.append(cases.assign(column=column, **meta)[_TABLE_COLUMNS])


def _fast_table(failure: Failure) -> pd.DataFrame:
    rows = len(failure.cases)
    weight = np.zeros(rows, dtype=np.int64)
    weight[:1] = failure.count
    return pd.DataFrame(
        {
            "schema_context": ["Column"] * rows,
            "column": [failure.column] * rows,
            "check": [failure.check] * rows,
            "failure_case": failure.cases,
            "weight": weight,
        }
    )


def _missing_record(key: Hashable, schema_name: object) -> dict[str, object]:
    return {
        "column": schema_name,
        "failure_case": key,
        "schema_context": "DataFrameSchema",
        "check": "column_in_dataframe",
        "weight": 1,
    }


def _extra_columns(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> tuple[str, ...]:
    named: set[Hashable] = set()
    patterns: list[str] = []
    for key, column in schema.columns.items():
        if getattr(column, "regex", False):
            patterns.append(str(key))
        else:
            named.add(key)
    extra = [
        str(name)
        for name in frame.columns
        if name not in named and not any(re.match(p, str(name)) for p in patterns)
    ]
    return tuple(extra)


def _aggregate(cases: pd.DataFrame) -> tuple[ColumnFailure, ...]:
    """Group pandera's failure cases by (column, check), counting and sampling values.

    Each row counts once, or ``weight`` times when the table has that column.
    All per-row work is vectorised; Python only loops over the groups and the
    handful of sampled example values.
    """
    if cases.empty:
        return ()
    check = cases["check"].astype(object).to_numpy()
    value = cases["failure_case"].astype(object).to_numpy()
    frame_level = (cases["schema_context"] == "DataFrameSchema").to_numpy(dtype=bool)
    missing = frame_level & (check == "column_in_dataframe")
    column = cases["column"].astype(object).to_numpy().copy()
    column[frame_level] = FRAME
    column[missing] = value[missing]  # a missing column is named by its failure case
    table = pd.DataFrame({"column": column, "check": check, "value": value})
    group = table.groupby(["column", "check"], dropna=False, sort=False).ngroup().to_numpy()
    table["group"] = group
    weight = cases["weight"].to_numpy(dtype=np.float64) if "weight" in cases else None
    counts = np.rint(np.bincount(group, weights=weight)).astype(np.int64)
    firsts = table.drop_duplicates("group").sort_values("group")

    sampled = table[~table["check"].isin(_NO_EXAMPLE_CHECKS).to_numpy()]
    texts: dict[int, list[str]] = {}
    if not sampled.empty:
        try:
            distinct = sampled.drop_duplicates(["group", "value"])
        except TypeError:  # unhashable failure values (e.g. lists): compare as text
            distinct = sampled.assign(value=sampled["value"].map(repr)).drop_duplicates(
                ["group", "value"]
            )
        distinct = distinct.groupby("group", sort=False).head(_EXAMPLE_POOL)
        for number, example in zip(distinct["group"], distinct["value"], strict=True):
            texts.setdefault(int(number), []).append(_short_text(example))

    merged: dict[tuple[str, str], tuple[int, list[str]]] = {}
    for number, name, label in zip(firsts["group"], firsts["column"], firsts["check"], strict=True):
        key = (_column_label(name), _check_label(label))
        total, examples = merged.get(key, (0, []))
        for text in texts.get(int(number), []):
            if text not in examples and len(examples) < _MAX_EXAMPLES:
                examples.append(text)
        merged[key] = (total + int(counts[number]), examples)
    return tuple(
        ColumnFailure(column=key[0], check=key[1], failure_count=total, examples=tuple(examples))
        for key, (total, examples) in sorted(merged.items())
    )


def _column_label(name: object) -> str:
    if name is None or (isinstance(name, float) and math.isnan(name)):
        return FRAME
    return str(name)


def _check_label(label: object) -> str:
    if label is None or (isinstance(label, float) and math.isnan(label)):
        return "unknown"
    text = str(label)
    if text.startswith(("isin(", "notin(")) and len(text) > _MAX_SET_LABEL_CHARS:
        return text[: text.index("(")] + "([...])"
    return text


def _short_text(value: object) -> str:
    return shorten(str(value), _MAX_EXAMPLE_CHARS)
