"""The Markdown summary of a run: for a CI job summary or a pull-request comment.

The verdict and what blocks it come first, then per stage the checks that did
not pass, then the rest in a collapsed table. The text stays within a size
budget however many checks a run has: tables are cut between rows, never
inside one, and what was left out is counted.

Every user string (column names, categories, slice values, messages) is
escaped, so it shows as text and never as Markdown, HTML or an @-mention.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from mlgates.core import CheckResult, GateResult, RunRecord, Status

SUMMARY_LIMIT = 1_000_000
"""Bytes a job summary may take (GitHub accepts at most 1 MiB per step)."""

COMMENT_LIMIT = 65_000
"""Bytes a pull-request comment may take (GitHub accepts at most 65,536 characters)."""

_ICONS = {
    Status.PASS: "✅",
    Status.WARN: "⚠️",
    Status.FAIL: "❌",
    Status.INCONCLUSIVE: "❔",
    Status.ERROR: "💥",
    Status.SKIPPED: "⏭️",
}
_MESSAGE_CHARS = 300
_ERROR_BYTES = 50_000  # of an error's text: within a comment's limit too
_SMALLEST_LIMIT = 4_096
_RESERVE = 600  # bytes kept for the closing lines of every section after a cut
_SPECIAL = re.compile(r"([\\`*_\[\]~|])")


def render_markdown(
    record: RunRecord,
    *,
    limit: int = SUMMARY_LIMIT,
    title: str = "mlgates",
    links: Sequence[tuple[str, str]] = (),
    marker: str = "",
) -> str:
    """The summary of ``record`` in at most ``limit`` bytes of UTF-8.

    ``links`` are ``(label, url)`` pairs shown under the verdict (the HTML
    report's artifact, the workflow run); ``marker`` is a first line such as an
    HTML comment that finds this text again (a sticky pull-request comment).
    """
    if limit < _SMALLEST_LIMIT:
        raise ValueError(f"limit {limit}: a summary needs at least {_SMALLEST_LIMIT} bytes")
    budget = _Budget(limit)
    head = [marker] if marker else []
    head += _verdict_lines(record, title)
    if links:
        head.append(" · ".join(f"[{_text(label)}]({_url(url)})" for label, url in links))
        head.append("")
    head += _stage_table(record.gates)
    budget.take_all(head)
    footer = ["", _provenance(record)]
    budget.keep(footer)

    # what blocks comes first, so that a cut never hides it behind warnings
    for heading, blocking in (("Checks that block", True), ("Checks that warn", False)):
        tables = [
            (gate.stage, sorted(chosen, key=lambda c: c.concern))
            for gate in record.gates
            if (chosen := [c for c in gate.checks if c.needs_attention and c.blocking == blocking])
        ]
        if tables and not budget.omitted:
            budget.take_all(["", f"### {heading}"])
        for stage, checks in tables:
            budget.table(
                ["", f"{_text(stage)} check", "value", "bound", "message"], checks, _problem_row
            )
    rest = [c for c in record.checks if not c.needs_attention]
    if rest and not budget.omitted:
        budget.take_all(
            ["", f"<details><summary>{len(rest)} checks passed or were skipped</summary>"]
        )
        budget.table(["", "check", "value", "bound", "interval", "method"], rest, _rest_row)
        budget.take_all(["", "</details>"], force=True)
    elif rest:
        budget.omitted += len(rest)
    return budget.finish(footer)


def render_error_markdown(
    headline: str, error: str, *, title: str = "mlgates", marker: str = ""
) -> str:
    """The summary of a run that judged nothing: ``headline`` and the error, verbatim."""
    fence = "~" * max(3, max((len(run) + 1 for run in re.findall("~+", error)), default=0))
    shown = error.encode()[:_ERROR_BYTES].decode(errors="ignore")
    lines = [marker] if marker else []
    lines += [f"## 💥 {_text(title)}: nothing judged · {_text(headline)}", ""]
    lines += [f"{fence}text", shown, fence, ""]
    return "\n".join(lines)


def _verdict_lines(record: RunRecord, title: str) -> list[str]:
    checks = record.checks
    blocking = [c for c in checks if c.blocking]
    if record.blocked:
        heading = f"## ❌ {_text(title)}: blocked · {len(blocking)} of {len(checks)} checks block"
    else:
        warned = sum(1 for c in checks if c.needs_attention)
        tail = f", {warned} with warnings" if warned else ""
        heading = f"## ✅ {_text(title)}: passed · {len(checks)} checks{tail}"
    lines = [heading, ""]
    if blocking:
        first = blocking[0]
        lines.append(
            f"**Blocked by** {_code(first.id, in_table=False)} ({first.status.value}): "
            f"{_text(_short(first.message))}"
        )
        if len(blocking) > 1:
            lines.append(f"and {len(blocking) - 1} more blocking, listed below.")
        lines.append("")
    if record.partial:
        lines += ["_A partial run: some configured checks were not run._", ""]
    return lines


def _stage_table(gates: Sequence[GateResult]) -> list[str]:
    statuses = list(_ICONS)
    header = ["stage", "verdict", *(s.value for s in statuses), "time"]
    lines = [_row(header), _row(["---", "---"] + ["--:"] * (len(statuses) + 1))]
    for gate in gates:
        counts = gate.counts()
        verdict = "❌ blocked" if gate.blocked else f"{_ICONS[gate.status]} {gate.status.value}"
        cells = [_text(gate.stage), verdict, *(str(counts[s] or "") for s in statuses)]
        lines.append(_row([*cells, f"{gate.duration_s:.1f} s"]))
    return [*lines, ""]


def _problem_row(check: CheckResult) -> list[str]:
    mark = f"{_ICONS[check.status]} {check.status.value}" + (
        "" if check.blocking else " (no block)"
    )
    return [
        mark,
        _code(check.id),
        _text(check.shown(check.value, digits=4)),
        _bound(check),
        _text(_short(check.message)),
    ]


def _rest_row(check: CheckResult) -> list[str]:
    interval = ""
    if check.interval is not None:
        low, high = (check.shown(v, digits=4) for v in check.interval)
        interval = _text(f"[{low}, {high}]")
    return [
        _ICONS[check.status],
        _code(check.id),
        _text(check.shown(check.value, digits=4)),
        _bound(check),
        interval,
        _text(check.method or ""),
    ]


def _bound(check: CheckResult) -> str:
    if check.bound is None:
        return _text(check.threshold or "")
    return _text(check.shown(check.bound, digits=4))


def _provenance(record: RunRecord) -> str:
    def code(text: str) -> str:
        return _code(text, in_table=False)

    facts = [f"config {code(record.config_path or '?')}"]
    if record.profile:
        facts.append(f"profile {code(record.profile)}")
    commit = str(record.git.get("commit") or "")[:10]
    if commit:
        branch = record.git.get("branch")
        facts.append(f"commit {code(commit)}" + (f" on {code(str(branch))}" if branch else ""))
    facts += [f"run {code(record.run_id)}", f"mlgates {_text(record.mlgates_version)}"]
    return "<sub>" + " · ".join(facts) + "</sub>"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MESSAGE_CHARS else text[: _MESSAGE_CHARS - 1] + "…"


def _text(text: str) -> str:
    """``text`` as literal Markdown text: on one line, no markup, no HTML, no mention."""
    text = " ".join(text.split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _SPECIAL.sub(r"\\\1", text)
    # a word joiner after "@", "://" and "www": never a notification, never a link
    return text.replace("@", "@\u2060").replace("://", ":\u2060//").replace("www.", "www\u2060.")


def _code(text: str, *, in_table: bool = True) -> str:
    """``text`` as inline code, whatever backticks it holds (and pipes, in a table cell)."""
    text = " ".join(text.split())
    if in_table:
        text = text.replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    padded = f" {text} " if text.startswith("`") or text.endswith("`") else text
    return f"{fence}{padded}{fence}"


def _url(url: str) -> str:
    return url.replace(" ", "%20").replace(")", "%29").replace("(", "%28")


def _row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cells) + " |"


@dataclass
class _Budget:
    """Lines of the summary, added while they fit in ``limit`` bytes."""

    limit: int
    lines: list[str] = field(default_factory=list)
    used: int = 0
    reserved: int = 0
    omitted: int = 0

    def keep(self, lines: Sequence[str]) -> None:
        """Hold room for ``lines``, added at the end by :meth:`finish`."""
        self.reserved += sum(_size(line) for line in lines) + _RESERVE

    def fits(self, line: str) -> bool:
        return self.used + _size(line) + self.reserved <= self.limit

    def take(self, line: str, *, force: bool = False) -> bool:
        """Add ``line`` if it fits (``force``: a closing line the reserve holds room for)."""
        if not force and not self.fits(line):
            return False
        self.lines.append(line)
        self.used += _size(line)
        return True

    def take_all(self, lines: Iterable[str], *, force: bool = False) -> None:
        for line in lines:
            self.take(line, force=force)

    def table(
        self,
        header: Sequence[str],
        checks: Sequence[CheckResult],
        cells: Callable[[CheckResult], list[str]],
    ) -> None:
        """A table of as many ``checks`` as fit, the rest counted; after a cut, none."""
        head = ["", _row(header), _row(["---"] * len(header))]
        if self.omitted or not self.fits("\n".join(head)):
            self.omitted += len(checks)
            return
        self.take_all(head)
        for shown, check in enumerate(checks):
            if not self.take(_row(cells(check))):
                self.omitted += len(checks) - shown
                return

    def finish(self, footer: Sequence[str]) -> str:
        lines = list(self.lines)
        if self.omitted:
            lines += [
                "",
                f"_{self.omitted} more checks are not shown here (the size limit): "
                "the JSON record and the HTML report list every check._",
            ]
        return "\n".join([*lines, *footer]) + "\n"


def _size(line: str) -> int:
    return len(line.encode()) + 1
