"""How a run record becomes one line of text in a history, and back."""

from __future__ import annotations

import json

from mlgates.compact import stored_line
from mlgates.core import RECORD_FORMAT, RunRecord

SCHEMA_VERSION = 2
"""Version of a history's own layout (the SQLite tables); each record carries its
own ``format`` as well (:data:`mlgates.core.RECORD_FORMAT`)."""

UNREADABLE = (ValueError, TypeError, RecursionError)
"""What reading a damaged or foreign record raises (RecordFormatError is a ValueError)."""


class HistoryWarning(UserWarning):
    """A history line or row could not be read and was skipped."""


encode = stored_line
"""``record`` in its stored form, as one line of compact JSON (no newline)."""


def is_newer_format(document: object) -> bool:
    """Whether a stored JSON document is a record of a format this mlgates does not
    read: only the mlgates that wrote it may decide about it (prune keeps it)."""
    version = document.get("format", 1) if isinstance(document, dict) else None
    return isinstance(version, int) and version > RECORD_FORMAT


def decode(text: str | bytes) -> RunRecord:
    """The run record of one stored line; raises one of :data:`UNREADABLE`."""
    return RunRecord.from_dict(json.loads(text))
