"""What a finished ``mlgates run`` shows in GitHub: outputs, job summary, annotations.

The run step leaves its exit code, the JSON record (exit 0 or 1) and its error
output (exit 2 or 3); :func:`load_outcome` reads them back and the rest of this
module turns them into step outputs, the job summary and annotations that point
at the config file and line of each threshold that did not hold.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from mlgates.core import CheckResult, RecordFormatError, RunRecord, count_statuses
from mlgates.github.workflow import ANNOTATIONS_PER_STEP, Annotation
from mlgates.report.markdown import render_error_markdown, render_markdown

EXIT_MEANINGS = {
    0: "passed",
    1: "blocked",
    2: "a usage, configuration or input error: nothing was judged",
    3: "an internal error in mlgates: nothing was judged",
}
_STAGE_TABLE = re.compile(r"^[ \t]*\[[ \t]*(?:tool\.mlgates\.)?([A-Za-z_][\w-]*)[ \t]*\]", re.M)
_MESSAGE_CHARS = 2_000


@dataclass(frozen=True)
class RunOutcome:
    """How one ``mlgates run`` ended: its exit code, and its record or its error."""

    exit_code: int
    record: RunRecord | None = None
    error: str | None = None

    @property
    def verdict(self) -> str:
        """``passed``, ``blocked`` or ``error`` (nothing judged)."""
        if self.record is None:
            return "error"
        return "blocked" if self.record.blocked else "passed"


def load_outcome(exit_code: int, json_path: Path, stderr_path: Path | None) -> RunOutcome:
    """Read back what the run step left: the record for exit 0/1, the error for 2/3."""
    if exit_code in (0, 1):
        try:
            record = RunRecord.from_dict(json.loads(json_path.read_text(encoding="utf-8")))
        except (OSError, ValueError, RecordFormatError) as exc:
            return RunOutcome(
                exit_code=3, error=f"the run exited {exit_code} but its record is unreadable: {exc}"
            )
        if record.blocked != (exit_code == 1):
            return RunOutcome(
                exit_code=3,
                error=f"the run exited {exit_code} but its record says "
                f"{'blocked' if record.blocked else 'passed'}",
            )
        return RunOutcome(exit_code=exit_code, record=record)
    return RunOutcome(exit_code=exit_code, error=_error_text(exit_code, stderr_path))


def _error_text(exit_code: int, stderr_path: Path | None) -> str:
    """The ``mlgates: error: …`` lines of the run's error output, else its last lines."""
    text = ""
    if stderr_path is not None:
        try:
            text = stderr_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
    lines = [line for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"mlgates: (internal )?error", line)]
    chosen = "\n".join(errors or lines[-5:])
    fallback = f"mlgates exited with code {exit_code} ({_meaning(exit_code)})"
    return (chosen or fallback)[-_MESSAGE_CHARS:]


def _meaning(exit_code: int) -> str:
    return EXIT_MEANINGS.get(exit_code, "the run stopped before a verdict")


def step_outputs(outcome: RunOutcome, files: dict[str, str]) -> dict[str, str]:
    """The action's outputs: verdict, exit code, counts per status, run id and file paths."""
    record = outcome.record
    checks = record.checks if record else ()
    return {
        "verdict": outcome.verdict,
        "exit-code": str(outcome.exit_code),
        "run-id": record.run_id if record else "",
        "checks": str(len(checks)),
        "blocking": str(sum(1 for c in checks if c.blocking)),
        **{status.value: str(count) for status, count in count_statuses(checks).items()},
        **files,
    }


def summary(
    outcome: RunOutcome,
    *,
    limit: int,
    links: list[tuple[str, str]],
    marker: str = "",
    title: str = "mlgates",
) -> str:
    """The Markdown summary of the run, or of why nothing was judged."""
    if outcome.record is not None:
        return render_markdown(outcome.record, limit=limit, links=links, marker=marker, title=title)
    return render_error_markdown(
        f"exit {outcome.exit_code}: {_meaning(outcome.exit_code)}",
        outcome.error or "",
        marker=marker,
        title=title,
    )


def check_annotations(
    outcome: RunOutcome, *, config_file: Path | None, workspace: Path | None
) -> tuple[list[Annotation], int]:
    """Annotations for the checks that did not pass, and how many were left out.

    Blocking checks come first, as errors; non-blocking ones follow as warnings;
    each kind up to GitHub's 10 per step. A threshold points at its own line, a
    check without one at its stage's table in the config file.
    """
    where = _Locator(config_file, workspace)
    if outcome.record is None:
        return [Annotation("error", outcome.error or "", "mlgates: nothing judged", where.file)], 0
    chosen: list[Annotation] = []
    left_out = 0
    for level, blocking in (("error", True), ("warning", False)):
        checks = sorted(
            (c for c in outcome.record.checks if c.blocking == blocking and c.needs_attention),
            key=lambda c: c.concern,
        )
        for check in checks[:ANNOTATIONS_PER_STEP]:
            file, line = where.of(check)
            message = check.explained()[:_MESSAGE_CHARS]
            chosen.append(Annotation(level, message, f"mlgates {check.id}", file, line))
        left_out += max(len(checks) - ANNOTATIONS_PER_STEP, 0)
    return chosen, left_out


class _Locator:
    """Maps a check to a file in the repository and a line of the config."""

    def __init__(self, config_file: Path | None, workspace: Path | None) -> None:
        self.workspace = (workspace or Path.cwd()).resolve()
        readable = config_file is not None and config_file.is_file()
        self.file = self._relative(config_file) if config_file and readable else None
        self.stage_lines: dict[str, int] = {}
        if config_file is not None and readable:
            try:
                text = config_file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                text = ""
            for match in _STAGE_TABLE.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                self.stage_lines.setdefault(match.group(1), line)

    def of(self, check: CheckResult) -> tuple[str | None, int | None]:
        origin = check.origin
        if origin is not None and origin.file and origin.line:
            return self._relative(Path(origin.file)), origin.line
        return self.file, self.stage_lines.get(check.stage)

    def _relative(self, path: Path) -> str:
        absolute = path if path.is_absolute() else Path.cwd() / path
        try:
            return absolute.resolve().relative_to(self.workspace).as_posix()
        except ValueError:
            return path.as_posix()
