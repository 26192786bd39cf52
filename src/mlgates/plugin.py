"""The pytest adapter: ``pytest --mlgates`` collects the config file, one item per check.

Without ``--mlgates`` this module registers options and nothing else: no heavy
import, no collection. The config collected is ``mlgates.toml`` (or a
``pyproject.toml`` with ``[tool.mlgates]``) in the rootdir, the file named by
``--mlgates-config``, or a ``.toml`` file given as an argument. Each stage runs
once per process, the first time one of its items runs; that item's report
carries the whole gate result to the controller (also under pytest-xdist), where
:class:`~mlgates.session.GateSession` records the run and writes the outputs.

Checks a stage discovers while measuring (slices, groups, packages) have no
item of their own: they belong to their family's item (``metric[*]``), which
fails when one of them blocks and names them in its message; they are recorded
in the history and shown in the report like every other check.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from mlgates.options import PYTEST_OPTIONS
from mlgates.text import printable

if TYPE_CHECKING:
    from mlgates.authoring import PlannedCheck
    from mlgates.core import GateResult
    from mlgates.session import GateSession

_PLUGIN_KEY = "mlgates-session"


class MlgatesWarning(UserWarning):
    """A check that warns: severity ``warn``, or inconclusive under ``on_inconclusive = "warn"``."""


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register ``--mlgates`` and the run options shared with the CLI."""
    group = parser.getgroup("mlgates", "mlgates validation gates")
    group.addoption(
        "--mlgates", action="store_true", help="collect the mlgates config and run its gates"
    )
    for option in PYTEST_OPTIONS:
        group.addoption(option.pytest_flag, dest=option.pytest_dest, **option.arguments())


def pytest_configure(config: pytest.Config) -> None:
    """Register the session object when ``--mlgates`` is on."""
    if config.getoption("mlgates"):
        config.pluginmanager.register(MlgatesPlugin(config), _PLUGIN_KEY)


class _Outcome:
    """What the controller gathered for one config: gate results, judged ids, files."""

    def __init__(self) -> None:
        self.gates: dict[str, dict[str, Any]] = {}
        self.judged: set[str] = set()
        self.files: dict[str, str] = {}
        self.input_error: str | None = None


class MlgatesPlugin:
    """State of one pytest session: the configs collected, gate results and outcomes."""

    def __init__(self, config: pytest.Config) -> None:
        from mlgates.options import RunOptions

        self.config = config
        self.options = RunOptions.from_values(
            lambda o: None if o.cli_only else config.getoption(o.pytest_dest)
        )
        self.targets = self._targets(config)
        self._sessions: dict[Path, GateSession] = {}
        self._gates: dict[tuple[Path, str], GateResult] = {}
        self._failures: dict[tuple[Path, str], Exception] = {}
        self._shipped: set[tuple[Path, str]] = set()
        self._outcomes: dict[str, _Outcome] = {}
        self._lines: list[str] = []

    def _targets(self, config: pytest.Config) -> set[Path]:
        invocation = Path(config.invocation_params.dir)
        given = [
            (invocation / arg.split("::")[0]).absolute()
            for arg in config.args
            if arg.split("::")[0].endswith(".toml")
        ]
        if given:
            return {path for path in given if path.is_file()}
        if self.options.config is not None:
            target = (invocation / self.options.config).absolute()
        else:
            target = self._default_config(config.rootpath)
        if str(target) not in config.args:
            config.args.append(str(target))
        return {target}

    @staticmethod
    def _default_config(root: Path) -> Path:
        from mlgates.config import find_config
        from mlgates.core import MlgatesError

        try:
            return find_config(root)
        except MlgatesError as exc:
            raise pytest.UsageError(f"mlgates: {_shown(str(exc))}") from None

    # -- collection ------------------------------------------------------------------

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> pytest.File | None:
        """Collect the configured file only (never every mlgates.toml below the rootdir)."""
        if file_path.absolute() in self.targets:
            return MlgatesFile.from_parent(parent, path=file_path)
        return None

    def session_for(self, path: Path) -> GateSession:
        """The run session of the config at ``path`` (loaded once)."""
        from mlgates.session import GateSession

        path = path.absolute()
        if path not in self._sessions:
            options = dataclasses.replace(self.options, config=path)
            self._sessions[path] = GateSession(options, source="pytest")
        return self._sessions[path]

    # -- running ---------------------------------------------------------------------

    def gate(self, path: Path, stage: str) -> GateResult:
        """The result of ``stage`` of the config at ``path``, run once per process.

        An input that cannot be read fails every item of the stage with the same
        message, and is read only once.
        """
        from mlgates.core import MlgatesError

        key = (path.absolute(), stage)
        if key in self._failures:
            raise self._failures[key]
        if key not in self._gates:
            try:
                self._gates[key] = self.session_for(path).run_stage(stage)
            except MlgatesError as exc:
                self._failures[key] = exc
                raise
        return self._gates[key]

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """Attach the check (and, once per stage and process, its gate) to the report."""
        report = yield
        if call.when != "call" or not isinstance(item, CheckItem):
            return report
        extra: dict[str, Any] = {
            "mlgates_config": str(item.config_path),
            "mlgates_check": item.check.id,
        }
        key = (item.config_path.absolute(), item.check.stage)
        if key in self._failures:
            extra["mlgates_input_error"] = str(self._failures[key])
        if key in self._gates and key not in self._shipped:
            self._shipped.add(key)
            extra["mlgates_gate"] = self._gates[key].to_dict()
            extra["mlgates_files"] = self.session_for(item.config_path).context.files
        report.__dict__.update(extra)  # extra report attributes travel from xdist workers
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Gather every reported check (from this process or an xdist worker)."""
        path = getattr(report, "mlgates_config", None)
        if report.when != "call" or path is None:
            return
        outcome = self._outcomes.setdefault(path, _Outcome())
        outcome.judged.add(report.mlgates_check)
        outcome.input_error = getattr(report, "mlgates_input_error", None) or outcome.input_error
        gate = getattr(report, "mlgates_gate", None)
        if gate is not None:
            outcome.gates.setdefault(gate["stage"], gate)
            outcome.files.update(getattr(report, "mlgates_files", {}))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Record the run and write the outputs (controller process only)."""
        if hasattr(self.config, "workerinput"):
            return
        from mlgates.core import MlgatesError

        for path, outcome in self._outcomes.items():
            if outcome.input_error is not None:
                self._lines.append(f"mlgates: nothing recorded: {_shown(outcome.input_error)}")
                session.exitstatus = pytest.ExitCode.USAGE_ERROR
                continue
            try:
                self._record(Path(path), outcome)
            except MlgatesError as exc:
                self._lines.append(f"mlgates: nothing recorded: {_shown(str(exc))}")
                session.exitstatus = pytest.ExitCode.USAGE_ERROR

    def _record(self, path: Path, outcome: _Outcome) -> None:
        from mlgates.core import GateResult

        run = self.session_for(path)
        order = list(run.plan())
        gates = [
            GateResult.from_dict(outcome.gates[stage]) for stage in order if stage in outcome.gates
        ]
        record = run.record(gates, judged=outcome.judged, files=outcome.files)
        outputs = run.publish(record)
        verdict = "blocked" if record.blocked else "passed"
        scope = " (partial run)" if record.partial else ""
        self._lines.append(
            f"mlgates: {verdict}: {len(record.checks)} checks from {path.name}{scope}"
        )
        self._lines.extend(
            f"mlgates: {label} {_shown(where)}" for label, where in outputs.written()
        )

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """Say where the report and history went."""
        for line in self._lines:
            terminalreporter.write_line(line)


def _plugin(config: pytest.Config) -> MlgatesPlugin:
    plugin = config.pluginmanager.get_plugin(_PLUGIN_KEY)
    assert isinstance(plugin, MlgatesPlugin)
    return plugin


class MlgatesFile(pytest.File):
    """A config file: one collector per stage."""

    def collect(self) -> Iterator[pytest.Collector]:
        from mlgates.core import MlgatesError

        try:
            plans = _plugin(self.config).session_for(self.path).plan()
        except MlgatesError as exc:
            raise self.CollectError(f"mlgates: {_shown(str(exc))}") from None
        for stage, plan in plans.items():
            yield GateCollector.from_parent(self, name=stage, plan=plan)


class GateCollector(pytest.Collector):
    """One stage of a config: one item per planned check."""

    def __init__(self, *, plan: list[PlannedCheck], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan = plan

    def collect(self) -> Iterator[pytest.Item]:
        for check in self.plan:
            name = printable(check.id.partition("::")[2], keep_newlines=False)
            yield CheckItem.from_parent(self, name=name, check=check)


class CheckFailed(Exception):
    """A blocking check, or a stage that could not read its inputs; shown without a traceback."""

    def __init__(self, text: str) -> None:
        super().__init__(text)


class CheckItem(pytest.Item):
    """One check: passes, skips, warns or fails with the check's own message."""

    def __init__(self, *, check: PlannedCheck, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check
        assert self.parent is not None and self.parent.parent is not None
        self.config_path = Path(self.parent.parent.path)

    def runtest(self) -> None:
        """Run (or reuse) the stage and report this check's verdict."""
        from mlgates.core import MlgatesError, Status

        try:
            gate = _plugin(self.config).gate(self.config_path, self.check.stage)
        except MlgatesError as exc:
            raise CheckFailed(f"mlgates: nothing judged: {_shown(str(exc))}") from None
        result = next(c for c in gate.checks if c.id == self.check.id)
        from mlgates.report.junit import junit_properties

        self.user_properties.extend(junit_properties(result))
        if result.blocking:
            raise CheckFailed(_shown(result.explained()))
        if result.status is Status.SKIPPED:
            pytest.skip(result.message)
        if result.status is not Status.PASS:
            # Shown in pytest's warning summary, never turned into an error by
            # `-W error`/`filterwarnings = error`: a non-blocking check passes.
            with warnings.catch_warnings():
                warnings.simplefilter("always", MlgatesWarning)
                warnings.warn(
                    MlgatesWarning(_shown(f"{result.id}: {result.status.value}: {result.message}")),
                    stacklevel=1,
                )

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        """The check's message instead of a traceback."""
        if isinstance(excinfo.value, CheckFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the check comes from, as pytest shows it."""
        line = self.check.origin.line if self.check.origin is not None else None
        return self.path, None if line is None else line - 1, f"mlgates {self.check.id}"


def _shown(text: str) -> str:
    """``text`` for the terminal: control characters escaped, CLI flags in pytest spelling."""
    for option in PYTEST_OPTIONS:
        text = re.sub(rf"(?<![\w-]){re.escape(option.flags[0])}\b", option.pytest_flag, text)
    return printable(text)
