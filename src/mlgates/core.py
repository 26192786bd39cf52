"""Result types shared by every stage, the runner, the history and the reporters.

Standard library only: importing this module must stay instant.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlgates.jsonable import from_json_number, json_number, to_jsonable
from mlgates.text import format_duration, format_number, named

RECORD_FORMAT = 3
"""Version of the run record written by :meth:`RunRecord.to_dict`.

Formats 1 and 2 still read. Format 3 lets a check omit ``id``, ``stage`` (its
gate's) and every field that is empty or default: the history stores records
that way (:mod:`mlgates.compact`).
"""


class Status(str, enum.Enum):
    """Outcome of one check, one gate or one run."""

    SKIPPED = "skipped"
    PASS = "pass"
    WARN = "warn"
    INCONCLUSIVE = "inconclusive"
    FAIL = "fail"
    ERROR = "error"

    @property
    def rank(self) -> int:
        """Severity order: a higher rank is worse."""
        return _STATUS_ORDER.index(self)

    @classmethod
    def worst(cls, statuses: Iterable[Status]) -> Status:
        """Worst of ``statuses``; ``skipped`` for an empty collection."""
        return max(statuses, key=lambda status: status.rank, default=cls.SKIPPED)


_STATUS_ORDER = (
    Status.SKIPPED,
    Status.PASS,
    Status.WARN,
    Status.INCONCLUSIVE,
    Status.FAIL,
    Status.ERROR,
)


class Severity(str, enum.Enum):
    """What a failing check does to the verdict: ``block`` it or only ``warn``."""

    BLOCK = "block"
    WARN = "warn"


class InconclusivePolicy(str, enum.Enum):
    """What an ``inconclusive`` check does to the verdict."""

    FAIL = "fail"
    WARN = "warn"


class FirstRunPolicy(str, enum.Enum):
    """How bounds against a baseline or history behave when there is none yet."""

    INCONCLUSIVE = "inconclusive"
    PASS = "pass"


class Direction(str, enum.Enum):
    """Which way a metric improves: used by ``best`` bounds and by reports."""

    HIGHER = "higher"
    LOWER = "lower"
    NEITHER = "neither"


def is_blocking(status: Status, severity: Severity, on_inconclusive: InconclusivePolicy) -> bool:
    """Whether a check with this status blocks the deployment.

    ``error`` always blocks; ``fail`` blocks unless the check's severity is
    ``warn``; ``inconclusive`` blocks when the policy says ``fail`` and the
    check's severity is ``block``.
    """
    if status is Status.ERROR:
        return True
    if severity is Severity.WARN:
        return False
    if status is Status.FAIL:
        return True
    return status is Status.INCONCLUSIVE and on_inconclusive is InconclusivePolicy.FAIL


def check_id(
    stage: str, metric: str, selector: str | None = None, variant: str | None = None
) -> str:
    """The id of a check: ``stage::metric``, ``stage::metric[selector]``, and
    ``~variant`` when one metric has several bounds (``performance::roc_auc~baseline``)."""
    base = f"{stage}::{named(metric, selector)}"
    return f"{base}~{variant}" if variant else base


class RecordFormatError(ValueError):
    """A stored run record does not have the shape mlgates writes."""


def _field(data: Mapping[str, Any], key: str, kinds: type | tuple[type, ...], what: str) -> Any:
    value = data.get(key)
    wrong_bool = isinstance(value, bool) and bool not in _tuple(kinds)  # bool is an int
    if value is not None and (wrong_bool or not isinstance(value, kinds)):
        raise RecordFormatError(f"{what}.{key}: expected {_names(kinds)}, got {value!r}")
    return value


def _required(data: Mapping[str, Any], key: str, kinds: type | tuple[type, ...], what: str) -> Any:
    if data.get(key) is None:
        raise RecordFormatError(f"{what}: missing {key!r}")
    return _field(data, key, kinds, what)


def _tuple(kinds: type | tuple[type, ...]) -> tuple[type, ...]:
    return kinds if isinstance(kinds, tuple) else (kinds,)


def _names(kinds: type | tuple[type, ...]) -> str:
    return " or ".join(kind.__name__ for kind in _tuple(kinds))


def _number(data: Mapping[str, Any], key: str, what: str) -> float | None:
    try:
        return from_json_number(data.get(key), f"{what}.{key}")
    except ValueError as exc:
        raise RecordFormatError(str(exc)) from None


def _enum(kind: type[enum.Enum], value: Any, default: Any, what: str) -> Any:
    try:
        return kind(default if value is None else value)
    except ValueError:
        choices = ", ".join(repr(member.value) for member in kind)
        raise RecordFormatError(f"{what}: {value!r} is not one of {choices}") from None


def _mapping(data: Mapping[str, Any], key: str, what: str) -> dict[str, Any]:
    value = _field(data, key, dict, what)
    return dict(value or {})


def _string_map(data: Mapping[str, Any], key: str, what: str) -> dict[str, Any]:
    """A mapping whose values are strings, booleans or null (git info, file hashes)."""
    value = _mapping(data, key, what)
    for name, item in value.items():
        if item is not None and not isinstance(item, (str, bool)):
            raise RecordFormatError(f"{what}.{key}.{name}: expected a string, got {item!r}")
    return value


@dataclass(frozen=True)
class Origin:
    """Where a threshold came from: a config file and line, or ``--threshold``."""

    file: str | None = None
    line: int | None = None
    key: str | None = None

    def __str__(self) -> str:
        place = f"{self.file}:{self.line}" if self.file and self.line else self.file or ""
        return " ".join(part for part in (place, self.key or "") if part)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"file": self.file, "line": self.line, "key": self.key}

    @classmethod
    def from_dict(cls, data: Any, what: str = "origin") -> Origin | None:
        """Rebuild an origin written by :meth:`to_dict` (``None`` stays ``None``)."""
        if data is None:
            return None
        if not isinstance(data, dict):
            raise RecordFormatError(f"{what}: expected an object, got {data!r}")
        return cls(
            file=_field(data, "file", str, what),
            line=_field(data, "line", int, what),
            key=_field(data, "key", str, what),
        )


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check.

    ``value`` is what was measured and ``bound`` the limit it was held to (both
    ``None`` where a check has no single number, such as a schema check).
    ``anchor``/``anchor_value`` name the baseline, reference, previous or best
    value a relative bound was built on; ``interval`` is the one-sided
    confidence bounds at ``level`` of the quantity the decision was taken on
    (the value, or its difference from the anchor). ``message`` is a one-line
    explanation naming the column, metric or group. ``family`` is set on checks
    a stage discovered while measuring: the id of the planned check they belong to.
    ``unit`` is ``"s"`` when ``value``, ``bound`` and ``anchor_value`` are
    durations in seconds (reporters show them as ``4d 3h``), else ``None``.
    """

    stage: str
    metric: str
    status: Status
    message: str
    selector: str | None = None
    severity: Severity = Severity.BLOCK
    threshold: str | None = None
    value: float | None = None
    bound: float | None = None
    anchor: str | None = None
    anchor_value: float | None = None
    interval: tuple[float, float] | None = None
    level: float | None = None
    method: str | None = None
    reason: str | None = None
    origin: Origin | None = None
    family: str | None = None
    blocking: bool = False
    details: Mapping[str, Any] = field(default_factory=dict)
    unit: str | None = None
    variant: str | None = None

    @property
    def id(self) -> str:
        """``stage::metric[selector]``, with ``~variant`` when the metric has several bounds."""
        return check_id(self.stage, self.metric, self.selector, self.variant)

    @property
    def value_id(self) -> str:
        """The id of the measured value, the same for every bound on it (no variant)."""
        return check_id(self.stage, self.metric, self.selector)

    def shown(self, value: float | None, *, digits: int = 6) -> str:
        """``value`` (the value, bound or anchor of this check) as reporters show it:
        a duration for a metric in seconds (``4d 3h``), else a number with ``digits``
        significant digits (``n/a`` for None)."""
        if self.unit == "s":
            return format_duration(value)
        return format_number(value, digits)

    @property
    def needs_attention(self) -> bool:
        """Whether this check did not simply pass (or was not skipped): a reporter shows it."""
        return self.status not in (Status.PASS, Status.SKIPPED)

    @property
    def concern(self) -> tuple[bool, int]:
        """Sort key that puts what blocks first, then the worst status."""
        return (not self.blocking, -self.status.rank)

    def explained(self) -> str:
        """The check's outcome in two lines: status, id and message; then value, bound,
        method, threshold, where the threshold was written and the reason."""
        facts = [
            f"{name} {value}"
            for name, value in (
                ("value", None if self.value is None else self.shown(self.value)),
                ("bound", None if self.bound is None else self.shown(self.bound)),
                ("method", self.method),
                ("threshold", self.threshold),
                ("from", None if self.origin is None else str(self.origin)),
                ("reason", self.reason),
            )
            if value is not None
        ]
        head = f"{self.status.value.upper()} {self.id}: {self.message}"
        return head + ("\n  " + ", ".join(facts) if facts else "")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; the inverse of :meth:`from_dict`."""
        return {
            "id": self.id,
            "stage": self.stage,
            "metric": self.metric,
            "selector": self.selector,
            "variant": self.variant,
            "status": self.status.value,
            "severity": self.severity.value,
            "blocking": self.blocking,
            "threshold": self.threshold,
            "value": json_number(self.value),
            "bound": json_number(self.bound),
            "unit": self.unit,
            "anchor": self.anchor,
            "anchor_value": json_number(self.anchor_value),
            "interval": None if self.interval is None else [json_number(v) for v in self.interval],
            "level": self.level,
            "method": self.method,
            "message": self.message,
            "reason": self.reason,
            "origin": None if self.origin is None else self.origin.to_dict(),
            "family": self.family,
            "details": to_jsonable(self.details),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckResult:
        """Rebuild a result written by :meth:`to_dict` or stored compactly (format 3);
        raises :class:`RecordFormatError` naming the field.

        Only the keys present are read (a stored check holds a handful), so a
        history of thousands of runs reads quickly; unknown keys are ignored.
        """
        if not isinstance(data, dict):
            raise RecordFormatError(f"check: expected an object, got {data!r}")
        fields: dict[str, Any] = {}
        for key, value in data.items():
            if value is None:
                continue
            kind = _CHECK_FIELDS.get(key)
            if kind is None:
                continue
            if kind is str or kind is bool:
                if type(value) is not kind:
                    raise RecordFormatError(
                        f"{_check_what(data)}.{key}: expected {kind.__name__}, got {value!r}"
                    )
                fields[key] = value
            elif kind is float:
                plain = type(value) is float or type(value) is int
                fields[key] = float(value) if plain else _number(data, key, _check_what(data))
            else:
                fields[key] = kind(data, value)
        for key in ("stage", "metric", "status"):
            if key not in fields:
                raise RecordFormatError(f"{_check_what(data)}: missing {key!r}")
        # filled in directly: a frozen dataclass's __init__ costs more than the rest
        # of reading a stored check, and the history reads thousands of them
        check = object.__new__(cls)
        vars(check).update(_CHECK_DEFAULTS, details={}, message="")
        vars(check).update(fields)
        return check


def _check_what(data: Mapping[str, Any]) -> str:
    return f"check {data.get('id') or data.get('metric')!r}"


def _check_status(data: Mapping[str, Any], value: Any) -> Status:
    known = _STATUSES.get(value) if isinstance(value, str) else None
    return known or _enum(Status, value, None, f"{_check_what(data)}.status")


def _check_severity(data: Mapping[str, Any], value: Any) -> Severity:
    return _enum(Severity, value, "block", f"{_check_what(data)}.severity")  # type: ignore[no-any-return]


_STATUSES = {status.value: status for status in Status}
_CHECK_DEFAULTS = {
    item.name: item.default
    for item in dataclasses.fields(CheckResult)
    if item.default is not dataclasses.MISSING
}


def _check_interval(data: Mapping[str, Any], value: Any) -> tuple[float, float]:
    what = _check_what(data)
    if not isinstance(value, list):
        raise RecordFormatError(f"{what}.interval: expected list, got {value!r}")
    if len(value) != 2:
        raise RecordFormatError(f"{what}.interval: expected [low, high]")
    low, high = (_number({"interval": v}, "interval", what) for v in value)
    return (low, high)  # type: ignore[return-value]


def _check_origin(data: Mapping[str, Any], value: Any) -> Origin | None:
    return Origin.from_dict(value, f"{_check_what(data)}.origin")


def _check_details(data: Mapping[str, Any], value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RecordFormatError(f"{_check_what(data)}.details: expected dict, got {value!r}")
    return dict(value)


_CHECK_FIELDS: dict[str, Any] = {
    "stage": str,
    "metric": str,
    "selector": str,
    "variant": str,
    "status": _check_status,
    "severity": _check_severity,
    "blocking": bool,
    "threshold": str,
    "value": float,
    "bound": float,
    "anchor": str,
    "anchor_value": float,
    "interval": _check_interval,
    "level": float,
    "method": str,
    "message": str,
    "reason": str,
    "origin": _check_origin,
    "family": str,
    "details": _check_details,
    "unit": str,
}
"""How each stored key of a check is read: a type it must have, or a reader."""


def count_statuses(checks: Iterable[CheckResult]) -> dict[Status, int]:
    """How many of ``checks`` ended in each status, in the order of :data:`Status`."""
    counts = {status: 0 for status in Status}
    for check in checks:
        counts[check.status] += 1
    return counts


@dataclass(frozen=True)
class GateResult:
    """All checks of one stage and the stage's verdict (the worst of them)."""

    stage: str
    checks: tuple[CheckResult, ...]
    duration_s: float = 0.0

    @property
    def status(self) -> Status:
        """Worst status among the checks."""
        return Status.worst(check.status for check in self.checks)

    @property
    def blocked(self) -> bool:
        """Whether any check of this gate blocks."""
        return any(check.blocking for check in self.checks)

    def counts(self) -> dict[Status, int]:
        """How many checks ended in each status (every status present, worst last)."""
        return count_statuses(self.checks)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; the inverse of :meth:`from_dict`."""
        return {
            "stage": self.stage,
            "status": self.status.value,
            "blocked": self.blocked,
            "duration_s": round(self.duration_s, 6),
            "checks": [check.to_dict() for check in self.checks],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GateResult:
        """Rebuild a gate written by :meth:`to_dict`; raises :class:`RecordFormatError`."""
        if not isinstance(data, dict):
            raise RecordFormatError(f"gate: expected an object, got {data!r}")
        what = f"gate {data.get('stage')!r}"
        checks = _field(data, "checks", list, what) or []
        stage = _required(data, "stage", str, what)
        return cls(
            stage=stage,
            checks=tuple(CheckResult.from_dict(_in_stage(item, stage)) for item in checks),
            duration_s=_number(data, "duration_s", what) or 0.0,
        )


def _in_stage(item: Any, stage: str) -> Any:
    """A stored check with its gate's stage filled in where it was left out."""
    if isinstance(item, dict) and "stage" not in item:
        return {"stage": stage, **item}
    return item


@dataclass(frozen=True)
class RunRecord:
    """One run of the gates: what was judged, with what, and the verdict.

    This is the unit appended to the validation history. ``partial`` marks a
    run of a subset of the configured checks (``--stage``, ``-k``, command-line
    thresholds); such a run never becomes a ``previous`` or ``best`` anchor.
    """

    run_id: str
    started_at: str
    finished_at: str
    gates: tuple[GateResult, ...]
    mlgates_version: str
    config_path: str | None = None
    config_hash: str | None = None
    profile: str | None = None
    on_inconclusive: InconclusivePolicy = InconclusivePolicy.FAIL
    git: Mapping[str, Any] = field(default_factory=dict)
    files: Mapping[str, str] = field(default_factory=dict)
    source: str = "library"
    partial: bool = False

    @property
    def status(self) -> Status:
        """Worst status among all gates."""
        return Status.worst(gate.status for gate in self.gates)

    @property
    def blocked(self) -> bool:
        """Whether anything in this run blocks the deployment."""
        return any(gate.blocked for gate in self.gates)

    @property
    def passed(self) -> bool:
        """Whether nothing blocks (warnings allowed)."""
        return not self.blocked

    @property
    def checks(self) -> tuple[CheckResult, ...]:
        """Every check of every gate, in run order."""
        return tuple(check for gate in self.gates for check in gate.checks)

    def counts(self) -> dict[Status, int]:
        """How many checks of the run ended in each status (every status present)."""
        return count_statuses(self.checks)

    def check(self, check_id: str) -> CheckResult | None:
        """The result with this id, if the run has it."""
        return next((c for c in self.checks if c.id == check_id), None)

    def measured(self, value_id: str) -> float | None:
        """The value measured for ``value_id`` (any bound on it), if finite."""
        for check in self.checks:
            value = check.value
            if check.value_id == value_id and value is not None and math.isfinite(value):
                return value
        return None

    def comparable_to(self, profile: str | None, config_path: str | None = None) -> bool:
        """Whether this run may anchor ``previous``/``best`` bounds of another run.

        Only complete runs that passed, of the same config file (when
        ``config_path`` is given) and under the same profile, qualify.
        """
        same_config = config_path is None or self.config_path in (None, config_path)
        return not self.partial and not self.blocked and self.profile == profile and same_config

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; the inverse of :meth:`from_dict`."""
        return {
            "format": RECORD_FORMAT,
            "run_id": self.run_id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "status": self.status.value,
            "blocked": self.blocked,
            "mlgates_version": self.mlgates_version,
            "source": self.source,
            "partial": self.partial,
            "config_path": self.config_path,
            "config_hash": self.config_hash,
            "profile": self.profile,
            "on_inconclusive": self.on_inconclusive.value,
            "git": dict(self.git),
            "files": dict(self.files),
            "gates": [gate.to_dict() for gate in self.gates],
        }

    @classmethod
    def from_dict(cls, data: Any) -> RunRecord:
        """Rebuild a run written by :meth:`to_dict` (format 1, 2 or 3).

        Raises :class:`RecordFormatError` naming the field when ``data`` does
        not have the shape mlgates writes.
        """
        if not isinstance(data, dict):
            raise RecordFormatError(f"run record: expected an object, got {type(data).__name__}")
        version = data.get("format", 1)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise RecordFormatError(f"run record: format must be a whole number, got {version!r}")
        if version > RECORD_FORMAT:
            raise RecordFormatError(
                f"run record format {version!r} is newer than this mlgates reads "
                f"({RECORD_FORMAT}); upgrade mlgates"
            )
        what = "run record"
        gates = _field(data, "gates", list, what) or []
        return cls(
            run_id=_required(data, "run_id", str, what),
            started_at=_required(data, "started_at", str, what),
            finished_at=_field(data, "finished_at", str, what) or data["started_at"],
            gates=tuple(GateResult.from_dict(item) for item in gates),
            mlgates_version=_field(data, "mlgates_version", str, what) or "unknown",
            config_path=_field(data, "config_path", str, what),
            config_hash=_field(data, "config_hash", str, what),
            profile=_field(data, "profile", str, what),
            on_inconclusive=_enum(
                InconclusivePolicy, data.get("on_inconclusive"), "fail", f"{what}.on_inconclusive"
            ),
            git=_string_map(data, "git", what),
            files=_string_map(data, "files", what),
            source=_field(data, "source", str, what) or "library",
            partial=bool(_field(data, "partial", bool, what)),
        )


class MlgatesError(Exception):
    """Base class of errors that mean nothing was judged (exit code 2)."""


class UsageError(MlgatesError):
    """A command-line option is wrong or ambiguous."""


class ConfigError(MlgatesError):
    """A configuration file or option is wrong; the message says where and how to fix it."""

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None) -> None:
        self.file = file
        self.key = key
        self.problem = message
        where = ": ".join(part for part in (file, key) if part)
        super().__init__(f"{where}: {message}" if where else message)


class MissingExtraError(ConfigError):
    """The config needs an optional dependency that is not installed."""

    def __init__(self, what: str, extra: str, *, file: str | None = None, key: str | None = None):
        super().__init__(
            f"{what} needs the {extra} extra: pip install 'mlgates[{extra}]'", file=file, key=key
        )
        self.extra = extra


class InputError(MlgatesError):
    """A data or model file named by the configuration cannot be used."""
