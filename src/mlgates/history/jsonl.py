"""JSON Lines history: one run record per line, appended under a file lock."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

from filelock import FileLock

from mlgates.core import InputError, RunRecord
from mlgates.text import shorten

MAX_WARNINGS = 5
"""Unreadable lines warned about one by one; the rest are counted."""


class HistoryWarning(UserWarning):
    """A history line could not be read and was skipped."""


class JsonLinesHistory:
    """Append-only JSON Lines file.

    Appends hold an exclusive lock on ``<file>.lock`` and write the whole line
    in one ``write`` on a file opened for appending, then ``fsync``, so two
    processes appending at once lose nothing. A line left torn by a crash is
    skipped with a :class:`HistoryWarning` and never blocks later appends.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = str(path)

    def _lock(self) -> FileLock:
        return FileLock(str(self.path) + ".lock", timeout=60)

    def append(self, record: RunRecord) -> None:
        """Add ``record`` as one line."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(record.to_dict(), separators=(",", ":"), allow_nan=False) + "\n"
        data = line.encode("utf-8")
        with self._lock():
            descriptor = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                if self._ends_torn(descriptor):
                    data = b"\n" + data  # keep a torn fragment on a line of its own
                written = os.write(descriptor, data)
                while written < len(data):
                    written += os.write(descriptor, data[written:])
                os.fsync(descriptor)
            finally:
                os.close(descriptor)

    @staticmethod
    def _ends_torn(descriptor: int) -> bool:
        size = os.fstat(descriptor).st_size
        if size == 0:
            return False
        return os.pread(descriptor, 1, size - 1) != b"\n"

    def records(self) -> list[RunRecord]:
        """Every readable record, oldest first; unreadable lines warn and are skipped."""
        if not self.path.exists():
            return []
        if not self.path.is_file():
            raise InputError(f"history {self.path} is not a regular file")
        records = []
        skipped: list[str] = []
        with self.path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                text = raw.strip()
                if not text:
                    continue
                try:
                    records.append(RunRecord.from_dict(json.loads(text)))
                except (ValueError, TypeError, RecursionError) as exc:
                    torn = not raw.endswith(b"\n")
                    what = "torn last line" if torn else "unreadable line"
                    skipped.append(
                        f"{self.path}:{number}: skipped {what}: {shorten(str(exc), 200)}"
                    )
        for message in skipped[:MAX_WARNINGS]:
            warnings.warn(message, HistoryWarning, stacklevel=2)
        if len(skipped) > MAX_WARNINGS:
            more = len(skipped) - MAX_WARNINGS
            warnings.warn(f"{self.path}: {more} more unreadable lines skipped", HistoryWarning, 2)
        return records
