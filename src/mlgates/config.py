"""Load and validate ``mlgates.toml`` (or ``[tool.mlgates]`` in ``pyproject.toml``).

The result is a frozen :class:`Config`. Every error names the file, the key and
what would be valid; unknown keys are errors, so a typo never silently disables
a gate. Each stage parses its own table through a :class:`TableReader`.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from mlgates.core import (
    ConfigError,
    FirstRunPolicy,
    InconclusivePolicy,
    Severity,
)
from mlgates.thresholds import Anchor, Threshold, ThresholdError, parse_threshold

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

CONFIG_FILE = "mlgates.toml"
PYPROJECT_FILE = "pyproject.toml"
DEFAULT_HISTORY = ".mlgates/history.jsonl"
DEFAULT_REPORT = ".mlgates/report.html"

_GLOBAL_TABLE = "mlgates"
_PROFILES_TABLE = "profile"


@dataclass(frozen=True)
class MetricInfo:
    """A metric a stage can check: where it applies and which anchors it accepts."""

    description: str
    per_column: bool = False
    anchors: frozenset[Anchor] = frozenset()
    supports_confidence: bool = False


@dataclass(frozen=True)
class CheckSpec:
    """One configured check: a threshold with its severity and an optional reason."""

    threshold: Threshold
    severity: Severity = Severity.BLOCK
    reason: str | None = None
    origin: str = ""

    @property
    def metric(self) -> str:
        """The metric name of the threshold."""
        return self.threshold.metric


def suggest(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a choice is close to ``word``, else ``''``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


_T = TypeVar("_T")


class TableReader:
    """Reads one table of the config, remembering which keys were used.

    Each accessor validates type and value and raises :class:`ConfigError`
    naming the file and the dotted key. :meth:`finish` rejects the keys that
    nobody read.
    """

    def __init__(self, data: Mapping[str, Any], *, file: str, prefix: str, root: Path) -> None:
        self.data = data
        self.file = file
        self.prefix = prefix
        self.root = root
        self._seen: set[str] = set()

    def key(self, name: str) -> str:
        """The dotted name of ``name`` inside this table."""
        return f"{self.prefix}.{name}" if self.prefix else name

    def error(self, name: str, message: str) -> ConfigError:
        """An error about key ``name`` of this table."""
        return ConfigError(message, file=self.file, key=self.key(name))

    def has(self, name: str) -> bool:
        """Whether the table sets ``name``."""
        return name in self.data

    def _get(self, name: str, kinds: tuple[type, ...], expected: str) -> Any:
        self._seen.add(name)
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, bool) and bool not in kinds:
            raise self.error(name, f"expected {expected}, got {value!r}")
        if not isinstance(value, kinds):
            raise self.error(name, f"expected {expected}, got {value!r}")
        return value

    def string(self, name: str, default: str | None = None) -> str | None:
        """A string value."""
        value = self._get(name, (str,), "a string")
        return default if value is None else str(value)

    def choice(self, name: str, choices: Sequence[str], default: str) -> str:
        """A string that must be one of ``choices``."""
        value = self.string(name, default)
        assert value is not None
        if value not in choices:
            valid = ", ".join(repr(c) for c in choices)
            raise self.error(name, f"{value!r} is not valid; use one of {valid}")
        return value

    def enum(self, name: str, kind: type[_T], default: _T) -> _T:
        """A value of a string enum."""
        choices = [member.value for member in kind]  # type: ignore[attr-defined]
        return kind(self.choice(name, choices, default.value))  # type: ignore[attr-defined,call-arg]

    def number(
        self,
        name: str,
        default: float,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> float:
        """A float within bounds."""
        value = self._get(name, (int, float), "a number")
        number = default if value is None else float(value)
        if not math.isfinite(number):
            raise self.error(name, f"{number!r} is not a finite number")
        if minimum is not None and number < minimum:
            raise self.error(name, f"{number!r} is too small; it must be at least {minimum}")
        if maximum is not None and number > maximum:
            raise self.error(name, f"{number!r} is too large; it must be at most {maximum}")
        return number

    def integer(self, name: str, default: int, *, minimum: int | None = None) -> int:
        """An integer, at least ``minimum``."""
        value = self._get(name, (int,), "a whole number")
        number = default if value is None else int(value)
        if minimum is not None and number < minimum:
            raise self.error(name, f"{number} is too small; it must be at least {minimum}")
        return number

    def boolean(self, name: str, default: bool) -> bool:
        """``true`` or ``false``."""
        value = self._get(name, (bool,), "true or false")
        return default if value is None else bool(value)

    def path(self, name: str, *, required: bool = False, must_exist: bool = True) -> Path | None:
        """A file path, relative to the config file's directory."""
        value = self.string(name)
        if value is None:
            if required:
                raise self.error(name, "is required: give a path relative to the config file")
            return None
        path = (self.root / value).resolve()
        if must_exist and not path.exists():
            raise self.error(name, f"file not found: {value!r} (looked for {path})")
        return path

    def strings(self, name: str) -> tuple[str, ...]:
        """A list of strings."""
        value = self._get(name, (list,), "a list of strings")
        if value is None:
            return ()
        for item in value:
            if not isinstance(item, str):
                raise self.error(name, f"expected a list of strings, found {item!r}")
        return tuple(value)

    def table(self, name: str) -> Mapping[str, Any]:
        """A sub-table (empty when absent)."""
        value = self._get(name, (dict,), "a table")
        return value if value is not None else {}

    def sub(self, name: str, data: Mapping[str, Any]) -> TableReader:
        """A reader for a nested table."""
        return TableReader(data, file=self.file, prefix=self.key(name), root=self.root)

    def checks(
        self, name: str, metrics: Mapping[str, MetricInfo], *, column: str | None = None
    ) -> tuple[CheckSpec, ...]:
        """A list of checks: threshold strings or tables ``{check, severity, reason}``."""
        self._seen.add(name)
        raw = self.data.get(name)
        if raw is None:
            return ()
        if not isinstance(raw, list):
            raise self.error(name, 'expected a list of checks such as ["accuracy >= 0.85"]')
        specs = tuple(
            self._check(f"{name}[{index}]", item, metrics, column) for index, item in enumerate(raw)
        )
        seen: dict[tuple[str, str | None], str] = {}
        for spec in specs:
            key = (spec.metric, spec.threshold.selector)
            if key in seen:
                shown = f"{key[0]}[{key[1]}]" if key[1] else key[0]
                raise ConfigError(
                    f"checks {shown} twice (also at {seen[key]}); a check id must be unique: "
                    "keep one bound, or move one to a [profile.<name>] table",
                    file=self.file,
                    key=spec.origin,
                )
            seen[key] = spec.origin
        return specs

    def _check(
        self, key: str, item: Any, metrics: Mapping[str, MetricInfo], column: str | None
    ) -> CheckSpec:
        severity = Severity.BLOCK
        reason = None
        if isinstance(item, dict):
            entry = TableReader(item, file=self.file, prefix=self.key(key), root=self.root)
            text = entry.string("check")
            if text is None:
                raise entry.error("check", 'is required: the threshold, e.g. "f1 >= 0.8"')
            severity = entry.enum("severity", Severity, Severity.BLOCK)
            reason = entry.string("reason")
            entry.finish()
        elif isinstance(item, str):
            text = item
        else:
            raise self.error(key, f"expected a threshold string or a table, got {item!r}")
        threshold = parse_check(text, metrics, file=self.file, key=self.key(key))
        if column is not None:
            if threshold.selector not in (None, column):
                raise self.error(
                    key, f"{text!r} names {threshold.selector!r} inside the table of {column!r}"
                )
            if not metrics[threshold.metric].per_column:
                raise self.error(key, f"{threshold.metric!r} is not a per-column metric")
            threshold = threshold.for_selector(column)
        return CheckSpec(threshold, severity, reason, origin=self.key(key))

    def finish(self, *, allow: Iterable[str] = ()) -> None:
        """Reject keys that were never read."""
        allowed = self._seen | set(allow)
        for name in self.data:
            if name not in allowed:
                valid = ", ".join(sorted(allowed)) or "(none)"
                raise self.error(name, f"unknown key{suggest(name, allowed)}; valid keys: {valid}")


def parse_check(
    text: str, metrics: Mapping[str, MetricInfo], *, file: str | None = None, key: str | None = None
) -> Threshold:
    """Parse a threshold and check its metric and anchor against a stage's metrics."""
    try:
        threshold = parse_threshold(text)
    except ThresholdError as exc:
        raise ConfigError(str(exc), file=file, key=key) from None
    info = metrics.get(threshold.metric)
    if info is None:
        known = ", ".join(sorted(metrics))
        raise ConfigError(
            f"unknown metric {threshold.metric!r}{suggest(threshold.metric, metrics)} in "
            f"{text!r}; known metrics: {known}",
            file=file,
            key=key,
        )
    if threshold.anchor is not None and threshold.anchor not in info.anchors:
        allowed = ", ".join(sorted(a.value for a in info.anchors)) or "none (use a number)"
        raise ConfigError(
            f"{threshold.metric!r} cannot be compared with {threshold.anchor.value!r} in "
            f"{text!r}; allowed anchors: {allowed}",
            file=file,
            key=key,
        )
    if threshold.confidence is not None and not info.supports_confidence:
        raise ConfigError(
            f"{threshold.metric!r} has no confidence interval; drop the '@' level from {text!r}",
            file=file,
            key=key,
        )
    if threshold.selector is not None and not info.per_column:
        raise ConfigError(
            f"{threshold.metric!r} is measured once per data set; drop "
            f"'[{threshold.selector}]' from {text!r}",
            file=file,
            key=key,
        )
    return threshold


@dataclass(frozen=True)
class Config:
    """A validated configuration: global settings and one config per enabled stage."""

    path: Path
    root: Path
    stages: Mapping[str, Any]
    on_inconclusive: InconclusivePolicy = InconclusivePolicy.FAIL
    first_run: FirstRunPolicy = FirstRunPolicy.INCONCLUSIVE
    history: str = DEFAULT_HISTORY
    report: Path | None = None
    profile: str | None = None
    document: Mapping[str, Any] = field(default_factory=dict)
    overrides: tuple[str, ...] = ()

    @property
    def display_path(self) -> str:
        """The config file's path as users see it (relative to the working directory)."""
        try:
            return str(self.path.relative_to(Path.cwd()))
        except ValueError:
            return str(self.path)

    @property
    def config_hash(self) -> str:
        """sha256 of the effective settings: document after profile, plus overrides."""
        canonical = json.dumps(
            {"document": self.document, "overrides": list(self.overrides)},
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()

    def with_stages(self, names: Sequence[str]) -> Config:
        """Only the named stages; unknown or unconfigured names are errors."""
        from mlgates.stages import STAGES

        for name in names:
            if name not in STAGES:
                known = ", ".join(STAGES)
                raise ConfigError(f"unknown stage {name!r}{suggest(name, STAGES)}; stages: {known}")
            if name not in self.stages:
                raise ConfigError(
                    f"stage {name!r} is not configured: add a [{name}] table",
                    file=self.display_path,
                )
        return replace(self, stages={n: c for n, c in self.stages.items() if n in names})

    def with_thresholds(self, texts: Sequence[str]) -> Config:
        """Apply command-line thresholds: each replaces the same metric's checks or adds one."""
        from mlgates.stages import STAGES

        stages = dict(self.stages)
        for text in texts:
            try:
                threshold = parse_threshold(text)
            except ThresholdError as exc:
                raise ConfigError(str(exc), key="--threshold") from None
            owners = [name for name, stage in STAGES.items() if threshold.metric in stage.metrics]
            if not owners:
                every = sorted({m for stage in STAGES.values() for m in stage.metrics})
                raise ConfigError(
                    f"unknown metric {threshold.metric!r}{suggest(threshold.metric, every)}; "
                    f"known metrics: {', '.join(every)}",
                    key="--threshold",
                )
            name = owners[0]
            if name not in stages:
                raise ConfigError(
                    f"{text!r} is a {name} check, but the config has no [{name}] table",
                    file=self.display_path,
                    key="--threshold",
                )
            stage = STAGES[name]
            parse_check(text, stage.metrics, key="--threshold")
            stages[name] = stage.override(stages[name], CheckSpec(threshold, origin="--threshold"))
        return replace(self, stages=stages, overrides=self.overrides + tuple(texts))


def find_config(start: Path | None = None) -> Path:
    """The config file for ``start`` (default: the working directory).

    ``mlgates.toml`` wins over a ``pyproject.toml`` with a ``[tool.mlgates]`` table.
    """
    directory = (start or Path.cwd()).resolve()
    candidate = directory / CONFIG_FILE
    if candidate.is_file():
        return candidate
    pyproject = directory / PYPROJECT_FILE
    if pyproject.is_file() and "mlgates" in _read_toml(pyproject).get("tool", {}):
        return pyproject
    raise ConfigError(
        f"no {CONFIG_FILE} (or [tool.mlgates] in {PYPROJECT_FILE}) in {directory}; "
        "create one with 'mlgates init --reference <data file>' or pass --config"
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError("config file not found", file=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", file=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=str(path)) from None


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def load_config(path: Path | str | None = None, *, profile: str | None = None) -> Config:
    """Load, merge a profile into, and validate a config file.

    ``path`` is a ``mlgates.toml`` or a ``pyproject.toml``; ``None`` looks in the
    working directory. Raises :class:`ConfigError` on any problem.
    """
    from mlgates.stages import STAGES

    file_path = find_config() if path is None else Path(path).resolve()
    if file_path.is_dir():
        file_path = find_config(file_path)
    raw = _read_toml(file_path)
    display = str(path) if path is not None else file_path.name
    if file_path.name == PYPROJECT_FILE:
        tool = raw.get("tool", {}).get("mlgates")
        if not isinstance(tool, dict):
            raise ConfigError("has no [tool.mlgates] table", file=display)
        document = {k: v for k, v in tool.items() if k in STAGES or k == _PROFILES_TABLE}
        document[_GLOBAL_TABLE] = {
            k: v for k, v in tool.items() if k not in STAGES and k != _PROFILES_TABLE
        }
        prefix = "tool.mlgates."
    else:
        document = raw
        prefix = ""

    profiles = document.get(_PROFILES_TABLE, {})
    if not isinstance(profiles, dict):
        raise ConfigError(
            "expected tables such as [profile.nightly]", file=display, key=prefix + _PROFILES_TABLE
        )
    for name, table in profiles.items():
        if not isinstance(table, dict):
            raise ConfigError(
                f"expected a table of overrides such as [profile.{name}], got {table!r}",
                file=display,
                key=f"{prefix}{_PROFILES_TABLE}.{name}",
            )
    if profile is not None:
        if profile not in profiles:
            known = ", ".join(sorted(profiles)) or "none defined"
            raise ConfigError(
                f"unknown profile {profile!r}{suggest(profile, profiles)}; profiles: {known}",
                file=display,
                key=f"{prefix}{_PROFILES_TABLE}",
            )
        document = _merge(
            {k: v for k, v in document.items() if k != _PROFILES_TABLE}, profiles[profile]
        )
    else:
        document = {k: v for k, v in document.items() if k != _PROFILES_TABLE}
    if profile is not None:
        display = f"{display} (profile {profile})"

    root = file_path.parent
    top = TableReader(document, file=display, prefix=prefix.rstrip("."), root=root)
    settings = top.sub(_GLOBAL_TABLE, top.table(_GLOBAL_TABLE))
    if file_path.name == PYPROJECT_FILE:
        settings = TableReader(
            document[_GLOBAL_TABLE], file=display, prefix="tool.mlgates", root=root
        )
    on_inconclusive = settings.enum("on_inconclusive", InconclusivePolicy, InconclusivePolicy.FAIL)
    first_run = settings.enum("first_run", FirstRunPolicy, FirstRunPolicy.INCONCLUSIVE)
    history = settings.string("history", DEFAULT_HISTORY) or DEFAULT_HISTORY
    report_setting = settings.string("report", DEFAULT_REPORT)
    report = (root / report_setting).resolve() if report_setting else None
    settings.finish()

    stages: dict[str, Any] = {}
    for name, stage in STAGES.items():
        if name in document:
            table = top.table(name)
            reader = top.sub(name, table)
            stages[name] = stage.parse_config(reader)
            reader.finish()
    top.finish(allow=STAGES)
    if not stages:
        names = ", ".join(f"[{prefix}{name}]" for name in STAGES)
        raise ConfigError(f"configures no stage; add at least one of {names}", file=display)
    return Config(
        path=file_path,
        root=root,
        stages=stages,
        on_inconclusive=on_inconclusive,
        first_run=first_run,
        history=history,
        report=report,
        profile=profile,
        document=document,
    )
