"""JSON Lines history: one run record per line, appended under a file lock."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

from filelock import FileLock

from mlgates.core import InputError, RunRecord
from mlgates.files import write_bytes_atomically
from mlgates.history.encoding import (
    UNREADABLE,
    HistoryWarning,
    decode,
    encode,
    is_newer_format,
)
from mlgates.text import shorten

MAX_WARNINGS = 5
"""Unreadable lines warned about one by one; the rest are counted."""

_BLOCK = 1 << 16


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
        data = (encode(record) + "\n").encode("utf-8")
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

    def records(self, *, last: int | None = None) -> list[RunRecord]:
        """Every readable record, oldest first, or only the ``last`` ones (read from
        the end of the file); unreadable lines warn and are skipped."""
        try:
            if not self._exists():
                return []
            lines = self._lines() if last is None else self._last_lines(last)
            return self._decoded(lines)
        except OSError as exc:
            raise InputError(
                f"history {self.path}: cannot read it ({exc.strerror or exc})"
            ) from None

    def prune(self, keep: int, *, dry_run: bool = False) -> int:
        """Keep only the newest ``keep`` readable records; the number removed (or that
        would be, with ``dry_run``).

        The file is rewritten under the append lock and replaced atomically (keeping
        its mode), so a concurrent run waits and then appends to the pruned file. A
        record of a newer format among those to remove stops the prune: only a
        newer mlgates may decide about it.
        """
        try:
            if not self._exists():
                return 0
            with self._lock():
                return self._prune(keep, dry_run)
        except OSError as exc:
            raise InputError(
                f"history {self.path}: cannot prune it ({exc.strerror or exc})"
            ) from None

    def _prune(self, keep: int, dry_run: bool) -> int:
        lines = [raw for _, raw in self._lines()]
        start, kept_records = len(lines), 0
        while start > 0 and kept_records < keep:  # newest first, until enough are kept
            start -= 1
            kept_records += _readable(lines[start])
        kinds = [_kind(raw) for raw in lines[:start]]
        if "newer" in kinds:
            raise InputError(
                f"history {self.path}: {kinds.count('newer')} of the runs to remove were "
                "written by a newer mlgates; prune with that version"
            )
        removed = kinds.count("record")
        if dry_run or start == 0:
            return removed
        kept = b"".join(raw if raw.endswith(b"\n") else raw + b"\n" for raw in lines[start:])
        write_bytes_atomically(self.path, kept, mode=self.path.stat().st_mode & 0o7777)
        if kinds.count("unreadable"):
            warnings.warn(
                f"{self.path}: {kinds.count('unreadable')} unreadable line(s) among the removed "
                "runs were dropped with them",
                HistoryWarning,
                stacklevel=3,
            )
        return removed

    def _exists(self) -> bool:
        if not self.path.exists():
            return False
        if not self.path.is_file():
            raise InputError(f"history {self.path} is not a regular file")
        return True

    def _lines(self) -> Iterator[tuple[int, bytes]]:
        with self.path.open("rb") as handle:
            yield from enumerate(handle, start=1)

    def _last_lines(self, count: int) -> list[tuple[int, bytes]]:
        """The last ``count`` non-empty lines, read backwards a block at a time;
        numbered from the end, as negative numbers."""
        with self.path.open("rb") as handle:
            position = handle.seek(0, os.SEEK_END)
            tail = b""
            while position > 0 and tail.count(b"\n") <= count:
                step = min(_BLOCK, position)
                position -= step
                handle.seek(position)
                tail = handle.read(step) + tail
        lines = tail.splitlines(keepends=True)
        if position > 0:
            lines = lines[1:]  # the first one may have started before the block
        kept = [line for line in lines if line.strip()][-count:] if count else []
        return [(i - len(kept), line) for i, line in enumerate(kept)]

    def _decoded(self, lines: Iterable[tuple[int, bytes]]) -> list[RunRecord]:
        records = []
        skipped: list[str] = []
        for number, raw in lines:
            text = raw.strip()
            if not text:
                continue
            try:
                records.append(decode(text))
            except UNREADABLE as exc:
                torn = not raw.endswith(b"\n")
                what = "torn last line" if torn else "unreadable line"
                where = f"{number}" if number > 0 else f"{-number} from the end"
                skipped.append(f"{self.path}:{where}: skipped {what}: {shorten(str(exc), 200)}")
        for message in skipped[:MAX_WARNINGS]:
            warnings.warn(message, HistoryWarning, stacklevel=3)
        if len(skipped) > MAX_WARNINGS:
            more = len(skipped) - MAX_WARNINGS
            warnings.warn(f"{self.path}: {more} more unreadable lines skipped", HistoryWarning, 3)
        return records


def _kind(raw: bytes) -> str:
    """``"record"``, ``"newer"`` (a record of a format this mlgates does not read),
    ``"unreadable"`` or ``"blank"``: judged on the JSON alone, without rebuilding it."""
    if not raw.strip():
        return "blank"
    try:
        document = json.loads(raw)
    except ValueError:
        return "unreadable"
    if not isinstance(document, dict) or "run_id" not in document:
        return "unreadable"
    return "newer" if is_newer_format(document) else "record"


def _readable(raw: bytes) -> bool:
    if not raw.strip():
        return False
    try:
        decode(raw.strip())
    except UNREADABLE:
        return False
    return True
