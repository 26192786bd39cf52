"""Verdict semantics: thresholds, anchors, history bounds, severities and policies."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from mlgates.authoring import IntervalOf, Measurement, PlannedCheck
from mlgates.config import Config
from mlgates.core import (
    Direction,
    FirstRunPolicy,
    GateResult,
    InconclusivePolicy,
    RunRecord,
    Severity,
    Status,
    is_blocking,
)
from mlgates.judge import history_anchor, judge
from mlgates.thresholds import Anchor, parse_threshold

from test_history import make_record

CONFIG = Config(path=Path("mlgates.toml"), root=Path("."), stages={})


def planned(text: str, severity: Severity = Severity.BLOCK) -> PlannedCheck:
    threshold = parse_threshold(text)
    return PlannedCheck("data", threshold.metric, threshold.selector, threshold, severity)


def test_status_order_and_worst():
    assert Status.worst([Status.PASS, Status.WARN, Status.SKIPPED]) is Status.WARN
    assert Status.worst([Status.INCONCLUSIVE, Status.FAIL]) is Status.FAIL
    assert Status.worst([Status.FAIL, Status.ERROR]) is Status.ERROR
    assert Status.worst([]) is Status.SKIPPED


@pytest.mark.parametrize(
    ("status", "severity", "policy", "blocks"),
    [
        (Status.FAIL, Severity.BLOCK, InconclusivePolicy.FAIL, True),
        (Status.FAIL, Severity.WARN, InconclusivePolicy.FAIL, False),
        (Status.INCONCLUSIVE, Severity.BLOCK, InconclusivePolicy.FAIL, True),
        (Status.INCONCLUSIVE, Severity.BLOCK, InconclusivePolicy.WARN, False),
        (Status.ERROR, Severity.WARN, InconclusivePolicy.WARN, True),
        (Status.PASS, Severity.BLOCK, InconclusivePolicy.FAIL, False),
        (Status.SKIPPED, Severity.BLOCK, InconclusivePolicy.FAIL, False),
    ],
)
def test_blocking_rules(status, severity, policy, blocks):
    assert is_blocking(status, severity, policy) is blocks


def test_value_bound_pass_and_fail_message_names_metric():
    ok = judge(planned("row_count >= 100"), Measurement(value=150.0), config=CONFIG)
    assert ok.status is Status.PASS and not ok.blocking
    bad = judge(
        planned("missing_share[age] <= 0.05"), Measurement(value=0.2, message="x"), config=CONFIG
    )
    assert bad.status is Status.FAIL and bad.blocking
    assert "missing_share[age] = 0.2 fails <= 0.05" in bad.message
    assert bad.bound == 0.05 and bad.value == 0.2


def test_warn_severity_turns_fail_into_warn():
    result = judge(
        planned("row_count >= 100", Severity.WARN), Measurement(value=5.0), config=CONFIG
    )
    assert result.status is Status.WARN and not result.blocking


def test_reference_anchor_uses_the_stage_value():
    result = judge(
        planned("missing_share <= reference + 0.05"),
        Measurement(value=0.12, anchor_value=0.1),
        config=CONFIG,
    )
    assert result.status is Status.PASS
    assert result.bound == pytest.approx(0.15)
    assert "(reference 0.1)" in result.message


def test_missing_anchor_is_inconclusive_or_visibly_skipped():
    check = planned("f1 >= previous - 2%")
    closed = judge(check, Measurement(value=0.8), config=CONFIG)
    assert closed.status is Status.INCONCLUSIVE and closed.blocking
    assert "first_run" in closed.message
    warned = judge(
        check,
        Measurement(value=0.8),
        config=replace(CONFIG, on_inconclusive=InconclusivePolicy.WARN),
    )
    assert warned.status is Status.INCONCLUSIVE and not warned.blocking
    skipped = judge(
        check, Measurement(value=0.8), config=replace(CONFIG, first_run=FirstRunPolicy.PASS)
    )
    assert skipped.status is Status.SKIPPED and "no comparable earlier run" in skipped.message


def _history(values: list[tuple[float, Status]]) -> list[RunRecord]:
    return [make_record(f"r{i}", value, status) for i, (value, status) in enumerate(values)]


def test_previous_and_best_come_from_passing_runs_only():
    history = _history(
        [(0.9, Status.PASS), (0.95, Status.PASS), (0.99, Status.FAIL), (0.93, Status.PASS)]
    )
    check = "data::drift[age]"

    def anchor(which: Anchor, direction: Direction) -> float:
        found = history_anchor(history, check, which, direction, profile=None)
        assert found is not None
        return found.value

    assert anchor(Anchor.PREVIOUS, Direction.HIGHER) == 0.93
    assert anchor(Anchor.BEST, Direction.HIGHER) == 0.95
    assert anchor(Anchor.BEST, Direction.LOWER) == 0.9
    # a series of small allowed drops cannot add up against "best"
    result = judge(
        planned("drift[age] >= best - 2%"),
        Measurement(value=0.925),
        config=CONFIG,
        direction=Direction.HIGHER,
        history=history,
    )
    assert result.status is Status.FAIL and result.bound == pytest.approx(0.931)


def test_confidence_bound_decides_and_straddling_is_inconclusive():
    check = planned("roc_auc >= 0.8 @95%")

    def measured(value: float, low: float, high: float) -> Measurement:
        return Measurement(
            value=value, interval=(low, high), interval_of=IntervalOf.VALUE, level=0.95
        )

    sure = judge(check, measured(0.86, 0.82, 0.9), config=CONFIG)
    assert sure.status is Status.PASS
    straddles = judge(check, measured(0.82, 0.78, 0.86), config=CONFIG)
    assert straddles.status is Status.INCONCLUSIVE and "straddle" in straddles.message
    # a point value below the bound with an interval across it is not enough to fail
    unsure = judge(check, measured(0.79, 0.76, 0.83), config=CONFIG)
    assert unsure.status is Status.INCONCLUSIVE
    below = judge(check, measured(0.75, 0.7, 0.79), config=CONFIG)
    assert below.status is Status.FAIL
    # never a silent decision on the point value when a level was asked for
    missing = judge(check, Measurement(value=0.9), config=CONFIG)
    assert missing.status is Status.ERROR and "needs a 95% interval" in missing.message
    wrong_level = judge(
        check,
        Measurement(value=0.9, interval=(0.85, 0.95), interval_of=IntervalOf.VALUE, level=0.9),
        config=CONFIG,
    )
    assert wrong_level.status is Status.ERROR


def test_baseline_bound_at_a_level_decides_on_the_paired_difference():
    check = planned("roc_auc >= baseline - 0.01 @95%")
    # candidate 0.84 vs baseline 0.85: difference -0.01, lower bound -0.005 holds the margin
    good = Measurement(
        value=0.84,
        anchor_value=0.85,
        interval=(-0.005, 0.004),
        interval_of=IntervalOf.DIFFERENCE,
        level=0.95,
    )
    result = judge(check, good, config=CONFIG)
    assert result.status is Status.PASS, result.message
    assert result.anchor == "baseline" and result.anchor_value == 0.85
    assert "difference" in result.message
    # the candidate's own interval is not what a baseline bound decides on
    own = replace(good, interval_of=IntervalOf.VALUE)
    assert judge(check, own, config=CONFIG).status is Status.ERROR
    worse = replace(good, interval=(-0.04, -0.02))
    assert judge(check, worse, config=CONFIG).status is Status.FAIL
    relative = planned("f1 >= baseline - 2% @95%")
    ratio = Measurement(
        value=0.7,
        anchor_value=0.72,
        interval=(-0.019, 0.01),
        interval_of=IntervalOf.RELATIVE_DIFFERENCE,
        level=0.95,
    )
    decided = judge(relative, ratio, config=CONFIG)
    assert decided.status is Status.PASS and "%" in decided.message


def test_stage_decided_status_and_unmeasured_values():
    decided = judge(
        planned("drift[age] <= 0.1"),
        Measurement(status=Status.INCONCLUSIVE, message="only 3 rows"),
        config=CONFIG,
    )
    assert decided.status is Status.INCONCLUSIVE and decided.message == "only 3 rows"
    nan = judge(planned("row_count >= 1"), Measurement(value=float("nan")), config=CONFIG)
    assert nan.status is Status.ERROR and nan.blocking


def test_gate_and_run_verdicts_are_the_worst():
    record = make_record("a")
    failing = replace(record.gates[0].checks[0], status=Status.FAIL, blocking=True)
    gate = GateResult("data", (record.gates[0].checks[0], failing))
    assert gate.status is Status.FAIL and gate.blocked
    run = replace(record, gates=(gate,))
    assert run.blocked and not run.passed and run.status is Status.FAIL
    assert RunRecord.from_dict(run.to_dict()).to_dict() == run.to_dict()


def test_a_family_blocks_when_a_member_or_its_own_measurement_does():
    from mlgates.judge import judge_family

    family = planned("drift[*] <= 0.1")
    members = [
        judge(family.member("a"), Measurement(value=0.05), config=CONFIG, family=family.id),
        judge(family.member("b"), Measurement(value=0.5), config=CONFIG, family=family.id),
    ]
    own = judge(family, Measurement(status=Status.PASS, message="all present"), config=CONFIG)
    result = judge_family(family, members, config=CONFIG, kind="column", own=own)
    assert result.status is Status.FAIL and result.blocking
    assert "1 of 2 columns pass" in result.message and "b: drift[b] = 0.5" in result.message
    found_nothing = judge_family(family, [], config=CONFIG, kind="slice")
    assert found_nothing.status is Status.INCONCLUSIVE and found_nothing.blocking


def test_an_unusable_interval_is_an_error_not_a_verdict():
    check = planned("missing_share <= 0.1 @95%")
    for interval in ((float("nan"), 0.2), (0.3, 0.1)):
        measured = Measurement(
            value=0.05, interval=interval, interval_of=IntervalOf.VALUE, level=0.95
        )
        assert judge(check, measured, config=CONFIG).status is Status.ERROR


def test_history_anchors_come_from_the_same_config_only():
    other = replace(make_record("other", 0.99), config_path="mlgates.drifted.toml")
    mine = replace(make_record("mine", 0.5), config_path="mlgates.toml")
    found = history_anchor(
        [mine, other],
        "data::drift[age]",
        Anchor.PREVIOUS,
        Direction.LOWER,
        profile=None,
        config_path="mlgates.toml",
    )
    assert found is not None and found.value == 0.5 and found.run_id == "mine"
