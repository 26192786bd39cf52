"""mlgates: validation gates for machine-learning deployments.

Declare in ``mlgates.toml`` what data and models must satisfy; run the gates
with ``pytest --mlgates``, ``mlgates run`` or :func:`run_gates`; get one
verdict, a history of every run, and an HTML report.

The public names are imported on first use, so that importing the pytest plugin
(which lives in this package) costs a test run without ``--mlgates`` nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlgates.config import Config, load_config
    from mlgates.core import (
        CheckResult,
        ConfigError,
        GateResult,
        InputError,
        MlgatesError,
        RunRecord,
        Severity,
        Status,
        UsageError,
    )
    from mlgates.history import HistoryStore, open_history
    from mlgates.options import RunOptions
    from mlgates.runner import run_gates
    from mlgates.session import GateSession
    from mlgates.thresholds import Threshold, ThresholdError, parse_threshold

_HOMES = {
    "CheckResult": "mlgates.core",
    "Config": "mlgates.config",
    "ConfigError": "mlgates.core",
    "GateResult": "mlgates.core",
    "GateSession": "mlgates.session",
    "HistoryStore": "mlgates.history",
    "InputError": "mlgates.core",
    "MlgatesError": "mlgates.core",
    "RunOptions": "mlgates.options",
    "RunRecord": "mlgates.core",
    "Severity": "mlgates.core",
    "Status": "mlgates.core",
    "Threshold": "mlgates.thresholds",
    "ThresholdError": "mlgates.thresholds",
    "UsageError": "mlgates.core",
    "load_config": "mlgates.config",
    "open_history": "mlgates.history",
    "parse_threshold": "mlgates.thresholds",
    "run_gates": "mlgates.runner",
}

__all__ = [
    "CheckResult",
    "Config",
    "ConfigError",
    "GateResult",
    "GateSession",
    "HistoryStore",
    "InputError",
    "MlgatesError",
    "RunOptions",
    "RunRecord",
    "Severity",
    "Status",
    "Threshold",
    "ThresholdError",
    "UsageError",
    "load_config",
    "open_history",
    "parse_threshold",
    "run_gates",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'mlgates' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
