"""``mlgates init``: a starting config and an inferred pandera schema, for the user to edit.

The written config passes on the files it was inferred from when they come from
one process: bounds that depend on sample size (``min_rows``, the missing-share
margin) are set from the sizes of the given files, and a minimum batch size,
which the data cannot tell, is left for the user to set.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mlgates.config import CONFIG_FILE
from mlgates.core import ConfigError, InputError

if TYPE_CHECKING:
    import pandas as pd

SCHEMA_FILE = "mlgates.schema.yaml"
WORK_DIRECTORY = ".mlgates/"
"""Where runs keep their history, report and cache; ignored by git."""

MIN_ROWS = 100
"""``min_rows`` written when every checked column has at least this many values."""
MISSING_MARGIN = 0.05
"""Margin of the ``missing_share`` check, widened for small batches."""
DRIFT_CONFIDENCE = 0.99
"""``drift_confidence`` written; the missing-share margin uses the same level."""
ROWS_PER_VALUE = 10
"""Drift of a categorical column is left off below this many values per distinct value.

Values are counted as the effective sample size of the two files,
``1 / (1 / reference + 1 / current)``: below about ten per category the
chi-square noise floor of the Jensen-Shannon distance is exceeded by chance far
more often than ``drift_confidence`` says.
"""
_PROFILE_CATEGORIES = 1001  # a reference profile keeps 1000 categories, plus "other"
_IDENTIFIER_MIN_ROWS = 100

_TEMPLATE = """\
# mlgates configuration: what the data must satisfy before a model ships.
# Thresholds use one grammar everywhere: "metric op bound", e.g.
#   "missing_share <= reference + 0.05"   (compared with the same column in the reference)
#   "drift_share <= 0.25"                 (share of columns that drifted)
# Every path is relative to this file. See docs/configuration.md for every key.

[mlgates]
on_inconclusive = "fail"              # an undecidable check blocks ("warn" lets it pass, visibly)
first_run = "inconclusive"            # or "pass": history bounds are skipped until a run passed
history = ".mlgates/history.jsonl"
report = ".mlgates/report.html"

[data]
reference = {reference}
current = {current}{current_note}
schema = {schema}  # inferred from the reference: review ranges and categories
checks = [
{missing_note}  "missing_share <= reference + {missing_margin}",
  "drift_share <= 0.25",
  # A minimum batch size is a business fact that the data cannot tell: set the
  # smallest batch worth checking, then uncomment this line.
  # "row_count >= 1000",
]
# Drift is checked per column by default: Wasserstein distance for numbers and
# Jensen-Shannon distance for categories, each called only when beyond its threshold
# AND beyond sampling noise (drift_confidence, split over the columns).
drift_confidence = {drift_confidence}
# A column's drift is decided only when the reference and the current data each
# hold at least min_rows non-missing values of it; otherwise its drift check is
# inconclusive, which blocks (see on_inconclusive).{min_rows_note}
min_rows = {min_rows}
{exclude}{sparse}
# Per-column overrides:
# [data.columns.income]
# method = "psi"
# checks = ["drift <= 0.2", "missing_share <= 0.01"]
"""


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string (double-quoted, escaped like JSON).

    Raises
    ------
    ConfigError
        ``text`` holds a lone surrogate (e.g. from an undecodable file name),
        which no TOML file can hold.
    """
    parts = ['"']
    for char in text:
        code = ord(char)
        if char in _SHORT_ESCAPES:
            parts.append(_SHORT_ESCAPES[char])
        elif code < 0x20 or code == 0x7F:
            parts.append(f"\\u{code:04X}")
        elif 0xD800 <= code <= 0xDFFF:
            raise ConfigError(f"{text!r} cannot be written to a TOML file (not valid Unicode)")
        else:
            parts.append(char)
    parts.append('"')
    return "".join(parts)


_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def _relative(path: Path, directory: Path) -> str:
    try:
        return Path(os.path.relpath(path.resolve(), directory.resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return path.resolve().as_posix()


def write_starter(
    *, reference: Path, current: Path | None, directory: Path, force: bool = False
) -> list[Path]:
    """Write ``mlgates.toml`` and ``mlgates.schema.yaml`` into ``directory``.

    Also adds ``.mlgates/`` to the directory's ``.gitignore``, creating the
    file if needed; its path is returned only when it was created or changed.

    Raises :class:`ConfigError` if either exists and ``force`` is false, and
    :class:`InputError` if a data file cannot be read.
    """
    from mlgates.datafiles import read_frame
    from mlgates.stages.data.schema import write_schema
    from mlgates.stages.data.schema_inference import infer_schema

    for path, name in ((reference, "--reference"), (current, "--current")):
        if path is not None and not path.is_file():
            if path.is_symlink():
                raise InputError(f"{name} {path}: a broken symlink or a symlink loop")
            raise InputError(f"{name} {path}: file not found")
    config_path = directory / CONFIG_FILE
    schema_path = directory / SCHEMA_FILE
    existing = [p for p in (config_path, schema_path) if p.exists()]
    if existing and not force:
        names = ", ".join(str(p) for p in existing)
        raise ConfigError(f"{names} already exists; pass --force to overwrite")
    frame = read_frame(reference)
    batch = read_frame(current) if current is not None else frame
    nested = _nested_columns(frame, batch)
    identifiers = _identifiers(frame, skip=nested)
    try:
        schema = infer_schema(frame, identifiers=identifiers)
    except ValueError as exc:  # e.g. a duplicate column name
        raise InputError(f"{reference}: {exc}") from None
    excluded = set(identifiers) | set(nested)
    in_batch = {str(c) for c in batch.columns}
    checked = [str(c) for c in frame.columns if str(c) not in excluded and str(c) in in_batch]
    counts = (_value_counts(frame, checked), _value_counts(batch, checked))
    sparse = _sparse_categories(frame, counts)
    min_rows, fewest = _min_rows(frame, batch, counts, skip=sparse)
    margin = _missing_margin(frame, batch, counts[0]) if current is not None else MISSING_MARGIN
    text = _TEMPLATE.format(
        reference=toml_string(_relative(reference, directory)),
        current=toml_string(_relative(current or reference, directory)),
        current_note="" if current else "   # point this at the new batch to check",
        schema=toml_string(SCHEMA_FILE),
        missing_note=_missing_note(margin, len(batch)),
        missing_margin=f"{margin:.2f}",
        drift_confidence=DRIFT_CONFIDENCE,
        min_rows_note=_min_rows_note(min_rows, fewest),
        min_rows=min_rows,
        exclude=_exclude_lines(frame, identifiers, nested, present=in_batch),
        sparse=_sparse_lines(sparse),
    )
    directory.mkdir(parents=True, exist_ok=True)
    write_schema(schema, schema_path)
    config_path.write_text(text, encoding="utf-8")
    written = [config_path, schema_path]
    ignore = ignore_work_directory(directory)
    if ignore is not None:
        written.append(ignore)
    return written


# --------------------------------------------------------------------------- columns


def _nested_columns(*frames: pd.DataFrame) -> list[str]:
    """Columns holding lists, dicts, sets or arrays in any of ``frames``, in first-frame order."""
    from mlgates.stages.data.schema_inference import is_nested

    names: dict[str, None] = {}
    for frame in frames:
        for column in frame.columns:
            series = frame[column]
            if series.ndim == 1 and is_nested(series):  # ndim 2: a duplicate name
                names[str(column)] = None
    return list(names)


def _identifiers(frame: pd.DataFrame, *, skip: Sequence[str]) -> list[str]:
    """Integer and text columns whose values are all distinct: new rows bring new values.

    Hashing a column can fail (lists, unhashable objects); such a column is
    not an identifier. Never raises.
    """
    from pandas.api import types

    if len(frame) <= _IDENTIFIER_MIN_ROWS:
        return []
    found = []
    for column in frame.columns:
        series = frame[column]
        if str(column) in skip or series.ndim != 1:  # ndim 2: a duplicate name
            continue
        dtype = series.dtype
        if types.is_bool_dtype(dtype) or isinstance(dtype, types.CategoricalDtype):
            continue
        if not (
            types.is_integer_dtype(dtype)
            or types.is_string_dtype(dtype)
            or types.is_object_dtype(dtype)
        ):
            continue
        try:
            unique = bool(series.is_unique)
        except (TypeError, ValueError, NotImplementedError):  # values that cannot be hashed
            continue
        if unique:
            found.append(str(column))
    return found


def _value_counts(frame: pd.DataFrame, columns: Sequence[str]) -> dict[str, int]:
    """Non-missing values per column of ``columns`` that ``frame`` holds once."""
    wanted = set(columns)
    counts = {}
    for column in frame.columns:
        series = frame[column]
        if str(column) in wanted and series.ndim == 1:
            counts[str(column)] = int(series.notna().sum())
    return counts


def _sparse_categories(
    frame: pd.DataFrame, counts: tuple[dict[str, int], dict[str, int]]
) -> dict[str, tuple[int, int]]:
    """Categorical columns with too few values per distinct value (see :data:`ROWS_PER_VALUE`).

    ``counts`` are the non-missing values per checked column of the reference
    and of the current data (:func:`_value_counts`). Returns ``{column:
    (distinct reference values, current values)}``. Never raises.
    """
    from mlgates.stats.profile import infer_kind

    reference_counts, current_counts = counts
    found = {}
    for column in frame.columns:
        name, series = str(column), frame[column]
        if name not in current_counts or series.ndim != 1:
            continue
        try:
            if infer_kind(series) != "categorical":
                continue
            distinct = int(series.nunique(dropna=True))
        except (TypeError, ValueError, NotImplementedError):  # values that cannot be hashed
            continue
        n_reference, n_current = reference_counts[name], current_counts[name]
        effective = 1 / (1 / n_reference + 1 / n_current) if n_reference and n_current else 0.0
        if min(distinct, _PROFILE_CATEGORIES) * ROWS_PER_VALUE > effective:
            found[name] = (distinct, n_current)
    return found


def _sparse_lines(sparse: dict[str, tuple[int, int]]) -> str:
    if not sparse:
        return ""
    lines = [
        "",
        "# Too many distinct values for the size of the current data: with fewer than",
        f"# {ROWS_PER_VALUE} values per category, category frequencies differ this much by chance,",
        "# so drift is not checked (missing values still are). Delete a table to check",
        "# that column's drift anyway, e.g. on larger batches.",
    ]
    for name, (distinct, rows) in sparse.items():
        header = f"[data.columns.{toml_string(name)}]"
        lines.append(f"{header}  # {distinct} distinct values, {rows} current values")
        lines.append("drift = false")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- bounds


def _min_rows(
    frame: pd.DataFrame,
    batch: pd.DataFrame,
    counts: tuple[dict[str, int], dict[str, int]],
    *,
    skip: Mapping[str, object],
) -> tuple[int, int]:
    """``min_rows`` to write (at most 100) and the fewest values of a checked column.

    Columns in ``skip`` (no drift check) and columns without any value on one
    side are left out: their drift cannot be decided at any ``min_rows``.
    """
    values = [n for side in counts for name, n in side.items() if n > 0 and name not in skip]
    fewest = min(values, default=min(len(frame), len(batch)))
    return max(1, min(MIN_ROWS, fewest)), fewest


def _min_rows_note(min_rows: int, fewest: int) -> str:
    if min_rows >= MIN_ROWS:
        return ""
    return (
        f"\n# Set to {min_rows} (from {MIN_ROWS}): a checked column of the given files has"
        f" only {fewest}\n# non-missing values. The drift noise floor keeps small samples"
        " from raising false alarms."
    )


def _missing_margin(frame: pd.DataFrame, batch: pd.DataFrame, counts: Mapping[str, int]) -> float:
    """The ``missing_share`` margin: 0.05, or the chance variation of the batch if larger.

    ``counts`` are the non-missing values per checked column of the reference.

    For each checked column with missing values in the reference, the share a
    batch of this size reaches by chance (binomial quantile at the drift
    confidence, split over those columns; the reference's own sampling error
    is folded in through the effective sample size), minus the reference share.
    """
    from scipy import stats

    n_reference, n_batch = len(frame), len(batch)
    if n_reference == 0 or n_batch == 0:
        return MISSING_MARGIN
    shares = [1 - count / n_reference for count in counts.values() if 0 < count < n_reference]
    if not shares:
        return MISSING_MARGIN
    alpha = (1 - DRIFT_CONFIDENCE) / len(shares)
    size = max(1, int(1 / (1 / n_reference + 1 / n_batch)))
    excess = max(float(stats.binom.ppf(1 - alpha, size, p)) / size - p for p in shares)
    return max(MISSING_MARGIN, math.ceil(round(excess * 100, 6)) / 100)


def _missing_note(margin: float, rows: int) -> str:
    if margin <= MISSING_MARGIN:
        return ""
    return (
        f"  # widened from {MISSING_MARGIN}: in a batch of {rows} rows the share of missing\n"
        "  # values varies this much by chance alone\n"
    )


def _exclude_lines(
    frame: pd.DataFrame,
    identifiers: Sequence[str],
    nested: Sequence[str],
    *,
    present: set[str],
) -> str:
    """The ``exclude`` array: one commented line per excluded column of the current data."""
    reasons = {name: "identifier: new rows bring new values" for name in identifiers}
    for name in nested:
        reasons[name] = "holds nested values (lists, dicts, arrays): no drift or value checks"
    reasons = {name: why for name, why in reasons.items() if name in present}
    if not reasons:
        return "exclude = []  # columns to leave out of drift and missing-value checks\n"
    order = {str(c): i for i, c in enumerate(frame.columns)}
    names = sorted(reasons, key=lambda name: order.get(name, len(order)))
    lines = [f"  {toml_string(name)},  # {reasons[name]}" for name in names]
    return (
        "# Left out of drift and missing-value checks (the schema still checks them):\n"
        "exclude = [\n" + "\n".join(lines) + "\n]\n"
    )


# --------------------------------------------------------------------------- .gitignore


_IGNORE_PATTERNS = frozenset(
    {
        ".mlgates",
        ".mlgates/",
        "/.mlgates",
        "/.mlgates/",
        ".mlgates/*",
        "/.mlgates/*",
        ".mlgates/**",
        "/.mlgates/**",
    }
)


def ignore_work_directory(directory: Path) -> Path | None:
    """Make git ignore ``.mlgates/`` (history, report, cache) in ``directory``.

    Appends the pattern to ``directory/.gitignore`` unless the file already
    ignores it, or creates the file.

    Returns
    -------
    pathlib.Path or None
        The ``.gitignore`` path when it was created or changed, else ``None``.
    """
    path = directory / ".gitignore"
    entry = f"# mlgates: run history, report and cache\n{WORK_DIRECTORY}\n"
    if not path.exists():
        path.write_text(entry, encoding="utf-8")
        return path
    data = path.read_bytes()
    if _ignores_work_directory(data):
        return None
    newline = b"\r\n" if b"\r\n" in data else b"\n"
    addition = entry.encode("utf-8").replace(b"\n", newline)
    if data and not data.endswith(b"\n"):
        addition = newline + addition
    with path.open("ab") as handle:
        handle.write(addition)
    return path


def _ignores_work_directory(data: bytes) -> bool:
    ignored = False
    for raw in data.splitlines():
        line = raw.decode("utf-8", errors="replace").strip()
        if line.startswith("!") and line[1:] in _IGNORE_PATTERNS:
            ignored = False
        elif line in _IGNORE_PATTERNS:
            ignored = True
    return ignored
