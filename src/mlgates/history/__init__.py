"""The validation history: an append-only store of run records behind a small protocol.

``open_history(".mlgates/history.jsonl")`` gives the JSON Lines store (the
default); ``open_history("sqlite:///.mlgates/history.db")`` the SQLite one.
Relative locations are resolved against ``root``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from mlgates.core import ConfigError, RunRecord
from mlgates.history.jsonl import JsonLinesHistory
from mlgates.history.sqlite import SqliteHistory


class HistoryStore(Protocol):
    """Where run records are appended and read back, oldest first."""

    location: str
    path: Path

    def append(self, record: RunRecord) -> None:
        """Add one run record; never rewrites earlier ones."""

    def records(self) -> list[RunRecord]:
        """Every readable run record, oldest first."""


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


__all__ = ["HistoryStore", "JsonLinesHistory", "SqliteHistory", "open_history"]
