"""``mlgates init``: a starting config and an inferred pandera schema, for the user to edit.

The written config passes on the files it was inferred from when they come from
one process: every column gets a role (:func:`mlgates.stats.columns.classify_column`)
written with its reason to ``[data.roles]``, bounds that depend on sample size
(``min_rows``, the missing-share margin) are set from the sizes of the given
files, and what the data cannot tell (a minimum batch size, how fresh dates
must be) is left as commented lines for the user to set.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mlgates.config import CONFIG_FILE
from mlgates.core import ConfigError, InputError
from mlgates.stages.data.roles import VALUES_EXPECTED_NEW

if TYPE_CHECKING:
    import pandas as pd

    from mlgates.stats.columns import ColumnRole

SCHEMA_FILE = "mlgates.schema.yaml"
WORK_DIRECTORY = ".mlgates/"
"""Where runs keep their history, report and cache; ignored by git."""

MIN_ROWS = 100
"""``min_rows`` written when every checked column has at least this many values."""
MISSING_MARGIN = 0.05
"""Margin of the ``missing_share`` check, widened for small batches."""
DRIFT_CONFIDENCE = 0.99
"""``drift_confidence`` written; the missing-share margin uses the same level."""
KEY_MIN_ROWS = 1000
"""A key must be distinct in at least this many reference rows: in a smaller sample the
values of an order or a patient seen on several rows are distinct by chance."""
KEY_WORDS = frozenset({"id", "key", "uuid", "guid", "pk"})
"""A distinct-valued column whose name ends in one of these words is a key: the schema
requires its values unique and present. Values that are merely distinct in one sample
(e-mail addresses, order numbers of order lines) are not held to that."""
_PII_INIT_BUDGET = 1_000  # values per column init scans: enough to see what a column holds
_PII_BY_DESIGN = 0.5  # a kind in this share of a column's values is what the column holds
_NAME_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")

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
schema = {schema}  # inferred from the reference: review keys, signs and categories
checks = [
  "missing_share <= reference + {missing_margin}",
  "drift_share <= 0.25",
  # A minimum batch size is a business fact that the data cannot tell: set the
  # smallest batch worth checking, then uncomment this line.
  # "row_count >= 1000",
{freshness}]
# Drift is checked per column by default: Wasserstein distance for numbers and
# Jensen-Shannon distance for categories, each called only when beyond its threshold
# AND beyond sampling noise (drift_confidence, split over the columns).
drift_confidence = {drift_confidence}
# A column's drift is decided only when the reference and the current data each
# hold at least min_rows non-missing values of it; otherwise its drift check is
# inconclusive, which blocks (see on_inconclusive).{min_rows_note}
min_rows = {min_rows}
{exclude}
# Per-column overrides:
# [data.columns.income]
# method = "psi"
# checks = ["drift <= 0.2", "missing_share <= 0.01"]

# What each column holds, as read from the reference, and so which checks it gets
# (docs/data-gate.md#column-roles); change a role to change its checks:
#   identifier, datetime  no drift, no out_of_range: every batch brings new values;
#                         a datetime batch must not be older than the reference (stale)
#   text                  drift and out_of_range of the text's length; blank counts as missing
#   code, category, flag  shares of the frequent labels, and new labels against chance
#   number                distribution drift, and values beyond the reference's range
[data.roles]
{roles}{pii}"""


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
    roles = _roles(frame, skip=nested)
    keys = [
        name
        for name, role in roles.items()
        if role.role == "identifier" and is_key(name) and len(frame) >= KEY_MIN_ROWS
    ]
    try:
        # No value sets: a rare label that one sample missed turns up in the next batch
        # by chance, which a set would block; out_of_range weighs new labels against chance.
        schema = infer_schema(frame, keys=keys, max_categories=0)
    except ValueError as exc:  # e.g. a duplicate column name
        raise InputError(f"{reference}: {exc}") from None
    in_batch = {str(c) for c in batch.columns}
    checked = [str(c) for c in frame.columns if str(c) not in nested and str(c) in in_batch]
    counts = (_value_counts(frame, checked), _value_counts(batch, checked))
    no_drift = {name for name, role in roles.items() if role.role in VALUES_EXPECTED_NEW}
    min_rows, fewest = _min_rows(frame, batch, counts[0], skip=no_drift)
    margins = _missing_margins(frame, batch, counts[0]) if current is not None else {}
    text = _TEMPLATE.format(
        reference=toml_string(_relative(reference, directory)),
        current=toml_string(_relative(current or reference, directory)),
        current_note="" if current else "   # point this at the new batch to check",
        schema=toml_string(SCHEMA_FILE),
        missing_margin=f"{MISSING_MARGIN:.2f}",
        drift_confidence=DRIFT_CONFIDENCE,
        min_rows_note=_min_rows_note(min_rows, fewest),
        min_rows=min_rows,
        exclude=_exclude_lines(frame, nested, present=in_batch)
        + _margin_lines(margins, len(batch)),
        freshness=_freshness_lines(roles),
        roles=_role_lines(roles, keys),
        pii=_pii_lines(frame, skip=nested),
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


def _roles(frame: pd.DataFrame, *, skip: Sequence[str]) -> dict[str, ColumnRole]:
    """The role of every column of ``frame`` but those in ``skip`` (nested ones)."""
    from mlgates.stats.columns import classify_column

    roles = {}
    for column in frame.columns:
        series = frame[column]
        if str(column) in skip or series.ndim != 1:  # ndim 2: a duplicate name
            continue
        roles[str(column)] = classify_column(series)
    return roles


def is_key(name: str) -> bool:
    """Whether a column name says it is a key: its last word is one of :data:`KEY_WORDS`.

    ``id``, ``customer_id``, ``customerId``, ``order-key`` and ``UUID`` are keys;
    ``paid``, ``valid`` and ``monkey`` are not.
    """
    words = _NAME_WORDS.findall(name)
    return bool(words) and words[-1].lower() in KEY_WORDS


def _role_lines(roles: Mapping[str, ColumnRole], keys: Sequence[str]) -> str:
    """The body of ``[data.roles]``: one line per column with the reason as a comment."""
    if not roles:
        return ""
    entries = [f"{toml_string(name)} = {toml_string(role.role)}" for name, role in roles.items()]
    width = max(len(entry) for entry in entries)
    lines = []
    for entry, (name, role) in zip(entries, roles.items(), strict=True):
        reason = role.reason
        if role.role == "identifier":
            reason += (
                "; a key: the schema requires each value unique and present"
                if name in keys
                else "; not named as a key, so not required unique"
            )
        lines.append(f"{entry.ljust(width)}  # {reason}")
    return "\n".join(lines) + "\n"


def _pii_lines(frame: pd.DataFrame, *, skip: Sequence[str]) -> str:
    """``[data.pii.allow]`` for the personal data the reference's text columns already hold.

    A column made to hold a kind (most of its values do) is allowed it; a kind in
    a few values is allowed too, so that clean batches pass, with a comment that
    asks whether it belongs there.
    """
    from mlgates.stages.data.pii import scan_column
    from mlgates.stats.columns import type_family

    lines = []
    for column in frame.columns:
        series = frame[column]
        if str(column) in skip or series.ndim != 1 or type_family(series) != "text":
            continue
        scan = scan_column(series, budget=_PII_INIT_BUDGET, cap=_PII_INIT_BUDGET)
        if not scan.findings:
            continue
        kinds = ", ".join(toml_string(finding.kind) for finding in scan.findings)
        notes = []
        for finding in scan.findings:
            share = finding.rows / max(scan.rows_total, 1)
            note = f"{finding.kind} in {share:.0%} of reference values"
            if share < _PII_BY_DESIGN:
                note += f" ({finding.rows:,}): delete it if this column must not hold any"
            notes.append(note)
        lines.append(f"{toml_string(str(column))} = [{kinds}]  # {'; '.join(notes)}")
    if not lines:
        return ""
    return (
        "\n# Personal data the reference already holds, allowed where it is; the compliance\n"
        "# scan (data::pii) fails on any other kind in any text column:\n"
        "[data.pii.allow]\n" + "\n".join(lines) + "\n"
    )


def _freshness_lines(roles: Mapping[str, ColumnRole]) -> str:
    """Commented ``freshness`` checks for the date columns: how fresh is a business fact."""
    dates = [name for name, role in roles.items() if role.role == "datetime"]
    if not dates:
        return ""
    lines = [
        "  # How old may the newest date be? Uncomment and set (durations: 30m, 12h, 2d, 1w):",
    ]
    lines.extend(f"  # {toml_string(f'freshness[{name}] <= 2d')}," for name in dates)
    return "\n".join(lines) + "\n"


def _value_counts(frame: pd.DataFrame, columns: Sequence[str]) -> dict[str, int]:
    """Non-missing values per column of ``columns`` that ``frame`` holds once."""
    wanted = set(columns)
    counts = {}
    for column in frame.columns:
        series = frame[column]
        if str(column) in wanted and series.ndim == 1:
            counts[str(column)] = int(series.notna().sum())
    return counts


# --------------------------------------------------------------------------- bounds


def _min_rows(
    frame: pd.DataFrame, batch: pd.DataFrame, counts: Mapping[str, int], *, skip: Collection[str]
) -> tuple[int, int]:
    """``min_rows`` to write (at most :data:`MIN_ROWS`) and the column that sets it.

    ``counts`` are the non-missing values per checked column of the reference.
    A batch the size of the given one holds a binomial number of a column's
    values; ``min_rows`` is the smallest of their lower quantiles at the drift
    confidence (split over the columns), so that the next batch of that size
    from the same process is decided, not inconclusive, for the sparsest
    column, and never more than the sparsest column has in the reference.
    Columns in ``skip`` (no drift check) and columns without values are left
    out. Returns ``(min_rows, expected values of the sparsest column)``.
    """
    from scipy import stats

    n_reference, n_batch = len(frame), len(batch)
    shares = {
        name: count / n_reference
        for name, count in counts.items()
        if count > 0 and name not in skip and n_reference
    }
    if not shares or n_batch == 0:
        return MIN_ROWS, n_batch
    alpha = (1 - DRIFT_CONFIDENCE) / len(shares)
    sparsest = min(shares.values())
    lowest = min(int(stats.binom.ppf(alpha, n_batch, sparsest)), round(sparsest * n_reference))
    return max(1, min(MIN_ROWS, lowest)), round(sparsest * n_batch)


def _min_rows_note(min_rows: int, expected: int) -> str:
    if min_rows >= MIN_ROWS:
        return ""
    return (
        f"\n# Set to {min_rows} (from {MIN_ROWS}): a checked column has about {expected}"
        "\n# non-missing values in a batch of this size, and as few as this by chance. The"
        "\n# drift noise floor keeps small samples from raising false alarms."
    )


def _missing_margins(
    frame: pd.DataFrame, batch: pd.DataFrame, counts: Mapping[str, int]
) -> dict[str, float]:
    """Columns whose missing share varies by chance more than :data:`MISSING_MARGIN`.

    ``counts`` are the non-missing values per checked column of the reference.
    For each checked column with missing values in the reference, the share a
    batch of this size reaches by chance (binomial quantile at the drift
    confidence, split over those columns, of the largest share the reference's
    count makes likely at that confidence; the reference's own sampling error is
    folded in through the effective sample size too), minus the reference share.
    Returns the margin, rounded up to a percent, of each column where that
    exceeds :data:`MISSING_MARGIN`; the others keep it.
    """
    from scipy import stats

    n_reference, n_batch = len(frame), len(batch)
    if n_reference == 0 or n_batch == 0:
        return {}
    shares = {
        name: 1 - count / n_reference for name, count in counts.items() if 0 < count < n_reference
    }
    if not shares:
        return {}
    alpha = (1 - DRIFT_CONFIDENCE) / len(shares)
    size = max(1, int(1 / (1 / n_reference + 1 / n_batch)))
    margins = {}
    for name, share in shares.items():
        # the reference's share is itself a sample: take the largest it is likely to be
        missing = round(share * n_reference)
        likely = float(stats.beta.ppf(1 - alpha, missing + 1, n_reference - missing))
        excess = float(stats.binom.ppf(1 - alpha, size, likely)) / size - share
        margin = math.ceil(round(excess * 100, 6)) / 100
        if margin > MISSING_MARGIN:
            margins[name] = margin
    return margins


def _margin_lines(margins: Mapping[str, float], rows: int) -> str:
    """Per-column ``missing_share`` checks for the columns whose margin had to widen."""
    if not margins:
        return ""
    lines = [
        "",
        f"# In a batch of {rows} rows the share of missing values of these columns varies by",
        f"# more than {MISSING_MARGIN} by chance alone: their margins are widened.",
    ]
    for name, margin in margins.items():
        lines.append(f"[data.columns.{toml_string(name)}]")
        lines.append(f'checks = ["missing_share <= reference + {margin:.2f}"]')
    return "\n".join(lines) + "\n"


def _exclude_lines(frame: pd.DataFrame, nested: Sequence[str], *, present: set[str]) -> str:
    """The ``exclude`` array: one commented line per nested column of the current data."""
    names = [str(c) for c in frame.columns if str(c) in nested and str(c) in present]
    if not names:
        return "exclude = []  # columns to leave out of every check but the schema\n"
    why = "holds nested values (lists, dicts, arrays): no drift or value checks"
    lines = [f"  {toml_string(name)},  # {why}" for name in names]
    return (
        "# Left out of every check but the schema (drift, missing values, types, ...):\n"
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
