"""What changed between two runs (mlgates.changes) on hand-built run records: every way a
threshold can loosen or tighten, checks removed, the run policy, flips, value moves and
which run counts as the one before."""

from __future__ import annotations

import math

import pytest

from mlgates.changes import (
    CHANGED,
    LOOSENED,
    RUN_POLICY_ID,
    TIGHTENED,
    ThresholdChange,
    ValueMove,
    describe_move,
    diff_runs,
    previous_run,
    threshold_change,
)
from mlgates.core import (
    CheckResult,
    GateResult,
    InconclusivePolicy,
    RunRecord,
    Severity,
    Status,
)
from mlgates.report.history_text import loosened_since_previous


def check(
    metric: str = "accuracy",
    threshold: str | None = None,
    *,
    value: float | None = 0.9,
    status: Status = Status.PASS,
    stage: str = "performance",
    selector: str | None = None,
    severity: Severity = Severity.BLOCK,
    family: str | None = None,
    message: str = "m",
) -> CheckResult:
    return CheckResult(
        stage=stage,
        metric=metric,
        selector=selector,
        status=status,
        message=message,
        severity=severity,
        threshold=threshold,
        value=value,
        family=family,
        blocking=status is Status.FAIL and severity is Severity.BLOCK,
    )


def record(
    run_id: str,
    *checks: CheckResult,
    minute: int = 0,
    config_path: str | None = "mlgates.toml",
    partial: bool = False,
    on_inconclusive: InconclusivePolicy = InconclusivePolicy.FAIL,
) -> RunRecord:
    stages: dict[str, list[CheckResult]] = {}
    for item in checks:
        stages.setdefault(item.stage, []).append(item)
    return RunRecord(
        run_id=run_id,
        started_at=f"2026-03-01T10:{minute:02d}:00Z",
        finished_at=f"2026-03-01T10:{minute:02d}:30Z",
        gates=tuple(GateResult(stage, tuple(items)) for stage, items in stages.items()),
        mlgates_version="test",
        config_path=config_path,
        partial=partial,
        on_inconclusive=on_inconclusive,
    )


def changed(before: str | None, after: str | None) -> ThresholdChange | None:
    """The change between the same check under two thresholds."""
    return threshold_change(check(threshold=before), check(threshold=after))


# --- thresholds -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "kind"),
    [
        # a value bound: lower is looser for >=, higher is looser for <=
        ("accuracy >= 0.85", "accuracy >= 0.8", LOOSENED),
        ("accuracy >= 0.85", "accuracy >= 0.9", TIGHTENED),
        ("accuracy <= 0.2", "accuracy <= 0.3", LOOSENED),
        ("accuracy <= 0.2", "accuracy <= 0.1", TIGHTENED),
        ("accuracy < 0.2", "accuracy < 0.3", LOOSENED),
        ("accuracy > 0.5", "accuracy > 0.6", TIGHTENED),
        # an offset from an anchor
        ("accuracy >= baseline - 0.01", "accuracy >= baseline - 0.02", LOOSENED),
        ("accuracy >= baseline - 0.02", "accuracy >= baseline - 0.01", TIGHTENED),
        ("accuracy <= baseline + 5%", "accuracy <= baseline + 10%", LOOSENED),
        ("accuracy <= baseline + 10%", "accuracy <= baseline + 5%", TIGHTENED),
        ("accuracy >= previous", "accuracy >= previous - 0.05", LOOSENED),
        # the same bound, inclusive or strict
        ("accuracy >= 0.85", "accuracy > 0.85", TIGHTENED),
        ("accuracy > 0.85", "accuracy >= 0.85", LOOSENED),
        ("accuracy <= 0.2", "accuracy < 0.2", TIGHTENED),
        ("accuracy < 0.2", "accuracy <= 0.2", LOOSENED),
        # the confidence level: lowered or dropped is looser, added is stricter
        ("accuracy >= baseline - 0.01 @95%", "accuracy >= baseline - 0.01 @90%", LOOSENED),
        ("accuracy >= baseline - 0.01 @95%", "accuracy >= baseline - 0.01", LOOSENED),
        ("accuracy >= baseline - 0.01", "accuracy >= baseline - 0.01 @95%", TIGHTENED),
        ("accuracy >= 0.8 @90%", "accuracy >= 0.8 @99%", TIGHTENED),
        # both the bound and the level, the same way
        ("accuracy >= 0.85 @95%", "accuracy >= 0.8 @90%", LOOSENED),
        # neither clearly
        ("accuracy >= 0.8", "accuracy >= baseline", CHANGED),
        ("accuracy >= baseline - 0.01", "accuracy >= best - 0.01", CHANGED),
        ("accuracy >= baseline - 0.01", "accuracy >= baseline - 1%", CHANGED),
        ("accuracy <= 0.5", "accuracy >= 0.5", CHANGED),
        ("accuracy >= 0.85 @95%", "accuracy >= 0.8 @99%", CHANGED),
        ("accuracy >= 0.85 @95%", "accuracy >= 0.9 @90%", CHANGED),
        ("accuracy == 1", "accuracy == 0", CHANGED),
        ("accuracy >= 0.8", "accuracy >= ???", CHANGED),  # a threshold that no longer parses
    ],
)
def test_each_threshold_change_is_classified(before: str, after: str, kind: str):
    change = changed(before, after)
    assert change is not None
    assert (change.check_id, change.before, change.after) == (
        "performance::accuracy",
        before,
        after,
    )
    assert change.kind == kind
    assert change.loosened is (kind == LOOSENED)


@pytest.mark.parametrize(
    ("before", "after", "why"),
    [
        ("accuracy >= 0.85", "accuracy >= 0.8", "bound >= 0.85 -> >= 0.8"),
        ("accuracy >= 0.85", "accuracy > 0.85", "bound >= 0.85 -> > 0.85"),
        (
            "accuracy <= baseline + 5%",
            "accuracy <= baseline + 10%",
            "bound <= baseline + 5% -> <= baseline + 10%",
        ),
        ("accuracy >= 0.8 @95%", "accuracy >= 0.8 @90%", "level 95% -> 90%"),
        ("accuracy >= 0.8 @95%", "accuracy >= 0.8", "level 95% -> none"),
        ("accuracy >= 0.8", "accuracy >= baseline", "bound 0.8 -> baseline"),
        ("accuracy <= 0.5", "accuracy >= 0.5", "'accuracy <= 0.5' -> 'accuracy >= 0.5'"),
        (
            "accuracy >= 0.85 @95%",
            "accuracy >= 0.8 @99%",
            "bound >= 0.85 -> >= 0.8; level 95% -> 99%",
        ),
    ],
)
def test_the_reason_says_what_moved(before: str, after: str, why: str):
    change = changed(before, after)
    assert change is not None and change.why == why


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("accuracy >= 0.85", "accuracy >= 0.85"),
        ("accuracy >= 0.85", "accuracy>=0.850"),  # written differently, the same bound
        ("accuracy >= 0.85", "performance::accuracy >= 0.85"),
        ("accuracy >= 0.85", None),  # a history that kept only the numbers
        (None, "accuracy >= 0.85"),
        (None, None),
    ],
)
def test_the_same_bound_or_a_missing_threshold_is_no_change(before, after):
    assert changed(before, after) is None


def test_a_duration_bound_moves_by_its_seconds():
    before = check("freshness", "freshness[ts] <= 1d", stage="data", selector="ts")
    after = check("freshness", "freshness[ts] <= 2d", stage="data", selector="ts")
    change = threshold_change(before, after)
    assert change is not None and change.kind == LOOSENED


@pytest.mark.parametrize(
    ("before", "after", "kind"),
    [
        ("freshness[ts] <= 36h", "freshness[ts] <= 2d", LOOSENED),
        ("freshness[ts] <= 2d", "freshness[ts] <= 36h", TIGHTENED),
        ("freshness[ts] <= previous + 12h", "freshness[ts] <= previous + 1d", LOOSENED),
    ],
)
def test_a_duration_rewritten_in_another_unit_is_still_loosened_or_tightened(
    before: str, after: str, kind: str
):
    old = check("freshness", before, stage="data", selector="ts")
    new = check("freshness", after, stage="data", selector="ts")
    change = threshold_change(old, new)
    assert change is not None and change.kind == kind


@pytest.mark.parametrize(
    ("before", "after", "kind"),
    [(Severity.BLOCK, Severity.WARN, LOOSENED), (Severity.WARN, Severity.BLOCK, TIGHTENED)],
)
def test_a_severity_change(before: Severity, after: Severity, kind: str):
    change = threshold_change(
        check(threshold="accuracy >= 0.8", severity=before),
        check(threshold="accuracy >= 0.8", severity=after),
    )
    assert change is not None
    assert change.kind == kind
    assert change.why == f"severity {before.value} -> {after.value}"


def test_a_severity_change_counts_without_thresholds():
    change = threshold_change(check(), check(severity=Severity.WARN))
    assert change is not None and change.kind == LOOSENED
    assert (change.before, change.after) == (None, None)


def test_severity_and_bound_loosened_together_are_loosened_with_both_reasons():
    change = threshold_change(
        check(threshold="accuracy >= 0.85"),
        check(threshold="accuracy >= 0.8", severity=Severity.WARN),
    )
    assert change is not None and change.kind == LOOSENED
    assert change.why == "severity block -> warn; bound >= 0.85 -> >= 0.8"


def test_severity_turned_to_warn_is_loosened_whatever_the_bound():
    """A check that can no longer block is looser, even with a tighter bound."""
    change = threshold_change(
        check(threshold="accuracy >= 0.85"),
        check(threshold="accuracy >= 0.9", severity=Severity.WARN),
    )
    assert change is not None and change.kind == LOOSENED
    assert "severity block -> warn" in change.why and "0.9" in change.why


# --- diff_runs: checks removed, the run policy ----------------------------------------------


def test_a_planned_check_removed_from_a_complete_run_is_loosened():
    older = record("a", check(), check("f1", "f1 >= 0.7", value=0.75), minute=1)
    newer = record("b", check(), minute=2)
    diff = diff_runs(older, newer)
    assert diff.removed == ("performance::f1",)
    assert diff.thresholds == (
        ThresholdChange("performance::f1", "f1 >= 0.7", None, LOOSENED, "check removed"),
    )
    assert diff.loosened == diff.thresholds
    assert not diff.empty


def test_a_check_missing_from_a_partial_run_is_not_removed():
    older = record("a", check(), check("f1", "f1 >= 0.7"), minute=1)
    newer = record("b", check(), check("recall", value=0.6), minute=2, partial=True)
    diff = diff_runs(older, newer)
    assert diff.removed == ()
    assert diff.thresholds == ()
    assert diff.added == ("performance::recall",)


def test_a_family_member_removed_is_listed_but_not_loosened():
    """Checks a stage discovered while measuring (one per column) come and go with the
    data; the configured family check itself (``[*]``) removed is a loosening."""
    member = check("drift", stage="data", selector="age", value=0.02, family="data::drift[*]")
    star = check("drift", "drift[*] <= 0.1", stage="data", selector="*", value=None)
    older = record("a", check(), member, star, minute=1)
    newer = record("b", check(), member, minute=2)
    assert diff_runs(older, newer).removed == ("data::drift[*]",)
    (change,) = diff_runs(older, newer).loosened
    assert change.check_id == "data::drift[*]" and change.why == "check removed"
    only_member_gone = diff_runs(record("a", check(), member, star), record("b", check(), star))
    assert only_member_gone.removed == ("data::drift[age]",)
    assert only_member_gone.thresholds == ()


@pytest.mark.parametrize(
    ("before", "after", "kind"),
    [
        (InconclusivePolicy.FAIL, InconclusivePolicy.WARN, LOOSENED),
        (InconclusivePolicy.WARN, InconclusivePolicy.FAIL, TIGHTENED),
    ],
)
def test_the_on_inconclusive_policy(before, after, kind):
    older = record("a", check(), minute=1, on_inconclusive=before)
    newer = record("b", check(), minute=2, on_inconclusive=after)
    (change,) = diff_runs(older, newer).thresholds
    assert change == ThresholdChange(
        RUN_POLICY_ID,
        before.value,
        after.value,
        kind,
        f"on_inconclusive {before.value} -> {after.value}",
    )


def test_threshold_changes_of_checks_in_both_runs_are_collected():
    older = record("a", check(threshold="accuracy >= 0.85"), check("f1", "f1 >= 0.7"), minute=1)
    newer = record("b", check(threshold="accuracy >= 0.8"), check("f1", "f1 >= 0.75"), minute=2)
    diff = diff_runs(older, newer)
    assert [(c.check_id, c.kind) for c in diff.thresholds] == [
        ("performance::accuracy", LOOSENED),
        ("performance::f1", TIGHTENED),
    ]
    assert [c.check_id for c in diff.loosened] == ["performance::accuracy"]


def test_a_threshold_missing_in_the_newer_run_is_no_change():
    older = record("a", check(threshold="accuracy >= 0.85"), minute=1)
    newer = record("b", check(threshold=None), minute=2)
    assert diff_runs(older, newer).thresholds == ()


# --- flips, moves ---------------------------------------------------------------------------


def test_status_flips_and_which_way():
    older = record(
        "a",
        check("accuracy", status=Status.PASS),
        check("f1", status=Status.FAIL),
        check("recall", status=Status.PASS),
        minute=1,
    )
    newer = record(
        "b",
        check("accuracy", status=Status.FAIL, message="0.7 < 0.8"),
        check("f1", status=Status.PASS),
        check("recall", status=Status.PASS),
        minute=2,
    )
    flips = {flip.check_id: flip for flip in diff_runs(older, newer).flips}
    assert set(flips) == {"performance::accuracy", "performance::f1"}
    worse = flips["performance::accuracy"]
    assert (worse.before, worse.after, worse.worse) == (Status.PASS, Status.FAIL, True)
    assert worse.message == "0.7 < 0.8"
    assert flips["performance::f1"].worse is False


def test_only_values_moved_is_empty():
    diff = diff_runs(record("a", check(value=0.8)), record("b", check(value=0.9)))
    assert diff.empty
    assert len(diff.moves) == 1


def test_moves_are_sorted_by_relative_change_and_skip_what_cannot_move():
    older = record(
        "a",
        check("small", value=1.0),  # +10%
        check("large", value=2.0),  # -50%
        check("from_zero", value=0.0),  # relative None: last
        check("same", value=3.0),
        check("nan", value=math.nan),
        check("inf", value=1.0),
        check("none", value=None),
        check("gone", value=1.0),
        minute=1,
    )
    newer = record(
        "b",
        check("small", value=1.1),
        check("large", value=1.0),
        check("from_zero", value=5.0),
        check("same", value=3.0),
        check("nan", value=1.0),
        check("inf", value=math.inf),
        check("none", value=1.0),
        check("new", value=1.0),
        minute=2,
    )
    moves = diff_runs(older, newer).moves
    assert [m.check_id.split("::")[1] for m in moves] == ["large", "small", "from_zero"]
    large, small, from_zero = moves
    assert (large.before, large.after, large.change, large.relative) == (2.0, 1.0, -1.0, -0.5)
    assert small.relative == pytest.approx(0.1)
    assert small.change == pytest.approx(0.1)
    assert from_zero.relative is None and from_zero.change == 5.0


def test_moves_of_equal_relative_size_put_the_larger_change_first():
    older = record("a", check("x", value=1.0), check("y", value=-2.0), minute=1)
    newer = record("b", check("x", value=2.0), check("y", value=-4.0), minute=2)
    moves = diff_runs(older, newer).moves
    assert [m.check_id for m in moves] == ["performance::y", "performance::x"]
    assert [m.relative for m in moves] == [-1.0, 1.0]


@pytest.mark.parametrize(
    ("move", "text"),
    [
        (ValueMove("c", 0.81, 0.78, 0.78 - 0.81, (0.78 - 0.81) / 0.81), "0.81 -> 0.78 (-3.7%)"),
        (ValueMove("c", 1.0, 2.5, 1.5, 1.5), "1 -> 2.5 (+150.0%)"),
        (ValueMove("c", 0.123456, 0.2, 0.076544, 0.62), "0.1235 -> 0.2 (+62.0%)"),
        (ValueMove("c", 0.0, 5.0, 5.0, None), "0 -> 5"),
    ],
)
def test_describe_move(move: ValueMove, text: str):
    assert describe_move(move) == text


# --- the run before -------------------------------------------------------------------------


def test_previous_run_is_the_latest_earlier_run_of_the_same_config():
    a = record("a", check(), minute=1)
    b = record("b", check(), minute=2, config_path="other.toml")
    c = record("c", check(), minute=3)
    new = record("d", check(), minute=4)
    assert previous_run(new, [a, b, c]) is c
    assert previous_run(new, [a, b]) is a  # b is of another config
    assert previous_run(record("e", check(), minute=4, config_path="other.toml"), [a, b, c]) is b


def test_previous_run_of_a_first_run_is_none():
    assert previous_run(record("a", check()), []) is None
    other = record("b", check(), config_path="other.toml")
    assert previous_run(record("a", check(), minute=5), [other]) is None


def test_previous_run_of_a_run_in_the_history_looks_only_before_it():
    a, b, c = (record(i, check(), minute=m) for i, m in (("a", 1), ("b", 2), ("c", 3)))
    history = [a, b, c]
    assert previous_run(b, history) is a
    assert previous_run(a, history) is None
    assert previous_run(c, history) is b


def test_previous_run_of_a_run_not_in_the_history_skips_later_runs():
    a, c = record("a", check(), minute=1), record("c", check(), minute=3)
    assert previous_run(record("b", check(), minute=2), [a, c]) is a


def test_previous_run_without_config_paths_takes_any_config():
    a = record("a", check(), minute=1, config_path=None)
    b = record("b", check(), minute=2, config_path="other.toml")
    assert previous_run(record("c", check(), minute=3), [a]) is a
    assert previous_run(record("c", check(), minute=3, config_path=None), [a, b]) is b


def test_a_partial_run_in_between_does_not_hide_a_loosened_threshold():
    complete = record("a", check(threshold="accuracy >= 0.85"), check("f1", "f1 >= 0.7"), minute=1)
    partial = record("b", check("f1", "f1 >= 0.7"), minute=2, partial=True)
    loosened = record("c", check(threshold="accuracy >= 0.5"), check("f1", "f1 >= 0.7"), minute=3)
    assert loosened_since_previous(loosened, [complete, partial, loosened]) == 1
