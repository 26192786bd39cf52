"""Per-category share tests: exact p-values, Holm, and both sides of the contract on real tables.

Clean random splits of real category columns must pass at every size; one
category's share doubled (or halved), the rest shrinking (or growing) in
proportion, must be flagged and named with both shares.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import realdata
from mlgates import load_config, run_gates
from mlgates.core import Status
from mlgates.stages.data.measuring import drift_measurement
from mlgates.stats.drift import SHARE_ALPHA_FRACTION, DriftAssessment, assess_drift
from mlgates.stats.profile import CategoricalProfile, profile_against, profile_reference
from mlgates.stats.shares import (
    SHARE_CHANGE,
    SHARE_RATIO,
    holm_rejections,
    share_changes,
    share_p_values,
)

ALPHA = 0.01 / 20
"""The per-column level of a gate with 20 drift checks at the default confidence."""
CLEAN_COLUMNS = (
    ("flights", "carrier"),
    ("flights", "dest"),
    ("airports", "state"),
    ("bird_strikes", "state"),
    ("forbes2000", "country"),
    ("police_use_of_force", "race"),
)
SPLITS = ((150, 100), (1_000, 300), (10_000, 3_000), (100_000, 100_000))


def _split(
    values: pd.Series, reference_rows: int, batch_rows: int, seed: int
) -> tuple[pd.Series, pd.Series] | None:
    """Disjoint random samples of a column; ``None`` when the table is too small."""
    if reference_rows + batch_rows > len(values):
        return None
    order = np.random.default_rng(seed).permutation(len(values))
    reference = values.iloc[order[:reference_rows]].reset_index(drop=True)
    current = values.iloc[order[reference_rows : reference_rows + batch_rows]]
    return reference, current.reset_index(drop=True)


def _assess(reference: pd.Series, current: pd.Series) -> DriftAssessment:
    ref = profile_reference(reference, kind="categorical")
    cur = profile_against(ref, current)
    assert isinstance(ref, CategoricalProfile) and isinstance(cur, CategoricalProfile)
    return assess_drift(ref, cur, alpha=ALPHA)


def _set_share(current: pd.Series, label: str, share: float, rng: np.random.Generator) -> pd.Series:
    """``current`` with ``label`` at ``share`` of its values, the others in proportion.

    Growing, random rows of other labels take ``label``; shrinking, random rows
    of ``label`` take the labels of random other rows.
    """
    values = current.astype(object).to_numpy(copy=True)
    mine = np.flatnonzero(values == label)
    others = np.flatnonzero(values != label)
    wanted = round(share * len(values))
    if wanted >= len(mine):
        values[rng.choice(others, wanted - len(mine), replace=False)] = label
    else:
        donors = rng.choice(others, len(mine) - wanted)
        values[rng.choice(mine, len(mine) - wanted, replace=False)] = values[donors]
    return pd.Series(values, dtype=object)


# -- the statistics ------------------------------------------------------------------


def test_p_values_are_fishers_exact_test_with_the_doubled_smaller_tail() -> None:
    rng = np.random.default_rng(0)
    for _ in range(40):
        n_r, n_c = int(rng.integers(20, 400)), int(rng.integers(20, 400))
        x_r, x_c = int(rng.integers(0, n_r + 1)), int(rng.integers(0, n_c + 1))
        table = [[x_c, n_c - x_c], [x_r, n_r - x_r]]
        greater = stats.fisher_exact(table, alternative="greater").pvalue
        less = stats.fisher_exact(table, alternative="less").pvalue
        expected = min(1.0, 2 * min(greater, less))
        assert share_p_values([x_r], n_r, [x_c], n_c)[0] == pytest.approx(expected, rel=1e-9)


def test_p_values_reject_bad_counts() -> None:
    with pytest.raises(ValueError, match="between 0"):
        share_p_values([11], 10, [1], 10)
    with pytest.raises(ValueError, match="both samples"):
        share_p_values([1], 0, [1], 10)


def test_holm_steps_down_and_stops_at_the_first_acceptance() -> None:
    rejected, levels = holm_rejections([0.001, 0.04, 0.012, 0.5], 0.05)
    assert rejected.tolist() == [True, False, True, False]
    assert levels[0] == pytest.approx(0.05 / 4)
    assert levels[2] == pytest.approx(0.05 / 3)
    assert levels[1] == pytest.approx(0.05 / 2)
    assert math.isnan(levels[3])  # never reached


def test_significant_but_immaterial_changes_are_not_flagged() -> None:
    n = 1_000_000
    # 10% -> 11%: far beyond chance at a million rows, but a ratio of 1.1 only.
    assert share_changes(["a", "b"], [100_000, 900_000], n, [110_000, 890_000], n, alpha=1e-6) == ()
    # 0.5% -> 1.5%: a tripling, but one percentage point.
    assert share_changes(["a", "b"], [5_000, 995_000], n, [15_000, 985_000], n, alpha=1e-6) == ()
    # 8% -> 16%: both.
    found = share_changes(["a", "b"], [80_000, 920_000], n, [160_000, 840_000], n, alpha=1e-6)
    assert [c.label for c in found] == ["a"]  # 'b' 92% -> 84% is not material
    assert found[0].ratio == pytest.approx(2.0)
    assert found[0].describe().startswith("'a' 8.0% -> 16.0% (p ")


def test_defaults_are_documented_constants() -> None:
    assert SHARE_RATIO == 1.5 and SHARE_CHANGE == 0.03 and SHARE_ALPHA_FRACTION == 0.5


@pytest.mark.slow
def test_share_tests_hold_their_level_on_clean_splits_of_a_real_column() -> None:
    """Without any materiality bar, at alpha 0.05: the level is what Holm promises."""
    carriers = realdata.load("flights")["carrier"]
    alarms, runs = 0, 300
    for seed in range(runs):
        pair = _split(carriers, 1_000, 300, seed)
        assert pair is not None
        ref = profile_reference(pair[0], kind="categorical")
        cur = profile_against(ref, pair[1])
        assert isinstance(ref, CategoricalProfile) and isinstance(cur, CategoricalProfile)
        found = share_changes(
            ref.categories, ref.counts, ref.count, cur.counts, cur.count,
            alpha=0.05, ratio=1.0, change=0.0,
        )  # fmt: skip
        alarms += bool(found)
    # Binomial(300, 0.05) exceeds 25 with probability below 0.5%; Holm and the
    # exact test are conservative, so the rate is usually well under 5%.
    assert alarms <= 25, alarms


# -- real tables: clean splits pass, a doubled or halved category is named -------------


def test_clean_random_splits_of_real_category_columns_pass() -> None:
    runs = 0
    for table, column in CLEAN_COLUMNS:
        values = realdata.load(table)[column].dropna()
        for reference_rows, batch_rows in SPLITS:
            for seed in range(4):
                pair = _split(values, reference_rows, batch_rows, seed)
                if pair is None:
                    continue
                result = _assess(*pair)
                runs += 1
                assert not result.drifted, (table, column, reference_rows, batch_rows, seed)
                assert result.share_changes == ()
    assert runs >= 60


@pytest.mark.parametrize(
    ("table", "column", "label", "sizes"),
    [
        ("flights", "carrier", "AA", (10_000, 3_000)),  # 9.7% -> 19.4%
        ("flights", "carrier", "MQ", (100_000, 100_000)),  # 7.8% -> 15.6%
        ("airports", "state", "CA", (2_000, 1_000)),  # 6.1% -> 12.2%, 56 states
        ("bird_strikes", "state", "IL", (10_000, 3_000)),  # 5.8% -> 11.6%, 58 states
    ],
)
def test_a_doubled_category_is_flagged_and_named(
    table: str, column: str, label: str, sizes: tuple[int, int]
) -> None:
    values = realdata.load(table)[column].dropna()
    for seed in range(5):
        pair = _split(values, *sizes, seed)
        assert pair is not None
        reference, current = pair
        share = float(reference.eq(label).mean())
        rng = np.random.default_rng(seed)
        result = _assess(reference, _set_share(current, label, 2 * share, rng))
        assert result.drifted
        assert result.share_changes[0].label == label
        assert result.share_changes[0].ratio == pytest.approx(2.0, rel=0.1)
        message = drift_measurement(column, result).message
        assert f"'{label}' {share:.1%} -> " in message, message


def test_the_distance_alone_misses_a_doubling_the_share_test_catches() -> None:
    """6.9% -> 13.7% of 58 states: the distance stays within its noise floor."""
    values = realdata.load("bird_strikes")["state"].dropna()
    pair = _split(values, 10_000, 5_000, 0)
    assert pair is not None
    reference, current = pair
    share = float(reference.eq("NY").mean())
    result = _assess(reference, _set_share(current, "NY", 2 * share, np.random.default_rng(0)))
    assert not result.distance_drifted
    assert result.drifted and result.share_changes[0].label == "NY"
    message = drift_measurement("state", result).message
    assert message.startswith(f"state: category share changed 'NY' {share:.1%} -> ")
    assert "jensenshannon distance" in message and "no evidence" not in message


@pytest.mark.parametrize(
    ("table", "column", "label", "sizes"),
    [
        ("flights", "carrier", "UA", (10_000, 3_000)),  # 17.4% -> 8.7%
        ("forbes2000", "country", "Japan", (1_000, 1_000)),  # 15.8% -> 7.9%
        ("bird_strikes", "state", "CA", (10_000, 3_000)),  # 9.6% -> 4.8%
    ],
)
def test_a_halved_category_is_flagged_and_named(
    table: str, column: str, label: str, sizes: tuple[int, int]
) -> None:
    values = realdata.load(table)[column].dropna()
    for seed in range(5):
        pair = _split(values, *sizes, seed)
        assert pair is not None
        reference, current = pair
        share = float(reference.eq(label).mean())
        rng = np.random.default_rng(seed)
        result = _assess(reference, _set_share(current, label, share / 2, rng))
        assert result.drifted
        assert result.share_changes[0].label == label
        assert result.share_changes[0].ratio == pytest.approx(0.5, rel=0.1)
        assert f"'{label}' {share:.1%} -> " in drift_measurement(column, result).message


def test_the_gate_blocks_on_a_doubled_category_and_names_it(tmp_path: Path) -> None:
    """Through the data gate: the drift check fails with the share, and counts in drift_share."""
    flights = realdata.load("flights")[["carrier", "origin", "dest", "distance", "air_time"]]
    order = np.random.default_rng(3).permutation(len(flights))
    reference = flights.iloc[order[:20_000]].reset_index(drop=True)
    current = flights.iloc[order[20_000:25_000]].reset_index(drop=True)
    share = float(reference["carrier"].eq("9E").mean())  # 5.5%
    current["carrier"] = _set_share(current["carrier"], "9E", 2 * share, np.random.default_rng(3))
    reference.to_parquet(tmp_path / "reference.parquet")
    current.to_parquet(tmp_path / "current.parquet")
    (tmp_path / "mlgates.toml").write_text(
        '[mlgates]\nreport = ""\n\n[data]\nreference = "reference.parquet"\n'
        'current = "current.parquet"\nchecks = ["drift_share <= 0.1"]\n',
        encoding="utf-8",
    )
    record = run_gates(load_config(tmp_path / "mlgates.toml"))
    failed = record.check("data::drift[carrier]")
    assert failed is not None and failed.status is Status.FAIL and failed.blocking
    assert failed.message.startswith(f"carrier: category share changed '9E' {share:.1%} -> ")
    assert failed.details["share_changes"][0][0] == "9E"
    assert failed.value is not None and failed.value < 0.1  # the distance alone misses it
    drift_share = record.check("data::drift_share")
    assert drift_share is not None and drift_share.status is Status.FAIL
    for column in ("origin", "dest", "distance", "air_time"):
        clean = record.check(f"data::drift[{column}]")
        assert clean is not None and clean.status is Status.PASS, clean.message
