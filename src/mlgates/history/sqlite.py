"""SQLite history: one row per run record, for teams that query their history."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from mlgates.core import RunRecord

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL UNIQUE,
    started_at TEXT NOT NULL,
    status TEXT NOT NULL,
    blocked INTEGER NOT NULL,
    record TEXT NOT NULL
)
"""


class SqliteHistory:
    """Run records in a SQLite database; SQLite's own locking serialises writers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = f"sqlite:///{path}"

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=60)
        connection.execute(_SCHEMA)
        return connection

    def append(self, record: RunRecord) -> None:
        """Add ``record`` as one row."""
        document = json.dumps(record.to_dict(), separators=(",", ":"), allow_nan=False)
        connection = self._connect()
        try:
            with connection:
                connection.execute(
                    "INSERT INTO runs (run_id, started_at, status, blocked, record) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (
                        record.run_id,
                        record.started_at,
                        record.status.value,
                        int(record.blocked),
                        document,
                    ),
                )
        finally:
            connection.close()

    def records(self) -> list[RunRecord]:
        """Every record, oldest first."""
        if not self.path.exists():
            return []
        connection = self._connect()
        try:
            rows = connection.execute("SELECT record FROM runs ORDER BY seq").fetchall()
        finally:
            connection.close()
        return [RunRecord.from_dict(json.loads(row[0])) for row in rows]
