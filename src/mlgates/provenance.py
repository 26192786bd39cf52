"""Where a run came from: mlgates version, git commit and branch."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any


def mlgates_version() -> str:
    """The installed mlgates version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mlgates")
    except PackageNotFoundError:
        return "0+unknown"


def _git(directory: Path, *args: str) -> str | None:
    try:
        completed = subprocess.run(
            ["git", *args],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip() if completed.returncode == 0 else None


def git_info(directory: Path) -> dict[str, Any]:
    """Commit, branch and dirtiness of the checkout holding ``directory``.

    Falls back to the GitHub Actions environment; empty outside any repository.
    """
    commit = _git(directory, "rev-parse", "HEAD") or os.environ.get("GITHUB_SHA")
    if not commit:
        return {}
    branch = _git(directory, "rev-parse", "--abbrev-ref", "HEAD")
    if branch in (None, "HEAD"):
        branch = os.environ.get("GITHUB_HEAD_REF") or os.environ.get("GITHUB_REF_NAME") or branch
    status = _git(directory, "status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "branch": branch, "dirty": bool(status)}
