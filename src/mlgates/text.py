"""Small text helpers shared by messages, errors and reporters (standard library only)."""

from __future__ import annotations

import difflib
import itertools
import math
import re
from collections.abc import Iterable

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def shorten(text: str, limit: int = 120) -> str:
    """``text`` cut to at most ``limit`` characters, ending in ``...`` when cut."""
    return text if len(text) <= limit else text[: max(limit - 3, 0)] + "..."


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when one of ``choices`` is close to ``word``, else ``''``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def printable(text: str, *, keep_newlines: bool = True) -> str:
    """``text`` with control characters (escape sequences too) shown as ``\\xNN``.

    User strings (column names, categories, file names) reach a terminal through
    this, so a value can never move the cursor, clear the screen or fake a line.
    Newlines and tabs are kept unless ``keep_newlines`` is false.
    """
    if not keep_newlines:
        text = text.replace("\n", "\\n").replace("\r", "\\r")
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def format_number(value: float | None, digits: int = 6) -> str:
    """``value`` with ``digits`` significant digits; ``n/a`` for None."""
    return "n/a" if value is None else f"{value:.{digits}g}"


def named(metric: str, selector: str | None = None) -> str:
    """``metric`` or ``metric[selector]``: how a check is named inside its stage."""
    return f"{metric}[{selector}]" if selector is not None else metric


DURATION_UNITS: dict[str, int] = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
"""Seconds per unit of the durations thresholds accept (``2d``, ``36h``, ``1.5w``)."""

_SHOWN_UNITS = (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1))


def format_duration(seconds: float | None) -> str:
    """``seconds`` as a readable duration: ``4d 3h``, ``1d 12h``, ``2m 5s``, ``0.5s``.

    The two largest units, the smaller rounded (``4d 3h`` for 4 days 3 hours
    10 minutes); days are never folded into weeks. ``n/a`` for None.
    """
    if seconds is None or math.isnan(seconds):
        return "n/a"
    if math.isinf(seconds):
        return "-inf" if seconds < 0 else "inf"
    sign, left = ("-" if seconds < 0 else ""), abs(seconds)
    for (big, size), (small, step) in itertools.pairwise(_SHOWN_UNITS):
        count = round(left / step)  # in the smaller unit, so that 59m 59.9s is 1h
        if count * step >= size:
            whole, rest = divmod(count, size // step)
            return sign + f"{whole}{big}" + (f" {rest}{small}" if rest else "")
    return f"{sign}{left:.3g}s"
