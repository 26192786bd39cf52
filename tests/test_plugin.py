"""The pytest adapter, driven through pytester in real pytest processes."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree

import pytest
from sklearn.datasets import load_diabetes  # imported before pytester snapshots sys.modules

CONFIG = """
[mlgates]
history = ".mlgates/history.jsonl"
report = ".mlgates/report.html"

[data]
reference = "reference.csv"
current = "current.csv"
checks = ["missing_share <= reference + 0.05", "drift_share <= 0.25", "row_count >= {rows}"]
"""


@pytest.fixture
def gated(pytester: pytest.Pytester) -> pytest.Pytester:
    """A project with half of the diabetes data as reference, the other half as current."""
    frame = load_diabetes(as_frame=True).frame
    frame.iloc[::2].to_csv(pytester.path / "reference.csv", index=False)
    frame.iloc[1::2].to_csv(pytester.path / "current.csv", index=False)
    (pytester.path / "mlgates.toml").write_text(CONFIG.format(rows=100))
    return pytester


def history(pytester: pytest.Pytester) -> list[dict]:
    path = pytester.path / ".mlgates" / "history.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_collects_one_item_per_check_with_readable_ids(gated: pytest.Pytester):
    result = gated.runpytest_subprocess("--mlgates", "--collect-only", "-q")
    lines = result.stdout.lines
    assert "mlgates.toml::data::columns" in lines
    assert "mlgates.toml::data::drift_share" in lines
    assert "mlgates.toml::data::row_count" in lines
    assert "mlgates.toml::data::drift[bmi]" in lines
    assert "mlgates.toml::data::missing_share[age]" in lines
    assert sum(line.startswith("mlgates.toml::data::drift[") for line in lines) == 11
    assert "mlgates.toml::data::types" in lines
    assert sum(line.startswith("mlgates.toml::data::out_of_range[") for line in lines) == 11


def test_clean_halves_pass_and_the_run_is_recorded(gated: pytest.Pytester):
    result = gated.runpytest_subprocess("--mlgates")
    result.assert_outcomes(passed=38)
    assert result.ret == 0
    records = history(gated)
    assert len(records) == 1 and records[0]["source"] == "pytest"
    assert records[0]["blocked"] is False
    assert len([c for g in records[0]["gates"] for c in g["checks"]]) == 38
    assert (gated.path / ".mlgates" / "report.html").is_file()
    result.stdout.fnmatch_lines(["mlgates: passed: 38 checks from mlgates.toml"])


def test_failing_check_is_a_short_failure_without_traceback(gated: pytest.Pytester):
    (gated.path / "mlgates.toml").write_text(CONFIG.format(rows=100000))
    result = gated.runpytest_subprocess("--mlgates")
    assert result.ret == 1
    result.assert_outcomes(passed=37, failed=1)
    output = result.stdout.str()
    assert "FAIL data::row_count: row_count = 221 fails >= 100000" in output
    assert "value 221, bound 100000" in output
    assert "Traceback" not in output and "def runtest" not in output
    assert history(gated)[0]["blocked"] is True


def test_keyword_stage_and_exitfirst(gated: pytest.Pytester):
    result = gated.runpytest_subprocess("--mlgates", "-k", "drift and not drift_share")
    result.assert_outcomes(passed=11)
    (gated.path / "mlgates.toml").write_text(CONFIG.format(rows=100000))
    stopped = gated.runpytest_subprocess("--mlgates", "-x", "-k", "row_count or drift")
    stopped.assert_outcomes(passed=1, failed=1)  # drift_share passes, row_count stops the run
    only = gated.runpytest_subprocess(
        "--mlgates", "--mlgates-stage", "data", "-q", "--collect-only"
    )
    assert "mlgates.toml::data::row_count" in only.stdout.lines
    wrong = gated.runpytest_subprocess("--mlgates", "--mlgates-stage", "fairnes")
    assert wrong.ret != 0
    wrong.stdout.fnmatch_lines(["*unknown stage 'fairnes'*"])


def test_junitxml_carries_value_bound_and_status(gated: pytest.Pytester):
    gated.runpytest_subprocess("--mlgates", "--junitxml=out.xml")
    tree = ElementTree.parse(gated.path / "out.xml")
    case = next(c for c in tree.iter("testcase") if c.get("name") == "row_count")
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert properties["mlgates.status"] == "pass"
    assert properties["mlgates.value"] == "221.0"
    assert properties["mlgates.bound"] == "100.0"
    assert properties["mlgates.threshold"] == "row_count >= 100"


def test_xdist_workers_report_to_one_history_record(gated: pytest.Pytester):
    (gated.path / "mlgates.toml").write_text(CONFIG.format(rows=100000))
    result = gated.runpytest_subprocess("--mlgates", "-n", "2")
    result.assert_outcomes(passed=37, failed=1)
    records = history(gated)
    assert len(records) == 1
    checks = [c for g in records[0]["gates"] for c in g["checks"]]
    assert len(checks) == 38 and records[0]["blocked"] is True
    assert any(name.endswith("current.csv") for name in records[0]["files"])


def test_config_error_is_a_clean_collection_error(gated: pytest.Pytester):
    (gated.path / "mlgates.toml").write_text(
        '[data]\ncurrent = "current.csv"\nchecks=["rows >= 1"]\n'
    )
    result = gated.runpytest_subprocess("--mlgates")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*mlgates.toml: data.checks[[]0[]]: unknown metric 'rows'*"])
    assert "Traceback" not in result.stdout.str()


def test_without_the_flag_nothing_is_collected_or_imported(gated: pytest.Pytester):
    gated.makepyfile(
        test_plain="""
        import sys

        def test_heavy_modules_not_imported():
            assert "pandas" not in sys.modules
            assert "mlgates.runner" not in sys.modules
        """
    )
    result = gated.runpytest_subprocess()
    result.assert_outcomes(passed=1)
    assert not (gated.path / ".mlgates").exists()


def test_explicit_config_outside_the_test_paths(gated: pytest.Pytester):
    sub = gated.path / "gates"
    sub.mkdir()
    (gated.path / "mlgates.toml").rename(sub / "custom.toml")
    for name in ("reference.csv", "current.csv"):
        (gated.path / name).rename(sub / name)
    result = gated.runpytest_subprocess(
        "--mlgates", "--mlgates-config", "gates/custom.toml", "-k", "row_count"
    )
    result.assert_outcomes(passed=1)
    assert (sub / ".mlgates" / "history.jsonl").is_file()


def test_history_bounds_follow_earlier_full_runs(gated: pytest.Pytester):
    config = gated.path / "mlgates.toml"
    previous = CONFIG.format(rows=100).replace('"row_count >= 100"', '"row_count >= previous"')
    config.write_text(previous)
    first = gated.runpytest_subprocess("--mlgates", "-k", "row_count")
    first.assert_outcomes(failed=1)
    first.stdout.fnmatch_lines(["*INCONCLUSIVE data::row_count*no comparable earlier run*"])
    config.write_text(previous.replace("[mlgates]", '[mlgates]\nfirst_run = "pass"'))
    gated.runpytest_subprocess("--mlgates", "-k", "row_count").assert_outcomes(skipped=1)
    # a passing run of a subset (-k) is recorded but never becomes the anchor
    config.write_text(CONFIG.format(rows=100))
    gated.runpytest_subprocess("--mlgates", "-k", "row_count").assert_outcomes(passed=1)
    config.write_text(previous)
    gated.runpytest_subprocess("--mlgates", "-k", "row_count").assert_outcomes(failed=1)
    assert [r["partial"] for r in history(gated)] == [True, True, True, True]
    # a full passing run is
    config.write_text(CONFIG.format(rows=100))
    gated.runpytest_subprocess("--mlgates").assert_outcomes(passed=38)
    config.write_text(previous)
    gated.runpytest_subprocess("--mlgates", "-k", "row_count").assert_outcomes(passed=1)


def test_warnings_never_fail_items_under_warning_errors(gated: pytest.Pytester):
    (gated.path / "mlgates.toml").write_text(
        CONFIG.format(rows=100).replace(
            '"row_count >= 100"]', '{ check = "row_count >= 100000", severity = "warn" }]'
        )
    )
    result = gated.runpytest_subprocess("--mlgates", "-W", "error", "-k", "row_count")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*MlgatesWarning: data::row_count: warn: *"])


def test_only_the_configured_file_is_collected(gated: pytest.Pytester):
    nested = gated.path / "experiments"
    nested.mkdir()
    (nested / "mlgates.toml").write_text('[data]\ncurrent = "missing.csv"\n')
    result = gated.runpytest_subprocess("--mlgates", "--collect-only", "-q")
    assert result.ret == 0
    assert "mlgates.toml::data::row_count" in result.stdout.lines
    assert not any(line.startswith("experiments/") for line in result.stdout.lines)


def test_a_toml_argument_names_the_config(gated: pytest.Pytester):
    gates = gated.path / "gates"
    gates.mkdir()
    for name in ("reference.csv", "current.csv"):
        (gated.path / name).rename(gates / name)
    (gated.path / "mlgates.toml").rename(gates / "nightly.toml")
    result = gated.runpytest_subprocess("--mlgates", "gates/nightly.toml", "-k", "row_count")
    result.assert_outcomes(passed=1)
    assert (gates / ".mlgates" / "history.jsonl").is_file()


def test_without_a_config_the_flag_is_a_usage_error(pytester: pytest.Pytester):
    result = pytester.runpytest_subprocess("--mlgates")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*mlgates: no mlgates.toml*mlgates init*"])


def test_pyproject_table_in_the_rootdir_is_the_default(gated: pytest.Pytester):
    text = (gated.path / "mlgates.toml").read_text()
    (gated.path / "mlgates.toml").unlink()
    body = text.replace("[mlgates]", "[tool.mlgates]").replace("[data]", "[tool.mlgates.data]")
    (gated.path / "pyproject.toml").write_text(body)
    result = gated.runpytest_subprocess("--mlgates", "-k", "row_count")
    result.assert_outcomes(passed=1)


def test_option_errors_name_the_pytest_flags(gated: pytest.Pytester):
    result = gated.runpytest_subprocess("--mlgates", "--mlgates-threshold", "acuracy >= 0.9")
    result.stdout.fnmatch_lines(["*--mlgates-threshold 'acuracy >= 0.9': unknown metric*"])
    assert "Traceback" not in result.stdout.str()
