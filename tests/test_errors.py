"""Broken inputs through the real ``mlgates`` command: exit codes, messages, nothing recorded.

The contract: 0 passed, 1 blocked, 2 usage/config/input error (nothing judged,
no history line appended), 3 internal error (one line; the traceback only with
``-v``). A broken input ends in one clear ``mlgates: error:`` line naming the
file, key or value, never in a traceback and never in exit 1. Warnings are
``mlgates: warning: ...`` lines without Python source lines; control
characters in user strings are escaped on the terminal.

Every test runs ``python -m mlgates`` (or ``mlgates.cli.main``) in a child
process whose working directory is a temporary project (see conftest.py).
"""

from __future__ import annotations

import json
import os
import sqlite3
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
HISTORY = Path(".mlgates") / "history.jsonl"
REPORT = Path(".mlgates") / "report.html"
SQLITE_HISTORY = Path(".mlgates") / "h.db"
ESC = "\x1b"


# --- helpers -------------------------------------------------------------------------


def mlgates(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m mlgates ARGS`` in ``cwd``."""
    return subprocess.run(
        [sys.executable, "-m", "mlgates", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def python(code: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -c CODE ARGS`` in ``cwd``."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def config(settings: str = "", data: str = "") -> str:
    """:data:`CONFIG` with ``[mlgates]`` settings before it and ``[data]`` keys after it."""
    head = f"[mlgates]\n{settings}\n" if settings else ""
    return head + CONFIG + data


def history_lines(project: Path) -> int:
    """Lines in the JSON Lines history (0 when there is none)."""
    path = project / HISTORY
    return len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0


def sqlite_rows(path: Path) -> int:
    connection = sqlite3.connect(path)
    try:
        return int(connection.execute("SELECT count(*) FROM runs").fetchone()[0])
    finally:
        connection.close()


def error_line(done: subprocess.CompletedProcess[str]) -> str:
    """The one ``mlgates: error:`` line of stderr (argparse may print a usage line first)."""
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("mlgates: error:")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def assert_usage_error(
    done: subprocess.CompletedProcess[str], project: Path, *fragments: str, recorded: int = 0
) -> str:
    """Exit 2, one error line holding every fragment, no traceback, no history line added."""
    assert done.returncode == 2, done.stdout + done.stderr
    line = error_line(done)
    for fragment in fragments:
        assert fragment in line, line
    assert history_lines(project) == recorded
    return line


def assert_only_warnings(stderr: str, *fragments: str) -> None:
    """stderr is ``mlgates: warning:`` lines only (no source lines), holding ``fragments``."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines, "expected a warning"
    assert all(line.startswith("mlgates: warning: ") for line in lines), stderr
    for fragment in fragments:
        assert fragment in stderr, stderr


def run_json(project: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    """``mlgates run --json run.json ARGS`` and the record it wrote."""
    done = mlgates("run", "--json", "run.json", *args, cwd=project)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return done, json.loads((project / "run.json").read_text(encoding="utf-8"))


def checks(record: dict) -> dict[str, dict]:
    """Every check of a run record by id."""
    return {check["id"]: check for gate in record["gates"] for check in gate["checks"]}


def rewrite_csv(path: Path, change, encoding: str = "utf-8") -> None:
    """Read a CSV with pandas, write back ``change(frame)`` (``encoding="utf-8-sig"``: a BOM)."""
    import pandas as pd

    frame = change(pd.read_csv(path, encoding="utf-8-sig", float_precision="round_trip"))
    path.write_text(frame.to_csv(index=False), encoding=encoding)


# --- 1-4: the config file and the paths it names ------------------------------------


@pytest.mark.parametrize("name", ["mlgates.toml", "pyproject.toml"])
def test_config_not_utf8_names_the_file(project: Path, name: str):
    prefix = "tool.mlgates." if name == "pyproject.toml" else ""
    text = f'[{prefix}data]\nreference = "r\xe9f.csv"\ncurrent = "current.csv"\n'
    (project / name).write_bytes(text.encode("latin-1"))
    done = mlgates("run", "--config", name, cwd=project)
    assert_usage_error(done, project, name, "not UTF-8", "save the file as UTF-8")


def test_config_with_utf8_bom_is_read_or_the_bom_is_named(project: Path):
    (project / "mlgates.toml").write_bytes(b"\xef\xbb\xbf" + CONFIG.encode("utf-8"))
    done = mlgates("run", cwd=project)
    assert "Traceback" not in done.stderr
    assert done.returncode == 0 or "byte-order mark" in done.stderr, done.stderr


@pytest.mark.parametrize(
    ("settings", "key", "value"),
    [
        ("", "data.current", "cur\\u0000rent.csv"),
        ("", "data.reference", "ref\\u0000erence.csv"),
        ('report = "rep\\u0000ort.html"', "mlgates.report", None),
        ('history = "hist\\u0000ory.jsonl"', "mlgates.history", None),
    ],
    ids=["data.current", "data.reference", "mlgates.report", "mlgates.history"],
)
def test_nul_byte_in_a_path_key_names_the_key(project: Path, settings, key, value):
    text = config(settings)
    if value is not None:
        text = text.replace(f'"{key.split(".")[1]}.csv"', f'"{value}"')
        assert "\\u0000" in text
    write_config(project, text)
    done = mlgates("run", cwd=project)
    line = assert_usage_error(done, project, key, "NUL byte")
    assert "\x00" not in line


@pytest.mark.parametrize("args", [["--config", "pyproject.toml"], []], ids=["config", "found"])
def test_pyproject_whose_tool_is_not_a_table(project: Path, args: list[str]):
    (project / "pyproject.toml").write_text('tool = "x"\n', encoding="utf-8")
    done = mlgates("run", *args, cwd=project)
    assert_usage_error(done, project, "pyproject.toml", "[tool]", "table")


def _loop(project: Path) -> None:
    (project / "loop.csv").symlink_to("loop.csv")


@pytest.mark.parametrize(
    ("args", "data", "fragments"),
    [
        pytest.param(["run"], "current", ("data.current", "loop.csv"), id="current"),
        pytest.param(["run"], "reference", ("data.reference", "loop.csv"), id="reference"),
        pytest.param(
            ["profile", "loop.csv", "-o", "p.json"],
            None,
            ("loop.csv", "symlink loop"),
            id="profile",
        ),
        pytest.param(
            ["run"],
            "current",
            ("data.current", "symlink loop"),
            id="run-names-the-loop",
        ),
        pytest.param(
            ["init", "--reference", "loop.csv", "--force"],
            None,
            ("loop.csv", "symlink loop"),
            id="init",
        ),
    ],
)
def test_symlink_loop_exits_2(project: Path, args, data, fragments):
    _loop(project)
    write_config(project, CONFIG.replace(f'"{data}.csv"', '"loop.csv"') if data else CONFIG)
    done = mlgates(*args, cwd=project)
    assert_usage_error(done, project, *fragments)


# --- 5, 6, 16, 20: the history -------------------------------------------------------


def _good_record(project: Path) -> dict:
    return json.loads((project / HISTORY).read_text(encoding="utf-8").splitlines()[0])


def _wrong_git(project: Path) -> str:
    record = _good_record(project)
    record.update(run_id="wrong-shape", git={"commit": 12345})
    return json.dumps(record)


@pytest.mark.parametrize(
    "bad_line",
    [
        pytest.param(_wrong_git, id="git-commit-is-a-number"),
        pytest.param(lambda project: "[1, 2]", id="not-an-object"),
        pytest.param(
            lambda project: "[" * 100_000 + "]" * 100_000,
            id="deeply-nested",
        ),
    ],
)
def test_history_line_of_the_wrong_shape_is_skipped_with_a_warning(project: Path, bad_line):
    write_config(project, CONFIG)
    assert mlgates("run", cwd=project).returncode == 0
    with (project / HISTORY).open("a", encoding="utf-8") as handle:
        handle.write(bad_line(project) + "\n")
    where = f"{project / HISTORY}:2"

    listed = mlgates("history", cwd=project)  # reads the end of the file, counting from there
    assert listed.returncode == 0, listed.stderr
    assert "passed" in listed.stdout
    assert_only_warnings(listed.stderr, f"{project / HISTORY}:1 from the end", "skipped")

    (project / REPORT).unlink()
    again = mlgates("run", cwd=project)
    assert again.returncode == 0, again.stdout + again.stderr
    assert_only_warnings(again.stderr, where)
    assert (project / REPORT).is_file()
    assert history_lines(project) == 3


SQLITE = 'history = "sqlite:///.mlgates/h.db"'


def test_corrupt_sqlite_row_is_skipped_with_a_warning(project: Path):
    write_config(project, config(SQLITE))
    assert mlgates("run", cwd=project).returncode == 0
    database = project / SQLITE_HISTORY
    with sqlite3.connect(database) as connection:
        connection.execute("""UPDATE runs SET record = '{"run_id": 5}'""")
    connection.close()

    again = mlgates("run", cwd=project)
    assert again.returncode == 0, again.stdout + again.stderr
    assert_only_warnings(again.stderr, str(database), "row 1")
    assert sqlite_rows(database) == 2

    listed = mlgates("history", cwd=project)
    assert listed.returncode == 0, listed.stderr
    assert "passed" in listed.stdout
    assert_only_warnings(listed.stderr, str(database), "row 1")


@pytest.mark.parametrize("command", ["run", "history"])
def test_sqlite_history_that_is_not_a_database(project: Path, command: str):
    write_config(project, config(SQLITE))
    database = project / SQLITE_HISTORY
    database.parent.mkdir()
    database.write_text("this is a text file, not a SQLite database at all\n" * 4)
    done = mlgates(command, cwd=project)
    assert_usage_error(done, project, str(database), "not a usable SQLite database")
    assert not (project / REPORT).exists()


def test_sqlite_history_with_a_foreign_runs_table(project: Path):
    write_config(project, config(SQLITE))
    database = project / SQLITE_HISTORY
    database.parent.mkdir()
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE runs (seq INTEGER PRIMARY KEY, record TEXT)")
    connection.close()
    done = mlgates("run", cwd=project)
    assert_usage_error(done, project, str(database))
    assert not (project / REPORT).exists()


@pytest.mark.parametrize(
    ("location", "directory"),
    [
        ("/dev/null", None),
        ("hist", "hist"),
        ("sqlite:///hist", "hist"),
    ],
    ids=["dev-null", "directory", "sqlite-directory"],
)
def test_history_that_is_not_a_regular_file(project: Path, location: str, directory):
    if directory:
        (project / directory).mkdir()
    write_config(project, config(f'history = "{location}"'))
    run = mlgates("run", cwd=project)
    assert_usage_error(run, project, "mlgates.history")
    assert not (project / REPORT).exists()
    listed = mlgates("history", cwd=project)
    assert_usage_error(listed, project, location.removeprefix("sqlite:///"))


def test_history_command_works_when_a_data_file_is_missing(project: Path):
    write_config(project, CONFIG)
    assert mlgates("run", cwd=project).returncode == 0
    (project / "current.csv").unlink()
    listed = mlgates("history", cwd=project)
    assert listed.returncode == 0, listed.stderr
    assert "passed" in listed.stdout and listed.stderr == ""
    run = mlgates("run", cwd=project)
    assert_usage_error(run, project, "data.current", "current.csv", recorded=1)


# --- 7, 8, 11, 12, 14: data files ---------------------------------------------------


def _with_lists(source: Path, target: Path, width: int) -> None:
    import pandas as pd

    frame = pd.read_csv(source)
    frame["tags"] = [list(range(i % width)) for i in range(len(frame))]
    frame.to_parquet(target)


def test_init_on_parquet_with_a_list_column(project: Path):
    _with_lists(project / "reference.csv", project / "reference.parquet", 3)
    _with_lists(project / "current.csv", project / "current.parquet", 4)
    done = mlgates(
        "init", "--reference", "reference.parquet", "--current", "current.parquet", cwd=project
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "tags" in (project / "mlgates.toml").read_text(encoding="utf-8")
    run = mlgates("run", cwd=project)
    assert run.returncode == 0, run.stdout + run.stderr


def test_list_column_in_a_handwritten_config_is_not_misreported(project: Path):
    _with_lists(project / "reference.csv", project / "reference.parquet", 3)
    _with_lists(project / "current.csv", project / "current.parquet", 4)
    write_config(project, CONFIG.replace(".csv", ".parquet"))
    _, record = run_json(project)
    tags = checks(record)["data::missing_share[tags]"]
    assert "no reference values" not in tags["message"]
    assert tags["status"] in ("pass", "skipped"), tags


def _add_bom(path: Path) -> None:
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())


def test_bom_csv_first_column_is_checked_like_the_others(project: Path):
    for name in ("reference.csv", "current.csv"):
        _add_bom(project / name)
    write_config(project, CONFIG)
    done, record = run_json(project)
    assert done.returncode == 0, done.stdout
    found = checks(record)
    for column in ("age", "sex", "target"):
        assert found[f"data::drift[{column}]"]["status"] == "pass"
        assert found[f"data::missing_share[{column}]"]["status"] == "pass"
    assert not any("\ufeff" in check_id for check_id in found)


def test_bom_csv_shift_in_the_first_column_blocks_naming_it(project: Path):
    import pandas as pd

    spread = pd.read_csv(project / "reference.csv")["age"].std()

    def shift(frame):
        return frame.assign(age=frame["age"] + 5 * spread)

    rewrite_csv(project / "current.csv", shift, encoding="utf-8-sig")
    _add_bom(project / "reference.csv")
    assert (project / "current.csv").read_bytes().startswith(b"\xef\xbb\xbfage,")
    write_config(project, CONFIG)
    done, record = run_json(project)
    assert done.returncode == 1
    assert "data::drift[age]" in done.stdout and "FAIL" in done.stdout
    drift = checks(record)["data::drift[age]"]
    assert drift["status"] == "fail" and drift["message"].startswith("age:")


def test_text_value_in_a_numeric_column_fails_that_column_only(project: Path):
    def plant(frame):
        frame["bmi"] = frame["bmi"].astype(object)
        frame.loc[5, "bmi"] = "n/a?"
        return frame

    rewrite_csv(project / "current.csv", plant)
    write_config(project, CONFIG)
    done, record = run_json(project)
    assert done.returncode == 1
    found = checks(record)
    types = found["data::types"]
    assert types["status"] == "fail"
    for fragment in ("bmi", "was number (float64)", "now text"):
        assert fragment in types["message"], types["message"]
    for check in ("data::drift[bmi]", "data::out_of_range[bmi]"):
        assert found[check]["status"] == "skipped"
        assert "type changed" in found[check]["message"]
    changed = {"data::types", "data::drift[bmi]", "data::out_of_range[bmi]"}
    others = {k: c["status"] for k, c in found.items() if k not in changed}
    assert set(others.values()) == {"pass"}, others
    assert found["data::missing_share[bmi]"]["status"] == "pass"


def test_empty_current_file_names_it(project: Path):
    (project / "current.csv").write_bytes(b"")
    write_config(project, CONFIG)
    done = mlgates("run", cwd=project)
    assert_usage_error(done, project, "current.csv", "empty")


def test_header_only_current_file_is_judged(project: Path):
    header = (project / "reference.csv").read_text(encoding="utf-8").splitlines()[0]
    (project / "current.csv").write_text(header + "\n", encoding="utf-8")
    write_config(project, CONFIG)
    done, record = run_json(project)
    assert done.returncode == 1
    assert checks(record)["data::row_count"]["value"] == 0
    assert history_lines(project) == 1


def _dvc_csv(project: Path, cache: Path) -> str:
    (project / "current.csv").rename(cache)
    return "data/current.csv"


def _dvc_csv_gz(project: Path, cache: Path) -> str:
    import gzip

    cache.write_bytes(gzip.compress((project / "current.csv").read_bytes()))
    return "data/current.csv.gz"


def _dvc_parquet(project: Path, cache: Path) -> str:
    import pandas as pd

    pd.read_csv(project / "current.csv", float_precision="round_trip").to_parquet(cache)
    return "data/current.parquet"


@pytest.mark.parametrize("store", [_dvc_csv, _dvc_csv_gz, _dvc_parquet])
def test_data_file_through_a_symlink_to_an_extensionless_target(project: Path, store):
    cache = project / ".dvc" / "cache" / "ab" / "cdef0123"
    cache.parent.mkdir(parents=True)
    name = store(project, cache)
    (project / "data").mkdir()
    (project / name).symlink_to(Path("..") / ".dvc" / "cache" / "ab" / "cdef0123")
    write_config(project, CONFIG.replace('"current.csv"', f'"{name}"'))
    done = mlgates("run", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASSED" in done.stdout


# --- 9, 10, 13, 15, 21: keys, options and outputs ----------------------------------

TYPO = """
[data]
refrence = "reference.csv"
current = "current.csv"
checks = ["missing_share <= reference + 0.05", "drift_share <= 0.25"]

[data.columns.age]
checks = ["drift <= 0.2"]
"""


@pytest.mark.parametrize(
    ("name", "text", "key", "suggestion"),
    [
        pytest.param(
            "mlgates.toml", TYPO, "data.refrence", "did you mean 'reference'?", id="mlgates.toml"
        ),
        pytest.param(
            "pyproject.toml",
            TYPO.replace("[data", "[tool.mlgates.data"),
            "tool.mlgates.data.refrence",
            "did you mean 'reference'?",
            id="pyproject-data",
        ),
        pytest.param(
            "pyproject.toml",
            '[tool.mlgates]\nhistroy = "h.jsonl"\n' + TYPO.replace("[data", "[tool.mlgates.data"),
            "tool.mlgates.histroy",
            "did you mean 'history'?",
            id="pyproject-settings",
        ),
    ],
)
def test_typo_key_is_reported_first_with_a_suggestion(project: Path, name, text, key, suggestion):
    write_config(project, text, name=name)
    done = mlgates("run", cwd=project)
    line = assert_usage_error(done, project, key, "unknown key", suggestion)
    assert "set data.reference" not in line


def test_expectations_without_great_expectations_says_what_to_install(project: Path):
    # A child whose sitecustomize puts None in sys.modules: importlib.util.find_spec
    # returns None and import raises, as when the package is not installed.
    blocker = project / "no_gx"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        'import sys\nsys.modules["great_expectations"] = None\n', encoding="utf-8"
    )
    (project / "suite.json").write_text('{"name": "s", "expectations": []}', encoding="utf-8")
    write_config(project, CONFIG + 'expectations = "suite.json"\n')
    path = os.pathsep.join(p for p in (str(blocker), os.environ.get("PYTHONPATH")) if p)
    done = mlgates("run", cwd=project, env={**os.environ, "PYTHONPATH": path})
    assert_usage_error(done, project, "data.expectations", "pip install 'mlgates[gx]'")


@pytest.mark.parametrize(
    ("settings", "args", "fragments"),
    [
        pytest.param(
            'report = "report_dir"',
            [],
            ("mlgates.report", "report_dir", "not a regular file"),
            id="config-directory",
        ),
        pytest.param(
            'report = "current.csv"',
            [],
            ("mlgates.report", "current.csv", "is an input"),
            id="config-input",
        ),
        pytest.param(
            "", ["--report", "report_dir"], ("report_dir", "not a regular file"), id="option-dir"
        ),
        pytest.param(
            "", ["--json", "reference.csv"], ("--json", "reference.csv", "is an input"), id="json"
        ),
        pytest.param(
            "",
            ["--report", "current.csv"],
            ("--report", "current.csv", "is an input"),
            id="option-input",
        ),
    ],
)
def test_unwritable_report_exits_2_and_records_nothing(project: Path, settings, args, fragments):
    (project / "report_dir").mkdir()
    write_config(project, config(settings))
    before = {name: (project / name).read_bytes() for name in ("current.csv", "reference.csv")}
    done = mlgates("run", *args, cwd=project)
    assert_usage_error(done, project, *fragments)
    assert not (project / HISTORY).exists()
    assert all((project / name).read_bytes() == data for name, data in before.items())


def test_bins_out_of_range_in_the_config(project: Path):
    write_config(project, CONFIG + "bins = 100000000\n")
    done = mlgates("run", cwd=project)
    assert_usage_error(done, project, "data.bins", "100000000", "at most 1000")


def test_bins_out_of_range_on_the_command_line(project: Path):
    done = mlgates("profile", "reference.csv", "--bins", "100000000", "-o", "p.json", cwd=project)
    assert_usage_error(done, project, "--bins", "100000000")
    assert not (project / "p.json").exists()


@pytest.mark.parametrize(
    ("threshold", "code", "fragment"),
    [
        pytest.param("acuracy >= 0.8", 2, "unknown metric 'acuracy'", id="unknown-metric"),
        pytest.param("data::drift_share <= 0.1", 0, None, id="stage-prefix"),
        pytest.param(
            "perf::accuracy >= 0.8",
            2,
            "unknown stage 'perf'",
            id="unknown-stage",
        ),
    ],
)
def test_threshold_option(project: Path, threshold: str, code: int, fragment):
    write_config(project, CONFIG)
    done = mlgates("run", "-v", "--threshold", threshold, cwd=project)
    if code == 2:
        assert_usage_error(done, project, "--threshold", fragment)
    else:
        assert done.returncode == 0, done.stdout + done.stderr
        assert "data::drift_share" in done.stdout and "<= 0.1" in done.stdout


def test_json_option_prints_where_it_wrote(project: Path):
    write_config(project, CONFIG)
    done = mlgates("run", "--json", "out/run.json", cwd=project)
    assert done.returncode == 0, done.stderr
    written = project / "out" / "run.json"
    assert f"json: {written}" in done.stdout.splitlines()
    assert json.loads(written.read_text(encoding="utf-8"))["blocked"] is False


# --- 17, 18: the terminal ------------------------------------------------------------


def _escape_column(project: Path) -> None:
    """Rename bmi to a name holding an ANSI escape and shift it, so its drift check fails."""
    import pandas as pd

    name = f"a{ESC}[31mred"
    spread = pd.read_csv(project / "reference.csv")["bmi"].std()

    def rename(frame):
        return frame.rename(columns={"bmi": name})

    def rename_and_shift(frame):
        frame = rename(frame)
        frame[name] = frame[name] + 5 * spread
        return frame

    rewrite_csv(project / "reference.csv", rename)
    rewrite_csv(project / "current.csv", rename_and_shift)


@pytest.mark.parametrize(
    ("prepare", "text", "code", "shown"),
    [
        pytest.param(
            _escape_column,
            CONFIG,
            1,
            True,
            id="column-in-the-table",
        ),
        pytest.param(
            None,
            CONFIG + '[data.columns."zz\\u001b[2J"]\nchecks = ["drift <= 0.2"]\n',
            2,
            True,
            id="column-in-an-error",
        ),
        pytest.param(
            None,
            CONFIG.replace(
                '"row_count >= 100"', '{check = "row_count >= 1000", reason = "ops \\u001b[2J"}'
            ),
            1,
            False,
            id="reason-of-a-failing-check",
        ),
    ],
)
def test_control_characters_are_escaped_on_the_terminal(project: Path, prepare, text, code, shown):
    if prepare is not None:
        prepare(project)
    write_config(project, text)
    done = mlgates("run", cwd=project)
    assert done.returncode == code, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    output = done.stdout + done.stderr
    assert ESC not in output
    assert ("\\x1b" in output) is shown, output


CRASH = (
    "import sys, mlgates.cli as cli, mlgates.session as session\n"
    "session.GateSession.run = lambda self: 1 / 0\n"
    "sys.exit(cli.main(sys.argv[1:]))\n"
)


def test_internal_error_exits_3_in_one_line_and_records_nothing(project: Path):
    write_config(project, CONFIG)
    done = python(CRASH, "run", cwd=project)
    assert done.returncode == 3, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("mlgates: internal error: ZeroDivisionError")
    assert "-v" in lines[0]
    assert history_lines(project) == 0 and not (project / REPORT).exists()

    verbose = python(CRASH, "run", "-v", cwd=project)
    assert verbose.returncode == 3
    assert "Traceback (most recent call last)" in verbose.stderr
    assert (
        verbose.stderr.rstrip()
        .splitlines()[-1]
        .startswith("mlgates: internal error: ZeroDivisionError")
    )
    assert history_lines(project) == 0
