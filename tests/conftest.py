"""Shared fixtures: small real data files written to a temporary project; every run record
checked against its JSON Schema."""

from __future__ import annotations

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
