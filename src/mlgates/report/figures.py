"""The charts at the head of a stage's section, drawn from what its checks carry.

Each stage shows the evidence its verdicts rest on: the performance gate the
candidate's difference from the baseline per slice, with intervals; the fairness
gate each group's value (``details["groups"]``); the operational gate latency
percentiles (``details["latency_ms"]``). A record without those details (an
older one) gets what its numbers allow, or no chart: the table still has every
number. The data gate's charts are per column and sit in its rows
(:func:`mlgates.report.view.check_row`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from mlgates.core import CheckResult
from mlgates.report import charts
from mlgates.thresholds import Threshold, ThresholdError, parse_threshold

CHART_ROWS = 30
"""Rows of one performance chart (the whole data set first, then the worst slices)."""
_LATENCY_ORDER = ("p50", "p95", "p99", "max", "mean")


@dataclass(frozen=True)
class Figure:
    """A stage-level chart with its title and a note under it."""

    title: str
    chart: Markup
    note: str = ""


def shown(check: CheckResult, value: float | None) -> str:
    """A value, bound or anchor value of ``check`` as the report writes it ('' for none):
    four significant digits, a duration for a metric in seconds."""
    return "" if value is None else check.shown(value, digits=4)


NOT_KEPT = "(message not kept in the history)"
"""What a check without a message and without a value says."""


def message_text(check: CheckResult) -> str:
    """``check``'s message; for a check without one (a pass as the history keeps it),
    what its numbers say: ``value 0.0123 <= 0.1``, with the threshold's comparison
    where the value meets it, and the anchor (``value 0.7412 >= 0.736, baseline
    0.746``); :data:`NOT_KEPT` for a check without a value."""
    if check.message:
        return check.message
    if check.value is None:
        return NOT_KEPT
    text = f"value {shown(check, check.value)}"
    if check.bound is not None:
        threshold = _threshold(check.threshold)
        meets = threshold is not None and threshold.holds(check.value, check.bound)
        comparison = f" {threshold.op} " if meets and threshold is not None else ", bound "
        text += comparison + shown(check, check.bound)
    if check.anchor is not None and check.anchor_value is not None:
        text += f", {check.anchor} {shown(check, check.anchor_value)}"
    return text


@functools.lru_cache(maxsize=4096)
def _threshold(text: str | None) -> Threshold | None:
    """The parsed threshold of a check (None for none or one that does not parse)."""
    if not text:
        return None
    try:
        return parse_threshold(text)
    except ThresholdError:
        return None


def level_text(level: float) -> str:
    """``95%`` for 0.95, ``97.5%`` for 0.975."""
    return f"{level * 100:.4g}%"


def stage_figures(stage: str, checks: Sequence[CheckResult]) -> list[Figure]:
    """The charts at the head of ``stage``'s section (none for a stage without any)."""
    build = {
        "performance": performance_figures,
        "fairness": fairness_figures,
        "operational": operational_figures,
    }.get(stage)
    return [] if build is None else build(checks)


# -- the stages' charts ---------------------------------------------------------------


def performance_figures(checks: Sequence[CheckResult]) -> list[Figure]:
    """Per metric, the candidate's difference from the baseline on the whole data
    set and per slice, with each check's interval (checks against ``baseline``)."""
    families: dict[tuple[str, str | None], list[CheckResult]] = {}
    for check in checks:
        if check.anchor != "baseline" or check.value is None or check.anchor_value is None:
            continue
        families.setdefault((check.metric, check.variant), []).append(check)
    figures = []
    for (metric, _), members in families.items():
        ordered = sorted(members, key=lambda c: (c.selector is not None, c.concern))
        shown_rows = ordered[:CHART_ROWS]
        rows = [_interval_row(check) for check in shown_rows]
        chart = charts.interval_chart(rows, label=f"{metric}: candidate minus baseline")
        if not chart:
            continue
        levels = sorted({level_text(c.level) for c in members if c.level is not None})
        note = "Dot: candidate minus baseline; whisker: the interval"
        note += f" at {', '.join(levels)}" if levels else ""
        note += "; dashed tick: the most the bound allows; line: the baseline."
        if len(ordered) > CHART_ROWS:
            note += f" {CHART_ROWS} of {len(ordered)} shown, the worst first."
        figures.append(Figure(f"{metric}: candidate against baseline", chart, note))
    return figures


def _interval_row(check: CheckResult) -> charts.IntervalRow:
    assert check.value is not None and check.anchor_value is not None
    low = high = None
    if check.interval is not None:
        low, high = check.interval
    margin = None if check.bound is None else check.bound - check.anchor_value
    return charts.IntervalRow(
        label=check.selector or "all rows",
        difference=check.value - check.anchor_value,
        low=low,
        high=high,
        margin=margin,
        status=check.status.value,
        caption=f"{shown(check, check.value)} vs {shown(check, check.anchor_value)}",
    )


def fairness_figures(checks: Sequence[CheckResult]) -> list[Figure]:
    """The groups' values (``details["groups"]``) once per metric and set of groups,
    naming the checks that share them; of checks that differ only in the intervals
    (one has a level, one has none), the chart with intervals is kept."""
    charted: dict[str, tuple[str, list[charts.GroupBar], int, list[str]]] = {}
    for check in checks:
        groups = check.details.get("groups")
        if not isinstance(groups, list) or not groups:
            continue
        bars = [bar for bar in (_group_bar(item) for item in groups) if bar is not None]
        if not bars:
            continue
        metric = str(check.details.get("group_metric") or check.metric)
        values = [(bar.group, bar.value, bar.rows, bar.baseline) for bar in bars]
        key = json.dumps([metric, values], default=str)
        omitted = check.details.get("groups_omitted")
        more = omitted if isinstance(omitted, int) and not isinstance(omitted, bool) else 0
        _, kept, _, ids = charted.setdefault(key, (metric, bars, more, []))
        ids.append(check.id)
        if _with_intervals(bars) > _with_intervals(kept):
            charted[key] = (metric, bars, more, ids)
    figures = []
    for metric, bars, more, ids in charted.values():
        chart = charts.group_bars(bars, label=f"{metric} per group")
        if not chart:
            continue
        note = "For " + ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
        note += ". Bar: the candidate"
        note += ", whisker: its interval" if _with_intervals(bars) else ""
        note += "; tick: the baseline model." if any(b.baseline is not None for b in bars) else "."
        if more:
            note += f" {more} more groups not shown."
        figures.append(Figure(f"{metric} per group", chart, note))
    return figures


def _with_intervals(bars: Sequence[charts.GroupBar]) -> int:
    return sum(1 for bar in bars if bar.low is not None and bar.high is not None)


def _group_bar(item: object) -> charts.GroupBar | None:
    if not isinstance(item, Mapping) or not isinstance(item.get("group"), str | int | float):
        return None
    rows = item.get("rows")
    return charts.GroupBar(
        group=str(item["group"]),
        value=charts.finite(item.get("value")),
        low=charts.finite(item.get("low")),
        high=charts.finite(item.get("high")),
        rows=rows if isinstance(rows, int) and not isinstance(rows, bool) else None,
        baseline=charts.finite(item.get("baseline")),
    )


def operational_figures(checks: Sequence[CheckResult]) -> list[Figure]:
    """Latency percentiles of the candidate and the baseline, once per timed call
    (``details["latency_ms"]``); for records without them, each ``*_ms`` check's
    value against its anchor value."""
    timed: dict[str, tuple[dict[str, float | None], dict[str, float | None] | None, Any]] = {}
    fallback: dict[str, tuple[dict[str, float | None], dict[str, float | None]]] = {}
    for check in checks:
        where = check.selector or check.metric
        latency = latency_payload(check.details.get("latency_ms"))
        if latency is not None:
            timed.setdefault(where, latency)
        elif check.metric.endswith("_ms") and check.value is not None:
            measured, anchored = fallback.setdefault(where, ({}, {}))
            name = check.metric.removesuffix("_ms")
            measured.setdefault(name, check.value)
            if check.anchor_value is not None:
                anchored.setdefault(name, check.anchor_value)
    figures = []
    for where, (candidate, baseline, calls) in timed.items():
        chart = charts.latency_bars(candidate, baseline, label=f"latency of {where}")
        if chart:
            note = (
                "Milliseconds; upper bar the candidate, lower bar the baseline."
                if baseline
                else "The candidate's times in milliseconds."
            )
            if isinstance(calls, int) and not isinstance(calls, bool):
                note += f" {calls:,} timed calls."
            figures.append(Figure(f"latency of {where}", chart, note))
    for where, (values, anchors) in fallback.items():
        if where in timed:
            continue
        chart = charts.latency_bars(values, anchors or None, label=f"latency of {where}")
        if chart:
            note = "Milliseconds: the checks' values" + (" and anchors." if anchors else ".")
            figures.append(Figure(f"latency of {where}", chart, note))
    return figures


def latency_payload(
    payload: object,
) -> tuple[dict[str, float | None], dict[str, float | None] | None, Any] | None:
    """``(candidate, baseline, calls)`` from a check's ``details["latency_ms"]``:
    ``{"candidate": {...}, "baseline": {...}, "calls": n}``, or the flat
    ``{"p50_ms": ...}`` of older records. None for any other shape."""
    if not isinstance(payload, Mapping):
        return None
    if isinstance(payload.get("candidate"), Mapping):
        candidate = _percentiles(payload["candidate"])
        baseline = payload.get("baseline")
        base = _percentiles(baseline) if isinstance(baseline, Mapping) else None
        return (candidate, base or None, payload.get("calls")) if candidate else None
    flat = _percentiles(payload)
    return (flat, None, None) if flat else None


def _percentiles(times: Mapping[str, Any]) -> dict[str, float | None]:
    named = {str(key).removesuffix("_ms"): charts.finite(value) for key, value in times.items()}
    ordered = {name: named[name] for name in _LATENCY_ORDER if name in named}
    return {name: value for name, value in ordered.items() if value is not None}
