"""The ``[operational]`` table and its error paths, through the real loader and the CLI.

Every project is a real config file under ``tmp_path`` with real files beside it: a
JSON request body, the credit example's OSV advisories, a pinned requirements file.
Its ``[performance]`` table names the credit example's real models and data by
absolute path (the loader only checks that they exist; nothing here loads a model,
times a call, starts a server or runs pip-audit, so the module stays fast).

A broken table is a :class:`~mlgates.ConfigError` from :func:`mlgates.load_config`
naming the file, the dotted key and what would be valid, and through ``mlgates run``
(``mlgates.cli.main`` in this process) exit 2 with one ``mlgates: error:`` line, no
traceback, nothing judged or recorded. ``--threshold`` (``-t``) overrides are
validated like the config and replace the check of the same metric, call and anchor.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from mlgates import ConfigError, MlgatesError, load_config
from mlgates.cli import main
from mlgates.core import Severity
from mlgates.stages.operational.settings import (
    IgnoredAdvisory,
    OperationalConfig,
    TimingSettings,
)
from mlgates.stages.performance.settings import PerformanceConfig

from conftest import EXAMPLE, write_config

PERFORMANCE = f"""[performance]
candidate = "{(EXAMPLE / "models" / "candidate.skops").as_posix()}"
{{baseline}}data = "{(EXAMPLE / "data" / "current.parquet").as_posix()}"
target = "default"
checks = []
"""
BASELINE = f'baseline = "{(EXAMPLE / "models" / "baseline.skops").as_posix()}"\n'
LOCAL = "http://127.0.0.1:8000/predict"
REMOTE = "https://models.example.com/v1/predict"
LATENCY = 'checks = ["p95_ms <= 50"]'
LOAD_CHECKS = 'checks = ["p99_ms <= 100"]'
AUDIT_CHECKS = 'checks = ["vulnerabilities == 0"]'
ENTRY = 'reason = "not reachable", expires = 2027-01-31'


def _project(
    directory: Path, operational: str, *, performance: bool = True, baseline: bool = True
) -> Path:
    """A config whose ``[operational]`` tables are ``operational`` (headers included),
    after a ``[performance]`` table naming the credit example's models (with its
    baseline unless told otherwise) when ``performance``; beside it ``body.json`` (a
    request body), ``advisories.json`` (the example's OSV records) and
    ``requirements.txt``."""
    (directory / "body.json").write_text(
        json.dumps({"rows": [{"income": 52000.0, "age": 41}]}), encoding="utf-8"
    )
    shutil.copy(EXAMPLE / "advisories.json", directory / "advisories.json")
    (directory / "requirements.txt").write_text("requests==2.31.0\n", encoding="utf-8")
    text = '[mlgates]\nhistory = "history.jsonl"\n\n'
    if performance:
        text += PERFORMANCE.format(baseline=BASELINE if baseline else "") + "\n"
    return write_config(directory, text + operational.strip() + "\n")


def _operational(path: Path) -> OperationalConfig:
    config = load_config(path).stages["operational"]
    assert isinstance(config, OperationalConfig)
    return config


def _cli(path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``mlgates run --config PATH ARGS`` in this process."""
    code = main(["run", "--config", str(path), *args])
    out, err = capsys.readouterr()
    return code, out, err


def _assert_cli_error(
    path: Path, capsys: pytest.CaptureFixture[str], *fragments: str, args: tuple[str, ...] = ()
) -> str:
    """Exit 2, one ``mlgates: error:`` line on stderr holding every fragment, no
    traceback, nothing judged, reported or recorded."""
    code, out, err = _cli(path, capsys, *args)
    assert code == 2, out + err
    assert "Traceback" not in out + err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mlgates: error: "), err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "PASSED" not in out and "BLOCKED" not in out, out
    assert not (path.parent / "history.jsonl").exists()
    assert not (path.parent / ".mlgates" / "report.html").exists()
    return lines[0]


def _assert_config_error(path: Path, key: str, *fragments: str) -> ConfigError:
    """:func:`load_config` raises a ConfigError naming the file and ``key``."""
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    error = caught.value
    assert error.file is not None and error.file.endswith("mlgates.toml"), error
    assert error.key == key, error
    for fragment in fragments:
        assert fragment in error.problem, error.problem
    return error


def _assert_rejected(
    path: Path, capsys: pytest.CaptureFixture[str], key: str, *fragments: str
) -> None:
    """Refused by the loader and by ``mlgates run``, both naming the file and ``key``."""
    _assert_config_error(path, key, *fragments)
    _assert_cli_error(path, capsys, f"mlgates.toml: {key}: ", *fragments)


def _case(operational: str, key: str, *fragments: str, id: str, performance: bool = True):
    return pytest.param(operational, performance, key, fragments, id=id)


# -- configuration errors ---------------------------------------------------------------

CONFIG_ERRORS = [
    # unknown keys, at every level
    _case(
        f"[operational]\nbatch_size = [8]\n{LATENCY}",
        "operational.batch_size",
        "unknown key (did you mean 'batch_sizes'?)",
        "valid keys: audit, batch_sizes, checks",
        id="unknown-key",
    ),
    _case(
        f"[operational.load]\n{LOAD_CHECKS}\nuser = 5",
        "operational.load.user",
        "unknown key (did you mean 'users'?)",
        "valid keys: allow_remote, checks",
        id="unknown-load-key",
    ),
    _case(
        f"[operational.audit]\n{AUDIT_CHECKS}\nignores = []",
        "operational.audit.ignores",
        "unknown key (did you mean 'ignore'?)",
        id="unknown-audit-key",
    ),
    _case(
        f'[operational.audit]\n{AUDIT_CHECKS}\nignore = [{{ id = "GHSA-1", reason = "r", '
        "expiry = 2027-01-31 }]",
        "operational.audit.ignore[0].expiry",
        "unknown key (did you mean 'expires'?)",
        "valid keys: expires, id, reason",
        id="unknown-ignore-key",
    ),
    # nothing to check
    _case(
        "[operational]",
        "operational.checks",
        "is empty",
        "load.checks or audit.checks, or remove the [operational] table",
        id="empty-table",
    ),
    _case(
        "[operational]\nchecks = []\nbatch_sizes = [8]",
        "operational.checks",
        "is empty",
        id="empty-checks",
    ),
    _case(
        '[operational]\nchecks = "p95_ms <= 50"',
        "operational.checks",
        "expected a list of checks",
        id="checks-a-string",
    ),
    _case(
        '[operational]\nchecks = [{ severity = "warn" }]',
        "operational.checks[0].check",
        "is required",
        id="check-table-without-check",
    ),
    # checks that time the models of [performance]
    _case(
        f"[operational]\n{LATENCY}",
        "operational.checks[0]",
        "p95_ms <= 50 times the models of [performance]",
        "add a [performance] table with candidate, data and target",
        "keep only load.checks and audit.checks",
        id="latency-without-performance",
        performance=False,
    ),
    _case(
        '[operational]\nchecks = ["peak_memory_mb <= 500"]',
        "operational.checks[0]",
        "times the models of [performance]",
        id="memory-without-performance",
        performance=False,
    ),
    _case(
        '[operational]\nchecks = ["p95_ms <= 50", "p95_ms <= baseline + 20%"]',
        "operational.checks[1]",
        "p95_ms <= baseline + 20% compares with the baseline model",
        "set performance.baseline",
        id="baseline-bound-without-baseline",
    ),
    _case(
        '[operational]\nchecks = ["model_size_mb <= baseline"]',
        "operational.checks[0]",
        "compares with the baseline model",
        id="size-baseline-without-baseline",
    ),
    _case(
        '[operational]\nchecks = ["peak_memory_mb <= 500 @95%"]',
        "operational.checks[0]",
        "'peak_memory_mb' has no confidence interval",
        id="confidence-on-memory",
    ),
    _case(
        '[operational]\nchecks = ["model_size_mb[predict:1] <= 5"]',
        "operational.checks[0]",
        "'model_size_mb' is measured once; drop '[predict:1]'",
        id="selector-on-a-once-metric",
    ),
    _case(
        '[operational]\nchecks = ["fairness::tpr >= 0.5"]',
        "operational.checks[0]",
        "names stage 'fairness' inside the operational stage",
        id="other-stage-prefix",
    ),
    # the call a check names
    _case(
        '[operational]\nbatch_sizes = [8, 64]\nchecks = ["p95_ms[predict:3] <= 5"]',
        "operational.checks[0]",
        "p95_ms[predict:3] <= 5: batch size 3 is not timed",
        "add it to operational.batch_sizes",
        id="selector-batch-not-timed",
    ),
    _case(
        '[operational]\nchecks = ["p95_ms[predict:64] <= 5"]',
        "operational.checks[0]",
        "batch size 64 is not timed; add it to operational.batch_sizes",
        id="selector-batch-without-batch-sizes",
    ),
    _case(
        '[operational]\nchecks = ["p95_ms[fast:1] <= 5"]',
        "operational.checks[0]",
        "'fast' is not a call the gate times",
        id="selector-unknown-method",
    ),
    _case(
        '[operational]\nchecks = ["p95_ms[predcit:1] <= 5"]',
        "operational.checks[0]",
        "'predcit' is not a call the gate times (did you mean 'predict'?)",
        id="selector-method-typo",
    ),
    _case(
        '[operational]\nbatch_sizes = [64]\nchecks = ["p95_ms[predict] <= 5"]',
        "operational.checks[0]",
        "name a timed call as method:batch_size, e.g. p95_ms[predict:64]",
        id="selector-without-batch-size",
    ),
    _case(
        '[operational]\nchecks = ["p95_ms[Predict:1] <= 5"]',
        "operational.checks[0]",
        "name a timed call as method:batch_size",
        id="selector-capitalised",
    ),
    _case(
        '[operational]\nmethods = ["predict"]\nchecks = ["p95_ms[predict_proba:1] <= 5"]',
        "operational.checks[0]",
        "predict_proba is not in operational.methods; add it there",
        id="selector-method-not-listed",
    ),
    _case(
        '[operational]\nbatch_sizes = [8, 64]\nchecks = ["throughput_rps[predict:8] >= 100"]',
        "operational.checks[0]",
        "throughput is measured at the largest batch size, 64",
        id="throughput-not-at-largest-batch",
    ),
    _case(
        '[operational]\nchecks = ["p95_ms[predict:1] <= 5", "p95_ms[ predict:1 ] <= 9"]',
        "operational.checks[1]",
        "twice",
        id="same-call-bound-twice",
    ),
    # batch_sizes
    _case(
        f"[operational]\nbatch_sizes = []\n{LATENCY}",
        "operational.batch_sizes",
        "expected a list of whole numbers >= 1, got []",
        id="batch-sizes-empty",
    ),
    _case(
        f"[operational]\nbatch_sizes = [0, 8]\n{LATENCY}",
        "operational.batch_sizes",
        "expected a list of whole numbers >= 1, got [0, 8]",
        id="batch-sizes-zero",
    ),
    _case(
        f"[operational]\nbatch_sizes = [-8]\n{LATENCY}",
        "operational.batch_sizes",
        "expected a list of whole numbers >= 1",
        id="batch-sizes-negative",
    ),
    _case(
        f'[operational]\nbatch_sizes = ["8", "64"]\n{LATENCY}',
        "operational.batch_sizes",
        "expected a list of whole numbers >= 1, got ['8', '64']",
        id="batch-sizes-strings",
    ),
    _case(
        f"[operational]\nbatch_sizes = [true]\n{LATENCY}",
        "operational.batch_sizes",
        "expected a list of whole numbers >= 1, got [True]",
        id="batch-sizes-boolean",
    ),
    _case(
        f"[operational]\nbatch_sizes = [1.5]\n{LATENCY}",
        "operational.batch_sizes",
        "expected a list of whole numbers >= 1",
        id="batch-sizes-fraction",
    ),
    _case(
        f"[operational]\nbatch_sizes = 64\n{LATENCY}",
        "operational.batch_sizes",
        "expected a list of whole numbers >= 1, got 64",
        id="batch-sizes-not-a-list",
    ),
    _case(
        f"[operational]\nbatch_sizes = [8, 200000]\n{LATENCY}",
        "operational.batch_sizes",
        "200000 rows per call is too many; at most 100000",
        id="batch-sizes-too-large",
    ),
    # methods
    _case(
        f'[operational]\nmethods = ["predict", "score"]\n{LATENCY}',
        "operational.methods",
        "'score' is not a call the gate times; use predict or predict_proba",
        id="methods-unknown",
    ),
    _case(
        f'[operational]\nmethods = ["predict_prob"]\n{LATENCY}',
        "operational.methods",
        "(did you mean 'predict_proba'?)",
        "use predict or predict_proba",
        id="methods-typo",
    ),
    _case(
        f'[operational]\nmethods = "predict"\n{LATENCY}',
        "operational.methods",
        "expected a list of strings",
        id="methods-a-string",
    ),
    # whole numbers
    _case(
        f"[operational]\nrows = 0\n{LATENCY}",
        "operational.rows",
        "0 is too small; it must be at least 1",
        id="rows-zero",
    ),
    _case(
        f'[operational]\nrows = "many"\n{LATENCY}',
        "operational.rows",
        "expected a whole number, got 'many'",
        id="rows-a-string",
    ),
    _case(
        f"[operational]\nwarmup = -1\n{LATENCY}",
        "operational.warmup",
        "at least 0",
        id="warmup-negative",
    ),
    _case(
        f"[operational]\nmin_calls = 10\n{LATENCY}",
        "operational.min_calls",
        "10 is too small; it must be at least 20",
        id="min-calls-too-few",
    ),
    _case(
        f"[operational]\nmin_calls = 300\nmax_calls = 250\n{LATENCY}",
        "operational.max_calls",
        "250",
        "300",
        id="max-calls-below-min-calls",
    ),
    _case(
        f"[operational]\nretries = 51\n{LATENCY}",
        "operational.retries",
        "51 is too large; it must be at most 50",
        id="retries-too-many",
    ),
    _case(
        f"[operational]\nthreads = -1\n{LATENCY}",
        "operational.threads",
        "-1 is too small; it must be at least 0",
        id="threads-negative",
    ),
    _case(
        f"[operational]\nthreads = 2000\n{LATENCY}",
        "operational.threads",
        "2000 is too large; it must be at most 1024",
        id="threads-too-many",
    ),
    _case(
        f'[operational]\nthreads = "all"\n{LATENCY}',
        "operational.threads",
        "expected a whole number, got 'all'",
        id="threads-a-string",
    ),
    _case(
        f"[operational]\nresamples = 50\n{LATENCY}",
        "operational.resamples",
        "at least 100",
        id="resamples-too-few",
    ),
    _case(
        f"[operational]\nseed = -1\n{LATENCY}",
        "operational.seed",
        "at least 0",
        id="seed-negative",
    ),
    # load: what it targets
    _case(
        f'[operational.load]\n{LOAD_CHECKS}\nurl = "http://models.example.com/predict"\n'
        'payload = "body.json"',
        "operational.load.url",
        "'http://models.example.com/predict' is not on this machine",
        "set load.allow_remote = true to target another host",
        id="load-remote-url",
    ),
    _case(
        f'[operational.load]\n{LOAD_CHECKS}\nurl = "{REMOTE}"\nallow_remote = false\n'
        'payload = "body.json"',
        "operational.load.url",
        "is not on this machine",
        id="load-remote-url-allow-remote-false",
    ),
    _case(
        f'[operational.load]\n{LOAD_CHECKS}\nurl = "http://127.0.0.1@models.example.com/p"\n'
        'payload = "body.json"',
        "operational.load.url",
        "is not on this machine",
        id="load-remote-url-with-loopback-userinfo",
    ),
    _case(
        f'[operational.load]\n{LOAD_CHECKS}\nurl = "{REMOTE}"\nallow_remote = "yes"\n'
        'payload = "body.json"',
        "operational.load.allow_remote",
        "expected true or false, got 'yes'",
        id="load-allow-remote-a-string",
    ),
    _case(
        f'[operational.load]\n{LOAD_CHECKS}\nurl = "ftp://127.0.0.1/predict"\n'
        'payload = "body.json"',
        "operational.load.url",
        "'ftp://127.0.0.1/predict' is not an http(s) URL",
        "'http://127.0.0.1:8000/predict'",
        id="load-url-not-http",
    ),
    _case(
        f'[operational.load]\n{LOAD_CHECKS}\nurl = "localhost:8000/predict"\npayload = "body.json"',
        "operational.load.url",
        "is not an http(s) URL",
        id="load-url-without-scheme",
    ),
    _case(
        f'[operational.load]\n{LOAD_CHECKS}\nurl = "http:///predict"\npayload = "body.json"',
        "operational.load.url",
        "is not an http(s) URL",
        id="load-url-without-host",
    ),
    _case(
        f'[operational.load]\n{LOAD_CHECKS}\nurl = 8000\npayload = "body.json"',
        "operational.load.url",
        "expected a string, got 8000",
        id="load-url-a-number",
    ),
    _case(
        f'[operational.load]\n{LOAD_CHECKS}\npayload = "body.json"',
        "operational.load.payload",
        "is for an endpoint named by load.url",
        id="load-payload-without-url",
    ),
    _case(
        f'[operational.load]\n{LOAD_CHECKS}\nurl = "{LOCAL}"',
        "operational.load.payload",
        "is required with load.url",
        "a JSON file holding the request body",
        id="load-url-without-payload",
    ),
    _case(
        f'[operational.load]\n{LOAD_CHECKS}\nurl = "{LOCAL}"\npayload = "missing.json"',
        "operational.load.payload",
        "file not found: 'missing.json'",
        id="load-payload-missing",
    ),
    _case(
        f'[operational.load]\n{LOAD_CHECKS}\nurl = "{LOCAL}"\npayload = "body.json"\n'
        "rows_per_request = 4",
        "operational.load.rows_per_request",
        "is for mlgates serve; with load.url the payload file sets the rows",
        id="load-rows-per-request-with-url",
    ),
    _case(
        f"[operational.load]\n{LOAD_CHECKS}",
        "operational.load.url",
        "is required without a [performance] table",
        "add [performance] so that mlgates serve can serve its candidate",
        id="load-without-url-or-performance",
        performance=False,
    ),
    _case(
        '[operational]\nload = "http://127.0.0.1:8000/predict"',
        "operational.load",
        "expected a table",
        id="load-not-a-table",
    ),
    # load: how hard and how long
    _case(
        f'[operational.load]\n{LOAD_CHECKS}\nduration = "1.5s"',
        "operational.load.duration",
        "1.5 s: the load test runs for whole seconds",
        id="load-fractional-duration",
    ),
    _case(
        f'[operational.load]\n{LOAD_CHECKS}\nduration = "60s"\ntimeout = "65s"',
        "operational.load.timeout",
        "65 s leaves no time to start the server and workers around a 60 s run",
        "give at least 70 s",
        id="load-timeout-shorter-than-duration",
    ),
    _case(
        f'[operational.load]\n{LOAD_CHECKS}\ntimeout = "15s"',
        "operational.load.timeout",
        "around a 10 s run: give at least 20 s",
        id="load-timeout-short-for-default-duration",
    ),
    _case(
        f'[operational.load]\n{LOAD_CHECKS}\ntimeout = "4s"',
        "operational.load.timeout",
        "'4s' is too short; it must be at least 5 s",
        id="load-timeout-below-minimum",
    ),
    _case(
        f"[operational.load]\n{LOAD_CHECKS}\nusers = 0",
        "operational.load.users",
        "0 is too small; it must be at least 1",
        id="load-no-users",
    ),
    _case(
        f"[operational.load]\n{LOAD_CHECKS}\nworkers = 65",
        "operational.load.workers",
        "at most 64",
        id="load-too-many-workers",
    ),
    _case(
        f"[operational.load]\n{LOAD_CHECKS}\nspawn_rate = 0",
        "operational.load.spawn_rate",
        "at least 0.1",
        id="load-spawn-rate-zero",
    ),
    _case(
        f"[operational.load]\n{LOAD_CHECKS}\nrows_per_request = 0",
        "operational.load.rows_per_request",
        "at least 1",
        id="load-rows-per-request-zero",
    ),
    # load: its checks
    _case(
        "[operational.load]\nchecks = []",
        "operational.load.checks",
        'is required: e.g. ["p99_ms <= 100", "failure_ratio <= 0.001"]',
        id="load-checks-empty",
    ),
    _case(
        "[operational.load]\nusers = 5",
        "operational.load.checks",
        "is required",
        id="load-checks-missing",
    ),
    _case(
        f"[operational]\n{LATENCY}\n[operational.load]\nchecks = []",
        "operational.load.checks",
        "is required",
        id="load-checks-empty-beside-checks",
    ),
    _case(
        '[operational.load]\nchecks = ["p99_ms[predict:1] <= 100"]',
        "operational.load.checks[0]",
        "names 'predict:1' inside the table of 'load'",
        id="load-check-naming-a-call",
    ),
    _case(
        '[operational.load]\nchecks = ["p99_ms <= baseline"]',
        "operational.load.checks[0]",
        "'p99_ms' cannot be compared with 'baseline'",
        id="load-check-against-baseline",
    ),
    _case(
        '[operational.load]\nchecks = ["p99_ms <= 100 @95%"]',
        "operational.load.checks[0]",
        "'p99_ms' has no confidence interval",
        id="load-check-with-confidence",
    ),
    _case(
        '[operational.load]\nchecks = ["p99_ms <= 100", "p99_ms[load] <= 200"]',
        "operational.load.checks[1]",
        "twice (also at operational.load.checks[0])",
        id="load-check-twice",
    ),
    # audit: advisories
    _case(
        f'[operational.audit]\n{AUDIT_CHECKS}\nadvisory_url = "file:///srv/osv"',
        "operational.audit.advisory_url",
        "'file:///srv/osv' is not the http(s) URL of an OSV query API",
        id="audit-advisory-url-not-http",
    ),
    _case(
        f'[operational.audit]\n{AUDIT_CHECKS}\nadvisory_url = "https:///v1/query"',
        "operational.audit.advisory_url",
        "is not the http(s) URL of an OSV query API",
        id="audit-advisory-url-without-host",
    ),
    _case(
        f'[operational.audit]\n{AUDIT_CHECKS}\nadvisory_url = "http://127.0.0.1:9/v1/query"\n'
        'advisories = "advisories.json"',
        "operational.audit.advisories",
        "give advisory_url or advisories, not both",
        id="audit-advisory-url-and-advisories",
    ),
    _case(
        f'[operational.audit]\n{AUDIT_CHECKS}\nadvisories = "osv/missing.json"',
        "operational.audit.advisories",
        "not found:",
        "missing.json (an OSV JSON file, or a directory of them)",
        id="audit-advisories-missing",
    ),
    _case(
        f'[operational.audit]\n{AUDIT_CHECKS}\nrequirements = "requirements-prod.txt"',
        "operational.audit.requirements",
        "file not found: 'requirements-prod.txt'",
        id="audit-requirements-missing",
    ),
    _case(
        f'[operational.audit]\n{AUDIT_CHECKS}\nresolve = "yes"',
        "operational.audit.resolve",
        "expected true or false",
        id="audit-resolve-a-string",
    ),
    # audit: ignores
    _case(
        f'[operational.audit]\n{AUDIT_CHECKS}\nignore = "GHSA-aaaa-bbbb-cccc"',
        "operational.audit.ignore",
        "expected a list of tables such as [{ id = ",
        id="ignore-a-string",
    ),
    _case(
        f'[operational.audit]\n{AUDIT_CHECKS}\nignore = {{ id = "GHSA-1", {ENTRY} }}',
        "operational.audit.ignore",
        "expected a list of tables",
        id="ignore-a-table",
    ),
    _case(
        f'[operational.audit]\n{AUDIT_CHECKS}\nignore = ["GHSA-aaaa-bbbb-cccc"]',
        "operational.audit.ignore[0]",
        "expected a table such as { id = ",
        id="ignore-entry-a-string",
    ),
    _case(
        f"[operational.audit]\n{AUDIT_CHECKS}\nignore = [{{ {ENTRY} }}]",
        "operational.audit.ignore[0].id",
        "is required: the advisory's id (GHSA-..., PYSEC-..., CVE-...)",
        id="ignore-without-id",
    ),
    _case(
        f'[operational.audit]\n{AUDIT_CHECKS}\nignore = [{{ id = "  ", {ENTRY} }}]',
        "operational.audit.ignore[0].id",
        "is required",
        id="ignore-blank-id",
    ),
    _case(
        f"[operational.audit]\n{AUDIT_CHECKS}\nignore = [{{ id = 110, {ENTRY} }}]",
        "operational.audit.ignore[0].id",
        "expected a string, got 110",
        id="ignore-id-a-number",
    ),
    _case(
        f'[operational.audit]\n{AUDIT_CHECKS}\nignore = [\n  {{ id = "GHSA-1", {ENTRY} }},\n'
        '  { id = "GHSA-2", expires = 2027-01-31 },\n]',
        "operational.audit.ignore[1].reason",
        "is required: why the advisory does not affect you",
        id="ignore-without-reason",
    ),
    _case(
        f'[operational.audit]\n{AUDIT_CHECKS}\nignore = [{{ id = "GHSA-1", reason = " ", '
        "expires = 2027-01-31 }]",
        "operational.audit.ignore[0].reason",
        "is required",
        id="ignore-blank-reason",
    ),
    _case(
        f'[operational.audit]\n{AUDIT_CHECKS}\nignore = [{{ id = "GHSA-1", reason = "r" }}]',
        "operational.audit.ignore[0].expires",
        "is required: the date the ignore ends, e.g. 2027-01-31",
        id="ignore-without-expires",
    ),
    _case(
        f'[operational.audit]\n{AUDIT_CHECKS}\nignore = [{{ id = "GHSA-1", reason = "r", '
        'expires = "2027-02-30" }]',
        "operational.audit.ignore[0].expires",
        "'2027-02-30' is not a date; write it as 2027-01-31",
        id="ignore-impossible-date",
    ),
    _case(
        f'[operational.audit]\n{AUDIT_CHECKS}\nignore = [{{ id = "GHSA-1", reason = "r", '
        'expires = "next year" }]',
        "operational.audit.ignore[0].expires",
        "'next year' is not a date",
        id="ignore-date-in-words",
    ),
    _case(
        f'[operational.audit]\n{AUDIT_CHECKS}\nignore = [{{ id = "GHSA-1", reason = "r", '
        "expires = 20270131 }]",
        "operational.audit.ignore[0].expires",
        "20270131 is not a date",
        id="ignore-date-a-number",
    ),
    _case(
        f'[operational.audit]\n{AUDIT_CHECKS}\nignore = [{{ id = "GHSA-1", reason = "r", '
        "expires = 10:30:00 }]",
        "operational.audit.ignore[0].expires",
        "is not a date; write it as 2027-01-31",
        id="ignore-date-a-time-of-day",
    ),
    _case(
        f"[operational.audit]\n{AUDIT_CHECKS}\nignore = [\n"
        f'  {{ id = "GHSA-aaaa-bbbb", {ENTRY} }},\n'
        '  { id = " ghsa-AAAA-bbbb ", reason = "again", expires = 2026-12-31 },\n]',
        "operational.audit.ignore[1].id",
        "' ghsa-AAAA-bbbb ' is ignored twice; keep one entry",
        id="ignore-same-id-twice-any-case",
    ),
    # audit: its checks
    _case(
        "[operational.audit]\nchecks = []",
        "operational.audit.checks",
        'is required: e.g. ["vulnerabilities == 0"]',
        id="audit-checks-empty",
    ),
    _case(
        '[operational.audit]\nrequirements = "requirements.txt"',
        "operational.audit.checks",
        "is required",
        id="audit-checks-missing",
    ),
    _case(
        '[operational.audit]\nchecks = ["vulnerabilities <= baseline"]',
        "operational.audit.checks[0]",
        "'vulnerabilities' cannot be compared with 'baseline'",
        id="audit-check-against-baseline",
    ),
    _case(
        '[operational.audit]\nchecks = ["vulnerabilites == 0"]',
        "operational.audit.checks[0]",
        "unknown metric 'vulnerabilites' (did you mean 'vulnerabilities'?)",
        id="audit-metric-typo",
    ),
]


@pytest.mark.parametrize(("operational", "performance", "key", "fragments"), CONFIG_ERRORS)
def test_a_broken_operational_table_names_the_file_the_key_and_the_fix(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    operational: str,
    performance: bool,
    key: str,
    fragments: tuple[str, ...],
):
    path = _project(tmp_path, operational, performance=performance, baseline=False)
    _assert_rejected(path, capsys, key, *fragments)


def test_an_unparsable_check_points_at_the_fault(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    path = _project(tmp_path, '[operational.load]\nchecks = ["failure_ratio <= 1O"]')
    _assert_config_error(path, "operational.load.checks[0]", "failure_ratio <= 1O")
    code, out, err = _cli(path, capsys)
    assert code == 2 and "Traceback" not in out + err, out + err
    first, *caret = err.strip().splitlines()  # the threshold, then a caret under the fault
    assert first.startswith("mlgates: error: ") and "operational.load.checks[0]: " in first
    assert caret and caret[-1].strip() == "^", err
    code, out, err = _cli(path, capsys, "-t", "p99_ms <= 5 @95")
    assert code == 2 and "Traceback" not in out + err, out + err


def test_max_calls_below_min_calls_names_min_calls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    path = _project(tmp_path, f"[operational]\nmax_calls = 50\n{LATENCY}")
    _assert_rejected(path, capsys, "operational.max_calls", "min_calls")


# -- durations ---------------------------------------------------------------------------

DURATION_KEYS = {
    "time_budget": f"[operational]\n{LATENCY}\ntime_budget = {{value}}",
    "timeout": f"[operational]\n{LATENCY}\ntimeout = {{value}}",
    "load.duration": f"[operational.load]\n{LOAD_CHECKS}\nduration = {{value}}",
    "load.timeout": f"[operational.load]\n{LOAD_CHECKS}\ntimeout = {{value}}",
    "load.request_timeout": f"[operational.load]\n{LOAD_CHECKS}\nrequest_timeout = {{value}}",
    "audit.timeout": f"[operational.audit]\n{AUDIT_CHECKS}\ntimeout = {{value}}",
}
BAD_DURATIONS = [
    ('"20 parsecs"', "'20 parsecs' is not a duration: write a number and a unit (w, d, h, m, s)"),
    ("-1", "-1 is too short; it must be at least"),
    ('"1.5x"', "'1.5x' is not a duration"),
    ('"-5s"', "'-5s' is not a duration"),
    ('"500ms"', "'500ms' is not a duration"),
    ('""', "'' is not a duration"),
    ("true", 'expected a duration such as "20s" or "5m", got True'),
    ('["20s"]', "expected a duration such as"),
]


@pytest.mark.parametrize(
    ("value", "fragment"), BAD_DURATIONS, ids=[v.strip('"[]') or "blank" for v, _ in BAD_DURATIONS]
)
@pytest.mark.parametrize("key", ["time_budget", "timeout", "load.duration"])
def test_a_bad_duration_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, value: str, fragment: str
):
    path = _project(tmp_path, DURATION_KEYS[key].format(value=value))
    _assert_rejected(path, capsys, f"operational.{key}", fragment)


@pytest.mark.parametrize("key", ["load.timeout", "load.request_timeout", "audit.timeout"])
@pytest.mark.parametrize("value", ['"20 parsecs"', "false", "-1"])
def test_a_bad_duration_in_a_sub_table_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, value: str
):
    path = _project(tmp_path, DURATION_KEYS[key].format(value=value))
    _assert_rejected(path, capsys, f"operational.{key}")


@pytest.mark.parametrize(
    ("key", "minimum"), [("time_budget", "0.1 s"), ("timeout", "1 s"), ("load.duration", "1 s")]
)
def test_a_duration_below_its_minimum_says_the_minimum(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, minimum: str
):
    path = _project(tmp_path, DURATION_KEYS[key].format(value='"0s"'))
    _assert_rejected(path, capsys, f"operational.{key}", f"it must be at least {minimum}")


@pytest.mark.parametrize("key", ["time_budget", "load.duration"])
def test_a_duration_that_is_not_a_number_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str
):
    path = _project(tmp_path, DURATION_KEYS[key].format(value="nan"))
    _assert_rejected(path, capsys, f"operational.{key}", "nan")


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        ('"20s"', 20.0),
        ('"5m"', 300.0),
        ('"1.5h"', 5400.0),
        ('"2d"', 172_800.0),
        ('"1w"', 604_800.0),
        ('" 3 m "', 180.0),
        ('"45"', 45.0),
        ("45", 45.0),
        ("2.5", 2.5),
        ('"0.1s"', 0.1),
    ],
)
def test_durations_are_read_in_seconds(tmp_path: Path, written: str, seconds: float):
    path = _project(tmp_path, DURATION_KEYS["time_budget"].format(value=written))
    assert _operational(path).timing.time_budget == pytest.approx(seconds)


@pytest.mark.parametrize("key", list(DURATION_KEYS))
def test_an_infinite_duration_is_refused(tmp_path: Path, key: str):
    # the loader only: while inf is accepted, mlgates run would time or load-test for real
    path = _project(tmp_path, DURATION_KEYS[key].format(value="inf"))
    _assert_config_error(path, f"operational.{key}", "inf")


# -- metrics in the wrong list -----------------------------------------------------------

WRONG_LIST = [
    pytest.param(
        '[operational]\nchecks = ["failure_ratio <= 0.01"]',
        "operational.checks[0]",
        "failure_ratio",
        ("p95_ms", "throughput_rps"),
        "operational.load.checks",
        id="failure-ratio-in-checks",
    ),
    pytest.param(
        '[operational]\nchecks = ["requests_per_s >= 50"]',
        "operational.checks[0]",
        "requests_per_s",
        ("p95_ms", "peak_memory_mb"),
        "operational.load.checks",
        id="requests-per-s-in-checks",
    ),
    pytest.param(
        '[operational]\nchecks = ["vulnerabilities == 0"]',
        "operational.checks[0]",
        "vulnerabilities",
        ("p95_ms",),
        "operational.audit.checks",
        id="vulnerabilities-in-checks",
    ),
    pytest.param(
        '[operational.load]\nchecks = ["throughput_rps >= 100"]',
        "operational.load.checks[0]",
        "throughput_rps",
        ("failure_ratio", "requests_per_s"),
        "operational.checks",
        id="throughput-in-load-checks",
    ),
    pytest.param(
        '[operational.load]\nchecks = ["peak_memory_mb <= 500"]',
        "operational.load.checks[0]",
        "peak_memory_mb",
        ("failure_ratio",),
        "operational.checks",
        id="memory-in-load-checks",
    ),
    pytest.param(
        '[operational.load]\nchecks = ["vulnerabilities == 0"]',
        "operational.load.checks[0]",
        "vulnerabilities",
        ("failure_ratio", "p99_ms"),
        "operational.audit.checks",
        id="vulnerabilities-in-load-checks",
    ),
    pytest.param(
        '[operational.audit]\nchecks = ["p95_ms <= 50"]',
        "operational.audit.checks[0]",
        "p95_ms",
        ("vulnerabilities",),
        "operational.checks",
        id="latency-in-audit-checks",
    ),
]


@pytest.mark.parametrize(("operational", "key", "metric", "valid", "home"), WRONG_LIST)
def test_a_metric_of_another_list_is_refused_naming_the_valid_metrics(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    operational: str,
    key: str,
    metric: str,
    valid: tuple[str, ...],
    home: str,
):
    path = _project(tmp_path, operational)
    _assert_rejected(path, capsys, key, repr(metric), *valid)


@pytest.mark.parametrize(("operational", "key", "metric", "valid", "home"), WRONG_LIST)
def test_a_metric_of_another_list_names_the_list_it_belongs_to(
    tmp_path: Path,
    operational: str,
    key: str,
    metric: str,
    valid: tuple[str, ...],
    home: str,
):
    path = _project(tmp_path, operational)
    error = _assert_config_error(path, key, repr(metric), home)
    assert "unknown metric" not in error.problem, error.problem


def test_a_load_selector_in_checks_points_at_load_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    path = _project(tmp_path, '[operational]\nchecks = ["p95_ms[load] <= 100"]')
    _assert_rejected(path, capsys, "operational.checks[0]", "operational.load.checks")


def test_an_unknown_method_in_a_selector_lists_the_methods(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    path = _project(tmp_path, '[operational]\nchecks = ["p95_ms[fast:1] <= 5"]')
    _assert_rejected(path, capsys, "operational.checks[0]", "predict or predict_proba")


@pytest.mark.parametrize("call", ["predict:01", "predict:\u0661"])
def test_a_call_written_with_other_digits_is_normalised_or_refused(tmp_path: Path, call: str):
    path = _project(tmp_path, f'[operational]\nchecks = ["p95_ms[{call}] <= 5"]')
    try:
        config = _operational(path)
    except ConfigError as error:
        assert error.key == "operational.checks[0]", error
        return
    assert config.checks[0].threshold.selector == "predict:1"


# -- what a valid table holds ------------------------------------------------------------

FULL = """
[operational]
checks = [
  "p95_ms[predict:64] <= baseline + 20% @95%",
  "throughput_rps >= 100",
  "peak_memory_mb <= 500",
  { check = "model_size_mb <= 50", severity = "warn", reason = "fits the serving image" },
]
batch_sizes = [64, 8, 8]
methods = ["predict_proba", "predict", "predict"]
rows = 500
warmup = 5
min_calls = 50
max_calls = 400
time_budget = "1.5m"
retries = 2
threads = 4
resamples = 200
seed = 7
timeout = "2m"

[operational.load]
checks = ["p99_ms <= 250", "failure_ratio <= 0.001", "requests_per_s >= 20", "p95_ms[load] <= 90"]
users = 4
duration = "30s"
workers = 2
request_timeout = "2.5s"

[operational.audit]
checks = ["vulnerabilities == 0", "vulnerabilities[requests] <= 1"]
requirements = "requirements.txt"
advisories = "advisories.json"
timeout = "1h"
ignore = [
  { id = " GHSA-aaaa-bbbb-cccc ", reason = " the parser is never called ", expires = 2027-01-31 },
  { id = "PYSEC-2024-110", reason = "patched in our image", expires = "2026-12-31" },
  { id = "CVE-2023-1", reason = "offline only", expires = 2026-07-01T12:00:00 },
  { id = "CVE-2023-2", reason = "offline only", expires = 2026-08-01T23:30:00-05:00 },
]
"""


def test_a_full_table_parses_to_its_values(tmp_path: Path):
    path = _project(tmp_path, FULL)
    config = _operational(path)
    assert isinstance(config.models, PerformanceConfig)
    assert config.models.baseline is not None
    assert config.root == tmp_path
    assert config.timing == TimingSettings(
        batch_sizes=(1, 8, 64),  # sorted, once each, with 1 added
        methods=("predict_proba", "predict"),
        rows=500,
        warmup=5,
        min_calls=50,
        max_calls=400,
        time_budget=90.0,
        retries=2,
        threads=4,
        resamples=200,
        seed=7,
        timeout=120.0,
    )
    assert config.timing.largest_batch == 64
    assert [str(s.threshold) for s in config.checks] == [
        "p95_ms[predict:64] <= baseline + 20% @95%",
        "throughput_rps >= 100",
        "peak_memory_mb <= 500",
        "model_size_mb <= 50",
    ]
    warned = config.checks[3]
    assert warned.severity is Severity.WARN and warned.reason == "fits the serving image"
    assert warned.origin.key == "operational.checks[3]"

    load = config.load
    assert load is not None
    assert (load.url, load.payload, load.rows_per_request) == (None, None, 1)
    assert (load.users, load.spawn_rate, load.workers) == (4, 4.0, 2)
    assert (load.duration, load.request_timeout, load.timeout) == (30.0, 2.5, 150.0)
    assert [str(s.threshold) for s in load.checks] == [
        "p99_ms[load] <= 250",
        "failure_ratio[load] <= 0.001",
        "requests_per_s[load] >= 20",
        "p95_ms[load] <= 90",
    ]
    assert [s.origin.key for s in load.checks] == [
        f"operational.load.checks[{i}]" for i in range(4)
    ]

    audit = config.audit
    assert audit is not None
    assert audit.requirements == tmp_path / "requirements.txt"
    assert audit.advisories == tmp_path / "advisories.json"
    assert (audit.advisory_url, audit.resolve, audit.timeout) == (None, False, 3600.0)
    assert [str(s.threshold) for s in audit.checks] == [
        "vulnerabilities == 0",
        "vulnerabilities[requests] <= 1",
    ]
    assert audit.ignore == (
        IgnoredAdvisory(
            "GHSA-aaaa-bbbb-cccc",
            "the parser is never called",
            dt.date(2027, 1, 31),
            "operational.audit.ignore[0]",
        ),
        IgnoredAdvisory(
            "PYSEC-2024-110",
            "patched in our image",
            dt.date(2026, 12, 31),
            "operational.audit.ignore[1]",
        ),
        IgnoredAdvisory(
            "CVE-2023-1", "offline only", dt.date(2026, 7, 1), "operational.audit.ignore[2]"
        ),
        IgnoredAdvisory(
            "CVE-2023-2", "offline only", dt.date(2026, 8, 1), "operational.audit.ignore[3]"
        ),
    )
    assert all(type(i.expires) is dt.date for i in audit.ignore)  # never a datetime
    assert not audit.ignore[0].expired(dt.date(2027, 1, 31))  # holds through the day
    assert audit.ignore[0].expired(dt.date(2027, 2, 1))
    assert len(config.all_checks) == 4 + 4 + 2


DOCUMENTED = """
[operational]
batch_sizes = [1, 64]
checks = ["p95_ms <= baseline + 20%", "peak_memory_mb <= 512", "throughput_rps >= 2000"]
load = { users = 20, duration = "20s", checks = ["p99_ms <= 100", "failure_ratio <= 0.001"] }
audit = { requirements = "requirements.txt", checks = ["vulnerabilities == 0"], ignore = [
  { id = "GHSA-xxxx-xxxx-xxxx", reason = "only the CLI is affected", expires = 2027-01-31 },
] }
"""


def test_the_documented_example_parses(tmp_path: Path):
    """The opening example of docs/operational-gate.md (a shorter reason), inline tables."""
    config = _operational(_project(tmp_path, DOCUMENTED))
    assert config.timing.batch_sizes == (1, 64)
    assert config.load is not None and config.audit is not None
    assert (config.load.users, config.load.duration, config.load.timeout) == (20, 20.0, 140.0)
    assert [str(s.threshold) for s in config.load.checks] == [
        "p99_ms[load] <= 100",
        "failure_ratio[load] <= 0.001",
    ]
    (ignored,) = config.audit.ignore
    assert (ignored.id, ignored.expires, ignored.key) == (
        "GHSA-xxxx-xxxx-xxxx",
        dt.date(2027, 1, 31),
        "operational.audit.ignore[0]",
    )


def test_a_minimal_table_takes_the_defaults(tmp_path: Path):
    config = _operational(_project(tmp_path, f"[operational]\n{LATENCY}"))
    assert config.timing == TimingSettings()
    assert config.timing.batch_sizes == (1,) and config.timing.methods == ()
    assert (config.timing.time_budget, config.timing.timeout) == (2.0, 600.0)
    assert (config.load, config.audit) == (None, None)
    (spec,) = config.checks
    assert spec.threshold.selector is None and spec.origin.key == "operational.checks[0]"


def test_load_defaults_follow_users_and_duration(tmp_path: Path):
    config = _operational(
        _project(tmp_path, f'[operational.load]\n{LOAD_CHECKS}\nusers = 25\nduration = "5m"')
    )
    assert config.load is not None
    assert (config.load.spawn_rate, config.load.duration, config.load.timeout) == (
        25.0,
        300.0,
        420.0,  # the run plus two minutes for the server and workers
    )
    assert (config.load.request_timeout, config.load.workers) == (10.0, 0)
    plain = _operational(_project(tmp_path, f"[operational.load]\n{LOAD_CHECKS}")).load
    assert plain is not None
    assert (plain.users, plain.spawn_rate, plain.duration, plain.timeout) == (10, 10.0, 10.0, 130.0)


def test_a_load_timeout_ten_seconds_past_the_duration_is_enough(tmp_path: Path):
    path = _project(tmp_path, f"[operational.load]\n{LOAD_CHECKS}\nduration = 20\ntimeout = 30")
    load = _operational(path).load
    assert load is not None and (load.duration, load.timeout) == (20.0, 30.0)


@pytest.mark.parametrize(
    "url",
    [LOCAL, "http://localhost:8000/predict", "http://LOCALHOST/predict", "http://[::1]:8000/p"],
)
def test_a_local_endpoint_needs_no_performance_table(tmp_path: Path, url: str):
    path = _project(
        tmp_path,
        f'[operational.load]\n{LOAD_CHECKS}\nurl = "{url}"\npayload = "body.json"',
        performance=False,
    )
    config = _operational(path)
    assert config.models is None and config.checks == ()
    assert config.load is not None
    assert (config.load.url, config.load.payload) == (url, tmp_path / "body.json")


def test_a_remote_endpoint_is_accepted_with_allow_remote(tmp_path: Path):
    path = _project(
        tmp_path,
        f'[operational.load]\n{LOAD_CHECKS}\nurl = "{REMOTE}"\nallow_remote = true\n'
        'payload = "body.json"',
        performance=False,
    )
    load = _operational(path).load
    assert load is not None
    assert (load.url, load.payload) == (REMOTE, tmp_path / "body.json")
    assert [str(s.threshold) for s in load.checks] == ["p99_ms[load] <= 100"]


def test_an_audit_alone_needs_no_performance_table(tmp_path: Path):
    path = _project(
        tmp_path,
        f'[operational.audit]\n{AUDIT_CHECKS}\nadvisory_url = "https://osv.example.com/v1/query"'
        "\nresolve = true",
        performance=False,
    )
    config = _operational(path)
    assert config.models is None and config.load is None
    assert config.audit is not None
    assert config.audit.advisory_url == "https://osv.example.com/v1/query"
    assert (config.audit.requirements, config.audit.advisories) == (None, None)
    assert config.audit.resolve is True and config.audit.ignore == ()
    assert config.audit.timeout == 300.0


def test_an_advisories_directory_is_accepted(tmp_path: Path):
    (tmp_path / "osv").mkdir()
    shutil.copy(EXAMPLE / "advisories.json", tmp_path / "osv" / "credit.json")
    path = _project(tmp_path, f'[operational.audit]\n{AUDIT_CHECKS}\nadvisories = "osv"')
    audit = _operational(path).audit
    assert audit is not None and audit.advisories == tmp_path / "osv"


def test_calls_named_by_checks_are_accepted_at_every_timed_batch(tmp_path: Path):
    path = _project(
        tmp_path,
        '[operational]\nbatch_sizes = [8, 64]\nmethods = ["predict_proba"]\nchecks = [\n'
        '  "p50_ms[predict_proba:1] <= 2", "p95_ms[ predict_proba:8 ] <= baseline + 10%",\n'
        '  "throughput_rps[predict_proba:64] >= baseline - 5% @90%", "max_ms <= 50",\n]',
    )
    config = _operational(path)
    assert [s.threshold.selector for s in config.checks] == [
        "predict_proba:1",
        "predict_proba:8",
        "predict_proba:64",
        None,
    ]


# -- --threshold on the command line ------------------------------------------------------

LOAD_PROJECT = f"""
[operational]
{LATENCY}

[operational.load]
checks = ["failure_ratio <= 0.01", "p99_ms <= 100", "p95_ms <= 80"]
"""


def _thresholds(specs) -> list[str]:
    """The thresholds as written, without a ``operational::`` prefix."""
    return [str(s.threshold).removeprefix("operational::") for s in specs]


@pytest.mark.parametrize(
    ("threshold", "checks", "load"),
    [
        (
            "operational::failure_ratio[load] <= 0.5",
            ["p95_ms <= 50"],
            [
                "p99_ms[load] <= 100",
                "p95_ms[load] <= 80",
                "failure_ratio[load] <= 0.5",
            ],
        ),
        (
            "failure_ratio <= 0.5",
            ["p95_ms <= 50"],
            ["p99_ms[load] <= 100", "p95_ms[load] <= 80", "failure_ratio[load] <= 0.5"],
        ),
        (
            "p99_ms[load] <= 7",
            ["p95_ms <= 50"],
            ["failure_ratio[load] <= 0.01", "p95_ms[load] <= 80", "p99_ms[load] <= 7"],
        ),
        (  # a shared latency name without [load] is the in-process check
            "p95_ms <= 9",
            ["p95_ms <= 9"],
            ["failure_ratio[load] <= 0.01", "p99_ms[load] <= 100", "p95_ms[load] <= 80"],
        ),
        (  # a new load-test bound is added beside the others
            "requests_per_s >= 5",
            ["p95_ms <= 50"],
            [
                "failure_ratio[load] <= 0.01",
                "p99_ms[load] <= 100",
                "p95_ms[load] <= 80",
                "requests_per_s[load] >= 5",
            ],
        ),
    ],
    ids=["stage-and-load", "bare-load-metric", "latency-load", "latency-in-process", "added"],
)
def test_threshold_option_replaces_the_check_of_its_list(
    tmp_path: Path, threshold: str, checks: list[str], load: list[str]
):
    path = _project(tmp_path, LOAD_PROJECT)
    config = load_config(path).with_thresholds([threshold]).stages["operational"]
    assert sorted(_thresholds(config.checks)) == sorted(checks)
    assert config.load is not None
    assert sorted(_thresholds(config.load.checks)) == sorted(load)
    replaced = [s for s in (*config.checks, *config.load.checks) if s.origin.key == "--threshold"]
    assert len(replaced) == 1


def test_threshold_option_reaches_the_stage_through_mlgates_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    """``mlgates run -t`` plans the overriding load check in place of the configured one;
    the measuring is stubbed out (it would start a server and locust)."""
    import mlgates.stages.operational.runs as runs

    seen = []

    def planned_only(config, plan, context):
        seen.append((config, [check.id for check in plan]))
        return {}

    monkeypatch.setattr(runs, "measure_operational", planned_only)
    path = _project(tmp_path, '[operational.load]\nchecks = ["failure_ratio <= 0.01"]')
    report = tmp_path / "run.json"
    code, _, err = _cli(
        path,
        capsys,
        "--no-history",
        "--json",
        str(report),
        "-t",
        "operational::failure_ratio[load] <= 0.5",
    )
    assert "Traceback" not in err, err
    ((config, ids),) = seen
    assert ids == ["operational::failure_ratio[load]"]
    assert config.load is not None
    (spec,) = config.load.checks
    assert (spec.threshold.value, spec.origin.key) == (0.5, "--threshold")
    record = json.loads(report.read_text(encoding="utf-8"))
    (check,) = [c for gate in record["gates"] for c in gate["checks"]]
    assert check["id"] == "operational::failure_ratio[load]"
    assert check["threshold"].endswith("failure_ratio[load] <= 0.5"), check["threshold"]
    assert record["partial"] is True  # an overridden run never anchors later ones
    assert code == 1  # nothing measured: an error, never a pass


@pytest.mark.parametrize(
    ("threshold", "fragments"),
    [
        (
            "p95_ms[predict:3] <= 5",
            ("--threshold: p95_ms[predict:3] <= 5: batch size 3 is not timed",),
        ),
        ("operational::p95_ms[fast:1] <= 5", ("--threshold", "'fast' is not a call")),
        ("p95_ms[predict] <= 5", ("--threshold", "name a timed call as method:batch_size")),
        (
            "operational::p95_ms <= baseline + 10%",
            ("--threshold", "set performance.baseline"),
        ),
        ("failure_ratio[load] <= 0.5 @95%", ("--threshold", "has no confidence interval")),
        ("operational::nonsense_ms <= 5", ("--threshold", "unknown metric 'nonsense_ms'")),
    ],
    ids=["batch", "method", "no-batch", "baseline", "confidence", "unknown"],
)
def test_threshold_option_is_validated_like_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], threshold: str, fragments: tuple[str, ...]
):
    path = _project(tmp_path, LOAD_PROJECT, baseline=False)
    _assert_cli_error(path, capsys, *fragments, args=("-t", threshold))


@pytest.mark.parametrize(
    ("threshold", "table"),
    [
        ("failure_ratio <= 0.5", "operational.load"),
        ("p95_ms[load] <= 5", "operational.load"),
        ("vulnerabilities == 0", "operational.audit"),
    ],
)
def test_threshold_option_for_a_table_the_config_lacks_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], threshold: str, table: str
):
    path = _project(tmp_path, f"[operational]\n{LATENCY}")
    _assert_cli_error(path, capsys, f"the config has no {table} table", args=("-t", threshold))


def test_threshold_option_for_an_unconfigured_stage_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    path = write_config(
        tmp_path,
        '[mlgates]\nhistory = "history.jsonl"\n\n' + PERFORMANCE.format(baseline=""),
    )
    _assert_cli_error(path, capsys, "--threshold", "[operational]", args=("-t", "p95_ms <= 5"))


@pytest.mark.parametrize("threshold", ["failure_ratio <= 0.5", "vulnerabilities == 0"])
def test_threshold_option_for_a_missing_table_names_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], threshold: str
):
    path = _project(tmp_path, f"[operational]\n{LATENCY}")
    line = _assert_cli_error(path, capsys, args=("-t", threshold))
    assert line.startswith("mlgates: error: --threshold"), line


@pytest.mark.parametrize(
    "threshold",
    ["throughput_rps[load] >= 5", "requests_per_s[predict:1] >= 5", "failure_ratio[x] <= 0.1"],
)
def test_threshold_option_outside_the_load_metrics_is_refused(tmp_path: Path, threshold: str):
    path = _project(tmp_path, LOAD_PROJECT)
    with pytest.raises(MlgatesError, match="--threshold"):
        load_config(path).with_thresholds([threshold])
