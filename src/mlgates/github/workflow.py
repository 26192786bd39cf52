"""GitHub Actions' workflow commands and environment files, written safely.

Annotations (``::error file=…,line=…::message``) are escaped the way the runner
reads them: ``%``, ``\\r`` and ``\\n`` in the message, and also ``:`` and ``,`` in
property values, so a hostile column name can neither end the annotation early
nor start a command of its own. Step outputs go to ``$GITHUB_OUTPUT`` in the
multi-line form with a random delimiter, which no value can forge.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

ANNOTATIONS_PER_STEP = 10
"""GitHub shows at most 10 error and 10 warning annotations of one step."""


def escape_data(text: str) -> str:
    """``text`` as the message of a workflow command."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """``text`` as a property value (``file=``, ``title=``) of a workflow command."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


@dataclass(frozen=True)
class Annotation:
    """One ``::error``/``::warning``/``::notice`` line; ``file`` relative to the repository."""

    level: str
    message: str
    title: str | None = None
    file: str | None = None
    line: int | None = None

    def command(self) -> str:
        """The workflow command that shows this annotation."""
        properties = [
            f"{name}={escape_property(str(value))}"
            for name, value in (("file", self.file), ("line", self.line), ("title", self.title))
            if value is not None
        ]
        head = f"{self.level} {','.join(properties)}" if properties else self.level
        return f"::{head}::{escape_data(self.message)}"


def emit(annotations: list[Annotation], stream: TextIO) -> None:
    """Print each annotation's workflow command on its own line."""
    for annotation in annotations:
        print(annotation.command(), file=stream)


def write_outputs(values: Mapping[str, str], path: Path | None = None) -> None:
    """Append step outputs to ``$GITHUB_OUTPUT`` (or ``path``); nothing outside a workflow."""
    target = path or _environment_file("GITHUB_OUTPUT")
    if target is None:
        return
    with target.open("a", encoding="utf-8") as stream:
        for name, value in values.items():
            delimiter = f"mlgates_{secrets.token_hex(12)}"
            stream.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def append_summary(markdown: str, path: Path | None = None) -> bool:
    """Append ``markdown`` to the job summary ``$GITHUB_STEP_SUMMARY``; False outside one."""
    target = path or _environment_file("GITHUB_STEP_SUMMARY")
    if target is None:
        return False
    with target.open("a", encoding="utf-8") as stream:
        stream.write(markdown)
    return True


def _environment_file(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None
