"""Both sides of the data gate's contract on data sets scikit-learn ships, over repeated splits.

Clean: two random halves of the same data pass. Defects: a shift of half a
standard deviation in one numeric column, or a category whose share doubles from
20% to 40%, block, and the blocking check names the column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits

from mlgates import load_config, run_gates
from mlgates.core import Status

SPLITS = 20
CONFIG = """
[mlgates]
report = ""

[data]
reference = "reference.parquet"
current = "current.parquet"
checks = ["missing_share <= reference + 0.05", "drift_share <= 0.25"]
"""


def _digits() -> pd.DataFrame:
    digits = load_digits(as_frame=True)
    frame = digits.frame.copy()
    # five categories of 20% each: the digit pairs 0-1, 2-3, 4-5, 6-7, 8-9
    frame["digit_pair"] = (frame.pop("target") // 2).map(lambda g: f"pair_{g}").astype("str")
    return frame


DATASETS = {
    "breast_cancer": lambda: load_breast_cancer(as_frame=True).frame,
    "diabetes": lambda: load_diabetes(as_frame=True).frame,
    "digits": _digits,
}


def halves(frame: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    order = np.random.default_rng(seed).permutation(len(frame))
    middle = len(frame) // 2
    return (
        frame.iloc[order[:middle]].reset_index(drop=True),
        frame.iloc[order[middle:]].reset_index(drop=True),
    )


def judge(directory: Path, reference: pd.DataFrame, current: pd.DataFrame):
    reference.to_parquet(directory / "reference.parquet")
    current.to_parquet(directory / "current.parquet")
    (directory / "mlgates.toml").write_text(CONFIG)
    return run_gates(load_config(directory / "mlgates.toml"))


@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_random_halves_of_clean_data_pass(tmp_path: Path, dataset: str):
    frame = DATASETS[dataset]()
    for seed in range(SPLITS):
        record = judge(tmp_path, *halves(frame, seed))
        blocking = [f"{c.id}: {c.message}" for c in record.checks if c.blocking]
        assert not blocking, f"{dataset} split {seed} blocked: {blocking}"
        drift = [c for c in record.checks if c.metric == "drift"]
        assert len(drift) == frame.shape[1]
        assert all(c.status is Status.PASS for c in drift)


@pytest.mark.parametrize(
    "dataset", ["breast_cancer", "diabetes"]
)  # digits: no column with >20 values
def test_half_a_standard_deviation_shift_in_one_column_blocks(tmp_path: Path, dataset: str):
    frame = DATASETS[dataset]()
    rng = np.random.default_rng(99)
    numeric = [c for c in frame.columns if frame[c].nunique() > 20]
    for seed in range(SPLITS):
        reference, current = halves(frame, seed)
        column = str(rng.choice(numeric))
        current[column] = current[column] + 0.5 * frame[column].std()
        record = judge(tmp_path, reference, current)
        assert record.blocked, f"{dataset} split {seed}: shift of {column} not blocked"
        failed = record.check(f"data::drift[{column}]")
        assert failed is not None and failed.status is Status.FAIL, (dataset, seed, column)
        assert failed.blocking and column in failed.message and failed.method == "wasserstein"
        others = [
            c.selector
            for c in record.checks
            if c.metric == "drift" and c.blocking and c.selector != column
        ]
        assert not others, f"{dataset} split {seed}: clean columns flagged: {others}"


def test_a_category_whose_share_doubles_blocks(tmp_path: Path):
    frame = _digits()
    for seed in range(SPLITS):
        reference, current = halves(frame, seed)
        rng = np.random.default_rng(seed)
        labels = current["digit_pair"].to_numpy(dtype=object)
        target = round(0.40 * len(labels)) - int((labels == "pair_1").sum())
        candidates = np.flatnonzero(labels != "pair_1")
        labels[rng.choice(candidates, size=target, replace=False)] = "pair_1"
        current["digit_pair"] = pd.Series(labels, dtype="str")
        share = reference["digit_pair"].eq("pair_1").mean()
        assert 0.17 < share < 0.23 and current["digit_pair"].eq("pair_1").mean() == pytest.approx(
            0.4, abs=0.002
        )
        record = judge(tmp_path, reference, current)
        failed = record.check("data::drift[digit_pair]")
        assert failed is not None and failed.status is Status.FAIL and failed.blocking, seed
        assert failed.method == "jensenshannon" and "pair_1" in failed.message
        assert record.blocked


def test_large_batches_with_trivial_shifts_pass_and_real_shifts_block(tmp_path: Path):
    """Verdicts do not depend on batch size: the same effect gets the same answer."""
    rng = np.random.default_rng(5)
    reference = pd.DataFrame({"x": rng.normal(size=400_000), "y": rng.normal(size=400_000)})
    trivial = pd.DataFrame({"x": rng.normal(0.02, 1, 400_000), "y": rng.normal(size=400_000)})
    record = judge(tmp_path, reference, trivial)
    drift = record.check("data::drift[x]")
    assert drift.status is Status.PASS and "<= 0.1" in drift.message  # significant, but trivial
    for rows in (300, 3_000, 300_000):
        shifted = pd.DataFrame({"x": rng.normal(0.5, 1, rows), "y": rng.normal(size=rows)})
        record = judge(tmp_path, reference, shifted)
        assert record.check("data::drift[x]").status is Status.FAIL, rows
        assert record.check("data::drift[y]").status is Status.PASS, rows
