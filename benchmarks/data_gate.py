"""Benchmark of the data gate on generated data, run by hand: ``python benchmarks/data_gate.py``.

The data: 20 columns (12 numeric, 5 categorical, 2 numeric with nulls, 1 label)
at 1M and 5M rows, written to Parquet in a temporary directory. Each scenario runs
in its own process (so peak memory is its own) after the data is loaded, and is
repeated, the scenarios taking turns so that a slow spell of the machine hits
them alike; the figures are medians. In the same run, and on the same schema
checks, it times the gate's schema validation (fast path, and pandera alone),
pandera's own validation and Great Expectations, so ratios are measured against
references on the same machine at the same moment.

Scenarios
---------
gate-cold       the whole data gate (columns, schema, missing values, drift of every
                column, drift share, row count) with the reference profiled in the run
gate-warm       the same with the reference profile already cached (the usual CI run)
pandera         pandera's lazy validation of the same schema, alone
gx              Great Expectations 1.x running the same schema checks as expectations
drift           profiling the current data against the reference and deciding drift
schema-fast     the gate's schema validation: reading the schema file and
                ``validate_frame`` (vectorised rules, pandera for the rest)
schema-pandera  the same report computed by pandera alone
gate-stream     the data gate without a schema on Parquet files read batch by batch
                (reference profiled in two passes, current data summarised in one):
                the large-file path, timed with reading; ``--rows 1000000 5000000
                20000000 --scenarios gate-stream`` shows its peak memory flat in rows

The files are written one row group (at most 1M rows) at a time, so generating
20M rows stays within memory too.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SCENARIOS = (
    "gate-cold",
    "gate-warm",
    "pandera",
    "gx",
    "drift",
    "schema-fast",
    "schema-pandera",
    "gate-stream",
)
_IN_MEMORY_ROWS = 5_000_000  # above this only gate-stream runs
_ROW_GROUP = 1_000_000
_FILL_CACHE = "fill-cache"


def generate(rows: int, seed: int) -> pd.DataFrame:
    """20 columns: 12 numeric, 5 categorical, 2 numeric with nulls, 1 label."""
    rng = np.random.default_rng(seed)
    shape = np.random.default_rng(0)  # the same category shares in every sample
    data: dict[str, Any] = {}
    for index in range(12):
        if index % 3 == 0:
            data[f"num_{index}"] = rng.lognormal(mean=3.0, sigma=0.6, size=rows)
        elif index % 3 == 1:
            data[f"num_{index}"] = rng.normal(loc=index - 6, scale=3.0, size=rows)
        else:
            data[f"num_{index}"] = rng.gamma(shape=2.0, scale=3.0, size=rows)
    for index, width in enumerate((3, 5, 8, 12, 20)):
        labels = np.array([f"level_{index}_{k}" for k in range(width)], dtype=object)
        weights = shape.dirichlet(np.ones(width) * 3)
        data[f"cat_{index}"] = pd.Series(
            labels[rng.choice(width, size=rows, p=weights)], dtype="str"
        )
    for index in range(2):
        values = rng.normal(size=rows)
        values[rng.random(rows) < 0.03] = np.nan
        data[f"nullable_{index}"] = values
    data["label"] = (rng.random(rows) < 0.2).astype("int64")
    return pd.DataFrame(data)


CONFIG = """
[mlgates]
history = "history.jsonl"
report = ""

[data]
reference = "reference.parquet"
current = "current.parquet"
schema = "schema.yaml"
checks = ["missing_share <= reference + 0.05", "drift_share <= 0.25", "row_count >= 1000"]
"""


STREAM_CONFIG = """
[mlgates]
history = "history.jsonl"
report = ""

[data]
reference = "reference.parquet"
current = "current.parquet"
checks = ["missing_share <= reference + 0.05", "drift_share <= 0.25", "row_count >= 1000"]
"""


def write_parquet(path: Path, rows: int, seed: int) -> None:
    """``rows`` generated rows, one row group of at most 1M rows at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    for index, start in enumerate(range(0, rows, _ROW_GROUP)):
        chunk = generate(min(_ROW_GROUP, rows - start), seed=seed + 1000 * index)
        table = pa.Table.from_pandas(chunk, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=_ROW_GROUP)
    if writer is not None:
        writer.close()


def prepare(directory: Path, rows: int) -> None:
    """Write reference, current, schema, configs and GX suite for ``rows`` rows."""
    from mlgates.stages.data.gx_suite import suite_document
    from mlgates.stages.data.schema import write_schema
    from mlgates.stages.data.schema_inference import infer_schema

    write_parquet(directory / "reference.parquet", rows, seed=1)
    write_parquet(directory / "current.parquet", rows, seed=2)
    (directory / "stream.toml").write_text(STREAM_CONFIG)
    if rows > _IN_MEMORY_ROWS:
        return
    reference = pd.read_parquet(directory / "reference.parquet")
    schema = infer_schema(reference)
    write_schema(schema, directory / "schema.yaml")
    (directory / "mlgates.toml").write_text(CONFIG)
    suite = suite_document("benchmark", schema_as_expectations(schema))
    (directory / "suite.json").write_text(json.dumps(suite))


def schema_as_expectations(schema: Any) -> list[tuple[str, dict[str, object]]]:
    """The pandera schema's checks as the equivalent GX expectations."""
    expectations: list[tuple[str, dict[str, object]]] = []
    for name, column in schema.columns.items():
        expectations.append(("expect_column_to_exist", {"column": name}))
        if not column.nullable:
            expectations.append(("expect_column_values_to_not_be_null", {"column": name}))
        for check in column.checks:
            stats = check.statistics
            if check.name == "in_range":
                expectations.append(
                    (
                        "expect_column_values_to_be_between",
                        {
                            "column": name,
                            "min_value": stats["min_value"],
                            "max_value": stats["max_value"],
                        },
                    )
                )
            elif check.name == "isin":
                expectations.append(
                    (
                        "expect_column_values_to_be_in_set",
                        {"column": name, "value_set": list(stats["allowed_values"])},
                    )
                )
    return expectations


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB.

    Linux's ``VmHWM``: ``ru_maxrss`` survives fork and exec, so a child would
    report the parent's peak (the data generation) when that is higher.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(directory: Path, scenario: str) -> dict[str, float]:
    """Run one scenario once, in this process, after loading the data."""
    from mlgates.config import load_config
    from mlgates.context import Context

    imports = time.perf_counter()
    import pandera.pandas  # noqa: F401  # imports are timed apart from the work
    import scipy.stats  # noqa: F401

    import mlgates.runner
    import mlgates.stages.data.schema
    import mlgates.stats.drift  # noqa: F401

    if scenario == "gx":
        import great_expectations  # noqa: F401
    import_s = time.perf_counter() - imports

    if scenario == "gate-stream":
        return stream_child(directory)
    config = load_config(directory / "mlgates.toml")
    data = config.stages["data"]
    cache = directory / "cache"
    cached = scenario in ("gate-warm", _FILL_CACHE)
    context = Context(directory, cache_dir=cache if cached else None)
    started = time.perf_counter()
    current = context.frame(data.current)
    context.frame(data.reference)
    load_s = time.perf_counter() - started
    loaded_rss = peak_rss_mb()
    started = time.perf_counter()
    if scenario in ("gate-cold", "gate-warm", _FILL_CACHE):
        from mlgates.runner import plan_gates, run_stage

        plan = plan_gates(config, context)["data"]
        gate = run_stage(config, context, "data", plan)
        bad = [c.id for c in gate.checks if c.blocking]
        if bad:
            raise SystemExit(f"clean benchmark data blocked: {bad}")
    elif scenario == "pandera":
        from mlgates.stages.data.schema import read_schema

        read_schema(data.schema).validate(current, lazy=True)
    elif scenario in ("schema-fast", "schema-pandera"):
        from mlgates.stages.data import schema

        validate = (
            schema.validate_frame if scenario == "schema-fast" else schema._validate_with_pandera
        )
        report = validate(current, schema.read_schema(data.schema))
        if not report.ok:
            raise SystemExit(f"clean benchmark data failed the schema: {report.summary()}")
    elif scenario == "gx":
        from mlgates.stages.data.gx_suite import load_suite, run_suite

        outcomes = run_suite(current, load_suite(directory / "suite.json"))
        assert all(o.success for o in outcomes), [o for o in outcomes if not o.success]
    elif scenario == "drift":
        from mlgates.stats.drift import assess_drift
        from mlgates.stats.profile import profile_dataset, profile_dataset_against

        reference = profile_dataset(context.frame(data.reference))
        started = time.perf_counter()
        profile = profile_dataset_against(reference, current)
        for column, ref in reference.columns.items():
            assess_drift(ref, profile.columns[column], alpha=0.01 / len(reference.columns))
    elapsed = time.perf_counter() - started
    return {
        "seconds": elapsed,
        "load_s": load_s,
        "import_s": import_s,
        "peak_rss_mb": peak_rss_mb(),
        "after_load_rss_mb": loaded_rss,
    }


def stream_child(directory: Path) -> dict[str, float]:
    """The whole data gate on Parquet files read batch by batch, reading included."""
    import pyarrow.parquet as pq

    from mlgates.config import load_config
    from mlgates.context import Context
    from mlgates.runner import plan_gates, run_stage
    from mlgates.stages.data import streamed

    imports = time.perf_counter()
    import scipy.stats  # noqa: F401

    import mlgates.stats.drift  # noqa: F401

    import_s = time.perf_counter() - imports
    rows = pq.ParquetFile(directory / "current.parquet").metadata.num_rows
    streamed.STREAM_ROWS = 0  # every size takes the large-file path, to compare them
    before = peak_rss_mb()
    started = time.perf_counter()
    config = load_config(directory / "stream.toml")
    context = Context(directory, cache_dir=None)
    plan = plan_gates(config, context)["data"]
    gate = run_stage(config, context, "data", plan)
    bad = [c.id for c in gate.checks if c.blocking]
    if bad:
        raise SystemExit(f"clean benchmark data blocked: {bad}")
    elapsed = time.perf_counter() - started
    return {
        "seconds": elapsed,
        "load_s": 0.0,
        "import_s": import_s,
        "peak_rss_mb": peak_rss_mb(),
        "after_load_rss_mb": before,
        "s_per_million_rows": elapsed / (rows / 1e6),
    }


def run_child(directory: Path, scenario: str) -> dict[str, float]:
    completed = subprocess.run(
        [sys.executable, __file__, "--child", scenario, "--directory", str(directory)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "GX_ANALYTICS_ENABLED": "false"},
    )
    if completed.returncode != 0:
        raise SystemExit(f"{scenario} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=SCENARIOS)
    parser.add_argument("--child", choices=(*SCENARIOS, _FILL_CACHE), help=argparse.SUPPRESS)
    parser.add_argument("--directory", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.directory, args.child)))
        return
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; medians of {args.repeat}")
    for rows in args.rows:
        with tempfile.TemporaryDirectory() as name:
            directory = Path(name)
            started = time.perf_counter()
            prepare(directory, rows)
            print(
                f"\n{rows:,} rows x 20 columns (generated in {time.perf_counter() - started:.1f} s)"
            )
            print(
                f"{'scenario':<14} {'median s':>9} {'min s':>7} {'peak RSS MiB':>13} "
                f"{'after load':>11} {'load s':>7} {'import s':>9}"
            )
            medians = {}
            scenarios = args.scenarios
            if rows > _IN_MEMORY_ROWS:
                scenarios = [s for s in scenarios if s == "gate-stream"]
            for scenario, runs in measure(directory, scenarios, args.repeat).items():
                seconds = [r["seconds"] for r in runs]
                medians[scenario] = statistics.median(seconds)
                print(
                    f"{scenario:<14} {medians[scenario]:>9.3f} {min(seconds):>7.3f} "
                    f"{max(r['peak_rss_mb'] for r in runs):>13.0f} "
                    f"{statistics.median(r['after_load_rss_mb'] for r in runs):>11.0f} "
                    f"{statistics.median(r['load_s'] for r in runs):>7.2f} "
                    f"{statistics.median(r['import_s'] for r in runs):>9.2f}"
                )
                if scenario == "gate-stream":
                    per = statistics.median(r["s_per_million_rows"] for r in runs)
                    print(f"{'':<14} {per:>9.3f} s per million rows (reading included)")
            if "pandera" in medians and "gx" in medians:
                print(
                    f"gx / pandera (the same schema checks): "
                    f"{medians['gx'] / medians['pandera']:.1f}x"
                )
            for gate in ("gate-cold", "gate-warm"):
                if gate in medians and "gx" in medians:
                    print(f"gx / {gate}: {medians['gx'] / medians[gate]:.1f}x")
                if gate in medians and "pandera" in medians:
                    print(f"{gate} / pandera: {medians[gate] / medians['pandera']:.1f}x")
            print_schema_ratios(medians)


def measure(
    directory: Path, scenarios: list[str], repeat: int
) -> dict[str, list[dict[str, float]]]:
    """Run every scenario ``repeat`` times, the scenarios taking turns."""
    if "gate-warm" in scenarios:  # an earlier run fills the profile cache
        run_child(directory, _FILL_CACHE)
    runs: dict[str, list[dict[str, float]]] = {scenario: [] for scenario in scenarios}
    for _ in range(repeat):
        for scenario in scenarios:
            runs[scenario].append(run_child(directory, scenario))
    return runs


def print_schema_ratios(medians: dict[str, float]) -> None:
    """How much faster the schema fast path is than each reference timed in the run."""
    if "schema-fast" not in medians:
        return
    for reference in ("gx", "schema-pandera", "pandera"):
        if reference in medians:
            ratio = medians[reference] / medians["schema-fast"]
            print(f"{reference} / schema-fast (the same schema checks): {ratio:.1f}x")


if __name__ == "__main__":
    main()
