"""The outputs CI systems read: the Markdown summary, JUnit XML and the JSON run record.

Large and hostile records are built in memory and their output parsed back
(markdown-it-py, xml.etree, jsonschema); the bundled credit example is run by
real ``mlgates run`` processes, once per config, and every file they write checked.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import math
import os
import re
import shutil
import sys
import traceback
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib
from filelock import FileLock
from jsonschema import Draft202012Validator, ValidationError
from markdown_it import MarkdownIt
from markdown_it.token import Token

from mlgates.compact import stored_form
from mlgates.core import (
    CheckResult,
    GateResult,
    InconclusivePolicy,
    Origin,
    RecordFormatError,
    RunRecord,
    Severity,
    Status,
    is_blocking,
)
from mlgates.history import open_history
from mlgates.provenance import git_info
from mlgates.report import COMMENT_LIMIT, SUMMARY_LIMIT, render_junit, render_markdown
from mlgates.runner import utc_now
from test_cli import CONFIG, mlgates

from conftest import copy_example, write_config
from test_history import make_record

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "credit"
SCHEMA_FILE = "schemas/run-record.schema.json"
SCHEMA = json.loads((importlib.resources.files("mlgates") / SCHEMA_FILE).read_text("utf-8"))
VALIDATOR = Draft202012Validator(SCHEMA)

NAN, INF = float("nan"), float("inf")

# -- records built in memory ----------------------------------------------------------

HOSTILE = (
    "@octocat",
    "<script>alert(1)</script>",
    "a|b",
    "back`tick``s`",
    "[link](http://x)",
    "multi\nline\r\nvalue",
    "**bold**",
    '<img src=x onerror="alert(1)">',
    "x\\|y",
    "_under_ ~~strike~~ &amp; &#64;octocat",
    "![image](http://x/i.png)",
    "<http://autolink.example>",
    "| --- | --- |",
    "</details><details open>",
    "# heading",
)
"""Column names, categories and slice values no report may interpret."""

STATUSES = (
    Status.PASS,
    Status.FAIL,
    Status.WARN,
    Status.SKIPPED,
    Status.INCONCLUSIVE,
    Status.ERROR,
    Status.PASS,
    Status.PASS,
)
VALUES = (0.125, NAN, INF, -INF, None, 1234.5678, 3.0e-7)


def hostile_check(index: int, stage: str) -> CheckResult:
    """One check of a large, hostile run: every field that reporters show is user text."""
    status = STATUSES[index % len(STATUSES)]
    severity = Severity.WARN if index % 5 == 0 else Severity.BLOCK
    word = HOSTILE[(index + 3) % len(HOSTILE)]
    return CheckResult(
        stage=stage,
        metric="drift",
        selector=f"{HOSTILE[index % len(HOSTILE)]} {index}",
        status=status,
        severity=severity,
        blocking=is_blocking(status, severity, InconclusivePolicy.FAIL),
        message=f"{word} says @octocat **bold** [link](http://x) <b>{index}</b>\n"
        + "a long explanation of what was measured " * 12,
        value=VALUES[index % len(VALUES)],
        bound=None if index % 6 == 0 else 0.5,
        threshold=f"drift[{word}] <= 0.5",
        anchor="baseline" if index % 4 == 0 else None,
        anchor_value=0.25 if index % 4 == 0 else None,
        interval=(0.1, INF) if index % 3 == 0 else None,
        level=0.95 if index % 3 == 0 else None,
        method=HOSTILE[(index + 5) % len(HOSTILE)] if index % 2 else None,
        unit="s" if index % 11 == 0 else None,
        origin=Origin("mlgates.toml", 7 + index % 30, "data.checks[0]"),
        details={"example": word, "noise": NAN},
    )


def run_record(gates: tuple[GateResult, ...], **fields: Any) -> RunRecord:
    return RunRecord(
        run_id="run-1",
        started_at="2026-01-01T00:00:00.000Z",
        finished_at="2026-01-01T00:00:09.250Z",
        gates=gates,
        mlgates_version="test",
        config_path="mlgates.toml",
        **fields,
    )


def hostile_record(count: int) -> RunRecord:
    """``count`` checks over three stages (the first checks of ``data`` pass, then fail)."""
    stages = ("data", "performance", "fairness")
    bounds = (0, count * 2 // 5, count * 4 // 5, count)
    gates = tuple(
        GateResult(
            stage,
            tuple(hostile_check(i, stage) for i in range(bounds[n], bounds[n + 1])),
            duration_s=1.5 * (n + 1),
        )
        for n, stage in enumerate(stages)
    )
    return run_record(gates)


@pytest.fixture(scope="module")
def big_record() -> RunRecord:
    record = hostile_record(5000)
    assert len(record.checks) == 5000 and record.blocked
    return record


# -- reading Markdown back -----------------------------------------------------------

MD = MarkdownIt("commonmark", {"html": True}).enable(["table"])
OMITTED = re.compile(r"^_(\d+) more checks are not shown here \(the size limit\)", re.MULTILINE)
COUNTED = (
    Status.PASS,
    Status.WARN,
    Status.FAIL,
    Status.INCONCLUSIVE,
    Status.ERROR,
    Status.SKIPPED,
)
"""The status columns of the stages table, in its order."""
ALLOWED_TAGS = re.compile(r"</?(details|summary|sub)>")
"""The only HTML mlgates writes itself."""


def walk(tokens: list[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        yield from walk(token.children or [])


@dataclass
class Table:
    header: list[str]
    rows: list[list[Token]] = field(default_factory=list)
    """The inline token of each cell, per body row."""


def tables(text: str, tokens: list[Token]) -> list[Table]:
    """Every table, checked cell by cell against its source lines.

    markdown-it pads short rows and drops the cells of long ones, so the column
    count is checked on the source too: cells split at unescaped pipes, as GFM does.
    """
    lines = text.splitlines()
    found: list[Table] = []
    for index, token in enumerate(tokens):
        if token.type == "table_open":
            current = Table(header=[])
            found.append(current)
            assert token.map is not None
            start, end = token.map
            source = lines[start:end]
            assert len(source) >= 2 and re.fullmatch(r"\|( (---|--:) \|)+", source[1])
            for line in [source[0], *source[2:]]:
                assert line.startswith("| ") and line.endswith(" |"), line
                cells = re.split(r"(?<!\\)\|", line)[1:-1]
                width = source[1].count("|") - 1
                assert len(cells) == width, f"{len(cells)} cells, {width} columns: {line}"
            body = end - start - 2
        elif token.type == "th_open":
            current.header.append(tokens[index + 1].content)
        elif token.type == "tr_open" and tokens[index + 1].type == "td_open":
            current.rows.append([])
        elif token.type == "td_open":
            current.rows[-1].append(tokens[index + 1])
        elif token.type == "table_close":
            assert current.header and all(len(r) == len(current.header) for r in current.rows)
            assert len(current.rows) == body, "a source line is not a row of its table"
    return found


def code(cell: Token) -> str:
    (span,) = [t for t in walk([cell]) if t.type == "code_inline"]
    return span.content


def plain(cell: Token) -> str:
    """The text a cell shows (the word joiners against mentions and links left out)."""
    shown = (t.content for t in walk([cell]) if t.type in ("text", "code_inline"))
    return "".join(shown).replace("\u2060", "")


def one_line(message: str) -> str:
    """A message as a table shows it: on one line, at most 300 characters."""
    line = " ".join(message.split())
    return line if len(line) <= 300 else line[:299] + "…"


def shown_id(check: CheckResult) -> str:
    """The id as a table shows it: on one line."""
    return " ".join(check.id.split())


@dataclass
class Summary:
    text: str
    tokens: list[Token]
    tables: list[Table]
    omitted: int

    @property
    def shown(self) -> list[str]:
        """The id of every check row (every table but the stages table)."""
        return [code(row[1]) for table in self.tables[1:] for row in table.rows]


def read_summary(text: str, record: RunRecord) -> Summary:
    """Parse a summary and check what holds for any record and any limit."""
    tokens = MD.parse(text)
    found = tables(text, tokens)
    every = list(walk(tokens))

    for token in every:  # no HTML but the tags mlgates writes, none of it user text
        if token.type in ("html_inline", "html_block"):
            rest = ALLOWED_TAGS.sub("", token.content).strip()
            assert re.fullmatch(r"(\d+ checks passed or were skipped)?", rest), token.content
    kinds = {token.type for token in every}
    assert not kinds & {"link_open", "image"}, "a link or an image from user data"
    assert not kinds & {"s_open", "bullet_list_open", "ordered_list_open", "blockquote_open"}
    for token in every:
        if token.type == "text":
            assert "@octocat" not in token.content, token.content

    # the stages table first: one row per gate, counts from the record
    stages = found[0]
    assert stages.header == ["stage", "verdict", *(s.value for s in COUNTED), "time"]
    assert len(stages.rows) == len(record.gates)
    for row, gate in zip(stages.rows, record.gates, strict=True):
        assert row[0].content == gate.stage
        counts = [int(cell.content or 0) for cell in row[2:-1]]
        assert counts == [sum(c.status is s for c in gate.checks) for s in COUNTED]
        assert row[1].content.endswith("blocked" if gate.blocked else gate.status.value)

    omitted = [int(n) for n in OMITTED.findall(text)]
    assert len(omitted) <= 1
    summary = Summary(text, tokens, found, omitted[0] if omitted else 0)
    ids = {shown_id(c): c for c in record.checks}
    assert len(ids) == len(record.checks)
    assert all(shown in ids for shown in summary.shown), "a row that is not a whole check"
    assert len(set(summary.shown)) == len(summary.shown), "a check shown twice"
    assert len(summary.shown) + summary.omitted == len(record.checks)
    for table in found[1:]:
        for row in table.rows:  # numbers and messages shown as they are, on one line
            check = ids[code(row[1])]
            assert plain(row[2]) == check.shown(check.value, digits=4)
            if len(table.header) == 5:
                assert plain(row[4]) == one_line(check.message)
        if len(table.header) == 5:  # a problem table: the blocking checks first
            blocking = [ids[code(row[1])].blocking for row in table.rows]
            assert blocking == sorted(blocking, reverse=True)
    return summary


# -- Markdown --------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [SUMMARY_LIMIT, 200_000, COMMENT_LIMIT, 20_000])
def test_a_large_hostile_run_fits_its_limit_and_shows_as_plain_text(
    big_record: RunRecord, limit: int
):
    text = render_markdown(big_record, limit=limit)
    assert len(text.encode("utf-8")) <= limit
    summary = read_summary(text, big_record)
    assert summary.omitted > 0 and len(summary.shown) > 10
    assert len(text.encode("utf-8")) > limit - 3_000, "the budget is used, not wasted"

    # the verdict first, then what blocks it, then the stages table
    blocking = [c for c in big_record.checks if c.blocking]
    heading, inline = summary.tokens[0], summary.tokens[1]
    assert heading.type == "heading_open" and heading.tag == "h2"
    assert inline.content == (f"❌ mlgates: blocked · {len(blocking)} of 5000 checks block")
    paragraph = [t for t in summary.tokens[4].children or [] if t.content or t.type != "text"]
    assert [t.type for t in paragraph[:5]] == [
        "strong_open",
        "text",
        "strong_close",
        "text",
        "code_inline",
    ]
    assert paragraph[1].content == "Blocked by"
    assert paragraph[4].content == blocking[0].id == "data::drift[<script>alert(1)</script> 1]"
    assert text.index("**Blocked by**") < text.index("| stage |") < text.index("| data check |")
    assert f"and {len(blocking) - 1} more blocking, listed below." in text

    # user text is shown, as text: escaped, never markup, never a mention
    texts = [t.content for t in walk(summary.tokens) if t.type == "text"]
    assert any("**bold**" in t and "[link](http:\u2060//x)" in t for t in texts)
    assert any("<b>" in t for t in texts)
    assert any("@\u2060octocat" in t for t in texts)
    assert sum(t.type == "strong_open" for t in walk(summary.tokens)) == 1  # "Blocked by"
    assert sum(t.type == "em_open" for t in walk(summary.tokens)) == 1  # the omitted line


def test_a_small_run_is_shown_whole_with_its_passing_checks_collapsed():
    record = hostile_record(60)
    text = render_markdown(record, limit=COMMENT_LIMIT)
    summary = read_summary(text, record)
    assert summary.omitted == 0 and "more checks are not shown" not in text
    assert sorted(summary.shown) == sorted(shown_id(c) for c in record.checks)
    rest = [c for c in record.checks if c.status in (Status.PASS, Status.SKIPPED)]
    assert summary.tables[-1].header == ["", "check", "value", "bound", "interval", "method"]
    assert [code(row[1]) for row in summary.tables[-1].rows] == [shown_id(c) for c in rest]
    assert f"<details><summary>{len(rest)} checks passed or were skipped</summary>" in text
    assert text.rstrip().endswith("<sub>config `mlgates.toml` · run `run-1` · mlgates test</sub>")


def test_a_passing_run_says_passed_and_counts_its_warnings():
    warned = CheckResult(
        "data", "drift", Status.FAIL, "drifted", selector="bmi", severity=Severity.WARN
    )
    record = run_record(
        (GateResult("data", (*make_record("r").gates[0].checks, warned)),), partial=True
    )
    assert record.passed
    text = render_markdown(record)
    summary = read_summary(text, record)
    assert summary.tokens[1].content == "✅ mlgates: passed · 2 checks, 1 with warnings"
    assert "Blocked by" not in text and "❌ blocked" not in text
    assert "_A partial run: some configured checks were not run._" in text
    (problems,) = [t for t in summary.tables if t.header[1] == "data check"]
    assert [cell.content for cell in problems.rows[0]][::2] == [
        "❌ fail (no block)",
        "n/a",
        "drifted",
    ]


def test_a_marker_comes_first_and_only_the_given_links_are_links():
    record = make_record("r", status=Status.FAIL)
    text = render_markdown(
        record,
        marker="<!-- mlgates-summary -->",
        title="gates *nightly*",
        links=[("HTML report [zip]", "https://ci.example/runs/1 (artifact)")],
    )
    assert text.splitlines()[0] == "<!-- mlgates-summary -->"
    tokens = list(walk(MD.parse(text)))
    assert [t.attrGet("href") for t in tokens if t.type == "link_open"] == [
        "https://ci.example/runs/1%20%28artifact%29"
    ]
    assert not any(t.type == "em_open" for t in tokens), "the title is text"
    assert "## ❌ gates \\*nightly\\*: blocked · 1 of 1 checks block" in text


def test_blocking_checks_are_shown_before_warnings_of_other_stages():
    warned = tuple(
        CheckResult(
            "data",
            "drift",
            Status.FAIL,
            "drifted " + "x" * 200,
            selector=f"c{i}",
            severity=Severity.WARN,
        )
        for i in range(1000)
    )
    blocking = tuple(
        CheckResult(
            "performance", "roc_auc", Status.FAIL, "too low", selector=f"s{i}", blocking=True
        )
        for i in range(2)
    )
    record = run_record((GateResult("data", warned), GateResult("performance", blocking)))
    text = render_markdown(record, limit=COMMENT_LIMIT)
    assert "and 1 more blocking, listed below." in text
    assert "`performance::roc_auc[s1]`" in text


def test_a_pipe_in_an_id_outside_a_table_shows_as_a_pipe():
    check = CheckResult("data", "drift", Status.FAIL, "drifted", selector="a|b", blocking=True)
    text = render_markdown(run_record((GateResult("data", (check,)),)))
    spans = [t.content for t in walk(MD.parse(text)) if t.type == "code_inline"]
    assert spans.count("data::drift[a|b]") == 2  # the Blocked by line and the table row


# -- JUnit XML -------------------------------------------------------------------------


def same(shown: str, value: float) -> bool:
    return math.isnan(value) if shown == "nan" else float(shown) == value


def check_junit(text: str, record: RunRecord) -> ElementTree.Element:
    """Parse JUnit XML and check it against ``record``, suite by suite and case by case."""
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    root = ElementTree.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"
    assert int(root.get("tests")) == len(record.checks)
    assert int(root.get("failures")) == sum(c.blocking for c in record.checks)
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        _xml_text(f"mlgates.{g.stage}") for g in record.gates
    ]
    for suite, gate in zip(suites, record.gates, strict=True):
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases) == len(gate.checks)
        assert int(suite.get("failures")) == len(suite.findall("testcase/failure"))
        assert int(suite.get("failures")) == sum(c.blocking for c in gate.checks)
        assert int(suite.get("skipped")) == len(suite.findall("testcase/skipped"))
        assert int(suite.get("skipped")) == sum(c.status is Status.SKIPPED for c in gate.checks)
        assert float(suite.get("time")) == pytest.approx(gate.duration_s, abs=5e-4)
        assert suite.get("timestamp") == record.started_at
        for case, check in zip(cases, gate.checks, strict=True):
            assert case.get("classname") == _xml_text(f"mlgates.{check.stage}")
            assert case.get("name") == _xml_text(check.id.partition("::")[2])
            props = {p.get("name"): p.get("value") for p in case.iter("property")}
            assert props["mlgates.status"] == check.status.value
            for name in ("value", "bound", "anchor_value"):
                number = getattr(check, name)
                assert (number is None) == (f"mlgates.{name}" not in props)
                assert number is None or same(props[f"mlgates.{name}"], number)
            for name in ("anchor", "method", "threshold"):
                assert props.get(f"mlgates.{name}") == _xml_text(getattr(check, name))
            assert ("mlgates.interval" in props) == (check.interval is not None)
            failure = case.find("failure")
            assert (failure is not None) == check.blocking
            if failure is not None:
                assert failure.get("type") == check.status.value
                assert failure.get("message") == _xml_text(check.message)
                assert failure.text.startswith(f"{check.status.value.upper()} ")
            elif check.status not in (Status.PASS, Status.SKIPPED):
                assert "(does not block)" in case.find("system-out").text
    return root


def _xml_text(text: str | None) -> str | None:
    """What XML can carry of ``text``: the characters XML 1.0 forbids as ``\\xNN``."""
    if text is None:
        return None
    return re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", lambda m: f"\\x{ord(m[0]):02x}", text)


def test_junit_has_one_suite_per_stage_and_one_case_per_check():
    record = hostile_record(600)
    root = check_junit(render_junit(record), record)
    names = [c.get("name") for c in root.iter("testcase")]
    assert names == [c.id.partition("::")[2] for c in record.checks]
    case = root.find("testsuite/testcase[2]")  # data::drift[... 1]: fails and blocks
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["mlgates.value"] == "nan" and props["mlgates.bound"] == "0.5"
    assert "mlgates.interval" not in props
    case = root.find("testsuite/testcase[4]")  # index 3: skipped, with an interval
    assert case.find("skipped") is not None and case.find("failure") is None
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["mlgates.interval"] == "[0.1, inf]"
    assert props["mlgates.value"] == "-inf"


@pytest.mark.parametrize(
    "control", ["\x1b[31m", "\x00", "\x08\x0b\x0c", "\x1f", "\ufffe", "\r\n\t"]
)
def test_control_characters_still_give_well_formed_xml(control: str):
    stage = f"data{control}"
    checks = (
        CheckResult(
            stage,
            "drift",
            Status.FAIL,
            f"red{control}alert",
            selector=f"col{control}",
            blocking=True,
            method=f"m{control}",
            threshold=f"drift <= 0.1{control}",
        ),
        CheckResult(stage, "stale", Status.SKIPPED, f"no date{control}column"),
        CheckResult(
            stage, "pii", Status.WARN, f"found{control}", severity=Severity.WARN, value=NAN
        ),
    )
    record = run_record((GateResult(stage, checks),))
    root = check_junit(render_junit(record), record)
    failure = root.find("testsuite/testcase/failure")
    assert failure.get("message") == _xml_text(f"red{control}alert")
    if control == "\x1b[31m":
        assert failure.get("message") == "red\\x1b[31malert"
        assert root.find("testsuite").get("name") == "mlgates.data\\x1b[31m"
    assert root.find("testsuite/testcase[2]/skipped").get("message") == _xml_text(
        f"no date{control}column"
    )


# -- JSON schema ------------------------------------------------------------------------


def test_the_schema_is_valid_2020_12_and_ships_as_package_data():
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["properties"]["format"]["const"] == make_record("r").to_dict()["format"]
    with open(ROOT / "pyproject.toml", "rb") as file:
        package_data = tomllib.load(file)["tool"]["setuptools"]["package-data"]["mlgates"]
    assert any(PurePosixPath(SCHEMA_FILE).match(pattern) for pattern in package_data)
    source = ROOT / "src" / "mlgates" / SCHEMA_FILE
    assert json.loads(source.read_text("utf-8")) == SCHEMA


def edge_record() -> RunRecord:
    """Every field filled in, with the values JSON has no numbers for."""
    try:
        raise RuntimeError("stage exploded <script>")
    except RuntimeError:
        trace = traceback.format_exc()
    data = (
        CheckResult(
            "data",
            "drift",
            Status.FAIL,
            "nan drift",
            selector="age",
            value=NAN,
            bound=INF,
            anchor="reference",
            anchor_value=-INF,
            interval=(-INF, NAN),
            level=0.99,
            method="wasserstein",
            threshold="drift <= reference + 0.1",
            blocking=True,
            origin=Origin("mlgates.toml", 12, "data.checks[1]"),
            family="data::drift[*]",
            details={"noise": NAN, "counts": (1, 2), "seen": {"b", "a"}, "day": date(2026, 1, 2)},
        ),
        CheckResult(
            "data",
            "stale",
            Status.SKIPPED,
            "no date column",
            selector="*",
            reason="no dates",
            origin=Origin(key="--threshold"),
        ),
        CheckResult(
            "data",
            "age",
            Status.WARN,
            "4d old",
            unit="s",
            value=4 * 86400.0,
            bound=86400.0,
            severity=Severity.WARN,
        ),
    )
    performance = (
        CheckResult(
            "performance",
            "roc_auc",
            Status.ERROR,
            "the performance stage raised RuntimeError: stage exploded <script>",
            blocking=True,
            details={"traceback": trace},
        ),
        CheckResult(
            "performance",
            "roc_auc",
            Status.PASS,
            "not worse",
            variant="baseline",
            anchor="baseline",
            anchor_value=0.74,
            value=0.75,
            bound=0.73,
            interval=(-0.004, 0.02),
            level=0.95,
            method="delong",
        ),
    )
    config = EXAMPLE / "mlgates.toml"
    digest = hashlib.sha256(config.read_bytes()).hexdigest()
    return RunRecord(
        run_id="edge",
        started_at=utc_now(),
        finished_at=utc_now(),
        gates=(GateResult("data", data, 0.25), GateResult("performance", performance)),
        mlgates_version="test",
        config_path="mlgates.toml",
        config_hash=digest,
        profile="nightly",
        on_inconclusive=InconclusivePolicy.WARN,
        git=git_info(ROOT),
        files={"mlgates.toml": digest},
        source="pytest",
        partial=True,
    )


def as_json(record: RunRecord) -> dict[str, Any]:
    """What ``--json`` and the history write (no NaN: strict JSON)."""
    return json.loads(json.dumps(record.to_dict(), allow_nan=False))


def test_records_with_non_finite_values_skips_and_errors_validate():
    record = edge_record()
    data = as_json(record)
    VALIDATOR.validate(data)
    drift, skipped, _ = data["gates"][0]["checks"]
    assert (drift["value"], drift["bound"], drift["anchor_value"]) == ("nan", "inf", "-inf")
    assert drift["interval"] == ["-inf", "nan"] and drift["details"]["noise"] == "nan"
    assert skipped["status"] == "skipped" and skipped["origin"]["key"] == "--threshold"
    error = data["gates"][1]["checks"][0]
    assert error["status"] == "error" and "Traceback" in error["details"]["traceback"]
    assert data["git"] and data["source"] == "pytest" and data["partial"] is True
    assert RunRecord.from_dict(data).to_dict() == data


@pytest.mark.parametrize("uri", ["h/history.jsonl", "sqlite:///h/history.db"])
def test_records_read_back_from_the_history_validate(tmp_path: Path, uri: str):
    store = open_history(uri, root=tmp_path)
    records = [edge_record(), hostile_record(200), make_record("plain", INF, Status.FAIL)]
    for record in records:
        store.append(record)
    if uri.endswith(".jsonl"):  # the stored lines themselves
        lines = (tmp_path / uri).read_text("utf-8").splitlines()
        for line in lines:
            VALIDATOR.validate(json.loads(line))
    read = store.records()
    assert [r.run_id for r in read] == ["edge", "run-1", "plain"]
    for before, after in zip(records, read, strict=True):
        data = as_json(after)
        VALIDATOR.validate(data)
        assert data == as_json(RunRecord.from_dict(stored_form(before)))
        numbers = ("id", "status", "value", "bound", "anchor_value", "interval", "threshold")
        assert [[c[k] for k in numbers] for g in data["gates"] for c in g["checks"]] == [
            [c[k] for k in numbers] for g in as_json(before)["gates"] for c in g["checks"]
        ]


def valid_dict() -> dict[str, Any]:
    return as_json(edge_record())


def _set(path: tuple[Any, ...], value: Any) -> Any:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path
        for key in parents:
            data = data[key]
        data[last] = value

    return change


def _drop(path: tuple[Any, ...]) -> Any:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path
        for key in parents:
            data = data[key]
        del data[last]

    return change


CHECK = ("gates", 0, "checks", 0)


@pytest.mark.parametrize(
    ("change", "reader_refuses"),
    [
        pytest.param(_set((*CHECK, "status"), "passed"), True, id="check status"),
        pytest.param(_set(("status",), "PASS"), False, id="run status"),
        pytest.param(_set(("gates", 1, "status"), "failed"), False, id="gate status"),
        pytest.param(_set((*CHECK, "severity"), "error"), True, id="severity"),
        pytest.param(_set((*CHECK, "value"), "NaN"), True, id="NaN spelled otherwise"),
        pytest.param(_set((*CHECK, "interval"), [0.1]), True, id="half an interval"),
        pytest.param(_set(("format",), 4), True, id="newer format"),
        pytest.param(_drop((*CHECK, "status")), True, id="check without status"),
        pytest.param(_set(("started_at",), "yesterday"), False, id="timestamp"),
        pytest.param(_set(("verdict",), "passed"), False, id="unknown key"),
    ],
)
def test_a_record_of_the_wrong_shape_fails_validation(change: Any, reader_refuses: bool):
    data = valid_dict()
    change(data)
    with pytest.raises(ValidationError):
        VALIDATOR.validate(data)
    if reader_refuses:  # what the schema refuses, mlgates refuses to read too
        with pytest.raises(RecordFormatError):
            RunRecord.from_dict(data)


# -- the command line on the bundled example --------------------------------------------

OUTPUTS = {
    "report": "report.html",
    "json": "run.json",
    "summary": "summary.md",
    "junitxml": "junit.xml",
}


@dataclass(frozen=True)
class ExampleRun:
    returncode: int
    stdout: str
    stderr: str
    directory: Path

    def output(self, name: str) -> Path:
        return self.directory / OUTPUTS[name]

    @property
    def data(self) -> dict[str, Any]:
        return json.loads(self.output("json").read_text("utf-8"))


EXAMPLE_CONFIGS = {"passing": "mlgates.toml", "blocked": "mlgates.drifted.toml"}


def _run_examples(shared: Path) -> None:
    """Both configs at once, from a copy of the example, so that neither the history, the
    report nor the profile cache is written into the checkout."""
    project = shared / "credit"
    copy_example(project)
    options = [item for key, path in OUTPUTS.items() for item in (f"--{key}", path)]

    def run(name: str) -> dict[str, Any]:
        directory = shared / name
        directory.mkdir()
        config = str(project / EXAMPLE_CONFIGS[name])
        done = mlgates("run", "--config", config, "--no-history", *options, cwd=directory)
        return {"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr}

    with ThreadPoolExecutor(len(EXAMPLE_CONFIGS)) as pool:
        runs = dict(zip(EXAMPLE_CONFIGS, pool.map(run, EXAMPLE_CONFIGS), strict=True))
    assert not (project / ".mlgates" / "history.jsonl").exists()
    (shared / "runs.json").write_text(json.dumps(runs), "utf-8")


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ExampleRun]:
    """The example's runs, made once per test session: the first pytest-xdist worker to
    need them runs them, the others wait on a lock and read the same files."""
    base = tmp_path_factory.getbasetemp().resolve()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # shared by every worker of this session
    shared = base / "credit-example-runs"
    with FileLock(str(base / "credit-example-runs.lock")):
        if not (shared / "runs.json").is_file():
            shutil.rmtree(shared, ignore_errors=True)  # a run that failed half-way
            shared.mkdir()
            _run_examples(shared)
    runs = json.loads((shared / "runs.json").read_text("utf-8"))
    return {name: ExampleRun(**runs[name], directory=shared / name) for name in runs}


@pytest.mark.parametrize(("name", "code"), [("passing", 0), ("blocked", 1)])
def test_the_example_writes_every_output_and_names_it(example, name: str, code: int):
    run = example[name]
    assert run.returncode == code, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    for key in OUTPUTS:
        assert f"{key}: {run.output(key)}" in lines
        assert run.output(key).stat().st_size > 0
    assert not any(line.startswith("history:") for line in lines)


@pytest.mark.parametrize(
    ("name", "blocked", "stages"),
    [
        ("passing", False, {"data", "performance", "fairness", "operational"}),
        ("blocked", True, {"data", "performance", "operational"}),
    ],
)
def test_the_examples_json_matches_the_schema(example, name: str, blocked: bool, stages: set[str]):
    data = example[name].data
    VALIDATOR.validate(data)
    assert data["blocked"] is blocked and data["source"] == "cli"
    assert {g["stage"] for g in data["gates"]} == stages
    assert RunRecord.from_dict(data).to_dict() == data


@pytest.mark.parametrize("name", ["passing", "blocked"])
def test_the_examples_summary_and_junit_agree_with_its_record(example, name: str):
    run = example[name]
    record = RunRecord.from_dict(run.data)
    text = run.output("summary").read_text("utf-8")
    summary = read_summary(text, record)
    checks, blocking = len(record.checks), sum(c.blocking for c in record.checks)
    assert summary.omitted == 0 and len(summary.shown) == checks > 50
    verdict = summary.tokens[1].content
    if record.blocked:
        assert verdict == f"❌ mlgates: blocked · {blocking} of {checks} checks block"
        assert "**Blocked by** `data::schema` (fail): 2 columns fail: age in\\_range" in text
        assert "`performance::roc_auc~baseline`" in text
    else:
        assert verdict == f"✅ mlgates: passed · {checks} checks"
    root = check_junit(run.output("junitxml").read_text("utf-8"), record)
    failed = [c.get("name") for c in root.iter("testcase") if c.find("failure") is not None]
    assert failed == [c.id.partition("::")[2] for c in record.checks if c.blocking]


# -- command-line refusals and --history ------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--summary", "mlgates.toml"], "--summary: {dir}/mlgates.toml is an input of this run"),
        (["--junitxml", "current.csv"], "--junitxml: {dir}/current.csv is an input of this run"),
        (
            ["--summary", "out.txt", "--junitxml", "out.txt"],
            "--junitxml: {dir}/out.txt is also the summary; give each output its own file",
        ),
        (
            ["--history", "s3://bucket/x"],
            "--history: unsupported history location 's3://bucket/x'",
        ),
        (["--history", "https://ci.example/h.jsonl"], "--history: unsupported history location"),
    ],
)
def test_outputs_that_cannot_be_written_are_refused_before_the_run(
    project: Path, args: list[str], message: str
):
    config = write_config(project, CONFIG)
    done = mlgates("run", *args, cwd=project)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("mlgates: error: ")
    assert message.format(dir=project.resolve()) in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert config.read_text() == CONFIG and (project / "current.csv").stat().st_size > 1000
    assert not (project / ".mlgates").exists() and not (project / "out.txt").exists()


def test_an_output_below_a_file_is_refused_before_anything_is_written(project: Path):
    write_config(project, CONFIG)
    (project / "blocker").write_text("a file, not a directory")
    done = mlgates("run", "--json", "ok.json", "--junitxml", "blocker/j.xml", cwd=project)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "--junitxml: " in done.stderr and "blocker is not a directory" in done.stderr
    assert not (project / "ok.json").exists() and not (project / ".mlgates").exists()


def test_outputs_written_before_a_failing_one_are_removed(
    project: Path, monkeypatch: pytest.MonkeyPatch
):
    """No output may describe a run that was not recorded (the exit code says 2)."""
    import mlgates.session as session_module
    from mlgates.core import InputError
    from mlgates.options import RunOptions
    from mlgates.session import GateSession

    write_config(project, CONFIG)
    monkeypatch.chdir(project)
    real_write = session_module._write

    def write(path: Path, text: str, *, what: str) -> None:
        if what == "--junitxml":
            raise InputError(f"cannot write the {what} {path}: No space left on device")
        real_write(path, text, what=what)

    monkeypatch.setattr(session_module, "_write", write)
    options = RunOptions(json=Path("run.json"), summary=Path("s.md"), junitxml=Path("j.xml"))
    session = GateSession(options, source="library")
    with pytest.raises(InputError, match="No space left"):
        session.publish(session.run())
    outputs = (".json", ".md", ".xml", ".html")
    leftovers = [
        p.name
        for p in project.rglob("*")
        if p.suffix in outputs and "cache" not in p.relative_to(project).parts  # profiles
    ]
    assert leftovers == []
    assert session.store.records() == []


def test_history_option_names_the_store_relative_to_the_working_directory(project: Path):
    write_config(project, CONFIG)
    work = project / "ci"
    work.mkdir()
    done = mlgates(
        "run",
        "--config",
        "../mlgates.toml",
        "--history",
        "runs/h.jsonl",
        "--json",
        "run.json",
        cwd=work,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    store = work.resolve() / "runs" / "h.jsonl"
    assert f"history: {store}" in done.stdout.splitlines()
    assert not (project / ".mlgates" / "history.jsonl").exists()
    (line,) = store.read_text("utf-8").splitlines()
    VALIDATOR.validate(json.loads(line))
    stored, written = (
        RunRecord.from_dict(json.loads(line)),
        json.loads((work / "run.json").read_text("utf-8")),
    )
    assert stored.run_id == written["run_id"]
    assert [(c.id, c.status.value, c.to_dict()["value"]) for c in stored.checks] == [
        (c["id"], c["status"], c["value"]) for g in written["gates"] for c in g["checks"]
    ]


def test_pytest_has_summary_and_history_options_but_not_junitxml(
    project: Path, pytester: pytest.Pytester
):
    config = write_config(project, CONFIG)
    result = pytester.runpytest_subprocess(
        "--mlgates",
        "--mlgates-config",
        str(config),
        "-k",
        "row_count or drift_share",
        "--mlgates-summary",
        "summary.md",
        "--mlgates-history",
        "h.jsonl",
    )
    result.assert_outcomes(passed=2)
    (line,) = (pytester.path / "h.jsonl").read_text("utf-8").splitlines()
    data = json.loads(line)
    VALIDATOR.validate(data)
    assert data["source"] == "pytest" and data["partial"] is True
    assert not (project / ".mlgates" / "history.jsonl").exists()
    text = (pytester.path / "summary.md").read_text("utf-8")
    summary = read_summary(text, RunRecord.from_dict(data))
    assert summary.tokens[1].content == "✅ mlgates: passed · 2 checks"
    assert sorted(summary.shown) == ["data::drift_share", "data::row_count"]
    refused = pytester.runpytest_subprocess("--mlgates", "--mlgates-junitxml", "x.xml")
    assert refused.ret == pytest.ExitCode.USAGE_ERROR
    refused.stderr.fnmatch_lines(["*unrecognized arguments: --mlgates-junitxml*"])
