"""The HTML report in a real headless browser: self-contained, escaped, readable.

The runs are real: the credit example's data, performance and fairness gates, run
twice on one config (first on the clean batch with a stricter ``roc_auc`` floor,
then on the drifted batch with the floor loosened), so that statuses flip and a
threshold is loosened between them. An operational gate is added by hand, and
user strings with markup are planted in a column name, a category, a group and
the git branch.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import itertools
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlgates.core import CheckResult, GateResult, RunRecord, Status
from mlgates.report import render_html, write_html

from conftest import copy_example, write_config

CHROMIUM = Path("/usr/lib/chromium/chromium-headless-shell")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium-headless-shell (.ci/run installs it)",
)

COLUMN = "<script>alert(1)</script>"
CATEGORY = '<img src=x onerror="alert(2)">'
GROUP = 'sex=<b onmouseover="alert(3)">female</b>'
BRANCH = "feature/<i>new</i>&co"

CONFIG = """
[mlgates]
on_inconclusive = "fail"
history = ".mlgates/history.jsonl"
report = ".mlgates/report.html"

[data]
reference = "data/reference.parquet"
current = "data/{current}"
schema = "mlgates.schema.yaml"
checks = ["row_count >= 1000", "missing_share <= reference + 0.05", "drift_share <= 0.25"]
drift_confidence = 0.99
min_rows = 100

[data.columns.income]
method = "psi"
checks = ["drift <= 0.2"]

[data.columns.interest_rate]
checks = [{{ check = "drift <= 0.1", severity = "warn", reason = "rates follow the central bank" }}]

[data.roles]
applicant_id = "identifier"

[performance]
candidate = "models/candidate_regressed.skops"
baseline = "models/baseline.skops"
data = "data/current.parquet"
target = "default"
checks = ["roc_auc >= {floor}", "roc_auc >= baseline - 0.01 @95%", "expected_cost <= baseline @95%"]
slices = ["region"]
slice_checks = ["roc_auc >= 0.65", "expected_cost <= baseline + 1"]
min_slice_size = 200
cost = {{ fp = 5, fn = 50 }}

[fairness]
sensitive = ["sex"]
favourable = 0
min_group_size = 100
checks = ["demographic_parity_difference <= 0.05 @95%", "selection_rate_ratio >= 0.8"]
"""


# -- the runs ------------------------------------------------------------------------


def operational_gate(p95: float, failing: bool) -> GateResult:
    """Latency checks as the operational gate writes them (timing one process is slow)."""
    candidate = {"p50": p95 * 0.9, "p95": p95, "p99": p95 * 1.1, "max": p95 * 1.3, "mean": p95}
    baseline = {"p50": 5.3, "p95": 5.55, "p99": 5.8, "max": 5.83, "mean": 5.32}
    status = Status.FAIL if failing else Status.PASS
    return GateResult(
        "operational",
        (
            CheckResult(
                stage="operational",
                metric="p95_ms",
                selector="predict_proba:1",
                variant="baseline",
                status=status,
                blocking=failing,
                value=p95,
                bound=5.55 * 1.5,
                anchor="baseline",
                anchor_value=5.55,
                threshold="p95_ms <= baseline + 50%",
                message=f"p95_ms[predict_proba:1] = {p95} ms, baseline 5.55 ms",
                details={
                    "calls": 100,
                    "latency_ms": {"candidate": candidate, "baseline": baseline, "calls": 100},
                },
            ),
            CheckResult(
                stage="operational",
                metric="p99_ms",
                selector="load",
                status=Status.PASS,
                value=160.0,
                bound=500.0,
                threshold="p99_ms <= 500",
                message="4 users for 5 s against http://127.0.0.1:8000: 177 requests",
                details={"latency_ms": {"candidate": {"p50": 95.0, "p95": 120.0, "p99": 160.0}}},
            ),
        ),
        duration_s=9.5,
    )


def planted(check: CheckResult) -> CheckResult:
    """``check`` with the user strings this test plants: a column name with a script,
    a category and a group name with markup."""
    if check.id == "data::drift[income]":
        return dataclasses.replace(
            check, selector=COLUMN, message=check.message.replace("income", COLUMN)
        )
    details: dict[str, Any] = dict(check.details)
    distribution = details.get("distribution")
    if check.selector == "region" and isinstance(distribution, dict):
        categories = list(distribution["categories"])
        categories[0] = CATEGORY
        details["distribution"] = {**distribution, "categories": categories}
    if isinstance(details.get("groups"), list):
        details["groups"] = [
            {**group, "group": GROUP} if group["group"] == "sex=female" else group
            for group in details["groups"]
        ]
    return dataclasses.replace(check, details=details)


def with_plants(record: RunRecord, p95: float, failing: bool) -> RunRecord:
    gates = tuple(
        dataclasses.replace(gate, checks=tuple(planted(c) for c in gate.checks))
        for gate in record.gates
    )
    gates = (*gates[:2], operational_gate(p95, failing), *gates[2:])
    git = {"commit": "0123456789abcdef" * 2 + "01234567", "branch": BRANCH, "dirty": False}
    return dataclasses.replace(record, gates=gates, git=git)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunRecord, RunRecord]:
    """(older, newer): two real runs of one config."""
    from mlgates import load_config, run_gates

    directory = copy_example(tmp_path_factory.mktemp("report") / "credit")
    config = write_config(directory, CONFIG.format(current="current.parquet", floor="0.75"))
    older = run_gates(load_config(config))
    write_config(directory, CONFIG.format(current="current_drifted.parquet", floor="0.70"))
    newer = run_gates(load_config(config))
    return with_plants(older, 6.6, failing=False), with_plants(newer, 9.1, failing=True)


@pytest.fixture(scope="module")
def history(runs: tuple[RunRecord, RunRecord]) -> list[RunRecord]:
    """A few earlier runs, then the older run (the newer one's previous run)."""
    older, _ = runs
    earlier = [
        dataclasses.replace(older, run_id=f"{day:032x}", started_at=f"2026-01-0{day}T08:00:00Z")
        for day in range(1, 6)
    ]
    return [*earlier, older]


@pytest.fixture(scope="module")
def report(runs: tuple[RunRecord, RunRecord], history: list[RunRecord], tmp_path_factory) -> Path:
    _, newer = runs
    return write_html(tmp_path_factory.mktemp("html") / "report.html", newer, history)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield launched
        finally:
            launched.close()


@dataclasses.dataclass
class Visit:
    """A page with everything it did recorded."""

    page: Any
    requests: list[str] = dataclasses.field(default_factory=list)
    console: list[str] = dataclasses.field(default_factory=list)
    dialogs: list[str] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)

    def quiet(self, uri: str) -> None:
        """Nothing but the file was requested; no dialog, error or console warning."""
        assert self.requests == [uri]
        assert self.dialogs == []
        assert self.errors == []
        assert self.console == []


def visit(browser: Any, path: Path, *, javascript: bool = True, width: int = 1280) -> Visit:
    context = browser.new_context(
        viewport={"width": width, "height": 900}, java_script_enabled=javascript
    )
    page = context.new_page()
    seen = Visit(page)
    page.on("request", lambda request: seen.requests.append(request.url))
    page.on(
        "console",
        lambda message: (
            seen.console.append(f"{message.type}: {message.text}")
            if message.type in ("error", "warning")
            else None
        ),
    )
    page.on("dialog", lambda dialog: (seen.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    page.goto(path.as_uri())
    return seen


def visible_rows(page: Any) -> list[dict[str, str]]:
    """Every check row shown, with its stage, classes and search text."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('tr.check'))
            .filter(row => row.offsetParent !== null)
            .map(row => ({stage: row.dataset.stage, classes: row.className,
                          id: row.querySelector('code.id').textContent,
                          message: row.querySelector('.mtext').textContent}))"""
    )


def artifact_dir(tmp_path: Path) -> Path:
    directory = Path(os.environ.get("MLGATES_TEST_ARTIFACTS") or tmp_path)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


# -- the tests -----------------------------------------------------------------------


def test_the_page_loads_nothing_runs_nothing_injected_and_allows_its_script_by_hash(
    report: Path, browser: Any, runs: tuple[RunRecord, RunRecord], tmp_path: Path
):
    html = report.read_text(encoding="utf-8")
    for planted_text in (COLUMN, CATEGORY, GROUP, BRANCH):
        assert planted_text not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "http://" not in html.replace("http://127.0.0.1:8000", "")
    assert "https://" not in html

    seen = visit(browser, report)
    page = seen.page
    policy = page.locator('meta[http-equiv="Content-Security-Policy"]').get_attribute("content")
    assert policy is not None
    assert "default-src 'none'" in policy and "unsafe-inline" not in policy
    assert "img-src data:" in policy
    script = page.locator("script").text_content()
    style = page.locator("style").text_content()
    assert page.locator("script").count() == 1
    for directive, source in (("script-src", script), ("style-src", style)):
        digest = base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()
        assert f"{directive} 'sha256-{digest}'" in policy
    # the planted strings are text, where they belong
    row = page.locator("tr.check").filter(has_text=COLUMN)
    assert row.count() == 1 and COLUMN in row.locator("code.id").inner_text()
    assert BRANCH in page.locator("header").inner_text()
    fairness = page.locator('section.stage[data-stage="fairness"] .figures svg text')
    assert any(text.startswith(GROUP[:15]) for text in fairness.all_text_contents())
    region = page.locator('tr[data-check-id="data::drift[region]"] svg text')
    assert any(text.startswith(CATEGORY[:12]) for text in region.all_text_contents())
    assert page.evaluate("document.querySelectorAll('img, iframe, object, embed').length") == 0
    artifacts = artifact_dir(tmp_path)
    (artifacts / "report.html").write_text(html, encoding="utf-8")
    screenshot = artifacts / "report-desktop.png"
    page.screenshot(path=str(screenshot), full_page=True)
    print(f"screenshot: {screenshot}")
    seen.quiet(report.as_uri())


def test_the_verdict_then_what_blocks_then_what_changed_come_first(
    report: Path, browser: Any, runs: tuple[RunRecord, RunRecord]
):
    _, newer = runs
    seen = visit(browser, report)
    page = seen.page
    assert page.title().startswith("mlgates: blocked")
    heading = page.locator("header h1").inner_text()
    assert heading.startswith("Blocked") and f"{len(newer.checks)} checks" in heading
    counts = page.locator("header .counts").inner_text()
    assert re.search(r"\d+ fail", counts) and re.search(r"\d+ pass", counts)
    assert "0123456789" in page.locator("header .facts").inner_text()

    order = page.evaluate(
        """() => Array.from(document.querySelectorAll('main > section, main > form'))
            .map(element => element.dataset.stage || element.id)"""
    )
    assert order[:3] == ["blocks", "changes", "filters"]
    assert order[3:7] == ["data", "performance", "operational", "fairness"]
    assert order[7:] == ["history", "provenance"]
    for stage in ("data", "performance", "operational", "fairness"):
        assert page.locator(f'section.stage[data-stage="{stage}"]').is_visible()

    blocking = page.locator("#blocks ul.blocking > li")
    expected = [c for c in newer.checks if c.blocking]
    assert blocking.count() == len(expected) > 3
    listed = blocking.locator("code").all_inner_texts()
    assert f"data::drift[{COLUMN}]" in listed and "data::drift[region]" in listed
    assert "operational::p95_ms[predict_proba:1]~baseline" in listed
    first = blocking.first.inner_text()
    assert "FAIL" in first.upper() or "ERROR" in first.upper()
    # the warning (interest_rate's drift has severity warn) comes after what blocks
    if page.locator("#blocks ul.warnings").count():
        box = page.locator("#blocks ul.warnings").bounding_box()
        assert box["y"] > page.locator("#blocks ul.blocking").bounding_box()["y"]
    # a blocking entry links to its row in the stage's table
    blocking.filter(has_text="data::drift[region]").locator("a").click()
    assert page.evaluate("location.hash").startswith("#c-")
    seen.quiet(report.as_uri())


def test_what_changed_shows_flips_and_the_loosened_threshold(report: Path, browser: Any):
    seen = visit(browser, report)
    changes = seen.page.locator("#changes")
    flips = changes.locator("table.flips tbody tr")
    flipped = {row.split("\t")[0]: row for row in flips.all_inner_texts()}
    assert "FAIL" in flipped["data::drift[region]"] and "PASS" in flipped["data::drift[region]"]
    assert "performance::roc_auc" in flipped  # failed under 0.75, passes under 0.70
    loosened = changes.locator("table.thresholds tbody tr").filter(has_text="performance::roc_auc")
    text = loosened.first.inner_text()
    assert "LOOSENED" in text.upper() and ">= 0.75 -> >= 0.7" in text
    assert changes.locator("table.moves tbody tr").count() > 0
    seen.quiet(report.as_uri())


def test_filters_narrow_the_tables(report: Path, browser: Any, runs: tuple[RunRecord, RunRecord]):
    from playwright.sync_api import expect

    _, newer = runs
    total = len(newer.checks)
    seen = visit(browser, report)
    page = seen.page
    assert page.locator("#filters").is_visible()
    assert len(visible_rows(page)) == total

    page.locator('#filters input[name="failures"]').check()
    rows = visible_rows(page)
    assert 0 < len(rows) < total
    assert all(" pass" not in f"{row['classes']} " for row in rows)
    assert not page.locator('tr[data-check-id="data::row_count"]').is_visible()
    assert page.locator("#shown").inner_text() == f"{len(rows)} of {total} checks shown"
    page.locator('#filters input[name="failures"]').uncheck()

    page.locator('#filters select[name="stage"]').select_option("fairness")
    rows = visible_rows(page)
    assert rows and {row["stage"] for row in rows} == {"fairness"}
    assert not page.locator('section.stage[data-stage="data"]').is_visible()
    page.locator('#filters select[name="stage"]').select_option("")

    page.locator('#filters input[name="q"]').fill("region=north")
    expect(page.locator("#shown")).not_to_have_text(re.compile("^all"))
    rows = visible_rows(page)
    assert 0 < len(rows) < total
    assert all("region=north" in (row["id"] + row["message"]).lower() for row in rows)
    # a stage without a match says so
    assert page.locator('section.stage[data-stage="operational"] .none').is_visible()

    page.locator('#filters input[name="q"]').fill(COLUMN.upper())
    expect(page.locator("#shown")).to_have_text(re.compile("^1 of"))
    assert [row["id"] for row in visible_rows(page)] == [f"data::drift[{COLUMN}]"]
    seen.quiet(report.as_uri())


def test_without_javascript_every_row_shows_and_the_filter_bar_does_not(
    report: Path, browser: Any, runs: tuple[RunRecord, RunRecord]
):
    _, newer = runs
    seen = visit(browser, report, javascript=False)
    page = seen.page
    assert not page.locator("#filters").is_visible()
    assert len(visible_rows(page)) == len(newer.checks)
    # drifted columns show their distribution; the others keep it one click away
    assert page.locator('tr[data-check-id="data::drift[region]"] .fig svg').is_visible()
    folded = page.locator('tr[data-check-id="data::drift[sex]"] details')
    assert folded.count() == 1 and not folded.locator("svg").is_visible()
    folded.locator("summary").click()
    assert folded.locator("svg").is_visible()
    for stage in ("performance", "operational", "fairness"):
        assert page.locator(f'section.stage[data-stage="{stage}"] .figures svg').first.is_visible()
    seen.quiet(report.as_uri())


def test_print_shows_everything_without_the_filter_bar(
    report: Path, browser: Any, runs: tuple[RunRecord, RunRecord]
):
    _, newer = runs
    seen = visit(browser, report)
    page = seen.page
    page.locator('#filters input[name="failures"]').check()
    page.locator('#filters select[name="stage"]').select_option("data")
    assert len(visible_rows(page)) < len(newer.checks)
    page.emulate_media(media="print")
    assert not page.locator("#filters").is_visible()
    assert len(visible_rows(page)) == len(newer.checks)
    assert page.locator('section.stage[data-stage="fairness"]').is_visible()
    assert page.locator('tr[data-check-id="data::drift[sex]"] details svg').is_visible()
    background = page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor")
    assert background in ("rgba(0, 0, 0, 0)", "transparent")
    assert len(page.pdf()) > 10_000
    seen.quiet(report.as_uri())


def test_on_a_phone_the_page_does_not_scroll_sideways(report: Path, browser: Any, tmp_path: Path):
    seen = visit(browser, report, width=390)
    page = seen.page
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]"
    )
    assert widths[0] <= widths[2] and widths[1] <= widths[2]
    scrolls = page.evaluate(
        """() => Array.from(document.querySelectorAll('.scroll'))
            .some(box => box.scrollWidth > box.clientWidth)"""
    )
    assert scrolls  # the tables scroll inside their box instead
    screenshot = artifact_dir(tmp_path) / "report-phone.png"
    page.screenshot(path=str(screenshot), full_page=True)
    print(f"screenshot: {screenshot}")
    seen.quiet(report.as_uri())


def test_a_first_run_says_so_and_renders_without_history(runs: tuple[RunRecord, RunRecord]):
    older, _ = runs
    html = render_html(older, [])
    assert "first run of this config" in html
    assert "This is the first run in the history." in html


def test_thousands_of_checks_load_and_filter_quickly(browser: Any, tmp_path: Path):
    checks = []
    for column in range(1_000):
        name = f"column_{column}"
        failing = column % 167 == 0  # 6 columns, far apart
        checks += [
            CheckResult(
                stage="data",
                metric="drift",
                selector=name,
                status=Status.FAIL if failing else Status.PASS,
                blocking=failing,
                value=0.3 if failing else 0.01,
                bound=0.1,
                message=f"{name}: distance",
                details={
                    "distribution": {
                        "kind": "numeric",
                        "edges": [0, 1, 2, 3],
                        "reference": [0.3, 0.4, 0.3],
                        "current": [0.2, 0.4, 0.4],
                    }
                },
            ),
            CheckResult(
                stage="data",
                metric="missing_share",
                selector=name,
                status=Status.PASS,
                value=0.0,
                bound=0.05,
                message=f"{name}: none missing",
            ),
            CheckResult(
                stage="data",
                metric="out_of_range",
                selector=name,
                status=Status.PASS,
                value=0.0,
                bound=0.001,
                message=f"{name}: none out of range",
            ),
        ]
    record = RunRecord(
        run_id="wide",
        started_at="2026-12-06T04:30:00.000Z",
        finished_at="2026-12-06T04:30:09.000Z",
        gates=(GateResult("data", tuple(checks), 9.0),),
        mlgates_version="test",
    )
    path = write_html(tmp_path / "wide.html", record, [])
    seen = visit(browser, path)
    timings = seen.page.evaluate(
        """() => {
            const box = document.getElementById('filters').elements.namedItem('failures');
            const timed = (checked) => {
                const start = performance.now();
                box.checked = checked;
                box.dispatchEvent(new Event('change', {bubbles: true}));
                document.body.offsetHeight;  // the layout the change causes
                return performance.now() - start;
            };
            return [timed(true), timed(false)];
        }"""
    )
    assert seen.page.locator("#shown").inner_text() == "all 3000 checks shown"
    assert max(timings) < 500, timings  # milliseconds; about 10 here

    # the few failures of a long stage stand together on a short page, not one per
    # placeholder of the tables the stage is cut into
    page = seen.page
    unfiltered = layout(page)
    assert unfiltered["height"] > 20 * unfiltered["viewport"]
    page.locator('#filters input[name="failures"]').check()
    filtered = layout(page)
    failures = sum(1 for c in checks if c.status is Status.FAIL)
    assert len(filtered["tops"]) == failures == 6
    assert filtered["height"] < 3 * filtered["viewport"], filtered
    gaps = [b - a for a, b in itertools.pairwise(filtered["tops"])]
    assert max(gaps) < 250, gaps  # a row and its distribution chart
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    assert layout(page) == filtered  # laid out as it stands, not from placeholders
    # and the whole stage again when the filter is cleared
    page.locator('#filters input[name="failures"]').uncheck()
    assert page.evaluate("document.querySelectorAll('div.chunk[hidden]').length") == 0
    assert len(visible_rows(page)) == 3000
    assert layout(page)["height"] > 20 * unfiltered["viewport"]
    seen.quiet(path.as_uri())


def layout(page: Any) -> dict[str, Any]:
    """The page's height, the window's and the top of every row shown, in the page."""
    return page.evaluate(
        """() => ({
            height: document.documentElement.scrollHeight,
            viewport: window.innerHeight,
            tops: Array.from(document.querySelectorAll('tr.check'))
                .filter(row => row.offsetParent !== null)
                .map(row => Math.round(row.getBoundingClientRect().top + window.scrollY)),
        })"""
    )
