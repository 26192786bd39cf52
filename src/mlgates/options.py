"""The options of a run, declared once for the command line and for pytest.

``mlgates run --threshold X`` and ``pytest --mlgates --mlgates-threshold X`` come
from the same row of :data:`OPTIONS`, so the two never drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Kind = Literal["path", "text", "list", "flag"]


@dataclass(frozen=True)
class Option:
    """One run option: its field in :class:`RunOptions`, its flags and its help."""

    name: str
    flags: tuple[str, ...]
    help: str
    kind: Kind = "text"
    metavar: str | None = None
    cli_only: bool = False
    """Only ``mlgates run`` has it (pytest has its own, as with ``--junitxml``)."""

    @property
    def pytest_flag(self) -> str:
        """The pytest spelling: ``--mlgates-`` and the long flag's name."""
        return "--mlgates-" + self.flags[0].removeprefix("--")

    @property
    def pytest_dest(self) -> str:
        """Where pytest keeps the value (``config.getoption(...)``)."""
        return f"mlgates_{self.name}"

    def arguments(self) -> dict[str, Any]:
        """Keyword arguments for ``argparse.add_argument`` / pytest's ``addoption``."""
        if self.kind == "flag":
            return {"action": "store_true", "default": False, "help": self.help}
        arguments: dict[str, Any] = {"help": self.help, "metavar": self.metavar}
        if self.kind == "list":
            arguments.update(action="append", default=[])
        return arguments


OPTIONS: tuple[Option, ...] = (
    Option(
        "config",
        ("--config", "-c"),
        "mlgates.toml or pyproject.toml (default: the one in the working directory)",
        "path",
        "PATH",
    ),
    Option("profile", ("--profile", "-p"), "apply [profile.NAME] from the config", "text", "NAME"),
    Option("stages", ("--stage",), "run only this stage (repeatable)", "list", "NAME"),
    Option(
        "thresholds",
        ("--threshold", "-t"),
        'add or replace a check, e.g. "drift_share <= 0.1"; "stage::metric ..." where a '
        "metric is in several stages (repeatable)",
        "list",
        "CHECK",
    ),
    Option("report", ("--report",), "write the HTML report here instead", "path", "PATH"),
    Option(
        "json",
        ("--json",),
        "also write the run record as JSON (schema: mlgates/schemas/run-record.schema.json)",
        "path",
        "PATH",
    ),
    Option(
        "summary",
        ("--summary",),
        "also write a Markdown summary (for a CI job summary or a pull-request comment)",
        "path",
        "PATH",
    ),
    Option(
        "junitxml",
        ("--junitxml",),
        "also write JUnit XML, one testcase per check",
        "path",
        "PATH",
        cli_only=True,
    ),
    Option(
        "history",
        ("--history",),
        "use this history instead of the config's: a .jsonl path or sqlite:///path",
        "text",
        "URI",
    ),
    Option("no_history", ("--no-history",), "do not append this run to the history", "flag"),
)


PYTEST_OPTIONS: tuple[Option, ...] = tuple(o for o in OPTIONS if not o.cli_only)
"""The options ``pytest --mlgates`` takes, as ``--mlgates-<flag>``."""


@dataclass(frozen=True)
class RunOptions:
    """What a user asked of one run, whichever adapter started it."""

    config: Path | None = None
    profile: str | None = None
    stages: tuple[str, ...] = ()
    thresholds: tuple[str, ...] = ()
    report: Path | None = None
    json: Path | None = None
    summary: Path | None = None
    junitxml: Path | None = None
    history: str | None = None
    no_history: bool = False

    @classmethod
    def from_values(cls, get: Callable[[Option], Any]) -> RunOptions:
        """Build from ``get(option)``: an argparse namespace or pytest's ``getoption``."""
        values: dict[str, Any] = {}
        for option in OPTIONS:
            value = get(option)
            if option.kind == "path" and value is not None:
                value = Path(value)
            elif option.kind == "list":
                value = tuple(value or ())
            values[option.name] = value
        return cls(**values)
