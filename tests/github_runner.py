"""A small stand-in for the GitHub Actions runner, enough to run a composite action.

It reads ``action.yml``, evaluates each step's ``if:`` and ``${{ … }}``
expressions the way the runner does (contexts ``inputs``, ``steps``,
``github``, ``runner``; ``==``/``!=`` with GitHub's type coercion, ``&&``, ``||``,
``!``, ``always()``/``success()``/``failure()``), runs every ``run:`` step with
bash and the environment files (``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY``),
and stands in for the few third-party actions the mlgates action uses.
Workflow commands in a step's output are parsed as the runner parses them,
``::stop-commands::`` included, so tests see exactly the annotations GitHub would.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


# -- expressions -----------------------------------------------------------------------


_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)|"
    r"(?P<op>==|!=|&&|\|\||<=|>=|[!()<>,])|(?P<name>[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\.\*)*))"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ValueError(f"cannot parse expression at {text[position:]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    if text == "":
        return 0.0
    try:
        return float(text)
    except ValueError:
        return math.nan


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()
    if type(left) is type(right) and not isinstance(left, (int, float)):
        return left == right
    a, b = _number(left), _number(right)
    return not (math.isnan(a) or math.isnan(b)) and a == b


def truthy(value: Any) -> bool:
    """GitHub's truthiness: false, 0, '', null and NaN are false."""
    if isinstance(value, float) and math.isnan(value):
        return False
    return bool(value) if not isinstance(value, str) else value != ""


class _Parser:
    def __init__(self, text: str, lookup: Any, status: dict[str, bool]) -> None:
        self.tokens = _tokens(text)
        self.position = 0
        self.lookup = lookup
        self.status = status

    def parse(self) -> Any:
        value = self._or()
        if self.position != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.position]}")
        return value

    def _peek(self) -> str | None:
        return self.tokens[self.position][1] if self.position < len(self.tokens) else None

    def _or(self) -> Any:
        value = self._and()
        while self._peek() == "||":
            self.position += 1
            right = self._and()
            value = value if truthy(value) else right
        return value

    def _and(self) -> Any:
        value = self._comparison()
        while self._peek() == "&&":
            self.position += 1
            right = self._comparison()
            value = right if truthy(value) else value
        return value

    def _comparison(self) -> Any:
        value = self._unary()
        while self._peek() in ("==", "!=", "<", ">", "<=", ">="):
            operator = self.tokens[self.position][1]
            self.position += 1
            right = self._unary()
            if operator in ("==", "!="):
                value = _equal(value, right) == (operator == "==")
            else:
                a, b = _number(value), _number(right)
                value = {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[operator]
        return value

    def _unary(self) -> Any:
        if self._peek() == "!":
            self.position += 1
            return not truthy(self._unary())
        return self._primary()

    def _primary(self) -> Any:
        kind, text = self.tokens[self.position]
        self.position += 1
        if text == "(":
            value = self._or()
            self.position += 1  # ")"
            return value
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "number":
            return float(text)
        if text in ("true", "false"):
            return text == "true"
        if text == "null":
            return None
        if self._peek() == "(":
            self.position += 2  # "(" ")": the status functions take no argument
            return self.status[text]
        return self.lookup(text)


def evaluate(text: str, contexts: dict[str, Any], status: dict[str, bool]) -> Any:
    """The value of one expression (without ``${{ }}``)."""

    def lookup(path: str) -> Any:
        value: Any = contexts
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    return _Parser(text, lookup, status).parse()


def interpolate(text: str, contexts: dict[str, Any], status: dict[str, bool]) -> str:
    """``text`` with every ``${{ expression }}`` replaced by its value as a string."""

    def replace(match: re.Match[str]) -> str:
        value = evaluate(match.group(1), contexts, status)
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    return re.sub(r"\$\{\{(.*?)\}\}", replace, text, flags=re.S)


# -- workflow commands and environment files ---------------------------------------------


@dataclass(frozen=True)
class Command:
    """A workflow command as the runner parsed it from a step's output."""

    name: str
    properties: dict[str, str]
    message: str


def _unescape(text: str, *, property_value: bool) -> str:
    pairs = [("%0D", "\r"), ("%0A", "\n")]
    if property_value:
        pairs += [("%3A", ":"), ("%2C", ",")]
    for code, char in pairs:
        text = text.replace(code, char)
    return text.replace("%25", "%")


def parse_commands(output: str) -> list[Command]:
    """The workflow commands in ``output``, honouring ``::stop-commands::``."""
    commands: list[Command] = []
    stopped_until: str | None = None
    for line in output.splitlines():
        if stopped_until is not None:
            if line.strip() == f"::{stopped_until}::":
                stopped_until = None
            continue
        match = re.match(r"^::([\w-]+)(?: ([^:]*))?::(.*)$", line)
        if match is None:
            continue
        name, raw_properties, message = match.groups()
        if name == "stop-commands":
            stopped_until = message
            continue
        properties = {}
        for item in (raw_properties or "").split(","):
            if "=" in item:
                key, _, value = item.partition("=")
                properties[key.strip()] = _unescape(value, property_value=True)
        commands.append(Command(name, properties, _unescape(message, property_value=False)))
    return commands


def read_outputs(path: Path) -> dict[str, str]:
    """Step outputs from a ``GITHUB_OUTPUT`` file: ``name=value`` and heredoc forms."""
    outputs: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    index = 0
    while index < len(lines):
        line = lines[index]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, _, delimiter = line.partition("<<")
            end = lines.index(delimiter, index + 1)
            outputs[name] = "\n".join(lines[index + 1 : end])
            index = end + 1
            continue
        if "=" in line:
            name, _, value = line.partition("=")
            outputs[name] = value
        index += 1
    return outputs


# -- the runner ---------------------------------------------------------------------------


@dataclass
class StepRun:
    """What one step of the action did."""

    id: str
    name: str
    ran: bool
    outcome: str = "skipped"
    returncode: int | None = None
    output: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    uses: str | None = None

    @property
    def commands(self) -> list[Command]:
        return parse_commands(self.output)


@dataclass
class ActionRun:
    """A finished run of the composite action."""

    steps: list[StepRun]
    outputs: dict[str, str]
    summary: str
    artifacts: Path

    @property
    def failed(self) -> bool:
        return any(step.outcome == "failure" for step in self.steps)

    def step(self, name: str) -> StepRun:
        return next(s for s in self.steps if s.id == name or s.name == name)

    @property
    def annotations(self) -> list[Command]:
        return [
            c
            for step in self.steps
            for c in step.commands
            if c.name in ("error", "warning", "notice")
        ]


@dataclass
class SimulatedRunner:
    """Runs a composite action in ``workspace`` as a GitHub-hosted runner would."""

    workspace: Path
    temp: Path
    event_name: str = "push"
    event: dict[str, Any] = field(default_factory=dict)
    repository: str = "octo/models"
    env: dict[str, str] = field(default_factory=dict)
    python: str = sys.executable

    def run(self, action: Path, inputs: dict[str, str]) -> ActionRun:
        """Run ``action/action.yml`` with ``inputs``; every step, as the runner would."""
        spec = yaml.safe_load((action / "action.yml").read_text(encoding="utf-8"))
        assert spec["runs"]["using"] == "composite"
        self.temp.mkdir(parents=True, exist_ok=True)
        event_path = self.temp / "event.json"
        event_path.write_text(json.dumps(self.event), encoding="utf-8")
        summary_path = self.temp / "step_summary.md"
        summary_path.write_text("", encoding="utf-8")
        artifacts = self.temp / "artifacts"
        github = {
            "event_name": self.event_name,
            "event": self.event,
            "action_path": str(action),
            "token": "ghs_simulatedtoken0123456789",
            "workspace": str(self.workspace),
            "repository": self.repository,
        }
        contexts: dict[str, Any] = {
            "github": github,
            "runner": {"temp": str(self.temp), "os": "Linux"},
            "steps": {},
        }
        status = {"always": True, "success": True, "failure": False, "cancelled": False}
        values = {}
        for name, declared in spec.get("inputs", {}).items():
            default = str(declared.get("default", ""))
            values[name] = inputs.get(name, interpolate(default, contexts, status))
        unknown = set(inputs) - set(values)
        assert not unknown, f"inputs the action does not declare: {unknown}"
        contexts["inputs"] = values
        base_env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", str(self.temp)),
            "LANG": "C.UTF-8",
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": self.event_name,
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_REPOSITORY": self.repository,
            "GITHUB_SERVER_URL": "https://github.example",
            "GITHUB_API_URL": "https://api.github.example",
            "GITHUB_RUN_ID": "4242",
            "GITHUB_ACTION_PATH": str(action),
            "GITHUB_STEP_SUMMARY": str(summary_path),
            "RUNNER_TEMP": str(self.temp),
            "RUNNER_OS": "Linux",
            **self.env,
        }
        runs: list[StepRun] = []
        for index, step in enumerate(spec["runs"]["steps"]):
            step_id = step.get("id", f"__step{index}")
            condition = str(step.get("if", "success()")).strip()
            condition = condition.removeprefix("${{").removesuffix("}}")
            failed = any(r.outcome == "failure" for r in runs)
            status.update(success=not failed, failure=failed)
            run = StepRun(id=step_id, name=step.get("name", step_id), ran=False)
            runs.append(run)
            if "always()" not in condition and "failure()" not in condition and failed:
                condition = f"({condition}) && success()"
            if not truthy(evaluate(condition, contexts, status)):
                contexts["steps"][step_id] = {"outputs": {}, "outcome": "skipped"}
                continue
            run.ran = True
            if "uses" in step:
                run.uses = step["uses"]
                with_values = {
                    k: interpolate(str(v), contexts, status)
                    for k, v in (step.get("with") or {}).items()
                }
                run.outputs = self._uses(step["uses"], with_values, artifacts)
                run.outcome = "success"
            else:
                self._run(step, run, contexts, status, base_env)
            contexts["steps"][step_id] = {"outputs": run.outputs, "outcome": run.outcome}
        outputs = {
            name: interpolate(str(declared["value"]), contexts, status)
            for name, declared in spec.get("outputs", {}).items()
        }
        return ActionRun(runs, outputs, summary_path.read_text(encoding="utf-8"), artifacts)

    def _run(
        self,
        step: dict[str, Any],
        run: StepRun,
        contexts: dict[str, Any],
        status: dict[str, bool],
        base_env: dict[str, str],
    ) -> None:
        assert step.get("shell") == "bash", "composite run steps must name their shell"
        assert "${{" not in step["run"], "inputs reach scripts through env:, never the script"
        output_file = self.temp / f"output_{run.id}"
        output_file.write_text("", encoding="utf-8")
        env = {
            **base_env,
            **{
                k: interpolate(str(v), contexts, status) for k, v in (step.get("env") or {}).items()
            },
            "GITHUB_OUTPUT": str(output_file),
        }
        directory = self.workspace / interpolate(
            str(step.get("working-directory", ".")), contexts, status
        )
        script = self.temp / f"script_{run.id}.sh"
        script.write_text(step["run"], encoding="utf-8")
        # One stream, in the order written: the runner parses workflow commands on
        # both, so a command on either must be caught while commands are stopped.
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=directory,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=600,
            check=False,
        )
        run.returncode = done.returncode
        run.output = done.stdout
        run.outputs = read_outputs(output_file)
        run.outcome = "success" if done.returncode == 0 else "failure"

    def _uses(self, uses: str, inputs: dict[str, str], artifacts: Path) -> dict[str, str]:
        """Stand-ins for the third-party actions the mlgates action calls."""
        assert PINNED.match(uses.split(" ")[0]), f"{uses} is not pinned to a commit SHA"
        name = uses.split("@")[0]
        if name == "actions/setup-python":
            return {"python-path": self.python, "python-version": inputs["python-version"]}
        if name == "actions/cache/restore":
            assert inputs["key"] and inputs["path"]
            return {"cache-hit": "false"}
        if name == "actions/cache/save":
            assert inputs["key"] and inputs["path"]
            return {}
        if name == "actions/upload-artifact":
            target = artifacts / inputs["name"]
            assert not target.exists(), f"artifact {inputs['name']} uploaded twice"
            target.mkdir(parents=True)
            for line in inputs["path"].splitlines():
                source = Path(line.strip())
                if line.strip() and source.is_file():
                    shutil.copy(source, target / source.name)
            return {"artifact-id": "1", "artifact-url": "https://github.example/artifacts/1"}
        raise AssertionError(f"no stand-in for {uses}")
