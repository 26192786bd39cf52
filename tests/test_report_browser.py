"""The HTML report in a real headless browser: self-contained, escaped, readable."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from mlgates.core import CheckResult, GateResult, RunRecord, Status
from mlgates.report import render_html, write_html

CHROMIUM = Path("/usr/lib/chromium/chromium-headless-shell")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium-headless-shell (.ci/run installs it)",
)


def sample_record() -> RunRecord:
    checks = (
        CheckResult(stage="data", metric="schema", status=Status.PASS, message="442 rows match"),
        CheckResult(
            stage="data",
            metric="drift",
            selector="income",
            status=Status.FAIL,
            blocking=True,
            value=0.43,
            bound=0.1,
            method="wasserstein",
            threshold="drift[income] <= 0.1",
            message="income: wasserstein distance 0.43 > 0.1 <script>alert(1)</script>",
        ),
        CheckResult(
            stage="data",
            metric="row_count",
            status=Status.INCONCLUSIVE,
            blocking=True,
            message="no earlier passing run",
        ),
    )
    return RunRecord(
        run_id="f" * 32,
        started_at="2026-11-23T10:00:00.000Z",
        finished_at="2026-11-23T10:00:02.000Z",
        gates=(GateResult("data", checks),),
        mlgates_version="0.1.0",
        config_path="mlgates.toml",
        git={"commit": "a" * 40, "branch": "main", "dirty": False},
        files={"data/current.parquet": "b" * 64},
    )


def test_report_renders_offline_and_escapes_messages(tmp_path: Path):
    from playwright.sync_api import sync_playwright

    record = sample_record()
    earlier = [replace(record, run_id="e" * 32, gates=(GateResult("data", record.checks[:1]),))]
    path = write_html(tmp_path / "report.html", record, earlier)
    html = path.read_text()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "http://" not in html and "https://" not in html

    requests: list[str] = []
    dialogs: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda request: requests.append(request.url))
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto(path.as_uri())
            assert page.title().startswith("mlgates: blocked")
            assert page.locator("header h1").inner_text().startswith("Blocked")
            rows = page.locator("#gate-data tr.check")
            assert rows.count() == 3
            failing = page.locator('tr[data-check-id="data::drift[income]"]')
            assert "fail" in failing.locator(".badge").inner_text().lower()
            assert "<script>" in failing.inner_text()  # shown as text, not run
            colour = failing.locator(".badge").evaluate(
                "element => getComputedStyle(element).backgroundColor"
            )
            assert colour == "rgb(207, 34, 46)"
            assert page.locator("#history tbody tr").count() == 1
            assert page.locator("#provenance").inner_text().count("sha256") >= 1
            screenshot = page.screenshot(full_page=True)
        finally:
            browser.close()
    assert requests == [path.as_uri()]  # nothing but the file itself
    assert dialogs == []
    assert len(screenshot) > 10_000


def test_report_without_history_says_first_run():
    html = render_html(sample_record(), [])
    assert "first run in the history" in html
