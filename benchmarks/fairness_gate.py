"""Benchmark of the fairness stage, run by hand: ``python benchmarks/fairness_gate.py``.

The data: a credit-default table generated with numpy (seeded): 8 features (5
numeric, 3 categorical, ``region`` leaning on ``race``), the binary target
``default`` (about 20% positive, its risk leaning on income, so on the groups) and
3 sensitive columns that no model is given: ``sex`` (2 values), ``race`` (5, shares
60/18/13/6/3%) and ``age_band`` (4). Two scikit-learn LogisticRegression pipelines,
candidate (all 8 features) and baseline (6 of them, stronger regularisation), are
trained once on 20,000 rows and saved with skops; the evaluation rows are written
to Parquet at 100k and 1M rows (``--sizes``), in a temporary directory.

The config: ``[performance]`` (both models, ``checks = []``) and ``[fairness]`` on
the 3 sensitive columns with ``intersections = true`` (2 + 5 + 4 + 40 groups) and
200 resamples, with the checks in :data:`GROUP_CHECKS`: every one a rate of the
confusion counts per group (the fast path, :mod:`mlgates.stats.groups`).

Scenarios
---------
stage        the fairness stage as ``mlgates run --stage fairness --no-history`` runs it,
             in process: loading the config, then planning and ``run_stage`` with a
             fresh context (reading the Parquet file, loading and scoring both models,
             the groups, the bootstrap within groups, judging every group); reading,
             loading and scoring (``predict`` and ``predict_proba``, which the shared
             evaluation computes for both models) are timed apart as well
point        the same without the ``@95%``: point values only, no bootstrap
metricframe  the reference: fairlearn's ``MetricFrame`` of selection rate, TPR, FPR and
             accuracy on each sensitive column and on their intersection, for candidate
             and baseline, with ``.difference()`` and ``.ratio()``: the same point
             metrics without a bootstrap; timed on predictions already made. A run
             longer than a minute is not repeated (printed)
explain      at 100k rows (and fewer) only: the stage with only the explainability checks in
             :data:`EXPLAIN_CHECKS` (permutation importance on 5,000 rows, proxies on
             50,000), which the targets leave out

Each run is a process of its own, the scenarios taking turns so that a slow spell of
the machine hits them alike; the figures are medians of ``--repeats``. Memory: the
peak resident memory (Linux ``VmHWM``, not tracemalloc, so numpy and Arrow buffers
count) during the timed part, reset just before it (``/proc/self/clear_refs``), over
the resident memory at its start; and the process's peak. The worst group's values
of the stage are compared with fairlearn's ``difference()`` and ``ratio()`` as a check
of what was timed. ``--profile`` runs the stage once more under cProfile at every size.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from verdicts import machine  # the data gate's harness, beside this file

SCENARIOS = ("stage", "point", "metricframe", "explain")
SEED = 20240611
TRAIN_SEED = 7
TRAIN_ROWS = 20_000
RESAMPLES = 200
EXPLAIN_ROWS = 100_000
"""The explainability checks run at this size (and below) only."""
_ONCE_SECONDS = 60.0
"""A reference run longer than this is not repeated."""

TARGET = "default"
SENSITIVE = {
    "sex": (("female", "male"), (0.49, 0.51)),
    "race": (("white", "hispanic", "black", "asian", "other"), (0.60, 0.18, 0.13, 0.06, 0.03)),
    "age_band": (("18-29", "30-44", "45-59", "60+"), (0.21, 0.31, 0.28, 0.20)),
}
NUMERIC = ("income", "debt_ratio", "utilisation", "months_employed", "loan_amount")
CATEGORICAL = ("employment_type", "purpose", "region")
BASELINE_FEATURES = NUMERIC[:2] + NUMERIC[3:] + CATEGORICAL[:1] + CATEGORICAL[2:]
"""The baseline goes without ``utilisation`` and ``purpose``."""
EMPLOYMENT = ("salaried", "self_employed", "part_time", "unemployed")
PURPOSE = ("debt_consolidation", "home_improvement", "car", "education", "business")
PURPOSE_SHARES = (0.36, 0.20, 0.22, 0.10, 0.12)
PURPOSE_RISK = (0.2, -0.15, -0.1, 0.05, 0.35)
REGION = ("north", "south", "east", "west", "central")
REGION_BY_RACE = (  # a proxy: where people live leans on race
    (0.26, 0.16, 0.22, 0.20, 0.16),
    (0.10, 0.42, 0.12, 0.24, 0.12),
    (0.12, 0.36, 0.18, 0.10, 0.24),
    (0.14, 0.12, 0.20, 0.38, 0.16),
    (0.20, 0.20, 0.20, 0.20, 0.20),
)
RACE_INCOME = (0.05, -0.12, -0.18, 0.10, -0.05)
AGE_INCOME = (-0.12, 0.03, 0.06, -0.02)
EMPLOYMENT_INCOME = (0.0, 0.10, -0.45, -0.9)
EMPLOYMENT_RISK = (0.0, 0.25, 0.35, 0.9)

GROUP_CHECKS = (
    "demographic_parity_difference <= 0.1 @95%",
    "equalized_odds_difference <= baseline + 0.02 @95%",
    "selection_rate_ratio >= 0.8 @95%",
    "equal_opportunity_difference <= 0.1",
    "accuracy_difference <= 0.05",
)
EXPLAIN_CHECKS = ("sensitive_in_top_k == 0", "proxy_auc <= 0.8")

CONFIG = """
[mlgates]
history = "history.jsonl"
report = ""

[performance]
candidate = "candidate.skops"
baseline = "baseline.skops"
data = "{data}"
target = "{target}"
positive = 1
checks = []

[fairness]
sensitive = [{sensitive}]
intersections = true
resamples = {resamples}
checks = [{checks}]
"""


# -- data and models ----------------------------------------------------------------------


def _pick(rng: np.random.Generator, shares: Any, rows: int) -> np.ndarray:
    """Category codes drawn with ``shares`` (one row of shares per row when 2-d)."""
    cumulative = np.cumsum(np.asarray(shares, dtype=np.float64), axis=-1)
    cumulative[..., -1] = 1.0
    draws = rng.random(rows)
    if cumulative.ndim == 1:
        return np.searchsorted(cumulative, draws, side="right")
    return (draws[:, None] >= cumulative).sum(axis=1)


def _text(labels: tuple[str, ...], codes: np.ndarray) -> pd.Series:
    return pd.Series(np.asarray(labels, dtype=object)[codes], dtype="str")


def generate(rows: int, seed: int = SEED) -> pd.DataFrame:
    """``rows`` applicants: 3 sensitive columns, 8 features, the ``default`` label."""
    rng = np.random.default_rng(seed)
    codes = {name: _pick(rng, shares, rows) for name, (_, shares) in SENSITIVE.items()}
    sex, race, age = codes["sex"], codes["race"], codes["age_band"]
    region = _pick(rng, np.asarray(REGION_BY_RACE)[race], rows)
    young = (age == 0)[:, None]
    employment = _pick(rng, np.where(young, (0.58, 0.12, 0.2, 0.1), (0.66, 0.17, 0.11, 0.06)), rows)
    purpose = _pick(rng, PURPOSE_SHARES, rows)
    log_income = (
        10.6
        + np.take(RACE_INCOME, race)
        + np.take(AGE_INCOME, age)
        + np.take(EMPLOYMENT_INCOME, employment)
        - 0.08 * (sex == 0)
        + rng.normal(0.0, 0.42, rows)
    )
    income = np.round(np.exp(log_income), -1)
    debt_ratio = np.round(np.clip(rng.beta(2.2, 5.0, rows) * 1.2, 0.0, 1.0), 3)
    utilisation = np.round(np.clip(rng.beta(1.6, 2.6, rows) + 0.15 * (debt_ratio - 0.37), 0, 1), 3)
    months = np.floor(rng.gamma(1.6, 30.0, rows) * np.take((0.6, 0.9, 1.1, 1.2), age))
    months[employment == 3] = 0.0
    loan = np.round(np.clip(np.exp(np.log(income) - 1.35 + rng.normal(0, 0.5, rows)), 1e3, 5e4))
    risk = (
        -0.7 * (np.log(income) - 10.6)
        + 1.6 * (debt_ratio - 0.37)
        + 1.3 * (utilisation - 0.4)
        - 0.004 * np.minimum(months, 120)
        + 0.3 * (loan / income - 0.3)
        + np.take(EMPLOYMENT_RISK, employment)
        + np.take(PURPOSE_RISK, purpose)
        + rng.normal(0.0, 0.8, rows)
    )
    default = (rng.random(rows) < 1 / (1 + np.exp(-(-1.75 + 1.3 * risk)))).astype(np.int64)
    utilisation[rng.random(rows) < 0.03] = np.nan  # no revolving credit
    data: dict[str, Any] = {
        name: _text(SENSITIVE[name][0], codes[name]) for name in ("sex", "race", "age_band")
    }
    data.update(
        income=income,
        debt_ratio=debt_ratio,
        utilisation=utilisation,
        months_employed=months,
        loan_amount=loan,
        employment_type=_text(EMPLOYMENT, employment),
        purpose=_text(PURPOSE, purpose),
        region=_text(REGION, region),
    )
    data[TARGET] = default
    return pd.DataFrame(data)


def train(directory: Path) -> None:
    """Fit candidate and baseline on :data:`TRAIN_ROWS` rows of their own; save with skops."""
    import skops.io as sio
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    def pipeline(features: tuple[str, ...], strength: float) -> Pipeline:
        numeric = [f for f in features if f in NUMERIC]
        categorical = [f for f in features if f in CATEGORICAL]
        numbers = Pipeline(
            [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
        )
        encode = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        prepare = ColumnTransformer(
            [("numeric", numbers, numeric), ("categorical", encode, categorical)]
        )
        model = LogisticRegression(C=strength, class_weight="balanced", max_iter=1000)
        return Pipeline([("prepare", prepare), ("model", model)])

    frame = generate(TRAIN_ROWS, seed=TRAIN_SEED)
    for name, features, strength in (
        ("candidate", NUMERIC + CATEGORICAL, 1.0),
        ("baseline", BASELINE_FEATURES, 0.05),
    ):
        model = pipeline(features, strength).fit(frame[list(features)], frame[TARGET])
        sio.dump(model, directory / f"{name}.skops")


def _checks(checks: tuple[str, ...]) -> str:
    return ", ".join(json.dumps(check) for check in checks)


def prepare(directory: Path, rows: int) -> None:
    """The evaluation rows and one config per scenario, for ``rows`` rows."""
    data = f"evaluation-{rows}.parquet"
    generate(rows).to_parquet(directory / data, index=False)
    point = tuple(check.partition(" @")[0] for check in GROUP_CHECKS)
    for scenario, checks in {
        "stage": GROUP_CHECKS,
        "point": point,
        "explain": EXPLAIN_CHECKS,
    }.items():
        text = CONFIG.format(
            data=data,
            target=TARGET,
            sensitive=_checks(tuple(SENSITIVE)),
            resamples=RESAMPLES,
            checks=_checks(checks),
        )
        (directory / f"{scenario}-{rows}.toml").write_text(text)


# -- measuring ----------------------------------------------------------------------------


def rss_mb(field: str = "VmHWM") -> float:
    """This process's peak (``VmHWM``) or current (``VmRSS``) resident memory, in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak() -> float:
    """Reset ``VmHWM`` to the current resident memory (Linux 4.0+); that memory, in MiB."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    return rss_mb("VmRSS")


def _import_everything() -> None:
    """The libraries the stage and the reference use, imported before any timing."""
    import fairlearn.metrics  # noqa: F401
    import pyarrow.parquet  # noqa: F401
    import scipy.stats  # noqa: F401
    import sklearn.inspection
    import sklearn.linear_model  # noqa: F401
    import skops.io  # noqa: F401

    import mlgates.runner
    import mlgates.stages.fairness.runs  # noqa: F401


def _timed_context(root: Path) -> Any:
    """A fresh :class:`~mlgates.context.Context` that times reading, loading and scoring."""
    from mlgates.context import Context

    class TimedContext(Context):
        def __init__(self, root: Path) -> None:
            super().__init__(root, cache_dir=root / ".mlgates" / "cache")
            self.seconds: Counter[str] = Counter()

        def _timed(self, what: str, call: Any) -> Any:
            started = time.perf_counter()
            try:
                return call()
            finally:
                self.seconds[what] += time.perf_counter() - started

        def frame(self, path: Path) -> pd.DataFrame:
            return self._timed("read", lambda: super(TimedContext, self).frame(path))

        def model(self, path: Path, load: Any) -> Any:
            return self._timed("load", lambda: super(TimedContext, self).model(path, load))

        def predictions(self, model: Path, data: Path, method: str, compute: Any) -> Any:
            call = super().predictions
            return self._timed("predict", lambda: call(model, data, method, compute))

    return TimedContext(root)


def _grouping_of(selector: str) -> str:
    from mlgates.stages.fairness.settings import parse_group

    return " x ".join(column for column, _ in parse_group(selector))


def stage_child(directory: Path, scenario: str, rows: int, profile: bool) -> dict[str, Any]:
    """The fairness stage once, as ``mlgates run --stage fairness --no-history`` runs it."""
    from mlgates.config import load_config
    from mlgates.core import Status
    from mlgates.runner import plan_gates, run_stage
    from mlgates.stages.fairness.groups import build_groupings

    _import_everything()
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    start_mb = reset_peak()
    started = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    config = load_config(directory / f"{scenario}-{rows}.toml").with_stages(["fairness"])
    context = _timed_context(config.root)
    plan = plan_gates(config, context)["fairness"]
    gate = run_stage(config, context, "fairness", plan)
    if profiler is not None:
        profiler.disable()
    seconds = time.perf_counter() - started
    peak_mb = rss_mb()
    broken = [c for c in gate.checks if c.status is Status.ERROR]
    if broken:
        raise SystemExit(f"{broken[0].id}: {broken[0].message}")
    fairness = config.stages["fairness"]
    groupings = build_groupings(context.frame(fairness.data), fairness, "")
    worst: dict[str, float] = {}
    partial = set()  # (metric, grouping) with a group left out: fairlearn would count it
    for check in gate.checks:
        if check.family is None or check.selector is None:
            continue
        key = f"{check.metric}|{_grouping_of(check.selector)}"
        if check.value is None:
            partial.add(key)
            continue
        pick = min if check.metric.endswith("_ratio") else max
        worst[key] = pick(worst.get(key, check.value), check.value)
    result: dict[str, Any] = {
        "seconds": seconds,
        "read_s": context.seconds["read"],
        "load_s": context.seconds["load"],
        "predict_s": context.seconds["predict"],
        "peak_mb": peak_mb - start_mb,
        "process_peak_mb": peak_mb,
        "groups": {g.name: len(g.labels) for g in groupings},
        "statuses": dict(Counter(c.status.value for c in gate.checks if c.family is not None)),
        "worst": {key: value for key, value in worst.items() if key not in partial},
    }
    if profiler is not None:
        result["profile"] = _profile_text(profiler)
    return result


def _profile_text(profiler: Any) -> str:
    import io
    import pstats

    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(20)
    return out.getvalue()


def metricframe_child(directory: Path, rows: int) -> dict[str, Any]:
    """fairlearn's MetricFrame on the stage's point metrics, for both models."""
    import skops.io as sio
    from fairlearn.metrics import (
        MetricFrame,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score

    _import_everything()
    frame = pd.read_parquet(directory / f"evaluation-{rows}.parquet")
    truth = frame[TARGET].to_numpy()
    predicted = {}
    for name in ("candidate", "baseline"):
        path = directory / f"{name}.skops"
        model = sio.load(path, trusted=sio.get_untrusted_types(file=path))
        predicted[name] = model.predict(frame[list(model.feature_names_in_)])
    metrics = {
        "selection_rate": selection_rate,
        "tpr": true_positive_rate,
        "fpr": false_positive_rate,
        "accuracy": accuracy_score,
    }
    groupings = [[name] for name in SENSITIVE] + [list(SENSITIVE)]
    start_mb = reset_peak()
    started = time.perf_counter()
    found = {}
    for name, labels in predicted.items():
        for columns in groupings:
            sensitive = frame[columns[0]] if len(columns) == 1 else frame[columns]
            metric_frame = MetricFrame(
                metrics=metrics, y_true=truth, y_pred=labels, sensitive_features=sensitive
            )
            found[(name, " x ".join(columns))] = (metric_frame.difference(), metric_frame.ratio())
    seconds = time.perf_counter() - started
    peak_mb = rss_mb()
    worst = {}
    for (name, grouping), (difference, ratio) in found.items():
        if name != "candidate":
            continue
        worst[f"demographic_parity_difference|{grouping}"] = difference["selection_rate"]
        worst[f"equalized_odds_difference|{grouping}"] = max(difference["tpr"], difference["fpr"])
        worst[f"selection_rate_ratio|{grouping}"] = ratio["selection_rate"]
        worst[f"equal_opportunity_difference|{grouping}"] = difference["tpr"]
        worst[f"accuracy_difference|{grouping}"] = difference["accuracy"]
    return {
        "seconds": seconds,
        "peak_mb": peak_mb - start_mb,
        "process_peak_mb": peak_mb,
        "worst": {key: float(value) for key, value in worst.items()},
    }


def child(directory: Path, scenario: str, rows: int, profile: bool) -> dict[str, Any]:
    if scenario == "metricframe":
        return metricframe_child(directory, rows)
    return stage_child(directory, scenario, rows, profile)


def run_child(directory: Path, scenario: str, rows: int, profile: bool = False) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", scenario, "--sizes", str(rows)]
    command += ["--directory", str(directory)]
    if profile:
        command.append("--profile")
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"{scenario} at {rows:,} rows failed:\n{completed.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def measure(directory: Path, rows: int, repeats: int) -> dict[str, list[dict[str, Any]]]:
    """Every scenario ``repeats`` times, taking turns; the reference once when it is slow."""
    scenarios = [s for s in SCENARIOS if s != "explain" or rows <= EXPLAIN_ROWS]
    runs: dict[str, list[dict[str, Any]]] = {scenario: [] for scenario in scenarios}
    for _ in range(repeats):
        for scenario in scenarios:
            done = runs[scenario]
            if scenario == "metricframe" and done and done[0]["seconds"] > _ONCE_SECONDS:
                continue
            done.append(run_child(directory, scenario, rows))
    return runs


# -- printing -----------------------------------------------------------------------------


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(float(r[key]) for r in runs)


def _own(runs: list[dict[str, Any]]) -> float:
    """Median seconds of a stage's own work: all but reading, loading and scoring."""
    return statistics.median(
        r["seconds"] - r["read_s"] - r["load_s"] - r["predict_s"] for r in runs
    )


def report(rows: int, runs: dict[str, list[dict[str, Any]]], repeats: int) -> dict[str, Any]:
    """Print one size's table; return its summary row."""
    groups = runs["stage"][0]["groups"]
    shown = ", ".join(f"{name} {count}" for name, count in groups.items())
    print(f"\n{rows:,} rows; groups: {shown} = {sum(groups.values())}")
    print(
        f"{'scenario':<12} {'runs':>4} {'median s':>9} {'min s':>7} {'read s':>7} "
        f"{'load s':>7} {'predict s':>10} {'own s':>7} {'peak +MiB':>10} {'peak MiB':>9}"
    )
    for scenario, results in runs.items():
        seconds = [r["seconds"] for r in results]
        parts = ["", "", "", ""]
        if scenario != "metricframe":
            spent = [_median(results, k) for k in ("read_s", "load_s", "predict_s")]
            parts = [f"{value:.3f}" for value in (*spent, _own(results))]
        print(
            f"{scenario:<12} {len(results):>4} {statistics.median(seconds):>9.3f} "
            f"{min(seconds):>7.3f} {parts[0]:>7} {parts[1]:>7} {parts[2]:>10} {parts[3]:>7} "
            f"{max(r['peak_mb'] for r in results):>10.0f} "
            f"{max(r['process_peak_mb'] for r in results):>9.0f}"
        )
    stage, reference = runs["stage"], runs["metricframe"]
    stage_s, reference_s = _median(stage, "seconds"), _median(reference, "seconds")
    own_s, point_s = _own(stage), _own(runs["point"])
    print(
        f"metricframe / stage: {reference_s / stage_s:.1f}x the whole stage (reading and "
        f"scoring included), {reference_s / own_s:.1f}x its own work with the bootstrap, "
        f"{reference_s / point_s:.1f}x its own work on point values (scenario point)"
    )
    if len(reference) < repeats:
        print(f"metricframe ran once: {reference[0]['seconds']:.1f} s > {_ONCE_SECONDS:.0f} s")
    for scenario in ("stage", "point"):
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(runs[scenario][0]["statuses"].items()))
        print(f"{scenario}: group checks judged: {statuses}")
    if "explain" in runs:
        explain = runs["explain"]
        print(
            f"explainability (sensitive_in_top_k, proxy_auc) at {rows:,} rows: "
            f"{_median(explain, 'seconds'):.2f} s for the stage with only these two checks, "
            f"{_own(explain):.2f} s of it their own (importance and proxies; reading and "
            "scoring are shared with the group checks)"
        )
    ours, theirs = stage[0]["worst"], reference[0]["worst"]
    common = sorted(set(ours) & set(theirs))
    gap = max(abs(ours[k] - theirs[k]) for k in common) if common else float("nan")
    print(
        f"worst group, stage vs fairlearn, over the {len(common)} (metric, grouping) pairs "
        f"whose groups were all judged: largest difference {gap:.2g}"
    )
    return {
        "rows": rows,
        "stage_s": stage_s,
        "predict_share": _median(stage, "predict_s") / stage_s,
        "peak_mb": max(r["peak_mb"] for r in stage),
        "reference_s": reference_s,
        "ratio": reference_s / stage_s,
        "groups": sum(groups.values()),
    }


def summary(rows: list[dict[str, Any]]) -> None:
    print(
        f"\nsummary: the fairness stage, 3 sensitive columns and their intersection, "
        f"{RESAMPLES} resamples, {len(GROUP_CHECKS)} group checks"
    )
    print(
        f"{'rows':>10} {'stage s':>8} {'predict':>8} {'peak +MiB':>10} {'MetricFrame s':>14} "
        f"{'MF / stage':>11} {'groups':>7}"
    )
    for row in rows:
        print(
            f"{row['rows']:>10,} {row['stage_s']:>8.2f} {row['predict_share']:>8.0%} "
            f"{row['peak_mb']:>10.0f} {row['reference_s']:>14.2f} {row['ratio']:>10.1f}x "
            f"{row['groups']:>7}"
        )
    largest = max(rows, key=lambda r: r["rows"])
    if largest["rows"] >= 1_000_000:
        print(
            f"targets: stage at {largest['rows']:,} rows under 10 s: "
            f"{'yes' if largest['stage_s'] < 10 else 'no'} ({largest['stage_s']:.2f} s); "
            f"at least 20x faster than MetricFrame: "
            f"{'yes' if largest['ratio'] >= 20 else 'no'} ({largest['ratio']:.1f}x)"
        )


def _sizes(text: str) -> list[int]:
    return [int(part) for part in text.replace("_", "").split(",") if part.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=[100_000, 1_000_000],
        help="evaluation rows, comma-separated (default 100000,1000000)",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--profile", action="store_true", help="also profile one stage run per size (cProfile)"
    )
    parser.add_argument("--child", choices=SCENARIOS, help=argparse.SUPPRESS)
    parser.add_argument("--directory", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.directory, args.child, args.sizes[0], args.profile)))
        return
    print(machine("numpy", "pandas", "sklearn", "fairlearn"))
    print(
        f"medians of {args.repeats} runs, each in a process of its own; peak +MiB: peak "
        "resident memory (VmHWM) during the timed part over the resident memory at its start"
    )
    rows_out = []
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        started = time.perf_counter()
        train(directory)
        print(f"models trained on {TRAIN_ROWS:,} rows in {time.perf_counter() - started:.1f} s")
        for rows in args.sizes:
            started = time.perf_counter()
            prepare(directory, rows)
            print(f"\n{rows:,} rows generated in {time.perf_counter() - started:.1f} s", end="")
            rows_out.append(report(rows, measure(directory, rows, args.repeats), args.repeats))
            if args.profile:
                profiled = run_child(directory, "stage", rows, profile=True)
                print(f"\ncProfile of one stage run at {rows:,} rows:\n{profiled['profile']}")
    summary(rows_out)


if __name__ == "__main__":
    main()
