"""The run context: files hashed once, models loaded once per content, predictions shared,
and helper programs run with a timeout and read as JSON."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from mlgates.context import Context
from mlgates.processes import ProcessFailed, run_json


def _load_skops(path: Path):
    import skops.io as sio

    return sio.load(path, trusted=sio.get_untrusted_types(file=path))


def test_models_and_predictions_are_computed_once_per_content(tmp_path: Path, example: Path):
    model_path = example / "models" / "candidate.skops"
    copy = tmp_path / "same-model.skops"
    shutil.copyfile(model_path, copy)
    context = Context(example)
    loads: list[Path] = []

    def load(path: Path):
        loads.append(path)
        return _load_skops(path)

    model = context.model(model_path, load)
    assert context.model(copy, load) is model  # the same bytes under another name
    assert loads == [model_path]

    data = example / "data" / "current.parquet"
    frame = context.frame(data)
    inputs = frame.drop(columns=["applicant_id", "default"])
    inputs = inputs.astype({c: object for c in inputs.select_dtypes("string").columns})
    calls = 0

    def predict():
        nonlocal calls
        calls += 1
        return model.predict_proba(inputs)[:, 1]

    first = context.predictions(model_path, data, "predict_proba", predict)
    again = context.predictions(copy, data, "predict_proba", predict)
    assert calls == 1 and again is first and len(first) == len(frame)
    assert float(first.min()) >= 0.0 and float(first.max()) <= 1.0
    other = context.predictions(model_path, data, "predict", lambda: model.predict(inputs))
    assert other is not first
    assert set(context.files) == {
        "models/candidate.skops",
        str(copy),
        "data/current.parquet",
    }


def test_run_json_reads_the_output_of_a_real_process(tmp_path: Path):
    code = "import json, sys; print(json.dumps({'rows': 3, 'argv': sys.argv[1:]}))"
    assert run_json([sys.executable, "-c", code, "a"], timeout=60, what="the probe") == {
        "rows": 3,
        "argv": ["a"],
    }


@pytest.mark.parametrize(
    ("code", "timeout", "fragment"),
    [
        ("import time; time.sleep(30)", 1, "the probe: no answer within 1 s"),
        (
            "import sys; sys.stderr.write('boom: no model'); sys.exit(4)",
            60,
            "exited with code 4: boom",
        ),
        ("print('not json')", 60, "expected JSON on standard output"),
    ],
)
def test_run_json_failures_are_explained(code: str, timeout: float, fragment: str):
    with pytest.raises(ProcessFailed, match=fragment):
        run_json([sys.executable, "-c", code], timeout=timeout, what="the probe")


def test_run_json_names_a_missing_program():
    with pytest.raises(ProcessFailed, match="cannot start 'no-such-program-xyz': not found"):
        run_json(["no-such-program-xyz"], timeout=5, what="the audit")
