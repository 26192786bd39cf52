"""Plain JSON values from what stages and libraries hand over (standard library only).

Non-finite floats become the strings ``"nan"``, ``"inf"`` and ``"-inf"`` (JSON
has no such numbers) and read back with :func:`from_json_number`.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from typing import Any

_NON_FINITE = frozenset({"nan", "inf", "-inf"})


def json_number(value: float | None) -> float | str | None:
    """A float for JSON: finite values as numbers, others as ``"nan"``/``"inf"``/``"-inf"``."""
    if value is None or math.isfinite(value):
        return value
    return str(value)


def from_json_number(value: object, what: str = "value") -> float | None:
    """The inverse of :func:`json_number`; raises ``ValueError`` naming ``what`` otherwise."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"{what}: expected a number, got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and value in _NON_FINITE:
        return float(value)
    raise ValueError(f"{what}: expected a number, got {value!r}")


def to_jsonable(value: Any, *, finite: bool = True, nan_as_none: bool = False) -> Any:
    """``value`` as plain JSON types, recursively.

    Handles numpy scalars and arrays (through ``item``/``tolist``), tuples, sets
    and dates; anything else becomes its ``str``. Non-finite floats become
    strings unless ``finite`` is false (for values that are shown, not stored),
    or ``None`` with ``nan_as_none`` (for JSON answers, where null is missing).
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if nan_as_none and not math.isfinite(value):
            return None
        return json_number(float(value)) if finite else float(value)

    def inner(item: Any) -> Any:
        return to_jsonable(item, finite=finite, nan_as_none=nan_as_none)

    if isinstance(value, Mapping):
        return {str(key): inner(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [inner(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted((inner(item) for item in value), key=repr)
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    for name in ("item", "tolist"):
        method = getattr(value, name, None)
        if callable(method) and (name == "tolist" or getattr(value, "ndim", None) == 0):
            try:
                return inner(method())
            except (TypeError, ValueError):
                pass
    return str(value)
