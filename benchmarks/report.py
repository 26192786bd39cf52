"""Benchmark of the HTML report, run by hand: ``python benchmarks/report.py``.

Runs
----
A synthetic run shaped like the credit example's (``--columns`` 22 columns: per
column a drift check with its reference and current distribution, a missing-value
check and a range check, plus the schema, PII and run-level checks; a performance
gate with baseline bounds, intervals and five slices; an operational gate with
latency percentiles of candidate and baseline and a load test; a fairness gate
with two groups and their intervals, and a proxy check per column): about 130
checks. The same with ``--wide`` columns (2,000 by default): about 6,500 checks.

History
-------
``--history`` earlier runs (2,000 by default), one a day, of the same config:
values drift as random walks, one column in 40 drifts for a while (its drift
check fails and the run blocks), and halfway through the drift threshold is
loosened from 0.1 to 0.15 and one check turns from ``block`` to ``warn``. The
runs are stored as the history stores them (:mod:`mlgates.compact`, when there
is one: passing checks keep their numbers and lose their messages and details).
The wide run's history holds as many runs, but they share 60 distinct sets of
results (a history of 2,000 runs of 6,500 checks would take gigabytes of memory
here, and the report only reads the last 60 runs anyway).

Figures
-------
For each run: the median of ``--repeats`` renderings of the report
(:func:`mlgates.report.render_html`) with that history, and the size of the page
in bytes; the record rendered as ``json.dumps`` in the same run for scale, and the
report as mlgates rendered it before the redesign (the newest template in git
that still takes ``record`` and ``history``), when git has it.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import random
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from verdicts import machine, table  # the data gate's harness, beside this file

from mlgates.core import CheckResult, GateResult, RunRecord, Severity, Status
from mlgates.report import render_html

REPEATS = 5
HISTORY = 2_000
COLUMNS = 22
WIDE = 2_000
REGIONS = ("central", "east", "north", "south", "west")
ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = "src/mlgates/report/templates/report.html.j2"


# --------------------------------------------------------------------------- runs


@dataclasses.dataclass
class World:
    """The state the synthetic runs walk through: one value per check, drifting."""

    columns: int
    seed: int = 7
    values: dict[str, float] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)

    def walk(self, key: str, start: float, step: float, low: float = 0.0) -> float:
        """The next value of ``key``: a random walk from ``start``, kept above ``low``."""
        value = self.values.get(key, start) + self.random.gauss(0.0, step)
        self.values[key] = max(value, low)
        return self.values[key]


def column_name(index: int) -> str:
    """A column name with characters the report must escape now and then."""
    return f"col_{index}" if index % 97 else f"<b>col&{index}</b>"


def distribution(index: int, shift: float) -> dict[str, Any]:
    """A drift check's ``details["distribution"]``: numeric bins or categories."""
    if index % 3 == 0:
        categories = ["a", "b", "c", "d", "<e>"]
        reference = [0.35, 0.25, 0.2, 0.15, 0.05]
        current = [max(r + shift * (1 if k == 0 else -0.25), 0.0) for k, r in enumerate(reference)]
        total = sum(current)
        return {
            "kind": "categorical",
            "categories": categories,
            "reference": reference,
            "current": [c / total for c in current],
            "other": [0.0, 0.0],
        }
    edges = [round(10.0 * k, 1) for k in range(21)]
    reference = [0.05] * 20
    current = [max(0.05 + shift * (k - 10) / 100, 0.0) for k in range(20)]
    total = sum(current)
    return {
        "kind": "numeric",
        "edges": edges,
        "reference": reference,
        "current": [c / total for c in current],
    }


def data_checks(world: World, run: int, loosened: bool) -> list[CheckResult]:
    """Run-level data checks and three per column."""
    bound = 0.15 if loosened else 0.1
    drifting = (run // 40) % world.columns if run % 40 < 4 else -1  # for 4 runs in 40
    checks = [
        CheckResult("data", "columns", Status.PASS, "all columns present", value=0.0),
        CheckResult("data", "schema", Status.PASS, "3000 rows match", value=0.0, method="pandera"),
        CheckResult("data", "pii", Status.PASS, "every column passes", selector="*"),
        CheckResult("data", "types", Status.PASS, "all columns keep their type", value=0.0),
        CheckResult(
            "data",
            "row_count",
            Status.PASS,
            "3000 rows",
            value=3000.0,
            bound=1000.0,
            threshold="row_count >= 1000",
        ),
    ]
    drifted = 0
    for index in range(world.columns):
        name = column_name(index)
        distance = world.walk(f"drift{index}", 0.03, 0.004)
        if index == drifting:
            distance += 0.2
        failing = distance > bound
        drifted += failing
        status = Status.FAIL if failing else Status.PASS
        checks.append(
            CheckResult(
                "data",
                "drift",
                status,
                selector=name,
                blocking=failing,
                value=distance,
                bound=bound,
                method="wasserstein",
                threshold=f"drift <= {bound}",
                message=f"{name}: wasserstein distance {distance:.3g} "
                f"{'>' if failing else '<='} {bound} (n 8000 vs 3000)",
                details={"distribution": distribution(index, distance)},
            )
        )
        missing = world.walk(f"missing{index}", 0.02, 0.001)
        checks.append(
            CheckResult(
                "data",
                "missing_share",
                Status.PASS,
                selector=name,
                value=missing,
                bound=0.07,
                anchor="reference",
                anchor_value=0.02,
                threshold="missing_share <= reference + 0.05",
                message=f"missing_share[{name}] = {missing:.3g} <= 0.07 (reference 0.02)",
            )
        )
        checks.append(
            CheckResult(
                "data",
                "out_of_range",
                Status.PASS,
                selector=name,
                value=0.0,
                bound=0.001,
                method="beta-binomial",
                message=f"{name}: no value beyond the reference's range",
            )
        )
    share = drifted / world.columns
    checks.append(
        CheckResult(
            "data",
            "drift_share",
            Status.PASS if share <= 0.25 else Status.FAIL,
            value=share,
            bound=0.25,
            threshold="drift_share <= 0.25",
            message=f"drift_share = {share:.3g}; {drifted} of {world.columns} columns drifted",
        )
    )
    for index in range(min(world.columns // 3, 400)):
        checks.append(
            CheckResult(
                "data",
                "pii",
                Status.PASS,
                selector=column_name(index),
                value=0.0,
                bound=0.0,
                method="pii scan",
                message="no personal data of a kind it may not hold",
            )
        )
    return checks


def performance_checks(world: World, loosened: bool) -> list[CheckResult]:
    """Metrics against a floor and against the baseline, overall and per slice;
    ``loosened``: the non-inferiority bound only warns."""
    auc = world.walk("auc", 0.75, 0.004)
    base = 0.746
    difference = auc - base
    low, high = difference - 0.013, difference + 0.013
    failing = low < -0.01
    severity = Severity.WARN if loosened else Severity.BLOCK
    checks = [
        CheckResult(
            "performance",
            "roc_auc",
            Status.PASS if auc >= 0.7 else Status.FAIL,
            value=auc,
            bound=0.7,
            threshold="roc_auc >= 0.70",
            blocking=auc < 0.7,
            message=f"roc_auc = {auc:.6g} >= 0.7; 3000 rows",
        ),
        CheckResult(
            "performance",
            "roc_auc",
            (Status.WARN if loosened else Status.FAIL) if failing else Status.PASS,
            variant="baseline",
            severity=severity,
            blocking=failing and not loosened,
            value=auc,
            bound=base - 0.01,
            anchor="baseline",
            anchor_value=base,
            interval=(low, high),
            level=0.95,
            method="paired DeLong",
            threshold="roc_auc >= baseline - 0.01 @95%",
            message=f"roc_auc = {auc:.6g}, baseline {base}: difference {difference:+.4g}",
        ),
    ]
    cost = world.walk("cost", 7.6, 0.05)
    checks += [
        CheckResult(
            "performance",
            "expected_cost",
            Status.PASS,
            variant="baseline",
            value=cost,
            bound=8.1,
            anchor="baseline",
            anchor_value=8.1,
            interval=(cost - 8.1 - 0.28, cost - 8.1 + 0.28),
            level=0.95,
            method="paired bootstrap, 1000 resamples",
            threshold="expected_cost <= baseline @95%",
            message=f"expected_cost = {cost:.4g}, baseline 8.1",
        ),
        CheckResult(
            "performance",
            "ece",
            Status.PASS,
            severity=Severity.WARN,
            value=world.walk("ece", 0.017, 0.001),
            bound=0.05,
            threshold="ece <= 0.05",
            reason="scores feed the pricing grid",
            message="ece within 0.05",
        ),
    ]
    for region in REGIONS:
        cost = world.walk(f"cost{region}", 7.6, 0.1)
        anchor = 8.1
        checks.append(
            CheckResult(
                "performance",
                "expected_cost",
                Status.PASS,
                selector=f"region={region}",
                variant="baseline",
                value=cost,
                bound=anchor + 1,
                anchor="baseline",
                anchor_value=anchor,
                threshold="expected_cost <= baseline + 1",
                message=f"expected_cost[region={region}] = {cost:.4g}, baseline {anchor}",
            )
        )
        slice_auc = world.walk(f"auc{region}", 0.75, 0.006)
        checks.append(
            CheckResult(
                "performance",
                "roc_auc",
                Status.PASS,
                selector=f"region={region}",
                value=slice_auc,
                bound=0.65,
                threshold="roc_auc >= 0.65",
                message=f"roc_auc[region={region}] = {slice_auc:.4g} >= 0.65",
            )
        )
    return checks


def latency(world: World, key: str, scale: float) -> dict[str, float]:
    """Percentiles of one model's timed calls, in milliseconds."""
    p50 = world.walk(key, scale, scale * 0.03, low=scale / 2)
    return {
        "p50": p50,
        "p95": p50 * 1.1,
        "p99": p50 * 1.2,
        "max": p50 * 1.4,
        "mean": p50 * 1.01,
    }


def operational_checks(world: World) -> list[CheckResult]:
    """Latency against the baseline per call, throughput, memory and a load test."""
    checks = []
    for call, scale in (("predict_proba:1", 6.0), ("predict_proba:64", 7.0)):
        candidate, baseline = latency(world, f"c{call}", scale), latency(world, f"b{call}", 5.5)
        times = {"candidate": candidate, "baseline": baseline, "calls": 100}
        checks.append(
            CheckResult(
                "operational",
                "p95_ms",
                Status.PASS,
                selector=call,
                variant="baseline",
                value=candidate["p95"],
                bound=baseline["p95"] * 1.5,
                anchor="baseline",
                anchor_value=baseline["p95"],
                threshold="p95_ms <= baseline + 50%",
                message=f"p95_ms[{call}] = {candidate['p95']:.4g} ms",
                details={"calls": 100, "latency_ms": times},
            )
        )
    load = latency(world, "load", 100.0)
    checks += [
        CheckResult(
            "operational",
            "throughput_rps",
            Status.PASS,
            selector="predict_proba:64",
            value=world.walk("rps", 8000, 200),
            bound=1000.0,
            message="rows per second",
        ),
        CheckResult(
            "operational",
            "peak_memory_mb",
            Status.PASS,
            value=world.walk("mem", 5.3, 0.05),
            bound=256.0,
            message="peak memory",
        ),
        CheckResult(
            "operational",
            "p99_ms",
            Status.PASS,
            selector="load",
            value=load["p99"],
            bound=500.0,
            threshold="p99_ms <= 500",
            message="load test: 4 users for 5 s",
            details={"latency_ms": {"candidate": load}},
        ),
        CheckResult(
            "operational",
            "p95_ms",
            Status.PASS,
            selector="predict_proba:1",
            value=world.values["cpredict_proba:1"] * 1.1,
            bound=50.0,
            interval=(5.0, 8.6),
            level=0.95,
            method="order statistics (binomial)",
            threshold="p95_ms[predict_proba:1] <= 50 @95%",
            message="the online budget for one application",
        ),
        CheckResult(
            "operational", "model_size_mb", Status.PASS, value=0.25, bound=20.0, message="size"
        ),
        CheckResult(
            "operational",
            "failure_ratio",
            Status.PASS,
            selector="load",
            value=0.0,
            bound=0.001,
            message="no request failed",
        ),
        CheckResult(
            "operational",
            "requests_per_s",
            Status.PASS,
            selector="load",
            value=world.walk("requests", 38.0, 1.0),
            bound=10.0,
            message="requests answered per second",
        ),
        CheckResult(
            "operational",
            "vulnerabilities",
            Status.PASS,
            selector="*",
            value=0.0,
            bound=0.0,
            method="pip-audit",
            message="10 packages audited, none vulnerable",
        ),
    ]
    return checks


def fairness_checks(world: World) -> list[CheckResult]:
    """Disparities between two groups (with the groups' rates) and proxy checks."""
    female, male = world.walk("female", 0.91, 0.004), world.walk("male", 0.905, 0.004)
    groups = [
        {
            "group": "sex=female",
            "value": female,
            "low": female - 0.016,
            "high": female + 0.016,
            "rows": 1419,
            "baseline": 0.925,
        },
        {
            "group": "sex=<i>male</i>",
            "value": male,
            "low": male - 0.015,
            "high": male + 0.015,
            "rows": 1581,
            "baseline": 0.925,
        },
    ]
    details = {"group_metric": "selection_rate", "groups": groups, "groups_omitted": 0}
    gap = abs(female - male)
    checks = [
        CheckResult(
            "fairness",
            "demographic_parity_difference",
            Status.PASS,
            selector=str(g["group"]),
            value=gap,
            bound=0.05,
            interval=(0.0, gap + 0.02),
            level=0.95,
            threshold="demographic_parity_difference <= 0.05 @95%",
            message=f"{g['group']}: selection rate gap {gap:.3g}",
            details=details,
        )
        for g in groups
    ]
    ratio = min(female, male) / max(female, male)
    for group in groups:
        checks.append(
            CheckResult(
                "fairness",
                "selection_rate_ratio",
                Status.PASS,
                selector=str(group["group"]),
                value=ratio,
                bound=0.8,
                threshold="selection_rate_ratio >= 0.8",
                message=f"{group['group']}: selection rate ratio {ratio:.3g}",
                details=details,
            )
        )
        odds = world.walk(f"odds{group['group']}", 0.013, 0.002)
        tpr = {**details, "group_metric": "tpr"}
        checks.append(
            CheckResult(
                "fairness",
                "equalized_odds_difference",
                Status.PASS,
                selector=str(group["group"]),
                variant="baseline",
                value=odds,
                bound=0.039,
                anchor="baseline",
                anchor_value=0.009,
                threshold="equalized_odds_difference <= baseline + 0.03",
                message=f"{group['group']}: equalized odds difference {odds:.3g}",
                details=tpr,
            )
        )
    for metric in ("demographic_parity_difference", "selection_rate_ratio"):
        checks.append(
            CheckResult("fairness", metric, Status.PASS, selector="*", message="2 of 2 groups pass")
        )
    checks.append(
        CheckResult(
            "fairness",
            "sensitive_in_top_k",
            Status.PASS,
            value=0.0,
            bound=0.0,
            message="sex is not among the 5 most important features",
        )
    )
    for index in range(17):
        auc = world.walk(f"proxy{index}", 0.5, 0.003)
        checks.append(
            CheckResult(
                "fairness",
                "proxy_auc",
                Status.PASS,
                selector=column_name(index),
                value=auc,
                bound=0.75,
                threshold="proxy_auc <= 0.75",
                message=f"proxy auc {auc:.3g}",
            )
        )
    return checks


def synthetic_run(world: World, run: int, runs: int) -> RunRecord:
    """Run number ``run`` of ``runs`` (one a day, ending today): the drift bound is
    loosened from the middle on, the baseline bound turns to ``warn`` in the last run."""
    loosened = run >= runs // 2
    started = datetime.datetime(2026, 12, 6, 4, 30) - datetime.timedelta(days=runs - 1 - run)
    stamp = started.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    gates = (
        GateResult("data", tuple(data_checks(world, run, loosened)), 1.2),
        GateResult("performance", tuple(performance_checks(world, run == runs - 1)), 2.1),
        GateResult("operational", tuple(operational_checks(world)), 9.8),
        GateResult("fairness", tuple(fairness_checks(world)), 3.3),
    )
    return RunRecord(
        run_id=f"{run:08d}" + "0" * 24,
        started_at=stamp,
        finished_at=stamp,
        gates=gates,
        mlgates_version="bench",
        config_path="mlgates.toml",
        config_hash=f"{int(loosened):064d}",
        git={"commit": f"{run:040x}", "branch": "main <release>", "dirty": False},
        files={"data/current.parquet": "b" * 64},
        source="cli",
    )


def stored(record: RunRecord) -> RunRecord:
    """``record`` as the history keeps it (the compact form, when this mlgates has one)."""
    try:
        from mlgates.compact import stored_form
    except ImportError:
        return record
    return RunRecord.from_dict(json.loads(json.dumps(stored_form(record))))


def scenario(
    columns: int, runs: int, distinct: int | None = None
) -> tuple[RunRecord, list[RunRecord]]:
    """The current run and ``runs`` earlier ones; with ``distinct``, the earlier runs
    share that many sets of results (their ids and times all differ)."""
    world = World(columns)
    history: list[RunRecord] = []
    made = runs if distinct is None else distinct
    for run in range(made):
        history.append(stored(synthetic_run(world, runs - made + run, runs + 1)))
    current = synthetic_run(world, runs, runs + 1)
    if distinct is not None:
        pool = history
        history = []
        for run in range(runs):
            like = pool[run % len(pool)] if run < runs - len(pool) else pool[run - runs + len(pool)]
            started = datetime.datetime(2026, 12, 6, 4, 30) - datetime.timedelta(days=runs - run)
            stamp = started.strftime("%Y-%m-%dT%H:%M:%S.000Z")
            history.append(
                dataclasses.replace(
                    like, run_id=f"{run:08d}" + "0" * 24, started_at=stamp, finished_at=stamp
                )
            )
    return current, history


# --------------------------------------------------------------------------- the old report


def old_renderer() -> Callable[[RunRecord, Sequence[RunRecord]], str] | None:
    """The report as rendered before the redesign: the newest template in git that
    takes ``record`` and ``history``, with the code that rendered it. None without git."""
    try:
        log = subprocess.run(
            ["git", "log", "--format=%H", "--", TEMPLATE],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    for commit in log:
        try:
            source = subprocess.run(
                ["git", "show", f"{commit}:{TEMPLATE}"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
                timeout=30,
            ).stdout
        except subprocess.SubprocessError:
            continue
        if "view." not in source and "record.gates" in source:
            return _old(source)
    return None


def _old(source: str) -> Callable[[RunRecord, Sequence[RunRecord]], str]:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.DictLoader({"report.html.j2": source}),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["shown"] = lambda check, name: (
        "" if getattr(check, name) is None else check.shown(getattr(check, name), digits=4)
    )
    template = environment.get_template("report.html.j2")

    def render(record: RunRecord, history: Sequence[RunRecord]) -> str:
        earlier = [r for r in history if r.run_id != record.run_id][-30:]
        return template.render(record=record, history=list(reversed(earlier)))

    return render


# --------------------------------------------------------------------------- timing


def timed(job: Callable[[], str], repeats: int) -> tuple[float, int]:
    """Median seconds of ``repeats`` calls, and the UTF-8 size of the output."""
    times, size = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        output = job()
        times.append(time.perf_counter() - start)
        size = len(output.encode())
    return statistics.median(times), size


def main() -> None:
    """Build the runs, render them and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--history", type=int, default=HISTORY, help="earlier runs")
    parser.add_argument("--columns", type=int, default=COLUMNS)
    parser.add_argument("--wide", type=int, default=WIDE, help="columns of the wide run")
    args = parser.parse_args()
    print(machine("jinja2"))
    old = old_renderer()
    rows = []
    for label, columns, distinct in (
        ("credit-like", args.columns, None),
        ("wide", args.wide, 60),
    ):
        start = time.perf_counter()
        current, history = scenario(columns, args.history, distinct)
        built = time.perf_counter() - start
        checks = len(current.checks)
        print(
            f"\n{label}: {checks:,} checks, {len(history):,} earlier runs "
            f"({'all distinct' if distinct is None else f'{distinct} distinct'}), "
            f"built in {built:.1f} s"
        )
        jobs: dict[str, Callable[[], str]] = {
            "report": lambda c=current, h=history: render_html(c, h),
            "json.dumps (scale)": lambda c=current: json.dumps(c.to_dict()),
        }
        if old is not None:
            jobs["report before the redesign"] = lambda c=current, h=history: old(c, h)
        for name, job in jobs.items():
            seconds, size = timed(job, args.repeats)
            rows.append([label, f"{checks:,}", name, f"{seconds:.3f}", f"{size:,}"])
    if old is None:
        print("\n(the report before the redesign is not in git here: skipped)")
    print(f"\nmedians of {args.repeats}")
    print(table(rows, ["run", "checks", "output", "seconds", "bytes"]))


if __name__ == "__main__":
    main()
