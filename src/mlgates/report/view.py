"""What the HTML report shows, worked out from a run and its history.

:func:`build_view` turns a :class:`~mlgates.core.RunRecord` and the runs before it
into plain objects whose fields the template prints as they are: formatted
numbers, the lists at the top cut to a readable length, the charts already drawn
(:mod:`mlgates.report.figures` picks a stage's charts, :mod:`mlgates.report.charts`
draws them). The template therefore holds layout only.

Only the last :data:`WINDOW` runs of the history are looked at for the charts,
and each run is read once: a dictionary from a value's id to its series is built
for the whole window, so a report stays fast with thousands of runs and checks.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup

from mlgates.changes import (
    RunDiff,
    StatusFlip,
    ThresholdChange,
    ValueMove,
    describe_move,
    diff_runs,
    previous_run,
)
from mlgates.core import CheckResult, GateResult, RunRecord, Status, count_statuses
from mlgates.report import charts
from mlgates.report.figures import Figure, level_text, message_text, shown, stage_figures
from mlgates.text import format_duration

WINDOW = 60
"""Runs (this one included) that the sparklines and the verdict strip show."""
HISTORY_ROWS = 30
"""Earlier runs listed in the history table."""
LISTED = 50
"""Checks, flips and threshold changes listed at the top before ``and N more``."""
MOVES = 10
"""Largest value moves listed under what changed."""
WORST_FIRST = tuple(sorted(Status, key=lambda status: status.rank, reverse=True))
"""The order statuses are counted in: what needs a look first."""
CHUNK_ROWS = 100
"""Rows of one table of a stage (see :attr:`StageView.chunks`)."""
OPTIONAL_COLUMNS = ("anchor", "interval", "method", "trend")
"""Columns of a stage's table that are left out when no check of the stage has them."""


# -- the objects the template reads -------------------------------------------------------


@dataclass(frozen=True)
class CheckRow:
    """One check as its table row shows it.

    ``anchor`` is the row's id in the page (``c-12``: never user text);
    ``message`` the check's message, or what its numbers say where the history
    did not keep the message (:func:`~mlgates.report.figures.message_text`);
    ``figure`` is a chart shown in the row, ``on_demand`` one behind a collapsed
    ``<details>`` (the distribution of a column that did not drift).
    """

    check: CheckResult
    anchor: str
    message: str
    value: str
    bound: str
    anchor_value: str
    interval: str
    level: str
    trend: Markup
    figure: Markup = charts.EMPTY
    on_demand: Markup = charts.EMPTY

    @property
    def status(self) -> str:
        """The check's status, which is also its CSS class."""
        return self.check.status.value


@dataclass(frozen=True)
class StageView:
    """One stage's section: its verdict, charts and every check."""

    stage: str
    status: str
    blocked: bool
    counts: list[tuple[str, int]]
    duration: str
    figures: list[Figure]
    rows: list[CheckRow]
    columns: frozenset[str] = frozenset(OPTIONAL_COLUMNS)
    """Which of :data:`OPTIONAL_COLUMNS` any row of the stage fills (the others are left out)."""

    @property
    def chunks(self) -> list[tuple[list[CheckRow], bool]]:
        """The rows in tables of :data:`CHUNK_ROWS`, each with whether the browser may
        skip laying it out while it is out of view (``content-visibility``): so a stage
        of thousands of checks loads and filters quickly. Only full tables of a stage
        longer than one table are skipped, so a small report lays out as a whole."""
        long = len(self.rows) > CHUNK_ROWS
        return [
            (chunk, long and len(chunk) == CHUNK_ROWS)
            for chunk in (
                self.rows[i : i + CHUNK_ROWS] for i in range(0, len(self.rows), CHUNK_ROWS)
            )
        ]


@dataclass(frozen=True)
class ChangesView:
    """What changed since the previous run of the same config.

    Each list holds ``(item, anchor)`` pairs, ``anchor`` being the row of the check
    in this report (empty when this run has no such check); a flip comes with the
    message its row shows as well. The ``*_more`` counts say how many were left
    out of a list.
    """

    previous: RunRecord
    previous_label: str
    flips: list[tuple[StatusFlip, str, str]]
    flips_more: int
    thresholds: list[tuple[ThresholdChange, str]]
    thresholds_more: int
    added: list[tuple[str, str]]
    added_more: int
    removed: list[str]
    removed_more: int
    moves: list[tuple[ValueMove, str, str]]
    moved: int

    @property
    def nothing(self) -> bool:
        """Whether no status, threshold, check or value changed."""
        return not (self.flips or self.thresholds or self.added or self.removed or self.moves)


@dataclass(frozen=True)
class HistoryRow:
    """One earlier run in the history table."""

    run: RunRecord
    verdict: str
    css: str
    started: str
    source: str
    checks: int
    counts: str
    blocking: list[str]
    blocking_more: int


@dataclass(frozen=True)
class ReportView:
    """Everything the report shows, in the order it shows it."""

    record: RunRecord
    verdict: str
    counts: list[tuple[str, int]]
    blocking_total: int
    facts: list[tuple[str, str]]
    blocking: list[CheckRow]
    blocking_more: int
    warnings: list[CheckRow]
    warnings_more: int
    changes: ChangesView | None
    stages: list[StageView]
    strip: Markup
    strip_runs: int
    runs: list[HistoryRow]
    earlier_runs: int
    provenance: list[tuple[str, str]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Whether nothing blocks the deployment."""
        return not self.record.blocked

    @property
    def total(self) -> int:
        """How many checks the run has."""
        return sum(count for _, count in self.counts)


# -- building the view ------------------------------------------------------------------


def build_view(record: RunRecord, history: Sequence[RunRecord]) -> ReportView:
    """The report of ``record``; ``history`` holds earlier runs, oldest first, and may
    hold ``record`` itself (then only the runs before it count)."""
    earlier = runs_before(record, history)
    window = [*earlier[-(WINDOW - 1) :], record] if WINDOW > 1 else [record]
    series = value_series(window)
    stages: list[StageView] = []
    every_row: list[CheckRow] = []
    for gate in record.gates:
        start = len(every_row)
        for check in gate.checks:
            anchor = f"c-{len(every_row) + 1}"
            every_row.append(check_row(check, anchor, series.get(value_key(check))))
        stages.append(stage_view(gate, every_row[start:]))
    by_id = {row.check.id: row for row in every_row}
    blocking = sorted((r for r in every_row if r.check.blocking), key=lambda r: r.check.concern)
    warnings = sorted(
        (r for r in every_row if r.check.needs_attention and not r.check.blocking),
        key=lambda r: r.check.concern,
    )
    previous = previous_run(record, earlier)
    changes = None if previous is None else changes_view(diff_runs(previous, record), by_id)
    outlines: dict[int, RunOutline] = {}

    def outline(run: RunRecord) -> RunOutline:
        if id(run) not in outlines:
            outlines[id(run)] = RunOutline.of(run)
        return outlines[id(run)]

    return ReportView(
        record=record,
        verdict="Blocked" if record.blocked else "Passed",
        counts=worst_first(record.counts()),
        blocking_total=len(blocking),
        facts=run_facts(record),
        blocking=blocking[:LISTED],
        blocking_more=max(len(blocking) - LISTED, 0),
        warnings=warnings[:LISTED],
        warnings_more=max(len(warnings) - LISTED, 0),
        changes=changes,
        stages=stages,
        strip=charts.history_strip(
            [strip_mark(run, outline(run), run is record) for run in window]
        ),
        strip_runs=len(window),
        runs=[history_row(run, outline(run)) for run in reversed(earlier[-HISTORY_ROWS:])],
        earlier_runs=len(earlier),
        provenance=provenance(record),
    )


def runs_before(record: RunRecord, history: Sequence[RunRecord]) -> list[RunRecord]:
    """The runs of ``history`` before ``record``: those before its own entry when the
    history holds it, else all of them (any other entry with its id left out)."""
    for position in range(len(history) - 1, -1, -1):
        if history[position].run_id == record.run_id:
            return [run for run in history[:position] if run.run_id != record.run_id]
    return [run for run in history if run.run_id != record.run_id]


Series = tuple[list[float | None], list[bool]]
"""A value's series over the window: the value per run (None where it was not
measured) and whether a check on it failed in that run."""

ValueKey = tuple[str, str, str | None]
"""``(stage, metric, selector)``: the parts a check's ``value_id`` is made of."""


def value_series(runs: Sequence[RunRecord]) -> dict[ValueKey, Series]:
    """Every value of the last run of ``runs`` over all of ``runs``, keyed by the
    parts of its :attr:`~mlgates.core.CheckResult.value_id` (:func:`value_key`).

    Each run's checks are read once. A run's value is the one
    :meth:`RunRecord.measured` gives (the first finite one of the checks on that
    value); it failed when one of those checks failed, erred or blocked.
    """
    per_run = [_run_values(run) for run in runs]
    if not per_run:
        return {}
    series: dict[ValueKey, Series] = {}
    nothing = (None, False)
    for key in per_run[-1]:
        found = [values.get(key, nothing) for values in per_run]
        series[key] = ([value for value, _ in found], [failed for _, failed in found])
    return series


def value_key(check: CheckResult) -> ValueKey:
    """The key of ``check``'s value in :func:`value_series`."""
    return (check.stage, check.metric, check.selector)


_FAILED = (Status.FAIL, Status.ERROR)


def _run_values(run: RunRecord) -> dict[ValueKey, tuple[float | None, bool]]:
    found: dict[ValueKey, tuple[float | None, bool]] = {}
    for gate in run.gates:
        for check in gate.checks:
            key = (check.stage, check.metric, check.selector)
            value = check.value
            if value is not None and not math.isfinite(value):
                value = None
            failed = check.blocking or check.status in _FAILED
            earlier = found.get(key)
            if earlier is not None:
                value = earlier[0] if earlier[0] is not None else value
                failed = failed or earlier[1]
            found[key] = (value, failed)
    return found


def check_row(check: CheckResult, anchor: str, series: Series | None) -> CheckRow:
    """The table row of ``check``, with its sparkline and its distribution if any."""
    trend = charts.EMPTY
    if series is not None:
        values, failing = series
        trend = charts.sparkline(values, failing)
    chart = charts.distribution(
        check.details.get("distribution"),
        label=f"{check.selector or check.metric}: reference and current distribution",
    )
    drifted = check.status not in (Status.PASS, Status.SKIPPED)
    return CheckRow(
        check=check,
        anchor=anchor,
        message=message_text(check),
        value=shown(check, check.value),
        bound=shown(check, check.bound),
        anchor_value=(
            ""
            if check.anchor is None
            else f"{check.anchor} {shown(check, check.anchor_value)}".rstrip()
        ),
        interval=interval_text(check),
        level="" if check.level is None else level_text(check.level),
        trend=trend,
        figure=chart if drifted else charts.EMPTY,
        on_demand=charts.EMPTY if drifted else chart,
    )


def interval_text(check: CheckResult) -> str:
    """``[-0.037, -0.011]``: the check's interval ('' for none)."""
    if check.interval is None:
        return ""
    low, high = (check.shown(v, digits=4) for v in check.interval)
    return f"[{low}, {high}]"


def worst_first(counts: Mapping[Status, int]) -> list[tuple[str, int]]:
    """``(status, count)`` of the statuses present in ``counts``
    (:func:`~mlgates.core.count_statuses`), worst first."""
    return [(s.value, counts[s]) for s in WORST_FIRST if counts.get(s)]


def stage_view(gate: GateResult, rows: list[CheckRow]) -> StageView:
    """One stage's section, with the charts drawn for that stage."""
    return StageView(
        stage=gate.stage,
        status=gate.status.value,
        blocked=gate.blocked,
        counts=worst_first(gate.counts()),
        duration=f"{gate.duration_s:.1f} s",
        figures=stage_figures(gate.stage, gate.checks),
        rows=rows,
        columns=frozenset(
            name
            for name, filled in (
                ("anchor", any(row.anchor_value for row in rows)),
                ("interval", any(row.interval for row in rows)),
                ("method", any(row.check.method for row in rows)),
                ("trend", any(row.trend for row in rows)),
            )
            if filled
        ),
    )


# -- the top of the report -------------------------------------------------------------


def changes_view(diff: RunDiff, rows: Mapping[str, CheckRow]) -> ChangesView:
    """What :func:`mlgates.changes.diff_runs` found, cut to readable lists; flips for
    the worse and loosened thresholds first. ``rows`` are this report's rows by
    check id."""
    flips = sorted(diff.flips, key=lambda f: (not f.worse, -f.after.rank))
    thresholds = sorted(diff.thresholds, key=lambda t: t.kind != "loosened")
    previous = diff.older
    anchors = {check_id: row.anchor for check_id, row in rows.items()}

    def flip_message(flip: StatusFlip) -> str:
        row = rows.get(flip.check_id)
        return flip.message or ("" if row is None else row.message)

    return ChangesView(
        previous=previous,
        previous_label=run_label(previous),
        flips=[
            (flip, anchors.get(flip.check_id, ""), flip_message(flip)) for flip in flips[:LISTED]
        ],
        flips_more=max(len(flips) - LISTED, 0),
        thresholds=[(t, anchors.get(t.check_id, "")) for t in thresholds[:LISTED]],
        thresholds_more=max(len(thresholds) - LISTED, 0),
        added=[(check_id, anchors.get(check_id, "")) for check_id in diff.added[:LISTED]],
        added_more=max(len(diff.added) - LISTED, 0),
        removed=list(diff.removed[:LISTED]),
        removed_more=max(len(diff.removed) - LISTED, 0),
        moves=[
            (move, describe_move(move), anchors.get(move.check_id, ""))
            for move in diff.moves[:MOVES]
        ],
        moved=len(diff.moves),
    )


def run_label(run: RunRecord) -> str:
    """``run 91bf7ff2 of 2026-12-06 04:30 UTC, main@73f8ef0096``."""
    label = f"run {run.run_id[:8]} of {when(run.started_at)}"
    where = git_text(run)
    return f"{label}, {where}" if where else label


def when(timestamp: str) -> str:
    """``2026-12-06 04:30 UTC`` from an ISO 8601 time in UTC (as given otherwise)."""
    moment = _parse_time(timestamp)
    if moment is None:
        return timestamp
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _parse_time(timestamp: str) -> datetime.datetime | None:
    try:
        moment = datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc)
    return moment


def git_text(run: RunRecord) -> str:
    """``main@73f8ef0096`` (and ``, uncommitted changes``), or '' without git."""
    commit = str(run.git.get("commit") or "")[:10]
    branch = str(run.git.get("branch") or "")
    if not commit and not branch:
        return ""
    text = f"{branch}@{commit}" if branch and commit else branch or commit
    return text + (" with uncommitted changes" if run.git.get("dirty") else "")


def run_facts(record: RunRecord) -> list[tuple[str, str]]:
    """The run's identity under the verdict: id, time, duration, git, profile."""
    facts = [("run", record.run_id), ("started", when(record.started_at))]
    start, end = _parse_time(record.started_at), _parse_time(record.finished_at)
    if start is not None and end is not None and end >= start:
        facts.append(("took", format_duration((end - start).total_seconds())))
    git = git_text(record)
    if git:
        facts.append(("git", git))
    facts.append(("profile", record.profile or "default"))
    if record.config_path:
        facts.append(("config", record.config_path))
    if record.partial:
        facts.append(("partial", "some configured checks were not run"))
    return facts


@dataclass(frozen=True)
class RunOutline:
    """What the strip and the history table need of a run, from one pass over it."""

    counts: dict[Status, int]
    blocking: list[str]

    @classmethod
    def of(cls, run: RunRecord) -> RunOutline:
        """Count the statuses of ``run`` and list its blocking checks."""
        checks = run.checks
        return cls(count_statuses(checks), [check.id for check in checks if check.blocking])

    @property
    def verdict(self) -> tuple[str, str]:
        """``(word, css class)``: blocked, passed with warnings, or passed."""
        if self.blocking:
            return "blocked", "blocked"
        if any(count for s, count in self.counts.items() if s.rank > Status.PASS.rank):
            return "passed with warnings", "warned"
        return "passed", "passed"


def strip_mark(run: RunRecord, outline: RunOutline, current: bool) -> charts.StripMark:
    """One run in the verdict strip."""
    verdict, css = outline.verdict
    title = f"{when(run.started_at)}: {verdict}, run {run.run_id[:8]}"
    git = git_text(run)
    if git:
        title += f", {git}"
    if current:
        title += " (this report)"
    return charts.StripMark(verdict=css, title=title, date=run.started_at[:10], current=current)


def history_row(run: RunRecord, outline: RunOutline) -> HistoryRow:
    """One earlier run in the history table."""
    verdict, css = outline.verdict
    counts = ", ".join(
        f"{count} {status}"
        for status, count in worst_first(outline.counts)
        if status != Status.PASS.value
    )
    return HistoryRow(
        run=run,
        verdict=verdict + (" (partial)" if run.partial else ""),
        css=css,
        started=when(run.started_at),
        source=git_text(run),
        checks=sum(outline.counts.values()),
        counts=counts,
        blocking=outline.blocking[:3],
        blocking_more=max(len(outline.blocking) - 3, 0),
    )


def provenance(record: RunRecord) -> list[tuple[str, str]]:
    """Where the run came from: config, settings hash, mlgates, policy, input files."""
    facts = [
        ("config", record.config_path or "(none)"),
        ("settings sha256", record.config_hash or "(none)"),
        ("mlgates", f"{record.mlgates_version} via {record.source}"),
        ("on_inconclusive", record.on_inconclusive.value),
    ]
    facts += [(name, f"sha256 {digest}") for name, digest in record.files.items()]
    return facts
