"""Column profiles: bins, counts, kinds, categories and exact JSON round trips."""

from __future__ import annotations

import json
import math
from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest

from mlgates.stats.profile import (
    NULL_LEVELS,
    CategoricalProfile,
    DatasetProfile,
    NumericProfile,
    UnprofiledColumn,
    column_from_dict,
    infer_kind,
    profile_against,
    profile_dataset,
    profile_dataset_against,
    profile_reference,
)


def _diabetes() -> pd.DataFrame:
    from sklearn.datasets import load_diabetes

    return load_diabetes(as_frame=True).frame


def _mixed_frame(rows: int = 2000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    amount = rng.lognormal(3, 1, rows)
    amount[rng.random(rows) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "amount": amount,
            "age": rng.integers(18, 90, rows),
            "flag": rng.integers(0, 2, rows),
            "city": rng.choice(["paris", "lyon", "nice", "lille"], rows),
            "member": rng.random(rows) < 0.3,
            "joined": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, rows), "D"),
        }
    )


# -- kinds ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (pd.Series([True, False, True]), "categorical"),
        (pd.Series(["a", "b", None]), "categorical"),
        (pd.Series(["a", "b"], dtype=object), "categorical"),
        (pd.Series(["a", "b"], dtype="category"), "categorical"),
        (pd.Series([1, 0, 1, 1], dtype="Int64"), "categorical"),
        (pd.Series(np.arange(21) % 20), "categorical"),
        (pd.Series(np.arange(21, dtype=float)), "numeric"),
        (pd.Series(np.linspace(0, 1, 10_000)), "numeric"),
        (pd.Series(pd.date_range("2024-01-01", periods=50, freq="h")), "numeric"),
    ],
)
def test_infer_kind(values: pd.Series, kind: str) -> None:
    assert infer_kind(values) == kind


def test_infer_kind_threshold_is_configurable() -> None:
    codes = pd.Series(np.arange(100) % 30)
    assert infer_kind(codes) == "numeric"
    assert infer_kind(codes, max_numeric_categories=30) == "categorical"


# -- numeric profiles -----------------------------------------------------------------


def test_numeric_reference_bins_follow_quantiles_and_interval_convention() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(10, 3, 5000)
    x[::50] = np.nan
    profile = profile_reference(pd.Series(x), bins=20)
    assert isinstance(profile, NumericProfile)
    valid = x[~np.isnan(x)]
    expected_edges = np.unique(np.quantile(valid, np.arange(1, 20) / 20))
    np.testing.assert_array_equal(profile.edges, expected_edges)
    expected_counts = np.bincount(
        np.searchsorted(expected_edges, valid, side="left"), minlength=expected_edges.size + 1
    )
    np.testing.assert_array_equal(profile.counts, expected_counts)
    assert sum(profile.counts) == profile.count == valid.size
    assert profile.null_count == 100
    assert profile.mean == pytest.approx(valid.mean(), rel=1e-12)
    assert profile.std == pytest.approx(valid.std(), rel=1e-12)
    assert (profile.min, profile.max) == (valid.min(), valid.max())
    low_tail = valid[valid <= expected_edges[0]]
    assert profile.tail_means[0] == pytest.approx(low_tail.mean(), rel=1e-12)
    assert [level for level, _ in profile.null_quantiles] == [*NULL_LEVELS, 1.0]
    values = [value for _, value in profile.null_quantiles[:-1]]
    assert values == sorted(values) and values[0] > 0


def test_values_on_an_edge_fall_in_the_lower_bin() -> None:
    reference = profile_reference(pd.Series([1.0, 2.0, 3.0, 4.0, 5.0]), kind="numeric", bins=2)
    assert reference.edges == (3.0,)
    current = profile_against(reference, pd.Series([3.0, 3.0, 2.9, 3.1]))
    assert isinstance(current, NumericProfile)
    assert current.counts == (3, 1)


def test_discrete_values_deduplicate_edges() -> None:
    raw = np.repeat([0.0, 1.0, 5.0], [800, 150, 50])
    profile = profile_reference(pd.Series(raw), kind="numeric", bins=100)
    assert isinstance(profile, NumericProfile)
    expected = np.unique(np.quantile(raw, np.arange(1, 100) / 100))
    np.testing.assert_array_equal(profile.edges, expected)
    assert len(profile.edges) < 99 and profile.edges[0] == 0.0
    assert profile.counts[0] == 800  # the point mass at the first edge
    assert sum(profile.counts) == 1000


def test_profile_against_uses_reference_edges_and_its_own_moments() -> None:
    rng = np.random.default_rng(2)
    reference = profile_reference(pd.Series(rng.normal(0, 1, 3000)))
    x = rng.normal(5, 2, 1000)
    current = profile_against(reference, pd.Series(np.append(x, [np.nan, np.nan])))
    assert isinstance(reference, NumericProfile) and isinstance(current, NumericProfile)
    assert current.edges == reference.edges
    assert current.null_quantiles == ()
    assert sum(current.counts) == current.count == 1000
    assert current.null_count == 2
    assert current.mean == pytest.approx(x.mean())
    assert current.std == pytest.approx(x.std())
    assert (current.min, current.max) == (x.min(), x.max())
    above = x[x > reference.edges[-1]]
    assert current.counts[-1] == above.size
    assert current.tail_means[1] == pytest.approx(above.mean())


def test_profile_against_matches_bincount_on_large_unsorted_data() -> None:
    rng = np.random.default_rng(3)
    reference = profile_reference(pd.Series(rng.standard_normal(10_000)))
    assert isinstance(reference, NumericProfile)
    x = rng.standard_normal(200_000) * 1.5  # several sort chunks
    current = profile_against(reference, pd.Series(x))
    assert isinstance(current, NumericProfile)
    edges = np.asarray(reference.edges)
    expected = np.bincount(np.searchsorted(edges, x, side="left"), minlength=edges.size + 1)
    np.testing.assert_array_equal(current.counts, expected)


def test_empty_and_all_null_numeric_columns() -> None:
    profile = profile_reference(pd.Series([np.nan, np.nan]), kind="numeric")
    assert isinstance(profile, NumericProfile)
    assert (profile.count, profile.null_count, profile.edges, profile.counts) == (0, 2, (), (0,))
    assert all(math.isnan(v) for v in (profile.mean, profile.std, profile.min, profile.max))


def test_datetimes_are_profiled_as_int64_nanoseconds() -> None:
    stamps = pd.Series(pd.date_range("2024-01-01", periods=100, freq="D", tz="Europe/Paris"))
    stamps[3] = pd.NaT
    profile = profile_reference(stamps)
    assert isinstance(profile, NumericProfile)
    assert profile.null_count == 1
    assert profile.min == pd.Timestamp("2024-01-01", tz="Europe/Paris").value


def test_non_numeric_values_cannot_be_forced_numeric() -> None:
    with pytest.raises(ValueError, match="cannot be profiled as numeric"):
        profile_reference(pd.Series(["a", "b"], name="city"), kind="numeric")


# -- categorical profiles -------------------------------------------------------------


def test_categorical_reference_orders_by_count_then_label() -> None:
    values = pd.Series(["b", "a", "c", "a", "b", "d", None, "c", "a"])
    profile = profile_reference(values)
    assert isinstance(profile, CategoricalProfile)
    assert profile.categories == ("a", "b", "c", "d")
    assert profile.counts == (3, 2, 2, 1)
    assert (profile.count, profile.null_count, profile.other_count) == (8, 1, 0)


def test_categorical_keeps_at_most_max_categories() -> None:
    values = pd.Series(list("aaaabbbccd"))
    profile = profile_reference(values, max_categories=2)
    assert isinstance(profile, CategoricalProfile)
    assert profile.categories == ("a", "b")
    assert profile.other_count == 3
    assert sum(profile.counts) + profile.other_count == profile.count


def test_profile_against_counts_unseen_labels_as_other() -> None:
    reference = profile_reference(pd.Series(list("aaabbc")))
    current = profile_against(reference, pd.Series(["c", "c", "z", "y", None, "a"]))
    assert isinstance(current, CategoricalProfile)
    assert current.categories == ("a", "b", "c")
    assert current.counts == (1, 0, 2)
    assert (current.other_count, current.count, current.null_count) == (2, 5, 1)


def test_integer_codes_keep_their_labels_when_nulls_turn_them_float() -> None:
    reference = profile_reference(pd.Series([0, 1, 1, 2] * 10))
    current = profile_against(reference, pd.Series([0.0, 1.0, np.nan, 2.0, 2.0]))
    assert isinstance(reference, CategoricalProfile) and isinstance(current, CategoricalProfile)
    assert reference.categories == ("1", "0", "2")
    assert current.counts == (1, 1, 2)
    assert current.other_count == 0


def test_category_dtype_and_mixed_objects() -> None:
    values = pd.Series(["x", "y", "x"], dtype=pd.CategoricalDtype(["x", "y", "unused"]))
    profile = profile_reference(values)
    assert isinstance(profile, CategoricalProfile)
    assert profile.categories == ("x", "y")  # categories without values are not kept
    mixed = profile_reference(pd.Series([1, "1", 2.0, "b", None], dtype=object))
    assert isinstance(mixed, CategoricalProfile)
    assert dict(zip(mixed.categories, mixed.counts, strict=True)) == {"1": 2, "2": 1, "b": 1}


def test_booleans_are_categorical() -> None:
    profile = profile_reference(pd.Series([True, False, True]))
    assert isinstance(profile, CategoricalProfile)
    assert profile.categories == ("True", "False")


# -- data sets and serialisation ------------------------------------------------------


def test_profile_dataset_kinds_columns_and_against() -> None:
    frame = _mixed_frame()
    profile = profile_dataset(frame, kinds={"flag": "numeric"}, bins=50)
    assert profile.row_count == len(frame)
    kinds = {name: column.kind for name, column in profile.columns.items()}
    assert kinds == {
        "amount": "numeric",
        "age": "numeric",
        "flag": "numeric",
        "city": "categorical",
        "member": "categorical",
        "joined": "numeric",
    }
    subset = profile_dataset(frame, columns=["city", "age"])
    assert list(subset.columns) == ["city", "age"]
    current = profile_dataset_against(profile, frame.drop(columns=["age"]).iloc[:500])
    assert current.row_count == 500
    assert "age" not in current.columns
    for name, column in current.columns.items():
        assert column.kind == profile.columns[name].kind
        assert column.count + column.null_count == 500


def test_profile_dataset_rejects_unknown_columns_and_kinds() -> None:
    frame = _mixed_frame(100)
    with pytest.raises(ValueError, match="not in the data: nope"):
        profile_dataset(frame, columns=["age", "nope"])
    with pytest.raises(ValueError, match="kinds must be"):
        profile_dataset(frame, kinds={"age": "ordinal"})


def test_large_frames_profile_in_parallel_with_the_same_result() -> None:
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({f"x{i}": rng.standard_normal(60_000) for i in range(3)})
    frame["c"] = rng.choice(["u", "v", "w"], len(frame))
    together = profile_dataset(frame)
    one_by_one = {name: profile_reference(frame[name]) for name in frame.columns}
    assert json.dumps(together.to_dict()) == json.dumps(
        DatasetProfile(len(frame), one_by_one).to_dict()
    )


def _same(a: object, b: object) -> None:
    """Field-by-field equality that treats nan as equal to nan."""
    np.testing.assert_equal(asdict(a), asdict(b))  # type: ignore[call-overload]


def test_dataset_profile_round_trips_exactly(tmp_path) -> None:
    frame = _mixed_frame()
    frame["empty"] = np.nan
    frame.loc[0, "amount"] = np.inf
    profile = profile_dataset(frame, kinds={"empty": "numeric"})
    amount = profile.columns["amount"]
    assert isinstance(amount, NumericProfile) and math.isinf(amount.max)
    empty = profile.columns["empty"]
    assert isinstance(empty, NumericProfile) and math.isnan(empty.mean)

    document = json.loads(json.dumps(profile.to_dict(), allow_nan=False))
    assert document["format"] == 2
    again = DatasetProfile.from_dict(document)
    assert again.row_count == profile.row_count
    assert list(again.columns) == list(profile.columns)
    for name, column in profile.columns.items():
        _same(again.columns[name], column)
        _same(column_from_dict(column.to_dict()), column)
    assert again.to_dict() == profile.to_dict()

    path = tmp_path / "reference.json"
    profile.save(path)
    loaded = DatasetProfile.load(str(path))
    assert json.dumps(loaded.to_dict()) == json.dumps(profile.to_dict())
    for name, column in profile.columns.items():
        _same(loaded.columns[name], column)
    assert list(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "expected an object"),
        ({"format": 3, "row_count": 1, "columns": {}}, 'expected "format": 2'),
        ({"format": 1, "row_count": 1, "columns": {}}, "older mlgates"),
        ({"format": 2, "columns": {}}, "missing key 'row_count'"),
        ({"format": 2, "row_count": 1, "columns": []}, "'columns' must be an object"),
        ({"format": 2, "row_count": 1, "columns": {"a": {"kind": "text"}}}, "unknown column kind"),
        (
            {"format": 2, "row_count": 1, "columns": {"a": {"kind": "numeric", "count": 1}}},
            "column 'a': numeric profile: missing key 'null_count'",
        ),
        (
            {
                "format": 2,
                "row_count": 2,
                "columns": {
                    "a": {
                        "kind": "numeric",
                        "count": 2,
                        "null_count": 0,
                        "mean": 0,
                        "std": 1,
                        "min": -1,
                        "max": 1,
                        "edges": [0.0],
                        "counts": [2],
                    }
                },
            },
            "1 counts for 1 edges",
        ),
        (
            {
                "format": 2,
                "row_count": 2,
                "columns": {
                    "a": {
                        "kind": "categorical",
                        "count": 2,
                        "null_count": 0,
                        "categories": ["x"],
                        "counts": [1],
                        "other_count": 0,
                    }
                },
            },
            "sum to 1, not count 2",
        ),
        (
            {
                "format": 2,
                "row_count": 2,
                "columns": {
                    "a": {
                        "kind": "numeric",
                        "count": 2,
                        "null_count": 0,
                        "mean": "big",
                        "std": 1,
                        "min": -1,
                        "max": 1,
                        "edges": [],
                        "counts": [2],
                    }
                },
            },
            "mean: expected a number",
        ),
        (
            {"format": 2, "row_count": 1, "columns": {}, "unprofiled": {"a": 1}},
            "'unprofiled' must be an object",
        ),
        (
            {"format": 2, "row_count": 1, "columns": {}, "unprofiled": ["a"]},
            "'unprofiled' must be an object",
        ),
    ],
)
def test_from_dict_rejects_bad_documents(document: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DatasetProfile.from_dict(document)  # type: ignore[arg-type]


def test_load_rejects_a_file_that_is_not_json(tmp_path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="not JSON"):
        DatasetProfile.load(path)


# -- columns that cannot be summarised ------------------------------------------------

NESTED = "drift is not measured for nested values"


def _nested_frame() -> pd.DataFrame:
    frame = _diabetes()
    rows = len(frame)
    frame["tags"] = pd.Series([["a", "b"], ["c"]] * (rows // 2), dtype=object)
    frame["meta"] = pd.Series([{"k": 1}, None] * (rows // 2), dtype=object)
    frame["sets"] = pd.Series([{1, 2}] * rows, dtype=object)
    frame["vectors"] = pd.Series([np.arange(3)] * rows, dtype=object)
    return frame


def test_nested_reference_columns_are_unprofiled_and_the_rest_profiled() -> None:
    frame = _nested_frame()
    profile = profile_dataset(frame, bins=20)
    plain = profile_dataset(_diabetes(), bins=20)
    assert profile.unprofiled == {
        "tags": f"holds nested values (list); {NESTED}",
        "meta": f"holds nested values (dict); {NESTED}",
        "sets": f"holds nested values (set); {NESTED}",
        "vectors": f"holds nested values (ndarray); {NESTED}",
    }
    assert profile.to_dict()["columns"] == plain.to_dict()["columns"]
    with pytest.raises(UnprofiledColumn, match=r"'tags' cannot be profiled as categorical"):
        profile_reference(frame["tags"])


def test_nested_current_columns_are_unprofiled() -> None:
    frame = _diabetes()
    frame["group"] = np.where(frame["sex"] > 0, "m", "f")
    reference = profile_dataset(frame.iloc[:300])
    current = frame.iloc[300:].copy()
    current["bmi"] = pd.Series([[1.0, 2.0]] * len(current), index=current.index, dtype=object)
    current["group"] = pd.Series([{"m"}] * len(current), index=current.index, dtype=object)
    profile = profile_dataset_against(reference, current)
    assert profile.unprofiled == {
        "bmi": f"holds nested values (list); {NESTED}",
        "group": f"holds nested values (set); {NESTED}",
    }
    assert set(profile.columns) == set(reference.columns) - {"bmi", "group"}
    assert all(column.count == len(current) for column in profile.columns.values())


def test_nested_values_are_found_when_pandas_cannot_count_them(monkeypatch) -> None:
    def unhashable(*args: object, **kwargs: object) -> None:
        raise TypeError("unhashable type: 'list'")

    monkeypatch.setattr(pd.Series, "value_counts", unhashable)
    profile = profile_dataset(pd.DataFrame({"tags": [None, [1], [2, 3]]}))
    assert profile.unprofiled == {"tags": f"holds nested values (list); {NESTED}"}


def test_text_in_a_numeric_current_column_is_unprofiled(tmp_path) -> None:
    frame = _diabetes()
    reference = profile_dataset(frame.iloc[:142])
    current = frame.iloc[142:].reset_index(drop=True)
    broken = current.astype({"bmi": object})
    broken.loc[[5, 90, 200], "bmi"] = ["abc", "n/a", "abc"]  # "n/a" reads back as null
    path = tmp_path / "current.csv"
    broken.to_csv(path, index=False)
    read = pd.read_csv(path, float_precision="round_trip")
    assert not pd.api.types.is_numeric_dtype(read["bmi"])

    profile = profile_dataset_against(reference, read)
    assert profile.unprofiled == {
        "bmi": "holds text where the reference has numbers: "
        "2 of 299 values are not numbers, e.g. 'abc'"
    }
    clean = profile_dataset_against(reference, current)
    assert profile.to_dict()["columns"] == {
        name: column for name, column in clean.to_dict()["columns"].items() if name != "bmi"
    }


def test_unreadable_numbers_show_at_most_three_distinct_examples() -> None:
    reference = profile_dataset(pd.DataFrame({"x": np.linspace(0, 1, 500)}))
    values = np.linspace(0, 1, 300).astype(object)
    values[[1, 2, 3, 4, 5]] = ["one", "two", "one", "three", "x" * 60]
    profile = profile_dataset_against(reference, pd.DataFrame({"x": values}))
    assert profile.unprofiled == {
        "x": "holds text where the reference has numbers: 5 of 300 values are not numbers, "
        "e.g. 'one', 'two', 'three'"
    }
    dates = pd.Series([pd.Timestamp("2024-01-01").date()] * 3, dtype=object)
    odd = profile_dataset_against(reference, pd.DataFrame({"x": dates}))
    assert odd.unprofiled["x"].startswith("holds date values where the reference has numbers")


def test_text_forced_numeric_in_the_reference_is_unprofiled() -> None:
    frame = _mixed_frame(300)
    profile = profile_dataset(frame, kinds={"city": "numeric"})
    assert list(profile.unprofiled) == ["city"]
    assert profile.unprofiled["city"].startswith(
        "holds text where numbers were asked for: 300 of 300 values are not numbers, e.g. "
    )
    assert "city" not in profile.columns and len(profile.columns) == frame.shape[1] - 1


def test_numbers_against_a_categorical_reference_stay_categorical() -> None:
    reference = profile_dataset(pd.DataFrame({"grade": ["1", "2", "2", "3"] * 50}))
    current = profile_dataset_against(reference, pd.DataFrame({"grade": [1, 2, 2, 2, 4]}))
    column = current.columns["grade"]
    assert isinstance(column, CategoricalProfile) and not current.unprofiled
    assert dict(zip(column.categories, column.counts, strict=True)) == {"2": 3, "1": 1, "3": 0}
    assert column.other_count == 1


def test_unprofiled_round_trips_and_is_optional_in_json(tmp_path) -> None:
    profile = profile_dataset(_nested_frame().iloc[:100], columns=["bmi", "tags"])
    document = profile.to_dict()
    assert document["format"] == 2
    assert document["unprofiled"] == {"tags": f"holds nested values (list); {NESTED}"}
    path = tmp_path / "reference.json"
    profile.save(path)
    assert DatasetProfile.load(path).unprofiled == profile.unprofiled

    plain = profile_dataset(_diabetes().iloc[:100], columns=["bmi"])
    assert "unprofiled" not in plain.to_dict()  # files without it are unchanged
    old = {key: value for key, value in document.items() if key != "unprofiled"}
    assert DatasetProfile.from_dict(old).unprofiled == {}


def test_a_stored_profile_that_contradicts_itself_is_refused() -> None:
    frame = pd.DataFrame({"x": np.arange(200.0), "c": ["a", "b"] * 100})
    document = profile_dataset(frame).to_dict()
    document["row_count"] = 8000
    with pytest.raises(ValueError, match="row_count 8000"):
        DatasetProfile.from_dict(document)
    document = profile_dataset(frame).to_dict()
    document["columns"]["x"]["std"] = -1.0
    with pytest.raises(ValueError, match="std must not be negative"):
        DatasetProfile.from_dict(document)
