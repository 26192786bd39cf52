"""The validation history kept on a git branch, for CI runners that keep no state.

:func:`fetch_history` copies the history file from the branch (an empty history
when the branch does not exist yet). :func:`push_record` appends one run record
to the branch's newest version of the file and pushes; when another run pushed
first, it fetches again and appends on top of that (a rebase of one line), so
concurrent runs never lose each other's records. Neither touches the checkout's
work tree, index or HEAD: commits are built with git's plumbing.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from mlgates.compact import stored_line
from mlgates.core import MlgatesError, RecordFormatError, RunRecord

_GIT_TIMEOUT_S = 120
_IDENTITY = {
    "GIT_AUTHOR_NAME": "mlgates",
    "GIT_AUTHOR_EMAIL": "mlgates@users.noreply.github.com",
    "GIT_COMMITTER_NAME": "mlgates",
    "GIT_COMMITTER_EMAIL": "mlgates@users.noreply.github.com",
}
_REJECTED = ("[rejected]", "non-fast-forward", "fetch first", "failed to update ref", "stale info")


class HistoryBranchError(MlgatesError):
    """The history branch could not be read or written; the message says how to fix it."""


@dataclass(frozen=True)
class BranchHistory:
    """Where the history lives: ``file`` on ``branch`` of ``remote``, seen from ``repository``."""

    repository: Path
    branch: str
    file: str
    remote: str = "origin"

    def __post_init__(self) -> None:
        if self.branch.startswith("-") or not _is_branch_name(self.branch):
            raise HistoryBranchError(
                f"history branch {self.branch!r} is not a branch name (git check-ref-format)"
            )
        parts = self.file.split("/")
        if any(part in ("", ".", "..") for part in parts) or "\\" in self.file:
            raise HistoryBranchError(
                f"history file {self.file!r} must be a relative path inside the branch, "
                "such as models/mlgates.history.jsonl"
            )

    @property
    def ref(self) -> str:
        return f"refs/heads/{self.branch}"


def _is_branch_name(name: str) -> bool:
    """Whether git accepts ``name`` as a branch name (``git check-ref-format --branch``)."""
    try:
        done = subprocess.run(
            ["git", "check-ref-format", "--branch", name],
            capture_output=True,
            timeout=_GIT_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError:
        raise HistoryBranchError("git is not installed on this runner") from None
    return bool(name) and done.returncode == 0


def fetch_history(history: BranchHistory, destination: Path) -> int:
    """Write the branch's history file to ``destination``; the number of lines in it.

    The file is copied byte for byte: a line mlgates cannot read is skipped with a
    warning when the history is read, as in any history file.
    """
    commit = _fetch(history)
    data = _read(history, commit) if commit else b""
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(data)
    except OSError as exc:
        raise HistoryBranchError(f"cannot write {destination}: {exc.strerror or exc}") from None
    return sum(1 for line in data.splitlines() if line.strip())


def push_record(
    history: BranchHistory, record_json: str, *, attempts: int = 6, pause_s: float = 1.0
) -> int:
    """Append one run record (its JSON) to the branch; the number of pushes it took.

    Idempotent: a record whose ``run_id`` the branch already holds is not added
    again. Raises :class:`HistoryBranchError` when every attempt was refused or
    the remote cannot be reached.
    """
    try:
        record = RunRecord.from_dict(json.loads(record_json))
    except (ValueError, RecordFormatError) as exc:
        raise HistoryBranchError(f"not a run record of mlgates run --json: {exc}") from None
    line = stored_line(record).encode() + b"\n"
    marker = f'"run_id":{json.dumps(record.run_id)}'.encode()
    for attempt in range(1, attempts + 1):
        parent = _fetch(history)
        data = _read(history, parent) if parent else b""
        if marker in data:
            return attempt - 1
        if data and not data.endswith(b"\n"):
            data += b"\n"  # a torn last line stays as it is, on a line of its own
        commit = _commit(history, parent, data + line, record.run_id)
        pushed = _git(
            history, "push", "--porcelain", history.remote, f"{commit}:{history.ref}", check=False
        )
        if pushed.returncode == 0:
            return attempt
        if not any(sign in pushed.stderr + pushed.stdout for sign in _REJECTED):
            raise HistoryBranchError(_problem(history, "write", pushed.stderr or pushed.stdout))
        time.sleep(pause_s * attempt * (0.5 + random.random()))
    raise HistoryBranchError(
        f"{history.branch}: {attempts} pushes were refused because other runs pushed first; "
        "the record was not added"
    )


def _fetch(history: BranchHistory) -> str | None:
    """Fetch the branch; its commit, or ``None`` when the remote has no such branch."""
    listed = _git(history, "ls-remote", "--heads", history.remote, history.ref, check=False)
    if listed.returncode != 0:
        raise HistoryBranchError(_problem(history, "read", listed.stderr))
    if not listed.stdout.strip():
        return None
    local = f"refs/mlgates/history/{history.branch}"
    # a shallow CI checkout needs only the branch's tip: the new commit's parent
    shallow = _git(history, "rev-parse", "--is-shallow-repository").stdout.strip() == "true"
    depth = ["--depth=1"] if shallow else []
    _git(
        history, "fetch", "--quiet", "--no-tags", *depth, history.remote, f"+{history.ref}:{local}"
    )
    return _git(history, "rev-parse", "--verify", f"{local}^{{commit}}").stdout.strip()


def _read(history: BranchHistory, commit: str) -> bytes:
    shown = _git(history, "cat-file", "-e", f"{commit}:{history.file}", check=False)
    if shown.returncode != 0:
        return b""
    return _git_bytes(history, "cat-file", "blob", f"{commit}:{history.file}").stdout


def _commit(history: BranchHistory, parent: str | None, data: bytes, run_id: str) -> str:
    """A commit on ``parent`` whose history file holds ``data``; the work tree is untouched."""
    blob = _git_bytes(history, "hash-object", "-w", "--stdin", stdin=data).stdout.decode().strip()
    with tempfile.TemporaryDirectory(prefix="mlgates-index-") as directory:
        index = {"GIT_INDEX_FILE": str(Path(directory) / "index")}
        if parent:
            _git(history, "read-tree", parent, env=index)
        else:
            _git(history, "read-tree", "--empty", env=index)
        _git(
            history,
            "update-index",
            "--add",
            "--cacheinfo",
            f"100644,{blob},{history.file}",
            env=index,
        )
        tree = _git(history, "write-tree", env=index).stdout.strip()
    arguments = ["commit-tree", tree, "-m", f"mlgates: record run {run_id}"]
    if parent:
        arguments += ["-p", parent]
    return _git(history, *arguments, env=_IDENTITY).stdout.strip()


def _problem(history: BranchHistory, verb: str, stderr: str) -> str:
    """Why the branch could not be read or written, and what fixes it."""
    detail = " ".join(stderr.strip().splitlines()[-2:]) or "no message"
    if verb == "read":
        return (
            f"cannot read the history branch {history.branch!r} from remote {history.remote!r} "
            f"of {history.repository}: {detail}; the repository must be a git checkout with "
            "that remote (actions/checkout), or set the input history-branch: ''"
        )
    return (
        f"cannot write the history branch {history.branch!r} to {history.remote!r}: {detail}; "
        "the job needs `permissions: contents: write` and a checkout that keeps its "
        "credentials (actions/checkout's default), or set the input record: false"
    )


def _git(
    history: BranchHistory,
    *arguments: str,
    check: bool = True,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``git`` in the checkout, its output as text (for refs, hashes and messages)."""
    done = _git_bytes(history, *arguments, check=check, env=env)
    return subprocess.CompletedProcess(
        done.args,
        done.returncode,
        done.stdout.decode("utf-8", errors="replace"),
        done.stderr.decode("utf-8", errors="replace"),
    )


def _git_bytes(
    history: BranchHistory,
    *arguments: str,
    stdin: bytes | None = None,
    check: bool = True,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """``git`` in the checkout with bytes in and out: history files are copied exactly."""
    try:
        done = subprocess.run(
            ["git", "-C", str(history.repository), *arguments],
            input=stdin,
            capture_output=True,
            timeout=_GIT_TIMEOUT_S,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})},
            check=False,
        )
    except FileNotFoundError:
        raise HistoryBranchError("git is not installed on this runner") from None
    except subprocess.TimeoutExpired:
        raise HistoryBranchError(
            f"git {arguments[0]} took over {_GIT_TIMEOUT_S} s; the history was not changed"
        ) from None
    if check and done.returncode != 0:
        detail = done.stderr.decode("utf-8", errors="replace").strip().splitlines()[-2:]
        raise HistoryBranchError(f"git {arguments[0]} failed: {' '.join(detail)}")
    return done
