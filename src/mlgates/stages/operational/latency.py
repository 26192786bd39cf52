"""The in-process checks: latency, throughput, memory, size and load time of the models.

The models are the ``[performance]`` candidate and baseline, given a sample of
the evaluation rows. They are timed in a fresh process
(:mod:`.timing_worker`), interleaved; the percentiles' intervals come from
order statistics, those of means and throughput from a bootstrap over the timed
rounds (see :class:`CallJudge`).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from mlgates.authoring import IntervalOf, Measurement, PlannedCheck, interval_needed, reading
from mlgates.core import ConfigError, Status
from mlgates.processes import run_bounded, tail
from mlgates.stages.operational.settings import (
    PERCENTILES,
    OperationalConfig,
    TimingSettings,
    parse_call,
)
from mlgates.stages.performance.evaluation import Evaluation, shared_evaluation
from mlgates.stages.performance.measuring import family_note, interval_quantity
from mlgates.stages.performance.settings import ModelFile
from mlgates.text import format_number

if TYPE_CHECKING:
    from mlgates.context import Context

CALL_METRICS = (*PERCENTILES, "throughput_rps")
MEMORY_METRICS = ("peak_memory_mb", "load_time_ms")
_MIB = 1024 * 1024
DIGITS = 4
"""Significant digits of the times in ``details["latency_ms"]``."""


@dataclass(frozen=True)
class Timed:
    """One model's timings, per call (``predict:1``), in nanoseconds."""

    name: str
    calls: dict[str, NDArray[np.float64]]


@dataclass(frozen=True)
class Setup:
    """What the worker processes are given: the models, their features, the calls."""

    models: tuple[tuple[str, ModelFile, tuple[str, ...]], ...]
    methods: tuple[str, ...]
    trusted: tuple[str, ...]
    rows: Path


def _methods(config: OperationalConfig, evaluation: Evaluation) -> tuple[str, ...]:
    """The calls timed: configured, or predict plus predict_proba where the performance
    gate uses probabilities."""
    if config.timing.methods:
        return config.timing.methods
    model = evaluation.models[0]
    uses_proba = evaluation.task != "regression" and evaluation.candidate.proba is not None
    if uses_proba and callable(getattr(model, "predict_proba", None)):
        return ("predict", "predict_proba")
    return ("predict",)


def _setup(config: OperationalConfig, context: Context, folder: Path) -> Setup:
    models = config.models
    assert models is not None
    with reading("performance.data"):
        evaluation = shared_evaluation(models, context)
    entries = [("candidate", models.candidate, evaluation.candidate.features)]
    if models.baseline is not None and not evaluation.baseline_is_dummy:
        entries.append(("baseline", models.baseline, evaluation.baseline.features))
    for _, model, _features in entries:
        if model.uri is not None:
            raise ConfigError(
                f"{model.uri}: the operational gate times a local model file; download the "
                "MLflow model and name its directory",
                key=model.key,
            )
    methods = _methods(config, evaluation)
    for method in methods:
        for name, _model, _features in entries:
            model_object = evaluation.models[0 if name == "candidate" else 1]
            if not callable(getattr(model_object, method, None)):
                raise ConfigError(
                    f"the {name} model has no {method} method to time; set operational.methods",
                    key="operational.methods",
                )
    timing = config.timing
    needed = max(timing.rows, timing.largest_batch)
    rng = np.random.default_rng(timing.seed)
    frame = evaluation.frame
    picked = rng.choice(len(frame), size=needed, replace=len(frame) < needed)
    columns = list(dict.fromkeys(f for _, _, features in entries for f in features))
    rows = folder / "rows.pkl"
    frame.iloc[picked][columns].reset_index(drop=True).to_pickle(rows)
    return Setup(
        models=tuple((name, model, tuple(features)) for name, model, features in entries),
        methods=methods,
        trusted=models.trusted,
        rows=rows,
    )


THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
"""The variables OpenMP and the BLAS libraries read their thread count from at start."""


def thread_limits(threads: int) -> dict[str, str]:
    """The environment that holds a process's numerical libraries to ``threads`` threads
    (0: the libraries' own default, the environment unchanged)."""
    return {} if threads == 0 else dict.fromkeys(THREAD_VARIABLES, str(threads))


def _run_worker(
    setup: Setup, mode: str, models: Sequence[int], timing: TimingSettings, context: Context
) -> dict[str, Any]:
    spec = {
        "mode": mode,
        "models": [
            {
                "name": setup.models[i][0],
                "path": str(setup.models[i][1].path),
                "key": setup.models[i][1].key,
                "sha256": setup.models[i][1].sha256,
                "display": context.display(setup.models[i][1].path),
                "features": list(setup.models[i][2]),
            }
            for i in models
        ],
        "trusted": list(setup.trusted),
        "rows": str(setup.rows),
        "methods": list(setup.methods),
        "batch_sizes": list(timing.batch_sizes),
        "warmup": timing.warmup,
        "min_calls": timing.min_calls,
        "max_calls": timing.max_calls,
        "time_budget": timing.time_budget,
        "retries": timing.retries,
    }
    name = f"{mode}-{'-'.join(map(str, models))}"
    path, output = setup.rows.with_name(f"{name}.json"), setup.rows.with_name(f"{name}.out.json")
    path.write_text(json.dumps(spec), encoding="utf-8")
    what = (
        "timing the models" if mode == "timing" else f"measuring the {setup.models[models[0]][0]}"
    )
    argv = [
        sys.executable,
        "-m",
        "mlgates.stages.operational.timing_worker",
        str(path),
        str(output),
    ]
    try:
        done = run_bounded(
            argv,
            timeout=timing.timeout,
            cwd=context.root,
            env={**os.environ, **thread_limits(timing.threads)},
        )
    except subprocess.TimeoutExpired:
        raise WorkerFailed(
            f"{what}: no answer within {timing.timeout:g} s (operational.timeout); the process "
            "was stopped"
        ) from None
    try:
        found = json.loads(output.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        raise WorkerFailed(
            f"{what}: the process exited with code {done.code} without a result: "
            f"{tail(done.stderr or done.stdout) or '(nothing printed)'}"
        ) from None
    if not isinstance(found, dict):
        raise WorkerFailed(f"{what}: expected a JSON object, got {type(found).__name__}")
    if "error" in found:
        raise WorkerFailed(f"{what}: {found['error']}", found.get("traceback", ""))
    return found


class WorkerFailed(Exception):
    """A timing or memory process failed; ``trace`` is its traceback, when it has one."""

    def __init__(self, message: str, trace: str = "") -> None:
        super().__init__(message)
        self.trace = trace

    def measurement(self) -> Measurement:
        """An ``error`` for every check the process was to measure."""
        details = {"traceback": self.trace} if self.trace else {}
        return Measurement(status=Status.ERROR, message=str(self), details=details)


def measure_timed(
    config: OperationalConfig, checks: Sequence[PlannedCheck], context: Context
) -> dict[str, Measurement]:
    """Every in-process check, measured; a process that fails makes errors of its own
    checks only."""
    measured = {
        check.id: _size(check, config) for check in checks if check.metric == "model_size_mb"
    }
    calls = [c for c in checks if c.metric in CALL_METRICS]
    memory = [c for c in checks if c.metric in MEMORY_METRICS]
    if not calls and not memory:
        return measured
    with tempfile.TemporaryDirectory(prefix="mlgates-timing-") as folder:
        setup = _setup(config, context, Path(folder))
        if calls:
            try:
                measured.update(_timed_calls(config.timing, setup, calls, context))
            except WorkerFailed as exc:
                measured.update(dict.fromkeys((c.id for c in calls), exc.measurement()))
        if memory:
            try:
                measured.update(_memory_checks(config.timing, setup, memory, context))
            except WorkerFailed as exc:
                measured.update(dict.fromkeys((c.id for c in memory), exc.measurement()))
    return measured


def _timed_calls(
    timing: TimingSettings, setup: Setup, checks: Sequence[PlannedCheck], context: Context
) -> dict[str, Measurement]:
    names = [name for name, _, _ in setup.models]
    found = _run_worker(setup, "timing", range(len(names)), timing, context)
    timed = {
        name: Timed(name, {k: np.asarray(v, dtype=np.float64) for k, v in calls.items()})
        for name, calls in found["calls"].items()
    }
    judge = CallJudge(timed, timing, retimed=found.get("retimed", {}))
    measured: dict[str, Measurement] = {}
    for check in checks:
        measured.update(judge.measure(check))
    return measured


def _memory_checks(
    timing: TimingSettings, setup: Setup, checks: Sequence[PlannedCheck], context: Context
) -> dict[str, Measurement]:
    names = [name for name, _, _ in setup.models]
    wanted = [0]
    if len(names) > 1 and any(c.threshold and c.threshold.anchor for c in checks):
        wanted.append(1)
    reports = {names[i]: _run_worker(setup, "memory", [i], timing, context) for i in wanted}
    return {check.id: _memory(check, reports) for check in checks}


def _size_bytes(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def _size(check: PlannedCheck, config: OperationalConfig) -> Measurement:
    models = config.models
    assert models is not None
    files = {"candidate": models.candidate, "baseline": models.baseline}
    sizes = {
        name: _size_bytes(model.path) / _MIB
        for name, model in files.items()
        if model is not None and model.uri is None
    }
    if "candidate" not in sizes:
        return Measurement(
            status=Status.INCONCLUSIVE, message="the candidate is an MLflow URI: no file to size"
        )
    return Measurement(
        value=sizes["candidate"],
        anchor_value=sizes.get("baseline"),
        message=_pair("size", sizes, "MiB"),
    )


def _memory(check: PlannedCheck, reports: dict[str, dict[str, Any]]) -> Measurement:
    if check.metric == "peak_memory_mb":
        values = {name: r["peak_added_bytes"] / _MIB for name, r in reports.items()}
        note = (
            "" if reports["candidate"].get("peak_exact") else " (lifetime peak: no peak reset here)"
        )
        message = _pair("peak memory added by loading and predicting", values, "MiB") + note
    else:
        values = {name: r["load_s"] * 1000 for name, r in reports.items()}
        message = _pair("load time", values, "ms")
    return Measurement(
        value=values["candidate"], anchor_value=values.get("baseline"), message=message
    )


def _pair(what: str, values: dict[str, float], unit: str) -> str:
    shown = ", ".join(f"{name} {format_number(value, 4)} {unit}" for name, value in values.items())
    return f"{what}: {shown}"


class CallJudge:
    """Latency percentiles and throughput of each timed call, with confidence intervals.

    A percentile's interval comes from order statistics (distribution-free: the
    ``k``-th fastest call bounds the percentile with a binomial probability); a
    difference from the baseline combines each model's bounds at half the risk.
    Means and throughput come from a bootstrap over the timed rounds, which keeps
    candidate and baseline paired. A family's members share the risk (Bonferroni).

    Every latency and throughput check carries its call's times for the report,
    :meth:`latency_ms`, also when it is inconclusive for want of calls.
    """

    def __init__(
        self, timed: dict[str, Timed], timing: TimingSettings, retimed: dict[str, dict[str, int]]
    ) -> None:
        self.timing = timing
        self.candidate = timed["candidate"]
        self.baseline = timed.get("baseline")
        self.retimed = retimed
        self._picks: dict[str, NDArray[np.intp]] = {}
        self._latencies: dict[str, dict[str, Any]] = {}

    def latency_ms(self, call: str) -> dict[str, Any]:
        """``details["latency_ms"]`` of a check on ``call``: ``{"candidate": {"p50": ..,
        "p95": .., "p99": .., "max": .., "mean": ..}, "baseline": {...}, "calls": n}`` in
        milliseconds with :data:`DIGITS` significant digits, from the calls timed (each
        the statistic a check of that metric measures, so ``p95`` is a ``p95_ms`` check's
        value rounded). ``baseline`` is absent without a baseline; ``calls`` counts the
        timed calls of each model. The percentiles are there whatever the count: deciding
        on a bound may need more calls than describing them."""
        if call not in self._latencies:
            models = {"candidate": self.candidate.calls[call]}
            if self.baseline is not None and call in self.baseline.calls:
                models["baseline"] = self.baseline.calls[call]
            found: dict[str, Any] = {
                name: {
                    metric.removesuffix("_ms"): _significant(
                        float(_statistic(metric, times[None, :], call)[0])
                    )
                    for metric in PERCENTILES
                }
                for name, times in models.items()
            }
            found["calls"] = len(models["candidate"])
            self._latencies[call] = found
        return self._latencies[call]

    def members(self, metric: str) -> list[str]:
        """The calls a family of ``metric`` covers (throughput: the largest batch only)."""
        found = list(self.candidate.calls)
        if metric == "throughput_rps":
            largest = self.timing.largest_batch
            found = [c for c in found if (parse_call(c) or ("", 0))[1] == largest]
        return found

    def measure(self, check: PlannedCheck) -> dict[str, Measurement]:
        """The measurement of ``check``, or of each member of its family."""
        if not check.family:
            assert check.selector is not None
            return {check.id: self.one(check, check.selector)}
        calls = self.members(check.metric)
        measured = {}
        for call in calls:
            member = check.member(call)
            measured[member.id] = replace(self.one(member, call, len(calls)), check=member)
        return measured

    def one(self, check: PlannedCheck, call: str, family: int = 1) -> Measurement:
        """``check`` measured on one timed call (one of ``family`` judged together)."""
        if call not in self.candidate.calls:
            timed = ", ".join(self.candidate.calls)
            return Measurement(
                status=Status.INCONCLUSIVE, message=f"{call} was not timed; timed: {timed}"
            )
        candidate = self.candidate.calls[call]
        baseline = None if self.baseline is None else self.baseline.calls.get(call)
        value = float(_statistic(check.metric, candidate[None, :], call)[0])
        anchor = None
        if baseline is not None:
            anchor = float(_statistic(check.metric, baseline[None, :], call)[0])
        rounds = len(candidate)
        message = f"{rounds:,} calls" + (
            f" each, interleaved with the baseline's {_shown(check.metric, anchor)}"
            if anchor is not None
            else ""
        )
        retimed = self.retimed.get("candidate", {}).get(call, 0)
        theirs = self.retimed.get("baseline", {}).get(call, 0)
        if retimed or theirs:
            message += f"; stalled and timed again: {retimed:,} of the candidate's calls"
            if baseline is not None:
                message += f", {theirs:,} of the baseline's"
        measured = Measurement(
            value=value,
            anchor_value=anchor,
            message=message,
            details={"calls": rounds, "retimed": retimed, "latency_ms": self.latency_ms(call)},
        )
        needed = None if check.threshold is None else interval_needed(check.threshold)
        if needed is None or check.threshold is None:
            return measured
        level = check.threshold.confidence
        assert level is not None
        each = 1 - (1 - level) / family
        if needed is not IntervalOf.VALUE and baseline is None:
            needed = IntervalOf.VALUE
        interval = self._interval(check.metric, call, needed, each)
        if interval is None:
            too_few = _too_few(check.metric, rounds, each, needed)
            return replace(too_few, details={**measured.details, **too_few.details})
        details = dict(measured.details)
        method = "bootstrap over the timed rounds, paired"
        if PERCENTILES.get(check.metric) is not None:
            method = "order statistics (binomial)"
        if family > 1:
            details["level_each"] = each
            method += f", {family_note(each, level, family, 'call')}"
        return replace(
            measured,
            interval=interval,
            interval_of=needed,
            level=level,
            method=method,
            details=details,
        )

    def _interval(
        self, metric: str, call: str, needed: IntervalOf, level: float
    ) -> tuple[float, float] | None:
        candidate = self.candidate.calls[call]
        baseline = None if self.baseline is None else self.baseline.calls.get(call)
        percentile = PERCENTILES.get(metric)
        if percentile is not None:
            share = percentile / 100
            if needed is IntervalOf.VALUE:
                bounds = quantile_bounds(candidate, share, level)
                return None if bounds is None else (bounds[0] / 1e6, bounds[1] / 1e6)
            assert baseline is not None
            half = 1 - (1 - level) / 2
            ours, theirs = (
                quantile_bounds(candidate, share, half),
                quantile_bounds(baseline, share, half),
            )
            if ours is None or theirs is None:
                return None
            if needed is IntervalOf.DIFFERENCE:
                return ((ours[0] - theirs[1]) / 1e6, (ours[1] - theirs[0]) / 1e6)
            return (ours[0] / theirs[1] - 1, ours[1] / theirs[0] - 1)
        picks = self._resampled(call)
        replicates = _statistic(metric, candidate[picks], call)
        against = replicates
        if baseline is not None:
            against = _statistic(metric, baseline[picks], call)
        quantity = interval_quantity(needed, replicates, against)
        finite = quantity[np.isfinite(quantity)]
        if finite.size == 0:
            return None
        low, high = np.quantile(finite, [1 - level, level])
        return float(low), float(high)

    def _resampled(self, call: str) -> NDArray[np.intp]:
        if call not in self._picks:
            rounds = len(self.candidate.calls[call])
            rng = np.random.default_rng(self.timing.seed)
            self._picks[call] = rng.integers(0, rounds, size=(self.timing.resamples, rounds))
        return self._picks[call]


def quantile_bounds(
    values: NDArray[np.float64], share: float, level: float
) -> tuple[float, float] | None:
    """One-sided ``level`` bounds of the ``share`` quantile from order statistics.

    The upper bound is the ``k``-th smallest value for the least ``k`` with
    P(Binomial(n, share) < k) >= level; the lower bound likewise from below. None
    when ``values`` are too few for either bound to exist.
    """
    from scipy.stats import binom

    ordered = np.sort(values)
    n = len(ordered)
    below = binom.cdf(np.arange(n + 1), n, share)  # P(at most j values below the quantile)
    upper = np.flatnonzero(below >= level)
    lower = np.flatnonzero(1 - np.concatenate(([0.0], below[:-1])) >= level)
    if upper.size == 0 or upper[0] >= n or lower.size == 0 or lower[-1] < 1:
        return None
    return float(ordered[lower[-1] - 1]), float(ordered[upper[0]])


def rounds_needed(share: float, level: float) -> int:
    """The fewest calls for which a one-sided ``level`` upper bound of the ``share``
    quantile exists: 1 - share**n >= level."""
    return math.ceil(math.log(1 - level) / math.log(share))


def _too_few(metric: str, rounds: int, level: float, needed: IntervalOf) -> Measurement:
    percentile = PERCENTILES.get(metric)
    if percentile is None or percentile >= 100:
        return Measurement(
            status=Status.INCONCLUSIVE, message=f"{metric}: no interval from {rounds:,} calls"
        )
    if needed is not IntervalOf.VALUE:
        level = 1 - (1 - level) / 2
    wanted = rounds_needed(percentile / 100, level)
    return Measurement(
        status=Status.INCONCLUSIVE,
        message=(
            f"{rounds:,} calls are too few for a {format_number(level * 100, 4)}% bound on the "
            f"{percentile:g}th percentile: it needs at least {wanted:,}; raise "
            "operational.min_calls (or time_budget)"
        ),
    )


def _statistic(metric: str, nanoseconds: NDArray[np.float64], call: str) -> NDArray[np.float64]:
    """``metric`` of each row of ``nanoseconds`` (one row per replicate)."""
    if metric == "throughput_rps":
        batch = (parse_call(call) or ("", 1))[1]
        return np.asarray(batch * 1e9 / nanoseconds.mean(axis=1), dtype=np.float64)
    percentile = PERCENTILES[metric]
    if percentile is None:
        return np.asarray(nanoseconds.mean(axis=1) / 1e6, dtype=np.float64)
    return np.asarray(np.percentile(nanoseconds, percentile, axis=1) / 1e6, dtype=np.float64)


def _significant(value: float) -> float | None:
    """``value`` with :data:`DIGITS` significant digits; None when it is not finite."""
    return float(f"{value:.{DIGITS}g}") if math.isfinite(value) else None


def _shown(metric: str, value: float) -> str:
    if metric == "throughput_rps":
        return f"{format_number(value, 4)} rows/s"
    return f"{metric.removesuffix('_ms')} of {format_number(value, 4)} ms"


__all__ = [
    "CALL_METRICS",
    "MEMORY_METRICS",
    "CallJudge",
    "measure_timed",
    "quantile_bounds",
    "rounds_needed",
    "thread_limits",
]
