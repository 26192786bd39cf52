"""``mlgates github …``: the steps of the GitHub Action after ``mlgates run``.

Each step reads what the run left (exit code, JSON record, error output) and
the runner's environment (``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY``,
``GITHUB_EVENT_PATH``, ``GITHUB_REPOSITORY``, ``GITHUB_API_URL``). They work in
any workflow, not only through the bundled action.

``publish`` and ``comment`` never change the verdict: a comment that cannot be
written is a warning. ``history-push`` exits 2 when the record could not be
stored, because a history that silently misses runs breaks ``previous``/``best``.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path

from mlgates.github.workflow import Annotation, append_summary, emit, write_outputs
from mlgates.text import printable

_EXIT_OK = 0
_EXIT_HISTORY_FAILED = 2  # the history could not be read, or the run not stored


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``mlgates github`` and its steps to the ``mlgates`` parser."""
    github = commands.add_parser(
        "github", help="steps of the GitHub Action: publish, comment, history-fetch, history-push"
    )
    steps = github.add_subparsers(dest="step", metavar="STEP", required=True)

    publish = steps.add_parser("publish", help="step outputs, job summary and annotations")
    _run_arguments(publish)
    publish.add_argument("--config", type=Path, help="the config the run used (for annotations)")
    publish.add_argument("--report", default="", help="path of the HTML report, for the outputs")
    publish.add_argument("--junitxml", default="", help="path of the JUnit XML, for the outputs")
    publish.add_argument("--summary", default="", help="path of the Markdown summary")
    publish.add_argument("--artifact-url", default="", help="link to the uploaded report")

    comment = steps.add_parser("comment", help="create or update the sticky pull-request comment")
    _run_arguments(comment)
    comment.add_argument("--key", required=True, help="what identifies the comment (config path)")
    comment.add_argument("--artifact-url", default="", help="link to the uploaded report")

    for name, text in (
        ("history-fetch", "copy the history file from its branch"),
        ("history-push", "append this run's record to the history branch and push"),
    ):
        step = steps.add_parser(name, help=text)
        step.add_argument("--branch", required=True, help="the history branch")
        step.add_argument("--file", required=True, help="the history file inside the branch")
        step.add_argument("--remote", default="origin", help="the git remote (default origin)")
        step.add_argument("--repository", type=Path, default=Path("."), help="a git checkout")
        if name == "history-fetch":
            step.add_argument("--output", type=Path, required=True, help="where to write it")
        else:
            step.add_argument("--record", type=Path, required=True, help="the run's JSON record")
    for step in steps.choices.values():
        step.add_argument("--verbose", "-v", action="store_true", help="tracebacks of errors")


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--exit-code", type=int, required=True, help="what mlgates run exited")
    parser.add_argument("--json", type=Path, required=True, help="the run's --json record")
    parser.add_argument("--stderr", type=Path, help="the run's error output")


def main(args: argparse.Namespace) -> int:
    """Run one step; its exit code."""
    handlers = {
        "publish": _publish,
        "comment": _comment,
        "history-fetch": _history_fetch,
        "history-push": _history_push,
    }
    if args.step in ("publish", "comment"):
        # these never decide the verdict: whatever goes wrong is a warning, exit 0
        try:
            return handlers[args.step](args)
        except Exception as exc:
            if args.verbose:
                traceback.print_exc()
            _note("warning", f"{args.step} failed: {type(exc).__name__}: {exc}")
            return _EXIT_OK
    return handlers[args.step](args)


def _publish(args: argparse.Namespace) -> int:
    from mlgates.github.publish import check_annotations, load_outcome, step_outputs, summary
    from mlgates.report.markdown import SUMMARY_LIMIT

    outcome = load_outcome(args.exit_code, args.json, args.stderr)
    files = {
        "json": str(args.json) if outcome.record else "",
        "report": args.report if outcome.record else "",
        "junitxml": args.junitxml if outcome.record else "",
        "summary": args.summary if outcome.record else "",
    }
    write_outputs(step_outputs(outcome, files))
    workspace = os.environ.get("GITHUB_WORKSPACE")
    shown, left_out = check_annotations(
        outcome, config_file=args.config, workspace=Path(workspace) if workspace else None
    )
    text = summary(outcome, limit=SUMMARY_LIMIT - 2_000, links=_links(args.artifact_url))
    if left_out:
        text += (
            f"\n_{left_out} more checks did not pass than GitHub shows as annotations "
            "(10 per kind and step): all are listed above._\n"
        )
    if not append_summary(text):
        print(text)
    emit(shown, sys.stdout)
    return _EXIT_OK


def _comment(args: argparse.Namespace) -> int:
    from mlgates.github.comment import (
        CommentError,
        IssueComments,
        api_url,
        marker_for,
        pull_request_of,
    )
    from mlgates.github.publish import load_outcome, summary
    from mlgates.report.markdown import COMMENT_LIMIT

    repository = os.environ.get("GITHUB_REPOSITORY", "")
    event = os.environ.get("GITHUB_EVENT_PATH")
    event_name = os.environ.get("GITHUB_EVENT_NAME", "")
    try:
        pull = pull_request_of(event_name, Path(event) if event else None, repository)
    except CommentError as exc:
        _note("warning", f"no pull-request comment: {exc}")
        return _EXIT_OK
    if pull is None:
        print(f"mlgates: a {event_name or 'non-pull-request'} event: no comment")
        return _EXIT_OK
    try:
        comments = IssueComments(
            api_url=api_url(), repository=repository, token=os.environ.get("GITHUB_TOKEN", "")
        )
    except CommentError as exc:
        _note("warning", f"no pull-request comment: {exc}")
        return _EXIT_OK
    if pull.from_fork:
        _note(
            "notice",
            "the pull request comes from a fork, whose token cannot comment: "
            "the summary is in the job summary instead",
        )
        return _EXIT_OK
    outcome = load_outcome(args.exit_code, args.json, args.stderr)
    marker = marker_for(args.key)
    body = summary(outcome, limit=COMMENT_LIMIT, links=_links(args.artifact_url), marker=marker)
    try:
        action, number = comments.upsert(pull.number, body, marker)
    except CommentError as exc:
        _note("warning", f"no pull-request comment: {exc}")
        return _EXIT_OK
    print(f"mlgates: {action} comment {number} on pull request #{pull.number}")
    return _EXIT_OK


def _history_fetch(args: argparse.Namespace) -> int:
    from mlgates.github.history_branch import BranchHistory, HistoryBranchError, fetch_history

    try:
        history = BranchHistory(args.repository, args.branch, args.file, args.remote)
        count = fetch_history(history, args.output)
    except HistoryBranchError as exc:
        _note("error", f"cannot read the history: {exc}")
        return _EXIT_HISTORY_FAILED
    print(f"mlgates: {count} runs from {_where(args)}")
    return _EXIT_OK


def _history_push(args: argparse.Namespace) -> int:
    from mlgates.github.history_branch import BranchHistory, HistoryBranchError, push_record

    try:
        text = args.record.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        detail = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        _note("error", f"the run was not recorded: {args.record}: {detail or exc}")
        return _EXIT_HISTORY_FAILED
    try:
        history = BranchHistory(args.repository, args.branch, args.file, args.remote)
        pushes = push_record(history, text)
    except HistoryBranchError as exc:
        _note("error", f"the run was not recorded: {exc}")
        return _EXIT_HISTORY_FAILED
    if pushes == 0:
        print(f"mlgates: {_where(args)} already holds this run")
    else:
        retried = f" after {pushes - 1} concurrent pushes" if pushes > 1 else ""
        print(f"mlgates: recorded the run on {_where(args)}{retried}")
    return _EXIT_OK


def _where(args: argparse.Namespace) -> str:
    return f"{printable(args.branch)}:{printable(args.file)}"


def _links(artifact_url: str) -> list[tuple[str, str]]:
    links = []
    if artifact_url:
        links.append(("HTML report and JSON (artifact)", artifact_url))
    server, repository, run = (
        os.environ.get(name) for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    if server and repository and run:
        links.append(("workflow run", f"{server}/{repository}/actions/runs/{run}"))
    return links


def _note(level: str, message: str) -> None:
    emit([Annotation(level, message, "mlgates")], sys.stdout)
