"""The ``[operational]`` table: its metrics, its keys and their validation.

Three kinds of checks live here:

* ``checks``: the candidate's calls timed in a fresh process (latency
  percentiles per call and batch size, throughput), its peak memory, file size
  and load time; bounds against ``baseline`` time the ``[performance]``
  baseline in the same process, interleaved.
* ``load.checks``: an HTTP load test (locust) of ``mlgates serve`` on the
  candidate, or of an endpoint the config names.
* ``audit.checks``: pip-audit on a requirements file or the environment.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mlgates.authoring import HISTORY_ANCHORS, CheckSpec, MetricInfo, TableReader, replace_checks
from mlgates.core import ConfigError, Direction
from mlgates.stages.performance.settings import PerformanceConfig
from mlgates.text import DURATION_UNITS, did_you_mean
from mlgates.thresholds import Anchor, ThresholdError, parse_threshold

STAGE = "operational"
_HIGHER, _LOWER = Direction.HIGHER, Direction.LOWER
_ANCHORS = HISTORY_ANCHORS | {Anchor.BASELINE}

METHODS = ("predict", "predict_proba")
"""The model calls the gate can time."""
LOAD = "load"
"""The selector of every load-test check: ``operational::p99_ms[load]``."""

PERCENTILES: Mapping[str, float | None] = {
    "p50_ms": 50.0,
    "p95_ms": 95.0,
    "p99_ms": 99.0,
    "max_ms": 100.0,
    "mean_ms": None,
}
"""Latency metrics and the percentile each is (None: the mean)."""


def _call(description: str, direction: Direction, *, interval: bool = True) -> MetricInfo:
    return MetricInfo(
        description, direction=direction, selector="call", anchors=_ANCHORS, interval=interval
    )


def _once(description: str, direction: Direction, anchors: frozenset[Anchor]) -> MetricInfo:
    return MetricInfo(description, direction=direction, anchors=anchors)


_LATENCY: dict[str, MetricInfo] = {
    name: _call(
        f"{'mean' if q is None else 'maximum' if q == 100 else f'{q:g}th percentile'} time of "
        "one call in milliseconds",
        _LOWER,
        interval=q != 100,
    )
    for name, q in PERCENTILES.items()
}
TIMED: Mapping[str, MetricInfo] = {
    **_LATENCY,
    "throughput_rps": _call("rows predicted per second at the largest batch size", _HIGHER),
    "peak_memory_mb": _once(
        "memory (MiB) the process gains by loading the model and predicting", _LOWER, _ANCHORS
    ),
    "model_size_mb": _once("size of the model file (MiB)", _LOWER, _ANCHORS),
    "load_time_ms": _once("time to load the model file (milliseconds)", _LOWER, _ANCHORS),
}
"""Metrics of ``checks``: the models timed in a fresh process."""

LOADED: Mapping[str, MetricInfo] = {
    **{
        name: MetricInfo(
            info.description.replace("one call", "one request"),
            direction=_LOWER,
            selector="call",
            anchors=HISTORY_ANCHORS,
        )
        for name, info in _LATENCY.items()
    },
    "requests_per_s": MetricInfo(
        "requests answered without failure per second during the load test",
        direction=_HIGHER,
        selector="call",
        anchors=HISTORY_ANCHORS,
    ),
    "failure_ratio": MetricInfo(
        "share of requests that failed (HTTP error, timeout, malformed answer)",
        direction=_LOWER,
        selector="call",
        anchors=HISTORY_ANCHORS,
    ),
    "requests": MetricInfo(
        "requests answered without failure during the load test",
        direction=_HIGHER,
        selector="call",
        anchors=HISTORY_ANCHORS,
    ),
}
"""Metrics of ``load.checks``: the HTTP load test."""

AUDITED: Mapping[str, MetricInfo] = {
    "vulnerabilities": MetricInfo(
        "known vulnerabilities of a package (advisories not ignored)",
        direction=_LOWER,
        selector="package",
        anchors=HISTORY_ANCHORS,
    ),
}
"""Metrics of ``audit.checks``: the dependency audit."""

METRICS: Mapping[str, MetricInfo] = {**LOADED, **TIMED, **AUDITED}
"""Every operational metric (latency names are shared by ``checks`` and ``load.checks``)."""

_KEYS = (
    "checks",
    "batch_sizes",
    "methods",
    "rows",
    "warmup",
    "min_calls",
    "max_calls",
    "time_budget",
    "retries",
    "threads",
    "resamples",
    "seed",
    "timeout",
    "load",
    "audit",
)
_LOAD_KEYS = (
    "checks",
    "url",
    "allow_remote",
    "payload",
    "rows_per_request",
    "users",
    "spawn_rate",
    "duration",
    "workers",
    "request_timeout",
    "timeout",
)
_AUDIT_KEYS = (
    "checks",
    "requirements",
    "resolve",
    "advisory_url",
    "advisories",
    "timeout",
    "ignore",
)
_IGNORE_KEYS = ("id", "reason", "expires")
_CALL = re.compile(r"^(?P<method>[a-z_]+):(?P<batch>\d+)$")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_LOAD_MARGIN = 120.0
"""Default ``load.timeout`` beyond ``load.duration``: server start, warm-up, workers."""
_LOAD_SLACK = 10.0
"""The least ``load.timeout`` may exceed ``load.duration`` by."""


@dataclass(frozen=True)
class TimingSettings:
    """How the in-process checks time the models."""

    batch_sizes: tuple[int, ...] = (1,)
    methods: tuple[str, ...] = ()
    rows: int = 2000
    warmup: int = 20
    min_calls: int = 100
    max_calls: int = 5000
    time_budget: float = 2.0
    retries: int = 10
    threads: int = 1
    resamples: int = 1000
    seed: int = 0
    timeout: float = 600.0

    @property
    def largest_batch(self) -> int:
        """The batch size throughput is measured at."""
        return max(self.batch_sizes)


@dataclass(frozen=True)
class LoadSettings:
    """The HTTP load test: what it targets and how hard it pushes."""

    checks: tuple[CheckSpec, ...]
    url: str | None = None
    payload: Path | None = None
    rows_per_request: int = 1
    users: int = 10
    spawn_rate: float = 10.0
    duration: float = 10.0
    workers: int = 0
    request_timeout: float = 10.0
    timeout: float = 130.0


@dataclass(frozen=True)
class IgnoredAdvisory:
    """An advisory the audit does not count, until ``expires``."""

    id: str
    reason: str
    expires: dt.date
    key: str

    def expired(self, today: dt.date) -> bool:
        """Whether the ignore no longer holds on ``today`` (it holds through ``expires``)."""
        return today > self.expires


@dataclass(frozen=True)
class AuditSettings:
    """The dependency audit: what is audited, against which advisories."""

    checks: tuple[CheckSpec, ...]
    requirements: Path | None = None
    resolve: bool = False
    advisory_url: str | None = None
    advisories: Path | None = None
    timeout: float = 300.0
    ignore: tuple[IgnoredAdvisory, ...] = ()


@dataclass(frozen=True)
class OperationalConfig:
    """The validated ``[operational]`` table, with the ``[performance]`` models it times."""

    models: PerformanceConfig | None
    checks: tuple[CheckSpec, ...] = ()
    timing: TimingSettings = field(default_factory=TimingSettings)
    load: LoadSettings | None = None
    audit: AuditSettings | None = None
    root: Path = Path(".")

    @property
    def all_checks(self) -> tuple[CheckSpec, ...]:
        """Every check of the table: in-process, load test, audit."""
        load = self.load.checks if self.load else ()
        audit = self.audit.checks if self.audit else ()
        return (*self.checks, *load, *audit)


def call_selector(method: str, batch: int) -> str:
    """The selector of one timed call: ``predict:1``, ``predict_proba:64``."""
    return f"{method}:{batch}"


def parse_call(selector: str) -> tuple[str, int] | None:
    """``predict_proba:64`` as (method, batch size); None when it is not one."""
    found = _CALL.match(selector.strip())
    if found is None:
        return None
    return found.group("method"), int(found.group("batch"))


def parse_duration(table: TableReader, name: str, default: float, *, minimum: float) -> float:
    """A duration: ``"20s"``, ``"5m"``, ``"1.5h"`` or a number of seconds."""
    raw = table.raw(name)
    if raw is None:
        return default
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise table.error(name, f'expected a duration such as "20s" or "5m", got {raw!r}')
    if isinstance(raw, str):
        found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", raw)
        unit = found.group(2) if found else ""
        if found is None or (unit and unit not in DURATION_UNITS):
            units = ", ".join(DURATION_UNITS)
            raise table.error(
                name, f"{raw!r} is not a duration: write a number and a unit ({units}), e.g. '20s'"
            )
        seconds = float(found.group(1)) * DURATION_UNITS.get(unit or "s", 1)
    else:
        seconds = float(raw)
    if not math.isfinite(seconds):
        raise table.error(name, f"{raw!r} is not a duration: write a finite one such as '20s'")
    if not seconds >= minimum:
        raise table.error(name, f"{raw!r} is too short; it must be at least {minimum:g} s")
    return seconds


def parse_operational_config(table: TableReader) -> OperationalConfig:
    """Read ``[operational]``; see docs/operational-gate.md for every key."""
    table.expect(_KEYS)
    performance = table.stages.get("performance")
    models = performance if isinstance(performance, PerformanceConfig) else None
    config = OperationalConfig(
        models=models,
        checks=_checks(table, "checks", TIMED),
        timing=_timing(table),
        load=_load(table),
        audit=_audit(table),
        root=table.root,
    )
    if not config.all_checks:
        raise table.error(
            "checks",
            'is empty: give checks such as ["p95_ms <= baseline + 20%"], load.checks or '
            "audit.checks, or remove the [operational] table",
        )
    for spec in config.checks:
        validate_check(spec, config, file=table.file)
    return config


_LISTS: tuple[tuple[str, str, Mapping[str, MetricInfo]], ...] = (
    ("operational.checks", "timed in a fresh process", TIMED),
    ("operational.load.checks", "measured by the load test", LOADED),
    ("operational.audit.checks", "measured by the dependency audit", AUDITED),
)


def _checks(
    table: TableReader, name: str, metrics: Mapping[str, MetricInfo], **options: Any
) -> tuple[CheckSpec, ...]:
    """``table.checks``, with a metric of another operational list sent to its list."""
    raw = table.raw(name)
    for index, item in enumerate(raw if isinstance(raw, list) else ()):
        text = item.get("check") if isinstance(item, dict) else item
        if not isinstance(text, str):
            continue
        try:
            metric = parse_threshold(text).metric
        except ThresholdError:
            continue
        homes = [where for where, _, listed in _LISTS if metric in listed]
        if metric in metrics or not homes:
            continue
        what = next(what for where, what, _ in _LISTS if where == homes[0])
        valid = ", ".join(sorted(metrics))
        raise table.error(
            f"{name}[{index}]",
            f"{metric!r} is {what}: move {text!r} to {' or '.join(homes)}; "
            f"{table.key(name)} takes {valid}",
        )
    return table.checks(name, STAGE, metrics, **options)


def _timing(table: TableReader) -> TimingSettings:
    raw = table.raw("batch_sizes")
    sizes: tuple[int, ...] = (1,)
    if raw is not None:
        if (
            not isinstance(raw, list)
            or not raw
            or not all(isinstance(b, int) and not isinstance(b, bool) and b >= 1 for b in raw)
        ):
            raise table.error("batch_sizes", f"expected a list of whole numbers >= 1, got {raw!r}")
        if max(raw) > 100_000:
            raise table.error(
                "batch_sizes", f"{max(raw)} rows per call is too many; at most 100000"
            )
        sizes = tuple(sorted({1, *raw}))
    methods = table.strings("methods")
    for method in methods:
        if method not in METHODS:
            raise table.error(
                "methods",
                f"{method!r} is not a call the gate times{did_you_mean(method, METHODS)}; "
                f"use {' or '.join(METHODS)}",
            )
    minimum = table.integer("min_calls", 100, minimum=20)
    return TimingSettings(
        batch_sizes=sizes,
        methods=tuple(dict.fromkeys(methods)),
        rows=table.integer("rows", 2000, minimum=1, maximum=1_000_000),
        warmup=table.integer("warmup", 20, minimum=0),
        min_calls=minimum,
        max_calls=_max_calls(table, minimum),
        time_budget=parse_duration(table, "time_budget", 2.0, minimum=0.1),
        retries=table.integer("retries", 10, minimum=0, maximum=50),
        threads=table.integer("threads", 1, minimum=0, maximum=1024),
        resamples=table.integer("resamples", 1000, minimum=100, maximum=100_000),
        seed=table.integer("seed", 0, minimum=0),
        timeout=parse_duration(table, "timeout", 600.0, minimum=1),
    )


def _max_calls(table: TableReader, minimum: int) -> int:
    most = table.integer("max_calls", max(5000, minimum), minimum=1)
    if most < minimum:
        given = "" if table.has("min_calls") else ", its default"
        raise table.error(
            "max_calls",
            f"{most} is below operational.min_calls ({minimum}{given}); raise max_calls or "
            "lower min_calls",
        )
    return most


def _load(table: TableReader) -> LoadSettings | None:
    if not table.has("load"):
        return None
    entry = table.sub("load", table.table("load"))
    entry.expect(_LOAD_KEYS)
    checks = _checks(entry, "checks", LOADED, selector=LOAD)
    if not checks:
        raise entry.error("checks", 'is required: e.g. ["p99_ms <= 100", "failure_ratio <= 0.001"]')
    url = entry.string("url")
    if url is not None:
        _check_url(entry, url, allow_remote=entry.boolean("allow_remote", False))
    else:
        entry.boolean("allow_remote", False)
    payload = entry.path("payload")
    if payload is not None and url is None:
        raise entry.error(
            "payload", "is for an endpoint named by load.url; mlgates serve takes rows of the data"
        )
    if url is not None and payload is None:
        raise entry.error(
            "payload",
            "is required with load.url: a JSON file holding the request body to POST (or a "
            "list of bodies, sent in turn)",
        )
    if url is None and not isinstance(table.stages.get("performance"), PerformanceConfig):
        raise entry.error(
            "url",
            "is required without a [performance] table: name the endpoint to load-test, or "
            "add [performance] so that mlgates serve can serve its candidate",
        )
    if url is not None and entry.has("rows_per_request"):
        raise entry.error(
            "rows_per_request", "is for mlgates serve; with load.url the payload file sets the rows"
        )
    users = entry.integer("users", 10, minimum=1, maximum=10_000)
    duration = parse_duration(entry, "duration", 10.0, minimum=1)
    if duration != int(duration):
        raise entry.error("duration", f"{duration:g} s: the load test runs for whole seconds")
    timeout = parse_duration(entry, "timeout", duration + _LOAD_MARGIN, minimum=5)
    if timeout < duration + _LOAD_SLACK:
        raise entry.error(
            "timeout",
            f"{timeout:g} s leaves no time to start the server and workers around a "
            f"{duration:g} s run: give at least {duration + _LOAD_SLACK:g} s",
        )
    return LoadSettings(
        checks=checks,
        url=url,
        payload=payload,
        rows_per_request=entry.integer("rows_per_request", 1, minimum=1, maximum=10_000),
        users=users,
        spawn_rate=entry.number("spawn_rate", float(users), minimum=0.1),
        duration=duration,
        workers=entry.integer("workers", 0, minimum=0, maximum=64),
        request_timeout=parse_duration(entry, "request_timeout", 10.0, minimum=0.1),
        timeout=timeout,
    )


def _check_url(table: TableReader, url: str, *, allow_remote: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise table.error(
            "url", f"{url!r} is not an http(s) URL such as 'http://127.0.0.1:8000/predict'"
        )
    if parts.hostname not in _LOOPBACK and not allow_remote:
        raise table.error(
            "url",
            f"{url!r} is not on this machine: a load test sends real traffic; set "
            "load.allow_remote = true to target another host",
        )


def _audit(table: TableReader) -> AuditSettings | None:
    if not table.has("audit"):
        return None
    entry = table.sub("audit", table.table("audit"))
    entry.expect(_AUDIT_KEYS)
    checks = _checks(entry, "checks", AUDITED)
    if not checks:
        raise entry.error("checks", 'is required: e.g. ["vulnerabilities == 0"]')
    url = entry.string("advisory_url")
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise entry.error(
                "advisory_url",
                f"{url!r} is not the http(s) URL of an OSV query API, such as "
                "'https://osv.example.com/v1/query'",
            )
    advisories = entry.path("advisories", must_exist=False)
    if advisories is not None and not advisories.exists():
        raise entry.error(
            "advisories",
            f"not found: {advisories} (an OSV JSON file, or a directory of them)",
        )
    if url is not None and advisories is not None:
        raise entry.error("advisories", "give advisory_url or advisories, not both")
    return AuditSettings(
        checks=checks,
        requirements=entry.path("requirements"),
        resolve=entry.boolean("resolve", False),
        advisory_url=url,
        advisories=advisories,
        timeout=parse_duration(entry, "timeout", 300.0, minimum=1),
        ignore=_ignores(entry),
    )


def _ignores(table: TableReader) -> tuple[IgnoredAdvisory, ...]:
    raw = table.raw("ignore")
    if raw is None:
        return ()
    example = '[{ id = "GHSA-xxxx-xxxx-xxxx", reason = "...", expires = 2027-01-31 }]'
    if not isinstance(raw, list):
        raise table.error("ignore", f"expected a list of tables such as {example}")
    found: list[IgnoredAdvisory] = []
    for index, item in enumerate(raw):
        key = f"ignore[{index}]"
        if not isinstance(item, dict):
            raise table.error(key, f"expected a table such as {example[1:-1]}")
        entry = table.sub(key, item)
        entry.expect(_IGNORE_KEYS)
        advisory = entry.string("id")
        if not advisory or not advisory.strip():
            raise entry.error("id", "is required: the advisory's id (GHSA-..., PYSEC-..., CVE-...)")
        reason = entry.string("reason")
        if not reason or not reason.strip():
            raise entry.error("reason", "is required: why the advisory does not affect you")
        expires = _date(entry, "expires")
        if any(earlier.id.lower() == advisory.strip().lower() for earlier in found):
            raise entry.error("id", f"{advisory!r} is ignored twice; keep one entry")
        found.append(IgnoredAdvisory(advisory.strip(), reason.strip(), expires, entry.prefix))
    return tuple(found)


def _date(table: TableReader, name: str) -> dt.date:
    raw: Any = table.raw(name)
    if raw is None:
        raise table.error(name, "is required: the date the ignore ends, e.g. 2027-01-31")
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str):
        try:
            return dt.date.fromisoformat(raw.strip())
        except ValueError:
            pass
    raise table.error(name, f"{raw!r} is not a date; write it as 2027-01-31")


def validate_check(spec: CheckSpec, config: OperationalConfig, *, file: str | None = None) -> None:
    """Raise a :class:`ConfigError` when the gate cannot decide an in-process check."""
    threshold = spec.threshold
    key = spec.origin.key
    if config.models is None:
        raise ConfigError(
            f"{threshold} times the models of [performance]: add a [performance] table with "
            "candidate, data and target (its checks may be empty), or keep only load.checks "
            "and audit.checks",
            file=file,
            key=key,
        )
    if threshold.anchor is Anchor.BASELINE and config.models.baseline is None:
        raise ConfigError(
            f"{threshold} compares with the baseline model: set performance.baseline (the "
            "model in production), or bound the value itself",
            file=file,
            key=key,
        )
    selector = threshold.selector
    if selector is None:
        return
    if selector == LOAD:
        raise ConfigError(
            f"{threshold} is a load-test check: move it to operational.load.checks",
            file=file,
            key=key,
        )
    call = parse_call(selector)
    example = call_selector("predict", config.timing.batch_sizes[-1])
    if call is None:
        raise ConfigError(
            f"{threshold}: name a timed call as method:batch_size, e.g. "
            f"{threshold.metric}[{example}]",
            file=file,
            key=key,
        )
    method, batch = call
    if method not in METHODS:
        raise ConfigError(
            f"{threshold}: {method!r} is not a call the gate times{did_you_mean(method, METHODS)}"
            f"; use {' or '.join(METHODS)}",
            file=file,
            key=key,
        )
    if config.timing.methods and method not in config.timing.methods:
        raise ConfigError(
            f"{threshold}: {method} is not in operational.methods; add it there",
            file=file,
            key=key,
        )
    if batch not in config.timing.batch_sizes:
        raise ConfigError(
            f"{threshold}: batch size {batch} is not timed; add it to operational.batch_sizes",
            file=file,
            key=key,
        )
    if selector.strip() != call_selector(method, batch):
        raise ConfigError(
            f"{threshold}: write the call as {threshold.metric}[{call_selector(method, batch)}]",
            file=file,
            key=key,
        )
    if threshold.metric == "throughput_rps" and batch != config.timing.largest_batch:
        raise ConfigError(
            f"{threshold}: throughput is measured at the largest batch size, "
            f"{config.timing.largest_batch}",
            file=file,
            key=key,
        )


def override(config: OperationalConfig, spec: CheckSpec) -> OperationalConfig:
    """``config`` with ``spec`` replacing the check of the same metric, call and anchor.

    A load-test metric (``requests_per_s``, or any metric with ``[load]``) goes to
    ``load.checks``, ``vulnerabilities`` to ``audit.checks``, the rest to ``checks``.
    """
    metric, selector = spec.threshold.metric, spec.threshold.selector
    key = spec.origin.key
    if metric in AUDITED:
        if config.audit is None:
            raise ConfigError(
                f"{spec.threshold}: the config has no operational.audit table", key=key
            )
        audit = replace(config.audit, checks=replace_checks(config.audit.checks, spec))
        return replace(config, audit=audit)
    if selector == LOAD or metric not in TIMED:
        if metric not in LOADED:
            raise ConfigError(
                f"{spec.threshold}: {metric!r} is not measured by the load test; its metrics: "
                f"{', '.join(sorted(LOADED))}",
                key=key,
            )
        if selector not in (None, LOAD):
            raise ConfigError(
                f"{spec.threshold}: a load-test check names no call; write {metric}[{LOAD}]",
                key=key,
            )
        if config.load is None:
            raise ConfigError(
                f"{spec.threshold}: the config has no operational.load table", key=key
            )
        bound = replace(spec, threshold=spec.threshold.for_selector(LOAD))
        load = replace(config.load, checks=replace_checks(config.load.checks, bound))
        return replace(config, load=load)
    validate_check(spec, config)
    return replace(config, checks=replace_checks(config.checks, spec))


__all__ = [
    "AUDITED",
    "LOAD",
    "LOADED",
    "METHODS",
    "METRICS",
    "PERCENTILES",
    "STAGE",
    "TIMED",
    "AuditSettings",
    "IgnoredAdvisory",
    "LoadSettings",
    "OperationalConfig",
    "TimingSettings",
    "call_selector",
    "override",
    "parse_call",
    "parse_duration",
    "parse_operational_config",
    "validate_check",
]
