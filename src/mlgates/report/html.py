"""The HTML report: one self-contained file (inline CSS, no network resources)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mlgates.core import CheckResult, RunRecord
from mlgates.files import write_text_atomically

HISTORY_ROWS = 30


def render_html(record: RunRecord, history: Sequence[RunRecord] = ()) -> str:
    """The report of ``record``, with the most recent runs of ``history`` for context."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("mlgates", "report/templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["shown"] = _shown
    template = environment.get_template("report.html.j2")
    earlier = [r for r in history if r.run_id != record.run_id][-HISTORY_ROWS:]
    return template.render(record=record, history=list(reversed(earlier)))


def _shown(check: CheckResult, name: str) -> str:
    """A check's ``value`` or ``bound``: a duration (``4d 3h``) for a metric in seconds."""
    value: float | None = getattr(check, name)
    return "" if value is None else check.shown(value, digits=4)


def write_html(path: Path, record: RunRecord, history: Sequence[RunRecord] = ()) -> Path:
    """Write the report atomically to ``path`` and return it."""
    html = render_html(record, history)
    write_text_atomically(path, html)
    return path
