"""The dependency audit: pip-audit in a process of its own, its findings per package.

pip-audit audits ``audit.requirements`` exactly as pinned (``--no-deps``, no
pip, no network but the advisory service) unless ``audit.resolve`` lets pip
resolve them, or else the environment of the Python running the gates. It asks
``audit.advisory_url`` (an OSV query API), a local server for the records of
``audit.advisories`` (:mod:`.advisories`), or by default PyPI's advisories.
Its answers never come from a cache of an earlier run.

The requirements are read before pip-audit runs, as pip reads them
(continuations joined, comments and option lines skipped): a line that is not
a requirement, or (without ``audit.resolve``) one not pinned to one version, is
an :class:`~mlgates.core.InputError` naming the line and the fix, as are two
different pins of one package and hashes on some requirements only.

A package's value is the number of its advisories not ignored. An ignore names
an advisory by its id or any alias; it holds through its ``expires`` date, after
which the advisory counts again. When pip-audit cannot audit (the service is
unreachable or answers with an error, it timed out) every audit check is
inconclusive with pip-audit's reason, never a pass; a package pip-audit skipped
is inconclusive.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.metadata
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgates.authoring import Measurement, PlannedCheck, reading
from mlgates.core import InputError, MissingExtraError, Status
from mlgates.files import read_user_text
from mlgates.processes import run_bounded
from mlgates.stages.operational.settings import AuditSettings, IgnoredAdvisory
from mlgates.text import did_you_mean, shorten

if TYPE_CHECKING:
    from packaging.requirements import Requirement

    from mlgates.context import Context

_KEY = "operational.audit"
_TAIL = 600
_LOGGED = re.compile(r"^(?:ERROR|CRITICAL):[\w.]+:")
_RAISED = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Timeout)\w*(?:: .*)?$")
_COMMENT = re.compile(r"(^|\s+)#.*$")
"""A comment, as pip finds it: ``#`` at the start of a line or after white space."""
_ARCHIVES = (".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar")


class AuditFailed(Exception):
    """pip-audit gave no answer; the message says why, naming what and against what."""


@dataclass(frozen=True)
class Finding:
    """One advisory pip-audit reported for a package."""

    id: str
    aliases: tuple[str, ...] = ()
    fix_versions: tuple[str, ...] = ()
    description: str = ""

    @property
    def ids(self) -> frozenset[str]:
        """The id and every alias, case-folded, as ignores are matched."""
        return frozenset(i.casefold() for i in (self.id, *self.aliases))

    def describe(self) -> str:
        """``PYSEC-2024-110 (GHSA-jw8x-6495-233v; fixed in 1.5.0)``."""
        fixed = f"fixed in {', '.join(self.fix_versions)}" if self.fix_versions else "no fix yet"
        aliases = f"{', '.join(self.aliases)}; " if self.aliases else ""
        return f"{self.id} ({aliases}{fixed})"


@dataclass(frozen=True)
class Package:
    """One dependency as pip-audit saw it: audited (``version``) or skipped (``skip_reason``)."""

    name: str
    version: str | None = None
    findings: tuple[Finding, ...] = ()
    skip_reason: str | None = None


@dataclass(frozen=True)
class Audit:
    """A finished pip-audit run: every package, what was audited and against which source."""

    packages: Mapping[str, Package]
    what: str
    source: str
    method: str


@dataclass(frozen=True)
class Judged:
    """A finding with the ignore that names it, if any, on the day of the run."""

    finding: Finding
    ignore: IgnoredAdvisory | None = None
    expired: bool = False

    @property
    def counted(self) -> bool:
        """Whether the finding counts: not ignored, or its ignore has expired."""
        return self.ignore is None or self.expired

    def describe(self) -> str:
        """The finding, and the ignore that holds or has expired."""
        text = self.finding.describe()
        ignore = self.ignore
        if ignore is None:
            return text
        if self.expired:
            return (
                f"{text}: the ignore at {ignore.key} expired on {ignore.expires.isoformat()} "
                f"({ignore.reason}); review it"
            )
        return f"{text}: ignored until {ignore.expires.isoformat()}: {ignore.reason}"


def measure_audit(
    settings: AuditSettings,
    checks: Sequence[PlannedCheck],
    context: Context,
    *,
    today: dt.date | None = None,
) -> dict[str, Measurement]:
    """Audit the dependencies once and measure every ``vulnerabilities`` check.

    A family check (``vulnerabilities == 0``) gets one member per package with an
    advisory (counted or ignored) or skipped, and its own measurement: the total
    counted. A check naming a package gets that package's count. ``today``
    (default: the run's UTC date) decides which ignores hold.
    """
    if importlib.util.find_spec("pip_audit") is None:
        raise MissingExtraError("the dependency audit", "operational", key=_KEY)
    day = today or context.now.date()
    try:
        audit = run_audit(settings, context)
    except AuditFailed as exc:
        return {c.id: Measurement(status=Status.INCONCLUSIVE, message=str(exc)) for c in checks}
    judged = {name: judge_findings(p, settings.ignore, day) for name, p in audit.packages.items()}
    measured: dict[str, Measurement] = {}
    for check in checks:
        if check.family or check.selector is None:
            named = {
                _canonical(c.selector)
                for c in checks
                if c.selector is not None and not c.family and c.variant == check.variant
            }
            measured.update(_family(check, audit, judged, named, settings.ignore, day))
        else:
            measured[check.id] = _named(check.selector, audit, judged)
    return measured


def judge_findings(
    package: Package, ignores: Sequence[IgnoredAdvisory], today: dt.date
) -> list[Judged]:
    """The package's findings with their ignores, those that count first."""
    judged = []
    for finding in package.findings:
        ignore = next((i for i in ignores if i.id.casefold() in finding.ids), None)
        expired = ignore is not None and ignore.expired(today)
        judged.append(Judged(finding, ignore, expired))
    return sorted(judged, key=lambda j: not j.counted)


def _family(
    check: PlannedCheck,
    audit: Audit,
    judged: Mapping[str, Sequence[Judged]],
    named: set[str],
    ignores: Sequence[IgnoredAdvisory],
    today: dt.date,
) -> dict[str, Measurement]:
    measured: dict[str, Measurement] = {}
    counts = {"vulnerable": 0, "ignored": 0, "not audited": 0}
    audited = sum(p.skip_reason is None for p in audit.packages.values())
    total = 0
    for name, package in audit.packages.items():
        if name in named:
            continue
        findings = judged[name]
        counted = sum(j.counted for j in findings)
        total += counted
        if package.skip_reason is not None:
            counts["not audited"] += 1
        elif counted:
            counts["vulnerable"] += 1
        elif findings:
            counts["ignored"] += 1
        else:
            continue
        member = check.member(name)
        measured[member.id] = replace(_package(package, findings, audit), check=member)
    summary = _summary(audit, judged, audited, total, counts, ignores, today)
    own = sorted(n for n in named if n in audit.packages)
    if own and summary.status is None:
        summary = replace(
            summary, message=f"{summary.message}; checked on their own: {', '.join(own)}"
        )
    measured[check.id] = summary
    return measured


def _summary(
    audit: Audit,
    judged: Mapping[str, Sequence[Judged]],
    audited: int,
    total: int,
    counts: Mapping[str, int],
    ignores: Sequence[IgnoredAdvisory],
    today: dt.date,
) -> Measurement:
    """The family's own measurement: how many packages were audited, against what."""
    shown = ", ".join(f"{n} {what}" for what, n in counts.items())
    message = (
        f"audited {audited} package{'s' * (audited != 1)} from {audit.what} "
        f"against {audit.source}: {shown}"
    )
    used = {j.ignore.key for found in judged.values() for j in found if j.ignore is not None}
    unused = [i for i in ignores if i.key not in used]
    stale = [i for i in unused if i.expired(today)]
    if stale:
        message += "; " + "; ".join(
            f"the ignore at {i.key} ({i.id}) expired on {i.expires.isoformat()} and no "
            "advisory found names it: remove it"
            for i in stale
        )
    details = {
        "audited": audited,
        "source": audit.source,
        "from": audit.what,
        **{what.replace(" ", "_"): n for what, n in counts.items()},
        "unused_ignores": [{"key": i.key, "id": i.id} for i in unused],
    }
    if not audit.packages:
        return Measurement(
            status=Status.INCONCLUSIVE,
            message=f"found no packages to audit in {audit.what}",
            method=audit.method,
            details=details,
        )
    return Measurement(value=float(total), message=message, method=audit.method, details=details)


def _named(selector: str, audit: Audit, judged: Mapping[str, Sequence[Judged]]) -> Measurement:
    name = _canonical(selector)
    package = audit.packages.get(name)
    if package is None:
        count = len(audit.packages)
        return Measurement(
            status=Status.INCONCLUSIVE,
            message=(
                f"{selector} is not among the {count} package{'s' * (count != 1)} audited from "
                f"{audit.what}{did_you_mean(name, audit.packages)}"
            ),
            method=audit.method,
        )
    return _package(package, judged[name], audit)


def _package(package: Package, findings: Sequence[Judged], audit: Audit) -> Measurement:
    """A package's count of advisories not ignored, each advisory named."""
    details: dict[str, Any] = {"package": package.name, "source": audit.source}
    if package.skip_reason is not None:
        return Measurement(
            status=Status.INCONCLUSIVE,
            message=f"{package.name}: not audited: {package.skip_reason}",
            method=audit.method,
            details={**details, "skip_reason": package.skip_reason},
        )
    counted = sum(j.counted for j in findings)
    described = "; ".join(j.describe() for j in findings)
    details.update(
        version=package.version,
        advisories=[_detail(j) for j in findings],
        counted=[j.finding.id for j in findings if j.counted],
        ignored=[j.finding.id for j in findings if not j.counted],
    )
    return Measurement(
        value=float(counted),
        message=f"{package.name} {package.version}: "
        + (described or f"no known vulnerabilities in {audit.source}"),
        method=audit.method,
        details=details,
    )


def _detail(judged: Judged) -> dict[str, Any]:
    finding, ignore = judged.finding, judged.ignore
    detail: dict[str, Any] = {
        "id": finding.id,
        "aliases": list(finding.aliases),
        "fix_versions": list(finding.fix_versions),
        "description": shorten(finding.description, 300),
        "counted": judged.counted,
    }
    if ignore is not None:
        detail["ignore"] = {
            "key": ignore.key,
            "id": ignore.id,
            "reason": ignore.reason,
            "expires": ignore.expires.isoformat(),
            "expired": judged.expired,
        }
    return detail


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


def run_audit(settings: AuditSettings, context: Context) -> Audit:
    """Run pip-audit once; raise :class:`AuditFailed` when it gives no answer."""
    if settings.requirements is not None:
        what = context.display(settings.requirements)
        with reading(f"{_KEY}.requirements"):
            context.file_hash(settings.requirements)
            text = read_user_text(settings.requirements, "requirements file", InputError)
            check_requirements(text, what, resolve=settings.resolve)
    else:
        what = f"the Python environment {sys.executable}"
    method = f"pip-audit {importlib.metadata.version('pip-audit')}"
    with (
        tempfile.TemporaryDirectory(prefix="mlgates-audit-") as scratch,
        _advisory_url(settings, context) as (url, source),
    ):
        argv = pip_audit_argv(settings, url, Path(scratch))
        packages = _run(argv, settings, context, what=what, source=source)
    return Audit(packages, what, source, method)


@dataclass(frozen=True)
class RequirementLine:
    """One requirement of a requirements file: where it starts, the requirement itself
    and the per-requirement options after it (``--hash=...``)."""

    number: int
    requirement: str
    options: str

    @property
    def hashed(self) -> bool:
        """Whether it carries a ``--hash`` option."""
        return "--hash" in self.options


_INCLUDES = ("-r", "--requirement")
"""Options that include another requirements file (constraints, ``-c``, add no package)."""


def requirement_lines(text: str) -> Iterator[RequirementLine]:
    """The requirements of a requirements file, as pip reads them: a line ending in a
    backslash continues on the next, comments and blank lines are dropped, and lines
    of options (``-r``, ``-e``, ``--index-url``, ...) are skipped."""
    for number, line in _joined(text.splitlines()):
        line = _COMMENT.sub("", line).strip()
        if not line or line.startswith("-"):
            continue
        tokens = line.split(" ")
        first = next((i for i, t in enumerate(tokens) if t.startswith("-")), len(tokens))
        requirement, options = " ".join(tokens[:first]), " ".join(tokens[first:])
        yield RequirementLine(number, requirement.strip(), options.strip())


def _joined(lines: Sequence[str]) -> Iterator[tuple[int, str]]:
    """Lines with their continuations joined, each with the number of its first line
    (pip's ``join_lines``: a comment ends a continuation)."""
    start = 0
    parts: list[str] = []
    for number, line in enumerate(lines, start=1):
        if line.endswith("\\") and not _COMMENT.match(line):
            start = start if parts else number
            parts.append(line.strip("\\"))
            continue
        if parts:
            parts.append(f" {line}" if _COMMENT.match(line) else line)
            yield start, "".join(parts)
            parts = []
        else:
            yield number, line
    if parts:
        yield start, "".join(parts)


def check_requirements(text: str, shown: str, *, resolve: bool) -> None:
    """Refuse a requirements file pip-audit cannot audit as it stands.

    Raises :class:`InputError` naming ``shown``, the line and the fix for a line
    that is not a requirement, hashes on some requirements but not all, and
    (without ``resolve``, when the pins are audited as they are) a requirement not
    pinned to one version (``name==version``) or two different pins of one
    package. Requirements pip-audit skips are skipped: URLs and paths (``name @
    URL`` too), and those whose environment markers exclude this Python.
    """
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    if not resolve:
        for number, raw in _joined(text.splitlines()):
            option = _COMMENT.sub("", raw).strip()
            if option.startswith(_INCLUDES):
                raise InputError(
                    f"{shown}, line {number}: {raw.strip()!r} includes another file, whose "
                    "pins the audit would not see: list every pin in this file (pip freeze or "
                    f"pip-compile write one), or set {_KEY}.resolve = true"
                )
    lines = list(requirement_lines(text))
    editable = next(
        (
            (number, raw.strip())
            for number, raw in _joined(text.splitlines())
            if _COMMENT.sub("", raw).strip().startswith(("-e ", "--editable"))
        ),
        None,
    )
    if editable is not None and any(line.hashed for line in lines):
        raise InputError(
            f"{shown}, line {editable[0]}: {editable[1]!r} is editable, and pip requires a hash "
            "on every requirement when some have one: leave the project out (uv export "
            "--no-emit-project, pip-compile without -e), or remove the hashes"
        )
    if any(line.hashed for line in lines):
        unhashed = next((line for line in lines if not line.hashed), None)
        if unhashed is not None:
            raise InputError(
                f"{shown}, line {unhashed.number}: {unhashed.requirement} has no --hash while "
                "other requirements have one, and pip requires a hash on every requirement "
                "then: add its hashes (pip-compile --generate-hashes writes them) or remove all"
            )
    pinned: dict[str, tuple[int, str]] = {}
    for line in lines:
        try:
            requirement = Requirement(line.requirement)
        except InvalidRequirement as exc:
            if _location(line.requirement):
                continue  # a URL or a path: pip-audit skips it or reads its name and version
            why = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid"
            raise InputError(
                f"{shown}, line {line.number}: {line.requirement!r} is not a requirement ({why}): "
                "write it as name==version, as pip freeze or pip-compile write them"
            ) from None
        if requirement.url or _location(requirement.name) or not _applies(requirement):
            continue
        if resolve:
            continue
        specifiers = list(requirement.specifier)
        exact = (
            len(specifiers) == 1
            and specifiers[0].operator == "=="
            and not specifiers[0].version.endswith(".*")
        )
        if not exact:
            raise InputError(
                f"{shown}, line {line.number}: {line.requirement} is not pinned to one version, "
                "and the audit checks the requirements exactly as pinned: pin it as "
                f"{requirement.name}==<version> (as pip freeze or pip-compile write it), or "
                f"set {_KEY}.resolve = true to let pip resolve the requirements"
            )
        name = canonicalize_name(requirement.name)
        version = specifiers[0].version
        if name in pinned and pinned[name][1] != version:
            first, other = pinned[name]
            raise InputError(
                f"{shown}, lines {first} and {line.number}: {requirement.name} is pinned twice, "
                f"to {other} and to {version}: keep one pin"
            )
        pinned.setdefault(name, (line.number, version))


def _location(requirement: str) -> bool:
    """Whether a requirement is a URL or a path (``./pkg``, ``dist/pkg-1.0.whl``) rather
    than a name; pip-audit skips those or reads the name and version of an archive."""
    text = requirement.split(";", 1)[0].strip()
    return (
        "://" in text
        or text.startswith((".", "/", "~"))
        or "/" in text
        or "\\" in text
        or text.lower().endswith(_ARCHIVES)
    )


def _applies(requirement: Requirement) -> bool:
    """Whether the requirement's environment markers hold for the Python running the gates
    (pip-audit runs on it and skips the others)."""
    if requirement.marker is None:
        return True
    try:
        return bool(requirement.marker.evaluate())
    except Exception:  # a marker naming something undefined here: audit it
        return True


@contextlib.contextmanager
def _advisory_url(settings: AuditSettings, context: Context) -> Iterator[tuple[str | None, str]]:
    """The OSV URL to query and the source as messages name it; a local server for
    ``advisories`` while the audit runs."""
    if settings.advisories is None:
        if settings.advisory_url is not None:
            yield settings.advisory_url, settings.advisory_url
        else:
            yield None, "PyPI's advisories"
        return
    from mlgates.stages.operational.advisories import AdvisoryServer, load_advisories

    shown = context.display(settings.advisories)
    with reading(f"{_KEY}.advisories"):
        context.file_hash(settings.advisories)
        advisories = load_advisories(settings.advisories, name=shown)
    count = len(advisories)
    with AdvisoryServer(advisories) as server:
        yield server.query_url, f"{shown} ({count} advisor{'ies' if count != 1 else 'y'})"


def pip_audit_argv(settings: AuditSettings, url: str | None, scratch: Path) -> list[str]:
    """The pip-audit command: JSON with aliases to ``scratch/audit.json``, a fresh cache."""
    argv = [sys.executable, "-m", "pip_audit", "--format", "json", "--aliases", "on"]
    argv += ["--desc", "on", "--progress-spinner", "off"]
    argv += ["--output", str(scratch / "audit.json"), "--cache-dir", str(scratch / "cache")]
    argv += ["--timeout", str(max(1, min(15, int(settings.timeout))))]
    if url is not None:
        argv += ["--vulnerability-service", "osv", "--osv-url", url]
    else:
        argv += ["--vulnerability-service", "pypi"]
    if settings.requirements is not None:
        argv += ["--requirement", str(settings.requirements)]
        if not settings.resolve:
            argv += ["--no-deps", "--disable-pip"]
    return argv


def _run(
    argv: Sequence[str], settings: AuditSettings, context: Context, *, what: str, source: str
) -> dict[str, Package]:
    output = Path(argv[argv.index("--output") + 1])
    failed = f"pip-audit could not audit {what} against {source}"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PIP_AUDIT_")}
    environment.update(
        PIPAPI_PYTHON_LOCATION=sys.executable, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1"
    )
    try:
        done = run_bounded(argv, timeout=settings.timeout, cwd=context.root, env=environment)
    except subprocess.TimeoutExpired:
        raise AuditFailed(
            f"{failed}: no answer within {settings.timeout:g} s ({_KEY}.timeout); "
            "the process was stopped"
        ) from None
    except OSError as exc:
        raise AuditFailed(f"{failed}: cannot start pip-audit: {exc.strerror or exc}") from None
    if done.code not in (0, 1) or not output.is_file():
        reason = _reason(done.stderr or done.stdout, done.code)
        raise AuditFailed(f"{failed}: {shorten(reason, _TAIL)}")
    try:
        return parse_report(json.loads(output.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as exc:
        raise AuditFailed(f"{failed}: its JSON report is not readable: {exc}") from None


def _reason(errors: str, code: int) -> str:
    """The errors pip-audit logged, else the exception that ended it (with the one that
    caused it when the last says nothing), else its last line."""
    lines = [line.rstrip() for line in errors.splitlines() if line.strip()]
    logged = [_LOGGED.sub("", line) for line in lines if _LOGGED.match(line)]
    if logged:
        return "; ".join(logged)
    raised = [line for line in lines if _RAISED.match(line)]
    if raised:
        told = [line for line in raised if ": " in line]
        if ": " not in raised[-1] and told:
            return f"{raised[-1]} ({told[-1]})"
        return raised[-1]
    return lines[-1] if lines else f"it exited with code {code} and wrote no report"


def parse_report(report: Mapping[str, Any]) -> dict[str, Package]:
    """pip-audit's JSON report as packages by canonical name."""
    packages: dict[str, Package] = {}
    for entry in report["dependencies"]:
        name = _canonical(str(entry["name"]))
        if "skip_reason" in entry:
            packages[name] = Package(name, skip_reason=str(entry["skip_reason"]))
            continue
        findings = tuple(
            Finding(
                id=str(v["id"]),
                aliases=tuple(sorted(str(a) for a in v.get("aliases", []))),
                fix_versions=tuple(str(f) for f in v.get("fix_versions", [])),
                description=str(v.get("description", "")),
            )
            for v in entry.get("vulns", [])
        )
        packages[name] = Package(name, str(entry["version"]), findings)
    return packages


__all__ = [
    "Audit",
    "AuditFailed",
    "Finding",
    "Judged",
    "Package",
    "RequirementLine",
    "check_requirements",
    "judge_findings",
    "measure_audit",
    "parse_report",
    "pip_audit_argv",
    "requirement_lines",
    "run_audit",
]
