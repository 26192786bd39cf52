"""The threshold grammar shared by the config file, the command line and tests.

::

    threshold := [stage "::"] metric ["[" selector "]"] op bound ["@" number "%"]
    op        := ">=" | "<=" | ">" | "<" | "==" | "!="
    bound     := amount | anchor [("+" | "-") amount]
    amount    := number ["%" | unit]
    unit      := "s" | "m" | "h" | "d" | "w"
    anchor    := "baseline" | "previous" | "best" | "reference"

``accuracy >= 0.85`` is a value bound, ``f1 >= baseline - 2%`` a relative
change against the baseline, ``roc_auc >= baseline - 0.01 @95%`` is decided on
the one-sided 95% confidence bound: of the measured value for a value or
history bound, of the paired difference ``candidate - baseline`` (relative:
``(c - b) / |b|``) for a bound against ``baseline`` or ``reference``. A
``stage::`` prefix names the stage when a metric exists in several
(``performance::accuracy >= 0.8``).

A number followed by a unit is a duration (``freshness[ts] <= 36h``,
``<= 1.5d``): seconds, minutes, hours, days or weeks, stored in seconds. Only a
metric measured in seconds takes one, and such a metric takes no plain number
(:func:`mlgates.tables.parse_check` rejects both).
"""

from __future__ import annotations

import enum
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from mlgates.core import MlgatesError
from mlgates.text import DURATION_UNITS


class Anchor(str, enum.Enum):
    """What a relative bound is measured against."""

    BASELINE = "baseline"
    PREVIOUS = "previous"
    BEST = "best"
    REFERENCE = "reference"

    @property
    def from_history(self) -> bool:
        """Whether the anchor's value comes from earlier runs."""
        return self in (Anchor.PREVIOUS, Anchor.BEST)


_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}


class ThresholdError(MlgatesError):
    """A threshold string does not parse; the message points at the character."""

    def __init__(self, text: str, position: int, problem: str) -> None:
        self.text = text
        self.position = position
        self.problem = problem
        pointer = " " * position + "^"
        super().__init__(f"{problem} at column {position + 1}:\n    {text}\n    {pointer}")


@dataclass(frozen=True)
class Threshold:
    """A parsed threshold: ``metric[selector] op bound``.

    ``value`` is the bound itself when there is no anchor, otherwise the offset
    added to the anchor's value; ``relative`` offsets are fractions of the
    anchor's magnitude (``baseline - 2%`` is ``b - 0.02 * |b|``). ``unit`` is
    the time unit a duration was written in (``"d"`` for ``2d``); ``value`` is
    then in seconds, and ``str`` writes it back in that unit.
    """

    metric: str
    op: str
    value: float
    anchor: Anchor | None = None
    relative: bool = False
    selector: str | None = None
    confidence: float | None = None
    stage: str | None = None
    unit: str | None = None

    @property
    def is_duration(self) -> bool:
        """Whether the bound (or the anchor's offset) was written as a duration."""
        return self.unit is not None

    @property
    def higher_is_better(self) -> bool:
        """Whether larger measured values move away from failing."""
        return self.op in (">=", ">")

    @property
    def on_difference(self) -> bool:
        """Whether an ``@level`` decision is on the difference from a measured anchor.

        True for ``baseline`` and ``reference`` bounds: both sides are measured
        in the run, so the interval is that of ``c - b`` (or ``(c - b) / |b|``).
        """
        return self.anchor is not None and not self.anchor.from_history

    def bound(self, anchor_value: float | None = None) -> float:
        """The number the measured value is compared with.

        Raises ``ValueError`` when the threshold has an anchor and no value for
        it is given.
        """
        if self.anchor is None:
            return self.value
        if anchor_value is None:
            raise ValueError(f"{self} needs a value for {self.anchor.value!r}")
        if self.relative:
            return anchor_value + self.value * abs(anchor_value)
        return anchor_value + self.value

    def holds(self, measured: float, bound: float) -> bool:
        """Whether ``measured op bound``; NaN never holds."""
        if math.isnan(measured) or math.isnan(bound):
            return False
        return _OPERATORS[self.op](measured, bound)

    def for_selector(self, selector: str | None) -> Threshold:
        """The same threshold applied to one column, slice or group."""
        return replace(self, selector=selector)

    @property
    def bound_text(self) -> str:
        """The bound as written: ``0.85``, ``2d``, ``baseline - 2%``."""
        if self.anchor is None:
            return self._amount(self.value)
        if not self.value:
            return self.anchor.value
        sign = "-" if self.value < 0 else "+"
        return f"{self.anchor.value} {sign} {self._amount(abs(self.value))}"

    def __str__(self) -> str:
        left = f"{self.metric}[{self.selector}]" if self.selector else self.metric
        if self.stage:
            left = f"{self.stage}::{left}"
        right = self.bound_text
        suffix = f" @{_format_number(self.confidence * 100)}%" if self.confidence else ""
        return f"{left} {self.op} {right}{suffix}"

    def _amount(self, value: float) -> str:
        """A bound or offset as written: ``0.85``, ``2%``, ``36h``."""
        if self.relative:
            return _format_number(value * 100) + "%"
        if self.unit is not None:
            return _format_number(value / DURATION_UNITS[self.unit]) + self.unit
        return _format_number(value)


def _format_number(value: float) -> str:
    return f"{value:.10g}"


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def at_end(self) -> bool:
        self.skip_space()
        return self.pos >= len(self.text)

    def error(self, problem: str, position: int | None = None) -> ThresholdError:
        return ThresholdError(self.text, self.pos if position is None else position, problem)

    def match(self, pattern: re.Pattern[str]) -> str | None:
        self.skip_space()
        found = pattern.match(self.text, self.pos)
        if not found:
            return None
        self.pos = found.end()
        return found.group()

    def literal(self, token: str) -> bool:
        self.skip_space()
        if self.text.startswith(token, self.pos):
            self.pos += len(token)
            return True
        return False

    def number(self, what: str) -> tuple[float, bool]:
        """A number and whether it carried a percent sign."""
        value, percent, _ = self.amount(what, durations=False)
        return value, percent

    def amount(self, what: str, *, durations: bool = True) -> tuple[float, bool, str | None]:
        """A number, whether it carried a percent sign, and its time unit (value in seconds)."""
        start = self.pos
        found = self.match(_NUMBER)
        if found is None:
            raise self.error(f"expected {what}")
        value = float(found)
        if not math.isfinite(value):
            raise self.error("expected a finite number", start)
        if self.text.startswith("%", self.pos):
            self.pos += 1
            return value / 100.0, True, None
        suffix = _NAME.match(self.text, self.pos)
        if suffix is None or not durations:
            return value, False, None
        unit = suffix.group()
        if unit[0] in DURATION_UNITS and unit[1:2].isdigit():
            raise self.error(
                "a duration is one number and one unit, e.g. 36h or 1.5d rather than 1d12h"
            )
        if unit not in DURATION_UNITS:
            units = ", ".join(DURATION_UNITS)
            raise self.error(
                f"unknown unit {unit!r} after {found!r}: a duration takes one of {units} "
                f"(e.g. {found}d or {found}h)"
            )
        self.pos = suffix.end()
        seconds = value * DURATION_UNITS[unit]
        if not math.isfinite(seconds):
            raise self.error("expected a finite duration", start)
        return seconds, False, unit


def parse_threshold(text: str) -> Threshold:
    """Parse one threshold string; raises :class:`ThresholdError` pointing at the fault."""
    if not isinstance(text, str):
        raise ThresholdError(repr(text), 0, "a threshold must be a string")
    scan = _Scanner(text)
    if scan.at_end():
        raise scan.error("empty threshold: expected e.g. 'accuracy >= 0.85'")
    metric = scan.match(_NAME)
    if metric is None:
        raise scan.error("expected a metric name (letters, digits, underscores)")
    stage = None
    if scan.literal("::"):
        stage = metric
        metric = scan.match(_NAME)
        if metric is None:
            raise scan.error("expected a metric name after 'stage::'")
    selector = None
    if scan.literal("["):
        close = text.find("]", scan.pos)
        if close < 0:
            raise scan.error("missing ']' after the column, slice or group name")
        selector = text[scan.pos : close].strip()
        if not selector:
            raise scan.error("empty name between '[' and ']'")
        scan.pos = close + 1
    scan.skip_space()
    op_position = scan.pos
    op = next((candidate for candidate in _OPERATORS if scan.literal(candidate)), None)
    if op is None:
        raise scan.error("expected a comparison operator (>=, <=, >, <, ==, !=)", op_position)

    anchor_text = scan.match(_NAME)
    anchor: Anchor | None = None
    relative = False
    unit: str | None = None
    if anchor_text is not None:
        try:
            anchor = Anchor(anchor_text.lower())
        except ValueError:
            choices = ", ".join(a.value for a in Anchor)
            raise scan.error(
                f"unknown bound {anchor_text!r}: expected a number or one of {choices}",
                scan.pos - len(anchor_text),
            ) from None
        value = 0.0
        scan.skip_space()
        if scan.pos < len(text) and text[scan.pos] in "+-":
            sign = -1.0 if text[scan.pos] == "-" else 1.0
            scan.pos += 1
            scan.skip_space()
            if text.startswith(("+", "-"), scan.pos):
                raise scan.error("expected a number after the sign")
            amount, relative, unit = scan.amount("a number after the sign")
            value = sign * amount
    else:
        value, relative, unit = scan.amount(
            "a number or one of baseline, previous, best, reference"
        )
        # A percentage as a plain bound is just a fraction: "missing_share <= 5%".
        relative = False

    confidence = None
    scan.skip_space()
    if scan.literal("@"):
        level_position = scan.pos
        level, percent = scan.number("a confidence level such as 95%")
        if not percent:
            raise scan.error(
                "write the confidence level as a percentage, e.g. @95%", level_position
            )
        if not 0.5 <= level < 1.0:
            raise scan.error(
                "the confidence level must be from 50% up to (not including) 100%", level_position
            )
        confidence = level
    if not scan.at_end():
        raise scan.error(f"unexpected {text[scan.pos :]!r}")
    return Threshold(
        metric=metric,
        op=op,
        value=value,
        anchor=anchor,
        relative=relative,
        selector=selector,
        confidence=confidence,
        stage=stage,
        unit=unit,
    )
