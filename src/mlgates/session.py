"""One run from start to finish: config, plan, measure, judge, record, history, outputs.

The CLI and the pytest plugin go through :class:`GateSession`; they only
translate options. A run of a subset of the checks is *partial*
(:func:`mlgates.runner.is_partial`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgates.authoring import PlannedCheck
from mlgates.config import Config, load_config
from mlgates.core import ConfigError, GateResult, InputError, RunRecord, UsageError
from mlgates.history import HistoryStore, open_history, open_history_option
from mlgates.options import RunOptions
from mlgates.runner import build_record, is_partial, new_context, plan_gates, run_stage, utc_now


@dataclass(frozen=True)
class Outputs:
    """Where a recorded run was written."""

    history: str | None
    report: Path | None
    json: Path | None = None
    summary: Path | None = None
    junitxml: Path | None = None

    def written(self) -> list[tuple[str, str]]:
        """``(label, location)`` of every output written, for the adapters to show."""
        places = (
            ("report", self.report),
            ("json", self.json),
            ("summary", self.summary),
            ("junitxml", self.junitxml),
            ("history", self.history),
        )
        return [(label, str(where)) for label, where in places if where is not None]


class GateSession:
    """The lifecycle of one run of the gates.

    Loading the session loads and validates the config and checks that every
    output can be written without overwriting an input; nothing heavy happens
    until :meth:`plan` or :meth:`run_stage`.
    """

    def __init__(self, options: RunOptions, *, source: str) -> None:
        config = load_config(options.config, profile=options.profile)
        if options.stages:
            config = config.with_stages(options.stages)
        if options.thresholds:
            config = config.with_thresholds(options.thresholds)
        self.config: Config = config
        self.options = options
        self.source = source
        self.context = new_context(config)
        self.store: HistoryStore = _history_store(config, options.history)
        self.report_path = options.report.absolute() if options.report else config.report
        self.files: dict[str, Path] = {
            name: path.absolute()
            for name, path in (
                ("json", options.json),
                ("summary", options.summary),
                ("junitxml", options.junitxml),
            )
            if path is not None
        }
        self.started = utc_now()
        self._history: list[RunRecord] | None = None
        self._plans: dict[str, list[PlannedCheck]] | None = None
        self._check_outputs()

    # -- inputs ----------------------------------------------------------------------

    @property
    def history(self) -> list[RunRecord]:
        """The history as it was before this run (read once)."""
        if self._history is None:
            self._history = self.store.records()
        return self._history

    def plan(self) -> dict[str, list[PlannedCheck]]:
        """Every planned check by stage (cheap: file headers at most)."""
        if self._plans is None:
            self._plans = plan_gates(self.config, self.context)
        return self._plans

    def planned_ids(self) -> set[str]:
        """Ids of every planned check."""
        return {check.id for plan in self.plan().values() for check in plan}

    # -- running ---------------------------------------------------------------------

    def run_stage(self, name: str) -> GateResult:
        """Measure and judge one stage."""
        return run_stage(self.config, self.context, name, self.plan()[name], history=self.history)

    def run(self) -> RunRecord:
        """Run every stage and build the record (nothing written yet: see :meth:`publish`)."""
        self.history  # noqa: B018 - read before measuring, so a broken store stops the run early
        gates = [self.run_stage(name) for name in self.plan()]
        return self.record(gates)

    def record(
        self,
        gates: Sequence[GateResult],
        *,
        judged: Iterable[str] | None = None,
        files: Mapping[str, str] | None = None,
    ) -> RunRecord:
        """The run record of ``gates``.

        ``judged`` are the ids an adapter actually ran (pytest with ``-k`` or
        ``-x``): checks outside it are dropped, and the run is partial. ``files``
        adds hashes of files read in other processes (pytest-xdist workers).
        """
        planned = self.planned_ids()
        if judged is not None:
            keep = set(judged)
            gates = [
                dataclasses.replace(
                    gate,
                    checks=tuple(
                        c for c in gate.checks if c.id in keep or (c.family or "") in keep
                    ),
                )
                for gate in gates
            ]
            gates = [gate for gate in gates if gate.checks]
        judged_planned = {c.id for gate in gates for c in gate.checks if c.family is None}
        partial = is_partial(self.config, planned, judged_planned)
        record = build_record(
            self.config,
            self.context,
            gates,
            started=self.started,
            source=self.source,
            partial=partial,
        )
        if files:
            record = dataclasses.replace(record, files={**record.files, **files})
        return record

    # -- outputs ---------------------------------------------------------------------

    def publish(self, record: RunRecord) -> Outputs:
        """Write the report and the other outputs, then append to the history (last, so
        a failed output leaves no record). When one output cannot be written, those
        already written by this call are removed: no output describes a run that was
        not recorded."""
        from mlgates.report import render_html, render_junit, render_markdown

        report = self.report_path
        renderers = {
            "report": lambda: render_html(record, self.history),
            "json": lambda: json.dumps(record.to_dict(), indent=2, allow_nan=False),
            "summary": lambda: render_markdown(record),
            "junitxml": lambda: render_junit(record),
        }
        planned = {"report": report, **self.files} if report is not None else dict(self.files)
        written: list[Path] = []
        try:
            for name, path in planned.items():
                _write(path, renderers[name](), what="report" if name == "report" else f"--{name}")
                written.append(path)
        except InputError:
            for path in written:
                path.unlink(missing_ok=True)
            raise
        outputs = Outputs(history=None, report=report, **self.files)
        if self.options.no_history:
            return outputs
        try:
            self.store.append(record)
        except OSError as exc:
            raise InputError(
                f"cannot append to the history {self.store.location}: {exc.strerror or exc}"
            ) from None
        return dataclasses.replace(outputs, history=self.store.location)

    def _check_outputs(self) -> None:
        """Refuse an output that is a directory, a device, or one of the run's inputs."""
        inputs = {_resolved(self.config.path), *(_resolved(p) for p in _paths(self.config.stages))}
        from_command_line = {
            "report": self.options.report is not None,
            "history": self.options.history is not None,
        }
        history = self.store.path
        outputs: list[tuple[str, Path | None]] = [
            ("report", self.report_path),
            *self.files.items(),
            ("history", history),
        ]
        taken = {_resolved(Path(f"{history}.lock")): "history's lock file"}
        for name, path in outputs:
            if path is None:
                continue
            resolved = _resolved(path)
            problem = None
            if resolved in inputs:
                problem = f"{path} is an input of this run; write the {name} elsewhere"
            elif resolved in taken:
                problem = f"{path} is also the {taken[resolved]}; give each output its own file"
            elif path.exists() and not path.is_file():
                problem = f"{path} exists and is not a regular file; the {name} needs a file"
            elif (blocker := _not_a_directory(path.parent)) is not None:
                problem = f"{blocker} is not a directory, so {path} cannot be written"
            taken.setdefault(resolved, name)
            if problem is None:
                continue
            if from_command_line.get(name, True):
                raise UsageError(f"--{name}: {problem}")
            raise ConfigError(problem, file=self.config.display_path, key=f"mlgates.{name}")


def _history_store(config: Config, uri: str | None) -> HistoryStore:
    """The config's history, or the one ``--history`` names (relative to the working
    directory, as every command-line path)."""
    if uri is None:
        return open_history(config.history, root=config.root)
    return open_history_option(uri)


def _write(path: Path, text: str, *, what: str) -> None:
    from mlgates.files import write_text_atomically

    try:
        write_text_atomically(path, text)
    except OSError as exc:
        raise InputError(f"cannot write the {what} {path}: {exc.strerror or exc}") from None


def _not_a_directory(directory: Path) -> Path | None:
    """The nearest existing ancestor of ``directory`` (itself included) when it is not a
    directory, else ``None``: where a file stands in the way of creating ``directory``."""
    for candidate in (directory, *directory.parents):
        if candidate.exists():
            return None if candidate.is_dir() else candidate
    return None


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def _paths(value: Any) -> Iterable[Path]:
    """Every path inside stage configs (dataclasses, mappings, sequences)."""
    if isinstance(value, Path):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            yield from _paths(getattr(value, item.name))
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _paths(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _paths(item)
