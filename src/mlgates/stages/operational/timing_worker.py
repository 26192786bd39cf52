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
  ``min_calls`` rounds, at most ``max_calls``), then ``repeats - 1`` more passes
  over the same rounds; each call keeps its fastest pass. Interleaving is what makes
  ``p95_ms <= baseline + 20%`` hold on any machine: a noisy neighbour slows
  both models alike.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

Call = Callable[[Any], Any]
RETRIES = 10
"""Extra passes over the rounds that stay slow after ``repeats`` passes."""
SLOW = 1.5
"""A round is slow when a call took more than this many times its median."""


def time_rounds(
    calls: Sequence[Call],
    inputs: Sequence[Sequence[Any]],
    *,
    warmup: int,
    min_calls: int,
    max_calls: int,
    budget_s: float,
    repeats: int = 1,
) -> list[list[int]]:
    """Nanoseconds of each function on each of its inputs, timed in interleaved rounds.

    ``inputs[i]`` are the arguments ``calls[i]`` cycles through; round ``r`` gives
    every function its ``r``-th input, the first function first in even rounds and
    last in odd ones. The first pass runs rounds until its share of the budget is
    spent (at least ``min_calls``, at most ``max_calls``); ``repeats - 1`` more
    passes time the same rounds again, then rounds still over :data:`SLOW` times a
    median are timed up to :data:`RETRIES` more times; each round keeps each
    function's fastest time. A neighbour on a shared machine stalls a stretch of
    calls, which another pass rarely meets on the same round; the model's own
    cost on an input (a slow input stays slow) is the same in every pass.
    """
    for index in range(warmup):
        for call, given in zip(calls, inputs, strict=True):
            call(given[index % len(given)])
    gc.collect()
    clock = time.perf_counter_ns
    timings: list[list[int]] = [[] for _ in calls]
    deadline = clock() + int(budget_s / repeats * 1e9)
    rounds = 0
    while rounds < max_calls and (rounds < min_calls or clock() < deadline):
        for which, taken in _round(calls, inputs, rounds, clock):
            timings[which].append(taken)
        rounds += 1
    for again in range(1, repeats):
        _retime(calls, inputs, timings, range(rounds), again, clock)
    for again in range(repeats, repeats + RETRIES):
        slow = _slow_rounds(timings)
        if not slow:
            break
        _retime(calls, inputs, timings, slow, again, clock)
    return timings


def _retime(
    calls: Sequence[Call],
    inputs: Sequence[Sequence[Any]],
    timings: list[list[int]],
    rounds: Sequence[int],
    again: int,
    clock: Callable[[], int],
) -> None:
    """Time ``rounds`` once more, keeping each call's fastest time."""
    for index in rounds:
        for which, taken in _round(calls, inputs, index + again, clock, index):
            timings[which][index] = min(timings[which][index], taken)


def _slow_rounds(timings: list[list[int]]) -> list[int]:
    """Rounds where some function took over :data:`SLOW` times its median."""
    slow: set[int] = set()
    for taken in timings:
        ordered = sorted(taken)
        limit = SLOW * ordered[len(ordered) // 2] if ordered else 0
        slow.update(index for index, value in enumerate(taken) if value > limit)
    return sorted(slow)


def _round(
    calls: Sequence[Call],
    inputs: Sequence[Sequence[Any]],
    turn: int,
    clock: Callable[[], int],
    index: int | None = None,
) -> list[tuple[int, int]]:
    """Each function called once on its input ``index`` (default ``turn``), the order
    flipping with ``turn``'s parity: (which, nanoseconds) per call."""
    position = turn if index is None else index
    order = range(len(calls)) if turn % 2 == 0 else range(len(calls) - 1, -1, -1)
    found = []
    for which in order:
        given = inputs[which][position % len(inputs[which])]
        started = clock()
        calls[which](given)
        found.append((which, clock() - started))
    return found


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


def _batches(rows: Any, features: Sequence[str], size: int, limit: int = 256) -> list[Any]:
    """Up to ``limit`` distinct batches of ``size`` rows, each a frame of ``features``."""
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
    gc.collect()
    exact = _reset_peak()
    before = _resident_bytes()
    started = time.perf_counter()
    model = _load(entry, spec["trusted"])
    load_s = time.perf_counter() - started
    batch = _batches(rows, entry["features"], largest, limit=1)[0]
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
    for size in spec["batch_sizes"]:
        inputs = [_batches(rows, entry["features"], size) for entry in spec["models"]]
        for method in spec["methods"]:
            calls = [getattr(model, method) for model in models]
            timings = time_rounds(
                calls,
                inputs,
                warmup=spec["warmup"],
                min_calls=spec["min_calls"],
                max_calls=spec["max_calls"],
                budget_s=spec["time_budget"],
                repeats=spec["repeats"],
            )
            for entry, taken in zip(spec["models"], timings, strict=True):
                found[entry["name"]][f"{method}:{size}"] = taken
    return {"calls": found}


def main(argv: Sequence[str] | None = None) -> int:
    """Read the spec named on the command line, measure, print JSON; errors go to stderr."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print(
            "usage: python -m mlgates.stages.operational.timing_worker SPEC.json", file=sys.stderr
        )
        return 2
    spec = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    try:
        result = measure_memory(spec) if spec["mode"] == "memory" else measure_timing(spec)
    except Exception as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        return 0
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
