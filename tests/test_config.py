"""Config loading: valid files, pyproject, profiles, and errors that name file, key and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgates.config import find_config, load_config
from mlgates.core import ConfigError, InconclusivePolicy, Severity, UsageError

from conftest import write_config

BASE = """
[mlgates]
on_inconclusive = "warn"
history = "runs/history.jsonl"

[data]
reference = "reference.csv"
current = "current.csv"
checks = [
  "missing_share <= reference + 0.05",
  { check = "drift_share <= 0.25", severity = "warn", reason = "tracked" },
]

[data.columns.bmi]
method = "psi"
checks = ["drift <= 0.2"]

[profile.strict]
mlgates.on_inconclusive = "fail"
data.checks = ["drift_share <= 0.1"]
"""


def test_loads_a_full_data_config(project: Path):
    config = load_config(write_config(project, BASE))
    data = config.stages["data"]
    assert config.on_inconclusive is InconclusivePolicy.WARN
    assert config.history == "runs/history.jsonl"
    assert data.reference == project / "reference.csv"
    assert [str(c.threshold) for c in data.checks] == [
        "missing_share <= reference + 0.05",
        "drift_share <= 0.25",
    ]
    assert data.checks[1].severity is Severity.WARN
    assert data.checks[1].reason == "tracked"
    assert data.columns["bmi"].method == "psi"
    assert str(data.columns["bmi"].checks[0].threshold) == "drift[bmi] <= 0.2"


def test_profile_overrides_keys(project: Path):
    path = write_config(project, BASE)
    config = load_config(path, profile="strict")
    assert config.on_inconclusive is InconclusivePolicy.FAIL
    assert [str(c.threshold) for c in config.stages["data"].checks] == ["drift_share <= 0.1"]
    assert config.config_hash != load_config(path).config_hash
    with pytest.raises(UsageError, match=r"unknown profile 'strikt' \(did you mean 'strict'\?\)"):
        load_config(path, profile="strikt")


def test_pyproject_table(project: Path):
    write_config(
        project,
        '[project]\nname = "x"\n\n[tool.mlgates]\non_inconclusive = "warn"\n\n'
        '[tool.mlgates.data]\ncurrent = "current.csv"\nchecks = ["row_count >= 10"]\n',
        name="pyproject.toml",
    )
    assert find_config(project).name == "pyproject.toml"
    config = load_config(project)
    assert config.on_inconclusive is InconclusivePolicy.WARN
    assert config.stages["data"].reference is None


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        (
            '[data]\ncurrent = "current.csv"\nchecks = ["drift_shar <= 0.2"]\n',
            "data.checks[0]",
            "unknown metric 'drift_shar' (did you mean 'drift_share'?)",
        ),
        (
            '[data]\ncurent = "current.csv"\n',
            "data.curent",
            "unknown key (did you mean 'current'?)",
        ),
        ("[data]\nbins = 10\n", "data.current", "is required"),
        (
            '[data]\ncurrent = "current.csv"\nrefernce = "reference.csv"\n',
            "data.refernce",
            "unknown key (did you mean 'reference'?)",
        ),
        ('[data]\ncurrent = "nope.csv"\n', "data.current", "file not found: 'nope.csv'"),
        (
            '[mlgates]\non_inconclusive = "maybe"\n[data]\ncurrent = "current.csv"\n',
            "mlgates.on_inconclusive",
            "use one of 'fail', 'warn'",
        ),
        (
            '[data]\ncurrent = "current.csv"\nmin_rows = "ten"\n',
            "data.min_rows",
            "expected a whole number",
        ),
        (
            '[data]\ncurrent = "current.csv"\nchecks = ["drift <= 0.1"]\n',
            "data.checks[0]",
            "needs reference data",
        ),
        (
            '[data]\ncurrent = "current.csv"\nreference = "reference.csv"\n'
            'checks = ["drift >= 0.1"]\n',
            "data.checks[0]",
            "a drift bound is a maximum",
        ),
        (
            '[data]\ncurrent = "current.csv"\nchecks = ["row_count >= baseline"]\n',
            "data.checks[0]",
            "allowed anchors: best, previous, reference",
        ),
        (
            '[data]\ncurrent = "current.csv"\nchecks = ["row_count >= 10 @95%"]\n',
            "data.checks[0]",
            "has no confidence interval",
        ),
        (
            '[data]\ncurrent = "current.csv"\nchecks = ["row_count[age] >= 10"]\n',
            "data.checks[0]",
            "is measured once",
        ),
        (
            '[data]\ncurrent = "current.csv"\nchecks = ["row_count >> 10"]\n',
            "data.checks[0]",
            "expected a number or one of baseline",
        ),
        (
            '[data]\ncurrent = "current.csv"\n'
            'checks = [{ check = "row_count >= 1", severity = "low" }]\n',
            "data.checks[0].severity",
            "use one of 'block', 'warn'",
        ),
        (
            '[data]\ncurrent = "current.csv"\n[data.columns.age]\nmethod = "kl"\n',
            "data.columns.age.method",
            "not a drift method",
        ),
        ('[dta]\ncurrent = "current.csv"\n', "dta", "unknown key (did you mean 'data'?)"),
        (
            '[data]\ncurrent = "current.csv"\ndrift_confidence = nan\n',
            "data.drift_confidence",
            "not a finite number",
        ),
        (
            '[data]\ncurrent = "current.csv"\n[profile]\nnightly = 3\n',
            "profile.nightly",
            "expected a table of overrides",
        ),
        (
            '[data]\ncurrent = "current.csv"\nchecks = ["row_count >= 1", "row_count >= 5"]\n',
            "data.checks[1]",
            "checks row_count twice (also at data.checks[0])",
        ),
        (
            '[data]\ncurrent = "current.csv"\nreference = "reference.csv"\n'
            'checks = ["row_count >= 1", "row_count >= reference"]\n',
            "data.checks[1]",
            "the data gate holds a metric to one bound",
        ),
        ("[mlgates]\n", None, "configures no stage"),
        ("[data\ncurrent = 1", None, "not valid TOML"),
    ],
)
def test_errors_name_file_key_and_fix(project: Path, text: str, key: str | None, fragment: str):
    path = write_config(project, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert fragment in message
    assert str(path) in message
    if key is not None:
        assert caught.value.key == key


def test_missing_config_says_how_to_create_one(tmp_path: Path):
    with pytest.raises(ConfigError, match="mlgates init"):
        find_config(tmp_path)


def test_command_line_thresholds_replace_and_add(project: Path):
    config = load_config(write_config(project, BASE))
    changed = config.with_thresholds(["drift_share <= 0.1", "row_count >= 100"])
    texts = [str(c.threshold) for c in changed.stages["data"].checks]
    assert texts == ["missing_share <= reference + 0.05", "drift_share <= 0.1", "row_count >= 100"]
    assert changed.config_hash != config.config_hash
    with pytest.raises(UsageError, match="unknown metric 'acuracy'"):
        config.with_thresholds(["acuracy >= 0.9"])
    with pytest.raises(UsageError, match="unknown stage 'dat' \\(did you mean 'data'\\?\\)"):
        config.with_stages(["dat"])


def test_a_confidence_level_needs_an_inequality(project: Path):
    text = BASE.replace('"drift_share <= 0.25"', '"missing_share == 0.03 @95%"')
    with pytest.raises(ConfigError, match="a confidence level needs >=, >, <= or <"):
        load_config(write_config(project, text))


def test_pyproject_settings_and_profiles_sit_directly_in_tool_mlgates(project: Path):
    path = write_config(
        project,
        '[tool.mlgates]\nfirst_run = "pass"\n\n[tool.mlgates.data]\ncurrent = "current.csv"\n'
        'checks = ["row_count >= 1"]\n\n[tool.mlgates.profile.nightly]\non_inconclusive = "warn"\n',
        name="pyproject.toml",
    )
    nightly = load_config(path, profile="nightly")
    assert nightly.on_inconclusive is InconclusivePolicy.WARN
    assert nightly.first_run.value == "pass"
    path.write_text(path.read_text() + '\n[tool.mlgates.mlgates]\nfirst_run = "bogus"\n')
    with pytest.raises(ConfigError, match=r"settings sit directly in \[tool.mlgates\]"):
        load_config(path)
    path.write_text(
        '[tool.mlgates]\nhistroy = "h.jsonl"\n[tool.mlgates.data]\ncurrent = "current.csv"\n'
    )
    with pytest.raises(ConfigError, match=r"unknown key \(did you mean 'history'\?\)"):
        load_config(path)
