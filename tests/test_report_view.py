"""What the HTML report shows and how fast, without a browser: the view model, the
page's policy, escaping, and a run of 130 checks against 2,000 earlier runs."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import random
import re
import time
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest

from mlgates.compact import stored_form
from mlgates.core import CheckResult, GateResult, RunRecord, Severity, Status
from mlgates.report import render_html
from mlgates.report.figures import NOT_KEPT, latency_payload, message_text
from mlgates.report.view import WINDOW, build_view, runs_before, value_key, value_series
from mlgates.text import format_number

HOSTILE = "<script>alert(1)</script>\"'&<img src=x onerror=alert(2)>"


def check(stage: str, metric: str, value: float | None, **fields) -> CheckResult:
    fields.setdefault("status", Status.PASS)
    fields.setdefault("message", f"{metric} = {value}")
    return CheckResult(stage=stage, metric=metric, value=value, **fields)


def run(index: int, columns: int = 41, *, drifted: int = -1, bound: float = 0.1) -> RunRecord:
    """A run of about 130 checks (with ``columns`` columns) over the four stages."""
    generator = random.Random(index)
    data = []
    for column in range(columns):
        name = HOSTILE if column == 0 else f"col{column}"
        distance = 0.03 + generator.random() * 0.02 + (0.3 if column == drifted else 0.0)
        failing = distance > bound
        data += [
            check(
                "data",
                "drift",
                distance,
                selector=name,
                bound=bound,
                method="psi",
                status=Status.FAIL if failing else Status.PASS,
                blocking=failing,
                threshold=f"drift <= {bound}",
                details={
                    "distribution": {
                        "kind": "categorical",
                        "categories": [HOSTILE, "b"],
                        "reference": [0.5, 0.5],
                        "current": [0.6, 0.4],
                    }
                },
            ),
            check("data", "missing_share", generator.random() * 0.01, selector=name, bound=0.05),
            check("data", "out_of_range", 0.0, selector=name, bound=0.001),
        ]
    auc = 0.75 + generator.gauss(0, 0.01)
    performance = [
        check("performance", "roc_auc", auc, bound=0.7),
        check(
            "performance",
            "roc_auc",
            auc,
            variant="baseline",
            anchor="baseline",
            anchor_value=0.746,
            bound=0.736,
            interval=(auc - 0.76, auc - 0.73),
            level=0.95,
        ),
    ] + [
        check(
            "performance",
            "expected_cost",
            7.5 + generator.random(),
            selector=f"region={r}",
            variant="baseline",
            anchor="baseline",
            anchor_value=8.0,
            bound=9.0,
        )
        for r in ("north", "south", HOSTILE)
    ]
    operational = [
        check(
            "operational",
            "p95_ms",
            6.5,
            selector="predict_proba:1",
            variant="baseline",
            anchor="baseline",
            anchor_value=5.5,
            bound=8.25,
            details={
                "latency_ms": {
                    "candidate": {"p50": 6.0, "p95": 6.5},
                    "calls": 100,
                    "baseline": {"p50": 5.0, "p95": 5.5},
                }
            },
        )
    ]
    groups = [
        {"group": HOSTILE, "value": 0.91, "low": 0.89, "high": 0.93, "rows": 1419},
        {"group": "sex=male", "value": 0.9, "low": None, "high": None, "rows": 1581},
    ]
    fairness = [
        check(
            "fairness",
            "demographic_parity_difference",
            0.01,
            selector=HOSTILE,
            bound=0.05,
            details={"group_metric": "selection_rate", "groups": groups},
        )
    ]
    gates = tuple(
        GateResult(stage, tuple(checks), 1.0)
        for stage, checks in (
            ("data", data),
            ("performance", performance),
            ("operational", operational),
            ("fairness", fairness),
        )
    )
    return RunRecord(
        run_id=f"{index:032x}",
        started_at=f"2026-01-01T00:00:{index % 60:02d}.000Z",
        finished_at=f"2026-01-01T00:00:{index % 60:02d}.500Z",
        gates=gates,
        mlgates_version="test",
        config_path="mlgates.toml",
        git={"commit": "a" * 40, "branch": HOSTILE},
        profile=HOSTILE,
        files={HOSTILE: "b" * 64},
    )


class Untouchable(tuple):
    """The gates of a run outside the window: reading them fails the test."""

    def __iter__(self) -> Iterator[GateResult]:
        raise AssertionError("the report read a run outside its window")


def long_history(count: int, current: RunRecord) -> list[RunRecord]:
    """``count`` earlier runs of the same config; only the last window may be read."""
    recent = [run(i) for i in range(WINDOW)]
    history = []
    for index in range(count):
        if index >= count - WINDOW:
            like = recent[index - (count - WINDOW)]
            gates = like.gates
        else:
            like, gates = recent[0], Untouchable(recent[0].gates)
        history.append(dataclasses.replace(like, run_id=f"h{index:031x}", gates=gates))
    return history


class Tags(HTMLParser):
    """The tags of a page, to count what it would run or load."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_a_run_of_130_checks_with_2000_earlier_runs_renders_fast_and_small():
    current = run(10_000, drifted=3)
    history = long_history(2_000, current)
    assert 120 <= len(current.checks) <= 140
    render_html(current, history)  # templates compiled once per process
    times = []
    for _ in range(3):
        start = time.perf_counter()
        html = render_html(current, history)
        times.append(time.perf_counter() - start)
    assert min(times) < 1.0
    assert len(html.encode()) < 1_000_000
    assert html.count('class="spark"') >= len(current.checks) - 1


def test_the_page_allows_only_its_own_script_and_style_and_escapes_every_user_string():
    current = run(2, drifted=0)
    html = render_html(current, [run(1)])
    parser = Tags()
    parser.feed(html)
    tags = [tag for tag, _ in parser.tags]
    assert tags.count("script") == 1 and tags.count("style") == 1
    assert not {"img", "iframe", "object", "embed", "link", "base"} & set(tags)
    assert not [a for _, attrs in parser.tags for a in attrs if a.startswith("on")]
    assert HOSTILE not in html and "<script>alert" not in html
    policy = next(attrs["content"] for tag, attrs in parser.tags if attrs.get("http-equiv"))
    assert policy is not None
    script = re.search(r"<script>(.*?)</script>", html, re.S)
    style = re.search(r"<style>(.*?)</style>", html, re.S)
    assert script and style
    for directive, source in (("script-src", script[1]), ("style-src", style[1])):
        digest = base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()
        assert f"{directive} 'sha256-{digest}'" in policy
    assert policy.startswith("default-src 'none';") and "unsafe" not in policy


def test_series_match_what_the_record_says_was_measured():
    runs = [run(i) for i in range(5)]
    runs[2] = dataclasses.replace(runs[2], gates=runs[2].gates[1:])  # a partial run
    series = value_series(runs)
    for item in runs[-1].checks:
        values, failing = series[value_key(item)]
        assert values == [r.measured(item.value_id) for r in runs]
        assert len(failing) == len(runs)
    drifted = run(5, drifted=4)
    failing = value_series([runs[0], drifted])[value_key(drifted.gates[0].checks[12])][1]
    assert failing == [False, True]


def test_the_run_itself_and_the_runs_after_it_are_not_earlier_runs():
    runs = [run(i) for i in range(4)]
    assert runs_before(runs[2], runs) == runs[:2]
    assert runs_before(runs[3], runs[:3]) == runs[:3]
    assert runs_before(runs[0], runs) == []
    view = build_view(runs[3], runs)
    assert view.earlier_runs == 3 and view.strip_runs == 4
    assert view.changes is not None and view.changes.previous is runs[2]
    first = build_view(runs[0], runs)
    assert first.changes is None and first.runs == []


def test_what_changed_lists_flips_and_loosened_thresholds():
    older, newer = run(1, bound=0.1), run(2, bound=0.5, drifted=5)
    view = build_view(newer, [older])
    assert view.changes is not None
    kinds = {change.kind for change, _ in view.changes.thresholds}
    assert kinds == {"loosened"}
    assert all(anchor.startswith("c-") for _, anchor in view.changes.thresholds)
    blocked = build_view(run(3, drifted=5), [older])
    assert blocked.changes is not None
    flips = [flip for flip, _, _ in blocked.changes.flips]
    assert [(f.before, f.after) for f in flips] == [(Status.PASS, Status.FAIL)]
    assert blocked.blocking[0].check.id == "data::drift[col5]"


def test_stage_charts_come_from_details_when_there_are_some():
    view = build_view(run(1, drifted=0), [])
    figures = {stage.stage: stage.figures for stage in view.stages}
    assert [f.title for f in figures["performance"]] == [
        "roc_auc: candidate against baseline",
        "expected_cost: candidate against baseline",
    ]
    assert [f.title for f in figures["operational"]] == ["latency of predict_proba:1"]
    assert [f.title for f in figures["fairness"]] == ["selection_rate per group"]
    assert figures["data"] == []
    rows = view.stages[0].rows
    assert rows[0].figure and not rows[0].on_demand  # the drifted column: shown
    assert rows[3].on_demand and not rows[3].figure  # the others: on demand


def test_older_records_without_details_still_render():
    bare = [dataclasses.replace(item, details={}) for gate in run(1).gates for item in gate.checks]
    record = dataclasses.replace(
        run(1),
        gates=tuple(
            GateResult(stage, tuple(c for c in bare if c.stage == stage))
            for stage in ("data", "performance", "operational", "fairness")
        ),
    )
    view = build_view(record, [])
    assert view.stages[3].figures == []
    # the operational fallback: the checks' values against their anchors
    assert [f.title for f in view.stages[2].figures] == ["latency of predict_proba:1"]
    assert all(not row.figure and not row.on_demand for row in view.stages[0].rows)
    assert "data::drift[col1]" in render_html(record, [])


def test_a_run_read_back_from_the_history_says_something_for_every_check():
    """The history keeps a passing check's numbers, not its message or details: the
    report says what the numbers say, and leaves out the charts it has no data for."""
    older, newer = (
        RunRecord.from_dict(stored_form(record)) for record in (run(1, drifted=5), run(2))
    )
    drift = newer.check("data::drift[col1]")
    assert drift is not None and drift.message == "" and not drift.details
    view = build_view(newer, [older])
    messages = {row.check.id: row.message for stage in view.stages for row in stage.rows}
    assert all(messages.values())
    value = format_number(drift.value, 4)
    assert messages["data::drift[col1]"] == f"value {value} <= 0.1"
    assert re.fullmatch(
        r"value [\d.]+, bound 0\.736, baseline 0\.746", messages["performance::roc_auc~baseline"]
    )
    # the flip back to pass says the same as the row
    assert view.changes is not None
    [(flip, anchor, message)] = view.changes.flips
    assert flip.check_id == "data::drift[col5]" and anchor.startswith("c-")
    assert message == messages[flip.check_id]
    # no chart without its data: no distributions, no groups; latency from the values
    figures = {stage.stage: [f.title for f in stage.figures] for stage in view.stages}
    assert figures["fairness"] == [] and figures["operational"] == ["latency of predict_proba:1"]
    assert all(not row.figure and not row.on_demand for row in view.stages[0].rows)
    html = render_html(newer, [older])
    assert '<span class="mtext"></span>' not in html and NOT_KEPT not in html
    assert f"value {value} &lt;= 0.1" in html


def test_a_message_from_the_numbers_only_claims_what_holds():
    bare = check("data", "drift", 0.3, message="", bound=0.1, threshold="drift <= 0.1")
    assert message_text(bare) == "value 0.3, bound 0.1"  # the comparison does not hold
    assert message_text(dataclasses.replace(bare, threshold="not a threshold")) == (
        "value 0.3, bound 0.1"
    )
    assert message_text(dataclasses.replace(bare, bound=None)) == "value 0.3"
    assert message_text(check("data", "schema", None, message="")) == NOT_KEPT
    assert message_text(dataclasses.replace(bare, message="kept")) == "kept"
    hours = check("data", "age", 7200.0, message="", bound=86400.0, unit="s", threshold="age < 1d")
    assert message_text(hours) == "value 2h < 1d"


def test_latency_payloads_of_both_shapes():
    new = latency_payload({"candidate": {"p95": 2.0, "p50": 1.0}, "baseline": {"p95": 3}})
    assert new == ({"p50": 1.0, "p95": 2.0}, {"p95": 3.0}, None)
    old = latency_payload({"p50_ms": 1.0, "p99_ms": 5.0, "max_ms": float("nan")})
    assert old == ({"p50": 1.0, "p99": 5.0}, None, None)
    assert latency_payload({"candidate": {}}) is None
    assert latency_payload([1, 2]) is None


def test_blocking_comes_before_warnings_and_the_lists_are_cut():
    checks = tuple(
        check(
            "data",
            "drift",
            1.0,
            selector=f"c{i}",
            status=Status.FAIL,
            blocking=i % 2 == 0,
            severity=Severity.BLOCK if i % 2 == 0 else Severity.WARN,
        )
        for i in range(130)
    )
    record = dataclasses.replace(run(1), gates=(GateResult("data", checks),))
    view = build_view(record, [])
    assert len(view.blocking) == 50 and view.blocking_more == 15
    assert len(view.warnings) == 50 and view.warnings_more == 15
    assert all(row.check.blocking for row in view.blocking)


@pytest.mark.parametrize("count", [1, 59, 60, 61, 200])
def test_the_strip_shows_at_most_the_window(count: int):
    runs = [run(i, columns=2) for i in range(count)]
    view = build_view(runs[-1], runs)
    assert view.strip_runs == min(count, WINDOW)
    assert str(view.strip).count("<rect") == min(count, WINDOW)
    assert len(view.runs) == min(count - 1, 30)
