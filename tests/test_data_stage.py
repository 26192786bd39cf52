"""The data gate end to end through run_gates: each defect blocks and is named."""

from __future__ import annotations

import json
from pathlib import Path
from unittest.mock import patch

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from mlgates import load_config, run_gates
from mlgates.context import Context
from mlgates.core import Status
from mlgates.stages.data.reference import reference_profile
from mlgates.stages.data.schema import read_schema, write_schema
from mlgates.stages.data.schema_inference import infer_schema


@pytest.fixture
def cancer(tmp_path: Path) -> Path:
    """Breast-cancer data with a category and a nullable column, split in random halves."""
    frame = load_breast_cancer(as_frame=True).frame
    rng = np.random.default_rng(0)
    frame["clinic"] = pd.Series(rng.choice(["north", "south", "east"], len(frame)), dtype="str")
    frame.loc[rng.random(len(frame)) < 0.02, "mean area"] = np.nan
    order = rng.permutation(len(frame))
    reference = frame.iloc[order[: len(frame) // 2]].reset_index(drop=True)
    current = frame.iloc[order[len(frame) // 2 :]].reset_index(drop=True)
    reference.to_parquet(tmp_path / "reference.parquet")
    current.to_parquet(tmp_path / "current.parquet")
    # the schema comes from the whole population, as from a training set, with ranges
    # (569 rows are too few for the default plausibility bounds)
    write_schema(infer_schema(frame, margin=1.0), tmp_path / "schema.yaml")
    return tmp_path


CONFIG = """
[mlgates]
report = ""
{settings}

[data]
reference = "reference.parquet"
current = "{current}"
schema = "schema.yaml"
checks = ["missing_share <= reference + 0.05", "drift_share <= 0.25", "row_count >= 100"]
{extra}
"""


def run(directory: Path, *, current: str = "current.parquet", extra: str = "", settings: str = ""):
    path = directory / "mlgates.toml"
    path.write_text(CONFIG.format(current=current, extra=extra, settings=settings))
    return run_gates(load_config(path))


def write_current(directory: Path, frame: pd.DataFrame, name: str = "bad.parquet") -> str:
    frame.to_parquet(directory / name)
    return name


def blocking(record) -> dict[str, str]:
    return {c.id: c.message for c in record.checks if c.blocking}


def test_clean_half_passes_every_check(cancer: Path):
    record = run(cancer)
    assert blocking(record) == {}
    ids = [c.id for c in record.checks]
    assert ids[:3] == ["data::columns", "data::types", "data::schema"]
    assert "data::out_of_range[mean area]" in ids and "data::out_of_range[clinic]" in ids
    assert "data::drift[clinic]" in ids and "data::missing_share[mean area]" in ids
    assert record.check("data::drift[clinic]").method == "jensenshannon"
    assert record.check("data::drift[mean radius]").method == "wasserstein"


def test_schema_breaks_are_all_named_with_examples(cancer: Path):
    # inferred columns may hold missing values; this schema's author requires "worst area"
    required = read_schema(cancer / "schema.yaml").update_columns(
        {"worst area": {"nullable": False}}
    )
    write_schema(required, cancer / "schema.yaml")
    frame = pd.read_parquet(cancer / "current.parquet")
    frame.loc[:4, "mean radius"] = -3.0
    frame.loc[:9, "clinic"] = "moon"
    frame.loc[:2, "worst area"] = np.nan
    record = run(cancer, current=write_current(cancer, frame))
    schema = record.check("data::schema")
    assert schema.status is Status.FAIL and schema.blocking
    for fragment in ("mean radius", "-3.0", "clinic", "'moon'", "worst area", "not_nullable"):
        assert fragment in schema.message
    failures = {(f["column"], f["count"]) for f in schema.details["failures"]}
    assert ("mean radius", 5) in failures and ("clinic", 10) in failures
    assert ("worst area", 3) in failures


def test_missing_column_fails_columns_and_schema(cancer: Path):
    frame = pd.read_parquet(cancer / "current.parquet").drop(columns=["mean texture"])
    record = run(cancer, current=write_current(cancer, frame))
    assert "mean texture" in record.check("data::columns").message
    assert "mean texture" in record.check("data::schema").message
    assert record.check("data::drift[mean texture]") is None


def test_missing_values_beyond_the_reference_block_and_name_the_column(cancer: Path):
    frame = pd.read_parquet(cancer / "current.parquet")
    frame.loc[frame.sample(frac=0.2, random_state=1).index, "mean area"] = np.nan
    record = run(cancer, current=write_current(cancer, frame))
    check = record.check("data::missing_share[mean area]")
    assert check.status is Status.FAIL and check.blocking
    assert "mean area" in check.message and "(reference " in check.message


def test_too_few_rows_is_inconclusive_and_the_policy_decides(cancer: Path):
    frame = pd.read_parquet(cancer / "current.parquet").head(40)
    name = write_current(cancer, frame)
    strict = run(cancer, current=name)
    drift = strict.check("data::drift[mean radius]")
    assert drift.status is Status.INCONCLUSIVE and drift.blocking
    assert "min_rows = 100" in drift.message
    assert strict.check("data::drift_share").status is Status.INCONCLUSIVE
    lenient = run(cancer, current=name, settings='on_inconclusive = "warn"')
    assert lenient.check("data::drift[mean radius]").status is Status.INCONCLUSIVE
    assert not lenient.check("data::drift[mean radius]").blocking
    assert lenient.check("data::row_count").blocking  # 40 < 100 still fails


def test_per_column_overrides_and_exclusions(cancer: Path):
    frame = pd.read_parquet(cancer / "current.parquet")
    frame["mean radius"] += frame["mean radius"].std() * 0.5
    extra = """exclude = ["mean smoothness"]

[data.columns."mean radius"]
method = "psi"
checks = [{ check = "drift <= 0.2", severity = "warn", reason = "seasonal" }]

[data.columns.clinic]
drift = false
"""
    record = run(cancer, current=write_current(cancer, frame), extra=extra)
    radius = record.check("data::drift[mean radius]")
    assert radius.method == "psi" and radius.status is Status.WARN and not radius.blocking
    assert radius.reason == "seasonal"
    assert record.check("data::drift[clinic]") is None
    assert record.check("data::drift[mean smoothness]") is None
    assert record.check("data::missing_share[mean smoothness]") is None


def test_unreadable_current_data_is_an_error_naming_the_file(cancer: Path):
    (cancer / "broken.parquet").write_bytes(b"PAR1 not really parquet")
    (cancer / "broken.parquet").touch()
    path = cancer / "mlgates.toml"
    path.write_text(CONFIG.format(current="broken.parquet", extra="", settings=""))
    from mlgates.core import InputError

    with pytest.raises(InputError, match=r"broken.parquet: is not a Parquet file"):
        run_gates(load_config(path))


def test_reference_profile_is_cached_by_content(cancer: Path):
    run(cancer)
    cached = list((cancer / ".mlgates" / "cache").glob("profile-*.json"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns

    def fail(_frame: pd.DataFrame):
        raise AssertionError("the cached profile should have been used")

    context = Context(cancer, cache_dir=cancer / ".mlgates" / "cache")
    config = load_config(cancer / "mlgates.toml").stages["data"]
    with patch("mlgates.stats.profile.profile_dataset", fail):
        profile = reference_profile(config, context)
    assert "clinic" in profile.columns
    assert cached[0].stat().st_mtime_ns == stamp
    # a damaged cache entry is rebuilt, never trusted
    cached[0].write_text("{not json")
    assert run(cancer).check("data::drift[clinic]").status is Status.PASS
    assert json.loads(cached[0].read_text())["format"] == 2


@pytest.mark.skipif(
    __import__("importlib.util").util.find_spec("great_expectations") is None,
    reason="needs the gx extra",
)
def test_great_expectations_suite_runs_inside_the_gate(cancer: Path):
    from mlgates.stages.data.gx_suite import suite_document

    suite = suite_document(
        "cancer",
        [
            ("expect_column_values_to_not_be_null", {"column": "mean radius"}),
            (
                "expect_column_values_to_be_between",
                {"column": "mean texture", "min_value": 0, "max_value": 20},
            ),
            (
                "expect_column_values_to_be_in_set",
                {"column": "clinic", "value_set": ["north", "south", "east"]},
            ),
        ],
    )
    (cancer / "suite.json").write_text(json.dumps(suite))
    record = run(cancer, extra='expectations = "suite.json"')
    assert (
        record.check("data::expect_column_values_to_not_be_null[mean radius]").status is Status.PASS
    )
    between = record.check("data::expect_column_values_to_be_between[mean texture]")
    assert between.status is Status.FAIL and between.blocking
    assert "unexpected values" in between.message
    assert record.check("data::expect_column_values_to_be_in_set[clinic]").status is Status.PASS


def test_checks_on_columns_that_are_not_checked_are_config_errors(cancer: Path):
    from mlgates.core import ConfigError

    with pytest.raises(ConfigError, match=r"'mean radus', which is not a column of the current"):
        run(cancer, extra='[data.columns."mean radus"]\nchecks = ["missing_share <= 0"]')
    with pytest.raises(ConfigError, match=r"mlgates.toml: data.exclude: checks column 'clinc'"):
        run(cancer, extra='exclude = ["clinc"]')
    with pytest.raises(ConfigError, match=r"data.columns.clinc: .*did you mean 'clinic'"):
        run(cancer, extra='[data.columns.clinc]\nmethod = "psi"')
    with pytest.raises(ConfigError, match=r"is listed in data\.exclude"):
        run(cancer, extra='exclude = ["clinic"]\n[data.columns.clinic]\nchecks = ["drift <= 0.2"]')


def test_a_column_bound_in_the_table_wins_over_the_table_wide_bound(cancer: Path):
    path = cancer / "mlgates.toml"
    path.write_text(
        CONFIG.format(current="current.parquet", extra="", settings="").replace(
            '"missing_share <= reference + 0.05",',
            '"missing_share <= 0.5", "missing_share[mean area] <= 0.001",',
        )
    )
    record = run_gates(load_config(path))
    check = record.check("data::missing_share[mean area]")
    assert check.threshold == "missing_share[mean area] <= 0.001"
    assert check.status is Status.FAIL and check.blocking
    assert record.check("data::missing_share[clinic]").threshold == "missing_share[clinic] <= 0.5"


def test_a_broken_schema_file_stops_the_run_before_judging(cancer: Path):
    from mlgates.core import MlgatesError

    (cancer / "schema.yaml").write_text("columns: [unclosed\n")
    with pytest.raises(MlgatesError, match=r"schema.yaml is not valid YAML: line 2"):
        run(cancer)
