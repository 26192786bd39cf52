"""The validation history: an append-only store of run records behind a small protocol.

``open_history(".mlgates/history.jsonl")`` gives the JSON Lines store (the
default); ``open_history("sqlite:///.mlgates/history.db")`` the SQLite one.
Relative locations are resolved against ``root``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from mlgates.core import ConfigError, RunRecord, UsageError
from mlgates.history.encoding import HistoryWarning
from mlgates.history.jsonl import JsonLinesHistory
from mlgates.history.sqlite import SqliteHistory


class HistoryStore(Protocol):
    """Where run records are appended and read back, oldest first.

    Records are stored in their compact form (:mod:`mlgates.compact`); a record
    that cannot be read (torn by a crash, of a newer format) is skipped with a
    :class:`HistoryWarning`, never an error, so one bad line never loses the rest.
    """

    location: str
    path: Path

    def append(self, record: RunRecord) -> None:
        """Add one run record; never rewrites earlier ones."""

    def records(self, *, last: int | None = None) -> list[RunRecord]:
        """Every readable run record, oldest first; only the ``last`` ones if given."""

    def prune(self, keep: int, *, dry_run: bool = False) -> int:
        """Remove all but the newest ``keep`` records; how many were (or, with
        ``dry_run``, would be) removed."""


def open_history(uri: str, *, root: Path | None = None) -> HistoryStore:
    """The store behind ``uri``: a ``.jsonl`` path or ``sqlite:///path``."""
    base = root or Path.cwd()
    if uri.startswith("sqlite:///"):
        return SqliteHistory((base / uri[len("sqlite:///") :]).resolve())
    if "://" in uri:
        raise ConfigError(
            f"unsupported history location {uri!r}; use a .jsonl path or sqlite:///path",
            key="mlgates.history",
        )
    return JsonLinesHistory((base / uri).resolve())


def open_history_option(uri: str) -> HistoryStore:
    """The store ``--history URI`` names, relative to the working directory as every
    command-line path; a :class:`UsageError` for a location that is neither a
    ``*.jsonl`` file nor ``sqlite:///path``."""
    wanted = "name a JSON Lines file (*.jsonl) or a database as sqlite:///path"
    if uri.startswith("sqlite:"):
        if not uri.startswith("sqlite:///") or uri == "sqlite:///":
            raise UsageError(f"--history {uri!r}: {wanted}")
    elif "://" not in uri and not uri.endswith(".jsonl"):
        raise UsageError(f"--history {uri!r}: {wanted}")
    try:
        return open_history(uri, root=Path.cwd())
    except ConfigError as exc:
        raise UsageError(f"--history: {exc.problem}") from None


__all__ = [
    "HistoryStore",
    "HistoryWarning",
    "JsonLinesHistory",
    "SqliteHistory",
    "open_history",
    "open_history_option",
]
