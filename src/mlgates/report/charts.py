"""Small inline SVG charts for the HTML report.

Every function returns :class:`markupsafe.Markup` that the template inserts as is,
so every piece of text that reaches the markup here (column names, categories,
group names, labels, dates) goes through :func:`html.escape` first. Coordinates
are rounded to one decimal. Colours come from classes that the report's style
sheet defines (``s-fail``, ``ref``, ``cur`` ...), which keeps each chart small.

A chart that has nothing to draw (no finite number, a payload of the wrong
shape) is the empty string: the report then shows the table alone.
"""

from __future__ import annotations

import datetime
import functools
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from markupsafe import Markup

from mlgates.text import format_duration, format_number, shorten

EMPTY = Markup("")

SPARK_WIDTH = 64
SPARK_HEIGHT = 16
_LABEL_CHARS = 22
_MAX_CATEGORIES = 12


# -- helpers ---------------------------------------------------------------------------


def coordinate(value: float) -> str:
    """``value`` rounded to one decimal, without a trailing ``.0`` (``12``, ``3.5``)."""
    return _tenths(round(value * 10))


@functools.lru_cache(maxsize=8192)
def _tenths(count: int) -> str:
    """``count`` tenths as the shortest decimal: ``35`` is ``3.5``, ``120`` is ``12``."""
    whole, tenth = divmod(abs(count), 10)
    sign = "-" if count < 0 else ""
    return f"{sign}{whole}" if tenth == 0 else f"{sign}{whole}.{tenth}"


@functools.lru_cache(maxsize=8192)
def _relative(count: int) -> str:
    """``count`` tenths for a relative path step, leading zero dropped (``-.3``), and a
    space before it unless it starts with a minus sign (which separates it already)."""
    shown = _tenths(count)
    if shown.startswith("0."):
        return " " + shown[1:]
    if shown.startswith("-0."):
        return "-" + shown[2:]
    return shown if shown.startswith("-") else " " + shown


def text(value: object) -> str:
    """``value`` as text that is safe inside SVG or HTML markup, quotes included."""
    return escape(str(value), quote=True)


def finite(value: object) -> float | None:
    """``value`` as a float when it is a finite real number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _svg(width: float, height: float, label: str, body: str, css: str = "chart") -> Markup:
    """An ``<svg>`` element that scales down with its container (``max-width: 100%``)."""
    w, h = coordinate(width), coordinate(height)
    return Markup(
        f'<svg class="{css}" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
        f'aria-label="{text(label)}">{body}</svg>'
    )


def _label(value: object, limit: int = _LABEL_CHARS) -> str:
    """A label shortened to ``limit`` characters (one line), escaped."""
    return text(shorten(" ".join(str(value).split()), limit))


def _number(value: float | None) -> str:
    return format_number(value, 3)


@dataclass(frozen=True)
class Scale:
    """A linear map from the data range ``[low, high]`` onto ``[start, end]`` pixels."""

    low: float
    high: float
    start: float
    end: float

    @classmethod
    def over(cls, values: Sequence[float | None], start: float, end: float) -> Scale:
        """The scale of the finite ``values`` (a flat range is widened around its value)."""
        numbers = [v for v in values if v is not None and math.isfinite(v)]
        low, high = (min(numbers), max(numbers)) if numbers else (0.0, 1.0)
        if high - low <= 1e-12 * max(1.0, abs(high)):
            pad = abs(high) * 0.1 or 1.0
            low, high = low - pad, high + pad
        return cls(low, high, start, end)

    def __call__(self, value: float) -> float:
        """The pixel of ``value``; infinite values and values outside clip to the ends."""
        if math.isnan(value):
            value = self.low
        share = (min(max(value, self.low), self.high) - self.low) / (self.high - self.low)
        return self.start + share * (self.end - self.start)


# -- sparkline -------------------------------------------------------------------------


def sparkline(
    values: Sequence[float | None],
    failing: Sequence[bool] = (),
    *,
    label: str = "",
    width: int = SPARK_WIDTH,
    height: int = SPARK_HEIGHT,
) -> Markup:
    """A tiny line of ``values`` (oldest first; the last is the current run).

    The runs are evenly spaced in x; ``None`` and non-finite values have no point
    (the line joins their neighbours). The current value is a dot; values of runs
    where the check failed (``failing[i]``) are red dots. The line is one path of
    relative steps, points on a straight stretch left out, so a flat series costs a
    few bytes and a busy one of 60 runs about 400. Empty when no value is finite.
    """
    count = len(values)
    points = [(i, float(v)) for i, v in enumerate(values) if v is not None and math.isfinite(v)]
    if not points:
        return EMPTY
    pad = 2
    step = max((width - 2 * pad) * 10 // max(count - 1, 1), 1)  # whole tenths: short steps
    low = min(v for _, v in points)
    high = max(v for _, v in points)
    flat = high - low <= 1e-12 * max(1.0, abs(high))
    scale = 0.0 if flat else (height - 2 * pad) / (high - low)
    tenths = [
        (
            pad * 10 + i * step,
            height * 5 if flat else round((height - pad - (v - low) * scale) * 10),
        )
        for i, v in points
    ]
    kept = [tenths[0]]
    for k in range(1, len(tenths) - 1):
        (x0, y0), (x1, y1), (x2, y2) = kept[-1], tenths[k], tenths[k + 1]
        if (x1 - x0) * (y2 - y1) != (x2 - x1) * (y1 - y0):  # not on a straight stretch
            kept.append(tenths[k])
    if len(tenths) > 1:
        kept.append(tenths[-1])
    body = ""
    if len(kept) > 1:
        x, y = kept[0]
        steps = "".join(
            _relative(x1 - x0) + _relative(y1 - y0)
            for (x0, y0), (x1, y1) in itertools.pairwise(kept)
        )
        body += f'<path d="M{_tenths(x)} {_tenths(y)}l{steps.removeprefix(" ")}"/>'
    last, _ = points[-1]
    failed = [
        position
        for (i, _), position in zip(points, tenths, strict=True)
        if i < len(failing) and failing[i] and i != count - 1  # the current run: its own dot
    ]
    if failed:
        x, y = failed[0]
        marks = f"M{_tenths(x)} {_tenths(y)}h0" + "".join(
            f"m{_relative(x1 - x0).lstrip()}{_relative(y1 - y0)}h0"
            for (x0, y0), (x1, y1) in itertools.pairwise(failed)
        )
        body += f'<path class="f" d="{marks}"/>'
    if last == count - 1:
        x, y = tenths[-1]
        css = "now f" if last < len(failing) and failing[last] else "now"
        body += f'<circle class="{css}" cx="{_tenths(x)}" cy="{_tenths(y)}" r="2.2"/>'
    summary = label or (_number(low) if flat else f"{_number(low)} to {_number(high)}")
    size = (
        ""
        if (width, height) == (SPARK_WIDTH, SPARK_HEIGHT)
        else (f' width="{width}" height="{height}"')
    )
    return Markup(
        f'<svg class="spark" viewBox="0 0 {width} {height}"{size} role="img" '
        f'aria-label="{text(summary)}">{body}</svg>'
    )


# -- data: distributions ---------------------------------------------------------------


def _shares(payload: Mapping[str, Any], key: str, size: int) -> list[float] | None:
    values = payload.get(key)
    if not isinstance(values, list | tuple) or len(values) != size:
        return None
    shares = [finite(v) for v in values]
    if any(v is None for v in shares):
        return None
    return [max(float(v or 0.0), 0.0) for v in shares]


def distribution(payload: object, *, label: str = "") -> Markup:
    """Reference against current shares of one column, from a drift check's
    ``details["distribution"]``: bins of a numeric column or the categories of a
    categorical one. Empty for a payload of any other shape (an older record)."""
    if not isinstance(payload, Mapping):
        return EMPTY
    kind = payload.get("kind")
    if kind == "numeric":
        return _numeric_distribution(payload, label)
    if kind == "categorical":
        return _categorical_distribution(payload, label)
    return EMPTY


def _numeric_distribution(payload: Mapping[str, Any], label: str) -> Markup:
    edges = payload.get("edges")
    if not isinstance(edges, list | tuple) or len(edges) < 2:
        return EMPTY
    bins = len(edges) - 1
    reference, current = _shares(payload, "reference", bins), _shares(payload, "current", bins)
    if reference is None or current is None:
        return EMPTY
    width, height, top, bottom = 240.0, 78.0, 12.0, 62.0
    step = (width - 8) / bins
    ys = Scale(0.0, max([*reference, *current, 1e-9]), bottom, top)

    def bars(shares: list[float], inset: float) -> str:
        parts = []
        for i, share in enumerate(shares):
            x, y = 4 + i * step + inset, ys(share)
            w = max(step - 2 * inset, 0.5)
            parts.append(
                f"M{coordinate(x)},{coordinate(bottom)}V{coordinate(y)}"
                f"h{coordinate(w)}V{coordinate(bottom)}z"
            )
        return "".join(parts)

    numbers = [finite(edge) for edge in edges]
    finite_edges = [(i, v) for i, v in enumerate(numbers) if v is not None]
    ticks = ""
    if finite_edges:
        middle = finite_edges[len(finite_edges) // 2]
        shown = {finite_edges[0], finite_edges[-1]}
        if 0 < middle[0] < bins and bins >= 4:
            shown.add(middle)
        for i, v in sorted(shown):
            anchor = "start" if i == 0 else "end" if i == bins else "middle"
            x = 4 + i * step
            ticks += (
                f'<text x="{coordinate(x)}" y="{coordinate(height - 4)}" '
                f'text-anchor="{anchor}">{text(_edge(v, payload))}</text>'
            )
    legend = _legend(width)
    body = (
        f'<path class="ref" d="{bars(reference, 0.5)}"/>'
        f'<path class="cur" d="{bars(current, step * 0.22)}"/>'
        f'<line class="axis" x1="4" y1="{coordinate(bottom)}" x2="{coordinate(width - 4)}" '
        f'y2="{coordinate(bottom)}"/>{ticks}{legend}'
    )
    return _svg(width, height, label or "reference and current distribution", body)


def _edge(value: float, payload: Mapping[str, Any]) -> str:
    """An edge as the column's values read: a date, a duration or a number."""
    if payload.get("datetime") is True:
        try:
            moment = datetime.datetime.fromtimestamp(value, tz=datetime.timezone.utc)
        except (OverflowError, OSError, ValueError):
            return _number(value)
        return moment.strftime("%Y-%m-%d")
    if payload.get("unit") == "s":
        return format_duration(value)
    return _number(value)


def _legend(width: float) -> str:
    return (
        f'<rect class="ref" x="{coordinate(width - 118)}" y="2" width="8" height="7"/>'
        f'<text x="{coordinate(width - 107)}" y="9">reference</text>'
        f'<rect class="cur" x="{coordinate(width - 50)}" y="2" width="8" height="7"/>'
        f'<text x="{coordinate(width - 39)}" y="9">current</text>'
    )


def _categorical_distribution(payload: Mapping[str, Any], label: str) -> Markup:
    categories = payload.get("categories")
    if not isinstance(categories, list | tuple) or not categories:
        return EMPTY
    size = len(categories)
    reference, current = _shares(payload, "reference", size), _shares(payload, "current", size)
    if reference is None or current is None:
        return EMPTY
    rows = list(zip((str(c) for c in categories), reference, current, strict=True))
    other = payload.get("other")
    other_ref = other_cur = 0.0
    if isinstance(other, list | tuple) and len(other) == 2:
        other_ref, other_cur = (max(finite(v) or 0.0, 0.0) for v in other)
    if len(rows) > _MAX_CATEGORIES:
        rest = rows[_MAX_CATEGORIES - 1 :]
        rows = rows[: _MAX_CATEGORIES - 1]
        other_ref += sum(r for _, r, _ in rest)
        other_cur += sum(c for _, _, c in rest)
        other_name = f"other ({len(rest)} more)"
    else:
        other_name = "other"
    if other_ref > 0 or other_cur > 0:
        rows.append((other_name, other_ref, other_cur))
    width, left, row_height, top = 260.0, 104.0, 13.0, 14.0
    height = top + row_height * len(rows) + 2
    xs = Scale(0.0, max([1e-9, *(max(r, c) for _, r, c in rows)]), left, width - 34)
    texts, reference_bars, current_bars = [], [], []
    x0 = coordinate(left)
    for k, (name, ref, cur) in enumerate(rows):
        y = top + k * row_height
        ref_width = coordinate(max(xs(ref) - left, 0.5))
        cur_width = coordinate(max(xs(cur) - left, 0.5))
        reference_bars.append(f"M{x0} {coordinate(y + 1)}h{ref_width}v5h-{ref_width}z")
        current_bars.append(f"M{x0} {coordinate(y + 6)}h{cur_width}v5h-{cur_width}z")
        texts.append(
            f'<text x="{coordinate(left - 4)}" y="{coordinate(y + 9)}">{_label(name, 16)}</text>'
            f'<text x="{coordinate(width - 2)}" y="{coordinate(y + 10)}">'
            f"{text(_percent(cur))}</text>"
        )
    body = (
        f'{_legend(width)}<path class="ref" d="{"".join(reference_bars)}"/>'
        f'<path class="cur" d="{"".join(current_bars)}"/>'
        f'<g text-anchor="end">{"".join(texts)}</g>'
    )
    return _svg(width, height, label or "reference and current shares per category", body)


def _percent(share: float) -> str:
    return f"{share * 100:.1f}%"


# -- performance: differences against the baseline ---------------------------------------


@dataclass(frozen=True)
class IntervalRow:
    """One row of :func:`interval_chart`: a difference from the baseline with its
    interval and the margin the bound allows, and a caption (``0.72 vs 0.75``)."""

    label: str
    difference: float
    low: float | None
    high: float | None
    margin: float | None
    status: str
    caption: str


def interval_chart(rows: Sequence[IntervalRow], *, label: str = "") -> Markup:
    """Dots (candidate minus baseline) with whiskers (the interval at the check's
    level) against a line at zero (the baseline) and a dashed tick at the margin the
    bound allows, one row per check (the whole data set, then each slice)."""
    rows = [row for row in rows if finite(row.difference) is not None]
    if not rows:
        return EMPTY
    width, left, right, row_height, top = 420.0, 120.0, 104.0, 16.0, 6.0
    height = top + row_height * len(rows) + 14
    domain: list[float | None] = [0.0]
    for row in rows:
        domain += [row.difference, finite(row.low), finite(row.high), finite(row.margin)]
    xs = Scale.over(domain, left + 4, width - right - 4)
    zero = coordinate(xs(0.0))
    bottom = coordinate(top + row_height * len(rows))
    body = f'<line class="zero" x1="{zero}" y1="{coordinate(top - 2)}" x2="{zero}" y2="{bottom}"/>'
    body += f'<text x="{zero}" y="{coordinate(height - 2)}" text-anchor="middle">baseline</text>'
    for k, row in enumerate(rows):
        y = top + k * row_height + row_height / 2
        cy = coordinate(y)
        body += (
            f'<text x="{coordinate(left - 4)}" y="{coordinate(y + 3.5)}" '
            f'text-anchor="end">{_label(row.label, 18)}</text>'
        )
        body += _whisker_and_tick(xs, row.low, row.high, row.margin, y, 6.0)
        body += (
            f'<circle class="s-{text(row.status)}" cx="{coordinate(xs(row.difference))}" '
            f'cy="{cy}" r="3.2"/>'
            f'<text x="{coordinate(width - 2)}" y="{coordinate(y + 3.5)}" '
            f'text-anchor="end">{_label(row.caption, 20)}</text>'
        )
    return _svg(width, height, label or "candidate minus baseline, with intervals", body)


def _whisker_and_tick(
    xs: Scale, low: float | None, high: float | None, tick: float | None, y: float, half: float
) -> str:
    """A whisker from ``low`` to ``high`` at height ``y`` (none unless both are numbers;
    infinite ends clip) and a dashed tick at ``tick`` from ``y - half`` to ``y + half``
    (none unless it is finite)."""
    drawn = ""
    if low is not None and high is not None and not math.isnan(low + high):
        cy = coordinate(y)
        drawn += (
            f'<line class="whisker" x1="{coordinate(xs(low))}" y1="{cy}" '
            f'x2="{coordinate(xs(high))}" y2="{cy}"/>'
        )
    at = finite(tick)
    if at is not None:
        x = coordinate(xs(at))
        drawn += (
            f'<line class="margin" x1="{x}" y1="{coordinate(y - half)}" x2="{x}" '
            f'y2="{coordinate(y + half)}"/>'
        )
    return drawn


# -- fairness: groups ----------------------------------------------------------------


@dataclass(frozen=True)
class GroupBar:
    """One group of :func:`group_bars`: its metric value (None for a group that was
    not judged), interval, rows and the baseline model's value when known."""

    group: str
    value: float | None
    low: float | None = None
    high: float | None = None
    rows: int | None = None
    baseline: float | None = None


def group_bars(groups: Sequence[GroupBar], *, label: str = "") -> Markup:
    """A bar per group (its value) with a whisker (its interval) and a tick at the
    baseline model's value; the group's name and row count on the left. A group
    without a value is listed as ``n/a``. Empty when no group has a value."""
    if not groups or all(finite(g.value) is None for g in groups):
        return EMPTY
    width, left, right, row_height, top = 360.0, 124.0, 44.0, 16.0, 4.0
    height = top + row_height * len(groups) + 4
    domain: list[float | None] = [0.0]
    for g in groups:
        domain += [finite(g.value), finite(g.low), finite(g.high), finite(g.baseline)]
    xs = Scale.over(domain, left, width - right)
    origin = xs(0.0)
    body = ""
    for k, g in enumerate(groups):
        y = top + k * row_height
        name = g.group if g.rows is None else f"{g.group} ({g.rows:,})"
        value = finite(g.value)
        body += (
            f'<text x="{coordinate(left - 4)}" y="{coordinate(y + 11)}" '
            f'text-anchor="end">{_label(name, 20)}</text>'
            f'<text x="{coordinate(width - 2)}" y="{coordinate(y + 11)}" '
            f'text-anchor="end">{text(_number(value))}</text>'
        )
        if value is None:
            continue
        x0, x1 = sorted((origin, xs(value)))
        body += (
            f'<rect class="bar" x="{coordinate(x0)}" y="{coordinate(y + 3)}" '
            f'width="{coordinate(max(x1 - x0, 0.5))}" height="9"/>'
        )
        body += _whisker_and_tick(xs, finite(g.low), finite(g.high), g.baseline, y + 7.5, 6.5)
    return _svg(width, height, label or "value per group", body)


# -- operational: latency --------------------------------------------------------------


def latency_bars(
    candidate: Mapping[str, float | None],
    baseline: Mapping[str, float | None] | None = None,
    *,
    label: str = "",
) -> Markup:
    """Latency percentiles in milliseconds (``p50``, ``p95``, ``p99``, ``max``,
    ``mean``, in the order given): the candidate's bar, and the baseline's beneath
    it when given."""
    rows: list[tuple[str, float]] = []
    for name, value in candidate.items():
        number = finite(value)
        if number is not None:
            rows.append((name, number))
    if not rows:
        return EMPTY
    base = {name: finite(value) for name, value in (baseline or {}).items()}
    per_row = 14.0 if baseline else 11.0
    width, left, right, top = 340.0, 40.0, 112.0, 4.0
    height = top + per_row * len(rows) + 4
    xs = Scale(
        0.0,
        max([v for _, v in rows] + [v for v in base.values() if v is not None] + [1e-9]),
        left,
        width - right,
    )
    body = ""
    for k, (name, value) in enumerate(rows):
        y = top + k * per_row
        before = base.get(name)
        caption = f"{_number(value)} ms" + ("" if before is None else f" vs {_number(before)}")
        body += (
            f'<text x="{coordinate(left - 4)}" y="{coordinate(y + 7)}" '
            f'text-anchor="end">{_label(name, 8)}</text>'
            f'<rect class="cur" x="{coordinate(left)}" y="{coordinate(y)}" '
            f'width="{coordinate(max(xs(value) - left, 0.5))}" height="{6 if baseline else 8}"/>'
            f'<text x="{coordinate(width - 2)}" y="{coordinate(y + 7)}" '
            f'text-anchor="end">{text(caption)}</text>'
        )
        if before is not None:
            body += (
                f'<rect class="ref" x="{coordinate(left)}" y="{coordinate(y + 6.5)}" '
                f'width="{coordinate(max(xs(before) - left, 0.5))}" height="5"/>'
            )
    return _svg(width, height, label or "latency in milliseconds", body)


# -- run history -------------------------------------------------------------------------


@dataclass(frozen=True)
class StripMark:
    """One run of :func:`history_strip`: its verdict class (``passed``, ``warned``,
    ``blocked``), the tooltip text and whether it is the run of this report."""

    verdict: str
    title: str
    date: str
    current: bool = False


def history_strip(marks: Sequence[StripMark]) -> Markup:
    """A row of small coloured marks, oldest first, with the first and last dates
    under it; the report's own run is outlined. Each mark's tooltip says its date,
    verdict and run."""
    if not marks:
        return EMPTY
    step, mark, height = 9.0, 7.0, 30.0
    width = max(step * len(marks) + 2, 150.0)
    body = ""
    for k, item in enumerate(marks):
        css = f"v-{text(item.verdict)}" + (" now" if item.current else "")
        body += (
            f'<rect class="{css}" x="{coordinate(1 + k * step)}" y="2" width="{coordinate(mark)}" '
            f'height="14" rx="1.5"><title>{text(item.title)}</title></rect>'
        )
    body += f'<text x="1" y="{coordinate(height - 2)}">{text(marks[0].date)}</text>'
    if len(marks) > 1:
        body += (
            f'<text x="{coordinate(width - 1)}" y="{coordinate(height - 2)}" '
            f'text-anchor="end">{text(marks[-1].date)}</text>'
        )
    return _svg(width, height, f"verdicts of the last {len(marks)} runs", body, css="strip")
