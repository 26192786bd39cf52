"""A local advisory server that answers like the OSV API, for audits without the internet.

``[operational] audit.advisories`` names a file of OSV records (a list, one
record, or osv.dev's ``{"vulns": [...]}``) or a directory of them (osv.dev's
export: one record per ``*.json`` file). :func:`load_advisories` reads and
checks them; :class:`AdvisoryServer` serves them on 127.0.0.1 at an ephemeral
port, answering ``POST /v1/query`` as ``https://api.osv.dev/v1/query`` does,
so pip-audit's ``--osv-url`` can point at it.

Only PyPI packages are matched: names compared after PEP 503 normalisation,
versions with :mod:`packaging.version` against ``affected[].versions`` and the
``ECOSYSTEM`` (or ``SEMVER``) ranges; ``GIT`` ranges name commits and are skipped.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from mlgates.core import InputError
from mlgates.files import read_user_text

ECOSYSTEM = "PyPI"
"""The only ecosystem the server matches."""

QUERY_PATH = "/v1/query"
"""Where the server answers, as the OSV API does."""

_COMPARED_RANGES = ("ECOSYSTEM", "SEMVER")
_RANGE_TYPES = (*_COMPARED_RANGES, "GIT")
_EVENTS = ("introduced", "fixed", "last_affected", "limit")
_MAX_BODY = 1 << 20
_REQUEST_TIMEOUT = 10.0
_STOP_TIMEOUT = 5.0


@dataclass(frozen=True)
class AffectedRange:
    """One ``ECOSYSTEM`` range of an affected package, its events in version order."""

    events: tuple[tuple[Version, str], ...]

    def contains(self, version: Version) -> bool:
        """Whether ``version`` lies in the range, following the OSV specification's walk:
        ``introduced`` opens it, ``fixed`` and ``limit`` close it at that version,
        ``last_affected`` just after it."""
        affected = False
        for at, kind in self.events:
            reached = version > at if kind == "last_affected" else version >= at
            if reached:
                affected = kind == "introduced"
        return affected


@dataclass(frozen=True)
class Affected:
    """What one record says about one PyPI package."""

    name: str
    versions: frozenset[Version]
    ranges: tuple[AffectedRange, ...]

    def contains(self, version: Version) -> bool:
        """Whether ``version`` is listed or lies in a range."""
        return version in self.versions or any(r.contains(version) for r in self.ranges)


@dataclass(frozen=True)
class Advisory:
    """An OSV record as read, with its PyPI entries parsed for matching."""

    id: str
    record: Mapping[str, Any]
    affected: tuple[Affected, ...]

    def matches(self, name: str, version: Version) -> bool:
        """Whether the record affects ``version`` of the package ``name`` (canonical)."""
        return any(a.name == name and a.contains(version) for a in self.affected)

    def served(self) -> dict[str, Any]:
        """The record as the server returns it: PyPI package names canonical, so that
        pip-audit, which compares them with the canonical name, finds the fixed versions."""
        record = dict(self.record)
        entries = []
        for entry in record.get("affected", []):
            package = entry.get("package", {})
            if package.get("ecosystem") == ECOSYSTEM and isinstance(package.get("name"), str):
                package = {**package, "name": canonicalize_name(package["name"])}
                entry = {**entry, "package": package}
            entries.append(entry)
        record["affected"] = entries
        return record


@dataclass(frozen=True)
class Advisories:
    """Every advisory of a file or directory, indexed by canonical package name."""

    source: Path
    advisories: tuple[Advisory, ...]

    def __len__(self) -> int:
        return len(self.advisories)

    def __iter__(self) -> Iterator[Advisory]:
        return iter(self.advisories)

    def query(self, name: str, version: str) -> list[Advisory]:
        """The advisories affecting ``version`` of ``name`` (any spelling); none for a
        version that is not PEP 440."""
        try:
            parsed = Version(version)
        except InvalidVersion:
            return []
        canonical = canonicalize_name(name)
        return [a for a in self.advisories if a.matches(canonical, parsed)]


class _Invalid(Exception):
    """A record is malformed; the message says where inside it."""


def load_advisories(path: Path, *, name: str | None = None) -> Advisories:
    """Read OSV records from a JSON file or a directory of ``*.json`` files.

    Raises :class:`InputError` naming the file (``name``, or the path), the
    record's index and id, and what is wrong; or when there is no record at all.
    """
    shown = name or str(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.json") if p.is_file())
        if not files:
            raise InputError(f"{shown}: the directory holds no *.json advisory files")
        loaded: list[tuple[str, Advisory]] = []
        for file in files:
            inside = f"{shown}/{file.relative_to(path).as_posix()}"
            loaded.extend((inside, a) for a in _load_file(file, inside))
    else:
        loaded = [(shown, a) for a in _load_file(path, shown)]
    first: dict[str, str] = {}
    for where, advisory in loaded:
        if advisory.id in first:
            both = where if first[advisory.id] == where else f"{first[advisory.id]} and {where}"
            raise InputError(f"{both}: advisory {advisory.id} is given twice; keep one record")
        first[advisory.id] = where
    if not loaded:
        where = "its *.json files hold" if path.is_dir() else "it holds"
        raise InputError(
            f"{shown}: {where} no advisory records, so the audit would check against nothing: "
            "give OSV records, or leave advisories unset to ask PyPI's advisories"
        )
    found = [advisory for _, advisory in loaded]
    return Advisories(path, tuple(found))


def _load_file(path: Path, shown: str) -> list[Advisory]:
    text = read_user_text(path, "advisory file", InputError)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{shown}: not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    records = _records(data, shown)
    advisories = []
    for index, record in enumerate(records):
        where = f"record {index}" if len(records) > 1 or isinstance(data, list) else "the record"
        if isinstance(record, dict) and isinstance(record.get("id"), str):
            where += f" ({record['id']})"
        try:
            advisories.append(_advisory(record))
        except _Invalid as exc:
            raise InputError(f"{shown}: {where}: {exc}") from None
    return advisories


def _records(data: Any, shown: str) -> list[Any]:
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and "vulns" in data and "id" not in data:
        if not isinstance(data["vulns"], list):
            raise InputError(f"{shown}: 'vulns' must be a list of OSV records")
        return data["vulns"]
    if isinstance(data, dict):
        return [data]
    raise InputError(
        f'{shown}: expected an OSV record, a list of them or {{"vulns": [...]}}, '
        f"got a JSON {type(data).__name__}"
    )


def _advisory(record: Any) -> Advisory:
    if not isinstance(record, dict):
        raise _Invalid(f"expected an OSV record (a JSON object), got {_kind(record)}")
    advisory_id = record.get("id")
    if not isinstance(advisory_id, str) or not advisory_id.strip():
        raise _Invalid("'id' is required: the advisory's id, such as PYSEC-2024-110")
    aliases = record.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise _Invalid("'aliases' must be a list of advisory ids")
    entries = record.get("affected")
    if not isinstance(entries, list) or not entries:
        raise _Invalid("'affected' is required: a list of the packages and versions affected")
    affected = []
    for index, entry in enumerate(entries):
        try:
            parsed = _affected(entry)
        except _Invalid as exc:
            raise _Invalid(f"affected[{index}]: {exc}") from None
        if parsed is not None:
            affected.append(parsed)
    return Advisory(advisory_id, record, tuple(affected))


def _affected(entry: Any) -> Affected | None:
    if not isinstance(entry, dict):
        raise _Invalid(f"expected an object with 'package', got {_kind(entry)}")
    package = entry.get("package")
    if (
        not isinstance(package, dict)
        or not isinstance(package.get("name"), str)
        or not isinstance(package.get("ecosystem"), str)
    ):
        raise _Invalid("'package' must be an object with 'name' and 'ecosystem' strings")
    versions = entry.get("versions", [])
    if not isinstance(versions, list) or not all(isinstance(v, str) for v in versions):
        raise _Invalid("'versions' must be a list of version strings")
    ranges = entry.get("ranges", [])
    if not isinstance(ranges, list):
        raise _Invalid("'ranges' must be a list")
    if package["ecosystem"] != ECOSYSTEM:
        return None
    parsed_ranges = []
    for index, raw in enumerate(ranges):
        try:
            parsed = _range(raw)
        except _Invalid as exc:
            raise _Invalid(f"ranges[{index}]: {exc}") from None
        if parsed is not None:
            parsed_ranges.append(parsed)
    listed = frozenset(_version(v, "versions") for v in versions)
    return Affected(canonicalize_name(package["name"]), listed, tuple(parsed_ranges))


def _range(raw: Any) -> AffectedRange | None:
    if not isinstance(raw, dict):
        raise _Invalid(f"expected an object with 'type' and 'events', got {_kind(raw)}")
    kind = raw.get("type")
    if kind not in _RANGE_TYPES:
        raise _Invalid(f"'type' must be one of {', '.join(_RANGE_TYPES)}, got {kind!r}")
    events = raw.get("events")
    if not isinstance(events, list) or not events:
        raise _Invalid('\'events\' is required: e.g. [{"introduced": "0"}, {"fixed": "1.5"}]')
    if kind not in _COMPARED_RANGES:
        return None
    parsed: list[tuple[Version, str]] = []
    for index, event in enumerate(events):
        if not isinstance(event, dict) or len(event) != 1 or next(iter(event)) not in _EVENTS:
            raise _Invalid(
                f"events[{index}]: expected one of {', '.join(_EVENTS)} with a version, "
                f"got {event!r}"
            )
        ((name, value),) = event.items()
        if not isinstance(value, str):
            raise _Invalid(f"events[{index}]: {name} must be a version string, got {value!r}")
        at = Version("0") if name == "introduced" and value == "0" else None
        parsed.append((at or _version(value, f"events[{index}].{name}"), name))
    if not any(name == "introduced" for _, name in parsed):
        raise _Invalid("'events' has no 'introduced' event: nothing is affected")
    order = {name: rank for rank, name in enumerate(_EVENTS)}
    parsed.sort(key=lambda item: (item[0], order[item[1]]))
    return AffectedRange(tuple(parsed))


def _version(value: str, where: str) -> Version:
    try:
        return Version(value)
    except InvalidVersion:
        raise _Invalid(f"{where}: {value!r} is not a PEP 440 version") from None


def _kind(value: Any) -> str:
    return f"a JSON {type(value).__name__}" if value is not None else "null"


class _AdvisoryHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, advisories: Advisories) -> None:
        super().__init__(("127.0.0.1", 0), _QueryHandler)
        self.advisories = advisories


class _QueryHandler(BaseHTTPRequestHandler):
    """``POST /v1/query``: ``{"package": {"name", "ecosystem"}, "version"}`` to
    ``{"vulns": [...]}``, or ``{}`` when nothing matches."""

    server: _AdvisoryHTTPServer
    timeout = _REQUEST_TIMEOUT
    server_version = "mlgates-advisories"

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] != QUERY_PATH:
            self._answer(HTTPStatus.NOT_FOUND, {"code": 5, "message": "Not Found"})
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 < length <= _MAX_BODY:
            self._answer(HTTPStatus.BAD_REQUEST, {"code": 3, "message": "expected a JSON body"})
            return
        try:
            query = json.loads(self.rfile.read(length))
            name, version = _query(query)
        except (ValueError, _Invalid) as exc:
            self._answer(HTTPStatus.BAD_REQUEST, {"code": 3, "message": str(exc)})
            return
        found = self.server.advisories.query(name, version)
        self._answer(HTTPStatus.OK, {"vulns": [a.served() for a in found]} if found else {})

    def _answer(self, status: HTTPStatus, body: Mapping[str, Any]) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a query is not worth a line on the gates' error output."""


def _query(query: Any) -> tuple[str, str]:
    """The package name and version of a query whose ecosystem is PyPI."""
    package = query.get("package") if isinstance(query, dict) else None
    version = query.get("version") if isinstance(query, dict) else None
    if not isinstance(package, dict) or not isinstance(package.get("name"), str):
        raise _Invalid('expected {"package": {"name": ..., "ecosystem": "PyPI"}, ...}')
    if package.get("ecosystem") != ECOSYSTEM:
        raise _Invalid(f"only the {ECOSYSTEM} ecosystem is served")
    if not isinstance(version, str):
        raise _Invalid('expected a "version" string')
    return package["name"], version


class AdvisoryServer:
    """Serve ``advisories`` on 127.0.0.1 (an ephemeral port) while the ``with`` block runs.

    ``with AdvisoryServer(load_advisories(path)) as server: ... server.query_url``
    """

    def __init__(self, advisories: Advisories) -> None:
        self.advisories = advisories
        self._server: _AdvisoryHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def query_url(self) -> str:
        """The URL to give pip-audit as ``--osv-url``."""
        if self._server is None:
            raise RuntimeError("the advisory server is not running; use it in a with block")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{QUERY_PATH}"

    def start(self) -> AdvisoryServer:
        """Bind the port and serve in a daemon thread."""
        if self._server is not None:
            return self
        server = _AdvisoryHTTPServer(self.advisories)
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="mlgates-advisories",
            daemon=True,
        )
        thread.start()
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Stop serving and release the port; waits at most a few seconds."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None or thread is None:
            return
        stopper = threading.Thread(target=server.shutdown, daemon=True)
        stopper.start()
        stopper.join(_STOP_TIMEOUT)
        server.server_close()
        thread.join(_STOP_TIMEOUT)

    def __enter__(self) -> AdvisoryServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


__all__ = [
    "ECOSYSTEM",
    "QUERY_PATH",
    "Advisories",
    "Advisory",
    "AdvisoryServer",
    "load_advisories",
]
