"""The ``mlgates`` command: ``init``, ``run``, ``profile`` and ``history``.

Exit codes: 0 nothing blocks, 1 blocked, 2 usage or configuration error
(nothing was judged).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from mlgates.core import MlgatesError

EXIT_PASSED = 0
EXIT_BLOCKED = 1
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"mlgates: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``mlgates`` command."""
    parser = _Parser(prog="mlgates", description="Validation gates for ML deployments.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = commands.add_parser("run", help="run the gates, record the result, write the report")
    run.add_argument(
        "--config",
        "-c",
        type=Path,
        help="mlgates.toml or pyproject.toml (default: the one in the working directory)",
    )
    run.add_argument(
        "--stage",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this stage (repeatable)",
    )
    run.add_argument("--profile", "-p", help="apply [profile.NAME] from the config")
    run.add_argument(
        "--threshold",
        "-t",
        action="append",
        default=[],
        metavar="CHECK",
        help='add or replace a check, e.g. "drift_share <= 0.1" (repeatable)',
    )
    run.add_argument("--report", type=Path, help="write the HTML report here instead")
    run.add_argument(
        "--no-history", action="store_true", help="do not append this run to the validation history"
    )
    run.add_argument("--json", type=Path, metavar="PATH", help="also write the run record as JSON")
    run.add_argument("--verbose", "-v", action="store_true", help="list passing checks too")

    init = commands.add_parser("init", help="write a starting mlgates.toml and pandera schema")
    init.add_argument(
        "--reference",
        "-r",
        type=Path,
        required=True,
        help="data the model was trained or validated on (CSV or Parquet)",
    )
    init.add_argument("--current", type=Path, help="the new data to compare with the reference")
    init.add_argument(
        "--directory",
        "-d",
        type=Path,
        default=Path("."),
        help="where to write the files (default: working directory)",
    )
    init.add_argument("--force", action="store_true", help="overwrite existing files")

    profile = commands.add_parser("profile", help="store the reference profile of a data file")
    profile.add_argument("data", type=Path, help="CSV or Parquet file")
    profile.add_argument("--output", "-o", type=Path, required=True, help="profile JSON to write")
    profile.add_argument("--bins", type=_bins, default=100, help="quantile bins per numeric column")

    history = commands.add_parser("history", help="list recent runs from the history")
    history.add_argument("--config", "-c", type=Path)
    history.add_argument("--limit", "-n", type=_positive, default=10)
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return value


def _bins(text: str) -> int:
    value = int(text)
    if value < 10:
        raise argparse.ArgumentTypeError(f"{value} bins are too few; use at least 10")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mlgates`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from mlgates.provenance import mlgates_version

        print(f"mlgates {mlgates_version()}")
        return EXIT_PASSED
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    handlers = {"run": _run, "init": _init, "profile": _profile, "history": _history}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            return handlers[args.command](args)
    except MlgatesError as exc:
        print(f"mlgates: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (OSError, sqlite3.Error) as exc:
        print(f"mlgates: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("mlgates: interrupted", file=sys.stderr)
        return EXIT_USAGE


def _run(args: argparse.Namespace) -> int:
    from mlgates.config import load_config
    from mlgates.report import render_table
    from mlgates.runner import run_gates
    from mlgates.session import history_store, publish

    config = load_config(args.config, profile=args.profile)
    if args.stage:
        config = config.with_stages(args.stage)
    if args.threshold:
        config = config.with_thresholds(args.threshold)
    earlier = history_store(config).records()
    record = run_gates(config, history=earlier, source="cli", partial=bool(args.stage))
    outputs = publish(
        config, record, earlier=earlier, write_history=not args.no_history, report=args.report
    )
    print(render_table(record, verbose=args.verbose))
    if outputs.report is not None:
        print(f"report: {outputs.report}")
    if outputs.history is not None:
        print(f"history: {outputs.history}")
    if args.json is not None:
        import json

        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(record.to_dict(), indent=2), encoding="utf-8")
    return EXIT_BLOCKED if record.blocked else EXIT_PASSED


def _init(args: argparse.Namespace) -> int:
    from mlgates.scaffold import write_starter

    written = write_starter(
        reference=args.reference,
        current=args.current,
        directory=args.directory,
        force=args.force,
    )
    for path in written:
        print(f"wrote {path}")
    print("next: review the files, then run 'mlgates run' or 'pytest --mlgates'")
    return EXIT_PASSED


def _profile(args: argparse.Namespace) -> int:
    from mlgates.context import read_frame
    from mlgates.core import InputError
    from mlgates.stats.profile import profile_dataset

    if not args.data.is_file():
        raise InputError(f"{args.data}: file not found")
    profile = profile_dataset(read_frame(args.data), bins=args.bins)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    profile.save(args.output)
    print(f"wrote {args.output}: {profile.row_count} rows, {len(profile.columns)} columns")
    return EXIT_PASSED


def _history(args: argparse.Namespace) -> int:
    from mlgates.config import load_config
    from mlgates.session import history_store

    config = load_config(args.config)
    records = history_store(config).records()[-args.limit :]
    if not records:
        print("no runs recorded yet")
    for record in reversed(records):
        verdict = "blocked" if record.blocked else "passed "
        commit = (record.git.get("commit") or "")[:10]
        blocking = ", ".join(c.id for c in record.checks if c.blocking)
        scope = " (partial)" if record.partial else ""
        print(
            f"{record.started_at}  {verdict}  {commit:<10}  {len(record.checks):>3} checks{scope}"
            + (f"  blocking: {blocking}" if blocking else "")
        )
    return EXIT_PASSED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
