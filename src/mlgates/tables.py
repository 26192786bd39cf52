"""Reading one table of the config file: typed keys, paths and checks, with precise errors.

A :class:`TableReader` validates each key it is asked for and raises
:class:`~mlgates.core.ConfigError` naming the file, the dotted key and what
would be valid. :meth:`TableReader.expect` rejects unknown keys before any
value is interpreted, so a typo is always the first thing reported.
"""

from __future__ import annotations

import errno
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from mlgates.core import ConfigError, Direction, Origin, Severity
from mlgates.text import did_you_mean, named
from mlgates.thresholds import Anchor, Threshold, ThresholdError, parse_threshold

_T = TypeVar("_T")
SECONDS = "s"
"""The unit of a duration metric (:attr:`MetricInfo.unit`)."""
_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")


@dataclass(frozen=True)
class MetricInfo:
    """A metric a stage can check.

    ``direction`` says which way the metric improves (``best`` bounds and
    reports use it); ``selector`` what ``metric[x]`` names (``"column"``,
    ``"slice"``, ``"group"``, ``"package"``), ``None`` for a metric measured once;
    ``anchors`` which relative bounds it accepts; ``interval`` whether the stage
    gives confidence intervals, so that ``@95%`` may be used; ``unit`` the unit
    of its values: ``"s"`` (:data:`SECONDS`) for a duration, whose bounds are
    written with a time unit (``2d``, ``36h``) and whose values are shown as
    durations; ``None`` for a plain number. ``track_members``: a family member
    (slice, group) measured in the last comparable run and missing now is
    reported, never silently dropped.
    """

    description: str
    direction: Direction = Direction.NEITHER
    selector: str | None = None
    anchors: frozenset[Anchor] = frozenset()
    interval: bool = False
    unit: str | None = None
    track_members: bool = False

    def __post_init__(self) -> None:
        if self.unit not in (None, SECONDS):
            raise ValueError(f"unit {self.unit!r}: a metric is a plain number (None) or 's'")

    @property
    def is_duration(self) -> bool:
        """Whether the metric is a duration in seconds."""
        return self.unit == SECONDS


@dataclass(frozen=True)
class CheckSpec:
    """One configured check: a threshold, its severity, a reason, and where it is written."""

    threshold: Threshold
    severity: Severity = Severity.BLOCK
    reason: str | None = None
    origin: Origin = field(default_factory=Origin)
    variant: str | None = None

    @property
    def metric(self) -> str:
        """The metric name of the threshold."""
        return self.threshold.metric

    @property
    def key(self) -> tuple[str, str | None, str | None]:
        """What makes a check unique: metric, selector and anchor (None for a value bound)."""
        anchor = self.threshold.anchor
        return (self.metric, self.threshold.selector, None if anchor is None else anchor.value)


def anchored_variants(specs: Sequence[CheckSpec]) -> tuple[CheckSpec, ...]:
    """``specs`` where every bound against an anchor carries it in its id.

    For stages that take several bounds on one metric: ``roc_auc >= 0.8`` is
    ``roc_auc``, ``roc_auc >= baseline - 0.01`` is ``roc_auc~baseline``, so
    ids stay the same when bounds are added or removed.
    """
    return tuple(
        spec if spec.variant == spec.key[2] else replace(spec, variant=spec.key[2])
        for spec in specs
    )


class SourceLines:
    """Finds the line of a check in the config file's text, for reports and annotations."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self._sections: dict[str, int] = {}
        for number, line in enumerate(self.lines):
            found = _HEADER.match(line)
            if found:
                name = re.sub(r"\s*\.\s*", ".", found.group(1)).replace('"', "")
                self._sections.setdefault(name, number)

    def line_of(self, section: str, needle: str) -> int | None:
        """1-based line holding ``needle`` inside ``[section]`` (or anywhere), if found."""
        start = self._sections.get(section)
        if start is not None:
            for number in range(start + 1, len(self.lines)):
                if _HEADER.match(self.lines[number]):
                    break
                if needle in self.lines[number]:
                    return number + 1
        for number, line in enumerate(self.lines):
            if needle in line:
                return number + 1
        return None if start is None else start + 1


class TableReader:
    """Reads one table of the config, remembering which keys were used."""

    def __init__(
        self,
        data: Mapping[str, Any],
        *,
        file: str,
        prefix: str,
        root: Path,
        source: SourceLines | None = None,
        stages: Mapping[str, Any] | None = None,
    ) -> None:
        self.data = data
        self.file = file
        self.prefix = prefix
        self.root = root
        self.source = source
        self.stages: Mapping[str, Any] = stages if stages is not None else {}
        """The configs of the stages parsed before this table's (run order), by name: a
        stage that judges another's models reads them here."""
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

    def expect(self, names: Iterable[str]) -> None:
        """Reject every key not in ``names`` now, before any value is interpreted."""
        allowed = set(names)
        self._reject_unknown(allowed)

    def finish(self, *, allow: Iterable[str] = ()) -> None:
        """Reject keys that were never read."""
        self._reject_unknown(self._seen | set(allow))

    def _reject_unknown(self, allowed: set[str]) -> None:
        for name in self.data:
            if name not in allowed:
                valid = ", ".join(sorted(allowed)) or "(none)"
                raise self.error(
                    name, f"unknown key{did_you_mean(name, allowed)}; valid keys: {valid}"
                )

    def _get(self, name: str, kinds: tuple[type, ...], expected: str) -> Any:
        self._seen.add(name)
        value = self.data.get(name)
        if value is None:
            return None
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            raise self.error(name, f"expected {expected}, got {value!r}")
        return value

    def raw(self, name: str) -> Any:
        """The value as written, of any type (None when absent); the caller validates it."""
        self._seen.add(name)
        return self.data.get(name)

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
            raise self.error(
                name, f"{value!r} is not valid{did_you_mean(value, choices)}; use one of {valid}"
            )
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
        """A finite float within bounds."""
        value = self._get(name, (int, float), "a number")
        number = default if value is None else float(value)
        if not math.isfinite(number):
            raise self.error(name, f"{number!r} is not a finite number")
        if minimum is not None and number < minimum:
            raise self.error(name, f"{number!r} is too small; it must be at least {minimum}")
        if maximum is not None and number > maximum:
            raise self.error(name, f"{number!r} is too large; it must be at most {maximum}")
        return number

    def integer(
        self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        """A whole number within bounds."""
        value = self._get(name, (int,), "a whole number")
        number = default if value is None else int(value)
        if minimum is not None and number < minimum:
            raise self.error(name, f"{number} is too small; it must be at least {minimum}")
        if maximum is not None and number > maximum:
            raise self.error(name, f"{number} is too large; it must be at most {maximum}")
        return number

    def boolean(self, name: str, default: bool) -> bool:
        """``true`` or ``false``."""
        value = self._get(name, (bool,), "true or false")
        return default if value is None else bool(value)

    def path(self, name: str, *, required: bool = False, must_exist: bool = True) -> Path | None:
        """A path relative to the config file's directory (see :func:`config_path`)."""
        value = self.string(name)
        if value is None:
            if required:
                raise self.error(name, "is required: give a path relative to the config file")
            return None
        return config_path(value, self.root, must_exist=must_exist, error=self.error, name=name)

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
        return TableReader(
            data,
            file=self.file,
            prefix=self.key(name),
            root=self.root,
            source=self.source,
            stages=self.stages,
        )

    def origin(self, key: str, text: str) -> Origin:
        """Where the check ``text`` at ``key`` of this table is written."""
        line = self.source.line_of(self.prefix, text) if self.source else None
        return Origin(file=self.file, line=line, key=self.key(key))

    def checks(
        self,
        name: str,
        stage: str,
        metrics: Mapping[str, MetricInfo],
        *,
        selector: str | None = None,
        one_bound_per_metric: bool = False,
    ) -> tuple[CheckSpec, ...]:
        """A list of checks: threshold strings or tables ``{check, severity, reason}``.

        ``selector`` binds every check of the list to one column, slice or group
        (a per-column table such as ``[data.columns.income]``). A metric (and
        selector) may have one bound per anchor, or with ``one_bound_per_metric``
        one bound at all.
        """
        self._seen.add(name)
        raw = self.data.get(name)
        if raw is None:
            return ()
        if not isinstance(raw, list):
            raise self.error(name, 'expected a list of checks such as ["accuracy >= 0.85"]')
        specs = tuple(
            self._check(f"{name}[{index}]", item, stage, metrics, selector)
            for index, item in enumerate(raw)
        )
        for spec, earlier in _repeats(specs, one_bound_per_metric):
            metric, selector, anchor = spec.key
            if one_bound_per_metric:
                kind, rule = "", f"; the {stage} gate holds a metric to one bound: keep one"
            else:
                kind = f" against {anchor!r}" if anchor else " with a value bound"
                rule = "; keep one bound"
            raise ConfigError(
                f"checks {named(metric, selector)}{kind} twice (also at {earlier})"
                f"{rule}, or move one to a [profile.<name>] table",
                file=self.file,
                key=spec.origin.key,
            )
        return specs

    def _check(
        self,
        key: str,
        item: Any,
        stage: str,
        metrics: Mapping[str, MetricInfo],
        selector: str | None,
    ) -> CheckSpec:
        severity = Severity.BLOCK
        reason = None
        if isinstance(item, dict):
            entry = self.sub(key, item)
            entry.expect(("check", "severity", "reason"))
            text = entry.string("check")
            if text is None:
                raise entry.error("check", 'is required: the threshold, e.g. "f1 >= 0.8"')
            severity = entry.enum("severity", Severity, Severity.BLOCK)
            reason = entry.string("reason")
        elif isinstance(item, str):
            text = item
        else:
            raise self.error(key, f"expected a threshold string or a table, got {item!r}")
        where = {"file": self.file, "key": self.key(key)}
        threshold = parse_check(text, stage, metrics, **where)
        if selector is not None:
            info = metrics[threshold.metric]
            if threshold.selector not in (None, selector):
                raise self.error(
                    key, f"{text!r} names {threshold.selector!r} inside the table of {selector!r}"
                )
            if info.selector is None:
                raise self.error(
                    key, f"{threshold.metric!r} is measured once, not per {selector!r}"
                )
            threshold = threshold.for_selector(selector)
        return CheckSpec(threshold, severity, reason, origin=self.origin(key, text))


def _repeats(
    specs: Sequence[CheckSpec], one_bound_per_metric: bool
) -> Iterable[tuple[CheckSpec, str]]:
    """Each check that repeats an earlier one, with where the earlier one is written."""
    seen: dict[tuple[str, str | None, str | None], str] = {}
    for spec in specs:
        key = (*spec.key[:2], None) if one_bound_per_metric else spec.key
        if key in seen:
            yield spec, seen[key]
        seen.setdefault(key, spec.origin.key or "")


def config_path(
    value: str, root: Path, *, must_exist: bool = True, error: Any = None, name: str = ""
) -> Path:
    """``value`` as an absolute path below ``root`` when relative.

    Symlinks are not resolved: a data file is recognised by the name the
    config gives it (DVC and git-annex keep targets under extensionless hashes).
    Raises :class:`ConfigError` for a NUL byte, a symlink loop or, with
    ``must_exist``, a missing file.
    """

    def fail(message: str) -> ConfigError:
        if error is not None:
            return error(name, message)  # type: ignore[no-any-return]
        return ConfigError(message, key=name or None)

    if "\x00" in value:
        raise fail(f"{value!r} contains a NUL byte; write the path without it")
    if not value.strip():
        raise fail("is empty: give a path relative to the config file")
    path = Path(os.path.normpath(root / Path(value).expanduser()))
    if must_exist:
        try:
            path.stat()
        except FileNotFoundError:
            hint = " (a broken symlink)" if path.is_symlink() else ""
            raise fail(f"file not found: {value!r}{hint} (looked for {path})") from None
        except RuntimeError:
            raise fail(f"{value!r} is a symlink loop; point it at a real file") from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise fail(f"{value!r} is a symlink loop; point it at a real file") from None
            raise fail(f"cannot open {value!r}: {exc.strerror or exc}") from None
        if path.is_dir():
            raise fail(f"{value!r} is a directory; name a file in it")
    return path


def parse_check(
    text: str,
    stage: str,
    metrics: Mapping[str, MetricInfo],
    *,
    file: str | None = None,
    key: str | None = None,
) -> Threshold:
    """Parse a threshold and check it against a stage's metrics."""
    try:
        threshold = parse_threshold(text)
    except ThresholdError as exc:
        raise ConfigError(str(exc), file=file, key=key) from None
    if threshold.stage is not None and threshold.stage != stage:
        raise ConfigError(
            f"{text!r} names stage {threshold.stage!r} inside the {stage} stage; drop the "
            f"'{threshold.stage}::' prefix or move the check to [{threshold.stage}]",
            file=file,
            key=key,
        )
    info = metrics.get(threshold.metric)
    if info is None:
        known = ", ".join(sorted(metrics))
        raise ConfigError(
            f"unknown metric {threshold.metric!r}{did_you_mean(threshold.metric, metrics)}"
            f" in {text!r}; known {stage} metrics: {known}",
            file=file,
            key=key,
        )
    problem = _misfit(threshold, info)
    if problem:
        raise ConfigError(f"{problem} in {text!r}", file=file, key=key)
    return threshold


def _misfit(threshold: Threshold, info: MetricInfo) -> str:
    metric = threshold.metric
    if threshold.anchor is not None and threshold.anchor not in info.anchors:
        allowed = ", ".join(sorted(a.value for a in info.anchors)) or "none (use a number)"
        anchor = threshold.anchor.value
        return f"{metric!r} cannot be compared with {anchor!r}; allowed anchors: {allowed}"
    if threshold.anchor is Anchor.BEST and info.direction is Direction.NEITHER:
        return f"{metric!r} has no better direction, so 'best' is undefined; use 'previous'"
    if threshold.confidence is not None and not info.interval:
        return f"{metric!r} has no confidence interval; drop the '@' level"
    if threshold.confidence is not None and threshold.op in ("==", "!="):
        return f"a confidence level needs >=, >, <= or <, not {threshold.op!r}"
    if threshold.selector is not None and info.selector is None:
        return f"{metric!r} is measured once; drop '[{threshold.selector}]'"
    if threshold.selector == "*":
        return f"'[*]' is not a {info.selector} name; leave the brackets out to check every one"
    return _unit_misfit(threshold, info)


def _unit_misfit(threshold: Threshold, info: MetricInfo) -> str:
    """A duration bound on a plain metric, or a plain number on a duration metric."""
    metric = threshold.metric
    if threshold.is_duration and not info.is_duration:
        return (
            f"{metric!r} is not a duration, so a time unit has no meaning: write its bound "
            f"as a plain number, not {threshold.bound_text!r},"
        )
    plain = not threshold.relative and (threshold.anchor is None or threshold.value != 0)
    if info.is_duration and plain and not threshold.is_duration:
        amount = _plain(abs(threshold.value))
        return (
            f"{metric!r} is a duration: write its bound with a unit (s, m, h, d, w), e.g. "
            f"{amount}d or {amount}h; the plain number {amount} is ambiguous"
        )
    return ""


def _plain(value: float) -> str:
    return f"{value:.10g}"
