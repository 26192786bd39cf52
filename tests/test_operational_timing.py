"""The operational gate's in-process checks: real models timed in a real worker process.

The models are scikit-learn pipelines and forests on scikit-learn's digits.
The model twice as slow is a soft-voting ensemble of two copies of the
baseline: it does the baseline's work twice, and nothing else differs.
"""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits, load_wine
from sklearn.ensemble import RandomForestClassifier, VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlgates import Status, load_config, run_gates
from mlgates.cli import main
from mlgates.context import Context
from mlgates.stages.operational.latency import quantile_bounds, rounds_needed
from mlgates.stages.operational.timing_worker import time_rounds

skops_io = pytest.importorskip("skops.io")


def _digits() -> pd.DataFrame:
    digits = load_digits(as_frame=True)
    frame = digits.frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _wine() -> pd.DataFrame:
    return load_wine(as_frame=True).frame


def _forest(frame: pd.DataFrame, trees: int) -> RandomForestClassifier:
    """A forest of ``trees`` trees; prediction time grows with their number."""
    model = RandomForestClassifier(n_estimators=trees, max_depth=10, random_state=0)
    return model.fit(frame.drop(columns="target"), frame["target"])


def _scaled_logistic(frame: pd.DataFrame) -> object:
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    return model.fit(frame.drop(columns="target"), frame["target"])


def _twice(frame: pd.DataFrame) -> VotingClassifier:
    """Two copies of the scaled logistic regression, averaged: twice its work."""
    pair = [("a", _scaled_logistic(frame)), ("b", _scaled_logistic(frame))]
    model = VotingClassifier(pair, voting="soft")
    return model.fit(frame.drop(columns="target"), frame["target"])


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Forests on digits (one saved twice, one with twice the trees); logistic
    regressions on wine (one saved twice, and an ensemble of two)."""
    root = tmp_path_factory.mktemp("timing")
    frame = _digits()
    frame.to_parquet(root / "digits.parquet")
    slow = _forest(frame, 20)
    skops_io.dump(slow, root / "slow.skops")
    skops_io.dump(slow, root / "slow_copy.skops")
    skops_io.dump(_forest(frame, 40), root / "slower.skops")
    wine = _wine()
    wine.to_parquet(root / "wine.parquet")
    logistic = _scaled_logistic(wine)
    skops_io.dump(logistic, root / "logistic.skops")
    skops_io.dump(logistic, root / "logistic_copy.skops")
    skops_io.dump(_twice(wine), root / "logistic_twice.skops")
    return root


def _config(
    root: Path,
    name: str,
    candidate: str,
    baseline: str,
    operational: str,
    data: str = "digits.parquet",
) -> Path:
    path = root / name
    path.write_text(
        textwrap.dedent(
            f"""
            [mlgates]
            history = "{name}.history.jsonl"

            [performance]
            candidate = "{candidate}"
            baseline = "{baseline}"
            data = "{data}"
            target = "target"
            checks = []

            [operational]
            methods = ["predict"]
            """
        )
        + textwrap.dedent(operational),
        encoding="utf-8",
    )
    return path


def _results(record: object) -> dict[str, object]:
    return {check.id: check for gate in record.gates for check in gate.checks}  # type: ignore[attr-defined]


def test_a_slow_model_fails_a_tight_budget_and_passes_a_loose_one(project: Path) -> None:
    path = _config(
        project,
        "budget.toml",
        "slow.skops",
        "slow_copy.skops",
        """
        batch_sizes = [1, 32]
        time_budget = "0.3s"
        min_calls = 100
        checks = [
          "p95_ms[predict:1] <= 0.01",
          "p99_ms[predict:1] <= 10000",
          "p50_ms[predict:32] <= 0.01 @95%",
          "throughput_rps >= 1",
          "peak_memory_mb <= 4096",
          "model_size_mb <= 1000",
        ]
        """,
    )
    results = _results(run_gates(load_config(path)))
    assert results["operational::p95_ms[predict:1]"].status is Status.FAIL
    assert "p95_ms[predict:1]" in results["operational::p95_ms[predict:1]"].message
    assert results["operational::p99_ms[predict:1]"].status is Status.PASS
    tight = results["operational::p50_ms[predict:32]"]
    assert tight.status is Status.FAIL and "95%" in tight.message
    low, high = tight.interval
    assert 0 < low <= tight.value <= high
    throughput = results["operational::throughput_rps[predict:32]"]
    assert throughput.status is Status.PASS and throughput.value > 1
    # the call's times for the report: both models, as the checks measure them
    latency = throughput.details["latency_ms"]
    assert set(latency) == {"candidate", "baseline", "calls"}
    assert latency["calls"] == throughput.details["calls"] >= 100
    for model in ("candidate", "baseline"):
        times = latency[model]
        assert set(times) == {"p50", "p95", "p99", "max", "mean"}
        assert 0 < times["p50"] <= times["p95"] <= times["p99"] <= times["max"]
    assert latency["candidate"]["mean"] == pytest.approx(32_000 / throughput.value, rel=1e-3)
    assert latency["candidate"]["p50"] == float(f"{tight.value:.4g}")
    assert tight.details["latency_ms"] == latency
    one = results["operational::p95_ms[predict:1]"].details["latency_ms"]
    assert one["candidate"]["p95"] == float(
        f"{results['operational::p95_ms[predict:1]'].value:.4g}"
    )
    assert results["operational::peak_memory_mb"].status is Status.PASS
    assert results["operational::peak_memory_mb"].value > 0.5  # 20 trees of depth 10
    size = results["operational::model_size_mb"]
    assert size.value == pytest.approx((project / "slow.skops").stat().st_size / 2**20)


def _repeat(path: Path, times: int) -> list[object]:
    config = load_config(path)
    context = Context(config.root)
    return [run_gates(config, context) for _ in range(times)]


@pytest.mark.slow
def test_the_same_model_against_itself_passes_in_20_of_20_runs(project: Path) -> None:
    path = _config(
        project,
        "itself.toml",
        "logistic.skops",
        "logistic_copy.skops",
        """
        time_budget = "1s"
        checks = ["p95_ms <= baseline + 20%"]
        """,
        data="wine.parquet",
    )
    records = _repeat(path, 20)
    ratios = []
    for record in records:
        check = _results(record)["operational::p95_ms[predict:1]~baseline"]
        ratios.append(check.value / check.anchor_value)
        assert check.status is Status.PASS, check.message
    assert max(ratios) < 1.2 and min(ratios) > 1 / 1.2
    print(f"p95 ratio of a model to itself over 20 runs: {min(ratios):.3f} .. {max(ratios):.3f}")


@pytest.mark.slow
def test_a_model_twice_as_slow_fails_in_20_of_20_runs(project: Path) -> None:
    path = _config(
        project,
        "twice.toml",
        "logistic_twice.skops",
        "logistic.skops",
        """
        time_budget = "1s"
        checks = ["p95_ms <= baseline + 20%"]
        """,
        data="wine.parquet",
    )
    ratios = []
    for record in _repeat(path, 20):
        check = _results(record)["operational::p95_ms[predict:1]~baseline"]
        ratios.append(check.value / check.anchor_value)
        assert check.status is Status.FAIL, check.message
        assert "predict:1" in check.message
    assert min(ratios) > 1.5
    print(
        f"p95 ratio of a model twice as slow over 20 runs: {min(ratios):.3f} .. {max(ratios):.3f}"
    )


def test_a_baseline_bound_at_95_percent_is_decided_on_the_paired_difference(
    project: Path,
) -> None:
    path = _config(
        project,
        "paired.toml",
        "slower.skops",
        "slow.skops",
        """
        time_budget = "0.1s"
        min_calls = 150
        checks = [
          "p50_ms[predict:1] <= baseline + 20% @95%",
          "mean_ms[predict:1] <= baseline + 500%",
          "p95_ms[predict:1] <= baseline + 500%",
          "p99_ms[predict:1] <= baseline + 500% @95%",
        ]
        """,
    )
    record = run_gates(load_config(path))
    json.dumps(record.to_dict(), allow_nan=False)  # the record as it is written
    results = _results(record)
    paired = results["operational::p50_ms[predict:1]~baseline"]
    assert paired.status is Status.FAIL
    low, high = paired.interval
    assert 0.2 < low <= high  # the relative difference, well above +20%
    assert results["operational::mean_ms[predict:1]~baseline"].status is Status.PASS
    # the times the report draws are those the checks judged, rounded
    p95 = results["operational::p95_ms[predict:1]~baseline"]
    latency = p95.details["latency_ms"]
    assert latency["candidate"]["p95"] == float(f"{p95.value:.4g}")
    assert latency["baseline"]["p95"] == float(f"{p95.anchor_value:.4g}")
    assert latency["baseline"]["p50"] == float(f"{paired.anchor_value:.4g}")
    assert latency["calls"] == p95.details["calls"] >= 150
    # a 99th percentile is shown whether or not the calls are enough to bound it
    p99 = results["operational::p99_ms[predict:1]~baseline"]
    assert p99.details["latency_ms"] == latency
    if p99.status is Status.INCONCLUSIVE:
        assert "too few" in p99.message and p99.value is None
    assert latency["candidate"]["p99"] >= latency["candidate"]["p95"]


def test_the_cli_exits_1_naming_the_call_that_is_too_slow(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _config(
        project,
        "cli.toml",
        "slower.skops",
        "slow.skops",
        """
        time_budget = "0.1s"
        min_calls = 100
        checks = ["p50_ms <= baseline + 10%"]
        """,
    )  # the median, not a p99 of 100 calls: a slower model must fail it on a busy machine too
    assert main(["run", "--config", str(path)]) == 1
    out = capsys.readouterr().out
    assert "operational::p50_ms[predict:1]~baseline" in out
    assert "calls each, interleaved" in out


def test_rounds_interleave_every_function_and_respect_the_bounds() -> None:
    order: list[str] = []

    def first(item: int) -> None:
        order.append("a")

    def second(item: int) -> None:
        order.append("b")

    timed = time_rounds(
        [first, second], [[1, 2], [3]], warmup=3, min_calls=10, max_calls=10, budget_s=5
    )
    assert [len(t) for t in timed.timings] == [10, 10]
    counted = order[6:]  # after the warm-up calls, which are not recorded
    assert counted[:4] == ["a", "b", "b", "a"]  # who goes first alternates
    assert all(t >= 0 for t in timed.timings[0])
    quick = time_rounds([first], [[1]], warmup=0, min_calls=5, max_calls=100_000, budget_s=0)
    assert len(quick.timings[0]) == 5


def _busy(milliseconds: float) -> None:
    """Work on the processor for ``milliseconds``."""
    until = time.perf_counter() + milliseconds / 1000
    while time.perf_counter() < until:
        pass


def test_a_tail_the_model_spends_on_the_processor_is_kept() -> None:
    """One input in ten costs 5 ms of processor time: that is the model's own tail,
    and its 95th percentile shows it. The cost goes with the input, as a model's
    does, so a slow call the busy machine preempted and that is timed again is as
    slow again (a call counter would make the second attempt a fast one)."""

    def jumpy(row: int) -> None:
        _busy(5 if row == 9 else 0.3)

    timed = time_rounds(
        [jumpy], [list(range(10))], warmup=0, min_calls=200, max_calls=200, budget_s=0
    )
    p95 = np.percentile(timed.timings[0], 95) / 1e6
    assert p95 > 4.5, p95


def test_a_call_stalled_off_the_processor_is_timed_again() -> None:
    """One call in ten waits 5 ms off the processor (the machine ran something else):
    it is timed again, and the percentile is the model's."""
    calls = {"n": 0}

    def stalled(_: object) -> None:
        calls["n"] += 1
        _busy(0.3)
        if calls["n"] % 10 == 0:
            time.sleep(0.005)

    timed = time_rounds([stalled], [[0]], warmup=0, min_calls=200, max_calls=200, budget_s=0)
    assert np.percentile(timed.timings[0], 95) / 1e6 < 2
    assert timed.stalled[0] >= 15


def test_order_statistic_bounds_cover_the_percentile_at_their_level() -> None:
    rng = np.random.default_rng(3)
    true_p95 = float(np.exp(1.6448536 * 0.5))  # lognormal(0, 0.5)
    covered = 0
    for _ in range(400):
        sample = rng.lognormal(0, 0.5, size=100)
        bounds = quantile_bounds(sample, 0.95, 0.95)
        assert bounds is not None
        covered += bounds[1] >= true_p95
    assert covered / 400 >= 0.92  # 0.95 in theory; 400 draws
    assert quantile_bounds(rng.lognormal(size=100), 0.99, 0.95) is None
    assert rounds_needed(0.99, 0.95) == 299 and rounds_needed(0.95, 0.95) == 59


def test_the_models_are_held_to_one_thread_unless_the_config_says_otherwise() -> None:
    from mlgates.stages.operational.latency import thread_limits

    assert thread_limits(1)["OMP_NUM_THREADS"] == "1"
    assert thread_limits(4)["OPENBLAS_NUM_THREADS"] == "4"
    assert thread_limits(0) == {}


def test_a_function_that_waits_by_design_is_not_timed_again_forever() -> None:
    """Every call waits off the processor (a pool, a device): after 20 calls the loop
    stops timing its calls again, and keeps within its budget."""
    calls = {"n": 0}

    def waits(_: object) -> None:
        calls["n"] += 1
        time.sleep(0.001)

    timed = time_rounds([waits], [[0]], warmup=0, min_calls=100, max_calls=100, budget_s=0)
    assert len(timed.timings[0]) == 100
    assert calls["n"] < 100 + 21 * 11  # retries only while it was being judged
    assert np.median(timed.timings[0]) / 1e6 >= 1


def test_a_load_run_gives_its_response_times_to_every_load_check() -> None:
    from mlgates.stages.operational.loadtest import LoadRun

    run = LoadRun(
        description="4 users for 3 s against mlgates serve (model.skops)",
        requests=1000,
        failures=10,
        seconds=3.0,
        times={3.0: 500, 4.0: 400, 12.0: 90, 110.0: 10},
        total_ms=1000 * 5.123456,
        max_ms=113.3333,
    )
    expected = {"p50": 4.0, "p95": 12.0, "p99": 110.0, "max": 113.3, "mean": 5.123}
    for metric in ("p95_ms", "mean_ms", "requests_per_s", "failure_ratio", "requests"):
        measured = run.measure(metric)
        assert measured.details["latency_ms"] == {"candidate": expected}, metric
    assert run.measure("p99_ms").value == 110.0
    down = LoadRun("down", requests=5, failures=5, seconds=1.0, times={}, total_ms=0, max_ms=0)
    assert "latency_ms" not in down.measure("p95_ms").details
