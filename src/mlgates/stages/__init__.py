"""The gate stages, in the order they run."""

from __future__ import annotations

from mlgates.stages.base import Measurement, PlannedCheck, Stage
from mlgates.stages.data import DataStage

STAGES: dict[str, Stage] = {"data": DataStage()}
"""Registered stages by name, in run order."""

__all__ = ["STAGES", "Measurement", "PlannedCheck", "Stage"]
