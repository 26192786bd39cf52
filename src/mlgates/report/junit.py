"""JUnit XML of a run: one testsuite per stage, one testcase per check.

CI systems that read JUnit (GitLab, Jenkins, Azure, test-report actions) show
a blocking check as a failure, a skipped one as skipped, and everything else as
passed; each testcase carries the check's status, value, bound and interval as
properties under the same names ``pytest --mlgates --junitxml`` writes.
"""

from __future__ import annotations

import re
from xml.etree import ElementTree

from mlgates.core import CheckResult, RunRecord, Status

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_PROPERTIES = ("status", "value", "bound", "anchor", "anchor_value", "method", "threshold")


def render_junit(record: RunRecord) -> str:
    """The JUnit XML text of ``record``."""
    suites = ElementTree.Element(
        "testsuites",
        name="mlgates",
        tests=str(len(record.checks)),
        failures=str(sum(1 for c in record.checks if c.blocking)),
        time=_seconds(sum(g.duration_s for g in record.gates)),
    )
    for gate in record.gates:
        suite = ElementTree.SubElement(
            suites,
            "testsuite",
            name=_clean(f"mlgates.{gate.stage}"),
            tests=str(len(gate.checks)),
            failures=str(sum(1 for c in gate.checks if c.blocking)),
            errors="0",
            skipped=str(sum(1 for c in gate.checks if c.status is Status.SKIPPED)),
            time=_seconds(gate.duration_s),
            timestamp=record.started_at,
        )
        for check in gate.checks:
            _testcase(suite, check)
    ElementTree.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(
        suites, encoding="unicode"
    )


def _testcase(suite: ElementTree.Element, check: CheckResult) -> None:
    case = ElementTree.SubElement(
        suite,
        "testcase",
        classname=_clean(f"mlgates.{check.stage}"),
        name=_clean(check.id.partition("::")[2]),
        time="0",
    )
    properties = ElementTree.SubElement(case, "properties")
    for name, value in junit_properties(check):
        ElementTree.SubElement(properties, "property", name=name, value=_clean(str(value)))
    if check.blocking:
        failure = ElementTree.SubElement(
            case, "failure", message=_clean(check.message), type=check.status.value
        )
        failure.text = _clean(check.explained())
    elif check.status is Status.SKIPPED:
        ElementTree.SubElement(case, "skipped", message=_clean(check.message))
    elif check.status is not Status.PASS:
        out = ElementTree.SubElement(case, "system-out")
        out.text = _clean(f"{check.status.value} (does not block): {check.message}")


def junit_properties(check: CheckResult) -> list[tuple[str, object]]:
    """``(name, value)`` of the properties a check's testcase carries, ``mlgates.status``
    first; the same for ``mlgates run --junitxml`` and ``pytest --mlgates --junitxml``."""
    found: list[tuple[str, object]] = []
    for name in _PROPERTIES:
        value = getattr(check, name)
        if value is not None:
            found.append((f"mlgates.{name}", getattr(value, "value", value)))
    if check.interval is not None:
        found.append(("mlgates.interval", list(check.interval)))
    return found


def _clean(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold (shown as ``\\xNN``)."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _seconds(value: float) -> str:
    return f"{value:.3f}"
