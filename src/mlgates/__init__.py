"""mlgates: validation gates for machine-learning deployments.

Declare in ``mlgates.toml`` what data and models must satisfy; run the gates
with ``pytest --mlgates``, ``mlgates run`` or :func:`run_gates`; get one
verdict, a history of every run, and an HTML report.
"""

from __future__ import annotations

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
)
from mlgates.history import HistoryStore, open_history
from mlgates.runner import run_gates
from mlgates.thresholds import Threshold, ThresholdError, parse_threshold

__all__ = [
    "CheckResult",
    "Config",
    "ConfigError",
    "GateResult",
    "HistoryStore",
    "InputError",
    "MlgatesError",
    "RunRecord",
    "Severity",
    "Status",
    "Threshold",
    "ThresholdError",
    "load_config",
    "open_history",
    "parse_threshold",
    "run_gates",
]
