"""History stores: round trip, concurrent appends from real processes, torn lines."""

from __future__ import annotations

import json
import multiprocessing
from dataclasses import replace
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


BACKENDS = pytest.mark.parametrize("uri", ["h/history.jsonl", "sqlite:///h/history.db"])


def test_a_format_2_line_and_a_format_3_line_read_side_by_side(tmp_path: Path):
    """A history written by the previous mlgates (format 2, every field) goes on growing
    with compact format-3 lines, and both read back."""
    old = make_record("old", 0.3).to_dict()
    old["format"] = 2
    path = tmp_path / "history.jsonl"
    path.write_text(json.dumps(old) + "\n", encoding="utf-8")
    store = JsonLinesHistory(path)
    store.append(make_record("new", 0.4))
    records = store.records()
    assert [r.run_id for r in records] == ["old", "new"]
    assert [r.measured("data::drift[age]") for r in records] == [0.3, 0.4]
    assert json.loads(path.read_text().splitlines()[1])["format"] == RECORD_FORMAT


@BACKENDS
def test_the_last_records_are_read_from_the_end(tmp_path: Path, uri: str):
    store = open_history(uri, root=tmp_path)
    for index in range(30):
        store.append(make_record(f"r{index:02d}", float(index)))
    assert [r.run_id for r in store.records(last=3)] == ["r27", "r28", "r29"]
    assert len(store.records(last=100)) == 30
    assert store.records(last=0) == []
    assert [r.run_id for r in store.records()][:2] == ["r00", "r01"]


def test_the_last_records_skip_a_torn_last_line(tmp_path: Path):
    path = tmp_path / "history.jsonl"
    store = JsonLinesHistory(path)
    for index in range(5):
        store.append(make_record(f"r{index}"))
    text = path.read_text()
    path.write_text(text[:-30])
    with pytest.warns(HistoryWarning, match="1 from the end: skipped torn last line"):
        assert [r.run_id for r in store.records(last=2)] == ["r3"]


def test_the_last_records_cross_read_blocks(tmp_path: Path):
    """Records larger than the block the file is read backwards in."""
    path = tmp_path / "history.jsonl"
    store = JsonLinesHistory(path)
    for index in range(6):
        record = make_record(f"r{index}", status=Status.FAIL)
        big = CheckResult(
            stage="data", metric="m", status=Status.FAIL, message="x" * 900, selector="s" * 40_000
        )
        store.append(replace(record, gates=(GateResult("data", (big,)),)))
    assert path.stat().st_size > 3 * (1 << 16)
    assert [r.run_id for r in store.records(last=4)] == ["r2", "r3", "r4", "r5"]


@BACKENDS
def test_prune_keeps_the_newest_runs_and_appends_go_on(tmp_path: Path, uri: str):
    store = open_history(uri, root=tmp_path)
    assert store.prune(3) == 0
    for index in range(8):
        store.append(make_record(f"r{index}"))
    assert store.prune(10) == 0
    assert store.prune(3) == 5
    assert [r.run_id for r in store.records()] == ["r5", "r6", "r7"]
    store.append(make_record("r8"))
    assert [r.run_id for r in store.records()] == ["r5", "r6", "r7", "r8"]


def test_prune_keeps_lines_it_cannot_read_after_the_cut(tmp_path: Path):
    path = tmp_path / "history.jsonl"
    store = JsonLinesHistory(path)
    for index in range(4):
        store.append(make_record(f"r{index}"))
    with path.open("a") as handle:
        handle.write('{"format": 99, "run_id": "future"}\n')
    store.append(make_record("r4"))
    assert store.prune(2, dry_run=True) == 3
    assert store.prune(2) == 3
    lines = path.read_text().splitlines()
    assert len(lines) == 3 and '"future"' in lines[1]


@BACKENDS
def test_prune_never_removes_a_record_of_a_newer_format(tmp_path: Path, uri: str):
    """Only the mlgates that wrote it may decide about a record it cannot read."""
    from mlgates.core import InputError

    store = open_history(uri, root=tmp_path)
    store.append(make_record("r0"))
    future = make_record("future").to_dict() | {"format": 99}
    if uri.startswith("sqlite"):
        import sqlite3

        connection = sqlite3.connect(store.path)
        connection.execute(
            "INSERT INTO runs (run_id, started_at, status, blocked, record) VALUES (?, ?, ?, ?, ?)",
            ("future", "2026-01-01T00:00:00Z", "pass", 0, json.dumps(future)),
        )
        connection.commit()
        connection.close()
    else:
        with store.path.open("a") as handle:
            handle.write(json.dumps(future) + "\n")
    for index in range(1, 4):
        store.append(make_record(f"r{index}"))
    before = store.path.read_bytes()
    with pytest.raises(InputError, match="written by a newer mlgates; prune with that version"):
        store.prune(1)
    assert store.path.read_bytes() == before
    assert [r.run_id for r in store.records()] == ["r0", "r1", "r2", "r3"]


def test_prune_warns_of_unreadable_lines_it_drops_and_keeps_the_file_mode(tmp_path: Path):
    path = tmp_path / "history.jsonl"
    store = JsonLinesHistory(path)
    store.append(make_record("r0"))
    with path.open("a") as handle:
        handle.write("not json at all\n")
    for index in range(1, 4):
        store.append(make_record(f"r{index}"))
    path.chmod(0o664)
    with pytest.warns(HistoryWarning, match="1 unreadable line"):
        assert store.prune(2) == 2
    assert path.stat().st_mode & 0o777 == 0o664
    assert [r.run_id for r in store.records()] == ["r2", "r3"]


def test_reading_an_unrelated_sqlite_database_changes_nothing(tmp_path: Path):
    import sqlite3

    from mlgates.core import InputError

    path = tmp_path / "app.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE users (name TEXT)")
    connection.commit()
    connection.close()
    before = path.read_bytes()
    with pytest.raises(InputError, match="without a runs table, so not an mlgates history"):
        open_history(f"sqlite:///{path}").records()
    assert path.read_bytes() == before
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    assert open_history(f"sqlite:///{empty}").records() == []


def test_reading_an_older_sqlite_layout_leaves_it_as_it_is(tmp_path: Path):
    import sqlite3

    path = tmp_path / "old.db"
    connection = sqlite3.connect(path)
    connection.execute(
        "CREATE TABLE runs (seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL UNIQUE, "
        "started_at TEXT NOT NULL, status TEXT NOT NULL, blocked INTEGER NOT NULL, "
        "record TEXT NOT NULL)"
    )
    document = make_record("old").to_dict() | {"format": 2}
    connection.execute(
        "INSERT INTO runs (run_id, started_at, status, blocked, record) VALUES (?, ?, ?, ?, ?)",
        ("old", document["started_at"], "pass", 0, json.dumps(document)),
    )
    connection.commit()
    connection.close()
    path.chmod(0o444)
    before = path.read_bytes()
    assert [r.run_id for r in open_history(f"sqlite:///{path}").records()] == ["old"]
    assert path.read_bytes() == before


def test_prune_waits_for_a_concurrent_append(tmp_path: Path):
    location = str(tmp_path / "history.jsonl")
    store = open_history(location)
    for index in range(20):
        store.append(make_record(f"base{index}"))
    context = multiprocessing.get_context("spawn")
    writer = context.Process(target=_append_many, args=(location, 9, 40))
    writer.start()
    removed = 0
    while writer.is_alive():
        removed += store.prune(10)
    writer.join(timeout=120)
    assert writer.exitcode == 0
    records = store.records()
    assert [r.run_id for r in records][-1] == "w9-39"  # the last append survived every prune
    assert removed >= 10


def test_an_older_sqlite_layout_is_migrated_and_queryable(tmp_path: Path):
    """A database of the first layout (runs table only, format-2 records) gains the
    checks table, filled from its records, and reads as before."""
    import sqlite3

    path = tmp_path / "history.db"
    connection = sqlite3.connect(path)
    connection.execute(
        "CREATE TABLE runs (seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL UNIQUE, "
        "started_at TEXT NOT NULL, status TEXT NOT NULL, blocked INTEGER NOT NULL, "
        "record TEXT NOT NULL)"
    )
    for index in range(3):
        document = make_record(f"old{index}", 0.1 * index).to_dict()
        document["format"] = 2
        connection.execute(
            "INSERT INTO runs (run_id, started_at, status, blocked, record) VALUES (?, ?, ?, ?, ?)",
            (document["run_id"], document["started_at"], "pass", 0, json.dumps(document)),
        )
    connection.commit()
    connection.close()
    store = open_history(f"sqlite:///{path}")
    store.append(make_record("new", 0.9))
    assert [r.run_id for r in store.records()] == ["old0", "old1", "old2", "new"]
    connection = sqlite3.connect(path)
    rows = connection.execute(
        "SELECT r.run_id, c.value FROM checks c JOIN runs r USING (seq) "
        "WHERE c.value_id = 'data::drift[age]' ORDER BY r.seq"
    ).fetchall()
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    connection.close()
    assert rows == [("old0", 0.0), ("old1", 0.1), ("old2", 0.2), ("new", 0.9)]
    assert version == 2


def test_a_newer_sqlite_layout_is_refused_with_advice(tmp_path: Path):
    import sqlite3

    from mlgates.core import InputError

    path = tmp_path / "history.db"
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA user_version = 99")
    connection.close()
    with pytest.raises(InputError, match=r"layout version 99 is newer.*upgrade mlgates"):
        open_history(f"sqlite:///{path}").records()


def test_a_pruned_sqlite_history_drops_the_checks_of_removed_runs(tmp_path: Path):
    import sqlite3

    store = open_history(f"sqlite:///{tmp_path / 'h.db'}")
    for index in range(5):
        store.append(make_record(f"r{index}"))
    store.prune(2)
    connection = sqlite3.connect(tmp_path / "h.db")
    (count,) = connection.execute("SELECT COUNT(*) FROM checks").fetchone()
    connection.close()
    assert count == 2
