"""Shared fixtures: small real data files written to a temporary project; every run record
checked against its JSON Schema."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A directory with reference and current CSV files of the diabetes data set."""
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True).frame
    frame.iloc[: len(frame) // 2].to_csv(tmp_path / "reference.csv", index=False)
    frame.iloc[len(frame) // 2 :].to_csv(tmp_path / "current.csv", index=False)
    return tmp_path


EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "credit"


def copy_example(destination: Path) -> Path:
    """A copy of the credit example at ``destination`` whose models load here.

    skops files load with the scikit-learn release that saved them
    (``models/versions.json``); under another release (an older Python's, the
    deepchecks environment's) the copy's data and models are rebuilt by its
    ``make_example.py``, so the tests run what a user of that release would.
    """
    ignore = shutil.ignore_patterns(".mlgates", "__pycache__")
    shutil.copytree(_usable_example(), destination, ignore=ignore)
    return destination


@functools.cache
def _usable_example() -> Path:
    """The example itself, or once per process a copy rebuilt for this scikit-learn."""
    import sklearn

    saved = json.loads((EXAMPLE / "models" / "versions.json").read_text(encoding="utf-8"))
    if saved["scikit-learn"] == sklearn.__version__:
        return EXAMPLE
    rebuilt = Path(tempfile.mkdtemp(prefix="mlgates-example-")) / "credit"
    shutil.copytree(EXAMPLE, rebuilt, ignore=shutil.ignore_patterns(".mlgates", "__pycache__"))
    subprocess.run(
        [sys.executable, "make_example.py"],
        cwd=rebuilt,
        capture_output=True,
        check=True,
        timeout=600,
    )
    return rebuilt


@pytest.fixture(scope="session")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of the credit example per test process (see :func:`copy_example`)."""
    return copy_example(tmp_path_factory.mktemp("example") / "credit")


def write_config(directory: Path, text: str, name: str = "mlgates.toml") -> Path:
    """Write a config file and return its path."""
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(autouse=True, scope="session")
def run_records_match_their_schema() -> Iterator[None]:
    """Every run record the tests build in this process is checked against the JSON Schema
    that ships with the package, as it is turned into JSON (history, --json, reports)."""
    import json
    from importlib.resources import files

    import jsonschema

    from mlgates.core import RunRecord

    schema = json.loads((files("mlgates") / "schemas/run-record.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    to_dict = RunRecord.to_dict

    def validated(record: RunRecord) -> dict[str, Any]:
        data = to_dict(record)
        error = jsonschema.exceptions.best_match(validator.iter_errors(data))
        if error is not None:
            path = "/".join(str(part) for part in error.absolute_path)
            raise AssertionError(f"run record breaks its JSON Schema at {path}: {error.message}")
        return data

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(RunRecord, "to_dict", validated)
        yield
