"""Benchmark of the history, run by hand: ``python benchmarks/history.py``.

Records
-------
Two real runs, made by the ``mlgates`` command in a temporary directory:

example        the bundled example (``examples/credit``), data, performance and
               fairness stages (126 checks with the operational stage; without it here,
               to keep the run short)
2,000 columns  ``mlgates init`` + ``mlgates run`` on a generated table of 1,500 numeric
               and 500 categorical columns (2,000 reference and 1,000 current rows, 30
               columns shifted): about 6,500 checks

For each: the size of the whole record (``--json``, compact separators) and of its
stored form (:func:`mlgates.compact.stored_form`), and the time to compact it.

Stores
------
A history of ``--runs`` (2,000) copies of the example record, each with its own id,
time and jittered values, in each store: median append time, reading the last 60
runs (what the report reads), reading every run (what ``previous``/``best`` need),
``mlgates report`` of the latest run as a command (Python's start included, against
``mlgates --version`` as the reference), pruning to half, and the file size.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from verdicts import machine, table  # the data gate's harness, beside this file

from mlgates.compact import stored_form
from mlgates.core import RunRecord
from mlgates.history import open_history

ROOT = Path(__file__).resolve().parents[1]
MLGATES = [sys.executable, "-m", "mlgates"]


def example_record(work: Path) -> RunRecord:
    """The example's data, performance and fairness stages, run for real."""
    project = work / "credit"
    shutil.copytree(
        ROOT / "examples" / "credit", project, ignore=shutil.ignore_patterns(".mlgates")
    )
    stages = [arg for stage in ("data", "performance", "fairness") for arg in ("--stage", stage)]
    return _run(project, ["--config", "mlgates.toml", *stages])


def wide_record(work: Path) -> RunRecord:
    """A 2,000-column table through ``mlgates init`` and ``mlgates run``."""
    import numpy as np
    import pandas as pd

    project = work / "wide"
    project.mkdir()
    rng = np.random.default_rng(0)

    def frame(rows: int, shift: float) -> pd.DataFrame:
        columns = {
            f"num_{i}": rng.normal(shift if i % 50 == 0 else 0.0, 1, rows) for i in range(1500)
        }
        columns |= {f"cat_{i}": rng.choice(list("abcdefgh"), rows) for i in range(500)}
        return pd.DataFrame(columns)

    frame(2000, 0.0).to_parquet(project / "reference.parquet")
    frame(1000, 0.5).to_parquet(project / "current.parquet")
    subprocess.run(
        [*MLGATES, "init", "-r", "reference.parquet", "--current", "current.parquet"],
        cwd=project,
        check=True,
        capture_output=True,
    )
    return _run(project, [])


def _run(project: Path, arguments: list[str]) -> RunRecord:
    done = subprocess.run(
        [*MLGATES, "run", *arguments, "--no-history", "--json", "run.json", "--report", "r.html"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    if done.returncode not in (0, 1):
        raise SystemExit(f"mlgates run failed ({done.returncode}): {done.stderr}")
    return RunRecord.from_dict(json.loads((project / "run.json").read_text()))


def record_sizes(name: str, record: RunRecord) -> list[object]:
    whole = len(json.dumps(record.to_dict(), separators=(",", ":"), allow_nan=False))
    times = []
    for _ in range(5):
        started = time.perf_counter()
        stored = stored_form(record)
        times.append(time.perf_counter() - started)
    size = len(json.dumps(stored, separators=(",", ":"), allow_nan=False))
    return [
        name,
        len(record.checks),
        f"{whole / 1e6:.2f} MB",
        f"{size / 1e6:.3f} MB",
        f"{whole / size:.1f}x",
        f"{statistics.median(times) * 1e3:.0f} ms",
    ]


def copies(record: RunRecord, count: int) -> list[RunRecord]:
    """``count`` runs like ``record``: own ids and times, values jittered by up to 2%."""
    rng = random.Random(0)
    runs = []
    for index in range(count):
        gates = tuple(
            dataclasses.replace(
                gate,
                checks=tuple(
                    dataclasses.replace(c, value=c.value * (1 + rng.uniform(-0.02, 0.02)))
                    if c.value is not None
                    else c
                    for c in gate.checks
                ),
            )
            for gate in record.gates
        )
        stamp = f"2026-{1 + index // 200 % 12:02d}-{1 + index % 28:02d}T{index % 24:02d}:00:00.000Z"
        runs.append(
            dataclasses.replace(
                record, run_id=f"{index:08x}{'0' * 24}", started_at=stamp, gates=gates
            )
        )
    return runs


def store_figures(uri: str, work: Path, runs: list[RunRecord]) -> list[object]:
    store = open_history(uri, root=work)
    appends = []
    for run in runs:
        started = time.perf_counter()
        store.append(run)
        appends.append(time.perf_counter() - started)
    last = _timed(lambda: store.records(last=60))
    command = [*MLGATES, "report", "--history", uri, "-o", str(work / "report.html")]
    report = _timed(lambda: subprocess.run(command, cwd=work, check=True, capture_output=True))
    report_size = (work / "report.html").stat().st_size
    every = _timed(store.records, repeats=1)
    size = store.path.stat().st_size
    pruned = _timed(lambda: store.prune(len(runs) // 2), repeats=1)
    return [
        uri.split(":")[0] if "://" in uri else "jsonl",
        f"{statistics.median(appends) * 1e3:.1f} ms",
        f"{last * 1e3:.0f} ms",
        f"{report:.2f} s",
        f"{report_size / 1e3:.0f} KB",
        f"{every:.2f} s",
        f"{pruned:.2f} s",
        f"{size / 1e6:.1f} MB",
        f"{size / len(runs) / 1e3:.1f} KB",
    ]


def _timed(action, repeats: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000, help="runs in the benchmark history")
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        started = time.perf_counter()
        example, wide = example_record(work), wide_record(work)
        print(f"(two real runs in {time.perf_counter() - started:.0f} s)\n")
        rows = [record_sizes("example", example), record_sizes("2,000 columns", wide)]
        header = ["record", "checks", "whole", "stored", "ratio", "compacting"]
        print(table(rows, header))
        runs = copies(example, args.runs)
        print(f"\nA history of {args.runs:,} example runs:")
        rows = [store_figures(uri, work, runs) for uri in ("h.jsonl", "sqlite:///h.db")]
        header = [
            "store", "append", "last 60", "mlgates report", "HTML", "all runs", "prune half",
            "size", "per run",
        ]  # fmt: skip
        print(table(rows, header))
        startup = _timed(
            lambda: subprocess.run([*MLGATES, "--version"], check=True, capture_output=True)
        )
        print(f"(Python start and 'mlgates --version' alone: {startup:.2f} s)")


if __name__ == "__main__":
    main()
