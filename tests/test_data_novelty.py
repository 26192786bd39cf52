"""Values the reference never saw, changed types and personal data, end to end on a realistic table.

The table is generated with faker: names, e-mail addresses, country codes with
a long tail, free-text notes, ages, amounts. Clean random splits pass at
several batch sizes; each planted defect blocks and the failing check names
the column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from faker import Faker

from mlgates import load_config, run_gates
from mlgates.core import Status
from mlgates.stats.novelty import assess_labels
from mlgates.stats.profile import profile_against, profile_reference

CONFIG = """
[mlgates]
report = ""

[data]
reference = "reference.parquet"
current = "current.parquet"
{extra}
"""


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    """60,000 customers: names, e-mails, long-tailed country codes, notes, ages and amounts."""
    fake = Faker()
    Faker.seed(7)
    rng = np.random.default_rng(7)
    rows = 60_000
    names = np.array([fake.name() for _ in range(1500)])
    notes = np.array([fake.sentence(nb_words=8) for _ in range(800)])
    countries = np.array([fake.country_code() for _ in range(120)])
    weights = 1 / np.arange(1, countries.size + 1) ** 1.3
    return pd.DataFrame(
        {
            "name": rng.choice(names, rows),
            "email": [f"user{i}@example.org" for i in rng.permutation(rows)],
            "country": rng.choice(countries, rows, p=weights / weights.sum()),
            "notes": rng.choice(notes, rows),
            "age": rng.integers(18, 90, rows),
            "amount": rng.lognormal(3, 1, rows).round(2),
        }
    )


def judge(directory: Path, reference: pd.DataFrame, current: pd.DataFrame, extra: str = ""):
    reference.to_parquet(directory / "reference.parquet")
    current.to_parquet(directory / "current.parquet")
    (directory / "mlgates.toml").write_text(
        CONFIG.format(extra=extra or 'pii = {allow = {email = ["email"]}}')
    )
    return run_gates(load_config(directory / "mlgates.toml"))


def split(
    frame: pd.DataFrame, seed: int, batch: int, reference_rows: int = 3000
) -> tuple[pd.DataFrame, pd.DataFrame]:
    order = np.random.default_rng(seed).permutation(len(frame))
    reference = frame.iloc[order[:reference_rows]].reset_index(drop=True)
    current = frame.iloc[order[reference_rows : reference_rows + batch]].reset_index(drop=True)
    return reference, current


def blocking(record) -> dict[str, str]:
    return {c.id: c.message for c in record.checks if c.blocking}


@pytest.mark.parametrize("batch", [100, 300, 3000])
def test_clean_splits_pass_at_every_batch_size(tmp_path: Path, customers, batch: int):
    for seed in range(5):
        record = judge(tmp_path, *split(customers, seed, batch))
        assert blocking(record) == {}, (batch, seed)
        assert record.check("data::out_of_range[country]").status is Status.PASS
        assert record.check("data::pii[email]").status is Status.PASS


@pytest.mark.parametrize("batch", [300, 3000])
def test_a_sentinel_in_half_a_percent_of_rows_blocks(tmp_path: Path, customers, batch: int):
    """Two values beyond the range of 50,000 are beyond chance in 300 rows (p about 1e-4)."""
    for seed in range(3):
        reference, current = split(customers, seed, batch, reference_rows=50_000)
        current.loc[: -(-batch // 200) - 1, "age"] = 999
        failed = blocking(judge(tmp_path, reference, current))
        assert "data::out_of_range[age]" in failed, failed
        message = failed["data::out_of_range[age]"]
        assert "999" in message and "[18, 89]" in message


def test_a_new_code_with_five_percent_of_rows_blocks(tmp_path: Path, customers):
    for seed in range(3):
        reference, current = split(customers, seed, 300)
        current.loc[:14, "country"] = "XX"
        failed = blocking(judge(tmp_path, reference, current))
        assert "data::out_of_range[country]" in failed, failed
        assert "'XX' x15" in failed["data::out_of_range[country]"]


def test_numbers_arriving_as_text_are_one_type_failure(tmp_path: Path, customers):
    reference, current = split(customers, 0, 300)
    current["amount"] = current["amount"].map(lambda v: f"{v:.2f}".replace(".", ","))
    record = judge(tmp_path, reference, current)
    types = record.check("data::types")
    assert types.status is Status.FAIL
    assert "amount: was number (float64), now text" in types.message
    for check in ("data::drift[amount]", "data::out_of_range[amount]"):
        assert record.check(check).status is Status.SKIPPED
        assert "type changed" in record.check(check).message


def test_personal_data_in_free_text_blocks_and_is_masked(tmp_path: Path, customers):
    reference, current = split(customers, 1, 3000)
    planted = [
        f"call me at +44 20 7946 0{i:03d} or mail jane.doe{i}@corp.example.com" for i in range(60)
    ]
    current.loc[:59, "notes"] = planted
    record = judge(tmp_path, reference, current)
    notes = record.check("data::pii[notes]")
    assert notes.status is Status.FAIL and notes.blocking
    assert "email: 60 rows" in notes.message and "phone: 60 rows" in notes.message
    assert "jane.doe" not in notes.message and "7946" not in notes.message
    assert record.check("data::pii[email]").status is Status.PASS
    assert "allowed" in record.check("data::pii[email]").message
    family = record.check("data::pii[*]")
    assert family.status is Status.FAIL and "notes" in family.message


def test_an_email_column_not_allowed_to_hold_emails_blocks(tmp_path: Path, customers):
    record = judge(tmp_path, *split(customers, 2, 300), extra="pii = {}")
    assert record.check("data::pii[email]").status is Status.FAIL
    assert "email: 300 rows" in record.check("data::pii[email]").message


def test_an_allowed_column_that_does_not_exist_is_a_config_error(tmp_path: Path, customers):
    from mlgates.core import ConfigError

    with pytest.raises(ConfigError, match=r"data.pii.allow.emial.*did you mean 'email'"):
        judge(tmp_path, *split(customers, 2, 300), extra='pii = {allow = {emial = ["email"]}}')


def test_a_large_reference_against_a_tiny_batch_does_not_overflow():
    rng = np.random.default_rng(3)
    labels = np.array([f"code{i}" for i in range(400)])
    reference = profile_reference(pd.Series(rng.choice(labels, 10_000)))
    current = profile_against(reference, pd.Series(rng.choice(labels[:50], 100)))
    result = assess_labels(reference, current, alpha=0.01)
    assert not result.flagged and result.count == 0
    current = profile_against(reference, pd.Series(["new"] * 10 + list(rng.choice(labels, 90))))
    assert assess_labels(reference, current, alpha=0.01).flagged
