"""Shared fixtures: small real data files written to a temporary project."""

from __future__ import annotations

from pathlib import Path

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
