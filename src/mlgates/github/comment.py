"""One sticky pull-request comment per config, created once and updated on every push.

The comment starts with a hidden marker derived from the config's path; the
next run finds it among the pull request's comments and edits it instead of
adding another. Pull requests from forks get a read-only token, so the comment
is skipped there with a note: the job summary carries the same text.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_API = "https://api.github.com"
_TIMEOUT_S = 30
_PAGE = 100
_MAX_PAGES = 30
_NEXT_LINK = re.compile(r'<([^>]+)>;\s*rel="next"')


class CommentError(Exception):
    """The comment could not be written; the message says why and how to fix it."""


def marker_for(key: str) -> str:
    """The hidden first line that identifies the comment of one config."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return f"<!-- mlgates-summary {digest} -->"


@dataclass(frozen=True)
class PullRequest:
    """The pull request a workflow run belongs to, read from the event payload."""

    number: int
    from_fork: bool


def pull_request_of(event_path: Path | None, repository: str) -> PullRequest | None:
    """The pull request of a ``pull_request`` event, or ``None`` for any other event."""
    if event_path is None:
        return None
    try:
        event = json.loads(event_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    pull = event.get("pull_request") if isinstance(event, dict) else None
    if not isinstance(pull, dict) or not isinstance(pull.get("number"), int):
        return None
    head = pull.get("head") or {}
    head_repo = head.get("repo") if isinstance(head, dict) else None
    name = head_repo.get("full_name") if isinstance(head_repo, dict) else None
    return PullRequest(number=pull["number"], from_fork=name != repository)


class IssueComments:
    """The few REST calls the sticky comment needs, with the workflow's token."""

    def __init__(self, *, api_url: str, repository: str, token: str) -> None:
        if not token:
            raise CommentError("no token: pass github-token (the default is github.token)")
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", repository):
            raise CommentError(f"GITHUB_REPOSITORY {repository!r} is not owner/name")
        self.api_url = api_url.rstrip("/")
        self.repository = repository
        self._token = token

    def upsert(self, number: int, body: str, marker: str) -> tuple[str, int]:
        """Edit the comment that starts with ``marker``, or create it: ``(action, id)``."""
        existing = self._find(number, marker)
        if existing is not None:
            self._call("PATCH", f"/repos/{self.repository}/issues/comments/{existing}", body)
            return "updated", existing
        created = self._call("POST", f"/repos/{self.repository}/issues/{number}/comments", body)
        return "created", int(created["id"])

    def _find(self, number: int, marker: str) -> int | None:
        url: str | None = (
            f"{self.api_url}/repos/{self.repository}/issues/{number}/comments?per_page={_PAGE}"
        )
        for _ in range(_MAX_PAGES):
            if url is None:
                break
            page, headers = self._request("GET", url)
            for comment in page if isinstance(page, list) else ():
                text = comment.get("body") or ""
                if isinstance(text, str) and text.startswith(marker):
                    return int(comment["id"])
            match = _NEXT_LINK.search(headers.get("Link", ""))
            url = match.group(1) if match else None
        return None

    def _call(self, method: str, path: str, body: str) -> Any:
        data, _ = self._request(method, self.api_url + path, {"body": body})
        return data

    def _request(
        self, method: str, url: str, payload: Mapping[str, Any] | None = None
    ) -> tuple[Any, Mapping[str, str]]:
        request = urllib.request.Request(
            url,
            method=method,
            data=None if payload is None else json.dumps(payload).encode(),
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {self._token}",
                "Content-Type": "application/json",
                "User-Agent": "mlgates",
                "X-GitHub-Api-Version": "2022-11-28",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:
                text = response.read().decode("utf-8", errors="replace")
                headers = dict(response.headers.items())
        except urllib.error.HTTPError as exc:
            raise CommentError(_http_problem(method, exc.code)) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise CommentError(f"{method} {_path(url)}: cannot reach the API: {reason}") from None
        try:
            return (json.loads(text) if text else None), headers
        except ValueError:
            raise CommentError(f"{method} {_path(url)}: the API did not answer JSON") from None


def _http_problem(method: str, status: int) -> str:
    if status in (401, 403):
        return (
            f"{method} answered HTTP {status}: the token may not comment; give the job "
            "`permissions: pull-requests: write`, or set the input comment: false"
        )
    if status == 404:
        return f"{method} answered HTTP 404: no such pull request or repository for this token"
    return f"{method} answered HTTP {status}"


def _path(url: str) -> str:
    return url.split("?", 1)[0]


def api_url() -> str:
    """The REST API of the server the workflow runs on (GitHub Enterprise included)."""
    return os.environ.get("GITHUB_API_URL") or DEFAULT_API
