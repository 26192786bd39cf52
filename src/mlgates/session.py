"""One recorded run: load history, run the gates, append the record, write the report.

The CLI and the pytest plugin both end here, so a run is recorded the same way
whichever adapter started it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlgates.config import Config
from mlgates.core import RunRecord
from mlgates.history import HistoryStore, open_history


@dataclass(frozen=True)
class Outputs:
    """Where a recorded run was written."""

    history: str | None
    report: Path | None


def history_store(config: Config) -> HistoryStore:
    """The history store a config names."""
    return open_history(config.history, root=config.root)


def publish(
    config: Config,
    record: RunRecord,
    *,
    earlier: list[RunRecord] | None = None,
    write_history: bool = True,
    report: Path | None = None,
) -> Outputs:
    """Append ``record`` to the history and write the HTML report.

    ``earlier`` is the history as read before the run (read now when ``None``).
    ``report`` overrides the config's report path.
    """
    from mlgates.report import write_html

    store = history_store(config)
    if earlier is None:
        earlier = store.records()
    if write_history:
        store.append(record)
    target = report or config.report
    if target is not None:
        write_html(target, record, earlier)
    return Outputs(history=store.location if write_history else None, report=target)
