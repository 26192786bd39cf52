"""Verdicts of the data gate on real tables, run by hand: ``python benchmarks/verdicts.py``.

Each trial does what a user does: write a reference and a current Parquet file,
run ``mlgates init`` on them (:func:`mlgates.scaffold.write_starter`), run the
gate with the written config, and read the verdict. The tables come from
``tests/realdata.py``: names, codes, dates and free text as their packages ship
them, and a generated order table of up to 1.3 million rows.

Scenarios
---------
clean           random disjoint reference and current samples of one table: any
                block is a false block
shift           one numeric column shifted by half a standard deviation
sentinel        999999, or -1 in a column without negative values, in 0.5% of rows
unit_x1000      one numeric column multiplied by 1000 in 1% of rows
new_category    a value never seen before in 5% of rows of a category or code column
share_doubled   the share of one category (5% to 40% in the reference) doubled
extra_missing   10% more missing values in a column with under 1% missing
number_as_text  a numeric column arriving as text with decimal commas ("12,5")
date_as_text    a date column arriving as text ("31/12/2024")
stale_dates     a date column (typed or text) shifted one year back
pii_in_text     e-mail addresses or phone numbers appended to 2% of a free-text column
dropped_column  one column missing from the current data

A planted defect counts as detected when the run blocks and a blocking check's
id or message names the planted column. Splits are ``half`` (two halves of the
table) or ``REFERENCE:BATCH`` row counts; real tables are sampled without
replacement and only where they have the rows, the generated table is drawn
afresh for each trial.

:func:`run_trial` runs one (table, scenario, split, seed) trial and is what
tests call; :func:`main` runs the grid in two processes and prints the tables.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
import warnings
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import realdata
from mlgates import load_config, run_gates
from mlgates.core import MlgatesError
from mlgates.scaffold import write_starter

REFERENCES = (150, 1_000, 10_000)
BATCHES = (100, 300, 3_000)
GENERATED_SPLITS = (
    "10000:300000",
    "1000000:100",
    "1000000:300",
    "1000000:3000",
    "1000000:300000",
)
"""Splits only the generated table can fill, on top of the grid of real tables."""
GENERATED_HALF = 50_000
BIG = 1_000_000
"""Splits of this many rows or more run at most ``--big-seeds`` seeds."""
HALF = "half"
CLEAN = "clean"
NEW_VALUE = "ZZ-NEW"
SENTINEL_HIGH = 999_999
SENTINEL_LOW = -1
_PROBE = 5_000
"""Values of a column looked at to decide what it holds."""
_ID_NAME = re.compile(r"(?i:(^|_)(id|rownames|number)($|_))|[a-z](Id|ID)$|^rank$")

# --------------------------------------------------------------------------- trials


@dataclass(frozen=True)
class Trial:
    """One run of the gate: which table, which scenario, which split, which seed."""

    dataset: str
    scenario: str
    split: str
    seed: int


@dataclass(frozen=True)
class Failure:
    """A blocking check of a run, or an error that stopped it."""

    id: str
    status: str
    message: str


@dataclass
class Outcome:
    """What one trial saw: the verdict, the blocking checks, the planted column."""

    trial: Trial
    reference_rows: int = 0
    batch_rows: int = 0
    blocked: bool = False
    failures: list[Failure] = field(default_factory=list)
    column: str | None = None
    planted: str = ""
    detected: bool | None = None
    warnings: list[str] = field(default_factory=list)
    skipped: str = ""
    seconds: float = 0.0

    @property
    def applicable(self) -> bool:
        """Whether the trial ran (its table had the rows and a suitable column)."""
        return not self.skipped


def run_trial(trial: Trial) -> Outcome:
    """Run one trial: split, plant the defect, ``init``, run the gate, judge detection.

    Deterministic in ``trial``. A table too small for the split, or without a
    column the defect fits, gives an outcome with ``skipped`` set.
    """
    started = time.perf_counter()
    outcome = Outcome(trial)
    pair = split_table(trial.dataset, trial.split, trial.seed)
    if pair is None:
        outcome.skipped = "too few rows"
        return outcome
    reference, current = pair
    outcome.reference_rows, outcome.batch_rows = len(reference), len(current)
    if trial.scenario != CLEAN:
        rng = np.random.default_rng([trial.seed, zlib.crc32(trial.scenario.encode())])
        try:
            planted = DEFECTS[trial.scenario](reference, current, rng)
        except Exception as exc:  # a defect that does not fit this table's values
            outcome.skipped = f"planting failed: {type(exc).__name__}"
            return outcome
        if planted is None:
            outcome.skipped = "no suitable column"
            return outcome
        current, outcome.column, outcome.planted = planted.current, planted.column, planted.what
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outcome.blocked, outcome.failures = judge(reference, current)
    outcome.warnings = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    if outcome.column is not None:
        outcome.detected = outcome.blocked and any(
            names_column(failure, outcome.column) for failure in outcome.failures
        )
    outcome.seconds = time.perf_counter() - started
    return outcome


def judge(reference: pd.DataFrame, current: pd.DataFrame) -> tuple[bool, list[Failure]]:
    """Write both files, run ``init`` on them, run the gate: (blocked, blocking checks).

    An error that stops ``init`` or the run (a :class:`~mlgates.MlgatesError`)
    blocks, as it does for a user, and is reported as a failure ``error:<kind>``;
    any other exception is a crash, reported as ``crash:<kind>``, and blocks too.
    """
    with tempfile.TemporaryDirectory(prefix="mlgates-verdicts-") as name:
        directory = Path(name)
        reference.to_parquet(directory / "reference.parquet")
        current.to_parquet(directory / "current.parquet")
        try:
            write_starter(
                reference=directory / "reference.parquet",
                current=directory / "current.parquet",
                directory=directory,
            )
            record = run_gates(load_config(directory / "mlgates.toml"))
        except MlgatesError as exc:
            return True, [Failure(f"error:{type(exc).__name__}", "error", str(exc))]
        except Exception as exc:  # a crash is a verdict too: the user's CI fails
            return True, [Failure(f"crash:{type(exc).__name__}", "error", str(exc))]
    failures = [Failure(c.id, c.status.value, c.message) for c in record.checks if c.blocking]
    return record.blocked, failures


def names_column(failure: Failure, column: str) -> bool:
    """Whether a failure's id or message names ``column`` (as a whole word)."""
    pattern = re.compile(rf"(?<!\w){re.escape(column)}(?!\w)")
    return bool(pattern.search(failure.id) or pattern.search(failure.message))


# --------------------------------------------------------------------------- splits


def parse_split(split: str) -> tuple[int, int] | None:
    """``"REFERENCE:BATCH"`` as two row counts; ``None`` for ``"half"``."""
    if split == HALF:
        return None
    reference, batch = split.split(":")
    return int(reference), int(batch)


def split_table(dataset: str, split: str, seed: int) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Disjoint reference and current samples of ``dataset``; ``None`` if it is too small."""
    sizes = parse_split(split)
    if dataset in realdata.GENERATED:
        reference_rows, batch_rows = sizes or (GENERATED_HALF, GENERATED_HALF)
        frame = realdata.GENERATED[dataset](reference_rows + batch_rows, seed)
        return _rows(frame, np.arange(reference_rows)), _rows(
            frame, np.arange(reference_rows, len(frame))
        )
    frame = realdata.load(dataset)
    reference_rows, batch_rows = sizes or (len(frame) // 2, len(frame) - len(frame) // 2)
    if reference_rows + batch_rows > len(frame):
        return None
    order = np.random.default_rng(seed).permutation(len(frame))
    return (
        _rows(frame, order[:reference_rows]),
        _rows(frame, order[reference_rows : reference_rows + batch_rows]),
    )


def _rows(frame: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    return frame.iloc[positions].reset_index(drop=True)


def table_rows(dataset: str) -> int | None:
    """Rows of a fixed table; ``None`` for a generated one (any size)."""
    return None if dataset in realdata.GENERATED else len(realdata.load(dataset))


def clean_splits(dataset: str) -> list[str]:
    """``half`` and every grid split the table can fill."""
    rows = table_rows(dataset)
    grid = [f"{r}:{b}" for r in REFERENCES for b in BATCHES if rows is None or r + b <= rows]
    return [HALF, *grid, *(GENERATED_SPLITS if rows is None else ())]


def defect_splits(dataset: str) -> list[str]:
    """``half`` and, per batch size, the largest grid reference the table can fill.

    The generated table gets 10,000 reference rows for the grid's batches and
    1,000,000 for a batch of 300,000.
    """
    rows = table_rows(dataset)
    if rows is None:
        return [HALF, *(f"10000:{b}" for b in BATCHES), "1000000:300000"]
    splits = [HALF]
    for batch in BATCHES:
        fitting = [r for r in REFERENCES if r + batch <= rows]
        if fitting:
            splits.append(f"{max(fitting)}:{batch}")
    return splits


# --------------------------------------------------------------------------- columns


def _numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
        series.dtype
    )


def _textual(series: pd.Series) -> bool:
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype):
        return True
    if not pd.api.types.is_object_dtype(dtype):
        return False
    values = series.dropna().head(_PROBE)
    return len(values) > 0 and bool(values.map(type).eq(str).all())


def _identifier(series: pd.Series) -> bool:
    return bool(series.notna().all() and series.is_unique)


def _id_like(name: str) -> bool:
    """Whether a column name says it holds identifiers (``rownames``, ``customer_id``)."""
    return bool(_ID_NAME.search(name))


def numeric_columns(frame: pd.DataFrame, min_distinct: int = 3) -> list[str]:
    """Non-identifier number columns with at least ``min_distinct`` values and some spread."""
    return [
        str(c)
        for c in frame.columns
        if _numeric(frame[c])
        and not _id_like(str(c))
        and not _identifier(frame[c])
        and frame[c].nunique() >= min_distinct
        and float(frame[c].std()) > 0
    ]


def category_columns(frame: pd.DataFrame) -> list[str]:
    """Text columns with 2-100 values, else whole-number code columns with 2-20 values."""
    text = [str(c) for c in frame.columns if _textual(frame[c]) and 2 <= frame[c].nunique() <= 100]
    if text:
        return text
    return [
        str(c)
        for c in frame.columns
        if pd.api.types.is_integer_dtype(frame[c].dtype) and 2 <= frame[c].nunique() <= 20
    ]


_DATE_TEXT = re.compile(r"^\s*(\d{4}[-/]\d{1,2}[-/]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4})")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")


def date_columns(frame: pd.DataFrame, *, typed_only: bool = False) -> list[str]:
    """Datetime columns, and (unless ``typed_only``) text columns holding dates."""
    found = []
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            found.append(str(column))
        elif not typed_only and _textual(series):
            sample = series.dropna().head(200)
            if len(sample) and sample.str.match(_DATE_TEXT).mean() >= 0.95:
                found.append(str(column))
    return found


def free_text_columns(frame: pd.DataFrame) -> list[str]:
    """Text columns of words (not dates): long, spaced, mostly distinct values."""
    found = []
    dates = set(date_columns(frame))
    for column in frame.columns:
        series = frame[column]
        if not _textual(series) or str(column) in dates:
            continue
        values = series.dropna().head(_PROBE)
        if len(values) < 20:
            continue
        long_enough = values.str.len().mean() >= 12
        spaced = values.str.contains(" ", regex=False).mean() >= 0.5
        if long_enough and spaced and values.nunique() >= 0.2 * len(values):
            found.append(str(column))
    return found


# --------------------------------------------------------------------------- defects


@dataclass(frozen=True)
class Planted:
    """A current batch with a defect in ``column``, described by ``what``."""

    current: pd.DataFrame
    column: str
    what: str


Defect = Callable[[pd.DataFrame, pd.DataFrame, np.random.Generator], "Planted | None"]


def _choose(rng: np.random.Generator, columns: Sequence[str]) -> str | None:
    return str(rng.choice(list(columns))) if columns else None


def _some_rows(rng: np.random.Generator, rows: np.ndarray, share: float) -> np.ndarray:
    """At least one of ``rows``, about ``share`` of them."""
    count = min(len(rows), max(1, round(share * len(rows))))
    return rng.choice(rows, size=count, replace=False)


def _assign(current: pd.DataFrame, column: str, rows: np.ndarray, value: object) -> pd.DataFrame:
    """``current`` with ``value`` at ``rows`` of ``column``, keeping whole numbers whole."""
    current = current.copy()
    series = current[column]
    if pd.api.types.is_integer_dtype(series.dtype) and (value is None or isinstance(value, float)):
        series = series.astype("Int64")
    elif pd.api.types.is_bool_dtype(series.dtype) and value is None:
        series = series.astype("boolean")
    series = series.copy()
    series.iloc[rows] = value
    current[column] = series
    return current


def shift(
    reference: pd.DataFrame, current: pd.DataFrame, rng: np.random.Generator
) -> Planted | None:
    """Add half the reference's standard deviation to one numeric column."""
    column = _choose(rng, [c for c in numeric_columns(reference) if reference[c].nunique() > 20])
    if column is None:
        return None
    delta = 0.5 * float(reference[column].std())
    current = current.copy()
    values = current[column] + delta
    if pd.api.types.is_integer_dtype(current[column].dtype):
        values = values.round().astype(current[column].dtype)
    current[column] = values
    return Planted(current, column, f"+{delta:.4g} (0.5 sd)")


def sentinel(
    reference: pd.DataFrame, current: pd.DataFrame, rng: np.random.Generator
) -> Planted | None:
    """999999 (where values stay below 100000) or -1 (where none is negative) in 0.5% of rows."""
    options: list[tuple[str, int]] = []
    for column in numeric_columns(reference):
        values = reference[column].dropna()
        if values.min() >= 0:
            options.append((column, SENTINEL_LOW))
        if values.max() < SENTINEL_HIGH / 10:
            options.append((column, SENTINEL_HIGH))
    if not options:
        return None
    column, value = options[int(rng.integers(len(options)))]
    rows = _some_rows(rng, np.arange(len(current)), 0.005)
    return Planted(_assign(current, column, rows, value), column, f"{value} in {len(rows)} rows")


def unit_x1000(
    reference: pd.DataFrame, current: pd.DataFrame, rng: np.random.Generator
) -> Planted | None:
    """Multiply one numeric column by 1000 in 1% of rows."""
    column = _choose(rng, numeric_columns(reference))
    if column is None:
        return None
    present = np.flatnonzero(current[column].notna().to_numpy())
    rows = _some_rows(rng, present, 0.01)
    current = current.copy()
    values = current[column].copy()
    values.iloc[rows] = values.iloc[rows] * 1000
    current[column] = values
    return Planted(current, column, f"x1000 in {len(rows)} rows")


def new_category(
    reference: pd.DataFrame, current: pd.DataFrame, rng: np.random.Generator
) -> Planted | None:
    """A value absent from the reference in 5% of rows of a category or code column."""
    column = _choose(rng, category_columns(reference))
    if column is None:
        return None
    value: object = NEW_VALUE
    if pd.api.types.is_integer_dtype(reference[column].dtype):
        value = int(reference[column].max()) + 1
    rows = _some_rows(rng, np.arange(len(current)), 0.05)
    return Planted(_assign(current, column, rows, value), column, f"{value!r} in {len(rows)} rows")


def share_doubled(
    reference: pd.DataFrame, current: pd.DataFrame, rng: np.random.Generator
) -> Planted | None:
    """Double the share of one category holding 5%-40% of the reference."""
    options = []
    for column in category_columns(reference):
        shares = reference[column].value_counts(normalize=True)
        options += [
            (column, value, share) for value, share in shares.items() if 0.05 <= share <= 0.4
        ]
    if not options:
        return None
    column, value, share = options[int(rng.integers(len(options)))]
    labels = current[column]
    wanted = round(2 * share * len(current)) - int(labels.eq(value).sum())
    others = np.flatnonzero((labels.notna() & labels.ne(value)).to_numpy())
    if wanted <= 0 or len(others) == 0:
        return None
    rows = rng.choice(others, size=min(wanted, len(others)), replace=False)
    what = f"{value!r} from {share:.1%} to {labels.eq(value).mean() + len(rows) / len(labels):.1%}"
    return Planted(_assign(current, column, rows, value), column, what)


def extra_missing(
    reference: pd.DataFrame, current: pd.DataFrame, rng: np.random.Generator
) -> Planted | None:
    """10% more missing values in a column with under 1% missing in the reference."""
    column = _choose(rng, [str(c) for c in reference.columns if reference[c].isna().mean() < 0.01])
    if column is None:
        return None
    present = np.flatnonzero(current[column].notna().to_numpy())
    rows = _some_rows(rng, present, 0.10 * len(current) / max(len(present), 1))
    return Planted(_assign(current, column, rows, None), column, f"{len(rows)} more missing")


def number_as_text(
    reference: pd.DataFrame, current: pd.DataFrame, rng: np.random.Generator
) -> Planted | None:
    """A numeric column as text with decimal commas ("12,5"); fractional columns first."""
    numbers = numeric_columns(reference)
    fractional = [c for c in numbers if not np.allclose(reference[c].dropna() % 1, 0)]
    column = _choose(rng, fractional or numbers)
    if column is None:
        return None
    current = current.copy()
    current[column] = (
        current[column]
        .map(lambda v: None if pd.isna(v) else str(v).replace(".", ","), na_action=None)
        .astype(object)
    )
    return Planted(current, column, "as text with decimal commas")


def date_as_text(
    reference: pd.DataFrame, current: pd.DataFrame, rng: np.random.Generator
) -> Planted | None:
    """A datetime column arriving as day-first text ("31/12/2024")."""
    column = _choose(rng, date_columns(reference, typed_only=True))
    if column is None:
        return None
    current = current.copy()
    current[column] = current[column].dt.strftime("%d/%m/%Y").astype(object)
    return Planted(current, column, "as dd/mm/yyyy text")


def stale_dates(
    reference: pd.DataFrame, current: pd.DataFrame, rng: np.random.Generator
) -> Planted | None:
    """A date column, typed or text, one year older: last year's data sent again."""
    column = _choose(rng, date_columns(reference))
    if column is None:
        return None
    current = current.copy()
    series = current[column]
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        current[column] = series - pd.DateOffset(years=1)
    else:
        current[column] = series.str.replace(_YEAR, lambda m: str(int(m.group(1)) - 1), regex=True)
    return Planted(current, column, "one year back")


def pii_in_text(
    reference: pd.DataFrame, current: pd.DataFrame, rng: np.random.Generator
) -> Planted | None:
    """E-mail addresses or phone numbers appended to 2% of a free-text column's values."""
    column = _choose(rng, free_text_columns(reference))
    if column is None:
        return None
    present = np.flatnonzero(current[column].notna().to_numpy())
    rows = _some_rows(rng, present, 0.02)
    pools = realdata._pools()
    texts = current[column].astype(object).to_numpy(copy=True)
    for row in rows:
        if rng.random() < 0.5:
            first, last = rng.choice(pools.first), rng.choice(pools.last)
            contact = f"write to {first}.{last}@gmail.com".lower().replace(" ", "")
        else:
            contact = f"call me on {rng.choice(pools.phones)}"
        texts[row] = f"{texts[row]} {contact}"
    current = current.copy()
    current[column] = pd.Series(texts, dtype=current[column].dtype)
    return Planted(current, column, f"contact details in {len(rows)} rows")


def dropped_column(
    reference: pd.DataFrame, current: pd.DataFrame, rng: np.random.Generator
) -> Planted | None:
    """One column left out of the current data."""
    column = _choose(rng, [str(c) for c in current.columns])
    if column is None:
        return None
    return Planted(current.drop(columns=[column]), column, "dropped")


DEFECTS: dict[str, Defect] = {
    "shift": shift,
    "sentinel": sentinel,
    "unit_x1000": unit_x1000,
    "new_category": new_category,
    "share_doubled": share_doubled,
    "extra_missing": extra_missing,
    "number_as_text": number_as_text,
    "date_as_text": date_as_text,
    "stale_dates": stale_dates,
    "pii_in_text": pii_in_text,
    "dropped_column": dropped_column,
}
"""Every planted defect, by scenario name."""

# --------------------------------------------------------------------------- the grid


@dataclass(frozen=True)
class Plan:
    """Which trials to run."""

    datasets: tuple[str, ...]
    scenarios: tuple[str, ...]
    clean_seeds: int
    defect_seeds: int
    clean_sizes: tuple[str, ...] = ()
    defect_sizes: tuple[str, ...] = ()
    big_seeds: int = 2
    """Seeds at most for splits of a million reference rows (each takes ~10-30 s)."""

    def wants(self, split: str, sizes: tuple[str, ...]) -> bool:
        """Whether ``sizes`` (all when empty) keeps ``split``: the split or its batch size."""
        if not sizes:
            return True
        batch = split.partition(":")[2]
        return split in sizes or batch in sizes


QUICK_CLEAN = ("half", "1000:300", "10000:3000", "1000000:300000")
QUICK_DEFECTS = ("half", "300", "3000")


def trials(plan: Plan) -> list[Trial]:
    """Every trial of the plan, the largest first (so two processes finish together)."""
    found = []
    for dataset in plan.datasets:
        for scenario in plan.scenarios:
            clean = scenario == CLEAN
            splits = clean_splits(dataset) if clean else defect_splits(dataset)
            seeds = plan.clean_seeds if clean else plan.defect_seeds
            sizes = plan.clean_sizes if clean else plan.defect_sizes
            found += [
                Trial(dataset, scenario, split, seed)
                for split in splits
                if plan.wants(split, sizes)
                for seed in range(seeds if _cost(split) < BIG else min(seeds, plan.big_seeds))
            ]
    return sorted(found, key=lambda trial: -_cost(trial.split, trial.dataset))


def _cost(split: str, dataset: str = "") -> int:
    """Rows a split reads: the largest splits run first."""
    sizes = parse_split(split)
    if sizes is None:
        return 2 * GENERATED_HALF if dataset in realdata.GENERATED else 0
    return sum(sizes)


def run_all(plan: Plan, workers: int = 2, save: Path | None = None) -> list[Outcome]:
    """Run every trial of ``plan`` in ``workers`` processes, reporting progress on stderr.

    With ``save``, each outcome is appended to that JSON-lines file as it arrives.
    """
    todo = trials(plan)
    outcomes: list[Outcome] = []
    started = time.perf_counter()
    if save is not None:
        save.write_text("", encoding="utf-8")
    with ProcessPoolExecutor(workers) as pool:
        futures = [pool.submit(run_trial, trial) for trial in todo]
        for done, future in enumerate(as_completed(futures), start=1):
            outcomes.append(future.result())
            if save is not None:
                with save.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(asdict(outcomes[-1])) + "\n")
            if done % max(1, len(todo) // 20) == 0 or done == len(todo):
                elapsed = time.perf_counter() - started
                print(f"  {done}/{len(todo)} trials, {elapsed:.0f}s", file=sys.stderr, flush=True)
    return outcomes


# --------------------------------------------------------------------------- tables


def machine(*modules: str) -> str:
    """The processor, cores, load average, and the versions of Python and ``modules``."""
    import importlib
    import os
    import platform

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    versions = ", ".join(f"{name} {importlib.import_module(name).__version__}" for name in modules)
    return (
        f"{cpu}, {os.cpu_count()} cores ({usable} usable, load average {load})\n"
        f"python {sys.version.split()[0]}, {versions}"
    )


def table(
    rows: Sequence[Sequence[object]], header: Sequence[str], *, text_last: bool = False
) -> str:
    """A plain-text table: the first column (and the last if ``text_last``) left-aligned."""
    cells = [[str(x) for x in header], *[[str(x) for x in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    left = {0, len(header) - 1} if text_last else {0}

    def line(row: Sequence[str]) -> str:
        parts = [
            cell.ljust(width) if i in left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def _order(splits: Iterable[str]) -> list[str]:
    def key(split: str) -> tuple[int, int, int]:
        sizes = parse_split(split)
        return (0, 0, 0) if sizes is None else (1, sizes[1], sizes[0])

    return sorted(set(splits), key=key)


def _label(split: str) -> str:
    sizes = parse_split(split)
    if sizes is None:
        return split
    return ":".join(_short(n) for n in sizes)


def _short(rows: int) -> str:
    if rows >= 1_000_000 and rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}M"
    if rows >= 1_000 and rows % 1_000 == 0:
        return f"{rows // 1_000}k"
    return str(rows)


def _ratio(hits: int, total: int) -> str:
    return f"{hits}/{total}" if total else "."


def _clip(text: str, width: int = 220) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _kind(check: str) -> str:
    """A check id without its column: ``data::drift[name]`` -> ``data::drift``."""
    return check.partition("[")[0]


_SCHEMA_PART = re.compile(
    r"^(?P<column>.+?) (?P<check>isin|notin|in_range|not_nullable|dtype|column_in_dataframe"
    r"|unique|field_uniqueness|str_matches|str_length|greater_than\w*|less_than\w*|equal_to)\b"
)


def reasons(failure: Failure) -> list[tuple[str, str]]:
    """A failure as ``(id, message)`` pairs: a schema failure splits per column and check.

    ``data::schema`` becomes ``data::schema:isin[country]`` with the part of
    the message about that column, so that the tables count columns.
    """
    _, found, rest = failure.message.partition(" fail: ")
    if not found:
        _, found, rest = failure.message.partition(" fails: ")
    if not failure.id.endswith("::schema") or not found:
        return [(failure.id, failure.message)]
    pairs = []
    for part in rest.split("; "):
        match = _SCHEMA_PART.match(part)
        if match is None:
            pairs.append((failure.id, part))
        else:
            pairs.append((f"{failure.id}:{match['check']}[{match['column']}]", part))
    return pairs


def clean_report(outcomes: Sequence[Outcome]) -> str:
    """False-block rates per table and split, and the checks that blocked."""
    ran = [o for o in outcomes if o.trial.scenario == CLEAN and o.applicable]
    if not ran:
        return ""
    splits = _order(o.trial.split for o in ran)
    cells: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for o in ran:
        cells[o.trial.dataset, o.trial.split].append(o.blocked)
    datasets = sorted({o.trial.dataset for o in ran})
    rows = []
    for dataset in datasets:
        counts = [cells.get((dataset, s), []) for s in splits]
        blocked = sum(sum(c) for c in counts)
        total = sum(len(c) for c in counts)
        rows.append([dataset, *(_ratio(sum(c), len(c)) for c in counts), _ratio(blocked, total)])
    totals = [
        _ratio(
            sum(sum(cells.get((d, s), [])) for d in datasets),
            sum(len(cells.get((d, s), [])) for d in datasets),
        )
        for s in splits
    ]
    rows.append(["ALL", *totals, _ratio(sum(o.blocked for o in ran), len(ran))])
    header = ["clean: blocked/runs", *(_label(s) for s in splits), "all"]
    parts = ["== Clean splits: false blocks (reference:batch rows) ==", table(rows, header)]
    parts += [_blocking_kinds(ran, splits), _blocking_checks(ran)]
    return "\n\n".join(parts)


def _blocking_kinds(ran: Sequence[Outcome], splits: Sequence[str]) -> str:
    """Clean runs blocked by each kind of check, per split (a run may count for several)."""
    cells: Counter[tuple[str, str]] = Counter()
    totals: Counter[str] = Counter()
    for o in ran:
        for kind in {_kind(key) for f in o.failures for key, _ in reasons(f)}:
            cells[kind, o.trial.split] += 1
            totals[kind] += 1
    rows = [[kind, *(cells[kind, s] or "." for s in splits), n] for kind, n in totals.most_common()]
    header = ["runs blocked by", *(_label(s) for s in splits), "all"]
    return "Clean runs blocked, by kind of check:\n" + table(rows, header)


def _blocking_checks(ran: Sequence[Outcome], top: int = 40) -> str:
    """The check ids that blocked clean runs most often, with an example message."""
    by_id: Counter[tuple[str, str]] = Counter()
    example: dict[tuple[str, str], tuple[str, str]] = {}
    for o in ran:
        for check, message in {pair for f in o.failures for pair in reasons(f)}:
            key = (o.trial.dataset, check)
            by_id[key] += 1
            example.setdefault(key, (_label(o.trial.split), message))
    rows = [
        [
            f"{dataset}  {check}",
            n,
            example[dataset, check][0],
            _clip(example[dataset, check][1], 160),
        ]
        for (dataset, check), n in by_id.most_common(top)
    ]
    header = ["table  check id", "runs", "split", "example message"]
    return "Top blocking check ids in clean runs:\n" + table(rows, header, text_last=True)


def defect_report(outcomes: Sequence[Outcome], examples: int = 6) -> str:
    """Detection rates per defect and batch size, and examples of missed defects."""
    ran = [o for o in outcomes if o.trial.scenario != CLEAN and o.applicable]
    if not ran:
        return ""
    batches = _order(_batch(o) for o in ran)
    cells: dict[tuple[str, str], list[Outcome]] = defaultdict(list)
    for o in ran:
        cells[o.trial.scenario, _batch(o)].append(o)
    rows = []
    for defect in DEFECTS:
        mine = [o for o in ran if o.trial.scenario == defect]
        if not mine:
            continue
        counts = [cells.get((defect, b), []) for b in batches]
        rows.append(
            [
                defect,
                *(_ratio(sum(bool(o.detected) for o in c), len(c)) for c in counts),
                _ratio(sum(bool(o.detected) for o in mine), len(mine)),
                _ratio(sum(o.blocked for o in mine), len(mine)),
            ]
        )
    header = ["defect: detected/runs", *(_label(b) for b in batches), "all", "blocked"]
    parts = [
        "== Planted defects: detected = blocked and a blocking check names the column ==",
        table(rows, header),
        _defect_by_table(ran),
        _missed(ran, examples),
    ]
    return "\n\n".join(parts)


def _batch(outcome: Outcome) -> str:
    sizes = parse_split(outcome.trial.split)
    return HALF if sizes is None else f"0:{sizes[1]}"


def _defect_by_table(ran: Sequence[Outcome]) -> str:
    datasets = sorted({o.trial.dataset for o in ran})
    defects = [d for d in DEFECTS if any(o.trial.scenario == d for o in ran)]
    cells: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for o in ran:
        cells[o.trial.dataset, o.trial.scenario].append(bool(o.detected))
    rows = [
        [dataset, *(_ratio(sum(cells[dataset, d]), len(cells[dataset, d])) for d in defects)]
        for dataset in datasets
    ]
    short = [d.replace("_", "")[:9] for d in defects]
    return "Detected per table (all batch sizes):\n" + table(rows, ["table", *short])


def _missed(ran: Sequence[Outcome], examples: int) -> str:
    lines = ["Undetected defects (examples; what blocked instead, or PASSED):"]
    for defect in DEFECTS:
        missed = [o for o in ran if o.trial.scenario == defect and not o.detected]
        if not missed:
            continue
        columns = Counter(f"{o.trial.dataset}.{o.column}" for o in missed)
        lines.append(
            f"- {defect}: {len(missed)} missed; columns: "
            + ", ".join(f"{c} x{n}" for c, n in columns.most_common(8))
        )
        seen: set[str] = set()
        for o in missed:
            key = f"{o.trial.dataset}.{o.column}"
            if key in seen or len(seen) >= examples:
                continue
            seen.add(key)
            blockers = "; ".join(f"{f.id}: {_clip(f.message, 90)}" for f in o.failures[:2])
            lines.append(
                f"    {key} [{_label(o.trial.split)} seed {o.trial.seed}, {o.planted}]: "
                + (blockers or "PASSED")
            )
    return "\n".join(lines)


def timing_report(outcomes: Sequence[Outcome], wall: float | None) -> str:
    """Trials run and skipped, and the time they took."""
    ran = [o for o in outcomes if o.applicable]
    skipped = Counter(o.skipped for o in outcomes if not o.applicable)
    slowest = sorted(ran, key=lambda o: -o.seconds)[:3]
    slow = ", ".join(f"{o.trial.dataset} {_label(o.trial.split)} {o.seconds:.1f}s" for o in slowest)
    skip = ", ".join(f"{why}: {n}" for why, n in skipped.items()) or "none"
    return (
        f"{len(ran)} trials in {'?' if wall is None else f'{wall:.0f}'}s wall "
        f"({sum(o.seconds for o in ran):.0f}s of work); "
        f"skipped {skip}; slowest: {slow}"
    )


def warnings_report(outcomes: Sequence[Outcome]) -> str:
    """Python warnings raised during ``init`` and the run, with the trials that raised them."""
    counts: Counter[str] = Counter()
    where: dict[str, str] = {}
    for o in outcomes:
        for message in o.warnings:
            counts[message] += 1
            where.setdefault(message, f"{o.trial.dataset} {o.trial.scenario}")
    if not counts:
        return "No Python warnings."
    lines = ["Python warnings seen (trials, first seen in):"]
    lines += [f"  {n:5d}  {_clip(m, 150)}  [{where[m]}]" for m, n in counts.most_common(8)]
    return "\n".join(lines)


# --------------------------------------------------------------------------- command line


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line: see ``--help``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="few splits and seeds (~3 minutes)")
    parser.add_argument("--splits", type=int, help="seeds per clean split (default 10; quick 2)")
    parser.add_argument("--defect-splits", type=int, help="seeds per defect (default 3; quick 1)")
    parser.add_argument(
        "--big-seeds", type=int, default=2, help="seeds at most for 1M-row references (2)"
    )
    parser.add_argument("--datasets", help="comma-separated tables (default: all)")
    parser.add_argument("--scenarios", help="comma-separated scenarios (default: all)")
    parser.add_argument(
        "--sizes", help='comma-separated splits ("half", "1000:300") or batch sizes ("300")'
    )
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--save", type=Path, help="write every outcome to this JSON-lines file")
    parser.add_argument("--load", type=Path, help="print the tables of a --save file; run nothing")
    return parser.parse_args(argv)


def plan_from(args: argparse.Namespace) -> Plan:
    """The trials the command line asks for."""
    datasets = _names(args.datasets, realdata.names(), "table")
    scenarios = _names(args.scenarios, [CLEAN, *DEFECTS], "scenario")
    sizes = tuple(_split_list(args.sizes))
    return Plan(
        datasets=tuple(datasets),
        scenarios=tuple(scenarios),
        clean_seeds=args.splits or (2 if args.quick else 10),
        defect_seeds=args.defect_splits or (1 if args.quick else 3),
        clean_sizes=sizes or (QUICK_CLEAN if args.quick else ()),
        defect_sizes=sizes or (QUICK_DEFECTS if args.quick else ()),
        big_seeds=args.big_seeds,
    )


def _split_list(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _names(text: str | None, known: list[str], what: str) -> list[str]:
    wanted = _split_list(text) or known
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise SystemExit(f"unknown {what} {', '.join(unknown)}; known: {', '.join(known)}")
    return wanted


def load_outcomes(path: Path) -> list[Outcome]:
    """Outcomes written by ``--save``."""
    outcomes = []
    for line in path.read_text(encoding="utf-8").splitlines():
        data = json.loads(line)
        data["trial"] = Trial(**data["trial"])
        data["failures"] = [Failure(**failure) for failure in data["failures"]]
        outcomes.append(Outcome(**data))
    return outcomes


def source_version() -> str:
    """The checked-out commit (``+changes`` when ``src`` differs), or where mlgates comes from."""
    import subprocess

    root = Path(__file__).resolve().parents[1]

    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        except OSError:
            return ""
        return done.stdout.strip()

    import mlgates

    home = Path(mlgates.__file__).resolve().parents[1]
    if root not in home.parents:
        return f"mlgates from {home}"
    commit = git("rev-parse", "--short", "HEAD") or "unknown commit"
    return commit + ("+changes" if git("status", "--porcelain", "--", "src") else "")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the trials (or load saved ones) and print the tables."""
    args = parse_args(argv)
    if args.load:
        outcomes, wall = load_outcomes(args.load), None
        print(f"mlgates data gate verdicts, loaded from {args.load}")
    else:
        plan = plan_from(args)
        started = time.perf_counter()
        outcomes = run_all(plan, args.workers, args.save)
        wall = time.perf_counter() - started
        print(
            f"mlgates data gate verdicts ({source_version()}): {len(plan.datasets)} tables, "
            f"{plan.clean_seeds} seeds per clean split, {plan.defect_seeds} per defect, "
            f"at most {plan.big_seeds} with 1M reference rows; "
            f"clean sizes {','.join(plan.clean_sizes) or 'all'}, "
            f"defect sizes {','.join(plan.defect_sizes) or 'all'}"
        )
    parts = (
        clean_report(outcomes),
        defect_report(outcomes),
        warnings_report(outcomes),
        timing_report(outcomes, wall),
    )
    for part in parts:
        if part:
            print()
            print(part)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
