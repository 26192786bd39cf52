"""The operational gate's load test and ``mlgates serve``: real servers, real locust runs.

The model is a scikit-learn pipeline (imputer, scaler, logistic regression) on
scikit-learn's breast cancer table, saved with skops; the failing model wraps it
in :class:`operational_models.FailsAbove` (a pinned joblib pickle) and raises on
rows with a ``mean radius`` above 20, about 8% of the rows. Every process is
bounded in time; every locust run lasts a few seconds.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlgates import Status, load_config, run_gates
from mlgates.cli import main
from mlgates.processes import ProcessFailed
from mlgates.stages.operational.loadtest import (
    LoadRun,
    Processes,
    Target,
    free_port,
    wait_until_healthy,
    write_bodies,
)
from mlgates.stages.operational.serving import plain
from mlgates.stages.operational.settings import LoadSettings
from operational_models import SPAWNER, FailsAbove, gone, wait_for_file

skops_io = pytest.importorskip("skops.io")
if not all(importlib.util.find_spec(m) for m in ("locust", "uvicorn", "starlette")):
    # never imported here: importing locust patches the process with gevent
    pytest.skip("the operational extra is not installed", allow_module_level=True)

TESTS = Path(__file__).resolve().parent
RADIUS = "mean radius"
LIMIT = 20.0
LOOSE = '"p50_ms <= 5000", "p99_ms <= 20000", "mean_ms <= 5000", "failure_ratio <= 0.001"'


def _env() -> dict[str, str]:
    """The environment of a server that may load :mod:`operational_models`."""
    path = os.pathsep.join(p for p in (str(TESTS), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The breast cancer table, its model (skops) and the failing model (pinned pickle)."""
    root = tmp_path_factory.mktemp("load")
    frame = load_breast_cancer(as_frame=True).frame
    frame.to_parquet(root / "cancer.parquet")
    features = frame.drop(columns="target")
    model = make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(features, frame["target"])
    skops_io.dump(model, root / "cancer.skops")
    joblib.dump(FailsAbove(model, RADIUS, LIMIT), root / "fails.joblib")
    return root


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def servers(project: Path) -> Iterator[dict[str, str]]:
    """``mlgates serve`` on each model, by model file name: their base URLs."""
    urls, started = {}, []
    with Processes() as processes:
        for name, extra in (
            ("cancer.skops", []),
            ("fails.joblib", ["--sha256", _sha256(project / "fails.joblib")]),
        ):
            port = free_port()
            argv = [sys.executable, "-m", "mlgates", "serve", "--model", name, "--port", str(port)]
            log = project / f"{name}.log"
            started.append(processes.start(name, [*argv, *extra], log, env=_env(), cwd=project))
            urls[name] = f"http://127.0.0.1:{port}"
        for server in started:
            wait_until_healthy(server, f"{urls[server.name]}/health", time.monotonic() + 60)
        yield urls


def _call(url: str, body: bytes | None = None, method: str = "POST") -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, method=method)
    request.add_header("Content-Type", "application/json")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # straight to loopback
    try:
        with opener.open(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def _rows(project: Path, count: int, *, failing: bool | None = None) -> list[dict[str, Any]]:
    """The first ``count`` rows (``failing``: those the failing model fails on, or not)."""
    frame = pd.read_parquet(project / "cancer.parquet").drop(columns="target")
    if failing is not None:
        frame = frame[(frame[RADIUS] > LIMIT) == failing]
    return json.loads(frame.head(count).to_json(orient="records"))


# --------------------------------------------------------------------------- mlgates serve


def test_the_server_answers_health_and_predictions(project: Path, servers: dict[str, str]) -> None:
    base = servers["cancer.skops"]
    assert _call(f"{base}/health", method="GET") == (200, {"status": "ok", "model": "cancer.skops"})
    rows = _rows(project, 3)
    rows[1]["mean texture"] = None  # null becomes NaN, which the imputer fills
    status, answer = _call(f"{base}/predict", json.dumps({"rows": rows}).encode())
    assert status == 200
    model = skops_io.load(
        project / "cancer.skops",
        trusted=skops_io.get_untrusted_types(file=project / "cancer.skops"),
    )
    expected = pd.DataFrame(rows).astype(float)
    assert answer["predictions"] == model.predict(expected).tolist()
    np.testing.assert_allclose(answer["probabilities"], model.predict_proba(expected))
    assert answer["classes"] == [0, 1]
    # a bare list of rows, with a column the model does not know: ignored
    extra = [{**row, "unknown": "x"} for row in rows]
    status, bare = _call(f"{base}/predict", json.dumps(extra).encode())
    assert (status, bare["predictions"]) == (200, answer["predictions"])


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b'{"rows": [', 400, "not JSON"),
        (b'{"data": []}', 400, "no 'rows'"),
        (b"[1, 2]", 400, "rows[0] is a number"),
        (b"[]", 400, "no rows"),
        (b'"rows"', 400, "got text"),
        (b'[{"mean radius": [1, 2]}]', 400, "values must be numbers"),
        (b'[{"mean radius": 14.0}]', 422, "mean texture"),
    ],
)
def test_a_bad_request_is_answered_with_what_is_wrong(
    servers: dict[str, str], body: bytes, status: int, says: str
) -> None:
    got, answer = _call(f"{servers['cancer.skops']}/predict", body)
    assert got == status
    assert says in answer["error"]


def test_a_model_that_raises_is_a_500_naming_the_exception(
    project: Path, servers: dict[str, str]
) -> None:
    base = servers["fails.joblib"]
    good = json.dumps(_rows(project, 2, failing=False)).encode()
    assert _call(f"{base}/predict", good)[0] == 200
    bad = json.dumps(_rows(project, 1, failing=True)).encode()
    assert _call(f"{base}/predict", bad) == (500, {"error": f"ValueError: {RADIUS} above 20"})


def test_serve_with_a_missing_file_exits_2_with_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mlgates", "serve", "--model", str(tmp_path / "gone.skops")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == f"mlgates: error: --model {tmp_path / 'gone.skops'}: no such file or directory"
    )


@pytest.mark.parametrize(
    ("model", "extra", "says"),
    [
        ("notes.txt", [], "unknown model format '.txt'"),
        ("fails.joblib", [], "is a pickle, which runs code when it is loaded"),
        ("fails.joblib", ["--sha256", "0" * 64], "not the pinned"),
    ],
)
def test_serve_refuses_a_model_it_must_not_load(
    project: Path, capsys: pytest.CaptureFixture[str], model: str, extra: list[str], says: str
) -> None:
    (project / "notes.txt").write_text("not a model", encoding="utf-8")
    port = str(free_port())
    assert main(["serve", "--model", str(project / model), "--port", port, *extra]) == 2
    assert says in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "says"), [(["--sha256", "xyz"], "is not a sha256"), (["--port", "0"], "not a port")]
)
def test_serve_refuses_bad_options_with_exit_2(
    project: Path, capsys: pytest.CaptureFixture[str], extra: list[str], says: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--model", str(project / "cancer.skops"), *extra])
    assert exited.value.code == 2
    assert says in capsys.readouterr().err


# --------------------------------------------------------------------------- the load test


def _config(root: Path, name: str, load: str, *, performance: bool = True) -> Path:
    table = textwrap.dedent(
        """
        [performance]
        candidate = "cancer.skops"
        data = "cancer.parquet"
        target = "target"
        checks = []
        """
    )
    text = f'[mlgates]\nhistory = "{name}.jsonl"\nreport = ""\n'
    text += (table if performance else "") + f"\n[operational]\nload = {{ {load} }}\n"
    path = root / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _results(path: Path) -> dict[str, Any]:
    record = run_gates(load_config(path))
    return {check.id: check for gate in record.gates for check in gate.checks}


def test_the_load_test_passes_loose_bounds_and_fails_a_tight_one(project: Path) -> None:
    path = _config(
        project,
        "bounds",
        f'users = 4, duration = "3s", checks = [{LOOSE}, "requests >= 10", '
        '"requests_per_s >= 1000000"]',
    )
    results = _results(path)
    for metric in ("p50_ms", "p99_ms", "mean_ms", "failure_ratio", "requests"):
        check = results[f"operational::{metric}[load]"]
        assert check.status is Status.PASS, check.message
    tight = results["operational::requests_per_s[load]"]
    assert tight.status is Status.FAIL
    assert tight.message.startswith("requests_per_s[load] = ")
    assert "fails >= 1e+06" in tight.message
    assert "4 users for 3 s against mlgates serve (cancer.skops)" in tight.message
    assert 0 < tight.value < 1_000_000
    assert results["operational::requests[load]"].value >= 10
    latency = results["operational::p99_ms[load]"].details["latency_ms"]["candidate"]
    assert all(latency[name] <= latency["max"] for name in ("p50", "p95", "p99"))


def test_locust_workers_share_the_users(project: Path) -> None:
    path = _config(
        project, "workers", f'users = 4, workers = 2, duration = "3s", checks = [{LOOSE}]'
    )
    results = _results(path)
    assert {c.status for c in results.values()} == {Status.PASS}, [
        c.message for c in results.values()
    ]
    assert "4 users in 2 locust workers" in results["operational::p50_ms[load]"].message


def test_failures_of_the_model_count_against_an_endpoint_named_by_url(
    project: Path, servers: dict[str, str]
) -> None:
    bodies = [{"rows": [row]} for row in _rows(project, 400)]
    (project / "bodies.json").write_text(json.dumps(bodies), encoding="utf-8")
    url = f"{servers['fails.joblib']}/predict"
    path = _config(
        project,
        "failing",
        f'url = "{url}", payload = "bodies.json", users = 2, duration = "2s", '
        'checks = ["failure_ratio <= 0.001", "p99_ms <= 20000", "requests >= 1"]',
        performance=False,
    )
    results = _results(path)
    failing = results["operational::failure_ratio[load]"]
    share = sum(row["rows"][0][RADIUS] > LIMIT for row in bodies) / len(bodies)
    assert failing.status is Status.FAIL
    assert 0 < failing.value < 3 * share
    assert f"HTTP 500: ValueError: {RADIUS} above 20" in failing.message
    assert failing.details["errors"][f"HTTP 500: ValueError: {RADIUS} above 20"] > 0
    assert f"against {url}" in failing.message
    assert results["operational::p99_ms[load]"].status is Status.PASS
    answered = results["operational::requests[load]"]
    assert answered.status is Status.PASS
    details = failing.details
    assert answered.value == details["answered"] == details["requests"] - details["failures"]
    assert f"{details['failures']:,} failed; {details['answered']:,} answered" in answered.message


def test_nothing_listening_fails_every_request_and_leaves_the_rest_undecided(
    project: Path,
) -> None:
    """A dead endpoint answers nothing: it fails failure_ratio and passes no other check."""
    (project / "one.json").write_text(json.dumps({"rows": _rows(project, 1)}), encoding="utf-8")
    path = _config(
        project,
        "refused",
        f'url = "http://127.0.0.1:{free_port()}/predict", payload = "one.json", users = 1, '
        'duration = "1s", checks = ["failure_ratio <= 0.5", "p95_ms <= 1000", "requests >= 1", '
        '"requests_per_s >= 0.001"]',
        performance=False,
    )
    results = _results(path)
    refused = results["operational::failure_ratio[load]"]
    assert (refused.status, refused.value) == (Status.FAIL, 1.0)
    assert "Connection" in refused.message or "refused" in refused.message
    latency = results["operational::p95_ms[load]"]
    assert latency.status is Status.INCONCLUSIVE
    assert "every request failed, so no response time to judge" in latency.message
    for metric in ("requests", "requests_per_s"):
        check = results[f"operational::{metric}[load]"]
        assert (check.status, check.value) == (Status.INCONCLUSIVE, None), check.message
        assert "every request failed, so no answer to judge" in check.message
        assert "0 answered" in check.message


def _stats(folder: Path, times: dict[int, int], max_ms: float, failures: int = 0) -> None:
    """A statistics file as locust writes it (``--json-file``), one endpoint."""
    entry = {
        "name": "POST /predict",
        "method": "POST",
        "start_time": 1000.0,
        "last_request_timestamp": 1002.0,
        "num_requests": sum(times.values()),
        "num_failures": failures,
        "total_response_time": sum(t * n for t, n in times.items()),
        "max_response_time": max_ms,
        "response_times": {str(t): n for t, n in times.items()},
    }
    (folder / "stats.json").write_text(json.dumps([entry]), encoding="utf-8")


def test_percentiles_never_exceed_the_exact_maximum(tmp_path: Path) -> None:
    """locust rounds each response time to its nearest bucket: 95.6 ms is kept as 96 and
    155 ms as 160, above the slowest response measured; the percentile is capped."""
    settings = LoadSettings(checks=(), users=1, duration=2)
    target = Target("http://127.0.0.1:1/", "the endpoint", tmp_path, False)
    for times, max_ms in (({40: 98, 96: 2}, 95.6), ({150: 90, 160: 10}, 155.0)):
        _stats(tmp_path, times, max_ms, failures=10)
        run = LoadRun.read(tmp_path, settings, target, 2)
        assert run.latency("p50_ms") == min(times)
        assert run.latency("p99_ms") == run.latency("max_ms") == max_ms
        assert math.isclose(run.rate, 90 / 2)  # answered without failure, per second
        measured = run.measure("requests")
        assert measured.value == 90 and measured.details["failures"] == 10


def test_an_unreadable_payload_is_an_input_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "latin1.json").write_bytes(b'{"rows": [{"name": "Jos\xe9"}]}')
    path = _config(
        project,
        "latin1",
        f'url = "http://127.0.0.1:{free_port()}/predict", payload = "latin1.json", '
        'checks = ["failure_ratio <= 0.5"]',
        performance=False,
    )
    assert main(["run", "--config", str(path), "--no-history"]) == 2
    error = capsys.readouterr().err
    assert "operational.load.payload: payload file" in error
    assert "is not UTF-8 text" in error


def test_without_performance_or_url_the_config_is_an_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _config(project, "nothing", 'checks = ["p99_ms <= 100"]', performance=False)
    assert main(["run", "--config", str(path), "--no-history"]) == 2
    error = capsys.readouterr().err
    assert "operational.load.url" in error
    assert "[performance]" in error


def test_request_bodies_hold_json_values(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "amount": [1.5, np.nan, 3.0],
            "when": pd.to_datetime(["2024-01-02 00:00:00", None, "2024-03-04 05:06:07"]),
            "kind": pd.Categorical(["a", None, "b"]),
        }
    )
    path = tmp_path / "bodies.json"
    assert write_bodies(frame, 2, path) == 1000
    bodies = json.loads(path.read_text(encoding="utf-8"))
    rows = [row for body in bodies for row in body["rows"]]
    assert all(len(body["rows"]) == 2 for body in bodies)
    assert {row["amount"] for row in rows} == {1.5, None, 3.0}
    assert {row["when"] for row in rows} == {
        "2024-01-02T00:00:00.000",
        None,
        "2024-03-04T05:06:07.000",
    }
    assert {row["kind"] for row in rows} == {"a", None, "b"}


def test_served_answers_hold_null_for_nan_and_infinities() -> None:
    answer = plain({"p": np.array([[0.5, np.nan], [np.inf, -np.inf]]), "x": np.float32("nan")})
    assert answer == {"p": [[0.5, None], [None, None]], "x": None}
    assert plain(pd.Timestamp("2024-01-02")) == "2024-01-02T00:00:00"
    assert plain([np.int64(3), (1.5, float("nan"))]) == [3, [1.5, None]]


_INTERRUPTED = """\
import os, signal, sys, time
from pathlib import Path
signal.signal(signal.SIGINT, signal.default_int_handler)
from mlgates.stages.operational.loadtest import Processes
folder = Path(sys.argv[2]).parent
with Processes() as processes:
    argv = [sys.executable, "-c", sys.argv[1], sys.argv[2]]
    processes.start("stubborn", argv, folder / "log", env=os.environ, cwd=folder)
    time.sleep(120)
"""


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="process groups are POSIX")
def test_an_interrupt_kills_the_helper_processes_at_once(tmp_path: Path) -> None:
    """Ctrl-C reaches the gates' process only (each helper has a session of its own): the
    helpers, even one that ignores SIGTERM, and what they started are killed without the
    grace an ordinary stop gives them."""
    pids = tmp_path / "pids"
    with subprocess.Popen(
        [sys.executable, "-c", _INTERRUPTED, SPAWNER, str(pids)], stderr=subprocess.PIPE, text=True
    ) as gates:
        running = [int(pid) for pid in wait_for_file(pids).split()]
        interrupted = time.monotonic()
        gates.send_signal(signal.SIGINT)
        _, errors = gates.communicate(timeout=30)
    assert gates.returncode != 0 and "KeyboardInterrupt" in errors, errors
    assert time.monotonic() - interrupted < 4  # no 5 s of grace
    assert gone(running)


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="process groups are POSIX")
def test_helpers_that_ignore_sigterm_are_killed_after_the_grace(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    with Processes() as processes:
        argv = [sys.executable, "-c", SPAWNER, str(pids)]
        processes.start("stubborn", argv, tmp_path / "log", env=os.environ, cwd=tmp_path)
        running = [int(pid) for pid in wait_for_file(pids).split()]
        processes.stop(grace=0.5)
    assert gone(running)


def test_a_server_that_exits_early_is_reported_with_its_output(tmp_path: Path) -> None:
    crash = [sys.executable, "-c", "import sys; print('cannot load the model'); sys.exit(3)"]
    with Processes() as processes:
        server = processes.start("server", crash, tmp_path / "log", env=os.environ, cwd=tmp_path)
        with pytest.raises(ProcessFailed, match=r"exited with code 3 .*cannot load the model"):
            wait_until_healthy(server, f"http://127.0.0.1:{free_port()}/", time.monotonic() + 60)


def test_without_locust_the_error_names_the_extra(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    found = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "locust" else found(name, *a)
    )
    path = _config(project, "no-locust", 'checks = ["p99_ms <= 100"]')
    assert main(["run", "--config", str(path), "--no-history"]) == 2
    error = capsys.readouterr().err
    assert "operational.load" in error
    assert "pip install 'mlgates[operational]'" in error
