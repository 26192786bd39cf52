"""The validation history: an append-only store of run records behind a small protocol.

``open_history(".mlgates/history.jsonl")`` gives the JSON Lines store (the
default); ``open_history("sqlite:///.mlgates/history.db")`` the SQLite one.
Relative locations are resolved against ``root``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from mlgates.core import ConfigError, RunRecord
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

    def prune(self, keep: int) -> int:
        """Remove all but the newest ``keep`` records; how many were removed."""


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


__all__ = [
    "HistoryStore",
    "HistoryWarning",
    "JsonLinesHistory",
    "SqliteHistory",
    "open_history",
]
