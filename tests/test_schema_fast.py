"""Fast schema validation: the same report as pandera alone, on generated defects and real data."""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine

from mlgates.stages.data.schema import (
    SchemaReport,
    _validate_with_pandera,
    read_schema,
    validate_frame,
    write_schema,
)
from mlgates.stages.data.schema_fast import validate_fast
from mlgates.stages.data.schema_inference import infer_schema

REGIONS = ["east", "north", "south", "west"]
CITIES = ["Lyon", "Oslo", "Pune", "Quito"]
PRODUCTS = [f"product-{k:02d}" for k in range(30)]  # a set long enough to be elided
EPOCH = pd.Timestamp("2020-01-01")

Defect = Callable[[pd.DataFrame, np.random.Generator], pd.DataFrame]


# --------------------------------------------------------------------------- helpers


@contextmanager
def quiet() -> Iterator[None]:
    """Silence pandera's and pandas' warnings about the odd frames built here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def reports(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> tuple[SchemaReport, SchemaReport]:
    """The report of :func:`validate_frame` and that of pandera alone."""
    with quiet():
        return validate_frame(frame, schema), _validate_with_pandera(frame, schema)


PANDAS_3 = int(pd.__version__.split(".")[0]) >= 3


def assert_same(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> SchemaReport:
    """Both paths give the same report; return it.

    Under pandas 2 pandera lists its failure cases in another order than the rows,
    so the few examples it samples may be other failing values: there the
    examples are compared by number, everything else exactly.
    """
    fast, reference = reports(frame, schema)
    if PANDAS_3:
        assert fast == reference
    else:
        assert _without_examples(fast) == _without_examples(reference)
    return fast


def _without_examples(report: SchemaReport) -> SchemaReport:
    failures = tuple(
        dataclasses.replace(f, examples=(str(len(f.examples)),)) for f in report.failures
    )
    return dataclasses.replace(report, failures=failures)


def pandera_columns(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> set[Hashable]:
    """Columns the fast path leaves to pandera (all of them when it declines the schema)."""
    with quiet():
        rest = validate_fast(frame, schema, sample=80).rest
    return set() if rest is None else set(rest.columns)


def pick(rng: np.random.Generator, rows: int, share: float = 0.02) -> np.ndarray:
    """A few distinct row positions, at least one."""
    return rng.choice(rows, size=max(1, int(rows * share)), replace=False)


# --------------------------------------------------------------------------- generated data


def base_frame(rows: int, seed: int) -> pd.DataFrame:
    """One column per dtype and rule the fast path covers, all valid."""
    rng = np.random.default_rng(seed)
    score = rng.uniform(0.01, 0.99, rows)
    score[rng.random(rows) < 0.05] = np.nan
    visits = pd.array(rng.integers(0, 40, rows), dtype="Int64")
    visits[rng.random(rows) < 0.05] = pd.NA
    city = rng.choice(np.array(CITIES, dtype=object), rows)
    city[rng.random(rows) < 0.05] = None
    return pd.DataFrame(
        {
            "id": rng.permutation(rows).astype("int64"),
            "name": pd.Series([f"n{k:07d}" for k in rng.permutation(rows)], dtype="str"),
            "age": rng.integers(0, 121, rows),
            "income": rng.lognormal(8, 1, rows),
            "score": score,
            "region": pd.Series(rng.choice(REGIONS, rows), dtype="str"),
            "city": pd.Series(city, dtype=object),
            "code": pd.Series(
                [f"C{k}" for k in rng.integers(10, 9999, rows)], dtype="string[pyarrow]"
            ),
            "label": pd.Series(rng.choice(["good", "fine"], rows), dtype="string[python]"),
            "tier": pd.Categorical(
                rng.choice(["gold", "silver"], rows), categories=["gold", "silver", "bronze"]
            ),
            "flag": rng.random(rows) < 0.5,
            "when": EPOCH + pd.to_timedelta(rng.integers(0, 1000, rows), unit="D"),
            "visits": visits,
            "small": rng.integers(0, 201, rows).astype("uint8"),
            "temp": rng.uniform(-40, 40, rows).astype("float32"),
            "level": rng.choice([1, 2, 3, 14], rows),
            "const": np.full(rows, 7),
            "product": pd.Series(rng.choice(PRODUCTS[:25], rows), dtype="str"),
            "serial": rng.permutation(rows).astype("float64"),
        }
    )


def base_schema() -> pa.DataFrameSchema:
    """Rules for :func:`base_frame`: every fast-path rule at least once."""
    return pa.DataFrameSchema(
        {
            "id": pa.Column("int64", unique=True),
            "name": pa.Column(str, unique=True, report_duplicates="exclude_first"),
            "age": pa.Column("int64", pa.Check.in_range(0, 120)),
            "income": pa.Column("float64", [pa.Check.ge(0), pa.Check.lt(1e6)]),
            "score": pa.Column(
                "float64",
                pa.Check.in_range(0.0, 1.0, include_min=False, include_max=False),
                nullable=True,
            ),
            "region": pa.Column("str", pa.Check.isin(REGIONS)),
            "city": pa.Column(object, pa.Check.isin(CITIES), nullable=True),
            "code": pa.Column(
                "string[pyarrow]",
                [
                    pa.Check.str_length(2, 5),
                    pa.Check.str_startswith("C"),
                    pa.Check.str_matches(r"C\d+$"),
                    pa.Check.str_endswith(("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")),
                ],
            ),
            "label": pa.Column(pd.StringDtype("python"), pa.Check.notin(["bad", "worse"])),
            "tier": pa.Column(
                pd.CategoricalDtype(["gold", "silver", "bronze"]),
                pa.Check.isin(["gold", "silver"]),
            ),
            "flag": pa.Column(bool, pa.Check.isin([False, True])),
            "when": pa.Column("datetime64[ns]", pa.Check.ge(EPOCH)),
            "visits": pa.Column("Int64", pa.Check.ge(0), nullable=True),
            "small": pa.Column("uint8", pa.Check.le(200)),
            "temp": pa.Column("float32", pa.Check.gt(-50.0)),
            "level": pa.Column("int64", [pa.Check.ne(13), pa.Check.notin([0, 99])]),
            "const": pa.Column("int64", pa.Check.eq(7)),
            "product": pa.Column(
                "str", [pa.Check.isin(PRODUCTS), pa.Check.isin([*PRODUCTS[:25], "other"])]
            ),
            "serial": pa.Column(
                "float64", unique=True, nullable=True, report_duplicates="exclude_last"
            ),
        }
    )


def replace(frame: pd.DataFrame, column: str, rows: np.ndarray, values: list[object]) -> None:
    """Write ``values`` (cycled) into ``rows`` of ``column``, keeping its dtype when it can."""
    cycled = [values[k % len(values)] for k in range(len(rows))]
    series = frame[column].copy()
    try:
        series.iloc[rows] = pd.array(cycled, dtype=series.dtype)
    except (TypeError, ValueError):  # the column cannot hold them: it becomes object
        series = series.astype(object)
        series.iloc[rows] = pd.array(cycled, dtype=object)
    frame[column] = series


def with_values(column: str, *values: object) -> Defect:
    """A defect writing ``values`` into a few rows of ``column``."""

    def defect(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        out = frame.copy()
        replace(out, column, pick(rng, len(out)), list(values))
        return out

    return defect


def retyped(column: str, convert: Callable[[pd.Series], object]) -> Defect:
    """A defect replacing ``column`` by ``convert`` of it (usually another dtype)."""

    def defect(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        return frame.assign(**{column: convert(frame[column])})

    return defect


def duplicated(column: str) -> Defect:
    def defect(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        out = frame.copy()
        rows = pick(rng, len(out))
        out.loc[out.index[rows], column] = out[column].iloc[rows[::-1]].to_numpy()
        out.loc[out.index[rows[:1]], column] = out[column].iloc[0]
        return out

    return defect


def nan_duplicates(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Duplicates that are all NaN: pandera flags them but reports no failure case."""
    out = frame.copy()
    out.loc[out.index[pick(rng, len(out))], "serial"] = np.nan
    return out


def dropped(*columns: str) -> Defect:
    def defect(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        return frame.drop(columns=list(columns))

    return defect


def extra(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    return frame.assign(extra_a=1.5, extra_b="x")


def many_long_strings(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Over twenty distinct failing values, some longer than an example may be."""
    out = frame.copy()
    rows = pick(rng, len(out), 0.05)
    values: list[object] = [f"{'unlisted-region-with-a-long-name-' * 2}{k}" for k in range(30)]
    replace(out, "region", rows, values)
    return out


DEFECTS: dict[str, Defect] = {
    "age out of range": with_values("age", -1, 121, 500, 0, 120),
    "age as float": retyped("age", lambda s: s.astype("float64")),
    "age as text": retyped("age", lambda s: s.astype("str")),
    "score at exclusive edges": with_values("score", 0.0, 1.0, np.nan, 0.5),
    "score infinite": with_values("score", math.inf, -math.inf),
    "income infinite and missing": with_values("income", math.inf, -math.inf, np.nan, -0.0),
    "income at the upper bound": with_values("income", 1e6, 999_999.99),
    "income all missing": retyped("income", lambda s: s * np.nan),
    "score all missing": retyped("score", lambda s: s * np.nan),
    "region unseen and missing": with_values("region", "mars", None, "east"),
    "region as object": retyped("region", lambda s: s.astype(object)),
    "region as python strings": retyped("region", lambda s: s.astype("string[python]")),
    "region long values": many_long_strings,
    "city mixed types": with_values("city", 1, 2.5, "Paris", True, None),
    "code bad strings": with_values("code", "X12", "C1", "Cabc", "C123456", "C12x"),
    "code missing": with_values("code", None),
    "label forbidden": with_values("label", "bad", "worse", None),
    "label as pyarrow": retyped("label", lambda s: s.astype("string[pyarrow]")),
    "tier not allowed and missing": with_values("tier", "bronze", np.nan),
    "tier other categories": retyped("tier", lambda s: s.astype(str).astype("category")),
    "flag as object": retyped("flag", lambda s: s.astype(object).where(s, None)),
    "when early and missing": with_values("when", pd.Timestamp("2019-12-31"), pd.NaT),
    "when with time zone": retyped("when", lambda s: s.dt.tz_localize("UTC")),
    "visits negative and missing": with_values("visits", -1, pd.NA, -5),
    "visits as int64": retyped("visits", lambda s: s.fillna(0).astype("int64")),
    "visits as float": retyped("visits", lambda s: s.astype("float64")),
    "small over": with_values("small", 201, 255),
    "temp at the bound": with_values("temp", -50.0, np.float32(-50.000001), -60.0),
    "temp as float64": retyped("temp", lambda s: s.astype("float64")),
    "level forbidden": with_values("level", 13, 0, 99),
    "const wrong": with_values("const", 8, -7),
    "product unseen": with_values("product", "other", "product-29", "nothing"),
    "id duplicates": duplicated("id"),
    "name duplicates": duplicated("name"),
    "name missing": with_values("name", None),
    "serial NaN duplicates": nan_duplicates,
    "serial duplicates": duplicated("serial"),
    "missing columns": dropped("age", "tier"),
    "extra columns": extra,
}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return base_frame(3000, seed=0)


@pytest.fixture(scope="module")
def schema() -> pa.DataFrameSchema:
    return base_schema()


def test_valid_data_is_validated_without_pandera(
    frame: pd.DataFrame, schema: pa.DataFrameSchema
) -> None:
    assert pandera_columns(frame, schema) == set()
    assert assert_same(frame, schema).ok


# Pandera accepts these: an extra column, a nullable column without values,
# duplicates that are all NaN, object columns of text for a string dtype, and
# int64 for Int64.
ACCEPTED = {
    "extra columns",
    "region as object",
    "score all missing",
    "serial NaN duplicates",
    "visits as int64",
} | (set() if PANDAS_3 else {"region as python strings"})  # pandas 2: str holds

# A column whose dtype does not match is the only one left to pandera.
RETYPED = {
    "age as float": "age",
    "age as text": "age",
    "flag as object": "flag",
    "label as pyarrow": "label",
    "region as python strings": "region",
    "temp as float64": "temp",
    "tier other categories": "tier",
    "visits as float": "visits",
    "when with time zone": "when",
}
if not PANDAS_3:
    del RETYPED["region as python strings"]  # pandas 2: a str column may hold them


@pytest.mark.parametrize("name", sorted(DEFECTS))
def test_each_defect_alone(name: str, frame: pd.DataFrame, schema: pa.DataFrameSchema) -> None:
    broken = DEFECTS[name](frame, np.random.default_rng(1))
    report = assert_same(broken, schema)
    assert report.ok == (name in ACCEPTED), report
    assert pandera_columns(broken, schema) == ({RETYPED[name]} if name in RETYPED else set())


@pytest.mark.parametrize("seed", range(40))
def test_random_combinations_of_defects(seed: int, schema: pa.DataFrameSchema) -> None:
    rng = np.random.default_rng(seed)
    broken = base_frame(int(rng.integers(50, 4000)), seed=seed)
    for name in rng.choice(sorted(DEFECTS), size=int(rng.integers(1, 6)), replace=False):
        broken = DEFECTS[name](broken, rng)
    assert_same(broken, schema)


@pytest.mark.parametrize("seed", range(8))
def test_inferred_schema_on_every_dtype(seed: int) -> None:
    rng = np.random.default_rng(seed)
    reference = base_frame(2000, seed=100 + seed)
    margin = None if seed % 2 else 1.0  # signs only, or plausibility ranges
    schema = infer_schema(
        reference, margin=margin, max_categories=40, keys=["id", "name", "serial"]
    )
    current = base_frame(int(rng.integers(100, 3000)), seed=seed)
    assert pandera_columns(current, schema) == set()
    assert_same(current, schema)
    for name in rng.choice(sorted(DEFECTS), size=4, replace=False):
        current = DEFECTS[name](current, rng)
        assert_same(current, schema)


def arrow_frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    text = pd.Series(rng.choice(REGIONS, rows)).astype(pd.ArrowDtype(pyarrow.string()))
    return pd.DataFrame(
        {
            "count": pd.Series(rng.integers(0, 100, rows), dtype="int64[pyarrow]"),
            "amount": pd.Series(rng.uniform(0, 1, rows), dtype="double[pyarrow]"),
            "text": text,
            "large": text.astype(pd.ArrowDtype(pyarrow.large_string())),
            "yes": pd.Series(rng.random(rows) < 0.5, dtype="bool[pyarrow]"),
        }
    )


def test_arrow_dtypes() -> None:
    schema = pa.DataFrameSchema(
        {
            "count": pa.Column("int64[pyarrow]", pa.Check.in_range(0, 99)),
            "amount": pa.Column("double[pyarrow]", pa.Check.lt(1.0), nullable=True),
            "text": pa.Column(pd.ArrowDtype(pyarrow.string()), pa.Check.isin(REGIONS)),
            "large": pa.Column(pd.ArrowDtype(pyarrow.large_string()), pa.Check.str_length(4, 5)),
            "yes": pa.Column("bool[pyarrow]", pa.Check.isin([True, False])),
        }
    )
    frame = arrow_frame(3000, seed=0)
    assert pandera_columns(frame, schema) == set()
    assert assert_same(frame, schema).ok
    rng = np.random.default_rng(1)
    for column, values in [
        ("count", [-1, 100, None]),
        ("amount", [1.0, None, 2.5]),
        ("text", ["mars", None]),
        ("large", ["ab", "abcdefg", None]),
        ("yes", [None]),
    ]:
        broken = frame.copy()
        replace(broken, column, pick(rng, len(broken)), values)
        assert pandera_columns(broken, schema) == set()
        assert not assert_same(broken, schema).ok


def test_dtype_mismatches_go_to_pandera(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> None:
    broken = frame.assign(
        age=frame["age"].astype("float64"), label=frame["label"].astype("string[pyarrow]")
    )
    assert pandera_columns(broken, schema) == {"age", "label"}
    report = assert_same(broken, schema)
    assert {f.check for f in report.failures} == {"dtype('int64')", "dtype('string[python]')"}


def test_values_keep_the_dtype_of_all_failures_together(schema: pa.DataFrameSchema) -> None:
    """An integer failure reads 500.0 when another failure is a float, as in pandera."""
    frame = base_frame(200, seed=3)
    alone = with_values("age", 500)(frame, np.random.default_rng(0))
    assert assert_same(alone, schema).failures[0].examples == ("500",)
    mixed = with_values("score", 1.5)(alone, np.random.default_rng(0))
    assert assert_same(mixed, schema).failures[0].examples == ("500.0",)
    with_nan_duplicates = nan_duplicates(alone, np.random.default_rng(0))
    assert assert_same(with_nan_duplicates, schema).failures[0].examples == ("500.0",)


def test_long_value_sets_merge_under_one_label(
    frame: pd.DataFrame, schema: pa.DataFrameSchema
) -> None:
    broken = with_values("product", "nothing", "other", "product-29")(
        frame, np.random.default_rng(2)
    )
    report = assert_same(broken, schema)
    (only,) = [f for f in report.failures if f.column == "product"]
    assert only.check == "isin([...])"


def test_empty_and_header_only_frames(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> None:
    assert assert_same(frame.iloc[:0], schema).ok
    assert pandera_columns(frame.iloc[:0], schema) == set()
    header_only = pd.DataFrame(columns=frame.columns)
    assert not assert_same(header_only, schema).ok


def test_bounds_beyond_the_dtype_and_numpy_bounds() -> None:
    """Bounds compared with a column under numpy's promotion rules, as pandas does."""
    rows = 2000
    rng = np.random.default_rng(6)
    frame = pd.DataFrame(
        {
            "tiny": rng.integers(-100, 100, rows).astype("int8"),
            "unsigned": rng.integers(0, 2**63, rows, dtype="uint64"),
            "whole": rng.integers(-10, 10, rows),
            "real": rng.uniform(0, 1, rows),
        }
    )
    frame.loc[3, "whole"] = 2**53 + 1
    frame.loc[4, "real"] = 0.1
    cases = [
        ("tiny", pa.Check.lt(np.int64(300))),
        ("tiny", pa.Check.ge(-1)),
        ("unsigned", pa.Check.ge(-5)),
        ("unsigned", pa.Check.le(2**70)),
        ("unsigned", pa.Check.in_range(0, 2**62)),
        ("whole", pa.Check.le(float(2**53))),
        ("whole", pa.Check.in_range(-9.5, 9.5)),
        ("whole", pa.Check.ne(0.5)),
        ("real", pa.Check.in_range(np.float32(0.1), 1.0)),
        ("real", pa.Check.gt(np.float64(0.1))),
        ("real", pa.Check.ne(math.nan)),
        ("real", pa.Check.eq(math.nan)),
        ("real", pa.Check.in_range(math.nan, 1.0)),
    ]
    for column, check in cases:
        schema = pa.DataFrameSchema({column: pa.Column(checks=check)})
        assert pandera_columns(frame, schema) == set()
        assert_same(frame, schema)


def test_column_labels_that_are_not_text() -> None:
    schema = pa.DataFrameSchema(
        {0: pa.Column("int64", pa.Check.le(5)), 1: pa.Column("float64"), 2: pa.Column(str)},
        name="numbered",
    )
    frame = pd.DataFrame({0: [1, 7, 9], 1: [0.5, np.nan, 1.0]})
    assert pandera_columns(frame, schema) == set()
    report = assert_same(frame, schema)
    assert [f.check for f in report.failures] == [
        "less_than_or_equal_to(5)",
        "not_nullable",
        "column_in_dataframe",
    ]


def test_large_frame_with_defects_far_apart(schema: pa.DataFrameSchema) -> None:
    """Beyond the chunk size used to scan numeric columns, defects at either end."""
    frame = base_frame(70_000, seed=5)
    frame.loc[frame.index[-1], "age"] = 130
    frame.loc[frame.index[0], "income"] = -3.0
    frame.loc[frame.index[40_000], "score"] = math.inf
    frame.loc[frame.index[-2], "small"] = 250
    report = assert_same(frame, schema)
    assert {f.column for f in report.failures} == {"age", "income", "score", "small"}


@pytest.mark.parametrize(
    "index",
    [
        pd.RangeIndex(5, 3005),
        pd.Index([f"r{k}" for k in range(3000)]),
        pd.Index([k % 7 for k in range(3000)]),
    ],
    ids=["offset", "text", "duplicated"],
)
def test_other_row_indexes(
    index: pd.Index, frame: pd.DataFrame, schema: pa.DataFrameSchema
) -> None:
    broken = DEFECTS["age out of range"](frame, np.random.default_rng(0)).set_axis(index)
    assert pandera_columns(broken, schema) == set()
    assert_same(broken, schema)


def test_index_with_missing_labels_goes_to_pandera(
    frame: pd.DataFrame, schema: pa.DataFrameSchema
) -> None:
    labels = np.arange(len(frame), dtype="float64")
    labels[3] = np.nan
    broken = DEFECTS["region unseen and missing"](frame, np.random.default_rng(0))
    broken = broken.set_axis(pd.Index(labels))
    assert pandera_columns(broken, schema) == set(schema.columns)
    assert_same(broken, schema)


# --------------------------------------------------------------------------- what pandera keeps


def odd_rules() -> dict[str, pa.Column]:
    """Column rules the fast path leaves to pandera."""
    return {
        "custom": pa.Column("int64", pa.Check(lambda s: s < 100, name="below_100")),
        "element_wise": pa.Column("int64", pa.Check(lambda v: v < 100, element_wise=True)),
        "keep_na": pa.Column("float64", pa.Check.ge(0, ignore_na=False), nullable=True),
        "few_cases": pa.Column("int64", pa.Check.le(100, n_failure_cases=2)),
        "warned": pa.Column("int64", pa.Check.le(100, raise_warning=True)),
        "coerced": pa.Column("int64", pa.Check.le(100), coerce=True),
        "default": pa.Column("float64", pa.Check.ge(0), nullable=True, default=0.0),
        "parsed": pa.Column("int64", pa.Check.le(100), parsers=pa.Parser(lambda s: s + 1)),
        "value_set": pa.Column("int64", pa.Check.unique_values_eq([1, 2])),
        "^regex_\\d$": pa.Column("int64", pa.Check.le(100), regex=True),
    }


def odd_frame(rows: int = 500) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    values = rng.integers(0, 200, rows)
    with_nan = rng.normal(size=rows)
    with_nan[::9] = np.nan
    return pd.DataFrame(
        {
            "custom": values,
            "element_wise": values,
            "keep_na": with_nan,
            "few_cases": values,
            "warned": values,
            "coerced": values.astype("float64"),
            "default": with_nan,
            "parsed": values,
            "value_set": rng.integers(1, 4, rows),
            "regex_1": values,
            "regex_2": values,
            "age": rng.integers(-5, 130, rows),
            "region": pd.Series(rng.choice([*REGIONS, "mars"], rows), dtype="str"),
        }
    )


def test_columns_with_other_rules_go_to_pandera_the_rest_is_fast() -> None:
    rules = odd_rules()
    schema = pa.DataFrameSchema(
        {
            **rules,
            "age": pa.Column("int64", pa.Check.in_range(0, 120)),
            "region": pa.Column("str", pa.Check.isin(REGIONS)),
        }
    )
    frame = odd_frame()
    assert pandera_columns(frame, schema) == set(rules)
    report = assert_same(frame, schema)
    assert {"age", "region", "custom", "keep_na"} <= {f.column for f in report.failures}


SCHEMA_OPTIONS: dict[str, dict[str, object]] = {
    "strict": {"strict": True},
    "strict filter": {"strict": "filter"},
    "ordered": {"ordered": True},
    "unique together": {"unique": ["age", "region"]},
    "frame check": {"checks": [pa.Check(lambda df: df["age"] < 100)]},
    "index check": {"index": pa.Index("int64", pa.Check.ge(10))},
    "coerce": {"coerce": True},
    "add missing columns": {"add_missing_columns": True},
}


@pytest.mark.parametrize("option", sorted(SCHEMA_OPTIONS))
def test_schema_level_options_stay_with_pandera(option: str) -> None:
    columns = {
        "age": pa.Column("int64", pa.Check.in_range(0, 120)),
        "region": pa.Column("str", pa.Check.isin(REGIONS), nullable=True),
        "score": pa.Column("float64", pa.Check.le(1.0), required=False),
        "absent": pa.Column("float64", required=False, nullable=True),
    }
    schema = pa.DataFrameSchema(columns, **SCHEMA_OPTIONS[option])  # type: ignore[arg-type]
    frame = odd_frame()[["region", "age"]].assign(extra=1.0)
    frame = frame.iloc[:-3].assign(score=np.linspace(0, 2, len(frame) - 3))
    frame.loc[frame.index[:4], "region"] = None
    frame = pd.concat([frame, frame.iloc[:3]], ignore_index=True)  # duplicated rows
    assert_same(frame, schema)
    assert_same(frame.drop(columns=["age"]), schema)


def test_duplicate_column_labels_go_to_pandera() -> None:
    schema = pa.DataFrameSchema({"age": pa.Column("int64", pa.Check.in_range(0, 120))})
    frame = pd.concat([odd_frame()[["age"]], odd_frame()[["age"]] * 2], axis=1)
    assert pandera_columns(frame, schema) == {"age"}
    assert_same(frame, schema)


def test_checks_that_raise_go_to_pandera() -> None:
    """A range check on text raises in pandas; pandera reports the error as a failure."""
    schema = pa.DataFrameSchema(
        {
            "region": pa.Column(None, pa.Check.in_range(0, 10)),
            "mixed": pa.Column(object, pa.Check.str_length(1, 3)),
            "age": pa.Column("int64", pa.Check.str_length(1, 2)),
        }
    )
    frame = odd_frame()[["region", "age"]].assign(
        mixed=pd.Series([["a"], "abcd", 3] * 166 + ["ab", "x"], dtype=object),
    )
    assert pandera_columns(frame, schema) == {"region", "age"}
    report = assert_same(frame, schema)
    assert {f.column for f in report.failures} == {"region", "mixed", "age"}


def test_unhashable_values_raise_as_in_pandera() -> None:
    schema = pa.DataFrameSchema({"lists": pa.Column(object, unique=True)})
    frame = pd.DataFrame({"lists": pd.Series([[1], [2]] * 5, dtype=object)})
    with pytest.raises(TypeError, match="unhashable"):
        _validate_with_pandera(frame, schema)
    with pytest.raises(TypeError, match="unhashable"):
        validate_frame(frame, schema)


# --------------------------------------------------------------------------- real data


def iris() -> pd.DataFrame:
    frame = load_iris(as_frame=True).frame
    return frame.assign(species=pd.Series(load_iris().target_names[frame["target"]], dtype="str"))


REAL: dict[str, Callable[[], pd.DataFrame]] = {
    "breast_cancer": lambda: load_breast_cancer(as_frame=True).frame,
    "diabetes": lambda: load_diabetes(as_frame=True).frame,
    "iris": iris,
    "wine": lambda: load_wine(as_frame=True).frame,
}


def real_defects(frame: pd.DataFrame, seed: int) -> Iterator[pd.DataFrame]:
    """Plausible defects in a real table: unit mix-ups, sign errors, gaps, lost columns."""
    rng = np.random.default_rng(seed)
    numeric = list(frame.select_dtypes("number").columns)
    rows = pick(rng, len(frame), 0.05)
    first, second = rng.choice(numeric, size=2, replace=False)
    scaled = frame.copy()
    scaled[first] = scaled[first] * 1000
    yield scaled
    negated = frame.copy()
    negated.loc[negated.index[rows], second] = -negated[second].iloc[rows].abs() - 1
    yield negated
    gaps = frame.copy()
    gaps.loc[gaps.index[rows], first] = np.nan
    yield gaps
    yield frame.drop(columns=[second])
    yield frame.assign(**{first: frame[first].astype("str")})
    yield frame.iloc[::-1].reset_index(drop=True)


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_data_with_inferred_schemas(name: str, tmp_path: Path) -> None:
    frame = REAL[name]()
    reference = frame.sample(frac=0.5, random_state=0)
    current = frame.drop(index=reference.index)
    schema = infer_schema(reference, margin=0.1)
    write_schema(schema, tmp_path / "schema.yaml")
    stored = read_schema(tmp_path / "schema.yaml")
    for candidate in (schema, stored):
        assert pandera_columns(current, candidate) == set()
        assert_same(current, candidate)
        for seed, broken in enumerate(real_defects(current, seed=len(name))):
            assert_same(broken, candidate), seed


def test_benchmark_like_data_with_inferred_schema() -> None:
    """String, numeric and nullable columns as the data gate benchmark generates them."""
    rng = np.random.default_rng(0)
    rows = 30_000
    frame = pd.DataFrame(
        {
            "num": rng.lognormal(3.0, 0.6, rows),
            "shifted": rng.normal(-3.0, 3.0, rows),
            "cat": pd.Series(rng.choice([f"level_{k}" for k in range(12)], rows), dtype="str"),
            "nullable": np.where(rng.random(rows) < 0.03, np.nan, rng.normal(size=rows)),
            "label": (rng.random(rows) < 0.2).astype("int64"),
        }
    )
    # "label" is not unique, so a key check fails; "shifted" is a key, so never missing
    schema = infer_schema(frame.iloc[: rows // 2], keys=["label", "shifted"])
    current = frame.iloc[rows // 2 :].copy()
    assert pandera_columns(current, schema) == set()
    assert_same(current, schema)
    current.loc[current.index[::500], "cat"] = "level_99"
    current.loc[current.index[::700], "num"] = -1.0
    current.loc[current.index[::900], "shifted"] = np.nan
    report = assert_same(current, schema)
    assert {f.column for f in report.failures} == {"cat", "num", "shifted", "label"}
