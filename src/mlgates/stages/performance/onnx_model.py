"""An ONNX model behind ``predict`` / ``predict_proba``, run with onnxruntime.

Inputs: one tensor input takes the feature columns in order (``features``, or
every column but the target and ``exclude``); several inputs take the columns
they are named after, one column each (``feature_names_in_``). Outputs: the
first rank-1 tensor is the predicted label; probabilities come from a rank-2
float tensor (columns in sorted label order) or from a ZipMap sequence of
``{label: probability}`` maps, whose keys are the classes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from mlgates.core import InputError

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

_NUMPY_TYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(bool)": np.bool_,
    "tensor(string)": np.object_,
}


class OnnxModel:
    """An ONNX classifier or regressor with the scikit-learn prediction methods."""

    def __init__(self, path: Path, display: str) -> None:
        import onnxruntime

        self.display = display
        self.session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        self.inputs = list(self.session.get_inputs())
        outputs = list(self.session.get_outputs())
        self._label = next(
            (o.name for o in outputs if o.type.startswith("tensor") and len(o.shape or ()) == 1),
            outputs[0].name,
        )
        self._proba = next(
            (
                o.name
                for o in outputs
                if o.name != self._label
                and (
                    o.type.startswith("seq(map(")
                    or (o.type == "tensor(float)" and len(o.shape or ()) == 2)
                )
            ),
            None,
        )
        if len(self.inputs) > 1:
            self.feature_names_in_ = np.array([i.name for i in self.inputs], dtype=object)
        self._last: tuple[pd.DataFrame, dict[str, Any]] | None = None

    def __getattr__(self, name: str) -> Any:
        if name == "predict_proba" and self.__dict__.get("_proba") is not None:
            return self._predict_proba
        raise AttributeError(name)

    def _feed(self, frame: pd.DataFrame) -> dict[str, NDArray[Any]]:
        if len(self.inputs) == 1:
            single = self.inputs[0]
            width = (single.shape or [None, None])[-1]
            if isinstance(width, int) and width != frame.shape[1]:
                raise InputError(
                    f"{self.display} takes {width} features, the data gives {frame.shape[1]} "
                    f"({', '.join(map(str, frame.columns[:10]))}...): list the model's columns "
                    "in performance.features"
                )
            kind = _NUMPY_TYPES.get(single.type, np.float32)
            return {single.name: frame.to_numpy(dtype=kind)}
        return {
            i.name: frame[i.name]
            .to_numpy(dtype=_NUMPY_TYPES.get(i.type, np.float32))
            .reshape(-1, 1)
            for i in self.inputs
        }

    def _run(self, frame: pd.DataFrame) -> dict[str, Any]:
        if self._last is not None and self._last[0] is frame:  # predict, then predict_proba
            return self._last[1]
        names = [self._label] + ([self._proba] if self._proba else [])
        values = self.session.run(names, self._feed(frame))
        found = dict(zip(names, values, strict=True))
        self._last = (frame, found)
        return found

    def predict(self, frame: pd.DataFrame) -> NDArray[Any]:
        """Predicted labels (or values, for a regressor)."""
        return np.asarray(self._run(frame)[self._label]).reshape(-1)

    def _predict_proba(self, frame: pd.DataFrame) -> NDArray[np.float64]:
        raw = self._run(frame)[self._proba or ""]
        if isinstance(raw, list):  # ZipMap: one {label: probability} per row
            labels = sorted(raw[0]) if raw else []
            self.classes_ = np.array(labels)
            return np.array([[row[label] for label in labels] for row in raw], dtype=np.float64)
        return np.asarray(raw, dtype=np.float64)


__all__ = ["OnnxModel"]
