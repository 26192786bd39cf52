"""SQLite history: one row per run and one per check, for teams that query their history.

``runs`` holds each record's stored form (the same JSON a JSON Lines history
holds) with its time, verdict and commit; ``checks`` holds one row per check
with its id, status, value, bound and threshold, so a trend is one query::

    SELECT r.started_at, c.value FROM checks c JOIN runs r USING (seq)
    WHERE c.check_id = 'performance::roc_auc' ORDER BY r.seq;

The layout's version is SQLite's ``user_version``; a database of an older
layout is brought up to date (its ``checks`` rows filled in) when it is opened.
"""

from __future__ import annotations

import json
import sqlite3
import warnings
from collections.abc import Iterable
from pathlib import Path

from mlgates.core import InputError, RunRecord
from mlgates.history.encoding import (
    SCHEMA_VERSION,
    UNREADABLE,
    HistoryWarning,
    decode,
    encode,
    is_newer_format,
)

_TABLES = """
CREATE TABLE IF NOT EXISTS runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL UNIQUE,
    started_at TEXT NOT NULL,
    status TEXT NOT NULL,
    blocked INTEGER NOT NULL,
    record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checks (
    seq INTEGER NOT NULL REFERENCES runs (seq) ON DELETE CASCADE,
    check_id TEXT NOT NULL,
    value_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    status TEXT NOT NULL,
    blocking INTEGER NOT NULL,
    value REAL,
    bound REAL,
    anchor_value REAL,
    threshold TEXT,
    PRIMARY KEY (seq, check_id)
);
CREATE INDEX IF NOT EXISTS checks_by_value ON checks (value_id, seq);
"""

_RUN_COLUMNS = frozenset({"seq", "run_id", "started_at", "status", "blocked", "record"})
_ADDED_RUN_COLUMNS = (("git_commit", "TEXT"), ("git_branch", "TEXT"), ("config_path", "TEXT"))


class SqliteHistory:
    """Run records in a SQLite database; SQLite's own locking serialises writers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = f"sqlite:///{path}"

    def _connect(self, *, write: bool = True) -> sqlite3.Connection:
        """A connection to the database. A writer brings an older layout up to date;
        a reader reads it as it is and changes nothing (an unrelated database
        named by mistake is refused, never given mlgates' tables)."""
        try:
            if write:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(self.path, timeout=60)
            else:
                connection = sqlite3.connect(f"{self.path.as_uri()}?mode=ro", timeout=60, uri=True)
        except (sqlite3.Error, OSError) as exc:
            raise self._unusable(exc) from None
        try:
            connection.execute("PRAGMA foreign_keys = ON")
            version = _version(connection)
            if version > SCHEMA_VERSION:
                raise InputError(
                    f"history {self.path}: layout version {version} is newer than this "
                    f"mlgates reads ({SCHEMA_VERSION}); upgrade mlgates"
                )
            if version < SCHEMA_VERSION and not write:
                self._check_readable(connection)
            elif version < SCHEMA_VERSION:
                with connection:
                    connection.execute("BEGIN IMMEDIATE")  # one migration at a time
                    self._migrate(connection)
        except InputError:
            connection.close()
            raise
        except (sqlite3.Error, OSError) as exc:
            connection.close()
            raise self._unusable(exc) from None
        return connection

    def _unusable(self, exc: Exception) -> InputError:
        return InputError(
            f"history {self.path}: not a usable SQLite database ({exc}); "
            "point mlgates.history at another file or move this one away"
        )

    def _check_readable(self, connection: sqlite3.Connection) -> None:
        """An older layout is read (and migrated) as it is: it needs a ``runs`` table
        with the columns every layout had; a database of other tables is not a history."""
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        if "runs" not in tables and tables:
            raise InputError(
                f"history {self.path}: a SQLite database without a runs table, so not an "
                "mlgates history; point mlgates.history at another file"
            )
        if "runs" not in tables:
            return
        columns = {row[1] for row in connection.execute("PRAGMA table_info(runs)")}
        if not columns >= _RUN_COLUMNS:
            missing = ", ".join(sorted(_RUN_COLUMNS - columns))
            raise InputError(
                f"history {self.path}: its runs table lacks the column(s) {missing}; "
                "point mlgates.history at another file or move this one away"
            )

    def _migrate(self, connection: sqlite3.Connection) -> None:
        if _version(connection) == SCHEMA_VERSION:
            return  # another process migrated it meanwhile
        self._check_readable(connection)
        for statement in _TABLES.split(";"):
            if statement.strip():
                connection.execute(statement)
        columns = {row[1] for row in connection.execute("PRAGMA table_info(runs)")}
        for name, kind in _ADDED_RUN_COLUMNS:
            if name not in columns:
                connection.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")
        self._fill_from_records(connection)
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _fill_from_records(self, connection: sqlite3.Connection) -> None:
        """Fill the columns and ``checks`` rows an older layout lacked from the records."""
        rows = connection.execute(
            "SELECT seq, record FROM runs WHERE seq NOT IN (SELECT seq FROM checks)"
        ).fetchall()
        for seq, document in rows:
            try:
                record = decode(document)
            except UNREADABLE:
                continue
            connection.execute(
                "UPDATE runs SET git_commit = ?, git_branch = ?, config_path = ? WHERE seq = ?",
                (*_run_facts(record), seq),
            )
            connection.executemany(_INSERT_CHECK, _check_rows(seq, record))

    def append(self, record: RunRecord) -> None:
        """Add ``record`` as one row of ``runs`` and its checks as rows of ``checks``."""
        row = (record.run_id, record.started_at, record.status.value, int(record.blocked))
        document = encode(record)
        connection = self._connect()
        try:
            with connection:
                cursor = connection.execute(
                    "INSERT INTO runs (run_id, started_at, status, blocked, record, "
                    "git_commit, git_branch, config_path) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (*row, document, *_run_facts(record)),
                )
                seq = cursor.lastrowid
                assert seq is not None
                connection.executemany(_INSERT_CHECK, _check_rows(seq, record))
        except sqlite3.Error as exc:
            raise InputError(f"history {self.path}: cannot append the run ({exc})") from None
        finally:
            connection.close()

    def records(self, *, last: int | None = None) -> list[RunRecord]:
        """Every readable record, oldest first, or only the ``last`` ones;
        unreadable rows warn and are skipped."""
        if not self.path.exists():
            return []
        limit = -1 if last is None else last  # SQLite reads LIMIT -1 as no limit
        connection = self._connect(write=False)
        try:
            if not _has_runs(connection):
                return []  # an empty database: no run recorded yet
            rows = connection.execute(
                "SELECT seq, record FROM "
                "(SELECT seq, record FROM runs ORDER BY seq DESC LIMIT ?) ORDER BY seq",
                (limit,),
            ).fetchall()
        except sqlite3.Error as exc:
            raise InputError(f"history {self.path}: cannot read the runs table ({exc})") from None
        finally:
            connection.close()
        records = []
        for seq, document in rows:
            try:
                records.append(decode(document))
            except UNREADABLE as exc:
                warnings.warn(
                    f"{self.path}: skipped unreadable run (row {seq}): {exc}",
                    HistoryWarning,
                    stacklevel=2,
                )
        return records

    def prune(self, keep: int, *, dry_run: bool = False) -> int:
        """Keep only the newest ``keep`` runs (and their checks); the number removed (or
        that would be, with ``dry_run``). A run of a newer record format among those to
        remove stops the prune: only a newer mlgates may decide about it."""
        if not self.path.exists():
            return 0
        connection = self._connect(write=not dry_run)
        try:
            if not _has_runs(connection):
                return 0
            going = connection.execute(
                "SELECT record FROM runs WHERE seq NOT IN "
                "(SELECT seq FROM runs ORDER BY seq DESC LIMIT ?)",
                (keep,),
            ).fetchall()
            newer = sum(_newer_format(document) for (document,) in going)
            if newer:
                raise InputError(
                    f"history {self.path}: {newer} of the runs to remove were written by a "
                    "newer mlgates; prune with that version"
                )
            if dry_run or not going:
                return len(going)
            with connection:
                removed = connection.execute(
                    "DELETE FROM runs WHERE seq NOT IN "
                    "(SELECT seq FROM runs ORDER BY seq DESC LIMIT ?)",
                    (keep,),
                ).rowcount
            connection.execute("VACUUM")
        except sqlite3.Error as exc:
            raise InputError(f"history {self.path}: cannot prune ({exc})") from None
        finally:
            connection.close()
        return int(removed)


def _has_runs(connection: sqlite3.Connection) -> bool:
    found = connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'runs'").fetchone()
    return found is not None


def _newer_format(document: str) -> bool:
    try:
        return is_newer_format(json.loads(document))
    except ValueError:
        return False


def _version(connection: sqlite3.Connection) -> int:
    return int(connection.execute("PRAGMA user_version").fetchone()[0])


_INSERT_CHECK = (
    "INSERT OR REPLACE INTO checks (seq, check_id, value_id, stage, status, blocking, value, "
    "bound, anchor_value, threshold) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _run_facts(record: RunRecord) -> tuple[str | None, str | None, str | None]:
    commit, branch = record.git.get("commit"), record.git.get("branch")
    return (
        commit if isinstance(commit, str) else None,
        branch if isinstance(branch, str) else None,
        record.config_path,
    )


def _check_rows(seq: int, record: RunRecord) -> Iterable[tuple[object, ...]]:
    for check in record.checks:
        yield (
            seq,
            check.id,
            check.value_id,
            check.stage,
            check.status.value,
            int(check.blocking),
            _finite(check.value),
            _finite(check.bound),
            _finite(check.anchor_value),
            check.threshold,
        )


def _finite(value: float | None) -> float | None:
    """SQLite stores NaN as NULL anyway; infinities are kept as REAL."""
    return None if value is None or value != value else value
