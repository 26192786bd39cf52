"""The reference-versus-current view a drift check carries for a report's chart, on real tables.

Every view is held to its shape (finite numbers, increasing edges, shares over
the non-null values that sum to 1, a few hundred bytes of JSON) and to the raw
values it summarises: the shares are recounted from the rows on the view's
edges. A planted change (a numeric column shifted by one standard deviation, a
category's share doubled, values beyond the reference's range) must show where
a reader of the chart would look for it.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import realdata
from mlgates import load_config, run_gates
from mlgates.core import Status
from mlgates.stats.distribution import MAX_BINS, MAX_CATEGORIES, distribution_view
from mlgates.stats.profile import profile_against, profile_reference

SIZE = 700
"""Most bytes of one view as compact JSON."""
ROUNDING = 1e-3
"""How far rounded shares may sum from 1."""


def _halves(values: pd.Series, seed: int = 0) -> tuple[pd.Series, pd.Series]:
    order = np.random.default_rng(seed).permutation(len(values))
    half = len(values) // 2
    first = values.iloc[order[:half]].reset_index(drop=True)
    return first, values.iloc[order[half:]].reset_index(drop=True)


def _view(reference: pd.Series, current: pd.Series, kind: str | None = None) -> dict[str, Any]:
    profile = profile_reference(reference, kind=kind)  # type: ignore[arg-type]
    view = distribution_view(profile, profile_against(profile, current))
    assert view is not None
    _check_shape(view)
    return view


def _check_shape(view: dict[str, Any]) -> None:
    """The invariants of every view, whatever the column."""
    text = json.dumps(view, allow_nan=False, separators=(",", ":"))
    assert len(text) <= SIZE, f"{len(text)} bytes: {text}"
    reference, current = view["reference"], view["current"]
    numbers = [*reference, *current, *view.get("edges", ()), *view.get("other", ())]
    assert all(isinstance(x, float) and math.isfinite(x) for x in numbers)
    assert min(reference + current) >= 0
    assert len(reference) == len(current)
    if view["kind"] == "numeric":
        edges = view["edges"]
        assert set(view) <= {"kind", "edges", "reference", "current", "datetime", "unit"}
        assert 1 <= len(reference) <= MAX_BINS and len(edges) == len(reference) + 1
        assert all(a < b for a, b in itertools.pairwise(edges))
        for number in numbers:  # at most 4 significant digits (edges may keep more)
            if number not in edges:
                assert float(f"{number:.4g}") == number
        assert sum(reference) == pytest.approx(1, abs=ROUNDING)
        assert sum(current) == pytest.approx(1, abs=ROUNDING)
    else:
        assert set(view) == {"kind", "categories", "reference", "current", "other"}
        assert len(view["categories"]) == len(reference) <= MAX_CATEGORIES
        assert all(isinstance(label, str) for label in view["categories"])
        assert len(view["other"]) == 2
        assert sum(reference) + view["other"][0] == pytest.approx(1, abs=ROUNDING)
        assert sum(current) + view["other"][1] == pytest.approx(1, abs=ROUNDING)


def _recount(values: pd.Series, view: dict[str, Any], reference_min: float) -> np.ndarray:
    """Shares of the non-null values in the view's bins, counted from the rows.

    Bin ``i`` holds ``(edges[i], edges[i+1]]`` (the first its lower edge too),
    but a first bin the reference leaves empty holds the current values below
    the reference's minimum: ``[edges[0], reference_min)``.
    """
    present = values.dropna().to_numpy(dtype=np.float64)
    edges = list(view["edges"])
    assert edges[0] <= present.min() and present.max() <= edges[-1]
    if view["reference"][0] == 0:
        assert edges[0] < reference_min <= edges[1]
        edges[1] = math.nextafter(reference_min, -math.inf)
    bins = np.searchsorted(np.asarray(edges[1:-1]), present, side="left")
    return np.bincount(bins, minlength=len(edges) - 1) / present.size


def _cdf(shares: list[float]) -> np.ndarray:
    return np.cumsum(shares)


def _set_share(values: pd.Series, label: str, share: float, seed: int = 1) -> pd.Series:
    """``values`` with ``label`` at ``share`` of the non-null values, others shrinking in turn."""
    rng = np.random.default_rng(seed)
    out = values.astype(object).to_numpy(copy=True)
    present = ~pd.isna(out)
    mine = np.flatnonzero(present & (out == label))
    others = np.flatnonzero(present & (out != label))
    wanted = round(share * int(present.sum()))
    out[rng.choice(others, wanted - len(mine), replace=False)] = label
    return pd.Series(out, dtype=object)


# -- numbers --------------------------------------------------------------------------


@pytest.mark.parametrize("table", ["breast_cancer", "diabetes", "wine"])
def test_clean_halves_show_matching_bins_recounted_from_the_rows(table: str) -> None:
    frame = realdata.load(table)
    for column in frame.columns:
        reference, current = _halves(frame[column])
        if profile_reference(reference).kind != "numeric":
            continue
        view = _view(reference, current)
        assert view["kind"] == "numeric" and "datetime" not in view
        # the shares are those of the rows on the view's own edges (up to the
        # values that edge rounding moves across an edge)
        for side, values in (("reference", reference), ("current", current)):
            recounted = _recount(values, view, reference.min())
            assert np.abs(recounted - view[side]).max() < 0.015, (column, side)
        # two random halves: the CDFs stay close, and the reference's bins hold
        # about equal mass where the values are not repeated
        gap = np.abs(_cdf(view["reference"]) - _cdf(view["current"])).max()
        assert gap < 1.95 * math.sqrt(2 / len(reference)), column  # KS at 0.1%
        if reference.nunique() > 0.9 * len(reference):
            assert len(view["reference"]) >= 15 and max(view["reference"]) < 0.1, column


def test_a_shift_of_one_standard_deviation_moves_the_current_mass_right() -> None:
    frame = realdata.load("breast_cancer")
    for column in frame.columns.drop("target"):
        reference, current = _halves(frame[column])
        view = _view(reference, current + reference.std())
        ref_cdf, cur_cdf = _cdf(view["reference"]), _cdf(view["current"])
        middle = int(np.abs(ref_cdf - 0.5).argmin())  # the bin ending nearest the median
        assert abs(ref_cdf[middle] - 0.5) < 0.1, column
        assert cur_cdf[middle] < ref_cdf[middle] - 0.25, column
        assert np.all(cur_cdf <= ref_cdf + 0.02), column  # the current CDF lies to the right
        # values above the reference's maximum have a bin the reference leaves empty
        if current.max() + reference.std() > reference.max():
            assert view["reference"][-1] == 0 and view["current"][-1] > 0, column
            assert view["edges"][-2] == pytest.approx(reference.max(), rel=1e-3)
        assert view["edges"][-1] >= max(current.max() + reference.std(), reference.max())


def test_current_values_entirely_beyond_the_reference_range() -> None:
    frame = realdata.load("diabetes")
    reference, current = _halves(frame["bmi"])
    span = reference.max() - reference.min()
    above = _view(reference, current + 2 * span)
    assert above["current"][-1] == 1.0 and sum(above["current"][:-1]) == 0
    assert above["reference"][-1] == 0 and sum(above["reference"][:-1]) == pytest.approx(
        1, abs=1e-3
    )
    assert above["edges"][0] <= reference.min() and above["edges"][-1] >= current.max() + 2 * span
    assert above["edges"][-2] == pytest.approx(reference.max(), rel=1e-3)
    below = _view(reference, current - 2 * span)
    assert below["current"][0] == 1.0 and below["reference"][0] == 0
    assert below["edges"][0] <= current.min() - 2 * span
    assert below["edges"][1] == pytest.approx(reference.min(), rel=1e-3)
    for view in (above, below):
        assert len(view["reference"]) <= MAX_BINS


def test_nulls_are_left_out_of_the_shares() -> None:
    loans = realdata.load("loans")
    police = realdata.load("police_use_of_force")
    for values in (loans["months_since_last_delinq"], loans["debt_to_income"], police["age"]):
        assert values.isna().any()
        reference, current = _halves(values)
        view = _view(reference, current)
        for side, part in (("reference", reference), ("current", current)):
            assert np.abs(_recount(part, view, reference.min()) - view[side]).max() < 0.015
    # one side mostly missing: still shares of its non-null values
    reference, current = _halves(loans["annual_income_joint"])  # 85% missing
    view = _view(reference, current)
    assert np.abs(_recount(current, view, reference.min()) - view["current"]).max() < 0.015


def test_a_constant_column() -> None:
    pixels = realdata.load("digits")
    constant = pixels["pixel_0_0"]  # every digit's corner is blank
    assert constant.nunique() == 1
    reference, current = _halves(constant)
    numeric = _view(reference, current, kind="numeric")
    assert numeric["reference"] == [1.0] and numeric["current"] == [1.0]
    assert numeric["edges"][0] < 0 < numeric["edges"][1]
    labels = _view(reference, current)  # a number with one value is profiled as a label
    assert labels["categories"] == ["0"] and labels["reference"] == labels["current"] == [1.0]
    assert labels["other"] == [0.0, 0.0]
    # a constant reference against values that vary: one reference bin, the rest current
    varied = pixels["pixel_0_2"].iloc[: len(current)].astype(np.float64)
    view = _view(reference, varied, kind="numeric")
    assert view["reference"][0] == 1.0 and sum(view["reference"][1:]) == 0
    assert view["edges"][0] <= 0 and view["edges"][-1] >= varied.max()
    assert np.abs(_recount(varied, view, 0.0) - view["current"]).max() < 1e-3


def test_a_value_repeated_across_quantiles_keeps_bins_with_width() -> None:
    precipitation = realdata.load("seattle_weather")["precipitation"]  # 57% dry days
    reference, current = _halves(precipitation)
    view = _view(reference, current)
    assert view["edges"][0] == 0 and view["reference"][0] == pytest.approx(0.57, abs=0.05)
    assert np.abs(_recount(current, view, reference.min()) - view["current"]).max() < 0.015


def test_dates_are_seconds_since_1970() -> None:
    weather = realdata.load("seattle_weather")
    dates = weather["date"]
    seconds = dates.astype("datetime64[ns]").astype("int64") / 1e9
    reference, current = _halves(dates)
    view = _view(reference, current)
    assert view["datetime"] is True and "unit" not in view
    assert view["edges"][0] <= seconds.min() and view["edges"][-1] >= seconds.max()
    span = seconds.max() - seconds.min()
    assert len(view["edges"]) >= 15  # seconds far from 0: digits enough to keep bins apart
    later = _view(dates[dates.dt.year < 2015], dates[dates.dt.year == 2015])
    assert later["current"][-1] == 1.0 and later["reference"][-1] == 0
    assert later["edges"][-2] == pytest.approx(
        pd.Timestamp("2014-12-31").timestamp(), abs=span / 1e3
    )


def test_durations_are_seconds_with_their_unit() -> None:
    dates = realdata.load("seattle_weather")["date"]
    durations = dates - dates.min()
    reference, current = _halves(durations)
    view = _view(reference, current)
    assert view["unit"] == "s" and "datetime" not in view
    assert view["edges"][-1] >= durations.max().total_seconds()
    assert view["edges"][-1] <= durations.max().total_seconds() * 1.001


def test_text_lengths_and_flags() -> None:
    titles = realdata.load("tate_artworks")["title"]
    reference, current = _halves(titles)
    lengths = _view(reference, current, kind="text")
    assert lengths["kind"] == "numeric" and set(lengths) == {
        "kind",
        "edges",
        "reference",
        "current",
    }
    assert lengths["edges"][-1] >= current.str.strip().str.len().max()
    rainy = realdata.load("seattle_weather")["precipitation"] > 0
    reference, current = _halves(rainy)
    flags = _view(reference, current)
    assert sorted(flags["categories"]) == ["False", "True"]
    assert flags["reference"][flags["categories"].index("True")] == pytest.approx(
        reference.mean(), abs=1e-3
    )


# -- labels ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "column", "label"),
    [("seattle_weather", "weather", "rain"), ("airports", "state", "CA")],
)
def test_a_doubled_category_share_shows_in_the_view(table: str, column: str, label: str) -> None:
    values = realdata.load(table)[column]
    reference, current = _halves(values)
    before = (current == label).sum() / current.notna().sum()
    doubled = _set_share(current, label, 2 * before)
    view = _view(reference, doubled)
    at = view["categories"].index(label)
    ratio = view["current"][at] / view["reference"][at]
    assert 1.7 < ratio < 2.3, ratio
    assert view["categories"][0] == values.value_counts().index[0] or at == 0
    clean = _view(reference, current)
    at = clean["categories"].index(label)
    assert 0.7 < clean["current"][at] / clean["reference"][at] < 1.3


def test_more_than_twelve_categories_fold_into_other() -> None:
    states = realdata.load("airports")["state"]  # 56 labels and a few missing
    assert states.nunique() > MAX_CATEGORIES and states.isna().any()
    reference, current = _halves(states)
    view = _view(reference, current)
    shown = view["categories"]
    assert len(shown) == MAX_CATEGORIES
    shares = {}
    for side, part in (("reference", reference), ("current", current)):
        counts = part.value_counts(normalize=True)  # over the non-null values
        shares[side] = counts
        expected_other = 1 - counts.reindex(shown, fill_value=0).sum()
        assert view["other"][0 if side == "reference" else 1] == pytest.approx(
            expected_other, abs=1e-4
        )
        assert view[side] == pytest.approx(counts.reindex(shown, fill_value=0).tolist(), abs=1e-4)
    larger = pd.concat(shares, axis=1).fillna(0).max(axis=1).sort_values(ascending=False)
    assert larger.iloc[MAX_CATEGORIES - 1] >= larger.iloc[MAX_CATEGORIES]
    assert set(shown) == set(larger.index[:MAX_CATEGORIES])  # ranked by the larger share
    assert [larger[label] for label in shown] == sorted(larger[shown], reverse=True)


def test_a_new_label_gets_its_share_and_long_labels_are_cut() -> None:
    weather = realdata.load("seattle_weather")["weather"]
    reference, current = _halves(weather)
    hail = current.astype(object).copy()
    hail.iloc[:100] = "hail"  # a label the reference never held
    view = _view(reference, hail)
    at = view["categories"].index("hail")
    assert view["reference"][at] == 0 and view["current"][at] == pytest.approx(
        100 / len(hail), abs=1e-4
    )
    titles = realdata.load("tate_artworks")["title"]
    reference, current = _halves(titles)
    view = _view(reference, current, kind="categorical")
    assert all(len(label) <= 32 for label in view["categories"])


def test_views_stay_small_on_real_tables() -> None:
    sizes = []
    for table in (
        "seattle_weather",
        "airports",
        "cars",
        "police_use_of_force",
        "loans",
        "breaches",
    ):
        frame = realdata.load(table)
        for column in frame.columns:
            reference, current = _halves(frame[column])
            profile = profile_reference(reference)
            view = distribution_view(profile, profile_against(profile, current))
            if view is None:  # no value on a side, or every label too rare to keep
                kept = getattr(profile, "categories", True)
                assert reference.isna().all() or current.isna().all() or not kept, column
                continue
            _check_shape(view)
            sizes.append(len(json.dumps(view, separators=(",", ":"))))
    assert len(sizes) > 80 and max(sizes) <= SIZE


def test_no_view_without_values_or_matching_summaries() -> None:
    cars = realdata.load("cars")
    weights = cars["Weight_in_lbs"].astype(np.float64)
    profile = profile_reference(weights)
    assert distribution_view(profile, profile_against(profile, weights * np.nan)) is None
    labels = profile_reference(cars["Origin"])
    assert distribution_view(profile, labels) is None
    other = profile_reference(weights + 1)  # other edges: not summarised on the reference's
    assert distribution_view(profile, other) is None


# -- through the data gate ------------------------------------------------------------


def test_the_drift_checks_carry_the_view_and_the_record_stays_json(tmp_path: Path) -> None:
    weather = realdata.load("seattle_weather")
    order = np.random.default_rng(0).permutation(len(weather))
    reference = weather.iloc[order[:800]].reset_index(drop=True)
    current = weather.iloc[order[800:]].reset_index(drop=True)
    current["temp_max"] += reference["temp_max"].std()
    current.loc[current.sample(frac=0.1, random_state=0).index, "wind"] = np.nan
    reference.to_parquet(tmp_path / "reference.parquet")
    current.to_parquet(tmp_path / "current.parquet")
    current.head(40).to_parquet(tmp_path / "few.parquet")
    config = (
        """[mlgates]\nreport = ""\n\n[data]\nreference = "reference.parquet"\ncurrent = "{}"\n"""
    )
    path = tmp_path / "mlgates.toml"
    path.write_text(config.format("current.parquet"))
    record = run_gates(load_config(path))
    json.dumps(record.to_dict(), allow_nan=False)
    temp = record.check("data::drift[temp_max]")
    assert temp.status is Status.FAIL
    view = temp.details["distribution"]
    _check_shape(view)
    assert view["kind"] == "numeric" and view["reference"][-1] == 0 and view["current"][-1] > 0
    assert record.check("data::drift[weather]").details["distribution"]["kind"] == "categorical"
    wind = record.check("data::drift[wind]").details["distribution"]
    assert (
        np.abs(_recount(current["wind"], wind, reference["wind"].min()) - wind["current"]).max()
        < 0.015
    )
    dates = record.check("data::drift[date]")  # drift-checked: no role says otherwise
    assert dates.details["distribution"]["datetime"] is True
    for check in record.checks:
        if check.metric == "drift" and check.selector:
            _check_shape(check.details["distribution"])
    # too few rows to decide drift: the chart is still there
    path.write_text(config.format("few.parquet"))
    few = run_gates(load_config(path))
    json.dumps(few.to_dict(), allow_nan=False)
    temp = few.check("data::drift[temp_max]")
    assert temp.status is Status.INCONCLUSIVE
    _check_shape(temp.details["distribution"])
