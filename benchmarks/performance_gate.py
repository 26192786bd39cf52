"""Benchmark of the paired bootstrap, run by hand: ``python benchmarks/performance_gate.py``.

The data: a binary label (30% positive) and two correlated models, candidate and
baseline, scoring the same rows (a shared latent signal plus noise of their own,
through a sigmoid; labels at 0.5), at 100k and 1M rows (``--sizes``).

Scenarios
---------
bootstrap   what the performance stage runs for roc_auc and f1 checks against the
            baseline: one paired bootstrap (``--resamples``, the stage's 2 workers) of
            four statistics on the same resamples, ROC AUC binned into the stage's
            4096 groups and recentred on the exact value, and binary F1, for both
            models (:func:`mlgates.stats.paired.bootstrap`); timed from building the
            scorers to the replicates (the exact point values, which the stage needs
            anyway, are computed before)
loop        the reference: a plain loop over resamples of scikit-learn's
            ``roc_auc_score`` and ``f1_score`` on ``y[idx]`` for both models, ``idx``
            drawn with replacement; above 100k rows it runs ``--loop-resamples``
            resamples (20) and its time is scaled to ``--resamples``, which is printed
delong      DeLong's variance of the same AUC difference (:func:`mlgates.stats.paired.delong`)

Each run is a process of its own, so that its peak memory is its own: the peak
resident memory (Linux ``VmHWM``, not tracemalloc), next to the same peak once
the imports are done and the data is generated ("after setup"). Bootstrap and
DeLong run ``--repeats`` times, taking turns with the one loop run so that a slow
spell of the machine hits them alike; the figures are medians, and the ratio is
measured within the run. The bootstrap's standard deviation of the AUC difference
is printed against DeLong's, as a check of what was timed. The load average is
printed first: on a busy machine the bootstrap's two threads share what is left.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

SCENARIOS = ("bootstrap", "loop", "delong")
SEED = 20240611
_FULL_LOOP_ROWS = 100_000
"""Up to this many rows the loop runs every resample; above, ``--loop-resamples``."""


def generate(rows: int, seed: int = SEED) -> dict[str, NDArray[Any]]:
    """Labels and the two models' positive-class probabilities and labels."""
    rng = np.random.default_rng(seed)
    truth = (rng.random(rows) < 0.3).astype(np.intp)
    signal = rng.normal(size=rows) + 1.2 * truth
    data: dict[str, NDArray[Any]] = {"truth": truth}
    for name, noise, shift in (("candidate", 0.8, 0.0), ("baseline", 1.0, 0.2)):
        score = signal + rng.normal(scale=noise, size=rows) - 0.8 - shift
        proba = 1 / (1 + np.exp(-score))
        data[name] = proba
        data[f"{name}_label"] = (proba >= 0.5).astype(np.intp)
    return data


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux ``VmHWM``)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_bootstrap(
    data: dict[str, NDArray[Any]], resamples: int, workers: int
) -> tuple[float, dict[str, float]]:
    from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]

    from mlgates.stages.performance.metrics import BOOTSTRAP_GROUPS
    from mlgates.stats import paired, scoring

    truth = data["truth"]
    exact = {name: float(roc_auc_score(truth, data[name])) for name in ("candidate", "baseline")}
    started = time.perf_counter()
    models = {
        name: scoring.Classified(
            truth, data[f"{name}_label"], np.column_stack([1 - data[name], data[name]]), 2
        )
        for name in ("candidate", "baseline")
    }
    chosen = [
        paired.Statistic(scoring.roc_auc(models[name], max_groups=BOOTSTRAP_GROUPS), point=value)
        for name, value in exact.items()
    ]
    chosen += [
        paired.Statistic(scoring.class_metric(models[name], "f1", "binary"))
        for name in ("candidate", "baseline")
    ]
    replicates = paired.bootstrap(
        chosen, len(truth), resamples=resamples, seed=SEED, workers=workers
    )
    seconds = time.perf_counter() - started
    delong = paired.delong(truth == 1, data["candidate"], data["baseline"])
    spread = float(np.std(replicates[:, 0] - replicates[:, 1], ddof=1))
    return seconds, {
        "sd_ratio": spread / delong.difference_variance**0.5,
        "finite": float(np.isfinite(replicates).all()),
    }


def run_loop(data: dict[str, NDArray[Any]], resamples: int) -> float:
    from sklearn.metrics import f1_score, roc_auc_score

    truth = data["truth"]
    rng = np.random.default_rng(SEED)
    started = time.perf_counter()
    for _ in range(resamples):
        idx = rng.integers(0, len(truth), size=len(truth))
        picked = truth[idx]
        for name in ("candidate", "baseline"):
            roc_auc_score(picked, data[name][idx])
            f1_score(picked, data[f"{name}_label"][idx])
    return time.perf_counter() - started


def child(scenario: str, rows: int, resamples: int, workers: int) -> dict[str, float]:
    """Run one scenario once, in this process, after generating the data."""
    import sklearn.metrics  # type: ignore[import-untyped]  # noqa: F401  # kept out of the timing

    import mlgates.stages.performance.metrics
    import mlgates.stats.paired  # noqa: F401

    data = generate(rows)
    after_setup = peak_rss_mb()
    extra: dict[str, float] = {}
    if scenario == "bootstrap":
        seconds, extra = run_bootstrap(data, resamples, workers)
    elif scenario == "loop":
        seconds = run_loop(data, resamples)
    else:
        from mlgates.stats.paired import delong

        started = time.perf_counter()
        delong(data["truth"] == 1, data["candidate"], data["baseline"])
        seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "peak_rss_mb": peak_rss_mb(),
        "after_setup_mb": after_setup,
        **extra,
    }


def run_child(scenario: str, rows: int, resamples: int, workers: int) -> dict[str, float]:
    completed = subprocess.run(
        [sys.executable, __file__, "--child", scenario, "--sizes", str(rows),
         "--resamples", str(resamples), "--workers", str(workers)],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    if completed.returncode != 0:
        raise SystemExit(f"{scenario} failed:\n{completed.stderr[-3000:]}")
    result: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def measure(
    rows: int, resamples: int, loop_resamples: int, repeats: int, workers: int
) -> dict[str, list[dict[str, float]]]:
    """Bootstrap and DeLong ``repeats`` times each, taking turns; the loop once, midway."""
    runs: dict[str, list[dict[str, float]]] = {scenario: [] for scenario in SCENARIOS}
    for repeat in range(repeats):
        runs["bootstrap"].append(run_child("bootstrap", rows, resamples, workers))
        if repeat == repeats // 2:
            runs["loop"].append(run_child("loop", rows, loop_resamples, workers))
        runs["delong"].append(run_child("delong", rows, resamples, workers))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--loop-resamples",
        type=int,
        default=20,
        help=f"resamples the reference loop runs above {_FULL_LOOP_ROWS:,} rows (scaled up)",
    )
    parser.add_argument("--workers", type=int, default=2, help="bootstrap threads")
    parser.add_argument("--child", choices=SCENARIOS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.sizes[0], args.resamples, args.workers)))
        return
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"python {sys.version.split()[0]}, numpy {np.__version__}, {os.cpu_count()} cores "
        f"(load average {load}); medians of {args.repeats}; peak memory is VmHWM of the "
        "process running the scenario"
    )
    for rows in args.sizes:
        loop_resamples = args.resamples
        if rows > _FULL_LOOP_ROWS:
            loop_resamples = min(args.loop_resamples, args.resamples)
        runs = measure(rows, args.resamples, loop_resamples, args.repeats, args.workers)
        print(
            f"\n{rows:,} rows, {args.resamples:,} resamples, roc_auc + f1 for candidate "
            f"and baseline ({args.workers} bootstrap workers)"
        )
        print(
            f"{'scenario':<10} {'median s':>9} {'min s':>8} {'peak RSS MiB':>13} "
            f"{'after setup':>12}"
        )
        medians: dict[str, float] = {}
        for scenario, results in runs.items():
            scale = args.resamples / loop_resamples if scenario == "loop" else 1.0
            seconds = [r["seconds"] * scale for r in results]
            medians[scenario] = statistics.median(seconds)
            note = f"  scaled x{scale:g} from {loop_resamples} resamples" if scale != 1 else ""
            print(
                f"{scenario:<10} {medians[scenario]:>9.3f} {min(seconds):>8.3f} "
                f"{max(r['peak_rss_mb'] for r in results):>13.0f} "
                f"{statistics.median(r['after_setup_mb'] for r in results):>12.0f}{note}"
            )
        print(f"loop / bootstrap: {medians['loop'] / medians['bootstrap']:.1f}x")
        ratio = statistics.median(r["sd_ratio"] for r in runs["bootstrap"])
        print(f"bootstrap sd of the AUC difference / DeLong's: {ratio:.3f}")
        if not all(r["finite"] for r in runs["bootstrap"]):
            print("warning: some bootstrap replicates were not finite")


if __name__ == "__main__":
    main()
