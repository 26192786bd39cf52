"""The ``[fairness]`` table and its error paths, through the real loader and the CLI.

Every project holds real scikit-learn models (logistic regressions trained here on
generated rows whose ``x1`` leans on ``sex``), saved with skops, judged on a parquet
file. A broken table is a :class:`~mlgates.core.ConfigError` from
:func:`mlgates.load_config` naming the file, the dotted key and the fix, and through
``mlgates run`` (``mlgates.cli.main`` in this process, one real child process for
``--threshold``) exit 2 with one ``mlgates: error:`` line and no traceback.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import recall_score

from mlgates import load_config, run_gates
from mlgates.cli import main
from mlgates.core import ConfigError, Status

from conftest import write_config

ROWS = 1200
FEATURES = ["x1", "x2", "age"]


@functools.cache
def _frame() -> pd.DataFrame:
    """Rows with sex, race and age; ``x1`` is higher for men, so a model using it selects
    men more often."""
    rng = np.random.default_rng(20250214)
    sex = rng.choice(["female", "male"], ROWS)
    race = rng.choice(["asian", "black", "white"], ROWS)
    age = rng.integers(18, 80, ROWS)
    x1 = rng.normal(size=ROWS) + 0.8 * (sex == "male")
    x2 = rng.normal(size=ROWS)
    label = (x1 + 0.5 * x2 + rng.normal(0, 1, ROWS) > 0.4).astype(int)
    return pd.DataFrame({"sex": sex, "race": race, "age": age, "x1": x1, "x2": x2, "label": label})


@functools.cache
def _models() -> tuple[LogisticRegression, LogisticRegression]:
    """The candidate uses ``x1`` (and so leans on sex); the baseline does not."""
    frame = _frame()
    candidate = LogisticRegression().fit(frame[FEATURES], frame["label"])
    baseline = LogisticRegression().fit(frame[["x2", "age"]], frame["label"])
    return candidate, baseline


def _project(
    directory: Path,
    fairness: str,
    *,
    baseline: bool = True,
    frame: pd.DataFrame | None = None,
    performance_checks: str = '["accuracy >= 0"]',
) -> Path:
    """A project judging :func:`_models` on ``frame``; ``fairness`` is the body of the
    ``[fairness]`` table, after ``resamples = 200``."""
    (_frame() if frame is None else frame).to_parquet(directory / "eval.parquet", index=False)
    candidate, production = _models()
    sio.dump(candidate, directory / "candidate.skops")
    lines = [
        "[performance]",
        'candidate = "candidate.skops"',
        'data = "eval.parquet"',
        'target = "label"',
        f"checks = {performance_checks}",
    ]
    if baseline:
        sio.dump(production, directory / "baseline.skops")
        lines.insert(2, 'baseline = "baseline.skops"')
    lines += ["", "[fairness]", "resamples = 200", fairness]
    return write_config(directory, "\n".join(lines) + "\n")


def _fairness_only(directory: Path, fairness: str) -> Path:
    """A config with ``[fairness]`` and no ``[performance]``."""
    _frame().to_parquet(directory / "eval.parquet", index=False)
    return write_config(directory, f"[fairness]\n{fairness}\n")


def _results(path: Path):
    record = run_gates(load_config(path))
    return record, {check.id: check for check in record.checks}


def _run(path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``mlgates run --config PATH --no-history ARGS`` in this process."""
    code = main(["run", "--config", str(path), "--no-history", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _assert_cli_error(path: Path, capsys: pytest.CaptureFixture[str], *fragments: str) -> str:
    """Exit 2, stderr one ``mlgates: error:`` line holding every fragment, no traceback,
    nothing judged."""
    code, out, err = _run(path, capsys)
    assert code == 2, out + err
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mlgates: error: "), err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "PASSED" not in out and "BLOCKED" not in out
    assert not (path.parent / ".mlgates" / "report.html").exists()
    return lines[0]


def _assert_config_error(path: Path, key: str, *fragments: str) -> ConfigError:
    """:func:`load_config` raises a ConfigError naming the file and ``key``."""
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    error = caught.value
    assert error.file is not None and error.file.endswith("mlgates.toml"), error
    assert error.key == key, error
    for fragment in fragments:
        assert fragment in error.problem, error.problem
    return error


# -- configuration errors ---------------------------------------------------------------

SEX_RACE = 'sensitive = ["sex", "race"]'
FAMILY = 'checks = ["selection_rate_ratio >= 0.5"]'

CONFIG_ERRORS = [
    pytest.param(
        FAMILY,
        True,
        "fairness.sensitive",
        ("is required", '["sex", "race"]'),
        id="sensitive-missing",
    ),
    pytest.param(
        f"sensitive = []\n{FAMILY}",
        True,
        "fairness.sensitive",
        ("is required",),
        id="sensitive-empty",
    ),
    pytest.param(
        f'sensitive = "sex"\n{FAMILY}',
        True,
        "fairness.sensitive",
        ("expected a list of strings",),
        id="sensitive-not-a-list",
    ),
    pytest.param(
        f'sensitive = ["sex", "race", "sex"]\n{FAMILY}',
        True,
        "fairness.sensitive",
        ("names 'sex' twice",),
        id="sensitive-repeated",
    ),
    pytest.param(
        f'sensitive = ["sex", "label"]\n{FAMILY}',
        True,
        "fairness.sensitive",
        ("'label' is the target, not a group",),
        id="sensitive-is-the-target",
    ),
    pytest.param(
        f'{SEX_RACE}\nintersections = "sex"\n{FAMILY}',
        True,
        "fairness.intersections",
        ("expected true, false or a list of column lists", '[["sex", "race"]]'),
        id="intersections-a-string",
    ),
    pytest.param(
        f'{SEX_RACE}\nintersections = ["sex", "race"]\n{FAMILY}',
        True,
        "fairness.intersections",
        ("expected true, false or a list of column lists",),
        id="intersections-flat-list",
    ),
    pytest.param(
        f"{SEX_RACE}\nintersections = 2\n{FAMILY}",
        True,
        "fairness.intersections",
        ("expected true, false or a list of column lists",),
        id="intersections-a-number",
    ),
    pytest.param(
        f'{SEX_RACE}\nintersections = [["sex"]]\n{FAMILY}',
        True,
        "fairness.intersections",
        ("['sex']: an intersection is two to nine sensitive columns",),
        id="intersections-one-column",
    ),
    pytest.param(
        f'{SEX_RACE}\nintersections = [["sex", "rac"]]\n{FAMILY}',
        True,
        "fairness.intersections",
        ("'rac' is not in fairness.sensitive (did you mean 'race'?)",),
        id="intersections-unknown-column",
    ),
    pytest.param(
        f'{SEX_RACE}\nintersections = [["sex", "race"], ["race", "sex"]]\n{FAMILY}',
        True,
        "fairness.intersections",
        ("repeats a column or an intersection",),
        id="intersections-repeated",
    ),
    pytest.param(
        f'sensitive = ["sex", "age"]\nbins = {{ age = ["25", "45"] }}\n{FAMILY}',
        True,
        "fairness.bins.age",
        ("expected a list of numbers", "[25, 45, 65]"),
        id="bins-strings",
    ),
    pytest.param(
        f'sensitive = ["sex", "age"]\nbins = {{ age = 25 }}\n{FAMILY}',
        True,
        "fairness.bins.age",
        ("expected a list of numbers",),
        id="bins-a-number",
    ),
    pytest.param(
        f'sensitive = ["sex", "age"]\nbins = {{ age = [25, true] }}\n{FAMILY}',
        True,
        "fairness.bins.age",
        ("expected a list of numbers",),
        id="bins-a-boolean",
    ),
    pytest.param(
        f'sensitive = ["sex", "age"]\nbins = {{ age = [] }}\n{FAMILY}',
        True,
        "fairness.bins.age",
        ("expected a list of numbers",),
        id="bins-empty",
    ),
    pytest.param(
        f'sensitive = ["sex", "age"]\nbins = {{ age = [45, 25, 65] }}\n{FAMILY}',
        True,
        "fairness.bins.age",
        ("[45, 25, 65]: the edges must increase",),
        id="bins-decreasing",
    ),
    pytest.param(
        f'sensitive = ["sex", "age"]\nbins = {{ age = [25, 25] }}\n{FAMILY}',
        True,
        "fairness.bins.age",
        ("the edges must increase",),
        id="bins-repeated-edge",
    ),
    pytest.param(
        f'sensitive = ["sex", "age"]\nbins = {{ ag = [25] }}\n{FAMILY}',
        True,
        "fairness.bins.ag",
        ("'ag' is not in fairness.sensitive (did you mean 'age'?)",),
        id="bins-not-sensitive",
    ),
    pytest.param(
        f'{SEX_RACE}\nchecks = ["demographic_parity_difference <= baseline + 0.02"]',
        False,
        "fairness.checks[0]",
        (
            "demographic_parity_difference <= baseline + 0.02 compares with the baseline model",
            "set performance.baseline",
        ),
        id="baseline-anchor-without-baseline",
    ),
    pytest.param(
        f'{SEX_RACE}\nchecks = ["tpr >= 0.5", "tpr[sex=female] >= baseline - 0.05 @95%"]',
        False,
        "fairness.checks[1]",
        ("compares with the baseline model", "set performance.baseline"),
        id="group-baseline-anchor-without-baseline",
    ),
    pytest.param(
        f'{SEX_RACE}\nchecks = ["importance_rank_correlation >= 0.5"]',
        False,
        "fairness.checks[0]",
        ("feature importances with the baseline's", "set performance.baseline"),
        id="rank-correlation-without-baseline",
    ),
    pytest.param(
        f'{SEX_RACE}\nchecks = ["tpr[gender=female] >= 0.5"]',
        True,
        "fairness.checks[0]",
        ("'gender' is not a sensitive column", "add it to fairness.sensitive"),
        id="selector-unknown-column",
    ),
    pytest.param(
        f'{SEX_RACE}\nchecks = ["tpr[rac=black] >= 0.5"]',
        True,
        "fairness.checks[0]",
        ("'rac' is not a sensitive column (did you mean 'race'?)",),
        id="selector-column-typo",
    ),
    pytest.param(
        f'{SEX_RACE}\nchecks = ["tpr[sex=female, race=black] >= 0.5"]',
        True,
        "fairness.checks[0]",
        ("sex x race is not an intersection of fairness.intersections", "add it there"),
        id="selector-pair-without-intersections",
    ),
    pytest.param(
        'sensitive = ["sex", "race", "age"]\nbins = { age = [40] }\n'
        'intersections = [["sex", "race"]]\n'
        'checks = ["tpr[age=40 or more, sex=female] >= 0.5"]',
        True,
        "fairness.checks[0]",
        ("sex x age is not an intersection",),
        id="selector-pair-not-configured",
    ),
    pytest.param(
        f'{SEX_RACE}\nchecks = ["tpr[female] >= 0.5"]',
        True,
        "fairness.checks[0]",
        ("name a group as column=value", "tpr[sex=<value>]"),
        id="selector-without-column",
    ),
    pytest.param(
        f'{SEX_RACE}\nchecks = ["tpr[sex=female, sex=male] >= 0.5"]',
        True,
        "fairness.checks[0]",
        ("name a group as column=value",),
        id="selector-column-twice",
    ),
    pytest.param(
        f'{SEX_RACE}\nchecks = ["sensitive_in_top_k[sex] == 0"]',
        True,
        "fairness.checks[0]",
        ("'sensitive_in_top_k' is measured once", "drop '[sex]'"),
        id="selector-on-a-metric-measured-once",
    ),
    pytest.param(
        f'{SEX_RACE}\nchecks = ["demographic_parity_diference <= 0.1"]',
        True,
        "fairness.checks[0]",
        (
            "unknown metric 'demographic_parity_diference'",
            "(did you mean 'demographic_parity_difference'?)",
            "known fairness metrics: ",
            "equalized_odds_ratio_to_overall",
            "proxy_auc",
        ),
        id="unknown-metric",
    ),
    pytest.param(
        f'sensitve = ["sex"]\n{FAMILY}',
        True,
        "fairness.sensitve",
        (
            "unknown key (did you mean 'sensitive'?)",
            "valid keys: bins, checks, data, favourable, importance, intersections, "
            "min_group_size, proxies, resamples, seed, sensitive, top_k",
        ),
        id="unknown-key",
    ),
    pytest.param(
        f"{SEX_RACE}\n{FAMILY}\n[fairness.importance]\nrowz = 500",
        True,
        "fairness.importance.rowz",
        ("unknown key (did you mean 'rows'?)", "valid keys: repeats, rows"),
        id="unknown-importance-key",
    ),
    pytest.param(
        f"{SEX_RACE}\n{FAMILY}\nproxies = {{ sample = 500 }}",
        True,
        "fairness.proxies.sample",
        ("unknown key", "valid keys: rows"),
        id="unknown-proxies-key",
    ),
]


@pytest.mark.parametrize(("fairness", "baseline", "key", "fragments"), CONFIG_ERRORS)
def test_config_errors_name_the_file_key_and_fix(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fairness: str,
    baseline: bool,
    key: str,
    fragments: tuple[str, ...],
):
    path = _project(tmp_path, fairness, baseline=baseline)
    _assert_config_error(path, key, *fragments)
    _assert_cli_error(path, capsys, "mlgates.toml", f"{key}: ", *fragments)


def test_fairness_without_performance_says_it_needs_the_models(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    path = _fairness_only(tmp_path, f"{SEX_RACE}\n{FAMILY}")
    fragments = ("judges the models of [performance]", "add a [performance] table")
    _assert_config_error(path, "fairness", *fragments)
    _assert_cli_error(path, capsys, "mlgates.toml: fairness: ", *fragments)


def test_performance_checks_may_be_empty_as_the_error_says(tmp_path: Path):
    path = _project(tmp_path, f"{SEX_RACE}\n{FAMILY}", performance_checks="[]")
    record, found = _results(path)
    assert "fairness::selection_rate_ratio[sex=female]" in found
    assert not [c for c in record.checks if c.stage == "performance"]


def test_a_sensitive_column_absent_from_the_data_is_named_at_plan_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    path = _project(tmp_path, f'sensitive = ["sex", "gender"]\n{FAMILY}')
    config = load_config(path)  # the loader does not read the data
    assert config.stages["fairness"].sensitive == ("sex", "gender")
    with pytest.raises(ConfigError) as caught:
        run_gates(config)
    assert caught.value.key == "fairness.sensitive"
    assert "'gender' not in eval.parquet" in str(caught.value)
    assert "its columns: sex, race, age, x1, x2, label" in str(caught.value)
    _assert_cli_error(
        path, capsys, "mlgates.toml: fairness.sensitive: 'gender' not in eval.parquet"
    )


# -- groupings ---------------------------------------------------------------------------


def test_intersections_true_with_one_sensitive_column_adds_none(tmp_path: Path):
    path = _project(tmp_path, f'sensitive = ["sex"]\nintersections = true\n{FAMILY}')
    assert load_config(path).stages["fairness"].groupings == (("sex",),)
    record, _ = _results(path)
    members = sorted(c.id for c in record.checks if c.family and c.stage == "fairness")
    assert members == [
        "fairness::selection_rate_ratio[sex=female]",
        "fairness::selection_rate_ratio[sex=male]",
    ]


def test_intersections_true_crosses_every_sensitive_column(tmp_path: Path):
    path = _project(tmp_path, f"{SEX_RACE}\nintersections = true\n{FAMILY}")
    config = load_config(path).stages["fairness"]
    assert config.groupings == (("sex",), ("race",), ("sex", "race"))
    _, found = _results(path)
    frame = _frame()
    for sex in ("female", "male"):
        for race in ("asian", "black", "white"):
            member = found[f"fairness::selection_rate_ratio[sex={sex}, race={race}]"]
            assert member.status is not Status.ERROR, member.message
            rows = int(((frame["sex"] == sex) & (frame["race"] == race)).sum())
            assert f"({rows:,} rows)" in member.message


def test_binned_groups_are_named_by_their_ranges_and_match_fairlearn(tmp_path: Path):
    from fairlearn.metrics import demographic_parity_difference

    path = _project(
        tmp_path,
        'sensitive = ["sex", "age"]\nbins = { age = [25, 45, 65] }\n'
        'checks = ["demographic_parity_difference <= 1", "tpr[age=25 to 45] >= 0"]',
    )
    record, found = _results(path)
    frame = _frame()
    # edges belong to the range above them: 25 is in "25 to 45", 65 in "65 or more"
    assert {25, 45, 65} <= set(frame["age"])
    ranges = pd.cut(
        frame["age"],
        [-np.inf, 25, 45, 65, np.inf],
        right=False,
        labels=["below 25", "25 to 45", "45 to 65", "65 or more"],
    )
    for label, rows in ranges.value_counts().items():
        member = found[f"fairness::demographic_parity_difference[age={label}]"]
        assert member.status is Status.PASS, member.message
        assert f"age={label}: selection rate" in member.message
        assert f"({rows:,} rows)" in member.message
    ages = [c for c in found if c.startswith("fairness::demographic_parity_difference[age=")]
    assert len(ages) == 4
    predicted = _models()[0].predict(frame[FEATURES])
    expected = demographic_parity_difference(
        frame["label"], predicted, sensitive_features=ranges.astype(str)
    )
    worst = max(found[c].value for c in ages)
    assert worst == pytest.approx(expected, abs=1e-12)
    middle = (ranges == "25 to 45").to_numpy()
    tpr = found["fairness::tpr[age=25 to 45]"]
    assert tpr.value == pytest.approx(recall_score(frame["label"][middle], predicted[middle]))
    assert record.passed, [c.message for c in record.checks if c.blocking]


def test_bins_on_a_text_column_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    path = _project(tmp_path, f'sensitive = ["sex"]\nbins = {{ sex = [1] }}\n{FAMILY}')
    load_config(path)
    _assert_cli_error(
        path,
        capsys,
        "mlgates.toml: fairness.bins.sex: needs numbers",
        "'sex' in eval.parquet holds",
    )


@pytest.mark.parametrize(
    ("column", "values", "fix"),
    [
        ("x1", None, "cut it into ranges with fairness.bins, e.g. x1 = ["),
        (
            "code",
            lambda n: np.arange(n) % 101,
            "with fairness.bins, e.g. code = [24.8, 49.5, 74.2]",
        ),
        ("code", lambda n: [f"c{i % 150}" for i in range(n)], "in a column of their own"),
    ],
    ids=["floats", "101-integers", "150-strings"],
)
def test_a_sensitive_column_with_over_100_values_needs_bins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], column: str, values, fix: str
):
    frame = _frame() if values is None else _frame().assign(code=values(ROWS))
    path = _project(tmp_path, f'sensitive = ["{column}"]\n{FAMILY}', frame=frame)
    load_config(path)
    distinct = frame[column].nunique()
    line = _assert_cli_error(
        path,
        capsys,
        "mlgates.toml: fairness.sensitive:",
        f"{column!r} in eval.parquet has {distinct:,} distinct values, more than 100",
        fix,
    )
    assert "InputError" not in line


def test_a_sensitive_column_with_100_values_and_a_binned_one_are_grouped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    frame = _frame().assign(code=np.arange(ROWS) % 100)
    path = _project(
        tmp_path,
        f'sensitive = ["code", "x1"]\nbins = {{ x1 = [0] }}\nmin_group_size = 5\n{FAMILY}',
        frame=frame,
    )
    _, found = _results(path)
    codes = [c for c in found if c.startswith("fairness::selection_rate_ratio[code=")]
    assert len(codes) == 100
    below = int((frame["x1"] < 0).sum())
    assert f"({below:,} rows)" in found["fairness::selection_rate_ratio[x1=below 0]"].message
    assert "fairness::selection_rate_ratio[x1=0 or more]" in found


# -- checks naming a group ----------------------------------------------------------------


def test_a_check_naming_a_group_is_measured_on_that_group(tmp_path: Path):
    path = _project(tmp_path, f'{SEX_RACE}\nchecks = ["tpr >= 0.1", "tpr[sex=female] >= 0.5"]')
    record, found = _results(path)
    female = found["fairness::tpr[sex=female]"]
    assert female.threshold == "tpr[sex=female] >= 0.5"
    frame = _frame()
    rows = (frame["sex"] == "female").to_numpy()
    predicted = _models()[0].predict(frame[FEATURES])
    assert female.value == pytest.approx(recall_score(frame["label"][rows], predicted[rows]))
    assert female.status is Status.PASS, female.message
    # it replaces the family's member for that group, not a second check beside it
    assert [c.id for c in record.checks].count("fairness::tpr[sex=female]") == 1
    assert found["fairness::tpr[sex=male]"].threshold == "tpr[sex=male] >= 0.1"


def test_an_intersection_selector_is_written_in_the_order_of_sensitive(tmp_path: Path):
    path = _project(
        tmp_path,
        f'{SEX_RACE}\nintersections = true\nchecks = ["tpr[ race = black , sex=female ] >= 0"]',
    )
    (spec,) = load_config(path).stages["fairness"].checks
    assert spec.threshold.selector == "sex=female, race=black"
    _, found = _results(path)
    check = found["fairness::tpr[sex=female, race=black]"]
    frame = _frame()
    rows = ((frame["sex"] == "female") & (frame["race"] == "black")).to_numpy()
    predicted = _models()[0].predict(frame[FEATURES])
    assert check.value == pytest.approx(recall_score(frame["label"][rows], predicted[rows]))
    assert check.status is Status.PASS


def test_a_group_value_absent_from_the_data_is_inconclusive_listing_the_groups(tmp_path: Path):
    path = _project(tmp_path, f'{SEX_RACE}\nchecks = ["tpr[sex=other] >= 0.5"]')
    record, found = _results(path)
    check = found["fairness::tpr[sex=other]"]
    assert check.status is Status.INCONCLUSIVE
    assert check.value is None
    assert "sex=other: no such group in the data" in check.message
    assert "the groups are sex=female, sex=male, race=asian, race=black, race=white" in (
        check.message
    )
    assert record.blocked  # inconclusive blocks by default, never a silent pass


def test_a_group_whose_value_holds_a_comma_can_be_named_as_the_family_names_it(
    tmp_path: Path,
):
    frame = _frame().assign(race=lambda f: f["race"].replace("asian", "hispanic, latino"))
    path = _project(tmp_path, f'{SEX_RACE}\nchecks = ["tpr >= 0.1"]', frame=frame)
    _, found = _results(path)
    assert "fairness::tpr[race=hispanic, latino]" in found  # the family's member
    path = _project(
        tmp_path, f'{SEX_RACE}\nchecks = ["tpr[race=hispanic, latino] >= 0.1"]', frame=frame
    )
    _, found = _results(path)
    check = found["fairness::tpr[race=hispanic, latino]"]
    assert check.status is Status.PASS, check.message


def test_a_baseline_anchor_with_a_baseline_compares_the_two_models(tmp_path: Path):
    path = _project(
        tmp_path,
        f'{SEX_RACE}\nchecks = ["demographic_parity_difference <= baseline + 0.02"]',
    )
    _, found = _results(path)
    female = found["fairness::demographic_parity_difference[sex=female]~baseline"]
    # the candidate leans on sex through x1, the baseline does not: less fair than it
    assert female.anchor_value is not None and female.anchor_value < female.value - 0.02
    assert female.status is Status.FAIL, female.message


# -- --threshold on the command line ------------------------------------------------------


def test_threshold_option_replaces_the_configured_check(tmp_path: Path):
    path = _project(tmp_path, f'{SEX_RACE}\nchecks = ["demographic_parity_difference <= 0.5"]')
    record, found = _results(path)
    configured = {c for c in found if "demographic_parity_difference[" in c}
    assert record.passed and len(configured) == 6  # the * family and 5 groups
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlgates",
            "run",
            "--config",
            str(path),
            "--no-history",
            "--json",
            str(tmp_path / "run.json"),
            "--threshold",
            "fairness::demographic_parity_difference <= 0.05",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1, done.stdout + done.stderr
    overridden = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))
    checks = {c["id"]: c for gate in overridden["gates"] for c in gate["checks"]}
    parity = {i: c for i, c in checks.items() if "demographic_parity_difference[" in i}
    assert set(parity) == configured
    assert {c["threshold"].split("] ")[-1] for c in parity.values()} == {"<= 0.05"}
    assert checks["fairness::demographic_parity_difference[sex=female]"]["status"] == "fail"


def test_threshold_option_naming_a_group_in_another_order_replaces_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    path = _project(
        tmp_path,
        f'{SEX_RACE}\nintersections = true\nchecks = ["tpr[sex=female, race=black] >= 0.99"]',
    )
    assert _run(path, capsys)[0] == 1
    code, out, err = _run(
        path,
        capsys,
        "-v",
        "--json",
        str(tmp_path / "run.json"),
        "--threshold",
        "tpr[race=black, sex=female] >= 0.1",
    )
    assert code == 0, out + err
    record = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))
    checks = [c for gate in record["gates"] for c in gate["checks"] if gate["stage"] == "fairness"]
    assert [c["id"] for c in checks] == ["fairness::tpr[sex=female, race=black]"]
    assert checks[0]["threshold"] == "tpr[sex=female, race=black] >= 0.1"


@pytest.mark.parametrize(
    ("threshold", "fragments"),
    [
        ("fairness::tpr[rac=black] >= 0.5", ("--threshold", "did you mean 'race'?")),
        (
            "fairness::tpr[sex=female, race=black] >= 0.5",
            ("--threshold", "sex x race is not an intersection"),
        ),
        ("fairness::equalized_odds_ratio >= baseline", ("--threshold", "set performance.baseline")),
    ],
    ids=["column-typo", "no-intersection", "baseline-without-baseline"],
)
def test_threshold_option_is_validated_like_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], threshold: str, fragments: tuple[str, ...]
):
    path = _project(tmp_path, f"{SEX_RACE}\n{FAMILY}", baseline=False)
    code, out, err = _run(path, capsys, "--threshold", threshold)
    assert code == 2, out + err
    assert "Traceback" not in err
    (line,) = err.strip().splitlines()
    assert line.startswith("mlgates: error: ")
    for fragment in fragments:
        assert fragment in line, line


# --------------------------------------------------------------------------- after review


@pytest.mark.parametrize("checks", ["", "checks = []"])
def test_a_fairness_table_without_checks_is_an_error_not_a_gate_switched_off(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], checks: str
):
    path = _project(tmp_path, f'sensitive = ["sex"]\n{checks}')
    _assert_cli_error(path, capsys, "the fairness stage has nothing to check")


def test_a_range_of_bins_that_holds_nobody_is_no_group(tmp_path: Path):
    path = _project(tmp_path, f'sensitive = ["age"]\nbins = {{ age = [10, 15, 45] }}\n{FAMILY}')
    record, found = _results(path)
    selectors = {c.selector for c in found.values() if c.family}
    assert selectors == {"age=15 to 45", "age=45 or more"}, selectors
    assert not any(c.status is Status.INCONCLUSIVE for c in record.checks)


def test_a_value_written_like_the_missing_group_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    frame = _frame().copy()
    frame["sex"] = frame["sex"].astype(object)
    frame.loc[frame.index[:40], "sex"] = "(missing)"
    frame.loc[frame.index[40:80], "sex"] = None
    path = _project(tmp_path, f'sensitive = ["sex"]\n{FAMILY}', frame=frame)
    _assert_cli_error(path, capsys, "two groups shown as '(missing)'", "rename one of them")


def test_f1_of_a_group_without_positives_is_inconclusive_not_zero(tmp_path: Path):
    frame = _frame().copy()
    frame.loc[frame.index[:60], "race"] = "none-positive"
    frame.loc[frame.index[:60], "label"] = 0
    path = _project(tmp_path, 'sensitive = ["race"]\nchecks = ["f1 >= 0.1"]', frame=frame)
    _, found = _results(path)
    member = found["fairness::f1[race=none-positive]"]
    assert member.status is Status.INCONCLUSIVE, member.message
    assert "0 positive rows, fewer than 10: f1 cannot be judged" in member.message


def test_favourable_turns_selection_rates_to_the_other_label(tmp_path: Path):
    plain = _project(tmp_path, 'sensitive = ["sex"]\nchecks = ["selection_rate >= 0"]')
    _, before = _results(plain)
    flipped = _project(
        tmp_path, 'sensitive = ["sex"]\nfavourable = 0\nchecks = ["selection_rate >= 0"]'
    )
    _, after = _results(flipped)
    for sex in ("female", "male"):
        key = f"fairness::selection_rate[sex={sex}]"
        assert after[key].value == pytest.approx(1 - before[key].value, abs=1e-12)


def test_a_favourable_label_that_is_no_label_names_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    path = _project(tmp_path, f'sensitive = ["sex"]\nfavourable = "repaid"\n{FAMILY}')
    _assert_cli_error(path, capsys, "fairness.favourable", "'repaid' is not one of the labels")


def test_a_sensitive_column_with_one_value_says_there_is_nothing_to_compare(tmp_path: Path):
    frame = _frame().assign(sex="female")
    path = _project(tmp_path, f'sensitive = ["sex"]\n{FAMILY}', frame=frame)
    record, found = _results(path)
    member = found["fairness::selection_rate_ratio[sex=female]"]
    assert member.status is Status.INCONCLUSIVE and record.blocked
    assert "every row is sex=female" in member.message


def test_a_sensitive_column_whose_name_holds_an_equals_sign_is_refused(tmp_path: Path):
    frame = _frame().rename(columns={"sex": "s=x"})
    path = _project(tmp_path, f'sensitive = ["s=x"]\n{FAMILY}', frame=frame)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.key == "fairness.sensitive" and "may not hold '='" in str(caught.value)
