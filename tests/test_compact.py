"""The stored form of a run record: every number kept, text and details bounded."""

from __future__ import annotations

import json

from mlgates.compact import (
    LIST_LIMIT,
    RECORD_DETAIL_BUDGET,
    TRUNCATED,
    stored_form,
)
from mlgates.core import CheckResult, GateResult, RunRecord, Severity, Status

NUMBERS = ("id", "status", "value", "bound", "anchor_value", "interval", "threshold", "severity")


def run(*checks: CheckResult) -> RunRecord:
    return RunRecord(
        run_id="r",
        started_at="2026-01-01T00:00:00Z",
        finished_at="2026-01-01T00:00:01Z",
        gates=(GateResult("data", checks),),
        mlgates_version="test",
    )


def column(index: int, status: Status = Status.PASS, detail: int = 160) -> CheckResult:
    """A drift check whose details hold about ``detail`` bytes in lists of 40 numbers."""
    return CheckResult(
        stage="data",
        metric="drift",
        selector=f"column_{index}",
        status=status,
        blocking=status is Status.FAIL,
        message=f"column_{index}: distance 0.01 <= 0.1",
        value=0.01 * index,
        bound=0.1,
        anchor="reference",
        anchor_value=0.0,
        interval=(0.0, 0.2),
        level=0.95,
        severity=Severity.WARN if index % 7 == 0 else Severity.BLOCK,
        threshold=f"drift[column_{index}] <= 0.1",
        details={f"shares_{k}": [0.1] * 40 for k in range(max(detail // 160, 1))},
    )


def read_back(record: RunRecord) -> RunRecord:
    return RunRecord.from_dict(json.loads(json.dumps(stored_form(record))))


def numbers(record: RunRecord) -> list[list[object]]:
    return [[c.to_dict()[k] for k in NUMBERS] for c in record.checks]


def test_a_check_that_passed_keeps_its_numbers_and_one_that_failed_its_explanation():
    record = run(*(column(i) for i in range(50)), column(99, Status.FAIL))
    stored = stored_form(record)
    first = stored["gates"][0]["checks"][0]
    assert "id" not in first and "stage" not in first and "blocking" not in first
    assert "message" not in first and "details" not in first
    back = read_back(record)
    assert numbers(back) == numbers(record)
    failed = back.check("data::drift[column_99]")
    assert failed is not None and failed.to_dict() == record.checks[-1].to_dict()


def test_a_wide_run_is_small_and_keeps_every_number():
    wide = run(*(column(i, detail=800) for i in range(2500)))
    size = len(json.dumps(stored_form(wide), separators=(",", ":")))
    whole = len(json.dumps(wide.to_dict(), separators=(",", ":")))
    assert size < whole / 5
    assert numbers(read_back(wide)) == numbers(wide)


def test_details_of_checks_that_block_come_first_and_are_cut_to_fit():
    failing = [column(i, Status.FAIL, detail=40_000) for i in range(3)]  # over the check limit
    big_list = CheckResult(
        stage="data",
        metric="pii",
        status=Status.FAIL,
        blocking=True,
        message="x" * 5_000,
        details={"examples": list(range(LIST_LIMIT * 3))},
    )
    back = read_back(run(*failing, big_list))
    cut = back.check("data::pii")
    assert cut is not None and cut.details[TRUNCATED] is True
    assert len(cut.details["examples"]) == LIST_LIMIT and len(cut.message) == 1_000
    assert all(c.details == {TRUNCATED: True} for c in back.checks if c.metric == "drift")


def test_the_whole_run_shares_one_detail_budget():
    failing = [column(i, Status.FAIL, detail=4_800) for i in range(200)]
    back = read_back(run(*failing))
    kept = [c for c in back.checks if c.details and TRUNCATED not in c.details]
    assert 0 < len(kept) < 200 and len(kept) * 4_800 <= RECORD_DETAIL_BUDGET * 1.2
    assert numbers(back) == numbers(run(*failing))
