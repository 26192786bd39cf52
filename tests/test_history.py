"""History stores: round trip, concurrent appends from real processes, torn lines."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from mlgates.core import RECORD_FORMAT, CheckResult, GateResult, RunRecord, Status
from mlgates.history import open_history
from mlgates.history.jsonl import HistoryWarning, JsonLinesHistory


def make_record(run_id: str, value: float = 0.5, status: Status = Status.PASS) -> RunRecord:
    check = CheckResult(
        stage="data",
        metric="drift",
        selector="age",
        status=status,
        message="m",
        value=value,
        bound=0.1,
        details={"noise": float("nan")},
        blocking=status in (Status.FAIL, Status.ERROR),
    )
    return RunRecord(
        run_id=run_id,
        started_at="2026-01-01T00:00:00Z",
        finished_at="2026-01-01T00:00:01Z",
        gates=(GateResult("data", (check,)),),
        mlgates_version="test",
    )


@pytest.mark.parametrize("uri", ["h/history.jsonl", "sqlite:///h/history.db"])
def test_round_trip_keeps_order_and_values(tmp_path: Path, uri: str):
    store = open_history(uri, root=tmp_path)
    assert store.records() == []
    store.append(make_record("a", 0.25))
    store.append(make_record("b", float("inf"), Status.FAIL))
    records = store.records()
    assert [r.run_id for r in records] == ["a", "b"]
    assert records[0].check("data::drift[age]").value == 0.25
    assert records[1].check("data::drift[age]").value == float("inf")
    assert records[1].status is Status.FAIL
    assert records[0].to_dict() == make_record("a", 0.25).to_dict() | {
        "gates": records[0].to_dict()["gates"]
    }


def _append_many(location: str, worker: int, count: int) -> None:
    store = open_history(location)
    for index in range(count):
        store.append(make_record(f"w{worker}-{index}", float(index)))


@pytest.mark.parametrize("name", ["history.jsonl", "history.db"])
def test_concurrent_appends_from_processes_lose_nothing(tmp_path: Path, name: str):
    location = str(tmp_path / name) if name.endswith(".jsonl") else f"sqlite:///{tmp_path / name}"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_many, args=(location, w, 40)) for w in range(4)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
        assert process.exitcode == 0
    records = open_history(location).records()
    assert len(records) == 160
    assert {r.run_id for r in records} == {f"w{w}-{i}" for w in range(4) for i in range(40)}
    if name.endswith(".jsonl"):
        lines = (tmp_path / name).read_text().splitlines()
        assert all(json.loads(line)["format"] == RECORD_FORMAT for line in lines)


def test_torn_last_line_is_skipped_with_a_warning_and_appends_continue(tmp_path: Path):
    path = tmp_path / "history.jsonl"
    store = JsonLinesHistory(path)
    store.append(make_record("a"))
    store.append(make_record("b"))
    text = path.read_text()
    path.write_text(text[: len(text) - 40])  # a crash in the middle of the last write
    with pytest.warns(HistoryWarning, match=r"history.jsonl:2: skipped torn last line"):
        assert [r.run_id for r in store.records()] == ["a"]
    store.append(make_record("c"))
    with pytest.warns(HistoryWarning, match=r":2: skipped unreadable line"):
        assert [r.run_id for r in store.records()] == ["a", "c"]


def test_unsupported_uri_is_a_config_error(tmp_path: Path):
    from mlgates.core import ConfigError

    with pytest.raises(ConfigError, match="sqlite:///path"):
        open_history("postgres://db/history", root=tmp_path)


def test_records_of_the_previous_format_still_read(tmp_path: Path):
    """A line written by mlgates 0.1 (record format 1, no anchors, intervals or origins)."""
    line = (
        '{"format": 1, "run_id": "r1", "started_at": "2026-11-01T10:00:00.000Z", '
        '"finished_at": "2026-11-01T10:00:02.000Z", "status": "pass", "blocked": false, '
        '"mlgates_version": "0.1.0", "source": "cli", "partial": false, '
        '"config_path": "mlgates.toml", "config_hash": "ab", "profile": null, '
        '"on_inconclusive": "fail", "git": {"commit": "c0ffee", "branch": "main", "dirty": false}, '
        '"files": {"mlgates.toml": "ab"}, "gates": [{"stage": "data", "status": "pass", '
        '"blocked": false, "duration_s": 0.5, "checks": [{"id": "data::drift[age]", '
        '"stage": "data", "metric": "drift", "selector": "age", "status": "pass", '
        '"severity": "block", "blocking": false, "threshold": null, "value": 0.02, '
        '"bound": 0.1, "method": "wasserstein", "message": "ok", "reason": null, '
        '"details": {"noise_floor": "nan"}}]}]}\n'
    )
    path = tmp_path / "history.jsonl"
    path.write_text(line, encoding="utf-8")
    (record,) = JsonLinesHistory(path).records()
    check = record.check("data::drift[age]")
    assert check is not None and check.value == 0.02 and check.origin is None
    assert record.gates[0].duration_s == 0.5 and record.git["commit"] == "c0ffee"
    assert record.to_dict()["format"] == RECORD_FORMAT
