"""Profiles built batch by batch agree with the in-memory ones, and so do the gate's verdicts."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import realdata
from mlgates import load_config, run_gates
from mlgates.datafiles import ParquetBatches, read_frame
from mlgates.stages.data import streamed
from mlgates.stats.profile import (
    CategoricalProfile,
    DatasetProfile,
    NumericProfile,
    profile_dataset,
    profile_dataset_against,
)
from mlgates.stats.streaming import stream_profile, stream_profile_against

ROUNDED = ("mean", "std", "tail_means", "null_quantiles")
"""Sums taken batch by batch: equal up to floating-point rounding."""


def _close(got: Any, want: Any) -> bool:
    if isinstance(want, (list, tuple)):
        return len(got) == len(want) and all(_close(g, w) for g, w in zip(got, want, strict=True))
    if want is None or isinstance(want, str):
        return bool(got == want)
    if isinstance(want, float) and math.isnan(want):
        return isinstance(got, float) and math.isnan(got)
    return bool(got == pytest.approx(want, rel=1e-9, abs=1e-12))


def assert_same_profiles(got: DatasetProfile, want: DatasetProfile) -> None:
    """Equal in everything; sums of floats equal up to rounding."""
    assert got.row_count == want.row_count
    assert got.unprofiled.keys() == want.unprofiled.keys()
    assert list(got.columns) == list(want.columns)
    for name, expected in want.columns.items():
        found = got.columns[name]
        assert type(found) is type(expected), name
        exact = {k: v for k, v in vars(expected).items() if k not in ROUNDED}
        assert {k: v for k, v in vars(found).items() if k not in ROUNDED} == exact, name
        for key in ROUNDED:
            if hasattr(expected, key):
                assert _close(getattr(found, key), getattr(expected, key)), (name, key)


def _parquet(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_parquet(path, row_group_size=max(len(frame) // 7, 1))
    return path


@pytest.mark.parametrize(
    "table", ["seattle_weather", "loans", "covid_testing", "police_use_of_force", "flights"]
)
def test_a_reference_profiled_batch_by_batch_equals_the_in_memory_profile(
    table: str, tmp_path: Path
) -> None:
    path = _parquet(realdata.load(table), tmp_path / "reference.parquet")
    source = ParquetBatches(path, batch_rows=4093)
    got = stream_profile(source, source.columns, sample_rows=source.rows)
    assert_same_profiles(got, profile_dataset(read_frame(path)))


def test_roles_that_change_the_profile_stream_alike(tmp_path: Path) -> None:
    """Free text as its lengths and dates stored as text as times, batch by batch too."""
    tweets = realdata.load("trump_tweets")
    kinds = {"text": "text", "created_at": "datetime", "source": "categorical"}
    path = _parquet(tweets, tmp_path / "reference.parquet")
    source = ParquetBatches(path, batch_rows=3001)
    got = stream_profile(source, source.columns, kinds=kinds, sample_rows=source.rows)
    want = profile_dataset(read_frame(path), kinds=kinds)
    assert_same_profiles(got, want)
    text, created = got.columns["text"], got.columns["created_at"]
    assert isinstance(text, NumericProfile) and text.of == "length"
    assert isinstance(created, NumericProfile) and created.of == "time" and created.temporal


def test_current_data_summarised_batch_by_batch_equals_the_in_memory_summary(
    tmp_path: Path,
) -> None:
    flights = realdata.load("flights")
    reference = profile_dataset(flights[flights["month"] <= 6])
    path = _parquet(flights[flights["month"] > 6].reset_index(drop=True), tmp_path / "cur.parquet")
    source = ParquetBatches(path, batch_rows=5000)
    got = stream_profile_against(reference, source, source.columns)
    assert_same_profiles(got, profile_dataset_against(reference, read_frame(path)))
    # values beyond the reference's range: counted exactly, the most extreme shown
    delays = got.columns["dep_delay"]
    assert isinstance(delays, NumericProfile) and sum(delays.beyond) > 0
    want = profile_dataset_against(reference, read_frame(path)).columns["dep_delay"]
    assert isinstance(want, NumericProfile)
    assert delays.beyond_examples == want.beyond_examples


def test_bin_edges_from_a_row_sample_hold_the_stated_share_of_the_data(tmp_path: Path) -> None:
    flights = realdata.load("flights")
    path = _parquet(flights, tmp_path / "flights.parquet")
    source = ParquetBatches(path, batch_rows=20_000)
    sample = 5_000
    got = stream_profile(source, source.columns, sample_rows=sample)
    want = profile_dataset(read_frame(path))
    for name, expected in want.columns.items():
        found = got.columns[name]
        if isinstance(expected, CategoricalProfile):
            assert found == expected, name
            continue
        assert isinstance(found, NumericProfile)
        # everything the edges do not decide is exact
        for key in ("count", "null_count", "min", "max", "dtype", "family"):
            assert getattr(found, key) == getattr(expected, key), (name, key)
        assert _close(found.mean, expected.mean) and _close(found.std, expected.std), name
        if len(expected.edges) < 99:  # discrete values: a level falls on a run of ties
            continue
        # continuous values: the share at or below each edge is within 4 sigma of its level
        levels = np.arange(1, 100) / 100
        assert len(found.edges) == 99, name
        share = np.cumsum(found.counts)[:-1] / found.count
        bound = 4 * np.sqrt(levels * (1 - levels) / sample)
        assert np.all(np.abs(share - levels) <= bound), name


CONFIG = """
[mlgates]
report = ""
history = "history.jsonl"

[data]
reference = "reference.parquet"
current = "current.parquet"
checks = ["missing_share <= reference + 0.05", "drift_share <= 0.25", "row_count >= 100"]
"""


def _verdicts(directory: Path) -> dict[str, tuple[str, float | None]]:
    record = run_gates(load_config(directory / "mlgates.toml"))
    return {check.id: (check.status.value, check.value) for check in record.checks}


def test_a_large_current_file_gets_the_same_verdicts_when_streamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flights = realdata.load("flights")
    reference = flights[flights["month"] == 1].reset_index(drop=True)
    current = flights[flights["month"] == 7].reset_index(drop=True)  # summer: some columns drift
    reference.to_parquet(tmp_path / "reference.parquet")
    current.to_parquet(tmp_path / "current.parquet", row_group_size=5000)
    (tmp_path / "mlgates.toml").write_text(CONFIG)

    in_memory = _verdicts(tmp_path)
    monkeypatch.setattr(streamed, "STREAM_ROWS", 20_000)
    monkeypatch.setattr(streamed, "BATCH_ROWS", 4_000)
    assert streamed.streams_current(load_config(tmp_path / "mlgates.toml").stages["data"])
    batched = _verdicts(tmp_path)

    assert batched.keys() == in_memory.keys()
    assert {k: s for k, (s, _) in batched.items()} == {k: s for k, (s, _) in in_memory.items()}
    assert "fail" in {status for status, _ in in_memory.values()}
    assert any(k.startswith("data::pii[") for k in in_memory)
    for check, (_, value) in in_memory.items():
        assert _close(batched[check][1], value), check
