"""Schema stage: inference, YAML round trip, defect reporting and bad schema files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.config import config_context
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

from mlgates.stages.data.schema import (
    FRAME,
    ColumnFailure,
    SchemaFileError,
    SchemaReport,
    read_schema,
    validate_frame,
    write_schema,
)
from mlgates.stages.data.schema_inference import infer_schema, is_nested

REGIONS = ["east", "north", "south", "west"]


def with_strings(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Add generated low- and high-cardinality string, categorical and boolean columns."""
    rng = np.random.default_rng(seed)
    n = len(frame)
    out = frame.copy()
    out["region"] = rng.choice(REGIONS, n)
    out["customer_id"] = [f"c{i:06d}" for i in rng.permutation(n)]
    out["tier"] = pd.Categorical(rng.choice(["gold", "silver", "bronze"], n))
    out["active"] = rng.random(n) < 0.7
    out["visits"] = rng.integers(0, 50, n)
    return out


def diabetes() -> pd.DataFrame:
    return with_strings(load_diabetes(as_frame=True).frame)


def breast_cancer() -> pd.DataFrame:
    return with_strings(load_breast_cancer(as_frame=True).frame, seed=1)


def wine() -> pd.DataFrame:
    return with_strings(load_wine(as_frame=True).frame, seed=2)


DATASETS: dict[str, Callable[[], pd.DataFrame]] = {
    "diabetes": diabetes,
    "breast_cancer": breast_cancer,
    "wine": wine,
}


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    frame = diabetes()
    frame.loc[frame.index[::17], "s4"] = np.nan  # one nullable float column
    return frame


@pytest.fixture(scope="module")
def schema(data: pd.DataFrame) -> pa.DataFrameSchema:
    """Plausibility ranges (an explicit margin) and one key, as a user may ask for."""
    return infer_schema(data, margin=1.0, keys=["customer_id"])


def enough(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows repeated to the 1,000 values default plausibility bounds need."""
    return pd.concat([frame] * -(-1000 // len(frame)), ignore_index=True)


@pytest.fixture(scope="module")
def default_schema(data: pd.DataFrame) -> pa.DataFrameSchema:
    return infer_schema(enough(data))


def failure(report: SchemaReport, column: str, check_prefix: str) -> ColumnFailure:
    matches = [
        f for f in report.failures if f.column == column and f.check.startswith(check_prefix)
    ]
    assert len(matches) == 1, report.failures
    return matches[0]


# --------------------------------------------------------------------------- inference


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_inferred_schema_accepts_its_data_and_random_halves(name: str) -> None:
    frame = DATASETS[name]()
    schema = infer_schema(frame)
    report = validate_frame(frame, schema)
    assert report.ok, report.summary()
    assert report.rows == len(frame)
    assert report.extra_columns == ()
    for seed in range(5):
        half = frame.sample(frac=0.5, random_state=seed)
        assert validate_frame(half, schema).ok


def test_inferred_checks_per_column_kind(data: pd.DataFrame, schema: pa.DataFrameSchema) -> None:
    assert list(schema.columns) == list(data.columns)
    assert schema.strict is False
    assert schema.coerce is False
    assert all(c.required and not c.coerce for c in schema.columns.values())

    age = schema.columns["age"]
    assert str(age.dtype) == "float64"
    assert age.nullable is True  # only keys are required present
    (check,) = age.checks
    assert check.name == "in_range"
    low, high = data["age"].min(), data["age"].max()
    span = high - low
    assert check.statistics["min_value"] <= low - 1.0 * span
    assert check.statistics["max_value"] >= high + 1.0 * span
    assert check.statistics["min_value"] > low - 1.01 * span  # rounding stays close

    assert schema.columns["s4"].nullable is True
    assert [n for n, c in schema.columns.items() if not c.nullable] == ["customer_id"]
    assert [n for n, c in schema.columns.items() if c.unique] == ["customer_id"]

    visits_column = schema.columns["visits"]
    assert visits_column.dtype is None and "whole numbers" in visits_column.description
    (visits,) = visits_column.checks
    assert visits.name == "in_range"
    assert isinstance(visits.statistics["min_value"], int)
    assert isinstance(visits.statistics["max_value"], int)
    assert visits.statistics["min_value"] == 0  # counts without negatives stay non-negative
    assert visits.statistics["max_value"] >= data["visits"].max() + 4

    (region,) = schema.columns["region"].checks
    assert region.name == "isin"
    assert list(region.statistics["allowed_values"]) == REGIONS
    (tier,) = schema.columns["tier"].checks
    assert list(tier.statistics["allowed_values"]) == ["bronze", "gold", "silver"]
    active_column = schema.columns["active"]
    assert active_column.dtype is None and "booleans" in active_column.description
    (active,) = active_column.checks
    assert list(active.statistics["allowed_values"]) == [False, True]
    assert schema.columns["customer_id"].checks == []  # a key: unique, no value set


def bounds(column: pa.Column) -> tuple[float, float]:
    """The lowest and highest value a column's range checks allow (infinite when open)."""
    low, high = -np.inf, np.inf
    for check in column.checks:
        stats = check.statistics
        if check.name in ("in_range", "greater_than_or_equal_to"):
            low = max(low, stats["min_value"])
        if check.name in ("in_range", "less_than_or_equal_to"):
            high = min(high, stats["max_value"])
    return low, high


def test_default_inference_bounds_signs_not_the_reference_range(
    data: pd.DataFrame, default_schema: pa.DataFrameSchema
) -> None:
    schema = default_schema
    assert all(c.nullable and not c.unique for c in schema.columns.values())
    checks = {name: [c.name for c in col.checks] for name, col in schema.columns.items()}
    assert bounds(schema.columns["visits"])[0] == 0  # counts are never negative
    assert bounds(schema.columns["target"])[0] == 0
    for name in ("age", "bmi"):  # standardised: negative values, so no sign
        assert data[name].lt(0).any() and bounds(schema.columns[name])[0] < data[name].min()
    assert checks["region"] == ["isin"] and checks["tier"] == ["isin"]
    assert checks["customer_id"] == []
    # values beyond the reference's range are the gate's out_of_range business
    far = data.assign(
        age=data["age"] * 3, bmi=data["bmi"] * 3, visits=data["visits"] * 3 + 1, s4=data["s4"] * 3
    )
    assert (far["visits"] > data["visits"].max()).any()
    assert validate_frame(far, schema).ok
    negative = data.copy()
    negative.loc[negative.index[[2, 5]], "visits"] = [-1, -7]
    (only,) = validate_frame(negative, schema).failures
    assert (only.column, only.failure_count, only.examples) == ("visits", 2, ("-1", "-7"))


def test_sign_needs_a_thousand_values_without_negatives() -> None:
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {
            "thousand": rng.uniform(0, 10, 1000),
            "short_by_one": np.append(rng.uniform(0, 10, 999), np.nan),
            "one_negative": np.append(rng.uniform(0, 10, 999), -0.5),
            "zero_is_fine": np.append(rng.integers(1, 10, 999), 0),
        }
    )
    schema = infer_schema(frame)
    assert bounds(schema.columns["thousand"])[0] == 0
    assert bounds(schema.columns["zero_is_fine"])[0] == 0
    assert schema.columns["short_by_one"].checks == []  # too few values to vouch for a sign
    assert bounds(schema.columns["one_negative"])[0] < -0.5


def test_constant_and_special_numeric_columns() -> None:
    frame = pd.DataFrame(
        {
            "zero": [0.0, 0.0, 0.0],
            "const": [5.0, 5.0, 5.0],
            "const_int": [7, 7, 7],
            "with_inf": [1.0, np.inf, 2.0],
            "all_nan": [np.nan, np.nan, np.nan],
            "when": pd.date_range("2024-01-01", periods=3),
        }
    )
    schema = infer_schema(frame, margin=0.1)
    stats = {
        name: [{k: c.statistics[k] for k in ("min_value", "max_value")} for c in col.checks]
        for name, col in schema.columns.items()
    }
    assert stats["zero"] == [{"min_value": 0.0, "max_value": 0.1}]
    # a column without negative values keeps a lower bound of zero
    assert stats["const"] == [{"min_value": 4.5, "max_value": 5.5}]
    assert stats["const_int"] == [{"min_value": 6, "max_value": 8}]
    assert stats["with_inf"][0]["max_value"] == np.inf
    assert stats["all_nan"] == []
    assert stats["when"] == []
    assert validate_frame(frame, schema).ok


def test_max_categories_and_margin_arguments() -> None:
    frame = pd.DataFrame({"s": list("abcde") * 2, "x": np.arange(10.0)})
    assert infer_schema(frame, max_categories=4).columns["s"].checks == []
    assert infer_schema(frame, max_categories=5).columns["s"].checks[0].name == "isin"
    (tight,) = infer_schema(frame, margin=0.0).columns["x"].checks
    assert (tight.statistics["min_value"], tight.statistics["max_value"]) == (0.0, 9.0)
    with pytest.raises(ValueError, match="margin"):
        infer_schema(frame, margin=-1)


# --------------------------------------------------------------------------- YAML round trip


def describe(schema: pa.DataFrameSchema) -> dict[str, tuple[object, ...]]:
    return {
        str(name): (
            str(col.dtype),
            col.nullable,
            col.unique,
            col.required,
            tuple((c.name, repr(sorted(c.statistics.items()))) for c in col.checks),
        )
        for name, col in schema.columns.items()
    }


@pytest.mark.parametrize("margin", [None, 1.0])
@pytest.mark.parametrize("name", sorted(DATASETS))
def test_yaml_round_trip_keeps_every_check(name: str, margin: float | None, tmp_path: Path) -> None:
    frame = DATASETS[name]()
    schema = infer_schema(enough(frame), margin=margin, keys=["customer_id"])
    path = tmp_path / "nested" / "schema.yaml"
    write_schema(schema, path)
    loaded = read_schema(path)
    assert describe(loaded) == describe(schema)
    assert loaded.strict == schema.strict and loaded.coerce == schema.coerce
    text = path.read_text(encoding="utf-8")
    if margin is not None:
        assert "in_range" in text
    assert bounds(loaded.columns["visits"])[0] == 0  # never negative
    assert "unique: true" in text

    broken = frame.copy()
    numeric = broken.select_dtypes("number").columns[0]
    broken.loc[broken.index[:3], numeric] = 1e9
    broken.loc[broken.index[4:6], "visits"] = -1
    broken.loc[broken.index[3], "region"] = "Mars"
    broken.loc[broken.index[7], "customer_id"] = None
    broken = broken.drop(columns=["tier"])
    report = validate_frame(broken, loaded)
    assert report == validate_frame(broken, schema)
    failed = {f.column for f in report.failures}
    assert {"visits", "region", "customer_id", "tier"} <= failed
    if margin is not None:
        assert numeric in failed
    assert validate_frame(frame, loaded).ok


def test_write_schema_overwrites_without_leftovers(
    schema: pa.DataFrameSchema, tmp_path: Path
) -> None:
    path = tmp_path / "schema.yaml"
    write_schema(schema, path)
    write_schema(schema, path)
    assert [p.name for p in tmp_path.iterdir()] == ["schema.yaml"]


# --------------------------------------------------------------------------- defects


def test_out_of_range_value_is_named(data: pd.DataFrame, schema: pa.DataFrameSchema) -> None:
    bad = data.copy()
    bad.loc[bad.index[[3, 9, 40]], "bmi"] = [5.0, -5.0, 5.0]
    report = validate_frame(bad, schema)
    assert not report.ok
    (only,) = report.failures
    assert only.column == "bmi"
    assert only.check.startswith("in_range(")
    assert only.failure_count == 3
    assert only.examples == ("5.0", "-5.0")
    assert "bmi in_range(" in report.summary()
    assert "x3 e.g. [5.0, -5.0]" in report.summary()


def test_integer_range(data: pd.DataFrame, schema: pa.DataFrameSchema) -> None:
    bad = data.copy()
    bad.loc[bad.index[0], "visits"] = 1000
    only = failure(validate_frame(bad, schema), "visits", "in_range(")
    assert only.failure_count == 1 and only.examples == ("1000",)


def test_nulls_in_non_nullable_column(data: pd.DataFrame, schema: pa.DataFrameSchema) -> None:
    bad = data.copy()
    bad.loc[bad.index[:7], "customer_id"] = None  # a key
    bad.loc[bad.index[:2], "s4"] = np.nan  # nullable: allowed
    bad.loc[bad.index[3:9], "bp"] = np.nan  # not a key: nullable too
    report = validate_frame(bad, schema)
    (only,) = report.failures
    assert (only.column, only.check, only.failure_count) == ("customer_id", "not_nullable", 7)
    assert only.examples == ()
    assert "customer_id not_nullable x7" in report.summary()


def test_nulls_in_a_column_an_explicit_schema_requires(
    data: pd.DataFrame, default_schema: pa.DataFrameSchema
) -> None:
    required = default_schema.update_columns({"bp": {"nullable": False}})
    bad = data.copy()
    bad.loc[bad.index[:7], "bp"] = np.nan
    assert validate_frame(bad, default_schema).ok
    (only,) = validate_frame(bad, required).failures
    assert (only.column, only.check, only.failure_count) == ("bp", "not_nullable", 7)


def test_unseen_category(data: pd.DataFrame, schema: pa.DataFrameSchema) -> None:
    bad = data.copy()
    bad.loc[bad.index[[1, 2, 3]], "region"] = ["Mars", "Venus", "Mars"]
    report = validate_frame(bad, schema)
    only = failure(report, "region", "isin(")
    assert only.failure_count == 3
    assert only.examples == ("Mars", "Venus")
    assert "e.g. ['Mars', 'Venus']" in report.summary()


def test_unseen_value_in_categorical_column(data: pd.DataFrame, schema: pa.DataFrameSchema) -> None:
    bad = data.copy()
    bad["tier"] = bad["tier"].cat.add_categories(["platinum"])
    bad.loc[bad.index[0], "tier"] = "platinum"
    only = failure(validate_frame(bad, schema), "tier", "isin(")
    assert only.examples == ("platinum",)


def test_wrong_dtype(data: pd.DataFrame, schema: pa.DataFrameSchema) -> None:
    bad = data.copy()
    bad["bp"] = bad["bp"].astype(object)
    bad.loc[bad.index[5], "bp"] = "n/a"
    bad["visits"] = bad["visits"].astype("float64")  # whole numbers: either dtype is fine
    report = validate_frame(bad, schema)
    assert {f.column for f in report.failures} == {"bp"}
    bp = failure(report, "bp", "dtype(")
    assert bp.check == "dtype('float64')"
    assert "n/a" in bp.examples


@pytest.mark.parametrize("dtype", [object, "string[python]", "string[pyarrow]", "str"])
def test_text_columns_hold_in_any_string_dtype(
    data: pd.DataFrame, schema: pa.DataFrameSchema, dtype: Any
) -> None:
    """Text is object, str or string[pyarrow] depending on the pandas release and the
    reader: the schema leaves the dtype of text to data::types, which checks the family."""
    assert schema.columns["customer_id"].dtype is None
    assert schema.columns["region"].dtype is None
    retyped = data.assign(customer_id=data["customer_id"].astype(dtype))
    assert validate_frame(retyped, schema).failures == ()


def test_missing_column(data: pd.DataFrame, schema: pa.DataFrameSchema) -> None:
    report = validate_frame(data.drop(columns=["s1", "region"]), schema)
    assert [(f.column, f.check, f.failure_count) for f in report.failures] == [
        ("region", "column_in_dataframe", 1),
        ("s1", "column_in_dataframe", 1),
    ]
    assert report.summary().startswith("2 columns fail: region column_in_dataframe x1")


def test_several_defects_reported_together_and_input_untouched(
    data: pd.DataFrame, schema: pa.DataFrameSchema
) -> None:
    bad = data.copy()
    bad.loc[bad.index[:4], "age"] = 3.0
    bad.loc[bad.index[10:15], "customer_id"] = None
    bad.loc[bad.index[20], "region"] = "Mars"
    bad["tier"] = bad["tier"].astype(object)
    bad = bad.drop(columns=["s6"])
    bad["unexpected"] = 1
    before = bad.copy()

    report = validate_frame(bad, schema)

    pd.testing.assert_frame_equal(bad, before)
    found = {(f.column, f.check.split("(")[0]): f.failure_count for f in report.failures}
    assert found == {
        ("age", "in_range"): 4,
        ("customer_id", "not_nullable"): 5,
        ("region", "isin"): 1,
        ("tier", "dtype"): 1,
        ("s6", "column_in_dataframe"): 1,
    }
    keys = [(f.column, f.check) for f in report.failures]
    assert keys == sorted(keys)
    assert report.extra_columns == ("unexpected",)
    summary = report.summary()
    assert summary.startswith("5 columns fail: ")
    assert "extra column not in schema: unexpected" in summary
    assert "+2 more columns" in report.summary(max_columns=3)
    assert "\n" not in summary


def test_extra_columns_are_a_note_not_a_failure(
    data: pd.DataFrame, schema: pa.DataFrameSchema
) -> None:
    report = validate_frame(data.assign(new_feature=1.0), schema)
    assert report.ok
    assert report.extra_columns == ("new_feature",)
    assert "new_feature" in report.summary()


def test_long_value_sets_are_abbreviated() -> None:
    frame = pd.DataFrame({"code": [f"code-{i:02d}" for i in range(15)] * 2})
    schema = infer_schema(frame)
    bad = frame.copy()
    bad.loc[0, "code"] = "zzz"
    (only,) = validate_frame(bad, schema).failures
    assert only.check == "isin([...])"


def test_examples_are_capped_distinct_and_short(
    schema: pa.DataFrameSchema, data: pd.DataFrame
) -> None:
    bad = data.copy()
    bad["region"] = [f"planet-{i % 9}-" + "x" * 60 for i in range(len(bad))]
    only = failure(validate_frame(bad, schema), "region", "isin(")
    assert only.failure_count == len(bad)
    assert len(only.examples) == 5
    assert len(set(only.examples)) == 5
    assert all(len(e) <= 40 for e in only.examples)


def test_validation_runs_even_when_pandera_is_disabled(
    data: pd.DataFrame, schema: pa.DataFrameSchema
) -> None:
    bad = data.copy()
    bad.loc[bad.index[0], "age"] = 9.0
    with config_context(validation_enabled=False, validation_depth="SCHEMA_ONLY"):
        report = validate_frame(bad, schema)
    assert failure(report, "age", "in_range(").failure_count == 1


def test_report_summary_when_ok() -> None:
    assert SchemaReport(failures=(), rows=10).summary() == "schema ok: 10 rows"
    one = SchemaReport(failures=(ColumnFailure(FRAME, "x", 1, ()),), rows=1)
    assert one.summary() == "1 column fails: <frame> x x1"


# --------------------------------------------------------------------------- bad schema files


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad_schema.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_schema_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(SchemaFileError, match=r"nowhere\.yaml.*not found"):
        read_schema(path)


def test_schema_path_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(SchemaFileError, match=str(tmp_path.name)):
        read_schema(tmp_path)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "schema_type: dataframe\ncolumns:\n  a:\n    dtype: [int64\n")
    with pytest.raises(SchemaFileError, match=r"bad_schema\.yaml is not valid YAML: line \d+"):
        read_schema(path)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "not a pandera dataframe schema"),
        ("- a\n- b\n", "not a pandera dataframe schema"),
        ("name: model\nthreshold: 0.5\n", "not a pandera dataframe schema"),
        ("schema_type: series\ncolumns: {}\n", "'series' schema"),
        ("schema_type: dataframe\ncolumns: 3\n", "'columns' must be a mapping"),
        ("schema_type: dataframe\ncolumns:\n  a:\n    dtype: flaot64\n", "not a valid pandera"),
        (
            "schema_type: dataframe\ncolumns:\n  a:\n    dtype: float64\n    no_such_check: 1\n",
            "unknown key(s) no_such_check",
        ),
        (
            "schema_type: dataframe\nstrcit: true\ncolumns: {}\n",
            "unknown top-level key(s): strcit",
        ),
        (
            "schema_type: dataframe\ncolumns:\n  a:\n    dtype: float64\n    in_range: [0, 1]\n"
            "    checks:\n    - value: [1]\n      options: {check_name: isin}\n",
            "pandera would ignore",
        ),
        (
            "schema_type: dataframe\ncolumns:\n  a:\n    dtype: float64\n"
            "    in_range:\n      lo: 1\n",
            "not a valid pandera",
        ),
        ("schema_type: dataframe\ncolumns:\n  a: 7\n", "expected a mapping of column options"),
    ],
)
def test_not_a_pandera_schema(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SchemaFileError) as caught:
        read_schema(path)
    message = str(caught.value)
    assert str(path) in message
    assert problem in message
    assert "\n" not in message


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"columns:\n  caf\xe9: {}\n")
    with pytest.raises(SchemaFileError, match=r"latin\.yaml is not UTF-8"):
        read_schema(path)


def test_schema_file_error_is_a_value_error() -> None:
    assert issubclass(SchemaFileError, ValueError)


def test_keys_are_unique_without_range_and_long_tails_stay_open():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "applicant_id": np.arange(100_000, 102_000),
            "income": rng.lognormal(10, 1.0, 2000),
            "age": rng.integers(18, 90, 2000),
            "score": rng.normal(0, 1, 2000),
        }
    )
    later = frame.assign(applicant_id=frame["applicant_id"] + 50_000, income=frame["income"] * 3)
    schema = infer_schema(frame, keys=["applicant_id"])
    key = schema.columns["applicant_id"]
    assert key.unique and not key.checks and not key.nullable
    assert str(key.dtype) == "int64"  # a key is never missing, so its dtype stays
    assert bounds(schema.columns["income"]) == (0, np.inf)  # a long tail stays open
    assert bounds(schema.columns["age"])[0] == 0
    assert bounds(schema.columns["score"])[0] < frame["score"].min()
    assert validate_frame(later, schema).ok
    wider = later.assign(age=later["age"] * 5, score=later["score"] * 5)
    assert validate_frame(wider, schema).ok  # beyond the reference's range: out_of_range's job

    ranged = infer_schema(frame, margin=1.0, keys=["applicant_id"])
    assert not ranged.columns["applicant_id"].checks
    (income,) = ranged.columns["income"].checks
    assert income.statistics["min_value"] == 0.0 and income.statistics["max_value"] == np.inf
    (age,) = ranged.columns["age"].checks
    assert age.statistics["min_value"] == 0 and age.statistics["max_value"] < 200
    (score,) = ranged.columns["score"].checks
    assert np.isfinite(score.statistics["min_value"]) and np.isfinite(score.statistics["max_value"])
    assert validate_frame(later, ranged).ok
    older = later.assign(age=later["age"] * 10)
    assert [f.column for f in validate_frame(older, ranged).failures] == ["age"]

    for candidate in (schema, ranged):
        duplicated = later.assign(applicant_id=7)
        report = validate_frame(duplicated, candidate)
        assert [f.column for f in report.failures] == ["applicant_id"]
        negative = later.assign(age=-later["age"])
        assert [f.column for f in validate_frame(negative, candidate).failures] == ["age"]


# --------------------------------------------------------------------------- nested columns


def nested_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Object columns of Python lists, dicts, sets, tuples and numpy arrays, with nulls."""
    rng = np.random.default_rng(seed)
    words = ["red", "green", "blue"]
    frame = pd.DataFrame(
        {
            "tags": [list(rng.choice(words, k)) for k in rng.integers(0, 3, n)],
            "attributes": [
                {"size": int(s), "colour": str(c)}
                for s, c in zip(rng.integers(1, 5, n), rng.choice(words, n), strict=True)
            ],
            "flags": [set(rng.choice(words, 2)) for _ in range(n)],
            "point": [tuple(p) for p in rng.normal(size=(n, 2)).round(3)],
            "vector": list(rng.normal(size=(n, 3))),
            "price": rng.lognormal(3, 0.4, n).round(2),
        }
    )
    frame.loc[frame.index[::7], ["tags", "attributes", "vector"]] = None
    return frame


def test_is_nested_detects_containers_without_hashing() -> None:
    import pyarrow

    frame = nested_frame()
    assert [is_nested(frame[c]) for c in frame.columns] == [True] * 5 + [False]
    late = pd.Series([None] * 5000 + [[1, 2]] * 3, dtype=object)  # nulls first
    assert is_nested(late)
    assert not is_nested(pd.Series(["a", "bc", None, "d"], dtype=object))
    assert not is_nested(pd.Series([b"ab", 1, 2.5, None], dtype=object))
    assert not is_nested(pd.Series([], dtype=object))
    assert not is_nested(pd.Series([None, np.nan], dtype=object))
    list_dtype = pd.ArrowDtype(pyarrow.list_(pyarrow.string()))
    assert is_nested(pd.Series([["a"], None], dtype=list_dtype))
    struct = pd.Series(
        pyarrow.array([{"a": 1}, None]),
        dtype=pd.ArrowDtype(pyarrow.struct([("a", pyarrow.int64())])),
    )
    assert is_nested(struct)
    assert not is_nested(pd.Series([1, None], dtype=pd.ArrowDtype(pyarrow.int64())))
    for series in (pd.Series([1.5, 2.0]), pd.Series(["x"], dtype="category"), pd.Series([True])):
        assert not is_nested(series)


def test_nested_columns_keep_dtype_and_nullability_only(tmp_path: Path) -> None:
    frame = nested_frame(1000)
    schema = infer_schema(frame, keys=["tags", "point"])  # never keys: unhashable
    for name in ("tags", "attributes", "flags", "point", "vector"):
        column = schema.columns[name]
        assert not column.checks and not column.unique
        assert str(column.dtype) == "object"
        assert column.nullable  # keys are the only columns required present
    assert bounds(schema.columns["price"])[0] == 0  # plain columns still get their sign
    write_schema(schema, tmp_path / "schema.yaml")
    stored = read_schema(tmp_path / "schema.yaml")
    assert validate_frame(frame, stored).ok
    assert validate_frame(nested_frame(150, seed=1), stored).ok
    assert validate_frame(frame.assign(flags=None), stored).ok
    broken = frame.assign(flags=1.5)
    (only,) = validate_frame(broken, stored).failures
    assert (only.column, only.check) == ("flags", "dtype('object')")


def test_pyarrow_nested_dtypes_round_trip_through_yaml(tmp_path: Path) -> None:
    import pyarrow

    table = pyarrow.table(
        {
            "tags": pyarrow.array(
                [["a", "b"], None, []] * 400, type=pyarrow.list_(pyarrow.string())
            ),
            "size": pyarrow.array([{"w": 1.0, "h": 2.0}, {"w": 3.0, "h": 1.0}, None] * 400),
            "count": pyarrow.array([1, 2, 3] * 400),
        }
    )
    frame = table.to_pandas(types_mapper=pd.ArrowDtype)
    schema = infer_schema(frame)
    assert not schema.columns["tags"].checks and not schema.columns["size"].checks
    assert schema.columns["count"].checks
    write_schema(schema, tmp_path / "schema.yaml")
    stored = read_schema(tmp_path / "schema.yaml")  # list<...>[pyarrow] cannot be read back
    assert stored.columns["tags"].dtype is None and stored.columns["tags"].description
    report = validate_frame(frame, stored)
    assert report.ok, report.summary()


def test_mixed_object_column_with_late_lists_does_not_raise() -> None:
    values: list[object] = ["a", "b", "c"] * 50 + [[1], {"k": 2}]
    frame = pd.DataFrame({"mixed": pd.Series(values, dtype=object), "n": range(len(values))})
    schema = infer_schema(frame)
    assert not schema.columns["mixed"].checks  # values cannot be hashed into a value set
    assert validate_frame(frame, schema).ok


# --------------------------------------------------------------------------- dtypes that move


def test_whole_numbers_with_missing_values_accept_int_and_float_batches(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    rooms = pd.Series(rng.integers(1, 9, 3000), dtype="float64")
    rooms[rng.random(3000) < 0.02] = np.nan  # as read from CSV: float64
    frame = pd.DataFrame({"rooms": rooms, "area": rng.normal(80, 20, 3000).round(1)})
    frame.loc[frame.index[::50], "area"] = np.nan
    write_schema(infer_schema(frame), tmp_path / "schema.yaml")
    schema = read_schema(tmp_path / "schema.yaml")
    rooms_column = schema.columns["rooms"]
    assert rooms_column.dtype is None and "whole numbers" in rooms_column.description
    assert rooms_column.checks  # the range still applies
    assert str(schema.columns["area"].dtype) == "float64"  # fractional: dtype checked
    batch = frame.iloc[:200].dropna()  # a batch without missing values reads as int64
    as_ints = batch.assign(rooms=batch["rooms"].astype("int64"))
    assert validate_frame(as_ints, schema).ok
    assert validate_frame(frame.iloc[:200], schema).ok
    assert bounds(rooms_column)[0] == 0
    negative = as_ints.assign(rooms=-as_ints["rooms"])
    assert [f.column for f in validate_frame(negative, schema).failures] == ["rooms"]
    text = as_ints.assign(rooms="three")
    assert [f.column for f in validate_frame(text, schema).failures] == ["rooms"]


def test_booleans_with_missing_values_accept_bool_and_object_batches() -> None:
    flags = pd.Series([True, False, None, True] * 100, dtype=object)
    frame = pd.DataFrame({"gift": flags})
    schema = infer_schema(frame)
    assert schema.columns["gift"].dtype is None
    assert validate_frame(pd.DataFrame({"gift": [True, False]}), schema).ok
    assert validate_frame(frame, schema).ok
    assert not validate_frame(pd.DataFrame({"gift": ["yes", None]}), schema).ok


def test_only_keys_and_fractional_numbers_keep_their_dtype() -> None:
    rng = np.random.default_rng(6)
    frame = pd.DataFrame(
        {
            "row_id": np.arange(150),
            "n": [1, 2, 3] * 50,
            "whole": [1.0, 2.0, 3.0] * 50,
            "x": rng.normal(size=150),
            "b": [True, False, True] * 50,
        }
    )
    schema = infer_schema(frame, keys=["row_id"])
    assert str(schema.columns["row_id"].dtype) == "int64"
    assert str(schema.columns["x"].dtype) == "float64"
    for name, why in (("n", "whole numbers"), ("whole", "whole numbers"), ("b", "booleans")):
        assert schema.columns[name].dtype is None
        assert why in schema.columns[name].description
    assert "int64, or float64" in schema.columns["n"].description
    assert "bool, or object" in schema.columns["b"].description
    # a batch with missing values turns int64 into float64 and bool into object
    gaps = frame.astype({"n": "float64", "b": object})
    gaps.loc[gaps.index[:3], ["n", "b", "whole", "x"]] = None
    assert validate_frame(gaps, schema).ok
    retyped = frame.assign(row_id=frame["row_id"].astype("float64"), x=frame["x"].astype(str))
    report = validate_frame(retyped, schema)
    assert {f.column for f in report.failures} == {"row_id", "x"}
    assert {(f.column, f.check) for f in report.failures} >= {
        ("row_id", "dtype('int64')"),
        ("x", "dtype('float64')"),
    }
