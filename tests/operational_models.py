"""A model for the operational gate's tests, saved as a pickle: servers that load it import
this module (the tests put this directory on their ``PYTHONPATH``)."""

from __future__ import annotations

from typing import Any

import pandas as pd


class FailsAbove:
    """A fitted model that raises on any row whose ``column`` is above ``limit``."""

    def __init__(self, model: Any, column: str, limit: float) -> None:
        self.model = model
        self.column = column
        self.limit = limit
        self.feature_names_in_ = model.feature_names_in_
        self.classes_ = model.classes_

    def _check(self, frame: pd.DataFrame) -> None:
        if (frame[self.column] > self.limit).any():
            raise ValueError(f"{self.column} above {self.limit:g}")

    def predict(self, frame: pd.DataFrame) -> Any:
        """The model's predictions, unless a row is above the limit."""
        self._check(frame)
        return self.model.predict(frame)

    def predict_proba(self, frame: pd.DataFrame) -> Any:
        """The model's probabilities, unless a row is above the limit."""
        self._check(frame)
        return self.model.predict_proba(frame)
