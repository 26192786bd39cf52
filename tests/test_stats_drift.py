"""Drift distances against scipy, and noise floors that hold their false-alarm level."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from mlgates.stats.drift import (
    DEFAULT_THRESHOLDS,
    assess_drift,
    default_method,
    ks_statistic,
    methods_for,
    wasserstein_distance,
    wasserstein_null_quantile,
)
from mlgates.stats.profile import (
    CategoricalProfile,
    NumericProfile,
    profile_against,
    profile_reference,
)

WASSERSTEIN_TOLERANCE = 0.03
"""Largest relative gap allowed between the binned W1 and scipy's exact W1 (measured: < 1.5%)."""


def _numeric(reference: np.ndarray, current: np.ndarray) -> tuple[NumericProfile, NumericProfile]:
    ref = profile_reference(pd.Series(reference), kind="numeric")
    cur = profile_against(ref, pd.Series(current))
    assert isinstance(ref, NumericProfile) and isinstance(cur, NumericProfile)
    return ref, cur


def _categorical(
    reference: list[str] | np.ndarray, current: list[str] | np.ndarray
) -> tuple[CategoricalProfile, CategoricalProfile]:
    ref = profile_reference(pd.Series(reference), kind="categorical")
    cur = profile_against(ref, pd.Series(current))
    assert isinstance(ref, CategoricalProfile) and isinstance(cur, CategoricalProfile)
    return ref, cur


def test_methods_by_kind() -> None:
    ref, _ = _numeric(np.arange(100.0), np.arange(100.0))
    cat, _ = _categorical(["a", "b"], ["a"])
    assert default_method(ref) == "wasserstein"
    assert default_method(cat) == "jensenshannon"
    assert methods_for(ref) == ("wasserstein", "ks", "psi")
    assert methods_for(cat) == ("jensenshannon", "psi")
    assert dict(DEFAULT_THRESHOLDS) == {
        "wasserstein": 0.1,
        "jensenshannon": 0.1,
        "psi": 0.2,
        "ks": 0.1,
    }
    assessment = assess_drift(ref, profile_against(ref, pd.Series(np.arange(100.0))))
    assert assessment.method == "wasserstein" and assessment.threshold == 0.1


# -- distances against references ----------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_jensenshannon_equals_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = np.array(list("abcdefgh"))
    reference = rng.choice(labels[:6], 500, p=[0.3, 0.2, 0.2, 0.15, 0.1, 0.05])
    current = rng.choice(labels, 400)  # includes labels the reference never saw
    ref = profile_reference(pd.Series(reference), max_categories=5)
    cur = profile_against(ref, pd.Series(current))
    assert isinstance(ref, CategoricalProfile) and isinstance(cur, CategoricalProfile)
    result = assess_drift(ref, cur, method="jensenshannon")
    p = np.array([*ref.counts, ref.other_count], dtype=float)
    q = np.array([*cur.counts, cur.other_count], dtype=float)
    assert cur.other_count > 0
    assert result.distance == pytest.approx(jensenshannon(p, q, base=2), abs=1e-9)


def test_psi_matches_the_formula_on_a_hand_made_example() -> None:
    ref, cur = _categorical(
        ["a"] * 50 + ["b"] * 30 + ["c"] * 20,
        ["a"] * 40 + ["b"] * 30 + ["d"] * 30,  # c vanishes, d is new
    )
    r = np.array([0.5, 0.3, 0.2, 0.0])
    c = np.array([0.4, 0.3, 0.0, 0.3])
    r, c = np.where(r > 0, r, 1e-4), np.where(c > 0, c, 1e-4)
    r, c = r / r.sum(), c / c.sum()
    expected = float(np.sum((c - r) * np.log(c / r)))
    result = assess_drift(ref, cur, method="psi")
    assert result.distance == pytest.approx(expected, rel=1e-12)
    assert result.drifted == (result.distance > 0.2 and result.distance > result.noise_floor)


def test_numeric_psi_uses_reference_deciles() -> None:
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal(10_000), rng.normal(0.3, 1.1, 5000)
    ref, cur = _numeric(x, y)
    deciles = np.quantile(x, np.arange(1, 10) / 10)
    r = np.bincount(np.searchsorted(deciles, x, side="left"), minlength=10) / x.size
    c = np.bincount(np.searchsorted(deciles, y, side="left"), minlength=10) / y.size
    expected = float(np.sum((c - r) * np.log(c / r)))
    result = assess_drift(ref, cur, method="psi")
    assert result.distance == pytest.approx(expected, rel=1e-9)
    assert result.top_changes[0][0].startswith("(")


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("normal", lambda rng: (rng.standard_normal(3000), rng.normal(0.2, 1.3, 2000))),
        ("lognormal", lambda rng: (rng.lognormal(0, 1, 3000), rng.lognormal(0.3, 0.8, 2000))),
        ("discrete", lambda rng: (rng.poisson(30, 3000), rng.poisson(33, 2000))),
        ("small", lambda rng: (rng.standard_normal(150), rng.normal(0.5, 1.0, 80))),
    ],
)
def test_ks_is_within_one_bin_mass_below_scipy(name: str, make) -> None:
    x, y = make(np.random.default_rng(3))
    ref, cur = _numeric(x.astype(float), y.astype(float))
    exact = stats.ks_2samp(x, y).statistic
    binned = ks_statistic(ref, cur)
    bin_mass = max(
        r / ref.count + c / cur.count for r, c in zip(ref.counts, cur.counts, strict=True)
    )
    assert exact - bin_mass - 1e-12 <= binned <= exact + 1e-12, name
    assert assess_drift(ref, cur, method="ks").distance == binned


def _real_columns() -> list[tuple[str, np.ndarray, np.ndarray]]:
    from sklearn.datasets import load_breast_cancer, load_diabetes

    cancer = load_breast_cancer(as_frame=True).frame
    benign = cancer["target"] == 1
    diabetes = load_diabetes(as_frame=True, scaled=False).frame
    low = diabetes["target"] < 140
    columns = [
        (f"breast_cancer {c}", cancer.loc[benign, c].to_numpy(), cancer.loc[~benign, c].to_numpy())
        for c in ("mean area", "mean texture", "worst smoothness")
    ]
    columns += [
        (f"diabetes {c}", diabetes.loc[low, c].to_numpy(), diabetes.loc[~low, c].to_numpy())
        for c in ("bmi", "bp", "s5")
    ]
    return columns


def test_wasserstein_agrees_with_scipy_on_synthetic_and_real_data() -> None:
    rng = np.random.default_rng(11)
    cases = [
        ("normal shift", rng.standard_normal(20_000), rng.normal(0.3, 1.0, 20_000)),
        ("normal scale", rng.standard_normal(20_000), rng.normal(0.0, 1.5, 10_000)),
        ("lognormal", rng.lognormal(0, 1, 20_000), rng.lognormal(0.2, 1, 20_000)),
        ("lognormal scale", rng.lognormal(0, 1, 5000), 1.3 * rng.lognormal(0, 1, 5000)),
        *_real_columns(),
    ]
    for name, x, y in cases:
        ref, cur = _numeric(x.astype(float), y.astype(float))
        exact = stats.wasserstein_distance(x, y) / np.std(x)
        binned = wasserstein_distance(ref, cur)
        assert binned == pytest.approx(exact, rel=WASSERSTEIN_TOLERANCE), name
        assert assess_drift(ref, cur).distance == binned


def test_wasserstein_counts_mass_beyond_the_reference_range() -> None:
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 1, 5000)
    y = np.concatenate([rng.uniform(0, 1, 4000), rng.uniform(9, 10, 1000)])
    ref, cur = _numeric(x, y)
    exact = stats.wasserstein_distance(x, y) / np.std(x)
    assert wasserstein_distance(ref, cur) == pytest.approx(exact, rel=WASSERSTEIN_TOLERANCE)


def test_identical_data_has_zero_distance() -> None:
    x = np.random.default_rng(0).standard_normal(1000)
    ref, cur = _numeric(x, x)
    for method in methods_for(ref):
        result = assess_drift(ref, cur, method=method)
        assert result.distance == pytest.approx(0.0, abs=1e-12)
        assert not result.drifted
        assert result.top_changes == ()


# -- top changes and errors -----------------------------------------------------------


def test_top_changes_name_the_categories_that_moved() -> None:
    ref, cur = _categorical(
        ["a"] * 60 + ["b"] * 30 + ["c"] * 10,
        ["a"] * 30 + ["b"] * 30 + ["c"] * 10 + ["new"] * 30,
    )
    result = assess_drift(ref, cur)
    assert result.top_changes == (("a", 0.6, 0.3), ("<rare or new>", 0.0, 0.3))
    assert result.n_reference == 100 and result.n_current == 100


def test_top_changes_label_numeric_bins_as_intervals() -> None:
    ref, cur = _numeric(np.arange(1.0, 101.0), np.arange(1.0, 101.0) + 50)
    result = assess_drift(ref, cur)
    assert len(result.top_changes) == 3
    label, share_r, share_c = result.top_changes[0]
    assert label.startswith("(") and (label.endswith("]") or label.endswith(")"))
    assert share_r != share_c


def test_mismatched_profiles_and_methods_are_rejected() -> None:
    rng = np.random.default_rng(0)
    ref, cur = _numeric(rng.standard_normal(500), rng.standard_normal(500))
    cat, cat_cur = _categorical(["a", "b"], ["a", "b"])
    with pytest.raises(ValueError, match="'jensenshannon' does not apply to a numeric column"):
        assess_drift(ref, cur, method="jensenshannon")
    with pytest.raises(ValueError, match="'ks' does not apply to a categorical column"):
        assess_drift(cat, cat_cur, method="ks")
    with pytest.raises(ValueError, match="different bin edges"):
        assess_drift(ref, replace(cur, edges=cur.edges[1:], counts=cur.counts[1:]))
    with pytest.raises(ValueError, match="different categories"):
        assess_drift(cat, replace(cat_cur, categories=("b", "a")))
    with pytest.raises(ValueError, match="reference profile is numeric but the current one"):
        assess_drift(ref, cat_cur)
    empty = profile_against(ref, pd.Series([np.nan, np.nan]))
    with pytest.raises(ValueError, match="no non-null values"):
        assess_drift(ref, empty)
    with pytest.raises(ValueError, match="alpha"):
        assess_drift(ref, cur, alpha=0.0)


# -- noise floors ---------------------------------------------------------------------


def test_null_quantile_table_interpolates_and_extends_its_tail() -> None:
    table = ((0.5, 1.0), (0.9, 2.0), (0.99, 3.0), (1.0, 0.5))
    assert wasserstein_null_quantile(table, 0.9) == pytest.approx(2.0)
    assert wasserstein_null_quantile(table, 0.3) == 1.0
    between = -math.log(1 - 0.95)
    expected = 2.0 + (between - -math.log(0.1)) / (-math.log(0.01) - -math.log(0.1))
    assert wasserstein_null_quantile(table, 0.95) == pytest.approx(expected)
    assert wasserstein_null_quantile(table, 0.9999) == pytest.approx(3.0 + 0.5 * math.log(100))


def test_noise_floor_is_computed_when_a_profile_has_no_table() -> None:
    rng = np.random.default_rng(2)
    ref, cur = _numeric(rng.standard_normal(2000), rng.standard_normal(2000))
    stored = assess_drift(ref, cur, alpha=0.001)
    bare = assess_drift(replace(ref, null_quantiles=()), cur, alpha=0.001)
    assert bare.noise_floor == pytest.approx(stored.noise_floor, rel=0.15)
    assert bare.distance == stored.distance


@pytest.mark.slow
def test_false_alarm_rate_under_no_drift_is_about_alpha() -> None:
    """500 same-distribution pairs per case at alpha = 0.01, threshold 0."""
    rng = np.random.default_rng(20240601)
    alpha, pairs = 0.01, 500
    alarms = {key: 0 for key in ("w 300", "w 20000", "ks 300", "ks 20000")}
    for _ in range(pairs):
        ref = profile_reference(pd.Series(rng.standard_normal(300)))
        for size in (300, 20_000):
            cur = profile_against(ref, pd.Series(rng.standard_normal(size)))
            for method, key in (("wasserstein", "w"), ("ks", "ks")):
                result = assess_drift(ref, cur, method=method, threshold=0.0, alpha=alpha)
                alarms[f"{key} {size}"] += result.drifted

    labels = np.array(list("abcdef"))
    shares = [0.3, 0.25, 0.2, 0.15, 0.07, 0.03]
    for size in (300, 20_000):
        alarms[f"js {size}"] = 0
        for _ in range(pairs):
            ref = profile_reference(pd.Series(rng.choice(labels, 300, p=shares)))
            cur = profile_against(ref, pd.Series(rng.choice(labels, size, p=shares)))
            result = assess_drift(ref, cur, threshold=0.0, alpha=alpha)
            alarms[f"js {size}"] += result.drifted

    rates = {key: count / pairs for key, count in alarms.items()}
    assert all(rate < 0.03 for rate in rates.values()), rates


@pytest.mark.slow
def test_half_std_shift_is_detected_at_300_rows() -> None:
    rng = np.random.default_rng(99)
    alpha, draws = 0.01 / 30, 200
    detected = 0
    for _ in range(draws):
        ref, cur = _numeric(rng.standard_normal(300), rng.normal(0.5, 1.0, 300))
        detected += assess_drift(ref, cur, threshold=0.1, alpha=alpha).drifted
    assert detected / draws >= 0.97


def test_category_share_doubling_is_detected_at_1000_rows() -> None:
    rng = np.random.default_rng(98)
    labels = np.array(list("abcde"))
    before, after = [0.2] * 5, [0.4] + [0.15] * 4
    alpha, draws = 0.01 / 30, 200
    detected = 0
    for _ in range(draws):
        ref, cur = _categorical(
            rng.choice(labels, 1000, p=before), rng.choice(labels, 1000, p=after)
        )
        detected += assess_drift(ref, cur, threshold=0.1, alpha=alpha).drifted
    assert detected / draws >= 0.97


def test_trivial_shift_at_a_million_rows_is_not_drift() -> None:
    rng = np.random.default_rng(1)
    ref, cur = _numeric(rng.standard_normal(1_000_000), rng.normal(0.01, 1.0, 1_000_000))
    for method in ("wasserstein", "ks"):
        result = assess_drift(ref, cur, method=method, alpha=0.01 / 30)
        assert result.distance < result.threshold
        assert not result.drifted
    # The shift is real and beyond the noise at this size; only the threshold stops it.
    wasserstein = assess_drift(ref, cur, alpha=0.01 / 30)
    assert wasserstein.distance > wasserstein.noise_floor
