"""The threshold grammar: every form in DESIGN.md, and errors that point at the fault."""

from __future__ import annotations

import pytest

from mlgates.thresholds import Anchor, ThresholdError, parse_threshold


@pytest.mark.parametrize(
    ("text", "metric", "op", "value", "anchor", "relative", "confidence"),
    [
        ("accuracy >= 0.85", "accuracy", ">=", 0.85, None, False, None),
        ("p95_ms <= 50", "p95_ms", "<=", 50.0, None, False, None),
        ("roc_auc >= baseline - 0.01", "roc_auc", ">=", -0.01, Anchor.BASELINE, False, None),
        ("f1 >= baseline - 2%", "f1", ">=", -0.02, Anchor.BASELINE, True, None),
        ("rmse <= baseline + 5%", "rmse", "<=", 0.05, Anchor.BASELINE, True, None),
        ("roc_auc >= baseline - 0.01 @95%", "roc_auc", ">=", -0.01, Anchor.BASELINE, False, 0.95),
        ("selection_rate_ratio >= 0.8", "selection_rate_ratio", ">=", 0.8, None, False, None),
        ("psi <= 0.2", "psi", "<=", 0.2, None, False, None),
        ("f1 >= best - 2%", "f1", ">=", -0.02, Anchor.BEST, True, None),
        ("f1 >= previous", "f1", ">=", 0.0, Anchor.PREVIOUS, False, None),
        (
            "missing_share <= reference + 0.05",
            "missing_share",
            "<=",
            0.05,
            Anchor.REFERENCE,
            False,
            None,
        ),
        ("missing_share <= 5%", "missing_share", "<=", 0.05, None, False, None),
        ("vulnerabilities == 0", "vulnerabilities", "==", 0.0, None, False, None),
        ("x!=1e-3", "x", "!=", 0.001, None, False, None),
        ("  drift   <=   .2  ", "drift", "<=", 0.2, None, False, None),
    ],
)
def test_parses_every_documented_form(text, metric, op, value, anchor, relative, confidence):
    threshold = parse_threshold(text)
    assert threshold.metric == metric
    assert threshold.op == op
    assert threshold.value == pytest.approx(value)
    assert threshold.anchor is anchor
    assert threshold.relative is relative
    assert threshold.confidence == confidence


def test_selector_keeps_inner_spaces_and_round_trips():
    threshold = parse_threshold("drift[monthly income] <= 0.2")
    assert threshold.selector == "monthly income"
    assert str(threshold) == "drift[monthly income] <= 0.2"
    assert parse_threshold(str(threshold)) == threshold


@pytest.mark.parametrize(
    "text",
    [
        "f1 >= baseline - 2%",
        "roc_auc >= baseline - 0.01 @95%",
        "rmse <= baseline + 5%",
        "accuracy >= 0.85",
        "f1 >= previous",
    ],
)
def test_str_round_trips(text):
    assert str(parse_threshold(text)) == text


def test_bounds_absolute_and_relative():
    assert parse_threshold("roc_auc >= baseline - 0.01").bound(0.9) == pytest.approx(0.89)
    assert parse_threshold("f1 >= baseline - 2%").bound(0.5) == pytest.approx(0.49)
    # relative to the magnitude, so a negative baseline still moves the right way
    assert parse_threshold("score >= baseline - 10%").bound(-2.0) == pytest.approx(-2.2)
    assert parse_threshold("accuracy >= 0.85").bound() == 0.85
    with pytest.raises(ValueError, match="baseline"):
        parse_threshold("f1 >= baseline").bound(None)


def test_holds_and_nan_never_holds():
    threshold = parse_threshold("accuracy >= 0.85")
    assert threshold.holds(0.85, 0.85)
    assert not threshold.holds(0.84, 0.85)
    assert not threshold.holds(float("nan"), 0.85)
    assert not parse_threshold("drift < 0.1").holds(0.1, 0.1)


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("accuracy => 0.85", 10, "comparison operator"),
        ("f1 >= basline - 2%", 7, "unknown bound 'basline'"),
        ("roc_auc >= 0.8 @95", 17, "percentage"),
        ("accuracy >= 0.85 extra", 18, "unexpected 'extra'"),
        ("[a] > 1", 1, "metric name"),
        ("drift[income <= 0.1", 7, "missing ']'"),
        ("accuracy >=", 12, "expected a number"),
        ("", 1, "empty threshold"),
        ("f1 >= baseline -", 17, "after the sign"),
        ("f1 >= 0.8 @100%", 12, "confidence level"),
        ("row_count <= 1e400%", 14, "finite number"),
    ],
)
def test_errors_point_at_the_character(text, column, fragment):
    with pytest.raises(ThresholdError) as caught:
        parse_threshold(text)
    error = caught.value
    assert fragment in str(error)
    assert error.position + 1 == column
    lines = str(error).splitlines()
    assert lines[-1].index("^") - 4 == error.position
