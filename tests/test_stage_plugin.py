"""A third-party stage found through the ``mlgates.stages`` entry point, in real processes.

The stage (tests/plugin_stage/groupstats_stage.py) checks the mean of a column
per group and discovers the groups while measuring: ``mean >= 6`` is the family
``groups::mean[*]`` and every group found is a member. It is "installed" without
pip: the module and a ``.dist-info`` directory with ``entry_points.txt`` go into
a directory on the subprocesses' PYTHONPATH, where importlib.metadata finds them.
"""

from __future__ import annotations

import csv
import json
import math
import os
import statistics
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from scipy import stats

from mlgates.core import RunRecord

STAGE_SOURCE = Path(__file__).parent / "plugin_stage" / "groupstats_stage.py"
FAMILY = "groups::mean[*]"

# (group, mean, spread, rows): south is deliberately bad, tiny has too few rows.
GOOD = [("north", 10.0, 2.0, 150), ("east", 9.0, 2.0, 120)]
FOUR = [*GOOD, ("south", 4.0, 2.0, 100), ("tiny", 12.0, 1.0, 3)]
TABLE = """
[groups]
data = "groups.csv"
group = "region"
value = "score"
checks = {checks}
"""


def install(
    site: Path, dist: str, modules: Mapping[str, str], entry_points: Mapping[str, str]
) -> None:
    """Install ``modules`` as distribution ``dist`` with ``mlgates.stages`` entry points."""
    site.mkdir(parents=True, exist_ok=True)
    for module, text in modules.items():
        (site / f"{module}.py").write_text(text, encoding="utf-8")
    info = site / f"{dist}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[mlgates.stages]\n{lines}")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A directory where the groups stage is installed, for the subprocesses' PYTHONPATH."""
    path = tmp_path / "site"
    install(
        path,
        "groupstats-stage",
        {"groupstats_stage": STAGE_SOURCE.read_text(encoding="utf-8")},
        {"groups": "groupstats_stage:GroupStatsStage"},
    )
    return path


def group_rows(groups: Sequence[tuple[str, float, float, int]]) -> list[tuple[str, float]]:
    """Rows whose group means are exactly the given means (offsets come in +/- pairs)."""
    rows = []
    for name, mean, spread, count in groups:
        for index in range(count):
            step = spread * ((index // 2) % 5 + 1) / 3
            unpaired = count % 2 == 1 and index == count - 1
            rows.append((name, mean if unpaired else mean + (step if index % 2 else -step)))
    return rows


@dataclass
class Gates:
    """A project directory with a config and data, and the commands run in it."""

    root: Path
    site: Path
    written: list[Path] = field(default_factory=list)

    def config(self, *checks: str, settings: str = "", extra: str = "") -> None:
        text = settings + TABLE.format(checks=json.dumps(list(checks))) + extra
        (self.root / "mlgates.toml").write_text(text, encoding="utf-8")

    def data(self, groups: Sequence[tuple[str, float, float, int]]) -> None:
        with (self.root / "groups.csv").open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(["row", "region", "score"])
            writer.writerows((i, name, score) for i, (name, score) in enumerate(group_rows(groups)))

    def _run(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(self.site), env.get("PYTHONPATH")]))
        return subprocess.run(
            argv, cwd=self.root, env=env, capture_output=True, text=True, timeout=180
        )

    def _record_file(self) -> str:
        """Where the next run writes its whole record (the history keeps passing
        checks' numbers only, and these tests read their details too)."""
        path = self.root / "records" / f"{len(self.written)}.json"
        self.written.append(path)
        return str(path)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        if "--json" in args:  # the test's own file holds the whole record
            self.written.append(self.root / args[args.index("--json") + 1])
            return self._run([sys.executable, "-m", "mlgates", "run", *args])
        argv = [sys.executable, "-m", "mlgates", "run", "--json", self._record_file(), *args]
        return self._run(argv)

    def pytest(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self._run(
            [
                sys.executable,
                "-m",
                "pytest",
                "--mlgates",
                "-p",
                "no:cacheprovider",
                f"--mlgates-json={self._record_file()}",
                *args,
            ]
        )

    def history(self) -> list[dict]:
        """The recorded runs in history order, each as the run wrote it whole."""
        path = self.root / ".mlgates" / "history.jsonl"
        stored = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        whole = {}
        for file in (path for path in self.written if path.exists()):
            record = json.loads(file.read_text(encoding="utf-8"))
            whole[record["run_id"]] = record
        return [whole.get(line["run_id"]) or RunRecord.from_dict(line).to_dict() for line in stored]


def checks_of(record: dict) -> dict[str, dict]:
    found = [check for gate in record["gates"] for check in gate["checks"]]
    by_id = {check["id"]: check for check in found}
    assert len(by_id) == len(found), "a check id appears twice in the record"
    return by_id


def t_interval(name: str, groups: Sequence[tuple[str, float, float, int]], level: float):
    """The one-sided t bounds of a group's mean, computed here from the rows themselves."""
    values = [score for group, score in group_rows(groups) if group == name]
    mean, count = statistics.fmean(values), len(values)
    margin = stats.t.ppf(level, count - 1) * statistics.stdev(values) / math.sqrt(count)
    return mean, (mean - margin, mean + margin)


@pytest.fixture
def gates(tmp_path: Path, site: Path) -> Gates:
    root = tmp_path / "project"
    root.mkdir()
    return Gates(root, site)


def test_cli_blocks_on_a_discovered_group_and_records_every_member(gates: Gates):
    gates.data(FOUR)
    gates.config("mean >= 6 @95%")
    done = gates.cli("--json", "out.json")

    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("FAIL") and "groups::mean[south]" in line for line in lines)
    assert any(line.startswith("INCONCL") and "groups::mean[tiny]" in line for line in lines)
    assert "BLOCKED: 2 pass, 1 inconclusive, 2 fail (5 checks)" in lines

    (record,) = gates.history()
    assert record["blocked"] is True and record["partial"] is False and record["source"] == "cli"
    assert "groups.csv" in record["files"]
    checks = checks_of(record)
    members = ["east", "north", "south", "tiny"]
    assert set(checks) == {FAMILY, *(f"groups::mean[{m}]" for m in members)}
    family = checks[FAMILY]
    assert (family["status"], family["blocking"], family["family"]) == ("fail", True, None)
    assert family["details"]["members"] == members
    assert family["message"].startswith("2 of 4 groups pass; south: mean[south] = 4")
    for member in members:
        assert checks[f"groups::mean[{member}]"]["family"] == FAMILY
    for name in ("north", "east", "south"):
        check = checks[f"groups::mean[{name}]"]
        mean, interval = t_interval(name, FOUR, 0.95)
        assert check["value"] == pytest.approx(mean)
        assert check["interval"] == pytest.approx(list(interval))
        assert check["level"] == 0.95
        assert check["threshold"] == f"mean[{name}] >= 6 @95%"
        assert check["bound"] == 6
        assert check["details"]["rows"] == {"north": 150, "east": 120, "south": 100}[name]
    assert checks["groups::mean[north]"]["status"] == "pass"
    south = checks["groups::mean[south]"]
    assert (south["status"], south["blocking"]) == ("fail", True)
    assert south["interval"][1] < 6  # fails even at the optimistic bound
    tiny = checks["groups::mean[tiny]"]
    assert (tiny["status"], tiny["blocking"], tiny["value"]) == ("inconclusive", True, None)
    assert tiny["message"] == "only 3 rows (min_group_size = 5)"

    written = json.loads((gates.root / "out.json").read_text(encoding="utf-8"))
    assert written == record


def test_cli_passes_when_every_group_is_fine_and_a_command_line_bound_names_one(gates: Gates):
    gates.data(GOOD)
    gates.config("mean >= 6 @95%")
    done = gates.cli()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASSED: 3 pass (3 checks)" in done.stdout
    (record,) = gates.history()
    assert record["blocked"] is False
    assert {c["id"]: c["status"] for c in checks_of(record).values()} == {
        FAMILY: "pass",
        "groups::mean[east]": "pass",
        "groups::mean[north]": "pass",
    }

    narrowed = gates.cli("--threshold", "mean[east] >= 9.5")  # east leaves the family
    assert narrowed.returncode == 1
    assert "groups::mean[east]" in narrowed.stdout and "fails >= 9.5" in narrowed.stdout
    record = gates.history()[-1]
    assert record["partial"] is True
    checks = checks_of(record)
    assert checks["groups::mean[east]"]["family"] is None
    assert checks["groups::mean[east]"]["status"] == "fail"
    assert checks[FAMILY]["details"]["members"] == ["north"]
    assert checks[FAMILY]["status"] == "pass"


def test_an_interval_straddling_the_bound_is_inconclusive(gates: Gates):
    groups = [GOOD[0], ("west", 8.3, 3.0, 30)]
    gates.data(groups)
    gates.config("mean >= 8 @95%")
    done = gates.cli()
    assert done.returncode == 1
    assert any(
        line.startswith("INCONCL ") and "groups::mean[west]" in line
        for line in done.stdout.splitlines()
    )
    west = checks_of(gates.history()[-1])["groups::mean[west]"]
    mean, interval = t_interval("west", groups, 0.95)
    assert west["value"] == pytest.approx(mean) and west["value"] > 8  # the point alone passes
    assert west["interval"] == pytest.approx(list(interval))
    assert west["interval"][0] < 8 < west["interval"][1]
    assert (west["status"], west["blocking"]) == ("inconclusive", True)
    assert "straddle 8" in west["message"]

    gates.config("mean >= 8 @95%", settings='[mlgates]\non_inconclusive = "warn"\n')
    warned = gates.cli()
    assert warned.returncode == 0, warned.stdout
    assert any(
        line.startswith("INCONCL*") and "groups::mean[west]" in line
        for line in warned.stdout.splitlines()
    )
    record = gates.history()[-1]
    assert record["blocked"] is False and record["on_inconclusive"] == "warn"
    checks = checks_of(record)
    assert (checks[FAMILY]["status"], checks[FAMILY]["blocking"]) == ("inconclusive", False)
    assert checks["groups::mean[west]"]["blocking"] is False


def test_pytest_family_item_fails_on_a_member_and_records_the_members(gates: Gates):
    gates.data(FOUR)
    gates.config("mean >= 6 @95%", "mean[north] >= 9")

    collected = gates.pytest("--collect-only", "-q")
    assert collected.returncode == 0, collected.stdout
    items = [line for line in collected.stdout.splitlines() if line.startswith("mlgates.toml::")]
    assert items == ["mlgates.toml::groups::mean[*]", "mlgates.toml::groups::mean[north]"]
    assert not (gates.root / ".mlgates" / "history.jsonl").exists()

    done = gates.pytest()
    assert done.returncode == 1, done.stdout
    assert "1 failed, 1 passed" in done.stdout
    assert "FAILED mlgates.toml::groups::mean[*]" in done.stdout
    assert "FAIL groups::mean[*]: 1 of 3 groups pass; south: mean[south] = 4: fails >= 6" in (
        done.stdout
    )
    assert "tiny: only 3 rows" in done.stdout
    assert "Traceback" not in done.stdout
    assert "mlgates: blocked: 5 checks from mlgates.toml" in done.stdout

    (record,) = gates.history()
    assert record["source"] == "pytest" and record["partial"] is False
    checks = checks_of(record)
    assert {i: c["family"] for i, c in checks.items()} == {
        FAMILY: None,
        "groups::mean[east]": FAMILY,
        "groups::mean[south]": FAMILY,
        "groups::mean[tiny]": FAMILY,
        "groups::mean[north]": None,  # checked by name: its own item, not a member
    }
    assert checks["groups::mean[south]"]["status"] == "fail"
    assert checks["groups::mean[north]"]["status"] == "pass"
    assert checks["groups::mean[north]"]["interval"] is None  # no @level: no interval


def test_previous_bound_is_inconclusive_first_then_anchors_on_the_last_passing_run(gates: Gates):
    gates.data(GOOD)
    gates.config("mean >= previous - 0.5")
    first = gates.cli()
    assert first.returncode == 1
    checks = checks_of(gates.history()[-1])
    for name in ("north", "east"):
        member = checks[f"groups::mean[{name}]"]
        assert member["status"] == "inconclusive" and member["anchor_value"] is None
        assert "no comparable earlier run" in member["message"]
    assert checks[FAMILY]["status"] == "inconclusive"

    gates.config("mean >= previous - 0.5", settings='[mlgates]\nfirst_run = "pass"\n')
    seeded = gates.cli()
    assert seeded.returncode == 0, seeded.stdout
    seed = gates.history()[-1]
    east = checks_of(seed)["groups::mean[east]"]
    assert (east["status"], east["value"]) == ("skipped", pytest.approx(9.0))

    gates.config("mean >= previous - 0.5")
    anchored = gates.cli()
    assert anchored.returncode == 0, anchored.stdout
    passing = gates.history()[-1]
    for name, value in (("north", 10.0), ("east", 9.0)):
        member = checks_of(passing)[f"groups::mean[{name}]"]
        assert member["status"] == "pass"
        assert member["anchor"] == "previous"
        assert member["anchor_value"] == pytest.approx(value)
        assert member["bound"] == pytest.approx(value - 0.5)
        assert member["details"]["anchor_run"] == seed["run_id"]

    gates.data([GOOD[0], ("east", 8.0, 2.0, 120)])
    dropped = gates.cli()
    assert dropped.returncode == 1
    assert any(
        line.startswith("FAIL") and "groups::mean[east]" in line
        for line in dropped.stdout.splitlines()
    )
    east = checks_of(gates.history()[-1])["groups::mean[east]"]
    assert east["status"] == "fail" and east["value"] == pytest.approx(8.0)
    assert east["anchor_value"] == pytest.approx(9.0) and east["bound"] == pytest.approx(8.5)
    assert east["details"]["anchor_run"] == passing["run_id"]


def test_an_unknown_stage_table_suggests_the_plugin_stage(gates: Gates):
    gates.data(GOOD)
    text = TABLE.format(checks='["mean >= 6"]').replace("[groups]", "[grups]")
    (gates.root / "mlgates.toml").write_text(text, encoding="utf-8")
    done = gates.cli()
    assert done.returncode == 2
    assert "mlgates.toml: grups: unknown key (did you mean 'groups'?)" in done.stderr
    assert "valid keys: data, fairness, groups, mlgates, operational, performance" in done.stderr
    assert not (gates.root / ".mlgates" / "history.jsonl").exists()

    gates.config("mean >= 6")
    staged = gates.cli("--stage", "grups")
    assert staged.returncode == 2
    assert (
        "unknown stage 'grups' (did you mean 'groups'?); "
        "stages: data, performance, operational, fairness, groups" in staged.stderr
    )


def test_a_plugin_that_fails_to_import_names_the_stage_and_its_provider(gates: Gates):
    install(
        gates.site,
        "brokenstats",
        {"brokenstats": "import mlgates_dependency_not_installed\n\nclass BrokenStage: ...\n"},
        {"broken": "brokenstats:BrokenStage"},
    )
    gates.data(GOOD)
    gates.config("mean >= 6")
    assert gates.cli().returncode == 0  # plugins load only when a config names their table

    gates.config("mean >= 6", extra="\n[broken]\nanything = 1\n")
    done = gates.cli()
    assert done.returncode == 2
    assert (
        "stage 'broken' from brokenstats (brokenstats:BrokenStage) failed to load: "
        "ModuleNotFoundError: No module named 'mlgates_dependency_not_installed'"
    ) in done.stderr
    assert len(gates.history()) == 1  # nothing recorded for the failed run

    collected = gates.pytest()
    assert collected.returncode == pytest.ExitCode.INTERRUPTED
    assert "stage 'broken' from brokenstats (brokenstats:BrokenStage) failed" in collected.stdout
    assert len(gates.history()) == 1


def test_a_family_of_skipped_members_does_not_say_they_pass(gates: Gates):
    gates.data(GOOD)
    gates.config("mean >= previous - 0.5", settings='[mlgates]\nfirst_run = "pass"\n')
    done = gates.cli()
    assert done.returncode == 0, done.stdout
    family = checks_of(gates.history()[-1])[FAMILY]
    assert family["status"] == "skipped"
    assert "2 of 2 groups pass" not in family["message"]
    assert "0 of 2 groups pass, 2 skipped" in family["message"]
