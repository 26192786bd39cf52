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
import urllib.parse
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


def pull_request_of(
    event_name: str, event_path: Path | None, repository: str
) -> PullRequest | None:
    """The pull request of a pull-request event, ``None`` for any other event.

    A ``pull_request`` run of a fork gets a read-only token (``from_fork``); a
    ``pull_request_target`` run has the base repository's token either way.
    Raises :class:`CommentError` when the event file cannot be read.
    """
    if event_path is None:
        raise CommentError("GITHUB_EVENT_PATH is not set: run this step inside a workflow")
    try:
        event = json.loads(event_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CommentError(f"cannot read the event payload {event_path}: {exc}") from None
    pull = event.get("pull_request") if isinstance(event, dict) else None
    if not isinstance(pull, dict):
        return None
    number = pull.get("number")
    if not isinstance(number, int) or isinstance(number, bool):
        raise CommentError(f"the event payload {event_path} has no pull request number")
    head = pull.get("head")
    head_repo = head.get("repo") if isinstance(head, dict) else None
    name = head_repo.get("full_name") if isinstance(head_repo, dict) else None
    from_fork = event_name == "pull_request" and name != repository
    return PullRequest(number=number, from_fork=from_fork)


class IssueComments:
    """The few REST calls the sticky comment needs, with the workflow's token.

    The token goes to the API's own host only: redirects and next-page links to
    another origin are refused.
    """

    def __init__(self, *, api_url: str, repository: str, token: str) -> None:
        if not token:
            raise CommentError("no token: pass github-token (the default is github.token)")
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", repository):
            raise CommentError(f"GITHUB_REPOSITORY {repository!r} is not owner/name")
        parts = urllib.parse.urlsplit(api_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise CommentError(f"GITHUB_API_URL {api_url!r} is not an http(s) URL")
        self.api_url = api_url.rstrip("/")
        self.origin = (parts.scheme, parts.netloc)
        self.repository = repository
        self._token = token
        self._opener = urllib.request.build_opener(_SameOriginRedirects(self.origin))
        self._login: str | None = None

    def upsert(self, number: int, body: str, marker: str) -> tuple[str, int]:
        """Edit the comment that starts with ``marker``, or create it: ``(action, id)``."""
        existing = self._find(number, marker)
        if existing is not None:
            self._call("PATCH", f"/repos/{self.repository}/issues/comments/{existing}", body)
            return "updated", existing
        created = self._call("POST", f"/repos/{self.repository}/issues/{number}/comments", body)
        return "created", _comment_id(created, "POST comment")

    def _find(self, number: int, marker: str) -> int | None:
        """The comment of ours that starts with ``marker``: written by a bot (the
        workflow's token) or by the token's own user, never anybody else's."""
        url: str | None = (
            f"{self.api_url}/repos/{self.repository}/issues/{number}/comments?per_page={_PAGE}"
        )
        for _ in range(_MAX_PAGES):
            if url is None:
                break
            page, headers = self._request("GET", url)
            if not isinstance(page, list):
                raise CommentError("GET comments: the API did not answer a list")
            for comment in page:
                if _starts_with(comment, marker) and self._ours(comment):
                    return _comment_id(comment, "GET comments")
            match = _NEXT_LINK.search(headers.get("Link", ""))
            url = match.group(1) if match else None
            if url is not None and _origin(url) != self.origin:
                raise CommentError("GET comments: the next page is on another host; not followed")
        return None

    def _ours(self, comment: dict[str, Any]) -> bool:
        user = comment.get("user")
        if not isinstance(user, dict):
            return False
        if user.get("type") == "Bot":
            return True
        if self._login is None:
            try:
                me, _ = self._request("GET", f"{self.api_url}/user")
            except CommentError:
                me = None  # the workflow's token may not read /user
            self._login = str(me.get("login", "")) if isinstance(me, dict) else ""
        return bool(self._login) and user.get("login") == self._login

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
        where = f"{method} {_path(url)}"
        try:
            with self._opener.open(request, timeout=_TIMEOUT_S) as response:
                text = response.read().decode("utf-8", errors="replace")
                headers = dict(response.headers.items())
        except urllib.error.HTTPError as exc:
            raise CommentError(_http_problem(where, exc.code, exc.headers)) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise CommentError(f"{where}: cannot reach the API: {reason}") from None
        try:
            return (json.loads(text) if text else None), headers
        except ValueError:
            raise CommentError(f"{where}: the API did not answer JSON") from None


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to the API's own scheme and host, so the token stays there."""

    def __init__(self, origin: tuple[str, str]) -> None:
        self.origin = origin

    def redirect_request(
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        if _origin(newurl) != self.origin:
            raise urllib.error.URLError(f"redirected to another host ({_origin(newurl)[1]})")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _origin(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme, parts.netloc


def _starts_with(comment: Any, marker: str) -> bool:
    body = comment.get("body") if isinstance(comment, dict) else None
    return isinstance(body, str) and body.startswith(marker)


def _comment_id(comment: Any, where: str) -> int:
    number = comment.get("id") if isinstance(comment, dict) else None
    if not isinstance(number, int) or isinstance(number, bool):
        raise CommentError(f"{where}: the API's answer has no comment id")
    return number


def _http_problem(where: str, status: int, headers: Any) -> str:
    if status == 403 and headers is not None and headers.get("X-RateLimit-Remaining") == "0":
        return f"{where} answered HTTP 403: the API's rate limit is used up; the next run retries"
    if status in (401, 403):
        return (
            f"{where} answered HTTP {status}: the token may not comment; give the job "
            "`permissions: pull-requests: write`, or set the input comment: false"
        )
    if status == 404:
        return f"{where} answered HTTP 404: no such pull request or repository for this token"
    return f"{where} answered HTTP {status}: the API failed; the next run retries"


def _path(url: str) -> str:
    return urllib.parse.urlsplit(url).path or url


def api_url() -> str:
    """The REST API of the server the workflow runs on (GitHub Enterprise included)."""
    return os.environ.get("GITHUB_API_URL") or DEFAULT_API
