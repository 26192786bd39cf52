"""The program that loads and times the models, in a process of its own.

``python -m mlgates.stages.operational.timing_worker SPEC.json`` prints one
JSON object. The gate's process holds data frames, caches and other stages'
models; timing and memory are measured here instead, where nothing but the
models and a sample of rows lives.

Two modes:

* ``memory``: one model. Its load time, and the memory the process gains by
  loading it and predicting the largest batch (peak resident set size after,
  minus the resident set before; Linux resets the peak first, elsewhere the
  lifetime peak is used).
* ``timing``: every model, loaded once, then each call (method, batch size)
  warmed up and timed in rounds: each round calls every model once, on the same
  rows, alternating who goes first, until the time budget is spent (at least
  ``min_calls`` rounds, at most ``max_calls``). Interleaving is what makes
  ``p95_ms <= baseline + 20%`` hold on any machine: a busy machine slows both
  models alike; and a call during which the machine gave the processor to
  something else (its wall time well beyond the processor time it used) is
  timed again, so that the tail of the distribution is the model's own.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Call = Callable[[Any], Any]
RETRIES = 10
"""How many times a stalled call is timed again."""
STALLED_NS = 200_000
"""A call is stalled when it spent more than this many nanoseconds off the processor:
far beyond a timer interrupt, far below a scheduler's time slice. The same for every
model, so a slower model is not allowed more."""
_JUDGED_CALLS = 20
"""Calls after which a function stalled in most of them is taken to wait by design."""


@dataclass
class Rounds:
    """Nanoseconds of each function's call in each round, and per function how many
    calls stalled (the machine took the processor away): each was timed again."""

    timings: list[list[int]]
    stalled: list[int]


def time_rounds(
    calls: Sequence[Call],
    inputs: Sequence[Sequence[Any]],
    *,
    warmup: int,
    min_calls: int,
    max_calls: int,
    budget_s: float,
    retries: int = RETRIES,
) -> Rounds:
    """Time every function on its inputs in interleaved rounds.

    ``inputs[i]`` are the arguments ``calls[i]`` cycles through; round ``r`` gives
    every function its ``r``-th input, the first function first in even rounds and
    last in odd ones, until ``budget_s`` is spent (at least ``min_calls`` rounds, at
    most ``max_calls``). A call that spent more than :data:`STALLED_NS` off the
    processor (the machine ran something else) is timed again, up to ``retries``
    times, keeping the attempt that was off it least; a call that is slow on the
    processor (garbage collection, a costly input) is kept as it is. A function
    that waits by design (stalled in most of its first 20 calls: a pool, a device)
    is not timed again.
    """
    for index in range(warmup):
        for call, given in zip(calls, inputs, strict=True):
            call(given[index % len(given)])
    gc.collect()
    found = Rounds([[] for _ in calls], [0 for _ in calls])
    forward = list(range(len(calls)))
    backward = forward[::-1]
    deadline = time.perf_counter_ns() + int(budget_s * 1e9)
    rounds = 0
    while rounds < max_calls and (rounds < min_calls or time.perf_counter_ns() < deadline):
        for which in forward if rounds % 2 == 0 else backward:
            given = inputs[which][rounds % len(inputs[which])]
            waits = rounds >= _JUDGED_CALLS and found.stalled[which] > rounds // 2
            taken, attempts = _timed(calls[which], given, 0 if waits else retries)
            found.timings[which].append(taken)
            found.stalled[which] += attempts > 1
        rounds += 1
    return found


def _timed(call: Call, given: Any, retries: int) -> tuple[int, int]:
    """Nanoseconds of one call, and the attempts it took (``retries + 2`` when the
    last attempt was still stalled)."""
    wall_clock, processor = time.perf_counter_ns, time.process_time_ns
    best, least_off = 0, -1
    for attempt in range(1, retries + 2):
        started, busy = wall_clock(), processor()
        call(given)
        busy = processor() - busy
        taken = wall_clock() - started
        off = taken - busy
        if off <= STALLED_NS:
            return taken, attempt
        if least_off < 0 or off < least_off:
            best, least_off = taken, off
    return best, retries + 2


def _resident_bytes() -> int:
    """The current resident set size."""
    try:
        pages = Path("/proc/self/statm").read_text().split()[1]
        return int(pages) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return _peak_bytes()


def _reset_peak() -> bool:
    """Reset the peak resident set size (Linux); whether it could be."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_bytes() -> int:
    """The peak resident set size since the last reset (or since the process started)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def _load(entry: dict[str, Any], trusted: Sequence[str]) -> Any:
    from mlgates.stages.performance.models import load_model
    from mlgates.stages.performance.settings import ModelFile

    model = ModelFile(Path(entry["path"]), entry["key"], entry.get("sha256"))
    return load_model(model, entry["display"], trusted)


def _batches(rows: Any, features: Sequence[str], size: int, limit: int | None = None) -> list[Any]:
    """Distinct batches of ``size`` rows (at most ``limit``), each a frame of ``features``."""
    frame = rows[list(features)]
    starts = range(0, max(len(frame) - size, 0) + 1, max(size, 1))
    return [frame.iloc[start : start + size] for start in list(starts)[:limit]]


def _preload_loaders(path: str) -> None:
    """Import the library that reads the model file, so its import is not the model's memory."""
    suffix = Path(path).suffix.lower()
    names = {".skops": "skops.io", ".onnx": "onnxruntime"}.get(suffix, "joblib")
    try:
        __import__(names)
        __import__("sklearn")
    except ImportError:
        pass


def measure_memory(spec: dict[str, Any]) -> dict[str, Any]:
    """Load time and peak memory of the one model in ``spec``."""
    import pandas as pd

    entry = spec["models"][0]
    rows = pd.read_pickle(spec["rows"])
    _preload_loaders(entry["path"])
    largest = max(spec["batch_sizes"])
    batch = _batches(rows, entry["features"], largest, limit=1)[0].copy()
    del rows
    gc.collect()
    exact = _reset_peak()
    before = _resident_bytes()
    started = time.perf_counter()
    model = _load(entry, spec["trusted"])
    load_s = time.perf_counter() - started
    for method in spec["methods"]:
        for _ in range(3):
            getattr(model, method)(batch)
    peak = _peak_bytes()
    return {
        "load_s": load_s,
        "peak_added_bytes": max(peak - before, 0),
        "peak_exact": exact,
        "resident_before_bytes": before,
    }


def measure_timing(spec: dict[str, Any]) -> dict[str, Any]:
    """Nanoseconds per call of every model, per method and batch size."""
    import pandas as pd

    rows = pd.read_pickle(spec["rows"])
    models = [_load(entry, spec["trusted"]) for entry in spec["models"]]
    found: dict[str, Any] = {entry["name"]: {} for entry in spec["models"]}
    retimed: dict[str, dict[str, int]] = {}
    for size in spec["batch_sizes"]:
        inputs = [_batches(rows, entry["features"], size) for entry in spec["models"]]
        for method in spec["methods"]:
            calls = [getattr(model, method) for model in models]
            rounds = time_rounds(
                calls,
                inputs,
                warmup=spec["warmup"],
                min_calls=spec["min_calls"],
                max_calls=spec["max_calls"],
                budget_s=spec["time_budget"],
                retries=spec["retries"],
            )
            for entry, taken in zip(spec["models"], rounds.timings, strict=True):
                found[entry["name"]][f"{method}:{size}"] = taken
            for entry, count in zip(spec["models"], rounds.stalled, strict=True):
                retimed.setdefault(entry["name"], {})[f"{method}:{size}"] = count
    return {"calls": found, "retimed": retimed}


def main(argv: Sequence[str] | None = None) -> int:
    """Read the spec, measure, write the result as JSON to the output file.

    The result goes to a file, not to standard output, which a model's native code
    may print to (LightGBM's warnings do).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        usage = "usage: python -m mlgates.stages.operational.timing_worker SPEC.json OUT.json"
        print(usage, file=sys.stderr)
        return 2
    spec = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    try:
        result = measure_memory(spec) if spec["mode"] == "memory" else measure_timing(spec)
    except Exception as exc:
        result = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
    Path(args[1]).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
