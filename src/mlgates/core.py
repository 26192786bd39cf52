"""Result types shared by every stage, the runner, the history and the reporters.

Standard library only: importing this module must stay instant.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


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


def _json_number(value: float | None) -> float | str | None:
    if value is None or math.isfinite(value):
        return value
    return str(value)


def _json_safe(value: Any) -> Any:
    """``value`` with non-finite floats turned into strings, recursively."""
    if isinstance(value, float):
        return _json_number(value)
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    return value


def _from_json_number(value: float | str | None) -> float | None:
    if value is None or isinstance(value, (int, float)):
        return value
    return float(value)


def check_id(stage: str, metric: str, selector: str | None = None) -> str:
    """The id of a check: ``stage::metric`` or ``stage::metric[selector]``."""
    return f"{stage}::{metric}[{selector}]" if selector else f"{stage}::{metric}"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check.

    ``value`` is what was measured, ``bound`` the limit it was held to (both
    ``None`` where a check has no single number, such as a schema check) and
    ``message`` a one-line explanation that names the column, metric or group.
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
    method: str | None = None
    reason: str | None = None
    blocking: bool = False
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """``stage::metric`` or ``stage::metric[selector]``."""
        return check_id(self.stage, self.metric, self.selector)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; the inverse of :meth:`from_dict`."""
        return {
            "id": self.id,
            "stage": self.stage,
            "metric": self.metric,
            "selector": self.selector,
            "status": self.status.value,
            "severity": self.severity.value,
            "blocking": self.blocking,
            "threshold": self.threshold,
            "value": _json_number(self.value),
            "bound": _json_number(self.bound),
            "method": self.method,
            "message": self.message,
            "reason": self.reason,
            "details": _json_safe(self.details),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckResult:
        """Rebuild a result written by :meth:`to_dict`."""
        return cls(
            stage=data["stage"],
            metric=data["metric"],
            selector=data.get("selector"),
            status=Status(data["status"]),
            severity=Severity(data.get("severity", "block")),
            blocking=bool(data.get("blocking", False)),
            threshold=data.get("threshold"),
            value=_from_json_number(data.get("value")),
            bound=_from_json_number(data.get("bound")),
            method=data.get("method"),
            message=data.get("message", ""),
            reason=data.get("reason"),
            details=dict(data.get("details") or {}),
        )


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
        """Rebuild a gate written by :meth:`to_dict`."""
        return cls(
            stage=data["stage"],
            checks=tuple(CheckResult.from_dict(item) for item in data.get("checks", ())),
            duration_s=float(data.get("duration_s", 0.0)),
        )


@dataclass(frozen=True)
class RunRecord:
    """One run of the gates: what was judged, with what, and the verdict.

    This is the unit appended to the validation history.
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

    def check(self, check_id: str) -> CheckResult | None:
        """The result with this id, if the run has it."""
        return next((c for c in self.checks if c.id == check_id), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; the inverse of :meth:`from_dict`."""
        return {
            "format": 1,
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
    def from_dict(cls, data: Mapping[str, Any]) -> RunRecord:
        """Rebuild a run written by :meth:`to_dict`."""
        return cls(
            run_id=data["run_id"],
            started_at=data["started_at"],
            finished_at=data["finished_at"],
            gates=tuple(GateResult.from_dict(item) for item in data.get("gates", ())),
            mlgates_version=data.get("mlgates_version", "unknown"),
            config_path=data.get("config_path"),
            config_hash=data.get("config_hash"),
            profile=data.get("profile"),
            on_inconclusive=InconclusivePolicy(data.get("on_inconclusive", "fail")),
            git=dict(data.get("git") or {}),
            files=dict(data.get("files") or {}),
            source=data.get("source", "library"),
            partial=bool(data.get("partial", False)),
        )


class MlgatesError(Exception):
    """Base class of errors that mean nothing was judged (exit code 2)."""


class ConfigError(MlgatesError):
    """A configuration file or option is wrong; the message says where and how to fix it."""

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None) -> None:
        self.file = file
        self.key = key
        self.problem = message
        where = ": ".join(part for part in (file, key) if part)
        super().__init__(f"{where}: {message}" if where else message)


class InputError(MlgatesError):
    """A data or model file named by the configuration cannot be used."""
