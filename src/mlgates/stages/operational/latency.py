"""The in-process checks: latency, throughput, memory, size and load time of the models.

The models are the ``[performance]`` candidate and baseline, given a sample of
the evaluation rows. They are timed in a fresh process
(:mod:`.timing_worker`), interleaved; the percentiles' intervals come from a
bootstrap over the timed rounds, which keeps candidate and baseline paired.
"""

from __future__ import annotations

import json
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
from mlgates.processes import ProcessFailed, run_json
from mlgates.stages.operational.settings import (
    PERCENTILES,
    OperationalConfig,
    TimingSettings,
    parse_call,
)
from mlgates.stages.performance.evaluation import Evaluation, shared_evaluation
from mlgates.stages.performance.measuring import interval_quantity
from mlgates.stages.performance.settings import ModelFile
from mlgates.text import format_number

if TYPE_CHECKING:
    from mlgates.context import Context

CALL_METRICS = (*PERCENTILES, "throughput_rps")
MEMORY_METRICS = ("peak_memory_mb", "load_time_ms")
_MIB = 1024 * 1024


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
        "repeats": timing.repeats,
    }
    path = setup.rows.with_name(f"{mode}-{'-'.join(map(str, models))}.json")
    path.write_text(json.dumps(spec), encoding="utf-8")
    first = setup.models[models[0]][0]
    what = "timing the models" if mode == "timing" else f"measuring the {first}"
    found = run_json(
        [sys.executable, "-m", "mlgates.stages.operational.timing_worker", str(path)],
        timeout=timing.timeout,
        what=what,
        env=thread_limits(timing.threads),
    )
    if not isinstance(found, dict):
        raise ProcessFailed(f"{what}: expected a JSON object, got {type(found).__name__}")
    if "error" in found:
        raise ProcessFailed(f"{what}: {found['error']}")
    return found


def measure_timed(
    config: OperationalConfig, checks: Sequence[PlannedCheck], context: Context
) -> dict[str, Measurement]:
    """Every in-process check, measured."""
    with tempfile.TemporaryDirectory(prefix="mlgates-timing-") as folder:
        setup = _setup(config, context, Path(folder))
        try:
            return _measure(config, setup, checks, context)
        except ProcessFailed as exc:
            failed = Measurement(status=Status.ERROR, message=str(exc))
            return {check.id: failed for check in checks}


def _measure(
    config: OperationalConfig, setup: Setup, checks: Sequence[PlannedCheck], context: Context
) -> dict[str, Measurement]:
    timing = config.timing
    names = [name for name, _, _ in setup.models]
    measured: dict[str, Measurement] = {}
    calls = [c for c in checks if c.metric in CALL_METRICS]
    if calls:
        found = _run_worker(setup, "timing", range(len(names)), timing, context)["calls"]
        timed = {
            name: Timed(name, {k: np.asarray(v, dtype=np.float64) for k, v in found[name].items()})
            for name in names
        }
        judge = CallJudge(timed, timing)
        for check in calls:
            measured.update(judge.measure(check))
    memory = [c for c in checks if c.metric in MEMORY_METRICS]
    if memory:
        wanted = [0]
        if len(names) > 1 and any(c.threshold and c.threshold.anchor for c in memory):
            wanted.append(1)
        reports = {names[i]: _run_worker(setup, "memory", [i], timing, context) for i in wanted}
        for check in memory:
            measured[check.id] = _memory(check, reports)
    for check in (c for c in checks if c.metric == "model_size_mb"):
        measured[check.id] = _size(check, setup)
    return measured


def _size_bytes(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def _size(check: PlannedCheck, setup: Setup) -> Measurement:
    sizes = {name: _size_bytes(model.path) / _MIB for name, model, _ in setup.models}
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
    """Latency percentiles and throughput of each timed call, with bootstrap intervals."""

    def __init__(self, timed: dict[str, Timed], timing: TimingSettings) -> None:
        self.timed = timed
        self.timing = timing
        self.candidate = timed["candidate"]
        self.baseline = timed.get("baseline")
        self._replicates: dict[tuple[str, str], NDArray[np.intp]] = {}

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
        measured = {}
        for call in self.members(check.metric):
            member = check.member(call)
            measured[member.id] = replace(self.one(member, call), check=member)
        return measured

    def one(self, check: PlannedCheck, call: str) -> Measurement:
        """``check`` measured on one timed call."""
        if call not in self.candidate.calls:
            timed = ", ".join(self.candidate.calls)
            return Measurement(
                status=Status.INCONCLUSIVE, message=f"{call} was not timed; timed: {timed}"
            )
        candidate = self.candidate.calls[call]
        baseline = None if self.baseline is None else self.baseline.calls.get(call)
        value = _statistic(check.metric, candidate[None, :], call)[0]
        anchor = None if baseline is None else _statistic(check.metric, baseline[None, :], call)[0]
        interval, level, of = None, None, None
        needed = None if check.threshold is None else interval_needed(check.threshold)
        if needed is not None and check.threshold is not None:
            level = check.threshold.confidence
            assert level is not None
            if needed is not IntervalOf.VALUE and baseline is None:
                needed = IntervalOf.VALUE
            interval = self._interval(check.metric, call, needed, level)
            of = needed
        rounds = len(candidate)
        message = f"{rounds:,} calls" + (
            f" each, interleaved with the baseline's {_shown(check.metric, anchor)}"
            if anchor is not None
            else ""
        )
        return Measurement(
            value=float(value),
            anchor_value=None if anchor is None else float(anchor),
            interval=interval,
            interval_of=of,
            level=level,
            message=message,
            method="bootstrap over timed rounds" if interval is not None else None,
            details={"calls": rounds},
        )

    def _interval(
        self, metric: str, call: str, needed: IntervalOf, level: float
    ) -> tuple[float, float]:
        picks = self._picks(call)
        candidate = _statistic(metric, self.candidate.calls[call][picks], call)
        baseline = candidate
        if self.baseline is not None and call in self.baseline.calls:
            baseline = _statistic(metric, self.baseline.calls[call][picks], call)
        quantity = interval_quantity(needed, candidate, baseline)
        finite = quantity[np.isfinite(quantity)]
        if finite.size == 0:
            return (float("nan"), float("nan"))
        low, high = np.quantile(finite, [1 - level, level])
        return float(low), float(high)

    def _picks(self, call: str) -> NDArray[np.intp]:
        key = ("rounds", call)
        if key not in self._replicates:
            rounds = len(self.candidate.calls[call])
            rng = np.random.default_rng(self.timing.seed)
            self._replicates[key] = rng.integers(0, rounds, size=(self.timing.resamples, rounds))
        return self._replicates[key]


def _statistic(metric: str, nanoseconds: NDArray[np.float64], call: str) -> NDArray[np.float64]:
    """``metric`` of each row of ``nanoseconds`` (one row per replicate)."""
    if metric == "throughput_rps":
        batch = (parse_call(call) or ("", 1))[1]
        return np.asarray(batch * 1e9 / nanoseconds.mean(axis=1), dtype=np.float64)
    percentile = PERCENTILES[metric]
    if percentile is None:
        return np.asarray(nanoseconds.mean(axis=1) / 1e6, dtype=np.float64)
    return np.asarray(np.percentile(nanoseconds, percentile, axis=1) / 1e6, dtype=np.float64)


def _shown(metric: str, value: float) -> str:
    if metric == "throughput_rps":
        return f"{format_number(value, 4)} rows/s"
    return f"{metric.removesuffix('_ms')} of {format_number(value, 4)} ms"


__all__ = ["CALL_METRICS", "MEMORY_METRICS", "CallJudge", "measure_timed", "thread_limits"]
