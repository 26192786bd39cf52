"""SQLite history: one row per run record, for teams that query their history."""

from __future__ import annotations

import json
import sqlite3
import warnings
from pathlib import Path

from mlgates.core import InputError, RunRecord
from mlgates.history.jsonl import HistoryWarning

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


_COLUMNS = frozenset({"seq", "run_id", "started_at", "status", "blocked", "record"})


class SqliteHistory:
    """Run records in a SQLite database; SQLite's own locking serialises writers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = f"sqlite:///{path}"

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=60)
            connection.execute(_SCHEMA)
            columns = {row[1] for row in connection.execute("PRAGMA table_info(runs)")}
            if not columns >= _COLUMNS:
                connection.close()
                missing = ", ".join(sorted(_COLUMNS - columns))
                raise InputError(
                    f"history {self.path}: its runs table lacks the column(s) {missing}; "
                    "point mlgates.history at another file or move this one away"
                )
        except (sqlite3.Error, OSError) as exc:
            raise InputError(
                f"history {self.path}: not a usable SQLite database ({exc}); "
                "point mlgates.history at another file or move this one away"
            ) from None
        return connection

    def append(self, record: RunRecord) -> None:
        """Add ``record`` as one row."""
        document = json.dumps(record.to_dict(), separators=(",", ":"), allow_nan=False)
        row = (record.run_id, record.started_at, record.status.value, int(record.blocked), document)
        connection = self._connect()
        try:
            with connection:
                connection.execute(
                    "INSERT INTO runs (run_id, started_at, status, blocked, record) "
                    "VALUES (?, ?, ?, ?, ?)",
                    row,
                )
        except sqlite3.Error as exc:
            raise InputError(f"history {self.path}: cannot append the run ({exc})") from None
        finally:
            connection.close()

    def records(self) -> list[RunRecord]:
        """Every readable record, oldest first; unreadable rows warn and are skipped."""
        if not self.path.exists():
            return []
        connection = self._connect()
        try:
            rows = connection.execute("SELECT seq, record FROM runs ORDER BY seq").fetchall()
        except sqlite3.Error as exc:
            raise InputError(f"history {self.path}: cannot read the runs table ({exc})") from None
        finally:
            connection.close()
        records = []
        for seq, document in rows:
            try:
                records.append(RunRecord.from_dict(json.loads(document)))
            except (ValueError, TypeError, RecursionError) as exc:
                warnings.warn(
                    f"{self.path}: skipped unreadable run (row {seq}): {exc}",
                    HistoryWarning,
                    stacklevel=2,
                )
        return records
