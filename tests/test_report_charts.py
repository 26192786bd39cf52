"""The report's inline SVG charts, without a browser: escaping, odd inputs, sizes."""

from __future__ import annotations

import math
import random
import re
import xml.etree.ElementTree as ET

import pytest

from mlgates.report import charts
from mlgates.report.charts import (
    GroupBar,
    IntervalRow,
    StripMark,
    distribution,
    group_bars,
    history_strip,
    interval_chart,
    latency_bars,
    sparkline,
)

NAN, INF = float("nan"), float("inf")
HOSTILE = (
    "<script>alert(1)</script>",
    '"><svg onload=alert(1)>',
    "a & b",
    "</text></svg><img src=x onerror=alert(1)>",
    "' onmouseover='alert(1)",
)
NUMBER = re.compile(r"-?\d*\.\d+|-?\d+")


def parsed(markup: str) -> ET.Element:
    """The chart as XML: every chart must be well-formed on its own."""
    return ET.fromstring(str(markup))


def texts(markup: str) -> list[str]:
    return [element.text or "" for element in parsed(markup).iter() if element.tag == "text"]


def numbers_in_attributes(markup: str) -> list[str]:
    found = []
    for element in parsed(markup).iter():
        for name, value in element.attrib.items():
            if name in ("class", "role", "aria-label", "text-anchor"):
                continue
            found += NUMBER.findall(value)
    return found


def every_chart(word: str) -> list[str]:
    """One chart of each kind, with ``word`` in every piece of text it takes."""
    return [
        distribution(
            {
                "kind": "categorical",
                "categories": [word, "b"],
                "reference": [0.5, 0.5],
                "current": [0.7, 0.3],
                "other": [0, 0],
            },
            label=word,
        ),
        distribution(
            {"kind": "numeric", "edges": [0, 1, 2], "reference": [0.5, 0.5], "current": [0.2, 0.8]},
            label=word,
        ),
        interval_chart([IntervalRow(word, -0.02, -0.03, -0.01, -0.01, word, word)], label=word),
        group_bars([GroupBar(word, 0.8, 0.7, 0.9, 120, 0.85)], label=word),
        latency_bars({word: 3.0, "p95": 5.0}, {"p95": 4.0}, label=word),
        history_strip([StripMark(word, word, word, current=True), StripMark("passed", "t", "d")]),
        sparkline([1.0, 2.0], [False, True], label=word),
    ]


@pytest.mark.parametrize("word", HOSTILE)
def test_every_text_is_escaped_and_every_chart_is_well_formed_xml(word: str):
    for chart in every_chart(word):
        assert chart, "each chart has something to draw"
        markup = str(chart)
        assert "<script" not in markup and "<img" not in markup and "<svg on" not in markup
        root = parsed(markup)  # raises on any markup a string could have broken
        assert root.tag == "svg"
        tags = {element.tag for element in root.iter()}
        assert tags <= {"svg", "path", "rect", "line", "circle", "text", "title", "g"}
        for element in root.iter():
            assert not any(name.startswith("on") for name in element.attrib)


def test_labels_keep_their_text_shortened_not_mangled():
    chart = distribution(
        {
            "kind": "categorical",
            "categories": ["a & b", "<c>"],
            "reference": [0.5, 0.5],
            "current": [0.5, 0.5],
        }
    )
    assert {"a & b", "<c>"} <= set(texts(chart))
    long = "x" * 100
    bars = group_bars([GroupBar(long, 0.5)])
    assert any(text.endswith("...") and len(text) <= 20 for text in texts(bars))


@pytest.mark.parametrize(
    "values",
    [[], [None], [None, None], [NAN], [INF, -INF, NAN, None]],
)
def test_a_series_without_a_finite_value_draws_nothing(values: list[float | None]):
    assert sparkline(values) == ""


def test_a_single_point_is_a_dot_and_a_constant_series_a_flat_line():
    single = parsed(sparkline([None, None, 0.5]))
    assert [element.tag for element in single.iter()] == ["svg", "circle"]
    flat = str(sparkline([3.0] * 60))
    assert 'd="M2 8l59 0"' in flat  # one segment, however many runs
    assert len(flat) < 150
    only_first = parsed(sparkline([1.0, None, None]))
    assert "circle" not in [e.tag for e in only_first.iter()]  # the current run has no value


def test_gaps_and_non_finite_values_are_skipped_and_failures_marked():
    chart = sparkline([1.0, None, NAN, 2.0, INF, 3.0], [True, True, True, False, True, True])
    root = parsed(chart)
    line = next(e for e in root.iter() if e.tag == "path" and "class" not in e.attrib)
    marks = next(e for e in root.iter() if e.get("class") == "f")
    assert marks.get("d", "").count("h0") == 1  # failing runs with a value; the current is a dot
    assert "nan" not in str(chart).lower() and "inf" not in str(chart).lower()
    current = next(e for e in root.iter() if e.tag == "circle")
    assert current.get("class") == "now f"
    assert line.get("d", "").startswith("M2 ")


def test_coordinates_have_at_most_one_decimal_and_a_busy_sparkline_stays_small():
    generator = random.Random(3)
    walk, value = [], 0.5
    for _ in range(60):
        value += generator.gauss(0, 0.02)
        walk.append(value)
    worst = sorted(walk)[-3:]
    spark = sparkline(walk, [v in worst for v in walk])
    assert len(str(spark).encode()) < 480  # 60 runs, every one a little different
    for chart in [spark, *every_chart("label")]:
        for number in numbers_in_attributes(chart):
            assert len(number.partition(".")[2]) <= 1, number


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "numeric",
        {},
        {"kind": "unknown"},
        {"kind": "numeric", "edges": [1.0], "reference": [], "current": []},
        {"kind": "numeric", "edges": [0, 1, 2], "reference": [0.5], "current": [0.5, 0.5]},
        {"kind": "numeric", "edges": [0, 1, 2], "reference": [0.5, NAN], "current": [0.5, 0.5]},
        {"kind": "numeric", "edges": [0, 1, 2], "reference": ["a", "b"], "current": [1, 0]},
        {"kind": "categorical", "categories": [], "reference": [], "current": []},
        {"kind": "categorical", "categories": ["a"], "reference": [1.0], "current": None},
    ],
)
def test_a_distribution_of_another_shape_draws_nothing(payload: object):
    assert distribution(payload) == ""


def test_distribution_edges_read_as_the_column_reads():
    day = 86_400.0
    dates = distribution(
        {
            "kind": "numeric",
            "edges": [0.0, day * 365, day * 730],
            "reference": [0.5, 0.5],
            "current": [0.1, 0.9],
            "datetime": True,
        }
    )
    assert {"1970-01-01", "1972-01-01"} <= set(texts(dates))
    durations = distribution(
        {
            "kind": "numeric",
            "edges": [0, 3600, 7200],
            "reference": [1, 0],
            "current": [0, 1],
            "unit": "s",
        }
    )
    assert "2h" in texts(durations)


def test_many_categories_fold_into_one_bar():
    categories = [f"c{i}" for i in range(30)]
    shares = [1 / 30] * 30
    chart = distribution(
        {
            "kind": "categorical",
            "categories": categories,
            "reference": shares,
            "current": shares,
            "other": [0.0, 0.0],
        }
    )
    labels = texts(chart)
    assert "other (19 more)" in labels and "c29" not in labels


def test_interval_chart_clips_infinite_bounds_and_skips_rows_without_a_value():
    rows = [
        IntervalRow("all rows", -0.02, -INF, 0.01, -0.01, "fail", "0.72 vs 0.74"),
        IntervalRow("region=x", NAN, None, None, None, "pass", ""),
    ]
    chart = interval_chart(rows)
    assert "all rows" in texts(chart) and "region=x" not in texts(chart)
    assert "inf" not in str(chart).lower() and "nan" not in str(chart).lower()
    assert interval_chart([IntervalRow("x", NAN, None, None, None, "pass", "")]) == ""


def test_groups_and_latency_without_numbers_draw_nothing():
    assert group_bars([]) == ""
    assert group_bars([GroupBar("a", None), GroupBar("b", None)]) == ""
    partly = group_bars([GroupBar("a", None, rows=12), GroupBar("b", 0.4)])
    assert "n/a" in texts(partly) and "a (12)" in texts(partly)
    assert latency_bars({}) == ""
    assert latency_bars({"p95": None, "p99": NAN}) == ""
    assert "5 ms" in texts(latency_bars({"p95": 5.0}))
    assert history_strip([]) == ""


def test_the_scale_widens_a_flat_range_and_clips():
    scale = charts.Scale.over([2.0, 2.0], 0.0, 100.0)
    assert scale(2.0) == pytest.approx(50.0)
    assert scale(INF) == 100.0 and scale(-INF) == 0.0
    assert math.isfinite(scale(NAN))
