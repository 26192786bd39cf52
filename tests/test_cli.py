"""The mlgates command in real processes: exit codes 0/1/2, init, profile, history."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write_config

CONFIG = """
[data]
reference = "reference.csv"
current = "current.csv"
checks = ["missing_share <= reference + 0.05", "drift_share <= 0.25", "row_count >= 100"]
"""


def mlgates(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlgates", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_passing_run_exits_0_prints_table_and_records(project: Path):
    write_config(project, CONFIG)
    done = mlgates("run", "--json", "run.json", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "PASSED" in done.stdout
    record = json.loads((project / "run.json").read_text())
    assert record["blocked"] is False
    assert len(record["files"]) == 3  # config, reference, current, each with its sha256
    assert all(len(digest) == 64 for digest in record["files"].values())
    lines = (project / ".mlgates" / "history.jsonl").read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["run_id"] == record["run_id"]
    html = (project / ".mlgates" / "report.html").read_text()
    assert "Passed" in html and "data::row_count" in html


def test_blocked_run_exits_1_and_names_the_check(project: Path):
    write_config(project, CONFIG)
    done = mlgates("run", "--threshold", "row_count >= 1000", cwd=project)
    assert done.returncode == 1
    assert "FAIL" in done.stdout and "data::row_count" in done.stdout
    assert "BLOCKED" in done.stdout


@pytest.mark.parametrize(
    ("args", "config", "fragment"),
    [
        (["run", "--threshold", "row_count >> 5"], CONFIG, "--threshold: expected a number"),
        (["run", "--stage", "perf"], CONFIG, "unknown stage 'perf'"),
        (["run", "--profile", "nightly"], CONFIG, "unknown profile 'nightly'"),
        (["run"], CONFIG.replace("reference.csv", "ref.csv"), "file not found: 'ref.csv'"),
        (["run"], None, "no mlgates.toml"),
        (["run", "--bogus"], CONFIG, "unrecognized arguments: --bogus"),
        ([], CONFIG, "usage"),
    ],
)
def test_usage_and_config_errors_exit_2_without_traceback(project, args, config, fragment):
    if config is not None:
        write_config(project, config)
    done = mlgates(*args, cwd=project)
    assert done.returncode == 2
    assert fragment in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    assert not (project / ".mlgates" / "history.jsonl").exists()


def test_init_writes_config_and_schema_that_pass_on_their_data(project: Path):
    done = mlgates("init", "--reference", "reference.csv", "--current", "current.csv", cwd=project)
    assert done.returncode == 0, done.stderr
    assert (project / "mlgates.toml").is_file() and (project / "mlgates.schema.yaml").is_file()
    again = mlgates("init", "--reference", "reference.csv", cwd=project)
    assert again.returncode == 2 and "--force" in again.stderr
    run = mlgates("run", "-v", cwd=project)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "data::schema" in run.stdout


def test_stored_profile_is_a_reference(project: Path):
    done = mlgates("profile", "reference.csv", "-o", "reference.profile.json", cwd=project)
    assert done.returncode == 0, done.stderr
    write_config(project, CONFIG.replace("reference.csv", "reference.profile.json"))
    run = mlgates("run", cwd=project)
    assert run.returncode == 0, run.stdout + run.stderr
    history = mlgates("history", cwd=project)
    assert "passed" in history.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["--json", ".mlgates/history.jsonl"],
        ["--json", ".mlgates/report.html"],
        ["--report", ".mlgates/history.jsonl.lock"],
    ],
)
def test_an_output_never_overwrites_another(project: Path, args: list[str]):
    write_config(project, CONFIG)
    assert mlgates("run", cwd=project).returncode == 0
    history = (project / ".mlgates" / "history.jsonl").read_text()
    done = mlgates("run", *args, cwd=project)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "give each output its own file" in done.stderr
    assert (project / ".mlgates" / "history.jsonl").read_text() == history


def test_a_reference_that_breaks_after_its_header_is_an_input_error(project: Path):
    """The header reads at planning; the malformed row is found while measuring: exit 2."""
    rows = ["age,bmi"] + [f"{i % 80},{20 + i % 10}" for i in range(120_000)] + ["1,2,3"]
    (project / "reference.csv").write_text("\n".join(rows) + "\n")
    write_config(project, CONFIG)
    done = mlgates("run", cwd=project)
    assert done.returncode == 2, done.stdout
    assert "reference.csv" in done.stderr and "Traceback" not in done.stderr
    assert not (project / ".mlgates" / "history.jsonl").exists()


def test_a_single_configured_stage_chosen_with_stage_is_a_complete_run(project: Path):
    write_config(project, CONFIG)
    done = mlgates("run", "--stage", "data", "--json", "run.json", cwd=project)
    assert done.returncode == 0, done.stderr
    assert json.loads((project / "run.json").read_text())["partial"] is False


def test_a_column_named_only_on_the_command_line_is_blamed_on_the_option(project: Path):
    write_config(project, CONFIG)
    done = mlgates("run", "--threshold", "missing_share[nocol] <= 0.1", cwd=project)
    assert done.returncode == 2
    assert "--threshold: checks column 'nocol'" in done.stderr


def test_a_forced_drift_method_applies_where_it_fits(project: Path):
    """diabetes has a two-valued 'sex' column (categorical): ks applies to the rest."""
    write_config(project, CONFIG + 'drift_method = "ks"\n')
    done = mlgates("run", "--json", "run.json", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    checks = {
        c["id"]: c
        for g in json.loads((project / "run.json").read_text())["gates"]
        for c in g["checks"]
    }
    assert checks["data::drift[bmi]"]["method"] == "ks"
    assert checks["data::drift[sex]"]["method"] == "jensenshannon"


def test_a_column_method_that_does_not_fit_is_a_config_error(project: Path):
    write_config(project, CONFIG + '[data.columns.sex]\nmethod = "ks"\n')
    done = mlgates("run", cwd=project)
    assert done.returncode == 2, done.stdout
    assert "mlgates.toml: data.columns.sex.method: 'ks' does not apply" in done.stderr
    assert not (project / ".mlgates" / "history.jsonl").exists()


def test_an_unreadable_data_file_names_its_key(project: Path):
    (project / "current.csv").write_bytes(b"")
    write_config(project, CONFIG)
    done = mlgates("run", cwd=project)
    assert done.returncode == 2
    assert "data.current: " in done.stderr and "current.csv: is empty" in done.stderr
