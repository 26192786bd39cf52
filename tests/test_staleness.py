"""A batch of dates from an earlier period blocks; a random batch of the same period passes.

Real date columns as their packages ship them: Seattle's daily weather (typed
dates), pet licences (dates as text), tweets (timestamps as text). Random
batches of 100 to 3,000 rows against the rest pass over several seeds; the same
batch moved back one year (last year's export sent again) is flagged, and the
message names both newest dates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import realdata
from mlgates.stages.data.measuring import stale_measurement
from mlgates.stats.profile import profile_against, profile_reference, time_values
from mlgates.stats.staleness import assess_staleness, newer_than

ALPHA = 0.01
DATE_COLUMNS = [
    ("seattle_weather", "date"),
    ("seattle_pets", "license_issue_date"),
    ("trump_tweets", "created_at"),
]


def _split(values: pd.Series, batch: int, seed: int) -> tuple[pd.Series, pd.Series]:
    order = np.random.default_rng(seed).permutation(len(values))
    return values.iloc[order[batch:]], values.iloc[order[:batch]]


@pytest.fixture(scope="module", params=DATE_COLUMNS, ids=lambda p: f"{p[0]}.{p[1]}")
def dates(request: pytest.FixtureRequest) -> pd.Series:
    table, column = request.param
    return realdata.load(table)[column]


@pytest.mark.parametrize("batch", [100, 300, 3000])
def test_random_batches_of_the_same_period_pass(dates: pd.Series, batch: int):
    if batch * 2 > len(dates):
        pytest.skip("table too small for this batch")
    for seed in range(5):
        reference, current = _split(dates, batch, seed)
        ref = profile_reference(reference, kind="datetime")
        result = assess_staleness(ref, profile_against(ref, current), alpha=ALPHA)
        assert not result.flagged, (seed, result)


@pytest.mark.parametrize("batch", [100, 300, 3000])
def test_last_years_batch_sent_again_is_flagged(dates: pd.Series, batch: int):
    if batch * 2 > len(dates):
        pytest.skip("table too small for this batch")
    for seed in range(3):
        reference, current = _split(dates, batch, seed)
        older = time_values(current) - pd.DateOffset(years=1)
        ref = profile_reference(reference, kind="datetime")
        result = assess_staleness(ref, profile_against(ref, older), alpha=ALPHA)
        assert result.flagged and result.share > 0.05, (seed, result)
        message = stale_measurement("when", result, temporal=True).message
        assert (
            str(older.max().year) in message and str(time_values(reference).max().year) in message
        )


def test_a_batch_newer_than_the_reference_passes_with_no_reference_value_newer():
    times = pd.Series(pd.date_range("2024-01-01", periods=5000, freq="h"))
    ref = profile_reference(times.iloc[:4000], kind="datetime")
    result = assess_staleness(ref, profile_against(ref, times.iloc[4000:]), alpha=ALPHA)
    assert result.newer == 0 and result.p_value == 1.0 and not result.flagged


def test_newer_than_reads_the_count_from_the_bins():
    values = pd.Series(np.arange(10_000, dtype=float))
    profile = profile_reference(values, kind="numeric")
    assert newer_than(profile, 8999.5) == pytest.approx(1000, rel=0.01)
    assert newer_than(profile, -1) == 10_000
    assert newer_than(profile, 10_000) == 0


def test_dates_as_text_that_do_not_parse_are_missing():
    texts = pd.Series(["2024-03-01", "2024-03-02T10:00:00Z", "31/12/2024", None])
    times = time_values(texts)
    assert times.isna().tolist() == [False, False, True, True]
    assert times.iloc[1] == pd.Timestamp("2024-03-02 10:00:00")
