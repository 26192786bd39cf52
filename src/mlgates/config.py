"""Load and validate ``mlgates.toml`` (or ``[tool.mlgates]`` in ``pyproject.toml``).

The result is a frozen :class:`Config`. Every error names the file, the key and
what would be valid; unknown keys are reported first, so a typo never silently
disables a gate. Each stage parses its own table (:mod:`mlgates.registry` finds
the stage, :class:`~mlgates.tables.TableReader` reads the table).
"""

from __future__ import annotations

import copy
import hashlib
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mlgates.core import ConfigError, FirstRunPolicy, InconclusivePolicy, Origin, UsageError
from mlgates.registry import configured_metrics, get_stage, stage_names
from mlgates.tables import CheckSpec, SourceLines, TableReader, config_path, parse_check
from mlgates.text import did_you_mean
from mlgates.thresholds import ThresholdError, parse_threshold

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

CONFIG_FILE = "mlgates.toml"
PYPROJECT_FILE = "pyproject.toml"
DEFAULT_HISTORY = ".mlgates/history.jsonl"
DEFAULT_REPORT = ".mlgates/report.html"
SETTINGS_TABLE = "mlgates"
PROFILES_TABLE = "profile"
_SETTINGS = ("on_inconclusive", "first_run", "history", "report")


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
    selected: tuple[str, ...] = ()

    @property
    def display_path(self) -> str:
        """The config file's path as users see it (relative to the working directory)."""
        return _shown(self.path)

    @property
    def record_name(self) -> str:
        """The config file as run records name it: relative to its own directory."""
        return self.path.name

    @property
    def config_hash(self) -> str:
        """sha256 of the effective settings: document after profile, plus overrides."""
        canonical = json.dumps(
            {"document": self.document, "overrides": list(self.overrides)},
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def is_subset(self) -> bool:
        """Whether stages were left out or checks overridden: such a run is partial."""
        return bool(self.selected or self.overrides)

    def with_stages(self, names: Sequence[str]) -> Config:
        """Only the named stages; unknown or unconfigured names are usage errors."""
        known = stage_names()
        for name in names:
            if name not in known:
                raise UsageError(
                    f"--stage: unknown stage {name!r}{did_you_mean(name, known)}; "
                    f"stages: {', '.join(known)}"
                )
            if name not in self.stages:
                raise UsageError(
                    f"--stage: {self.display_path} has no [{name}] table; "
                    f"configured stages: {', '.join(self.stages)}"
                )
        chosen = {n: c for n, c in self.stages.items() if n in names}
        left_out = len(chosen) < len(self.stages)
        return replace(self, stages=chosen, selected=tuple(chosen) if left_out else ())

    def with_thresholds(self, texts: Sequence[str]) -> Config:
        """Apply command-line thresholds: each replaces the same check or adds one.

        The stage comes from a ``stage::`` prefix or from the metric name; a
        metric that more than one configured stage knows needs the prefix.
        """
        stages = dict(self.stages)
        for text in texts:
            try:
                threshold = parse_threshold(text)
            except ThresholdError as exc:
                raise UsageError(f"--threshold: {exc}") from None
            if threshold.stage is not None and threshold.stage not in stage_names():
                known = stage_names()
                raise UsageError(
                    f"--threshold {text!r}: unknown stage {threshold.stage!r}"
                    f"{did_you_mean(threshold.stage, known)}; stages: {', '.join(known)}"
                )
            name = threshold.stage or self._owner(threshold.metric, text)
            if name not in stages:
                raise UsageError(
                    f"--threshold {text!r} is a {name} check, but {self.display_path} has no "
                    f"[{name}] table"
                )
            stage = get_stage(name)
            try:
                metrics = configured_metrics(stage, stages[name])
                checked = parse_check(text, name, metrics, key="--threshold")
            except ConfigError as exc:
                raise UsageError(str(exc)) from None
            spec = CheckSpec(checked, origin=Origin(key="--threshold"))
            stages[name] = stage.override(stages[name], spec)
        return replace(self, stages=stages, overrides=self.overrides + tuple(texts))

    def _owner(self, metric: str, text: str) -> str:
        configured = [
            n for n in self.stages if metric in configured_metrics(get_stage(n), self.stages[n])
        ]
        if len(configured) == 1:
            return configured[0]
        if len(configured) > 1:
            options = " or ".join(f"'{n}::{text.strip()}'" for n in configured)
            raise UsageError(
                f"--threshold {text!r}: {metric!r} is a metric of {', '.join(configured)}; "
                f"name the stage: {options}"
            )
        owners = [n for n in stage_names() if metric in _metrics_of(n)]
        if owners:
            return owners[0]
        every = sorted(
            {m for n in self.stages for m in configured_metrics(get_stage(n), self.stages[n])}
        )
        raise UsageError(
            f"--threshold {text!r}: unknown metric {metric!r}{did_you_mean(metric, every)}; "
            f"metrics of the configured stages: {', '.join(every)}"
        )


def _metrics_of(name: str) -> Mapping[str, Any]:
    """A stage's metrics, or none when the stage fails to load (it is not configured)."""
    try:
        return get_stage(name).metrics
    except ConfigError:
        return {}


def find_config(start: Path | None = None) -> Path:
    """The config file for ``start`` (default: the working directory).

    ``mlgates.toml`` wins over a ``pyproject.toml`` with a ``[tool.mlgates]`` table.
    """
    directory = (start or Path.cwd()).absolute()
    candidate = directory / CONFIG_FILE
    if candidate.is_file():
        return candidate
    pyproject = directory / PYPROJECT_FILE
    if pyproject.is_file() and isinstance(_tool_table(read_toml(pyproject), pyproject.name), dict):
        return pyproject
    raise ConfigError(
        f"no {CONFIG_FILE} (or [tool.mlgates] in {PYPROJECT_FILE}) in {directory}; "
        "create one with 'mlgates init --reference <data file>' or pass --config"
    )


def read_toml(path: Path, display: str | None = None) -> dict[str, Any]:
    """A TOML file as a dict; any problem is a :class:`ConfigError` naming the file."""
    return _parse_toml(_read_text(path, display or str(path)), display or str(path))


def _read_text(path: Path, shown: str) -> str:
    """The config file's text (UTF-8, a leading byte-order mark dropped)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError("config file not found", file=shown) from None
    except IsADirectoryError:
        raise ConfigError("is a directory, not a config file", file=shown) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", file=shown) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); save the file as UTF-8",
            file=shown,
        ) from None
    return text.removeprefix("\ufeff")


def _parse_toml(text: str, shown: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", file=shown) from None


def _shown(path: Path) -> str:
    """``path`` as users see it: relative to the working directory when below it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _tool_table(raw: Mapping[str, Any], display: str) -> Any:
    tool = raw.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"expected [tool] to be a table, got {tool!r}", file=display, key="tool")
    return tool.get("mlgates")


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _document(file_path: Path, display: str) -> tuple[dict[str, Any], str, str]:
    """The config as ``{mlgates, <stage>..., profile}``, its key prefix and its text."""
    text = _read_text(file_path, display)
    raw = _parse_toml(text, display)
    if file_path.name != PYPROJECT_FILE:
        return raw, "", text
    tool = _tool_table(raw, display)
    if not isinstance(tool, dict):
        raise ConfigError("has no [tool.mlgates] table", file=display)
    if SETTINGS_TABLE in tool:
        raise ConfigError(
            "global settings sit directly in [tool.mlgates] (e.g. tool.mlgates.first_run), "
            "not in a [tool.mlgates.mlgates] table",
            file=display,
            key=f"tool.mlgates.{SETTINGS_TABLE}",
        )
    document = _nest_settings(tool)
    profiles = document.get(PROFILES_TABLE)
    if isinstance(profiles, dict):
        document[PROFILES_TABLE] = {
            name: _nest_settings(table) if isinstance(table, dict) else table
            for name, table in profiles.items()
        }
    return document, "tool.mlgates", text


def _nest_settings(table: Mapping[str, Any]) -> dict[str, Any]:
    """A ``[tool.mlgates]``-style table (settings as plain values, stages as tables) with
    its settings moved into an ``mlgates`` table, the shape of ``mlgates.toml``."""
    document = {k: v for k, v in table.items() if isinstance(v, dict)}
    settings = {k: v for k, v in table.items() if not isinstance(v, dict)}
    if settings:
        document[SETTINGS_TABLE] = settings
    return document


def _apply_profile(
    document: dict[str, Any], profile: str | None, display: str, prefix: str
) -> dict[str, Any]:
    key = f"{prefix}.{PROFILES_TABLE}" if prefix else PROFILES_TABLE
    profiles = document.get(PROFILES_TABLE, {})
    if not isinstance(profiles, dict):
        raise ConfigError("expected tables such as [profile.nightly]", file=display, key=key)
    for name, table in profiles.items():
        if not isinstance(table, dict):
            raise ConfigError(
                f"expected a table of overrides such as [profile.{name}], got {table!r}",
                file=display,
                key=f"{key}.{name}",
            )
    base = {k: v for k, v in document.items() if k != PROFILES_TABLE}
    if profile is None:
        return base
    if profile not in profiles:
        known = ", ".join(sorted(profiles)) or "none defined"
        raise UsageError(
            f"{display}: unknown profile {profile!r}{did_you_mean(profile, profiles)}; "
            f"profiles: {known}"
        )
    return _merge(base, profiles[profile])


def load_config(
    path: Path | str | None = None, *, profile: str | None = None, stages: bool = True
) -> Config:
    """Load, merge a profile into, and validate a config file.

    ``path`` is a ``mlgates.toml``, a ``pyproject.toml`` or a directory holding
    one; ``None`` looks in the working directory. ``stages=False`` reads the
    global settings only (enough to find the history, even when a data file
    named by a stage is missing). Raises :class:`ConfigError` on any problem.
    """
    if path is not None and "\x00" in str(path):
        raise UsageError(f"--config {str(path)!r} contains a NUL byte")
    file_path = find_config() if path is None else Path(path).absolute()
    if file_path.is_dir():
        file_path = find_config(file_path)
    display = _shown(file_path)
    document, prefix, text = _document(file_path, display)
    document = _apply_profile(document, profile, display, prefix)
    if profile is not None:
        display = f"{display} (profile {profile})"
    root = file_path.parent
    source = SourceLines(text)
    top = TableReader(document, file=display, prefix=prefix, root=root, source=source)
    known = stage_names()
    top.expect([SETTINGS_TABLE, *known])
    settings = top.sub(SETTINGS_TABLE, top.table(SETTINGS_TABLE))
    if prefix:
        settings = TableReader(
            document.get(SETTINGS_TABLE, {}), file=display, prefix=prefix, root=root, source=source
        )
    settings.expect(_SETTINGS)
    on_inconclusive = settings.enum("on_inconclusive", InconclusivePolicy, InconclusivePolicy.FAIL)
    first_run = settings.enum("first_run", FirstRunPolicy, FirstRunPolicy.INCONCLUSIVE)
    history = settings.string("history", DEFAULT_HISTORY) or DEFAULT_HISTORY
    if "\x00" in history:
        raise settings.error("history", "contains a NUL byte")
    if "://" in history and not history.startswith("sqlite:///"):
        raise settings.error(
            "history", f"unsupported location {history!r}; use a .jsonl path or sqlite:///path"
        )
    report_setting = settings.string("report", DEFAULT_REPORT)
    report = None
    if report_setting:
        report = config_path(
            report_setting, root, must_exist=False, error=settings.error, name="report"
        )

    parsed: dict[str, Any] = {}
    for name in known:
        if name in document and stages:
            reader = TableReader(
                top.table(name),
                file=display,
                prefix=top.key(name),
                root=root,
                source=source,
                stages=dict(parsed),
            )
            parsed[name] = get_stage(name).parse_config(reader)
            reader.finish()
    if stages and not parsed:
        tables = ", ".join(f"[{prefix + '.' if prefix else ''}{name}]" for name in known)
        raise ConfigError(f"configures no stage; add at least one of {tables}", file=display)
    return Config(
        path=file_path,
        root=root,
        stages=parsed,
        on_inconclusive=on_inconclusive,
        first_run=first_run,
        history=history,
        report=report,
        profile=profile,
        document=document,
    )
