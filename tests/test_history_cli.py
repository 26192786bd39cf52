"""mlgates history list|show|trend|diff|prune and mlgates report, in real processes, on
histories built from hand-made run records in both stores (JSON Lines and SQLite)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from mlgates.core import CheckResult, GateResult, RunRecord, Severity, Status
from mlgates.history import open_history
from test_cli import mlgates

from conftest import write_config

BACKENDS = ["h.jsonl", "sqlite:///h.db"]

ESCAPE = "\x1b[31m"
"""A selector that would turn a terminal red: it must print as ``\\x1b[31m``."""
ESCAPED_ID = "data::drift[\\x1b[31m]"

FIRST = "3f2a9c1d0e5b4a7c8d9e"
SECOND = "3f2a77b1c2d3e4f5a6b7"  # shares "3f2a" with FIRST
THIRD = "9c0d1e2f3a4b5c6d7e8f"
LOOSENING_COMMIT = "abc123def4567890abcd"


def check(
    metric: str,
    value: float | None,
    threshold: str | None = None,
    *,
    stage: str = "performance",
    selector: str | None = None,
    status: Status = Status.PASS,
    bound: float | None = None,
    severity: Severity = Severity.BLOCK,
) -> CheckResult:
    return CheckResult(
        stage=stage,
        metric=metric,
        selector=selector,
        status=status,
        message=f"{metric} measured",
        severity=severity,
        threshold=threshold,
        value=value,
        bound=bound,
        blocking=status is Status.FAIL and severity is Severity.BLOCK,
    )


def make_record(
    run_id: str,
    minute: int,
    *checks: CheckResult,
    commit: str = "0000000000000000",
    partial: bool = False,
) -> RunRecord:
    """A run of ``checks`` started at minute ``minute`` of one day, at ``commit`` on main."""
    stages: dict[str, list[CheckResult]] = {}
    for item in checks:
        stages.setdefault(item.stage, []).append(item)
    return RunRecord(
        run_id=run_id,
        started_at=f"2026-05-04T09:{minute:02d}:00Z",
        finished_at=f"2026-05-04T09:{minute:02d}:20Z",
        gates=tuple(GateResult(stage, tuple(items)) for stage, items in stages.items()),
        mlgates_version="test",
        config_path="mlgates.toml",
        git={"commit": commit, "branch": "main"},
        source="cli",
        partial=partial,
    )


def write_history(directory: Path, uri: str, *records: RunRecord) -> None:
    store = open_history(uri, root=directory)
    for item in records:
        store.append(item)


def run_ids(directory: Path, uri: str) -> list[str]:
    return [r.run_id for r in open_history(uri, root=directory).records()]


def three_runs() -> tuple[RunRecord, RunRecord, RunRecord]:
    """The second run loosens accuracy and drift[age] and fails drift[age] and the
    escape-named check; the third passes again under the loosened bounds."""
    first = make_record(
        FIRST,
        1,
        check("accuracy", 0.90, "accuracy >= 0.85", bound=0.85),
        check("drift", 0.05, "drift[age] <= 0.1", stage="data", selector="age", bound=0.1),
        check("drift", 0.02, stage="data", selector=ESCAPE),
        commit="1111111111111111",
    )
    second = make_record(
        SECOND,
        2,
        check("accuracy", 0.82, "accuracy >= 0.8", bound=0.8),
        check(
            "drift",
            0.30,
            "drift[age] <= 0.25",
            stage="data",
            selector="age",
            bound=0.25,
            status=Status.FAIL,
        ),
        check("drift", 0.40, stage="data", selector=ESCAPE, status=Status.FAIL),
        commit=LOOSENING_COMMIT,
    )
    third = make_record(
        THIRD,
        3,
        check("accuracy", 0.88, "accuracy >= 0.8", bound=0.8),
        check("drift", 0.05, "drift[age] <= 0.25", stage="data", selector="age", bound=0.25),
        check("drift", 0.03, stage="data", selector=ESCAPE),
        commit="2222222222222222",
    )
    return first, second, third


@pytest.fixture(params=BACKENDS)
def uri(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def history(tmp_path: Path, uri: str) -> str:
    """Three runs in ``uri`` under ``tmp_path`` (the working directory of the commands)."""
    write_history(tmp_path, uri, *three_runs())
    return uri


def assert_usage_error(done: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("mlgates: error: ") or "usage:" in done.stderr
    for fragment in fragments:
        assert fragment in done.stderr


def line_of(output: str, run_id: str) -> str:
    (line,) = [line for line in output.splitlines() if line.startswith(run_id[:10])]
    return line


# --- list -----------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["history"], ["history", "list"]])
def test_list_shows_the_newest_first_and_marks_the_loosening_run(
    tmp_path: Path, history: str, args: list[str]
):
    done = mlgates(*args, "--history", history, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = [line[:10] for line in done.stdout.splitlines()[1:4]]
    assert rows == [THIRD[:10], SECOND[:10], FIRST[:10]]
    loosening = line_of(done.stdout, SECOND)
    assert "2 threshold(s) LOOSENED" in loosening
    assert "blocked" in loosening and LOOSENING_COMMIT[:10] in loosening
    assert "LOOSENED" not in line_of(done.stdout, THIRD)
    assert "LOOSENED" not in line_of(done.stdout, FIRST)


def test_list_limit_shows_the_newest_runs_and_still_compares_with_the_one_before(
    tmp_path: Path, history: str
):
    done = mlgates("history", "list", "-n", "2", "--history", history, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert [line[:10] for line in done.stdout.splitlines()[1:3]] == [THIRD[:10], SECOND[:10]]
    assert FIRST[:10] not in done.stdout
    assert "LOOSENED" in line_of(done.stdout, SECOND)


def test_limit_given_before_the_action_on_history_alone(tmp_path: Path, history: str):
    done = mlgates("history", "-n", "1", "--history", history, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert THIRD[:10] in done.stdout and SECOND[:10] not in done.stdout


def test_limit_given_before_the_list_action_is_kept(tmp_path: Path, history: str):
    done = mlgates("history", "-n", "1", "list", "--history", history, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert SECOND[:10] not in done.stdout


# --- show -----------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["latest~1", SECOND[:6], SECOND])
def test_show_prints_the_run_its_checks_and_the_diff_with_the_run_before(
    tmp_path: Path, history: str, spec: str
):
    done = mlgates("history", "show", spec, "--history", history, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"{SECOND[:10]} ({LOOSENING_COMMIT[:10]} main)" in out.splitlines()[0]
    assert "verdict:  blocked" in out
    assert re.search(r"^FAIL\s+data::drift\[age\]", out, re.MULTILINE)
    assert "BLOCKED: 1 pass, 2 fail (3 checks)" in out
    since = out.split("since the run before:", 1)[1]
    assert f"from 2026-05-04T09:01:00Z {FIRST[:10]}" in since
    assert "LOOSENED  performance::accuracy: bound >= 0.85 -> >= 0.8" in since
    assert "LOOSENED  data::drift[age]: bound <= 0.1 -> <= 0.25" in since
    assert "pass -> fail" in since


def test_show_latest_lists_every_check_with_verbose(tmp_path: Path, history: str):
    done = mlgates("history", "show", "latest", "-v", "--history", history, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert THIRD[:10] in done.stdout.splitlines()[0]
    assert re.search(r"^PASS\s+performance::accuracy", done.stdout, re.MULTILINE)
    assert "PASSED: 3 pass (3 checks)" in done.stdout
    since = done.stdout.split("since the run before:", 1)[1]
    assert f"from 2026-05-04T09:02:00Z {SECOND[:10]}" in since
    assert "fail -> pass" in since and "LOOSENED" not in since


def test_show_of_the_first_run_has_no_diff(tmp_path: Path, history: str):
    done = mlgates("history", "show", "latest~2", "--history", history, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert FIRST[:10] in done.stdout and "since the run before" not in done.stdout


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("deadbeef", "no run with id 'deadbeef' in the history"),
        ("3f2a", "run id prefix '3f2a' matches 2 runs: give more characters"),
        ("latest~9", "run 'latest~9': the history holds only 3 runs"),
        ("latest~x", "run 'latest~x': write latest~N with N a whole number"),
        ("latest~-1", "write latest~N with N a whole number"),
    ],
)
def test_a_run_that_cannot_be_named_exits_2(tmp_path: Path, history: str, spec, fragment):
    done = mlgates("history", "show", spec, "--history", history, cwd=tmp_path)
    assert_usage_error(done, fragment)
    assert done.stdout == ""


# --- trend ----------------------------------------------------------------------------------


def chart_rows(output: str) -> list[str]:
    return [line for line in output.splitlines() if re.match(r"^\s+\S*\s\|", line)]


@pytest.mark.parametrize("name", ["drift[age]", "data::drift[age]"])
def test_trend_charts_the_values_and_names_the_loosening_run(
    tmp_path: Path, history: str, name: str
):
    done = mlgates("history", "trend", name, "--history", history, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("data::drift[age] over the last 3 runs that measured it")
    rows = chart_rows(out)
    assert len(rows) == 8
    assert rows[0].split("|")[0].strip() == "0.3" and rows[-1].split("|")[0].strip() == "0.05"
    assert "x" in rows[0]  # the failing run at the top, bounds drawn as '-'
    assert any("-" in row.split("|", 1)[1] for row in rows)
    table = out.split("o passed  x did not pass  - bound", 1)[1]
    assert re.search(r"2026-05-04T09:02:00Z\s+abc123def4\s+fail\s+0\.3\s+0\.25", table)
    assert re.search(r"2026-05-04T09:01:00Z\s+1111111111\s+pass\s+0\.05\s+0\.1", table)
    changes = out.split("threshold changes:", 1)[1]
    assert "LOOSENED  bound <= 0.1 -> <= 0.25" in changes
    assert f"in 2026-05-04T09:02:00Z {SECOND[:10]} ({LOOSENING_COMMIT[:10]} main)" in changes


def test_trend_of_a_metric_without_selector(tmp_path: Path, history: str):
    done = mlgates("history", "trend", "accuracy", "--history", history, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("performance::accuracy over the last 3 runs")
    assert len(chart_rows(done.stdout)) == 8
    for value in ("0.9", "0.82", "0.88"):
        assert re.search(rf"pass\s+{re.escape(value)}\s", done.stdout)
    assert "LOOSENED  bound >= 0.85 -> >= 0.8" in done.stdout


def test_trend_of_an_unknown_check_suggests_one(tmp_path: Path, history: str):
    done = mlgates("history", "trend", "accurcy", "--history", history, cwd=tmp_path)
    assert_usage_error(done, "no check 'accurcy' in the last 3 runs", "did you mean 'accuracy'?")


def test_trend_of_a_metric_measured_by_two_stages_asks_for_one(tmp_path: Path, uri: str):
    write_history(
        tmp_path,
        uri,
        make_record(FIRST, 1, check("accuracy", 0.9), check("accuracy", 0.8, stage="fairness")),
    )
    done = mlgates("history", "trend", "accuracy", "--history", uri, cwd=tmp_path)
    assert_usage_error(done, "several stages", "fairness::accuracy", "performance::accuracy")


# --- diff -----------------------------------------------------------------------------------


def diff_runs_history() -> tuple[RunRecord, RunRecord]:
    """Two runs: two flips, one loosened bound, a check added and one removed, 22 moves."""
    means = [(f"c{i:02d}", 10.0 + i, 10.0 + i * 1.5) for i in range(20)]
    older = make_record(
        FIRST,
        1,
        check("accuracy", 0.90, "accuracy >= 0.85", bound=0.85),
        check("f1", 0.72, "f1 >= 0.7", bound=0.7),
        check("missing_share", 0.2, stage="data", selector="x", status=Status.FAIL),
        check("drift", 0.01, "drift[old] <= 0.1", stage="data", selector="old"),
        *(check("mean", before, stage="data", selector=c) for c, before, _ in means),
        commit="1111111111111111",
    )
    newer = make_record(
        THIRD,
        2,
        check("accuracy", 0.70, "accuracy >= 0.85", bound=0.85, status=Status.FAIL),
        check("f1", 0.65, "f1 >= 0.6", bound=0.6),
        check("missing_share", 0.0, stage="data", selector="x"),
        check("drift", 0.01, "drift[new] <= 0.1", stage="data", selector="new"),
        *(check("mean", after, stage="data", selector=c) for c, _, after in means),
        commit=LOOSENING_COMMIT,
    )
    return older, newer


def test_diff_prints_flips_loosened_thresholds_checks_and_moves(tmp_path: Path, uri: str):
    write_history(tmp_path, uri, *diff_runs_history())
    done = mlgates("history", "diff", FIRST[:8], "latest", "--history", uri, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith(f"from 2026-05-04T09:01:00Z {FIRST[:10]} (1111111111 main) [blocked]")
    assert f"to   2026-05-04T09:02:00Z {THIRD[:10]} ({LOOSENING_COMMIT[:10]} main) [blocked]" in out
    flips = out.split("status changed (2):", 1)[1].split("\n\n", 1)[0].splitlines()
    assert re.search(r"pass -> fail\s+performance::accuracy", flips[1])  # worse first
    assert re.search(r"fail -> pass\s+data::missing_share\[x\]", flips[2])
    thresholds = out.split("thresholds changed (2):", 1)[1].split("\n\n", 1)[0]
    assert "LOOSENED  performance::f1: bound >= 0.7 -> >= 0.6" in thresholds
    assert "LOOSENED  data::drift[old]: check removed" in thresholds
    loosened_in = [line for line in thresholds.splitlines() if "loosened in" in line]
    assert len(loosened_in) == 2
    assert all(f"{THIRD[:10]} ({LOOSENING_COMMIT[:10]} main)" in line for line in loosened_in)
    assert "checks added (1):\n  data::drift[new]" in out
    assert "checks removed (1):\n  data::drift[old]" in out
    moves = out.split("values moved (", 1)[1]
    assert moves.startswith("22, largest first):")
    move_lines = [line for line in moves.splitlines() if " -> " in line]
    assert len(move_lines) == 15
    assert re.search(r"data::missing_share\[x\]\s+0\.2 -> 0 \(-100\.0%\)", move_lines[0])
    assert "... 7 more (--all shows every one)" in out


def test_diff_all_lists_every_move(tmp_path: Path, uri: str):
    write_history(tmp_path, uri, *diff_runs_history())
    done = mlgates("history", "diff", "latest~1", "latest", "--all", "--history", uri, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    moves = done.stdout.split("values moved (22, largest first):", 1)[1]
    assert len([line for line in moves.splitlines() if " -> " in line]) == 22
    assert "more (--all" not in done.stdout


def test_diff_of_a_run_with_itself_or_backwards_exits_2(tmp_path: Path, history: str):
    done = mlgates("history", "diff", "latest", THIRD, "--history", history, cwd=tmp_path)
    assert done.returncode == 2 and "are the same run" in done.stderr
    done = mlgates("history", "diff", "latest", "latest~1", "--history", history, cwd=tmp_path)
    assert done.returncode == 2 and "give the older run first" in done.stderr
    assert "Traceback" not in done.stderr


def test_report_never_replaces_the_history_or_another_file(tmp_path: Path, history: str):
    store = history.removeprefix("sqlite:///")
    for output in (store, "notes.txt"):
        (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
        before = (tmp_path / store).read_bytes()
        done = mlgates("report", "--history", history, "-o", output, cwd=tmp_path)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "write the report elsewhere" in done.stderr or "not an .html file" in done.stderr
        assert (tmp_path / store).read_bytes() == before
        assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_diff_of_an_unknown_run_exits_2(tmp_path: Path, history: str):
    done = mlgates("history", "diff", "latest", "feedface", "--history", history, cwd=tmp_path)
    assert_usage_error(done, "no run with id 'feedface'")


def test_diff_across_runs_names_the_run_that_loosened(tmp_path: Path, history: str):
    done = mlgates("history", "diff", "latest~2", "latest", "--history", history, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (line, *_) = [line for line in done.stdout.splitlines() if "loosened in" in line]
    assert f"{SECOND[:10]} ({LOOSENING_COMMIT[:10]} main)" in line


# --- prune ----------------------------------------------------------------------------------


def test_prune_dry_run_removes_nothing(tmp_path: Path, history: str):
    done = mlgates(
        "history", "prune", "--keep", "2", "--dry-run", "--history", history, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "would remove 1 runs" in done.stdout
    assert run_ids(tmp_path, history) == [FIRST, SECOND, THIRD]


def test_prune_keeps_the_newest(tmp_path: Path, history: str):
    done = mlgates("history", "prune", "--keep", "2", "--history", history, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "removed 1 runs" in done.stdout and "kept the newest 2" in done.stdout
    assert run_ids(tmp_path, history) == [SECOND, THIRD]
    again = mlgates("history", "prune", "--keep", "2", "--history", history, cwd=tmp_path)
    assert again.returncode == 0 and "removed 0 runs" in again.stdout
    assert run_ids(tmp_path, history) == [SECOND, THIRD]


@pytest.mark.parametrize("keep", ["0", "-1", "two"])
def test_prune_needs_a_positive_keep(tmp_path: Path, history: str, keep: str):
    done = mlgates("history", "prune", "--keep", keep, "--history", history, cwd=tmp_path)
    assert_usage_error(done, "argument --keep")
    assert run_ids(tmp_path, history) == [FIRST, SECOND, THIRD]


# --- report ---------------------------------------------------------------------------------


def test_report_of_an_earlier_run_writes_its_html(tmp_path: Path, history: str):
    done = mlgates(
        "report", "--history", history, "--run", "latest~1", "-o", "out.html", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert f"report of run {SECOND[:10]} (blocked): out.html" in done.stdout
    html = (tmp_path / "out.html").read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert SECOND[:10] in html
    assert THIRD[:10] not in html  # a later run is no context of this one


def test_report_to_a_path_under_a_file_exits_2(tmp_path: Path, history: str):
    (tmp_path / "blocker").write_text("a file, not a directory\n")
    done = mlgates("report", "--history", history, "-o", "blocker/out.html", cwd=tmp_path)
    assert_usage_error(done, "--output blocker/out.html: cannot write the report")
    assert (tmp_path / "blocker").read_text() == "a file, not a directory\n"


# --- an empty history -----------------------------------------------------------------------


@pytest.mark.parametrize("create", [False, True], ids=["missing", "empty-file"])
def test_an_empty_history(tmp_path: Path, uri: str, create: bool):
    if create:
        (tmp_path / uri.removeprefix("sqlite:///")).touch()
    for args in (["history"], ["history", "list"], ["history", "trend", "accuracy"]):
        done = mlgates(*args, "--history", uri, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert done.stdout == "no runs recorded yet\n"
    for args in (["report"], ["history", "show", "latest"]):
        done = mlgates(*args, "--history", uri, cwd=tmp_path)
        assert_usage_error(done, "the history holds no runs yet")
    assert not (tmp_path / "report.html").exists()


# --- the config's history -------------------------------------------------------------------


def test_the_history_named_by_the_config(tmp_path: Path):
    project = tmp_path / "project"
    project.mkdir()
    config = write_config(
        project,
        '[mlgates]\nhistory = "runs/h.jsonl"\n\n'
        '[data]\nreference = "reference.csv"\ncurrent = "current.csv"\n',
    )  # the data files need not exist to read the history
    write_history(project, "runs/h.jsonl", *three_runs())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    done = mlgates("history", "list", "--config", str(config), cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    assert re.search(r"passed .* yes", line_of(done.stdout, THIRD))
    assert "LOOSENED" in line_of(done.stdout, SECOND)

    here = mlgates("history", "show", "latest~1", cwd=project)  # finds ./mlgates.toml
    assert here.returncode == 0, here.stderr
    assert SECOND[:10] in here.stdout.splitlines()[0]

    report = mlgates("report", "--config", str(config), cwd=elsewhere)
    assert report.returncode == 0, report.stderr
    assert THIRD[:10] in (project / ".mlgates" / "report.html").read_text(encoding="utf-8")
    assert not (elsewhere / "runs").exists()  # resolved against the config, not the cwd


def test_no_config_and_no_history_exits_2(tmp_path: Path):
    done = mlgates("history", "list", cwd=tmp_path)
    assert_usage_error(done, "mlgates.toml")


# --- control characters ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["history", "list"],
        ["history", "show", "latest~1"],
        ["history", "diff", "latest~2", "latest~1"],
        ["history", "trend", f"drift[{ESCAPE}]"],
        ["history", "trend", f"data::drift[{ESCAPE}]"],
    ],
)
def test_control_characters_in_a_selector_print_escaped(
    tmp_path: Path, history: str, args: list[str]
):
    done = mlgates(*args, "--history", history, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert ESCAPED_ID in done.stdout
    assert "\x1b" not in done.stdout + done.stderr


def test_control_characters_in_an_unknown_check_print_escaped(tmp_path: Path, history: str):
    done = mlgates("history", "trend", f"nope[{ESCAPE}]", "--history", history, cwd=tmp_path)
    assert_usage_error(done, "no check")
    assert "x1b" in done.stderr and "\x1b" not in done.stderr


def test_control_characters_in_a_run_name_print_escaped(tmp_path: Path, history: str):
    done = mlgates("history", "show", f"zz{ESCAPE}", "--history", history, cwd=tmp_path)
    assert_usage_error(done, "no run with id")
    assert "\x1b" not in done.stderr
