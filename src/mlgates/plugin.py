"""The pytest adapter: ``pytest --mlgates`` collects the config file, one item per check.

Without ``--mlgates`` this module registers options and nothing else: no heavy
import, no collection. Each stage runs once per process, the first time one of
its items runs; the controller process (also under pytest-xdist) appends the
run record to the history and writes the report at the end of the session.
"""

from __future__ import annotations

import warnings
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mlgates.config import Config
    from mlgates.context import Context
    from mlgates.core import CheckResult, GateResult
    from mlgates.stages import PlannedCheck

_SESSION_KEY = "mlgates-session"


class MlgatesWarning(UserWarning):
    """A check that warns: severity ``warn``, or inconclusive under ``on_inconclusive = "warn"``."""


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``--mlgates`` options."""
    group = parser.getgroup("mlgates", "mlgates validation gates")
    group.addoption("--mlgates", action="store_true", help="collect mlgates.toml and run its gates")
    group.addoption(
        "--mlgates-config",
        metavar="PATH",
        help="the config file (default: mlgates.toml in the invocation directory)",
    )
    group.addoption(
        "--mlgates-stage",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this stage (repeatable)",
    )
    group.addoption("--mlgates-profile", metavar="NAME", help="apply [profile.NAME]")
    group.addoption(
        "--mlgates-threshold",
        action="append",
        default=[],
        metavar="CHECK",
        help='add or replace a check, e.g. "drift_share <= 0.1"',
    )
    group.addoption("--mlgates-report", metavar="PATH", help="write the HTML report here")
    group.addoption(
        "--mlgates-no-history",
        action="store_true",
        help="do not append this run to the validation history",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the session object when ``--mlgates`` is on."""
    if config.getoption("mlgates"):
        config.pluginmanager.register(MlgatesSession(config), _SESSION_KEY)


class MlgatesSession:
    """State of one pytest session: configs, per-stage results and reported outcomes."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.explicit: set[Path] = set()
        option = config.getoption("mlgates_config")
        invocation = Path(config.invocation_params.dir)
        target = Path(option) if option else invocation / "mlgates.toml"
        if not target.is_absolute():
            target = invocation / target
        if option or target.is_file():
            self.explicit.add(target.resolve())
            if str(target) not in config.args:
                config.args.append(str(target))
        self._loaded: dict[Path, tuple[Config, Context]] = {}
        self._gates: dict[tuple[Path, str], GateResult] = {}
        self._outcomes: dict[str, list[dict[str, Any]]] = {}
        self._started: str | None = None
        self._lines: list[str] = []

    # -- collection ------------------------------------------------------------------

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> pytest.File | None:
        """Collect ``mlgates.toml`` files and the config named by ``--mlgates-config``."""
        if file_path.name == "mlgates.toml" or file_path.resolve() in self.explicit:
            return MlgatesFile.from_parent(parent, path=file_path)
        return None

    def load(self, path: Path) -> tuple[Config, Context]:
        """The config at ``path`` with the command-line options applied, and its context."""
        path = path.resolve()
        if path not in self._loaded:
            from mlgates.config import load_config
            from mlgates.runner import new_context

            loaded = load_config(path, profile=self.config.getoption("mlgates_profile"))
            stages = self.config.getoption("mlgates_stage")
            if stages:
                loaded = loaded.with_stages(stages)
            thresholds = self.config.getoption("mlgates_threshold")
            if thresholds:
                loaded = loaded.with_thresholds(thresholds)
            self._loaded[path] = (loaded, new_context(loaded))
        return self._loaded[path]

    # -- running ---------------------------------------------------------------------

    def gate(self, path: Path, stage: str, plan: list[PlannedCheck]) -> GateResult:
        """The result of ``stage`` of the config at ``path``, run once per process."""
        key = (path.resolve(), stage)
        if key not in self._gates:
            from mlgates.runner import run_stage, utc_now

            self._started = self._started or utc_now()
            loaded, context = self.load(path)
            history = _read_history(loaded)
            self._gates[key] = run_stage(loaded, context, stage, plan, history=history)
        return self._gates[key]

    def files(self, path: Path) -> dict[str, str]:
        """Hashes of the files read for the config at ``path`` so far."""
        loaded, context = self.load(path)
        return {context.display(loaded.path): context.file_hash(loaded.path), **context.files}

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """Attach the check's result to the report, so it reaches the controller under xdist."""
        report = yield
        if call.when != "call" or not isinstance(item, CheckItem) or item.result is None:
            return report
        # Extra report attributes travel with the report from xdist workers.
        report.__dict__.update(
            mlgates_result=item.result.to_dict(),
            mlgates_config=str(item.config_path),
            mlgates_files=self.files(item.config_path),
        )
        return report

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """The run starts with the session, in the controller too."""
        from mlgates.runner import utc_now

        self._started = utc_now()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Keep every reported check result (from this process or an xdist worker)."""
        result = getattr(report, "mlgates_result", None)
        if report.when == "call" and result is not None:
            entry = {"result": result, "files": getattr(report, "mlgates_files", {})}
            self._outcomes.setdefault(report.mlgates_config, []).append(entry)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Record the run in the history and write the report (controller process only)."""
        if hasattr(self.config, "workerinput") or not self._outcomes:
            return
        from mlgates.core import MlgatesError

        for config_path, entries in self._outcomes.items():
            try:
                self._record(Path(config_path), entries)
            except (MlgatesError, OSError) as exc:
                self._lines.append(f"mlgates: could not record the run: {exc}")
                session.exitstatus = pytest.ExitCode.INTERNAL_ERROR

    def _record(self, path: Path, entries: list[dict[str, Any]]) -> None:
        import uuid

        from mlgates.core import CheckResult, GateResult, RunRecord
        from mlgates.provenance import git_info, mlgates_version
        from mlgates.runner import utc_now
        from mlgates.session import publish

        loaded, context = self.load(path)
        by_stage: dict[str, list[CheckResult]] = {}
        files: dict[str, str] = {}
        for entry in entries:
            result = CheckResult.from_dict(entry["result"])
            by_stage.setdefault(result.stage, []).append(result)
            files.update(entry["files"])
        order = list(loaded.stages)
        gates = tuple(
            GateResult(stage=stage, checks=tuple(by_stage[stage]))
            for stage in sorted(by_stage, key=lambda s: order.index(s) if s in order else 99)
        )
        started = self._started or utc_now()
        record = RunRecord(
            run_id=uuid.uuid4().hex,
            started_at=started,
            finished_at=utc_now(),
            gates=gates,
            mlgates_version=mlgates_version(),
            config_path=str(path.name),
            config_hash=loaded.config_hash,
            profile=loaded.profile,
            on_inconclusive=loaded.on_inconclusive,
            git=git_info(loaded.root),
            files=files,
            source="pytest",
            partial=self._partial(loaded, context, gates),
        )
        report_option = self.config.getoption("mlgates_report")
        report = Path(report_option).resolve() if report_option else None
        earlier = _read_history(loaded)
        outputs = publish(
            loaded,
            record,
            earlier=earlier,
            write_history=not self.config.getoption("mlgates_no_history"),
            report=report,
        )
        verdict = "blocked" if record.blocked else "passed"
        self._lines.append(f"mlgates: {verdict}: {len(record.checks)} checks from {path.name}")
        if outputs.report is not None:
            self._lines.append(f"mlgates: report {outputs.report}")
        if outputs.history is not None:
            self._lines.append(f"mlgates: history {outputs.history}")

    def _partial(self, loaded: Config, context: Context, gates: tuple[GateResult, ...]) -> bool:
        """Whether this session judged fewer checks than the config plans (-k, -x, --stage)."""
        from mlgates.runner import plan_gates

        planned = {check.id for plan in plan_gates(loaded, context).values() for check in plan}
        judged = {check.id for gate in gates for check in gate.checks}
        options = self.config.getoption("mlgates_stage") or loaded.overrides
        return bool(options) or judged != planned

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """Say where the report and history went."""
        for line in self._lines:
            terminalreporter.write_line(line)


def _read_history(config: Config) -> list[Any]:
    from mlgates.session import history_store

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return history_store(config).records()


def _session(config: pytest.Config) -> MlgatesSession:
    plugin = config.pluginmanager.get_plugin(_SESSION_KEY)
    assert isinstance(plugin, MlgatesSession)
    return plugin


class MlgatesFile(pytest.File):
    """A config file: one collector per stage."""

    def collect(self) -> Iterator[pytest.Collector]:
        from mlgates.core import MlgatesError
        from mlgates.runner import plan_gates

        session = _session(self.config)
        try:
            loaded, context = session.load(self.path)
            plans = plan_gates(loaded, context)
        except MlgatesError as exc:
            raise self.CollectError(f"mlgates: {exc}") from None
        for stage, plan in plans.items():
            yield GateCollector.from_parent(self, name=stage, plan=plan)


class GateCollector(pytest.Collector):
    """One stage of a config: one item per planned check."""

    def __init__(self, *, plan: list[PlannedCheck], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan = plan

    def collect(self) -> Iterator[pytest.Item]:
        for check in self.plan:
            name = check.metric + (f"[{check.selector}]" if check.selector else "")
            yield CheckItem.from_parent(self, name=name, check=check)


class CheckFailed(Exception):
    """A blocking check; shown as its message, without a traceback."""

    def __init__(self, result: CheckResult) -> None:
        super().__init__(result.message)
        self.result = result


class CheckItem(pytest.Item):
    """One check: passes, skips, warns or fails with the check's own message."""

    def __init__(self, *, check: PlannedCheck, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check
        self.result: CheckResult | None = None
        assert self.parent is not None and self.parent.parent is not None
        self.config_path = Path(self.parent.parent.path)

    def runtest(self) -> None:
        """Run (or reuse) the stage and report this check's verdict."""
        from mlgates.core import Status

        assert self.parent is not None
        gate = _session(self.config).gate(self.config_path, self.check.stage, self.parent.plan)  # type: ignore[attr-defined]
        result = next(c for c in gate.checks if c.id == self.check.id)
        self.result = result
        for name in ("status", "value", "bound", "method", "threshold"):
            value = getattr(result, name)
            if value is not None:
                shown = value.value if isinstance(value, Status) else value
                self.user_properties.append((f"mlgates.{name}", shown))
        if result.blocking:
            raise CheckFailed(result)
        if result.status is Status.SKIPPED:
            pytest.skip(result.message)
        if result.status is not Status.PASS:
            # Shown in pytest's warning summary, never turned into an error by
            # `-W error`/`filterwarnings = error`: a non-blocking check passes.
            with warnings.catch_warnings():
                warnings.simplefilter("always", MlgatesWarning)
                warnings.warn(
                    MlgatesWarning(f"{result.id}: {result.status.value}: {result.message}"),
                    stacklevel=1,
                )

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        """The check's message instead of a traceback."""
        if isinstance(excinfo.value, CheckFailed):
            result = excinfo.value.result
            lines = [f"{result.status.value.upper()} {result.id}: {result.message}"]
            facts = [
                f"{name} {value}"
                for name, value in (
                    ("value", _short(result.value)),
                    ("bound", _short(result.bound)),
                    ("method", result.method),
                    ("threshold", result.threshold),
                    ("reason", result.reason),
                )
                if value is not None
            ]
            if facts:
                lines.append("  " + ", ".join(facts))
            return "\n".join(lines)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the check comes from, as pytest shows it."""
        return self.path, None, f"mlgates {self.check.id}"


def _short(value: float | None) -> str | None:
    return None if value is None else f"{value:.6g}"
