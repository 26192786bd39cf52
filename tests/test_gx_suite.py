"""Great Expectations suites run with the real library on the breast-cancer data set."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mlgates.stages.data import gx_suite
from mlgates.stages.data.gx_suite import (
    ExpectationOutcome,
    MissingExtraError,
    SuiteError,
    load_suite,
    run_suite,
    suite_check_names,
    suite_document,
)

# Checked without importing: the import is slow and belongs in the fixture below.
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("great_expectations") is None,
    reason="needs the gx extra (great-expectations)",
)

SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture(scope="module")
def gx() -> Any:
    """Great Expectations, imported once for the module (the import takes seconds)."""
    return gx_suite._import_gx()


@pytest.fixture(scope="module")
def frame(gx: Any) -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    data: pd.DataFrame = load_breast_cancer(as_frame=True).frame
    return data


def _write(tmp_path: Path, document: object, name: str = "suite.json") -> Path:
    path = tmp_path / name
    text = document if isinstance(document, str) else json.dumps(document)
    path.write_text(text, encoding="utf-8")
    return path


def _by_type(outcomes: list[ExpectationOutcome], kind: str) -> ExpectationOutcome:
    (found,) = [outcome for outcome in outcomes if outcome.expectation_type == kind]
    return found


# --------------------------------------------------------------------------- running


def test_passing_suite(frame: pd.DataFrame) -> None:
    suite = suite_document(
        "passing",
        [
            ("expect_table_row_count_to_be_between", {"min_value": 500, "max_value": 600}),
            ("expect_column_values_to_not_be_null", {"column": "mean radius"}),
            (
                "expect_column_values_to_be_between",
                {"column": "mean radius", "min_value": 0, "max_value": 50},
            ),
            ("expect_column_values_to_be_in_set", {"column": "target", "value_set": [0, 1]}),
            ("expect_column_mean_to_be_between", {"column": "mean area", "min_value": 500}),
        ],
    )
    outcomes = run_suite(frame, suite)

    assert [outcome.expectation_type for outcome in outcomes] == [
        entry["type"] for entry in suite["expectations"]
    ]
    assert all(outcome.success for outcome in outcomes), outcomes
    assert all(outcome.exception is None for outcome in outcomes)
    assert outcomes[0].column is None
    assert outcomes[0].observed == str(len(frame))
    assert outcomes[1].column == "mean radius"
    assert outcomes[2].observed == "0 unexpected values (0.00%)"
    json.dumps([outcome.kwargs for outcome in outcomes])


def test_failing_between_reports_count_and_examples(frame: pd.DataFrame) -> None:
    suite = suite_document(
        "between",
        [
            ("expect_column_values_to_not_be_null", {"column": "mean radius"}),
            (
                "expect_column_values_to_be_between",
                {"column": "mean radius", "min_value": 0, "max_value": 15},
            ),
        ],
    )
    expected = int((frame["mean radius"] > 15).sum())
    assert 0 < expected < len(frame)

    null, between = run_suite(frame, suite)

    assert null.success
    assert not between.success
    assert between.exception is None
    assert between.column == "mean radius"
    assert between.kwargs == {"column": "mean radius", "min_value": 0, "max_value": 15}
    percent = 100 * expected / len(frame)
    assert between.observed.startswith(f"{expected} unexpected values ({percent:.2f}%), e.g. [")
    first_bad = frame.loc[frame["mean radius"] > 15, "mean radius"].iloc[0]
    assert f"{first_bad:.6g}" in between.observed


def test_mostly_lets_a_few_failures_pass(frame: pd.DataFrame) -> None:
    expected = int((frame["mean radius"] > 25).sum())
    suite = suite_document(
        "mostly",
        [
            (
                "expect_column_values_to_be_between",
                {"column": "mean radius", "max_value": 25, "mostly": 0.99},
            )
        ],
    )
    (outcome,) = run_suite(frame, suite)
    assert expected > 0
    assert outcome.success
    assert outcome.observed.startswith(f"{expected} unexpected value")


def test_not_null_fails_after_injecting_nans(frame: pd.DataFrame) -> None:
    damaged = frame.copy()
    damaged.loc[damaged.index[[3, 50, 51, 400, 568]], "mean texture"] = float("nan")
    suite = suite_document(
        "nulls",
        [
            ("expect_column_values_to_not_be_null", {"column": "mean texture"}),
            ("expect_column_values_to_not_be_null", {"column": "mean radius"}),
        ],
    )

    texture, radius = run_suite(damaged, suite)

    assert not texture.success
    assert texture.observed == f"5 unexpected values ({500 / len(frame):.2f}%)"
    assert radius.success
    assert frame["mean texture"].notna().all()


def test_in_set(frame: pd.DataFrame) -> None:
    suite = suite_document(
        "in set",
        [
            ("expect_column_values_to_be_in_set", {"column": "target", "value_set": [0, 1]}),
            ("expect_column_values_to_be_in_set", {"column": "target", "value_set": [0]}),
        ],
    )
    ok, bad = run_suite(frame, suite)
    ones = int((frame["target"] == 1).sum())

    assert ok.success
    assert not bad.success
    assert bad.observed.startswith(f"{ones} unexpected values (")
    assert bad.observed.endswith("e.g. [1, 1, 1]")


def test_errors_stay_with_their_expectation_and_order_is_kept(frame: pd.DataFrame) -> None:
    suite = suite_document(
        "errors",
        [
            ("expect_column_values_to_not_be_null", {"column": "mean radius"}),
            ("expect_column_values_to_not_be_null", {"column": "no such column"}),
            ("expect_column_values_to_be_between", {"column": "mean radius"}),
            ("expect_table_row_count_to_be_between", {"min_value": 1}),
        ],
    )
    outcomes = run_suite(frame, suite)

    assert [outcome.column for outcome in outcomes] == [
        "mean radius",
        "no such column",
        "mean radius",
        None,
    ]
    good, missing, invalid, rows = outcomes
    assert good.success and good.exception is None
    assert rows.success and rows.exception is None
    assert not missing.success
    assert missing.exception is not None and "no such column" in missing.exception
    assert not invalid.success
    assert invalid.exception is not None and "min_value and max_value" in invalid.exception


def test_suite_parameters(frame: pd.DataFrame) -> None:
    suite = suite_document(
        "params",
        [
            ("expect_column_values_to_not_be_null", {"column": "mean radius"}),
            (
                "expect_column_values_to_be_between",
                {"column": "mean radius", "min_value": {"$PARAMETER": "low"}},
            ),
        ],
    )
    null, unresolved = run_suite(frame, suite)
    assert null.success
    assert not unresolved.success
    assert unresolved.exception is not None and "low" in unresolved.exception

    null, between = run_suite(frame, {**suite, "suite_parameters": {"low": 0}})
    assert null.success and between.success


def test_unknown_type_in_an_unchecked_suite_is_an_outcome(frame: pd.DataFrame) -> None:
    suite = {"name": "x", "expectations": [{"type": "expect_nothing", "kwargs": {}}]}
    (outcome,) = run_suite(frame, suite)
    assert not outcome.success
    assert outcome.exception is not None and "expect_nothing" in outcome.exception


def test_run_stays_offline_and_writes_nothing(
    frame: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    suite = suite_document(
        "offline", [("expect_column_values_to_not_be_null", {"column": "mean radius"})]
    )

    (outcome,) = run_suite(frame, suite)

    assert outcome.success
    assert list(tmp_path.iterdir()) == []
    assert os.environ["GX_ANALYTICS_ENABLED"] == "false"


# --------------------------------------------------------------------------- files


def test_not_json(tmp_path: Path, gx: Any) -> None:
    path = _write(tmp_path, '{"name": "x", "expectations": [', name="broken.json")
    with pytest.raises(SuiteError, match=r"broken\.json: not valid JSON \(line 1"):
        load_suite(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match=r"absent\.json not found"):
        load_suite(tmp_path / "absent.json")


def test_missing_expectations(tmp_path: Path, gx: Any) -> None:
    path = _write(tmp_path, {"name": "x"}, name="empty.json")
    with pytest.raises(SuiteError, match=r'empty\.json: missing "expectations"'):
        load_suite(path)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([1, 2], "top level must be a JSON object, got a list"),
        ({"expectations": {}}, '"expectations" must be a list, got an object'),
        ({"expectations": ["x"]}, r"expectations\[0\] must be an object"),
        ({"expectations": [{"kwargs": {}}]}, r'expectations\[0\] has no "type"'),
        (
            {"expectations": [{"type": "expect_column_to_exist", "kwargs": []}]},
            '"kwargs" must be an object',
        ),
        ({"expectations": [{"expectation_type": "x"}]}, "GX 1.x calls it 'type'"),
        ({"expectation_suite_name": "x"}, "GX 0.x suite"),
    ],
)
def test_malformed_documents(tmp_path: Path, gx: Any, document: object, message: str) -> None:
    path = _write(tmp_path, document)
    with pytest.raises(SuiteError, match=message):
        load_suite(path)


def test_unknown_type_lists_close_names(tmp_path: Path, gx: Any) -> None:
    document = {
        "name": "typo",
        "expectations": [
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a"}},
            {"type": "expect_column_values_to_be_betwen", "kwargs": {"column": "a"}},
        ],
    }
    path = _write(tmp_path, document, name="typo.json")
    with pytest.raises(SuiteError) as caught:
        load_suite(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: expectations[1]: unknown expectation type")
    assert "'expect_column_values_to_be_betwen'" in message
    assert "did you mean 'expect_column_values_to_be_between'" in message
    assert "expectations[0]" not in message

    assert load_suite(path, check_types=False) == document


def test_written_document_loads_and_runs(tmp_path: Path, frame: pd.DataFrame) -> None:
    pairs: list[tuple[str, dict[str, object]]] = [
        ("expect_column_values_to_not_be_null", {"column": "worst area"}),
        ("expect_column_values_to_be_in_set", {"column": "target", "value_set": (0, 1)}),
        ("expect_column_max_to_be_between", {"column": "worst area", "max_value": 10.0}),
    ]
    document = suite_document("written", pairs)
    assert document == suite_document("written", pairs)
    assert document["name"] == "written"
    assert document["expectations"][1]["kwargs"]["value_set"] == [0, 1]
    assert document["meta"]["great_expectations_version"]
    ids = [entry["id"] for entry in document["expectations"]]
    assert len(set(ids)) == len(ids)

    path = _write(tmp_path, document)
    loaded = load_suite(path)
    assert loaded == json.loads(json.dumps(document))

    null, in_set, max_ = run_suite(frame, loaded)
    assert null.success and in_set.success
    assert not max_.success
    assert max_.observed == f"{frame['worst area'].max():.6g}"


def test_suite_document_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="name"):
        suite_document("", [])
    with pytest.raises(ValueError, match="type"):
        suite_document("x", [("", {})])


# --------------------------------------------------------------------------- names


def test_names_are_readable_unique_and_stable() -> None:
    suite = suite_document(
        "names",
        [
            ("expect_column_values_to_not_be_null", {"column": "age"}),
            ("expect_column_values_to_not_be_null", {"column": "bmi"}),
            ("expect_column_values_to_not_be_null", {"column": "age", "mostly": 0.9}),
            ("expect_table_row_count_to_be_between", {"min_value": 1}),
            ("expect_table_row_count_to_be_between", {"max_value": 10}),
            ("expect_column_pair_values_to_be_equal", {"column_A": "a", "column_B": "b"}),
            ("expect_compound_columns_to_be_unique", {"column_list": ["a", "b", "c"]}),
            ("expect_column_values_to_not_be_null", {"column": "age"}),
        ],
    )
    names = suite_check_names(suite)

    assert names == [
        "expect_column_values_to_not_be_null[age]",
        "expect_column_values_to_not_be_null[bmi]",
        "expect_column_values_to_not_be_null#2[age]",
        "expect_table_row_count_to_be_between",
        "expect_table_row_count_to_be_between#2",
        "expect_column_pair_values_to_be_equal[a,b]",
        "expect_compound_columns_to_be_unique[a,b,c]",
        "expect_column_values_to_not_be_null#3[age]",
    ]
    assert len(set(names)) == len(names)
    assert suite_check_names(json.loads(json.dumps(suite))) == names


def test_names_reject_a_non_suite() -> None:
    with pytest.raises(SuiteError, match="missing"):
        suite_check_names({"name": "x"})


def test_planning_does_not_import_great_expectations(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        suite_document("plan", [("expect_column_values_to_not_be_null", {"column": "a"})]),
    )
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from mlgates.stages.data.gx_suite import load_suite, suite_check_names\n"
        f"suite = load_suite(Path({str(path)!r}), check_types=False)\n"
        "assert suite_check_names(suite) == ['expect_column_values_to_not_be_null[a]']\n"
        "assert 'great_expectations' not in sys.modules\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_missing_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "great_expectations", None)
    with pytest.raises(MissingExtraError) as caught:
        run_suite(pd.DataFrame({"a": [1]}), suite_document("x", []))
    assert isinstance(caught.value, ImportError)
    assert str(caught.value) == (
        "Great Expectations suites need the gx extra: pip install 'mlgates[gx]'"
    )
