"""``mlgates history list|show|trend|diff|prune`` and ``mlgates report``: the
history as a tool. Nothing here judges; it reads finished runs.

A run is named by ``latest``, ``latest~N`` (N runs before the latest) or a
prefix of its id, as ``mlgates history list`` shows it.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mlgates.core import RunRecord, UsageError

if TYPE_CHECKING:
    from mlgates.config import Config
    from mlgates.history import HistoryStore
from mlgates.text import did_you_mean, printable

LIST_LIMIT = 10
LIST_CONTEXT = 20
TREND_RUNS = 60
REPORT_CONTEXT = 60
"""Earlier runs the report is given: its sparklines and run strip show the last 60."""


def register(commands: argparse._SubParsersAction, parser_class: type) -> None:  # type: ignore[type-arg]
    """Add the ``history`` and ``report`` commands to the ``mlgates`` parser."""
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument(
        "--config", "-c", type=Path, default=argparse.SUPPRESS, help="the config naming the history"
    )
    where.add_argument(
        "--history",
        default=argparse.SUPPRESS,
        metavar="URI",
        help="read this history (a .jsonl path or sqlite:///path) instead of the config's",
    )
    where.add_argument(
        "--profile", "-p", default=argparse.SUPPRESS, help="apply [profile.NAME] of the config"
    )
    where.add_argument(
        "--verbose", "-v", action="store_true", default=argparse.SUPPRESS, help="more detail"
    )

    history = commands.add_parser(
        "history", help="list, show, chart, compare and prune recorded runs", parents=[where]
    )
    history.add_argument("--limit", "-n", type=positive, default=LIST_LIMIT, help=argparse.SUPPRESS)
    actions = history.add_subparsers(
        dest="history_command", metavar="ACTION", parser_class=parser_class
    )
    listing = actions.add_parser("list", help="the recent runs (default)", parents=[where])
    listing.add_argument(
        "--limit", "-n", type=positive, default=argparse.SUPPRESS, help="runs to list (10)"
    )
    show = actions.add_parser("show", help="one run's checks and what changed", parents=[where])
    show.add_argument("run", help="latest, latest~N or a run id prefix")
    trend = actions.add_parser(
        "trend", help="one check's value over the runs, as a chart", parents=[where]
    )
    trend.add_argument("check", help="a check id (performance::roc_auc) or its metric[selector]")
    trend.add_argument("--runs", "-n", type=positive, default=TREND_RUNS, help="runs to chart (60)")
    diff = actions.add_parser("diff", help="what changed between two runs", parents=[where])
    diff.add_argument("run_a", help="the older run")
    diff.add_argument("run_b", help="the newer run")
    diff.add_argument("--all", action="store_true", help="list every value that moved")
    prune = actions.add_parser("prune", help="keep only the newest N runs", parents=[where])
    prune.add_argument("--keep", type=positive, required=True, help="runs to keep")
    prune.add_argument("--dry-run", action="store_true", help="say what would go, remove nothing")

    report = commands.add_parser(
        "report", help="render the HTML report of a recorded run", parents=[where]
    )
    report.add_argument(
        "--run", default="latest", help="latest (default), latest~N or a run id prefix"
    )
    report.add_argument(
        "--output", "-o", type=Path, help="HTML file to write (default: the config's report)"
    )


def positive(text: str) -> int:
    """A whole number of at least 1 (an argparse type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return value


def run_history(args: argparse.Namespace) -> int:
    """``mlgates history ...``; the exit code."""
    action = getattr(args, "history_command", None) or "list"
    return {"list": _list, "show": _show, "trend": _trend, "diff": _diff, "prune": _prune}[action](
        args
    )


def run_report(args: argparse.Namespace) -> int:
    """``mlgates report``: write the HTML report of a recorded run; the exit code."""
    from mlgates.report import write_html

    store, config = _store(args)
    records = _records_around(store, args.run, REPORT_CONTEXT)
    record = find_run(records, args.run)
    position = next(i for i, r in enumerate(records) if r.run_id == record.run_id)
    context = records[max(position - REPORT_CONTEXT, 0) : position]
    output = args.output or (config.report if config is not None and config.report else None)
    if output is None:
        output = Path("report.html") if config is None else config.root / ".mlgates" / "report.html"
    _refuse_overwriting(output, store, config, record)
    try:
        write_html(output, record, context)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if isinstance(exc, (FileExistsError, NotADirectoryError)):
            reason = "a part of its directory path is a file"
        raise UsageError(f"--output {output}: cannot write the report ({reason})") from None
    outcome = "blocked" if record.blocked else "passed"
    print(f"report of run {record.run_id[:10]} ({outcome}): {printable(str(output))}")
    return 0


def _refuse_overwriting(
    output: Path, store: HistoryStore, config: Config | None, record: RunRecord
) -> None:
    """A report must never replace the history, its lock, the config or a file the
    run read: a usage error names the clash."""
    target = output.resolve()
    taken = {store.path.resolve(): "the history", Path(f"{store.path}.lock").resolve(): "its lock"}
    if config is not None:
        taken[config.path.resolve()] = "the config file"
        for name in record.files:
            taken.setdefault((config.root / name).resolve(), "a file the run read")
    if target in taken:
        raise UsageError(f"--output {output} is {taken[target]}; write the report elsewhere")
    if output.exists() and not output.is_file():
        raise UsageError(f"--output {output} exists and is not a regular file")
    if output.exists() and output.suffix.lower() not in (".html", ".htm"):
        raise UsageError(
            f"--output {output} exists and is not an .html file; the report replaces only a report"
        )


def find_run(records: Sequence[RunRecord], spec: str) -> RunRecord:
    """The run ``spec`` names: ``latest``, ``latest~N`` or a unique run id prefix."""
    if not records:
        raise UsageError("the history holds no runs yet: run 'mlgates run' first")
    if spec == "latest" or spec.startswith("latest~"):
        back = spec.partition("~")[2] or "0"
        if not back.isdigit():
            raise UsageError(f"run {spec!r}: write latest~N with N a whole number, e.g. latest~1")
        if int(back) >= len(records):
            raise UsageError(f"run {spec!r}: the history holds only {len(records)} runs")
        return records[-1 - int(back)]
    matches = [r for r in records if r.run_id.startswith(spec)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        hint = did_you_mean(spec, [r.run_id[: len(spec)] for r in records])
        raise UsageError(
            f"no run with id {printable(spec)!r} in the history{hint}; "
            "'mlgates history list' shows the ids, or use latest / latest~N"
        )
    raise UsageError(f"run id prefix {spec!r} matches {len(matches)} runs: give more characters")


def _records_around(store: HistoryStore, spec: str, before: int) -> list[RunRecord]:
    """The runs needed to find ``spec`` and the ``before`` runs preceding it: only the
    end of the history for ``latest~N`` (a report of a long history stays quick),
    every run for an id prefix."""
    back = spec.partition("~")[2] if spec.startswith("latest") else None
    if back is not None and (back == "" or back.isdigit()):
        return store.records(last=int(back or 0) + 1 + before)
    return store.records()


def _store(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """The history store the options name, and the config (None with --history alone)."""
    from mlgates.config import load_config
    from mlgates.history import open_history, open_history_option

    uri = getattr(args, "history", None)
    config_path = getattr(args, "config", None)
    config = None
    if uri is None or config_path is not None:
        config = load_config(config_path, profile=getattr(args, "profile", None), stages=False)
    if uri is not None:
        return open_history_option(uri), config
    assert config is not None
    return open_history(config.history, root=config.root), config


def _list(args: argparse.Namespace) -> int:
    from mlgates.report.history_text import loosened_since_previous, verdict

    store, config = _store(args)
    limit = args.limit
    # a few more: the run each listed one is compared with (the previous complete one)
    records = store.records(last=limit + LIST_CONTEXT)
    listed = records[-limit:]
    if not listed:
        print("no runs recorded yet")
        return 0
    profile = getattr(args, "profile", None)
    record_name = None if config is None else config.record_name
    head = ("run", "started", "verdict", "commit", "checks")
    print("{:<10}  {:<24}  {:<7}  {:<10}  {:>6}  anchor  notes".format(*head))
    for record in reversed(listed):
        commit = str(record.git.get("commit") or "")[:10]
        notes = []
        loosened = loosened_since_previous(record, records)
        if loosened:
            notes.append(f"{loosened} threshold(s) LOOSENED")
        blocking = [c.id for c in record.checks if c.blocking]
        if blocking:
            notes.append(
                "blocking: " + ", ".join(blocking[:5]) + (" ..." if len(blocking) > 5 else "")
            )
        anchor = "yes" if record.comparable_to(profile, record_name) else _why_not(record, profile)
        print(
            printable(
                f"{record.run_id[:10]:<10}  {record.started_at:<24}  {verdict(record):<7}  "
                f"{commit:<10}  {len(record.checks):>6}  {anchor:<6}  {'; '.join(notes)}".rstrip(),
                keep_newlines=False,
            )
        )
    scope = f"profile {profile!r}" if profile else "no profile"
    print(f"anchor: whether the run can be 'previous'/'best' for a run with {scope}")
    return 0


def _why_not(record: RunRecord, profile: str | None) -> str:
    if record.partial:
        return "partial"
    if record.blocked:
        return "no"
    if record.profile != profile:
        return f"profile {record.profile or '-'}"
    return "other config"


def _show(args: argparse.Namespace) -> int:
    from mlgates.changes import diff_runs, previous_run
    from mlgates.report import render_table
    from mlgates.report.history_text import render_diff, run_label, verdict

    store, _ = _store(args)
    records = _records_around(store, args.run, LIST_CONTEXT)
    record = find_run(records, args.run)
    facts = [
        ("run", run_label(record)),
        ("verdict", verdict(record)),
        (
            "config",
            f"{record.config_path} (profile {record.profile})"
            if record.profile
            else str(record.config_path),
        ),
        (
            "mlgates",
            f"{record.mlgates_version} via {record.source}"
            + (", partial run" if record.partial else ""),
        ),
    ]
    for name, value in facts:
        print(printable(f"{name + ':':<9} {value}", keep_newlines=False))
    print()
    print(render_table(record, verbose=getattr(args, "verbose", False)))
    older = previous_run(record, records)
    if older is not None:
        print("\nsince the run before:")
        print(render_diff(diff_runs(older, record)))
    return 0


def _trend(args: argparse.Namespace) -> int:
    from mlgates.report.history_text import render_trend

    store, _ = _store(args)
    records = store.records(last=args.runs)
    if not records:
        print("no runs recorded yet")
        return 0
    value_id = _resolve_check(args.check, records)
    print(render_trend(value_id, records, width=args.runs))
    return 0


def _resolve_check(name: str, records: Sequence[RunRecord]) -> str:
    """The id ``name`` means: a check or value id, or ``metric[selector]`` without
    its stage when only one stage has it."""
    ids = {c.value_id for r in records for c in r.checks} | {
        c.id for r in records for c in r.checks
    }
    if name in ids:
        return name
    suffix = [i for i in ids if i.split("::", 1)[-1] == name]
    unique = sorted({i for i in suffix})
    if len(unique) == 1:
        return unique[0]
    if len(unique) > 1:
        raise UsageError(
            f"check {name!r} is measured by several stages: {', '.join(unique)}; name one"
        )
    hint = did_you_mean(name, sorted(ids)) or did_you_mean(
        name, sorted(i.split("::", 1)[-1] for i in ids)
    )
    raise UsageError(
        f"no check {printable(repr(name))} in the last {len(records)} runs{hint}; "
        "'mlgates history show latest -v' lists every check id"
    )


def _diff(args: argparse.Namespace) -> int:
    from mlgates.changes import diff_runs
    from mlgates.report.history_text import render_diff

    store, _ = _store(args)
    records = store.records()
    older, newer = find_run(records, args.run_a), find_run(records, args.run_b)
    first, last = (records.index(run) for run in (older, newer))
    if first > last:
        raise UsageError(
            f"{args.run_a} ({older.started_at}) was recorded after {args.run_b} "
            f"({newer.started_at}): give the older run first"
        )
    if first == last:
        raise UsageError(f"{args.run_a} and {args.run_b} are the same run: name two runs")
    between = records[first : last + 1]
    print(render_diff(diff_runs(older, newer), all_moves=args.all, runs=between))
    return 0


def _prune(args: argparse.Namespace) -> int:
    store, _ = _store(args)
    if args.dry_run:
        going = store.prune(args.keep, dry_run=True)
        print(f"would remove {going} runs from {printable(store.location)}")
        return 0
    removed = store.prune(args.keep)
    print(f"removed {removed} runs from {printable(store.location)}; kept the newest {args.keep}")
    if removed:
        print("'previous' and 'best' bounds now draw on the kept runs only")
    return 0
