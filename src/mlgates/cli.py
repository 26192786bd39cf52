"""The ``mlgates`` command: ``run``, ``init``, ``profile``, ``history``, ``report``, ``serve``
and ``github``.

Exit codes: 0 nothing blocks, 1 blocked, 2 usage, configuration or input error
(nothing was judged, nothing recorded), 3 internal error (a bug; ``-v`` shows
the traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from mlgates.core import InputError, MlgatesError, UsageError
from mlgates.options import OPTIONS, RunOptions
from mlgates.text import printable

EXIT_PASSED = 0
EXIT_BLOCKED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"mlgates: error: {message}\n")


def _verbose(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--verbose", "-v", action="store_true", help=help)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``mlgates`` command."""
    parser = _Parser(prog="mlgates", description="Validation gates for ML deployments.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = commands.add_parser("run", help="run the gates, record the result, write the report")
    for option in OPTIONS:
        run.add_argument(*option.flags, dest=option.name, **option.arguments())
    _verbose(run, "list passing checks too; show the traceback of an internal error")

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
    _verbose(init, "show the traceback of an internal error")

    profile = commands.add_parser("profile", help="store the reference profile of a data file")
    profile.add_argument("data", type=Path, help="CSV or Parquet file")
    profile.add_argument("--output", "-o", type=Path, required=True, help="profile JSON to write")
    profile.add_argument(
        "--bins", type=_bins, default=None, help="quantile bins per numeric column (default 100)"
    )
    profile.add_argument(
        "--config",
        "-c",
        type=Path,
        help="take the column roles and bins of this config's [data] table (profile as the run "
        "would)",
    )
    _verbose(profile, "show the traceback of an internal error")

    serve = commands.add_parser("serve", help="serve a model file over HTTP (POST /predict)")
    serve.add_argument(
        "--model", "-m", type=Path, required=True, help="skops, pickle, ONNX or MLflow model"
    )
    serve.add_argument(
        "--trusted",
        action="extend",
        nargs="+",
        default=[],
        metavar="TYPE",
        help="types a .skops file may hold beyond scikit-learn's, NumPy's and SciPy's",
    )
    serve.add_argument(
        "--sha256", type=_sha256, help="the sha256 the file must have (required for a pickle)"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000, help="port to listen on (8000)")
    _verbose(serve, "show the traceback of an internal error")

    from mlgates.github.steps import register
    from mlgates.history_cli import register as register_history

    register_history(commands, _Parser)
    register(commands)
    return parser


def _sha256(text: str) -> str:
    digest = text.strip().lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise argparse.ArgumentTypeError(f"{text!r} is not a sha256: 64 hexadecimal digits")
    return digest


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"{value} is not a port: use 1 to 65535")
    return value


def _bins(text: str) -> int:
    from mlgates.history_cli import positive

    value = positive(text)
    from mlgates.stages.data.settings import MAX_BINS

    if not 10 <= value <= MAX_BINS:
        raise argparse.ArgumentTypeError(f"{value} bins: use 10 to {MAX_BINS}")
    return value


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    print(f"mlgates: warning: {printable(str(message))}", file=sys.stderr)


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
    handlers = {
        "run": _run,
        "init": _init,
        "profile": _profile,
        "history": _history,
        "report": _report,
        "serve": _serve,
        "github": _github,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = _show_warning
        try:
            return handlers[args.command](args)
        except MlgatesError as exc:
            print(f"mlgates: error: {printable(str(exc))}", file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt:
            print("mlgates: interrupted: nothing was recorded", file=sys.stderr)
            return EXIT_USAGE
        except Exception as exc:  # a bug in mlgates or a stage: never mistaken for a verdict
            verbose = getattr(args, "verbose", False)
            if verbose:
                traceback.print_exc()
            print(
                f"mlgates: internal error: {type(exc).__name__}: {printable(str(exc))}"
                + ("" if verbose else " (run with -v for the traceback)"),
                file=sys.stderr,
            )
            return EXIT_INTERNAL


def _run(args: argparse.Namespace) -> int:
    from mlgates.report import render_table
    from mlgates.session import GateSession

    session = GateSession(RunOptions.from_values(lambda o: getattr(args, o.name)), source="cli")
    record = session.run()
    outputs = session.publish(record)
    print(render_table(record, verbose=args.verbose))
    if args.verbose:
        tracebacks = {
            c.stage: c.details["traceback"] for c in record.checks if "traceback" in c.details
        }
        for stage, text in tracebacks.items():
            print(f"mlgates: the {stage} stage raised:\n{text}", file=sys.stderr)
    for label, where in outputs.written():
        print(f"{label}: {printable(where)}")
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
        print(f"wrote {printable(str(path))}")
    print("next: review the files, then run 'mlgates run' or 'pytest --mlgates'")
    return EXIT_PASSED


def _profile(args: argparse.Namespace) -> int:
    from mlgates.datafiles import read_frame
    from mlgates.files import write_text_atomically
    from mlgates.stages.data.streamed import profile_file

    bins, kinds = args.bins, {}
    if args.config is not None:
        from mlgates.config import load_config
        from mlgates.stages.data.roles import profile_kinds

        data = load_config(args.config).stages.get("data")
        if data is None:
            raise UsageError(f"--config {args.config}: the config has no [data] table")
        kinds = profile_kinds(data.roles)
        bins = data.bins if bins is None else bins
    # a large Parquet file is profiled batch by batch, never loaded whole
    profile = profile_file(
        args.data, bins=bins or 100, kinds=kinds, load=lambda: read_frame(args.data)
    )
    try:
        write_text_atomically(args.output, json.dumps(profile.to_dict(), allow_nan=False))
    except OSError as exc:
        raise InputError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    print(f"wrote {args.output}: {profile.row_count} rows, {len(profile.columns)} columns")
    return EXIT_PASSED


def _history(args: argparse.Namespace) -> int:
    from mlgates.history_cli import run_history

    return run_history(args)


def _report(args: argparse.Namespace) -> int:
    from mlgates.history_cli import run_report

    return run_report(args)


def _serve(args: argparse.Namespace) -> int:
    from mlgates.stages.operational.serving import serve

    serve(args.model, trusted=args.trusted, sha256=args.sha256, host=args.host, port=args.port)
    return EXIT_PASSED


def _github(args: argparse.Namespace) -> int:
    from mlgates.github.steps import main as run_step

    return run_step(args)


def console() -> None:
    """The ``mlgates`` command: :func:`main`, then exit with its code without tearing down.

    Native thread pools (Arrow's among them) can abort the process while the
    interpreter shuts down, rarely, and only under load; an abort would replace
    the exit code, which is the verdict. Everything the run writes is closed
    by now, so the streams are flushed and the process ends at once.
    """
    _interrupt_on_termination()
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _interrupt_on_termination() -> None:
    """Make SIGTERM and SIGHUP (a CI job cancelled, a terminal closed) end the run as
    Ctrl-C does: the helper processes it started (timing, load test, audit) are
    stopped with it, and nothing is recorded."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None:
            signal.signal(number, interrupt)


if __name__ == "__main__":  # pragma: no cover
    console()
