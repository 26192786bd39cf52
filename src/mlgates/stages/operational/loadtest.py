"""The HTTP load test: locust, headless, in processes of its own.

Without ``load.url`` the gate starts ``mlgates serve`` on the ``[performance]``
candidate, on a free port of 127.0.0.1, and POSTs rows of the performance data
(``load.rows_per_request`` per request, up to 1,000 different bodies sent in
turn); with ``load.url`` it POSTs the body in ``load.payload`` (or each of a list
of bodies in turn) there. Locust runs :mod:`.locustfile` by its path: its users
send requests back to back, each failing on an HTTP error, a timeout or (against
``mlgates serve``) an answer without one prediction per row.

``load.workers = N`` runs locust's distributed mode: one master process
(``--master --expect-workers N``, listening on 127.0.0.1) and N worker processes
(``--worker --master-host 127.0.0.1``) that share the users. Workers on other
machines would join the same way, ``locust -f locustfile.py --worker --master-host
<the master's address> --master-port <its port>`` with the ``MLGATES_LOAD_*``
variables and a copy of the bodies file, but only a master listening beyond
loopback accepts them; the gate's master never does.

Every process runs in a session of its own and is stopped, with anything it
started, when ``load.timeout`` runs out, and always on the way out: terminated
and given a few seconds after an error, killed at once after an interrupt
(Ctrl-C). The figures come from locust's JSON statistics (``--json-file``):
locust keeps each response time rounded to the nearest 1 ms below 100 ms, 10 ms
below 1 s, 100 ms below 10 s and 1 s above, so the percentiles have that
resolution (and are capped at the maximum); the mean and the maximum are exact.
``requests`` counts the requests answered without failure and ``requests_per_s``
divides them by the time from the first to the last request. Every load check
carries the response times for the report (:meth:`LoadRun.latency_ms`).
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mlgates.authoring import Measurement, PlannedCheck, reading
from mlgates.core import ConfigError, InputError, MissingExtraError, Status
from mlgates.files import read_user_text
from mlgates.processes import ProcessFailed, kill_group, tail
from mlgates.stages.operational.settings import PERCENTILES, LoadSettings, OperationalConfig
from mlgates.text import format_number, shorten

if TYPE_CHECKING:
    import pandas as pd

    from mlgates.context import Context

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
BODIES = 1000
"""Different request bodies sampled from the performance data, at most."""
_ROWS = 200_000
"""Rows in all the bodies together, at most."""
_GRACE = 5.0
"""Seconds a process is given to stop before it is killed."""
_WORKERS_QUIT = 10.0
"""Seconds the workers are given to quit once the master has."""
_SHOWN_ERRORS = 3
_WARM_UP = 5
"""Requests sent to ``mlgates serve`` before the measured run."""
DIGITS = 4
"""Significant digits of the times in ``details["latency_ms"]``."""


def measure_load(
    config: OperationalConfig, checks: Sequence[PlannedCheck], context: Context
) -> dict[str, Measurement]:
    """Load-test ``mlgates serve`` on the candidate (or ``load.url``) with locust and
    measure every load check; a run that cannot happen is an ``error`` for each."""
    settings = config.load
    assert settings is not None
    _require(("locust",) if settings.url else ("locust", "uvicorn", "starlette"))
    deadline = time.monotonic() + settings.timeout
    with tempfile.TemporaryDirectory(prefix="mlgates-load-") as name, Processes() as processes:
        folder = Path(name)
        try:
            target = _target(config, context, folder, processes, deadline)
            run = run_locust(settings, target, folder, processes, deadline)
        except ProcessFailed as exc:
            failed = Measurement(status=Status.ERROR, message=f"the load test failed: {exc}")
            return {check.id: failed for check in checks}
    return {check.id: run.measure(check.metric) for check in checks}


def _require(modules: Sequence[str]) -> None:
    missing = [module for module in modules if importlib.util.find_spec(module) is None]
    if missing:
        raise MissingExtraError(
            f"the load test ({', '.join(missing)} not installed)",
            "operational",
            key="operational.load",
        )


# --------------------------------------------------------------------------- processes


@dataclass
class Started:
    """A helper process and the file its output goes to."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self) -> str:
        """The last lines it printed, on one line."""
        return _log_tail(self.log)


def _log_tail(log: Path) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no output)"
    return tail(text) or "(no output)"


@dataclass
class Processes:
    """Helper processes, each in a session of its own, every one stopped (with anything
    it started) and reaped when the block ends: terminated and given a few seconds
    after an ordinary end or an error, killed at once after an interrupt."""

    started: list[Started] = field(default_factory=list)

    def start(
        self, name: str, argv: Sequence[str], log: Path, *, env: Mapping[str, str], cwd: Path
    ) -> Started:
        """Start ``argv`` with its output (both streams) going to ``log``."""
        with log.open("wb") as output:
            try:
                process = subprocess.Popen(
                    list(argv),
                    cwd=cwd,
                    env=dict(env),
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as exc:
                raise ProcessFailed(f"{name}: cannot start: {exc.strerror or exc}") from None
        started = Started(name, process, log)
        self.started.append(started)
        return started

    def stop(self, *, grace: float = _GRACE) -> None:
        """Terminate every process group still running, kill those that linger after
        ``grace`` seconds (at once with ``grace = 0``, or when interrupted), reap all."""
        running = [s.process for s in reversed(self.started) if s.process.poll() is None]
        try:
            if grace > 0:
                for process in running:
                    kill_group(process, signal.SIGTERM)
                until = time.monotonic() + grace
                for process in running:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        process.wait(timeout=max(until - time.monotonic(), 0.01))
        finally:  # those that linger, or all after an interrupt, are killed
            for process in running:
                if process.poll() is None:
                    kill_group(process)
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        process.wait(timeout=_GRACE)

    def __enter__(self) -> Processes:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        interrupted = error is not None and not isinstance(error, Exception)
        self.stop(grace=0 if interrupted else _GRACE)


def free_port() -> int:
    """A TCP port of 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _left(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.0)


# --------------------------------------------------------------------------- the target


@dataclass(frozen=True)
class Target:
    """What the load test POSTs to, and the bodies it sends."""

    url: str
    label: str
    bodies: Path
    expect_predictions: bool


def _target(
    config: OperationalConfig,
    context: Context,
    folder: Path,
    processes: Processes,
    deadline: float,
) -> Target:
    settings = config.load
    assert settings is not None
    bodies = folder / "bodies.json"
    if settings.url is not None:
        assert settings.payload is not None
        with reading("operational.load.payload"):
            _copy_payload(settings.payload, bodies, context.display(settings.payload))
        return Target(settings.url, settings.url, bodies, expect_predictions=False)
    return _serve_candidate(config, settings.rows_per_request, context, processes, bodies, deadline)


def _copy_payload(source: Path, bodies: Path, shown: str) -> None:
    """The payload file as a list of bodies (a list in the file is the bodies)."""
    text = read_user_text(source, "payload file", InputError)
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{shown} is not a JSON file: {exc}") from None
    listed = payload if isinstance(payload, list) else [payload]
    if not listed:
        raise InputError(f"{shown} holds an empty list: give a request body or a list of them")
    bodies.write_text(json.dumps(listed), encoding="utf-8")


def _serve_candidate(
    config: OperationalConfig,
    rows_per_request: int,
    context: Context,
    processes: Processes,
    bodies: Path,
    deadline: float,
) -> Target:
    """Write bodies of rows of the performance data, start ``mlgates serve`` on the
    candidate and wait until it answers ``/health``."""
    models = config.models
    if models is None:
        raise ConfigError(
            "the load test serves the [performance] candidate with mlgates serve: add a "
            "[performance] table with candidate, data and target (its checks may be empty), "
            "or set load.url (and load.payload) to test an endpoint of your own",
            key="operational.load.url",
        )
    candidate = models.candidate
    if candidate.uri is not None:
        raise ConfigError(
            f"{candidate.uri}: the load test serves a local model file; download the MLflow "
            "model and name its directory, or set load.url",
            key=candidate.key,
        )
    from mlgates.stages.performance.evaluation import shared_evaluation

    with reading("performance.data"):
        evaluation = shared_evaluation(models, context)
    features = list(evaluation.candidate.features)
    write_bodies(evaluation.frame[features], rows_per_request, bodies, config.timing.seed)
    port = free_port()
    label = f"mlgates serve ({candidate.path.name})"
    argv = [sys.executable, "-m", "mlgates", "serve", "--model", str(candidate.path)]
    argv += ["--host", "127.0.0.1", "--port", str(port)]
    if candidate.sha256:
        argv += ["--sha256", candidate.sha256]
    if models.trusted:
        argv += ["--trusted", *models.trusted]
    log = bodies.with_name("server.log")
    server = processes.start(label, argv, log, env=os.environ, cwd=config.root)
    base = f"http://127.0.0.1:{port}"
    wait_until_healthy(server, f"{base}/health", deadline)
    warm_up(f"{base}/predict", bodies, timeout=max(min(_left(deadline), 10.0), 0.1))
    return Target(f"{base}/predict", label, bodies, expect_predictions=True)


def write_bodies(frame: pd.DataFrame, rows_per_request: int, path: Path, seed: int = 0) -> int:
    """Write request bodies of ``rows_per_request`` rows sampled from ``frame`` to ``path``
    (missing values as null, dates as ISO text); the number of bodies."""
    import numpy as np

    count = max(1, min(BODIES, _ROWS // rows_per_request))
    needed = count * rows_per_request
    picked = np.random.default_rng(seed).choice(
        len(frame), size=needed, replace=len(frame) < needed
    )
    text = frame.iloc[picked].to_json(orient="records", date_format="iso", double_precision=15)
    rows = json.loads(text)
    bodies = [{"rows": rows[i : i + rows_per_request]} for i in range(0, needed, rows_per_request)]
    path.write_text(json.dumps(bodies), encoding="utf-8")
    return count


def wait_until_healthy(server: Started, url: str, deadline: float) -> None:
    """Return once ``url`` answers 200; :class:`ProcessFailed` with the server's last
    output when it exits first or the deadline passes."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while True:
        code = server.process.poll()
        if code is not None:
            raise ProcessFailed(
                f"{server.name} exited with code {code} before it answered: {server.tail()}"
            )
        try:
            with opener.open(url, timeout=1.0) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass  # not listening yet
        if time.monotonic() >= deadline:
            raise ProcessFailed(
                f"{server.name} did not answer {url} within load.timeout; it was stopped: "
                f"{server.tail()}"
            )
        time.sleep(0.1)


def warm_up(url: str, bodies: Path, requests: int = _WARM_UP, timeout: float = 10.0) -> None:
    """POST the first bodies to ``url`` before the measured run (the model's first calls
    import and allocate what later calls reuse); the first failure ends it, since the
    measured run reports failures."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    for body in json.loads(bodies.read_text(encoding="utf-8"))[:requests]:
        request = urllib.request.Request(
            url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        try:
            with opener.open(request, timeout=timeout) as answer:
                answer.read()
        except OSError:
            return


# --------------------------------------------------------------------------- locust


def run_locust(
    settings: LoadSettings, target: Target, folder: Path, processes: Processes, deadline: float
) -> LoadRun:
    """Run locust headless against ``target`` (master and workers when ``settings.workers``)
    and read its statistics."""
    parts = urlsplit(target.url)
    env = {key: value for key, value in os.environ.items() if not key.startswith("LOCUST_")}
    env.update(
        MLGATES_LOAD_HOST=f"{parts.scheme}://{parts.netloc}",
        MLGATES_LOAD_PATH=(parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
        MLGATES_LOAD_BODIES=str(target.bodies),
        MLGATES_LOAD_TIMEOUT=f"{settings.request_timeout:g}",
        MLGATES_LOAD_EXPECT="predictions" if target.expect_predictions else "",
        MLGATES_LOAD_ERRORS=str(folder / "errors.json"),
    )
    seconds = max(1, round(settings.duration))
    # run from the temporary folder: locust reads locust.conf and pyproject.toml there
    locust = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--loglevel", "WARNING"]
    master = [
        *locust,
        "--headless",
        "--only-summary",
        f"--users={settings.users}",
        f"--spawn-rate={settings.spawn_rate:g}",
        f"--run-time={seconds}s",
        "--exit-code-on-error=0",
        f"--json-file={folder / 'stats'}",
    ]
    port = free_port() if settings.workers else 0
    if settings.workers:
        master += [
            "--master",
            "--master-bind-host=127.0.0.1",
            f"--master-bind-port={port}",
            f"--expect-workers={settings.workers}",
            f"--expect-workers-max-wait={max(_left(deadline), 1):.0f}",
        ]
    main = processes.start("locust", master, folder / "locust.log", env=env, cwd=folder)
    workers = [
        processes.start(
            f"locust worker {index + 1}",
            [*locust, "--worker", "--master-host=127.0.0.1", f"--master-port={port}"],
            folder / f"worker-{index + 1}.log",
            env=env,
            cwd=folder,
        )
        for index in range(settings.workers)
    ]
    _wait_for(main, workers, settings, deadline)
    return LoadRun.read(folder, settings, target, seconds)


def _wait_for(
    main: Started, workers: Sequence[Started], settings: LoadSettings, deadline: float
) -> None:
    try:
        code = main.process.wait(timeout=_left(deadline))
    except subprocess.TimeoutExpired:
        raise ProcessFailed(
            f"locust did not finish within load.timeout = {settings.timeout:g} s (the run "
            f"itself takes load.duration = {settings.duration:g} s); every process was stopped"
        ) from None
    if code != 0:
        dead = [w for w in workers if w.process.poll() not in (None, 0)]
        also = f"; {dead[0].name}: {dead[0].tail()}" if dead else ""
        raise ProcessFailed(f"locust exited with code {code}: {main.tail()}{also}")
    for worker in workers:  # a worker that lingers is stopped with the rest on the way out
        with contextlib.suppress(subprocess.TimeoutExpired):
            worker.process.wait(timeout=_WORKERS_QUIT)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class LoadRun:
    """What one load test measured: counts, response times (ms) and failures.

    ``requests`` counts every request sent, ``failures`` those that failed; the
    ``requests`` and ``requests_per_s`` metrics count the others (:attr:`answered`).
    """

    description: str
    requests: int
    failures: int
    seconds: float
    times: dict[float, int]
    total_ms: float
    max_ms: float
    errors: tuple[tuple[str, int], ...] = ()

    @classmethod
    def read(cls, folder: Path, settings: LoadSettings, target: Target, seconds: int) -> LoadRun:
        """The statistics locust wrote (``stats.json``) and the failures the locustfile
        counted (``errors.json``)."""
        entries = _json_file(folder / "stats.json", "locust's statistics", folder / "locust.log")
        if not isinstance(entries, list):
            raise ProcessFailed(
                f"locust's statistics: expected a list, got {type(entries).__name__}"
            )
        errors_file = folder / "errors.json"
        errors = _json_file(errors_file, "the failures", None) if errors_file.exists() else []
        times: dict[float, int] = {}
        for entry in entries:
            for value, count in entry["response_times"].items():
                times[float(value)] = times.get(float(value), 0) + int(count)
        starts = [e["start_time"] for e in entries]
        ends = [e["last_request_timestamp"] for e in entries if e["last_request_timestamp"]]
        span = max(ends) - min(starts) if starts and ends else 0.0
        plural = "s" if settings.workers > 1 else ""
        workers = f" in {settings.workers} locust worker{plural}" if settings.workers else ""
        return cls(
            description=f"{settings.users} users{workers} for {seconds} s against {target.label}",
            requests=sum(int(e["num_requests"]) for e in entries),
            failures=sum(int(e["num_failures"]) for e in entries),
            seconds=span if span > 0 else float(seconds),
            times=times,
            total_ms=sum(float(e["total_response_time"]) for e in entries),
            max_ms=max((float(e["max_response_time"]) for e in entries), default=0.0),
            errors=tuple((_unwrapped(e["error"]), int(e["occurrences"])) for e in errors),
        )

    @property
    def answered(self) -> int:
        """Requests answered without failure."""
        return max(self.requests - self.failures, 0)

    @property
    def rate(self) -> float:
        """Requests answered without failure per second."""
        return self.answered / self.seconds

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile of the response times, as locust computes it from its
        rounded response times, capped at the exact maximum (locust rounds to the nearest
        bucket, so the top bucket can lie above the slowest response)."""
        total = sum(self.times.values())
        rank = min(int(total * q / 100), total - 1)
        seen = 0
        for value in sorted(self.times):
            seen += self.times[value]
            if seen > rank:
                return min(value, self.max_ms)
        return math.nan

    def latency(self, metric: str) -> float:
        """One of :data:`PERCENTILES` in milliseconds."""
        q = PERCENTILES[metric]
        if q is None:
            return self.total_ms / self.requests
        return self.max_ms if q == 100 else self.percentile(q)

    def latency_ms(self) -> dict[str, Any]:
        """``details["latency_ms"]`` of a load check: ``{"candidate": {"p50": .., "p95": ..,
        "p99": .., "max": .., "mean": ..}}``, milliseconds with :data:`DIGITS` significant
        digits, as the load checks measure them (failed requests included); the load
        test serves the candidate only, so there is no ``baseline``. Empty when no request
        was answered (there is no time to judge)."""
        if not self.answered:
            return {}
        times = {}
        for metric in PERCENTILES:
            value = float(self.latency(metric))
            times[metric.removesuffix("_ms")] = (
                float(f"{value:.{DIGITS}g}") if math.isfinite(value) else None
            )
        return {"candidate": times}

    @property
    def summary(self) -> str:
        """What was run and its counts: ``10 users for 5 s against ...: 3,120 requests,
        2 failed; 3,118 answered, 624/s``."""
        return (
            f"{self.description}: {self.requests:,} requests, {self.failures:,} failed; "
            f"{self.answered:,} answered, {format_number(self.rate, 3)}/s"
        )

    def measure(self, metric: str) -> Measurement:
        """The measurement of one load metric."""
        details: dict[str, Any] = {
            "requests": self.requests,
            "failures": self.failures,
            "answered": self.answered,
            "seconds": self.seconds,
        }
        latency = self.latency_ms()
        if latency:
            details["latency_ms"] = latency
        if metric not in (*PERCENTILES, "requests", "requests_per_s", "failure_ratio"):
            return Measurement(status=Status.ERROR, message=f"{metric} is not a load-test metric")
        if metric == "failure_ratio":
            return self._failure_ratio(details)
        if not self.answered:
            why = "no request was sent" if not self.requests else "every request failed"
            judged = "answer" if metric in ("requests", "requests_per_s") else "response time"
            return Measurement(
                status=Status.INCONCLUSIVE,
                message=f"{why}, so no {judged} to judge: {self._failed()}",
                details=details,
            )
        if metric == "requests":
            return Measurement(value=float(self.answered), message=self.summary, details=details)
        if metric == "requests_per_s":
            return Measurement(value=self.rate, message=self.summary, details=details)
        shown = ", ".join(
            f"{name.removesuffix('_ms')} {format_number(self.latency(name), 4)}"
            for name in PERCENTILES
        )
        return Measurement(
            value=self.latency(metric),
            message=f"{self.summary}; response times (ms): {shown}",
            details=details,
        )

    def _failure_ratio(self, details: dict[str, Any]) -> Measurement:
        if not self.requests:
            return Measurement(
                status=Status.INCONCLUSIVE, message=f"no request was sent: {self.summary}"
            )
        errors = {message: count for message, count in self.errors}
        return Measurement(
            value=self.failures / self.requests,
            message=self._failed(),
            details={**details, "errors": errors},
        )

    def _failed(self) -> str:
        if not self.errors:
            return self.summary
        common = "; ".join(
            f"{shorten(message, 100)} x{count:,}" for message, count in self.errors[:_SHOWN_ERRORS]
        )
        return f"{self.summary}; most common: {common}"


def _json_file(path: Path, what: str, log: Path | None) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        said = f": {_log_tail(log)}" if log else ""
        raise ProcessFailed(f"locust wrote no {what}{said}") from None
    except (OSError, ValueError) as exc:
        raise ProcessFailed(f"{what}: cannot read {path.name}: {exc}") from None


def _unwrapped(error: str) -> str:
    """A failure message without locust's wrapping: ``CatchResponseError('HTTP 500: ...')``
    as ``HTTP 500: ...``."""
    prefix = "CatchResponseError("
    if error.startswith(prefix) and error.endswith(")"):
        try:
            inner = ast.literal_eval(error[len(prefix) : -1])
        except (ValueError, SyntaxError):
            return error
        return inner if isinstance(inner, str) else error
    return error


__all__ = [
    "LOCUSTFILE",
    "LoadRun",
    "Processes",
    "Started",
    "Target",
    "free_port",
    "measure_load",
    "run_locust",
    "wait_until_healthy",
    "warm_up",
    "write_bodies",
]
