"""Benchmark of the operational gate, run by hand: ``python benchmarks/operational_gate.py``.

Timing overhead
---------------
What the gate's timing loop (:func:`mlgates.stages.operational.timing_worker.time_rounds`)
adds to a call: it times a function that does nothing, in rounds of two as the gate
times candidate and baseline, and reports nanoseconds per timed call next to a bare
``perf_counter_ns`` pair measured in the same run (medians of 7).

Verdict stability
-----------------
``p95_ms <= baseline + 20%`` on repeated runs of the gate (``--stability`` runs each,
a fresh timing process per run): a scikit-learn pipeline (scaler, logistic
regression, on scikit-learn's wine table) against a copy of itself, and an ensemble
of two such pipelines (twice the work) against one. Printed: how often each
passed, and the range of the candidate/baseline ratio of their 95th percentiles.

Load test
---------
The server: one ``mlgates serve`` on 127.0.0.1 for the whole run, serving a
scikit-learn pipeline (imputer, scaler, logistic regression; ``predict`` and
``predict_proba`` per request) trained on scikit-learn's breast cancer table and
saved with skops, warmed with a few requests. Every request holds one row of the
table.

Scenarios
---------
gate, 0 workers   the gate's load test as a config runs it (``[operational] load`` with
                  ``url`` naming the server and ``payload`` 1,000 one-row bodies, sent in
                  turn), through :func:`mlgates.run_gates`: one locust process
gate, 1 worker    the same with ``workers = 1``: a locust master and one worker process
gate, 2 workers   ``workers = 2``: a master and two workers sharing the users
plain locust      the reference: ``python -m locust -f <a five-line locustfile> --headless``
                  posting one fixed body with ``FastHttpUser``, no wait, the same users
                  and run time, ``--json-file``

Requests per second are requests over the time from the first to the last request
(the gate's arithmetic, :class:`mlgates.stages.operational.loadtest.LoadRun`, for
all four). The scenarios take turns, ``--repeats`` times, so that a slow spell of
the machine hits them alike; the figures are medians. Server and load generator
share the machine: on few cores they compete for it, which the load average and
the core count printed first put in context.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from verdicts import machine, table  # the data gate's harness, beside this file

USERS = 10
DURATION = 10
REPEATS = 3
PLAIN_LOCUSTFILE = """
from pathlib import Path
from locust import FastHttpUser, constant, task

BODY = Path(__file__).with_name("body.json").read_text()

class Plain(FastHttpUser):
    wait_time = constant(0)

    @task
    def predict(self):
        self.client.post("/predict", data=BODY, headers={"Content-Type": "application/json"})
"""
LOAD_CONFIG = """
[mlgates]
history = "history.jsonl"
report = ""

[operational]
load = {{ url = "{url}", payload = "bodies.json", users = {users}, workers = {workers}, \
duration = "{duration}s", checks = ["requests_per_s >= 0", "p50_ms >= 0", "p99_ms >= 0", \
"failure_ratio >= 0"] }}
"""


# --------------------------------------------------------------------------- load test


def prepare(directory: Path) -> None:
    """The model (skops), its table (Parquet) and the request bodies, in ``directory``."""
    import skops.io as sio
    from sklearn.datasets import load_breast_cancer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from mlgates.stages.operational.loadtest import write_bodies

    frame = load_breast_cancer(as_frame=True).frame
    frame.to_parquet(directory / "cancer.parquet")
    features = frame.drop(columns="target")
    model = make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression(max_iter=2000))
    sio.dump(model.fit(features, frame["target"]), directory / "cancer.skops")
    write_bodies(features, 1, directory / "bodies.json")
    body = json.loads((directory / "bodies.json").read_text(encoding="utf-8"))[0]
    (directory / "body.json").write_text(json.dumps(body), encoding="utf-8")
    (directory / "plain_locustfile.py").write_text(PLAIN_LOCUSTFILE, encoding="utf-8")


def start_server(directory: Path, processes: Any) -> str:
    """Start ``mlgates serve`` on the model, wait for it and warm it; its base URL."""
    from mlgates.stages.operational.loadtest import free_port, wait_until_healthy, warm_up

    port = free_port()
    argv = [sys.executable, "-m", "mlgates", "serve", "--model", "cancer.skops"]
    server = processes.start(
        "mlgates serve",
        [*argv, "--port", str(port)],
        directory / "server.log",
        env=os.environ,
        cwd=directory,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_healthy(server, f"{base}/health", time.monotonic() + 120)
    warm_up(f"{base}/predict", directory / "bodies.json", requests=50)
    return base


def gate_run(directory: Path, base: str, workers: int, users: int, duration: int) -> dict[str, Any]:
    """The gate's load test with ``workers`` locust workers: its figures."""
    from mlgates import load_config, run_gates

    path = directory / f"load-{workers}.toml"
    config = LOAD_CONFIG.format(
        url=f"{base}/predict", users=users, workers=workers, duration=duration
    )
    path.write_text(config, encoding="utf-8")
    started = time.perf_counter()
    record = run_gates(load_config(path))
    wall = time.perf_counter() - started
    checks = {check.metric: check for gate in record.gates for check in gate.checks}
    errors = [c.message for c in checks.values() if c.value is None]
    if errors:
        raise SystemExit(f"the gate's load test failed: {errors[0]}")
    return {
        "rps": checks["requests_per_s"].value,
        "p50_ms": checks["p50_ms"].value,
        "p99_ms": checks["p99_ms"].value,
        "failure_ratio": checks["failure_ratio"].value,
        "wall_s": wall,
    }


def plain_run(directory: Path, base: str, users: int, duration: int) -> dict[str, Any]:
    """``python -m locust`` with a locustfile of its own, read as the gate reads its run."""
    from mlgates.stages.operational.loadtest import LoadRun, Target
    from mlgates.stages.operational.settings import LoadSettings

    with tempfile.TemporaryDirectory(dir=directory) as name:
        folder = Path(name)
        argv = [sys.executable, "-m", "locust", "-f", str(directory / "plain_locustfile.py")]
        argv += ["--headless", "--only-summary", f"-u{users}", f"-r{users}", f"-t{duration}s"]
        argv += ["--host", base, "--json-file", str(folder / "stats"), "--loglevel", "WARNING"]
        started = time.perf_counter()
        subprocess.run(argv, cwd=folder, capture_output=True, check=True, timeout=duration + 120)
        wall = time.perf_counter() - started
        settings = LoadSettings(checks=(), users=users, duration=duration)
        run = LoadRun.read(folder, settings, Target(base, "plain", folder, False), duration)
    return {
        "rps": run.rate,
        "p50_ms": run.latency("p50_ms"),
        "p99_ms": run.latency("p99_ms"),
        "failure_ratio": run.measure("failure_ratio").value,
        "wall_s": wall,
    }


def load_scenarios(
    directory: Path, base: str, users: int, duration: int
) -> dict[str, Callable[[], dict[str, Any]]]:
    """Each load scenario as a function of no arguments returning its figures."""
    return {
        "gate, 0 workers": lambda: gate_run(directory, base, 0, users, duration),
        "gate, 1 worker": lambda: gate_run(directory, base, 1, users, duration),
        "gate, 2 workers": lambda: gate_run(directory, base, 2, users, duration),
        "plain locust": lambda: plain_run(directory, base, users, duration),
    }


def run_load_scenarios(
    directory: Path, repeats: int, users: int = USERS, duration: int = DURATION
) -> dict[str, list[dict[str, Any]]]:
    """Every load scenario ``repeats`` times, taking turns, against one server."""
    from mlgates.stages.operational.loadtest import Processes

    runs: dict[str, list[dict[str, Any]]] = {}
    with Processes() as processes:
        base = start_server(directory, processes)
        scenarios = load_scenarios(directory, base, users, duration)
        for repeat in range(repeats):
            for name, scenario in scenarios.items():
                runs.setdefault(name, []).append(scenario())
                print(f"  repeat {repeat + 1}: {name}: {runs[name][-1]['rps']:.0f}/s", flush=True)
    return runs


def load_table(runs: dict[str, list[dict[str, Any]]]) -> str:
    """Medians per scenario, with the ratio to plain locust's requests per second."""
    plain = statistics.median(r["rps"] for r in runs["plain locust"])
    rows: list[Sequence[object]] = []
    for name, found in runs.items():
        rps = statistics.median(r["rps"] for r in found)
        rows.append(
            [
                name,
                f"{rps:,.0f}",
                f"{rps / plain:.2f}",
                f"{statistics.median(r['p50_ms'] for r in found):.0f}",
                f"{statistics.median(r['p99_ms'] for r in found):.0f}",
                f"{max(r['failure_ratio'] for r in found):.4f}",
                f"{statistics.median(r['wall_s'] for r in found):.1f}",
            ]
        )
    header = ["scenario", "requests/s", "vs plain", "p50 ms", "p99 ms", "failures", "wall s"]
    return table(rows, header)


# --------------------------------------------------------------------------- timing


def _nothing(_: object) -> None:
    return None


def timing_overhead(rounds: int = 20_000, samples: int = 7) -> tuple[float, float, float]:
    """Nanoseconds: the median time the gate records for a call that does nothing (the
    bias timing adds to every recorded call), the wall time per timed call of the
    gate's loop (bookkeeping and retries included), and a bare clock pair."""
    from mlgates.stages.operational.timing_worker import time_rounds

    recorded, loop, bare = [], [], []
    for _ in range(samples):
        started = time.perf_counter_ns()
        timed = time_rounds(
            [_nothing, _nothing],
            [[0], [0]],
            warmup=0,
            min_calls=rounds,
            max_calls=rounds,
            budget_s=0,
        )
        loop.append((time.perf_counter_ns() - started) / (2 * rounds))
        recorded.append(statistics.median(timed.timings[0] + timed.timings[1]))
        clock = time.perf_counter_ns
        pairs = []
        for _ in range(2 * rounds):
            before = clock()
            _nothing(0)
            pairs.append(clock() - before)
        bare.append(statistics.median(pairs))
    return statistics.median(recorded), statistics.median(loop), statistics.median(bare)


def stability_project(directory: Path) -> dict[str, Path]:
    """Two configs: a pipeline against a copy of itself, and an ensemble of two against one."""
    import skops.io as sio
    from sklearn.datasets import load_wine
    from sklearn.ensemble import VotingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    wine = load_wine(as_frame=True).frame
    wine.to_parquet(directory / "wine.parquet")
    features, target = wine.drop(columns="target"), wine["target"]

    def pipeline() -> Any:
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(
            features, target
        )

    one = pipeline()
    sio.dump(one, directory / "one.skops")
    sio.dump(one, directory / "one_copy.skops")
    pair = VotingClassifier([("a", pipeline()), ("b", pipeline())], voting="soft")
    sio.dump(pair.fit(features, target), directory / "twice.skops")
    configs = {}
    for name, candidate, baseline in (
        ("itself", "one.skops", "one_copy.skops"),
        ("twice as slow", "twice.skops", "one.skops"),
    ):
        path = directory / f"{name.replace(' ', '_')}.toml"
        path.write_text(
            f"""
[performance]
candidate = "{candidate}"
baseline = "{baseline}"
data = "wine.parquet"
target = "target"
checks = []

[operational]
methods = ["predict"]
checks = ["p95_ms <= baseline + 20%"]
""",
            encoding="utf-8",
        )
        configs[name] = path
    return configs


def stability(directory: Path, runs: int) -> str:
    """Pass counts and p95 ratios of repeated gate runs, the two cases taking turns."""
    from mlgates import Status, load_config, run_gates
    from mlgates.context import Context

    configs = stability_project(directory)
    loaded = {name: load_config(path) for name, path in configs.items()}
    contexts = {name: Context(config.root) for name, config in loaded.items()}
    found: dict[str, list[tuple[bool, float, float]]] = {name: [] for name in configs}
    for _ in range(runs):
        for name, config in loaded.items():
            started = time.perf_counter()
            record = run_gates(config, contexts[name])
            check = next(c for c in record.checks if c.selector == "predict:1")
            found[name].append(
                (
                    check.status is Status.PASS,
                    check.value / check.anchor_value,
                    time.perf_counter() - started,
                )
            )
    rows = []
    for name, results in found.items():
        ratios = sorted(ratio for _, ratio, _ in results)
        rows.append(
            [
                name,
                f"{sum(passed for passed, _, _ in results)} of {runs}",
                f"{ratios[0]:.3f}",
                f"{statistics.median(ratios):.3f}",
                f"{ratios[-1]:.3f}",
                f"{statistics.median(t for _, _, t in results):.1f} s",
            ]
        )
    return table(rows, ["candidate vs baseline", "passed", "min ratio", "median", "max", "run"])


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--users", type=int, default=USERS)
    parser.add_argument("--duration", type=int, default=DURATION, help="seconds per run")
    parser.add_argument("--stability", type=int, default=20, help="gate runs per case")
    args = parser.parse_args()
    print(machine("pandas", "sklearn", "locust", "uvicorn"))
    recorded, loop, bare = timing_overhead()
    print(
        f"\ntiming overhead: a call that does nothing is recorded as {recorded:.0f} ns "
        f"(a bare clock pair around it: {bare:.0f} ns, x{recorded / bare:.2f}); the loop "
        f"spends {loop:.0f} ns per timed call in all, retries of stalled calls included"
    )
    with tempfile.TemporaryDirectory(prefix="mlgates-bench-") as name:
        directory = Path(name)
        print(f"\np95_ms <= baseline + 20%, {args.stability} gate runs per case, taking turns")
        print(stability(directory, args.stability))
        prepare(directory)
        print(
            f"\nload test: {args.users} users, {args.duration} s per run, one-row requests to "
            f"mlgates serve; medians of {args.repeats} runs"
        )
        runs = run_load_scenarios(directory, args.repeats, args.users, args.duration)
        print(load_table(runs))


if __name__ == "__main__":
    main()
