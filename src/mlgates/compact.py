"""The form a run record is stored in: every number trends, anchors and diffs
need, with text and detail bounded so a history of thousands of runs stays small.

:func:`stored_form` keeps, for every check, its metric, selector, status,
value, bound, anchor, interval, threshold, method and origin. Of a check that
passed it drops the message and the details (all but ``anchor_run``, the run a
``previous``/``best`` bound came from): they explain a pass, the numbers
are kept, and a history of thousands of runs stays small (a report rendered
again from it shows such a check's value against its bound). The other checks
keep their message (cut at
:data:`MESSAGE_LIMIT` characters) and the details, bounded: lists cut at
:data:`LIST_LIMIT` items, strings at :data:`TEXT_LIMIT` characters, at most
:data:`DETAIL_LIMIT` bytes per check and :data:`RECORD_DETAIL_BUDGET` per
run, handed out to the checks that block first. Fields that are empty or
default, the check's ``id`` and its ``stage`` (its gate's) are left out.
"""

from __future__ import annotations

import json
from typing import Any

from mlgates.core import RunRecord, Status
from mlgates.text import shorten

MESSAGE_LIMIT = 1_000
TEXT_LIMIT = 2_000
LIST_LIMIT = 50
DETAIL_LIMIT = 8_192
RECORD_DETAIL_BUDGET = 256 * 1024
TRUNCATED = "truncated"
"""Set to true in the details of a check whose details were cut to fit."""

_DEFAULTS: dict[str, Any] = {"severity": "block", "blocking": False}
_DERIVED = ("id", "stage")
_EXPLAINS_A_PASS = ("message", "details")
_AUDIT_DETAILS = ("anchor_run",)
"""Details a passing check keeps: which run its ``previous``/``best`` bound came from."""


def stored_form(record: RunRecord) -> dict[str, Any]:
    """``record`` as the history stores it (a format-3 document
    :meth:`RunRecord.from_dict` reads back)."""
    document = record.to_dict()
    budget = _Budget(RECORD_DETAIL_BUDGET)
    checks = [check for gate in document["gates"] for check in gate["checks"]]
    for check in sorted(checks, key=_concern):  # what blocks gets its details first
        _compact_check(check, budget)
    return document


def stored_line(record: RunRecord) -> str:
    """``record`` in its stored form as one line of compact JSON (no newline)."""
    return json.dumps(stored_form(record), separators=(",", ":"), allow_nan=False)


def _concern(check: dict[str, Any]) -> tuple[bool, int]:
    return (not check.get("blocking"), -Status(check["status"]).rank)


class _Budget:
    def __init__(self, size: int) -> None:
        self.left = size

    def take(self, size: int) -> bool:
        if size > self.left:
            return False
        self.left -= size
        return True


def _compact_check(check: dict[str, Any], budget: _Budget) -> None:
    for key in _DERIVED:
        check.pop(key, None)
    if check["status"] == Status.PASS.value:
        audit = {k: v for k, v in (check.get("details") or {}).items() if k in _AUDIT_DETAILS}
        for key in _EXPLAINS_A_PASS:
            check.pop(key, None)
        if audit:
            check["details"] = audit
    else:
        if check.get("message"):
            check["message"] = shorten(check["message"], MESSAGE_LIMIT)
        if check.get("details"):
            check["details"] = _bounded_details(check["details"], budget)
    for key in [key for key, value in check.items() if _is_default(key, value)]:
        del check[key]


def _is_default(key: str, value: Any) -> bool:
    if key in _DEFAULTS:
        return bool(value == _DEFAULTS[key])
    return value is None or value == {} or value == "" or value == []


def _bounded_details(details: dict[str, Any], budget: _Budget) -> dict[str, Any]:
    cut = [False]
    bounded = _bounded(details, cut, depth=0)
    if cut[0]:
        bounded[TRUNCATED] = True
    size = len(json.dumps(bounded, separators=(",", ":"), allow_nan=False))
    if size > DETAIL_LIMIT or not budget.take(size):
        return {TRUNCATED: True}
    return bounded  # type: ignore[no-any-return]


def _bounded(value: Any, cut: list[bool], depth: int) -> Any:
    if isinstance(value, str):
        if len(value) > TEXT_LIMIT:
            cut[0] = True
        return shorten(value, TEXT_LIMIT)
    if depth >= 6 and isinstance(value, (dict, list)):
        cut[0] = True
        return None
    if isinstance(value, dict):
        return {key: _bounded(item, cut, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        if len(value) > LIST_LIMIT:
            cut[0] = True
        return [_bounded(item, cut, depth + 1) for item in value[:LIST_LIMIT]]
    return value
