"""Durations in the threshold grammar, and the data gate's ``freshness`` check.

Every run pins the run's time (``new_context(config, now=...)``): no test reads the clock.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest

from mlgates import load_config, run_gates
from mlgates.context import Context
from mlgates.core import CheckResult, ConfigError, RunRecord, Status
from mlgates.report import render_html
from mlgates.runner import new_context
from mlgates.text import format_duration
from mlgates.thresholds import ThresholdError, parse_threshold

from conftest import write_config

NOW = datetime(2026, 12, 4, 17, 2, tzinfo=timezone.utc)
HOUR, DAY = 3600.0, 86400.0


# -- the grammar ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds", "unit"),
    [
        ("freshness[when] <= 2d", 2 * DAY, "d"),
        ("freshness[ts] <= 36h", 36 * HOUR, "h"),
        ("freshness[ts] <= 1.5d", 1.5 * DAY, "d"),
        ("freshness[ts] < 90m", 90 * 60.0, "m"),
        ("freshness[ts] <= 45s", 45.0, "s"),
        ("freshness[ts] <= 2w", 14 * DAY, "w"),
        ("freshness[ts]<=1e1h", 10 * HOUR, "h"),
    ],
)
def test_durations_parse_to_seconds_and_round_trip(text, seconds, unit):
    threshold = parse_threshold(text)
    assert threshold.value == pytest.approx(seconds)
    assert threshold.unit == unit and threshold.is_duration
    assert parse_threshold(str(threshold)) == threshold


def test_string_form_keeps_the_unit_as_written():
    assert str(parse_threshold("freshness[when] <= 2d")) == "freshness[when] <= 2d"
    assert str(parse_threshold("freshness[ts] <= 36h")) == "freshness[ts] <= 36h"
    assert str(parse_threshold("latency <= previous + 1h")) == "latency <= previous + 1h"
    assert parse_threshold("latency <= previous - 30m").value == -1800.0


def test_percent_and_plain_numbers_are_unchanged():
    share = parse_threshold("missing_share <= 5%")
    assert share.value == pytest.approx(0.05) and share.unit is None and not share.relative
    relative = parse_threshold("f1 >= baseline - 2%")
    assert relative.relative and relative.unit is None
    assert str(relative) == "f1 >= baseline - 2%"
    assert parse_threshold("accuracy >= 0.85").unit is None


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("freshness[ts] <= 2days", 19, "unknown unit 'days'"),
        ("freshness[ts] <= 2ms", 19, "unknown unit 'ms'"),
        ("freshness[ts] <= 1d12h", 19, "one number and one unit"),
        ("freshness[ts] <= 2 d", 20, "unexpected 'd'"),
    ],
)
def test_duration_errors_point_at_the_unit(text, column, fragment):
    with pytest.raises(ThresholdError) as caught:
        parse_threshold(text)
    assert fragment in str(caught.value)
    assert caught.value.position + 1 == column


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0.0, "0s"),
        (0.5, "0.5s"),
        (90.0, "1m 30s"),
        (3599.9, "1h"),
        (36 * HOUR, "1d 12h"),
        (2 * DAY, "2d"),
        (4 * DAY + 3 * HOUR + 10 * 60, "4d 3h"),
        (-2 * HOUR, "-2h"),
    ],
)
def test_durations_are_shown_readably(seconds, shown):
    assert format_duration(seconds) == shown


# -- the freshness check ----------------------------------------------------------------


def _project(tmp_path: Path, frame: pd.DataFrame, checks: str, extra: str = "") -> Path:
    frame.to_parquet(tmp_path / "current.parquet")
    return write_config(
        tmp_path,
        f'[mlgates]\nreport = ""\n\n[data]\ncurrent = "current.parquet"\nchecks = {checks}\n'
        f"pii = {{enabled = false}}\n{extra}",
    )


def _run(path: Path, now: datetime = NOW) -> RunRecord:
    config = load_config(path)
    return run_gates(config, new_context(config, now=now))


def _check(record: RunRecord, check_id: str) -> CheckResult:
    result = record.check(check_id)
    assert result is not None, [c.id for c in record.checks]
    return result


def _times(*texts: str | None) -> pd.Series:
    return pd.Series(pd.to_datetime(list(texts)))


def test_datetime_column_passes_within_the_bound(tmp_path):
    frame = pd.DataFrame({"when": _times("2026-12-01 08:00", "2026-12-04 05:02", None)})
    record = _run(_project(tmp_path, frame, '["freshness[when] <= 2d"]'))
    check = _check(record, "data::freshness[when]")
    assert check.status is Status.PASS and not record.blocked
    assert check.value == pytest.approx(12 * HOUR) and check.bound == 2 * DAY
    assert check.unit == "s" and check.threshold == "freshness[when] <= 2d"
    assert check.message == "when: newest value 2026-12-04 05:02 UTC, 12h old (bound 2d)"


def test_datetime_column_blocks_beyond_the_bound_with_dates_in_the_message(tmp_path):
    frame = pd.DataFrame({"when": _times("2026-11-29 10:00", "2026-11-30 14:02")})
    record = _run(_project(tmp_path, frame, '["freshness[when] <= 2d"]'))
    check = _check(record, "data::freshness[when]")
    assert check.status is Status.FAIL and check.blocking and record.blocked
    assert check.message == "when: newest value 2026-11-30 14:02 UTC, 4d 3h old (bound 2d)"
    assert check.value == pytest.approx(4 * DAY + 3 * HOUR)


def test_time_zone_aware_column_is_converted_to_utc(tmp_path):
    local = pd.Series(pd.to_datetime(["2026-12-04 10:00"])).dt.tz_localize("America/New_York")
    record = _run(_project(tmp_path, pd.DataFrame({"ts": local}), '["freshness[ts] <= 1h"]'))
    check = _check(record, "data::freshness[ts]")
    # 10:00 in New York is 15:00 UTC, 2h 2m before the run
    assert "newest value 2026-12-04 15:00 UTC, 2h 2m old (bound 1h)" in check.message
    assert check.status is Status.FAIL


def test_iso_text_column_passes_and_blocks(tmp_path):
    text = pd.DataFrame({"day": ["2026-12-03", "2026-12-03T20:00:00+01:00", "2026-11-01"]})
    fresh = _run(_project(tmp_path, text, '["freshness[day] <= 36h"]'))
    check = _check(fresh, "data::freshness[day]")
    assert check.status is Status.PASS
    assert check.message == "day: newest value 2026-12-03 19:00 UTC, 22h 2m old (bound 36h)"
    stale = _run(_project(tmp_path, text, '["freshness[day] <= 12h"]'))
    assert _check(stale, "data::freshness[day]").status is Status.FAIL


def test_text_that_does_not_parse_is_ignored_and_counted(tmp_path):
    text = pd.DataFrame({"day": ["2026-12-04", "n/a", "soon", "n/a"]})
    record = _run(_project(tmp_path, text, '["freshness[day] <= 1d"]'))
    check = _check(record, "data::freshness[day]")
    assert check.status is Status.PASS
    assert "newest value 2026-12-04 00:00 UTC, 17h 2m old" in check.message
    assert "3 of 4 values are not dates and were ignored (e.g. 'n/a', 'soon')" in check.message


def test_text_column_without_any_date_is_an_error_naming_the_column(tmp_path):
    text = pd.DataFrame({"city": ["Paris", "Oslo", "Lima"]})
    record = _run(_project(tmp_path, text, '["freshness[city] <= 1d"]'))
    check = _check(record, "data::freshness[city]")
    assert check.status is Status.ERROR and check.blocking
    assert check.message.startswith("city: none of its 3 values is a date (e.g. 'Paris'")


def test_csv_dates_read_as_dates(tmp_path):
    (tmp_path / "current.csv").write_text("day,stamp\n2026-12-02,2026-12-03 23:02:00\n")
    path = write_config(
        tmp_path,
        '[mlgates]\nreport = ""\n\n[data]\ncurrent = "current.csv"\n'
        'checks = ["freshness[day] <= 3d", "freshness[stamp] <= 12h"]\n',
    )
    record = _run(path)
    day, stamp = _check(record, "data::freshness[day]"), _check(record, "data::freshness[stamp]")
    assert day.status is Status.PASS and "2026-12-02 00:00 UTC, 2d 17h old" in day.message
    assert stamp.status is Status.FAIL and "2026-12-03 23:02 UTC, 18h old" in stamp.message


def test_empty_column_is_inconclusive(tmp_path):
    frame = pd.DataFrame({"when": _times(None, None)})
    record = _run(_project(tmp_path, frame, '["freshness[when] <= 2d"]'))
    check = _check(record, "data::freshness[when]")
    assert check.status is Status.INCONCLUSIVE and check.blocking
    assert check.message == "when: no date to judge its freshness: all 2 values are missing"


def test_newest_value_in_the_future_counts_as_zero_and_says_so(tmp_path):
    frame = pd.DataFrame({"when": _times("2026-12-05 10:02")})
    record = _run(_project(tmp_path, frame, '["freshness[when] <= 2d"]'))
    check = _check(record, "data::freshness[when]")
    assert check.status is Status.PASS and check.value == 0.0
    assert "is 17h after the run time 2026-12-04 17:02 UTC" in check.message
    assert "counted as 0s old" in check.message


def test_one_now_per_run_and_naive_now_is_utc(tmp_path):
    frame = pd.DataFrame({"when": _times("2026-12-04 05:02")})
    path = _project(tmp_path, frame, '["freshness[when] <= 2d"]')
    later = _run(path, now=NOW + timedelta(days=3))
    assert _check(later, "data::freshness[when]").status is Status.FAIL
    context = Context(tmp_path, now=datetime(2026, 12, 4, 17, 2))
    assert context.now == NOW
    assert _check(run_gates(load_config(path), context), "data::freshness[when]").value == 12 * HOUR


def test_column_override_and_reference_are_not_needed(tmp_path):
    frame = pd.DataFrame({"when": _times("2026-12-04 16:02"), "x": [1.0]})
    frame[["x"]].to_parquet(tmp_path / "reference.parquet")
    extra = '\n[data.columns.when]\nchecks = ["freshness <= 30m"]\n'
    path = _project(
        tmp_path,
        frame,
        '["freshness[when] <= 2d"]\nreference = "reference.parquet"\nexclude = ["when"]',
        extra,
    )
    record = _run(path)
    check = _check(record, "data::freshness[when]")
    assert check.threshold == "freshness[when] <= 30m" and check.status is Status.FAIL
    assert [c.id for c in record.checks].count("data::freshness[when]") == 1


def test_command_line_threshold_replaces_the_bound(tmp_path):
    frame = pd.DataFrame({"when": _times("2026-12-01 17:02")})
    config = load_config(_project(tmp_path, frame, '["freshness[when] <= 1d"]'))
    config = config.with_thresholds(["freshness[when] <= 1w"])
    record = run_gates(config, new_context(config, now=NOW))
    check = _check(record, "data::freshness[when]")
    assert check.threshold == "freshness[when] <= 1w" and check.status is Status.PASS


def test_report_and_history_show_durations_and_store_seconds(tmp_path):
    frame = pd.DataFrame({"when": _times("2026-11-30 14:02")})
    record = _run(_project(tmp_path, frame, '["freshness[when] <= 2d"]'))
    stored = json.loads(json.dumps(record.to_dict()))
    check = next(c for c in stored["gates"][0]["checks"] if c["id"] == "data::freshness[when]")
    assert check["value"] == 4 * DAY + 3 * HOUR and check["bound"] == 2 * DAY
    assert check["unit"] == "s"
    again = RunRecord.from_dict(stored).check("data::freshness[when]")
    assert again is not None and again.unit == "s" and again.shown(again.value) == "4d 3h"
    html = render_html(record)
    assert '<td class="num">4d 3h</td>' in html and '<td class="num">2d</td>' in html
    assert "356400" not in html


# -- configuration errors ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("checks", "fragments"),
    [
        (
            '["freshness <= 2d"]',
            ["data.checks[0]", "'freshness <= 2d' needs a column", "freshness[<column>] <= 2d"],
        ),
        (
            '["freshness[when] <= 2"]',
            ["data.checks[0]", "'freshness[when] <= 2'", "e.g. 2d or 2h", "ambiguous"],
        ),
        (
            '["row_count >= 2d"]',
            ["data.checks[0]", "'row_count' is not a duration", "'row_count >= 2d'"],
        ),
        ('["freshness[when] >= 2d"]', ["a freshness bound is a maximum age"]),
        ('["freshness[when] <= -1h"]', ["a maximum age must be more than 0"]),
    ],
)
def test_config_errors_name_the_key_the_value_and_the_fix(tmp_path, checks, fragments):
    frame = pd.DataFrame({"when": _times("2026-12-04 05:02")})
    with pytest.raises(ConfigError) as caught:
        load_config(_project(tmp_path, frame, checks))
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_a_column_that_is_not_a_date_is_a_config_error(tmp_path):
    frame = pd.DataFrame({"amount": [1.5, 2.5]})
    with pytest.raises(ConfigError) as caught:
        _run(_project(tmp_path, frame, '["freshness[amount] <= 2d"]'))
    message = str(caught.value)
    assert "mlgates.toml: data.checks[0]" in message
    assert "'amount' holds float64 values (e.g. 1.5, 2.5)" in message
    assert "name a column of date-times or of ISO 8601 dates" in message


def test_an_unknown_column_is_a_config_error(tmp_path):
    frame = pd.DataFrame({"when": _times("2026-12-04 05:02")})
    with pytest.raises(ConfigError, match=r"'whn'.*not a column of the current data.*'when'"):
        _run(_project(tmp_path, frame, '["freshness[whn] <= 2d"]'))


@pytest.mark.parametrize(
    ("checks", "fragment"),
    [
        ('["freshness <= 2d"]', "needs a column"),
        ('["freshness[when] <= 48"]', "e.g. 48d or 48h"),
        ('["freshness[amount] <= 2d"]', "freshness needs a date-time column"),
    ],
)
def test_cli_exits_2_on_freshness_config_errors(tmp_path, checks, fragment):
    frame = pd.DataFrame({"when": _times("2026-12-04 05:02"), "amount": [1.0]})
    _project(tmp_path, frame, checks)
    done = subprocess.run(
        [sys.executable, "-m", "mlgates", "run"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert fragment in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / ".mlgates" / "history.jsonl").exists()


def test_a_duration_judged_by_the_runner_is_shown_as_a_duration(tmp_path):
    from mlgates.authoring import Measurement, PlannedCheck
    from mlgates.core import Direction
    from mlgates.judge import judge

    frame = pd.DataFrame({"when": _times("2026-12-04 05:02")})
    config = load_config(_project(tmp_path, frame, '["freshness[when] <= 2d"]'))
    threshold = parse_threshold("latency <= 36h")
    check = PlannedCheck("data", "latency", threshold=threshold)
    result = judge(
        check, Measurement(value=2 * DAY), config=config, direction=Direction.LOWER, unit="s"
    )
    assert result.status is Status.FAIL and result.unit == "s"
    assert result.message == "latency = 2d fails <= 1d 12h"
