"""The operational gate's dependency audit: real pip-audit runs against a real local
advisory server.

The advisories are the example project's (``examples/credit/advisories.json``: the
real PYSEC-2024-110 of scikit-learn, PYSEC-2023-74 of requests, PYSEC-2021-66 of
jinja2), served by :class:`~mlgates.stages.operational.advisories.AdvisoryServer`
on 127.0.0.1; pip-audit runs in its own process on pinned requirements files
(``--no-deps``, so nothing is downloaded). The server's matching is tested on its
own, over HTTP too.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from mlgates import Status, load_config, run_gates
from mlgates.authoring import FAMILY, CheckSpec, PlannedCheck, parse_check
from mlgates.cli import main
from mlgates.context import Context
from mlgates.core import InputError
from mlgates.processes import ProcessFailed, run_bounded, run_json
from mlgates.stages.operational.advisories import AdvisoryServer, load_advisories
from mlgates.stages.operational.audit import (
    Finding,
    Package,
    check_requirements,
    judge_findings,
    measure_audit,
)
from mlgates.stages.operational.settings import AUDITED, AuditSettings, IgnoredAdvisory
from operational_models import SPAWNER, gone, wait_for_file

pytest.importorskip("pip_audit")

EXAMPLE_ADVISORIES = Path(__file__).resolve().parents[1] / "examples" / "credit" / "advisories.json"
TODAY = dt.date(2026, 6, 15)


def _record(advisory_id: str, name: str, **affected: Any) -> dict[str, Any]:
    return {
        "id": advisory_id,
        "affected": [{"package": {"ecosystem": "PyPI", "name": name}, **affected}],
    }


def _events(*events: tuple[str, str]) -> dict[str, Any]:
    return {"ranges": [{"type": "ECOSYSTEM", "events": [{k: v} for k, v in events]}]}


def _write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _project(root: Path, requirements: str, audit: str, *, advisories: bool = True) -> Path:
    """``requirements.txt``, the example's advisories and a config whose only table is
    ``[operational.audit]`` (``audit`` is its body)."""
    (root / "requirements.txt").write_text(textwrap.dedent(requirements), encoding="utf-8")
    if advisories:
        shutil.copy(EXAMPLE_ADVISORIES, root / "advisories.json")
    path = root / "mlgates.toml"
    path.write_text(
        '[mlgates]\nhistory = "history.jsonl"\n\n[operational.audit]\n'
        'requirements = "requirements.txt"\n' + textwrap.dedent(audit),
        encoding="utf-8",
    )
    return path


def _cli(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["run", "--config", str(path), "--no-history"])
    out, err = capsys.readouterr()
    return code, out, err


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- the advisory server ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("events", "affected", "clean"),
    [
        ((("introduced", "0"), ("fixed", "1.5.0")), ["0.1", "1.4.2", "1.5.0rc1"], ["1.5.0", "2"]),
        ((("introduced", "2.3.0"), ("fixed", "2.31.0")), ["2.3.0", "2.30.0"], ["2.2.1", "2.31"]),
        ((("introduced", "1.0"), ("last_affected", "1.2")), ["1.0", "1.2", "1.2.0"], ["1.2.1"]),
        (
            (("introduced", "1.0"), ("fixed", "1.1"), ("introduced", "2.0"), ("fixed", "2.2")),
            ["1.0.5", "2.1"],
            ["0.9", "1.1", "1.9", "2.2"],
        ),
        ((("fixed", "3.0"), ("introduced", "2.0")), ["2.5"], ["1.0", "3.0"]),  # any order
        ((("introduced", "0"), ("limit", "4.0")), ["3.9"], ["4.0"]),
    ],
)
def test_ranges_follow_the_osv_events(
    tmp_path: Path, events: tuple[tuple[str, str], ...], affected: list[str], clean: list[str]
) -> None:
    path = _write(tmp_path / "a.json", [_record("T-1", "pkg", **_events(*events))])
    advisories = load_advisories(path)
    for version in affected:
        assert [a.id for a in advisories.query("pkg", version)] == ["T-1"], version
    for version in clean:
        assert advisories.query("pkg", version) == [], version


def test_listed_versions_names_and_ecosystems(tmp_path: Path) -> None:
    records = [
        _record("T-1", "Foo_Bar.baz", versions=["1.0", "1.2.0"]),
        _record("T-2", "foo-bar-baz", **_events(("introduced", "0"), ("last_affected", "0.9"))),
        {"id": "T-3", "affected": [{"package": {"ecosystem": "npm", "name": "foo-bar-baz"}}]},
        {
            "id": "T-4",
            "affected": [
                {
                    "package": {"ecosystem": "PyPI", "name": "foo-bar-baz"},
                    "ranges": [{"type": "GIT", "events": [{"introduced": "abc123"}]}],
                }
            ],
        },
    ]
    advisories = load_advisories(_write(tmp_path / "a.json", {"vulns": records}))
    assert [a.id for a in advisories.query("FOO.bar_baz", "1.2")] == ["T-1"]  # 1.2 == 1.2.0
    assert [a.id for a in advisories.query("foo-bar-baz", "0.9")] == ["T-2"]
    assert advisories.query("foo-bar-baz", "1.1") == []
    assert advisories.query("foo-bar-baz", "not a version") == []


def test_a_directory_holds_one_record_per_file(tmp_path: Path) -> None:
    folder = tmp_path / "osv"
    (folder / "nested").mkdir(parents=True)
    for record in json.loads(EXAMPLE_ADVISORIES.read_text(encoding="utf-8")):
        _write(folder / f"{record['id']}.json", record)
    _write(folder / "nested" / "T-9.json", _record("T-9", "pkg", versions=["1"]))
    (folder / "README.md").write_text("not an advisory", encoding="utf-8")
    advisories = load_advisories(folder, name="osv")
    assert len(advisories) == 4
    assert [a.id for a in advisories.query("scikit-learn", "1.4.2")] == ["PYSEC-2024-110"]
    _write(folder / "nested" / "T-10.json", _record("T-10", "pkg", versions=["soon"]))
    with pytest.raises(InputError, match=r"^osv/nested/T-10\.json: the record \(T-10\): "):
        load_advisories(folder, name="osv")


def _post(url: str, body: bytes) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_server_answers_queries_like_osv(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE_ADVISORIES, tmp_path / "advisories.json")
    record = _record("T-1", "Jinja2", versions=["2.11.2"])
    records = [*json.loads(EXAMPLE_ADVISORIES.read_text(encoding="utf-8")), record]
    advisories = load_advisories(_write(tmp_path / "all.json", records))

    def query(name: str, version: str, ecosystem: str = "PyPI") -> bytes:
        body = {"package": {"name": name, "ecosystem": ecosystem}, "version": version}
        return json.dumps(body).encode()

    with AdvisoryServer(advisories) as server:
        url = server.query_url
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1/query")
        status, answer = _post(url, query("Scikit_Learn", "1.4.2"))
        assert status == 200 and [v["id"] for v in answer["vulns"]] == ["PYSEC-2024-110"]
        assert answer["vulns"][0]["aliases"] == ["CVE-2024-5206", "GHSA-jw8x-6495-233v"]
        status, answer = _post(url, query("jinja2", "2.11.2"))
        assert sorted(v["id"] for v in answer["vulns"]) == ["PYSEC-2021-66", "T-1"]
        served = next(v for v in answer["vulns"] if v["id"] == "T-1")
        assert served["affected"][0]["package"]["name"] == "jinja2"  # canonical for pip-audit
        assert _post(url, query("scikit-learn", "1.5.0")) == (200, {})
        assert _post(url, query("left-pad", "1.0", "npm"))[0] == 400
        assert _post(url, b"not json")[0] == 400
        assert _post(url.replace("/v1/query", "/v1/querybatch"), query("x", "1"))[0] == 404
        port = int(url.split(":")[2].split("/")[0])
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass  # the port is released


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        ("{not json", ["not JSON", "line 1"]),
        ("42", ["expected an OSV record"]),
        ('[{"id": "T-1", "affected": []}]', ["record 0 (T-1)", "'affected' is required"]),
        ('[{"affected": [{"package": {"ecosystem": "PyPI", "name": "x"}}]}]', ["record 0", "'id'"]),
        (
            json.dumps(
                [_record("T-0", "x"), _record("T-1", "x", **_events(("introduced", "x.y")))]
            ),
            ["record 1 (T-1)", "affected[0]: ranges[0]: events[0].introduced", "'x.y'"],
        ),
        (
            json.dumps([_record("T-1", "x", **_events(("introduced", "0"), ("fixd", "2")))]),
            ["record 0 (T-1)", "events[1]", "introduced, fixed, last_affected, limit"],
        ),
        (
            json.dumps(_record("T-1", "x", **_events(("fixed", "2")))),
            ["the record (T-1)", "no 'introduced' event"],
        ),
        (
            json.dumps(_record("T-1", "x", versions=["1.0", "latest"])),
            ["versions: 'latest' is not a PEP 440 version"],
        ),
        (json.dumps([_record("T-1", "x"), _record("T-1", "y")]), ["T-1 is given twice"]),
        (json.dumps({"id": "T-1", "aliases": "CVE-1", "affected": []}), ["'aliases' must be"]),
    ],
)
def test_a_bad_advisory_file_names_the_file_record_and_problem(
    tmp_path: Path, content: str, fragments: list[str]
) -> None:
    path = tmp_path / "advisories.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_advisories(path, name="advisories.json")
    message = str(caught.value)
    assert message.startswith("advisories.json: "), message
    for fragment in fragments:
        assert fragment in message, message


def test_missing_and_empty_advisory_sources(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no \*\.json advisory files"):
        load_advisories(tmp_path)
    with pytest.raises(InputError, match="not found"):
        load_advisories(tmp_path / "missing.json")
    for empty in ([], {"vulns": []}):
        path = _write(tmp_path / "empty.json", empty)
        with pytest.raises(InputError, match=r"^empty\.json: it holds no advisory records, so"):
            load_advisories(path, name="empty.json")
    (tmp_path / "osv").mkdir()
    _write(tmp_path / "osv" / "none.json", [])
    with pytest.raises(InputError, match=r"^osv: its \*\.json files hold no advisory records"):
        load_advisories(tmp_path / "osv", name="osv")


# --- ignores, without pip-audit --------------------------------------------------------


def test_an_ignore_holds_through_its_expiry_date() -> None:
    finding = Finding("PYSEC-2024-110", ("CVE-2024-5206", "GHSA-jw8x-6495-233v"), ("1.5.0",))
    package = Package("scikit-learn", "1.4.2", (finding,))
    ignore = IgnoredAdvisory("ghsa-JW8X-6495-233v", "no TfidfVectorizer", TODAY, "k.ignore[0]")
    (held,) = judge_findings(package, [ignore], TODAY)
    assert not held.counted
    assert held.describe().endswith("ignored until 2026-06-15: no TfidfVectorizer")
    (lapsed,) = judge_findings(package, [ignore], TODAY + dt.timedelta(days=1))
    assert lapsed.counted
    assert lapsed.describe() == (
        "PYSEC-2024-110 (CVE-2024-5206, GHSA-jw8x-6495-233v; fixed in 1.5.0): the ignore at "
        "k.ignore[0] expired on 2026-06-15 (no TfidfVectorizer); review it"
    )
    assert Finding("T-1").describe() == "T-1 (no fix yet)"


# --- pip-audit, for real ----------------------------------------------------------------


def test_findings_ignores_and_skipped_packages(tmp_path: Path) -> None:
    path = _project(
        tmp_path,
        """\
        scikit-learn==1.4.2
        numpy==1.26.4
        Jinja2==2.11.2
        requests==2.30.0
        mypkg @ https://example.com/mypkg-1.0.tar.gz
        """,
        """\
        advisories = "advisories.json"
        checks = [
          "vulnerabilities == 0", "vulnerabilities[NumPy] == 0", "vulnerabilities[pandas] == 0"
        ]
        ignore = [
          { id = "CVE-2020-28493", reason = "urlize is never used", expires = 2026-06-15 },
          { id = "GHSA-j8r2-6x86-q33q", reason = "no proxies", expires = 2026-06-14 },
          { id = "PYSEC-2000-1", reason = "long gone", expires = 2026-01-01 },
          { id = "PYSEC-2001-1", reason = "still pending", expires = 2027-01-31 },
        ]
        """,
    )
    config = load_config(path)
    now = dt.datetime(2026, 6, 15, 23, 0, tzinfo=dt.timezone.utc)
    record = run_gates(config, Context(config.root, now=now))
    checks = {c.id: c for c in record.checks}
    assert record.blocked

    sklearn = checks["operational::vulnerabilities[scikit-learn]"]
    assert sklearn.status is Status.FAIL and sklearn.value == 1
    assert sklearn.family == "operational::vulnerabilities[*]"
    assert (
        "scikit-learn 1.4.2: PYSEC-2024-110 (CVE-2024-5206, GHSA-jw8x-6495-233v; fixed in 1.5.0)"
        in sklearn.message
    )
    assert sklearn.details["advisories"][0]["fix_versions"] == ["1.5.0"]

    jinja = checks["operational::vulnerabilities[jinja2]"]
    assert jinja.status is Status.PASS and jinja.value == 0
    assert "PYSEC-2021-66" in jinja.message
    assert "ignored until 2026-06-15: urlize is never used" in jinja.message

    requests = checks["operational::vulnerabilities[requests]"]
    assert requests.status is Status.FAIL and requests.value == 1
    assert (
        "the ignore at operational.audit.ignore[1] expired on 2026-06-14 (no proxies); review it"
        in requests.message
    )

    skipped = checks["operational::vulnerabilities[mypkg]"]
    assert skipped.status is Status.INCONCLUSIVE
    assert "mypkg: not audited: URL requirements cannot be pinned" in skipped.message

    numpy = checks["operational::vulnerabilities[NumPy]"]
    assert numpy.status is Status.PASS and numpy.value == 0
    assert "numpy 1.26.4: no known vulnerabilities" in numpy.message
    assert "operational::vulnerabilities[numpy]" not in checks  # not a member twice

    pandas = checks["operational::vulnerabilities[pandas]"]
    assert pandas.status is Status.INCONCLUSIVE
    assert "pandas is not among the 5 packages audited from requirements.txt" in pandas.message

    family = checks["operational::vulnerabilities[*]"]
    assert family.status is Status.FAIL
    assert set(family.details["members"]) == {"scikit-learn", "jinja2", "requests", "mypkg"}
    assert (
        "vulnerabilities[*] = 2 fails == 0; audited 4 packages from requirements.txt against "
        "advisories.json (3 advisories): 2 vulnerable, 1 ignored, 1 not audited" in family.message
    )
    assert "ignore at operational.audit.ignore[2] (PYSEC-2000-1) expired on 2026-01-01" in (
        family.message
    )
    assert "remove it" in family.message and "PYSEC-2001-1" not in family.message
    assert set(record.files) == {"mlgates.toml", "requirements.txt", "advisories.json"}


def _export(folder: Path) -> Path:
    """The example's advisories as osv.dev exports them: one record per file."""
    folder.mkdir()
    for record in json.loads(EXAMPLE_ADVISORIES.read_text(encoding="utf-8")):
        _write(folder / f"{record['id']}.json", record)
    return folder


def _inline_config(root: Path, advisories: str) -> Path:
    """An audit-only config with the inline table of the docs; clean pins but jinja2, whose
    advisory is ignored."""
    (root / "requirements.txt").write_text(
        "scikit-learn==1.5.0\nrequests==2.32.3\njinja2==2.11.2\n", encoding="utf-8"
    )
    path = root / "mlgates.toml"
    path.write_text(
        "[operational]\n"
        f'audit = {{ requirements = "requirements.txt", advisories = "{advisories}", '
        'checks = ["vulnerabilities == 0"], ignore = [{ id = "PYSEC-2021-66", '
        'reason = "urlize is never used", expires = 2999-12-31 }] }\n',
        encoding="utf-8",
    )
    return path


def test_clean_pins_pass_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(EXAMPLE_ADVISORIES, tmp_path / "advisories.json")
    code, out, err = _cli(_inline_config(tmp_path, "advisories.json"), capsys)
    assert code == 0, out + err
    assert out.startswith("PASSED: 2 pass (2 checks)"), out


def test_measure_audit_reads_a_directory_of_advisories(tmp_path: Path) -> None:
    """``measure_audit`` itself, with ``today`` given: the ignore holds on its last day."""
    (tmp_path / "requirements.txt").write_text("jinja2==2.11.2\n", encoding="utf-8")
    ignore = IgnoredAdvisory("PYSEC-2021-66", "urlize is never used", TODAY, "k.ignore[0]")
    spec = CheckSpec(parse_check("vulnerabilities == 0", "operational", AUDITED))
    settings = AuditSettings(
        checks=(spec,),
        requirements=tmp_path / "requirements.txt",
        advisories=_export(tmp_path / "osv"),
        ignore=(ignore,),
    )
    family = replace(PlannedCheck.from_spec("operational", spec), selector=FAMILY)
    context = Context(tmp_path)
    measured = measure_audit(settings, [family], context, today=TODAY)
    member = measured["operational::vulnerabilities[jinja2]"]
    assert member.check == family.member("jinja2") and member.value == 0
    assert measured[family.id].value == 0
    assert "against osv (3 advisories): 0 vulnerable, 1 ignored" in measured[family.id].message
    later = measure_audit(settings, [family], context, today=TODAY + dt.timedelta(days=1))
    assert later["operational::vulnerabilities[jinja2]"].value == 1


def test_a_directory_of_advisories_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _export(tmp_path / "osv")
    code, out, err = _cli(_inline_config(tmp_path, "osv"), capsys)
    assert code == 0, out + err


def test_a_vulnerable_pin_blocks_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _project(
        tmp_path,
        "scikit-learn==1.4.2\n",
        'advisories = "advisories.json"\nchecks = ["vulnerabilities == 0"]\n',
    )
    code, out, err = _cli(path, capsys)
    assert code == 1, out + err
    assert "FAIL     operational::vulnerabilities[scikit-learn]" in out
    assert "PYSEC-2024-110" in out and "fixed in 1.5.0" in out
    assert "BLOCKED" in out


def test_an_unreachable_advisory_service_is_inconclusive_and_blocks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1/query"
    path = _project(
        tmp_path,
        "numpy==1.26.4\n",
        f'advisory_url = "{url}"\n'
        'checks = ["vulnerabilities == 0", "vulnerabilities[numpy] == 0"]\n',
        advisories=False,
    )
    config = load_config(path)
    checks = {c.id: c for c in run_gates(config).checks}
    for check in checks.values():
        assert check.status is Status.INCONCLUSIVE, check
        assert f"pip-audit could not audit requirements.txt against {url}: " in check.message
        assert "Connection refused" in check.message or "ConnectionError" in check.message
    code, out, err = _cli(path, capsys)
    assert code == 1, out + err
    assert "BLOCKED: 2 inconclusive" in out and "Traceback" not in err


def test_an_advisory_service_answering_an_error_is_inconclusive(tmp_path: Path) -> None:
    with AdvisoryServer(load_advisories(EXAMPLE_ADVISORIES)) as server:
        url = server.query_url.replace("/v1/query", "/v1/elsewhere")  # answers 404
        path = _project(
            tmp_path,
            "numpy==1.26.4\n",
            f'advisory_url = "{url}"\nchecks = ["vulnerabilities == 0"]\n',
            advisories=False,
        )
        (check,) = run_gates(load_config(path)).checks
    assert check.status is Status.INCONCLUSIVE
    assert f"pip-audit could not audit requirements.txt against {url}: " in check.message
    assert "404" in check.message


def test_an_advisory_service_that_never_answers_is_inconclusive(tmp_path: Path) -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1/query"
        path = _project(
            tmp_path,
            "numpy==1.26.4\n",
            f'advisory_url = "{url}"\ntimeout = "3s"\nchecks = ["vulnerabilities == 0"]\n',
            advisories=False,
        )
        started = time.monotonic()
        (check,) = run_gates(load_config(path)).checks
    assert time.monotonic() - started < 30
    assert check.status is Status.INCONCLUSIVE
    assert f"pip-audit could not audit requirements.txt against {url}: " in check.message


_HASH = "--hash=sha256:" + "0" * 64
_AUDITED = 'advisories = "advisories.json"\nchecks = ["vulnerabilities == 0"]\n'


def test_requirements_are_read_as_pip_reads_them(tmp_path: Path) -> None:
    """Comments, options, continuations, hashes, markers and URLs: all pass the pin check,
    and pip-audit audits the same requirements."""
    path = _project(
        tmp_path,
        f"""\
        # as pip-compile --generate-hashes writes them
        --index-url https://pypi.org/simple

        scikit-learn==1.4.2 \\
            {_HASH} \\
            {_HASH}
            # via -r requirements.in
        Jinja2[i18n] == 2.11.2 ; python_version >= "3" {_HASH}
        legacy>=1.0 ; python_version < "3" {_HASH}
        mypkg @ https://example.com/mypkg-1.0.tar.gz {_HASH}
        """,
        _AUDITED,
    )
    checks = {c.id: c for c in run_gates(load_config(path)).checks}
    family = checks["operational::vulnerabilities[*]"]
    assert set(family.details["members"]) == {"scikit-learn", "jinja2", "mypkg"}, family.message
    assert "audited 2 packages from requirements.txt" in family.message
    assert checks["operational::vulnerabilities[scikit-learn]"].status is Status.FAIL


@pytest.mark.parametrize(
    ("requirements", "fragments"),
    [
        (
            "numpy>=1.26\n",
            [
                "requirements.txt, line 1: numpy>=1.26 is not pinned to one version",
                "pin it as numpy==<version>",
                "or set operational.audit.resolve = true",
            ],
        ),
        (
            "# pins\nnumpy==1.26.4\n\nscikit-learn==1.*  # any 1.x\n",
            ["line 4: scikit-learn==1.* is not pinned", "scikit-learn==<version>"],
        ),
        ("numpy==1.26.4\nrequests\n", ["line 2: requests is not pinned"]),
        (
            "numpy==1.26.4\nrequests =\n",
            ["line 2: 'requests =' is not a requirement (", "write it as name==version"],
        ),
        (
            f"numpy==1.26.4 \\\n    {_HASH}\njinja2==2.11.2\n",
            ["line 3: jinja2==2.11.2 has no --hash", "pip-compile --generate-hashes"],
        ),
        (
            "numpy==1.26.4\nNumPy==1.26.3\n",
            ["lines 1 and 2: NumPy is pinned twice, to 1.26.4 and to 1.26.3"],
        ),
    ],
)
def test_requirements_pip_audit_cannot_audit_are_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], requirements: str, fragments: list[str]
) -> None:
    """Exit 2 before pip-audit runs, and nothing recorded."""
    path = _project(tmp_path, requirements, _AUDITED)
    code = main(["run", "--config", str(path)])
    out, err = capsys.readouterr()
    assert code == 2, out + err
    assert "mlgates: error: operational.audit.requirements: requirements.txt, line" in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err
    assert not (tmp_path / "history.jsonl").exists()


def test_resolve_accepts_unpinned_requirements_but_not_bad_lines() -> None:
    check_requirements("numpy>=1.26\nrequests\n", "r.txt", resolve=True)
    with pytest.raises(InputError, match=r"^r\.txt, line 2: 'requests ==' is not a requirement"):
        check_requirements("numpy>=1.26\nrequests ==\n", "r.txt", resolve=True)


def test_the_environment_is_audited_without_requirements(tmp_path: Path) -> None:
    """No requirements: pip-audit lists the packages of the Python running the gates."""
    installed = importlib.metadata.version("pip-audit")
    _write(tmp_path / "advisories.json", [_record("T-1", "pip_audit", versions=[installed])])
    path = tmp_path / "mlgates.toml"
    path.write_text(
        '[operational.audit]\nadvisories = "advisories.json"\n'
        'checks = ["vulnerabilities == 0", "vulnerabilities[pip-audit] == 0", '
        '"vulnerabilities[numpy] == 0"]\n',
        encoding="utf-8",
    )
    checks = {c.id: c for c in run_gates(load_config(path)).checks}
    flagged = checks["operational::vulnerabilities[pip-audit]"]
    assert flagged.status is Status.FAIL
    assert flagged.message.endswith(f"pip-audit {installed}: T-1 (no fix yet)")
    assert checks["operational::vulnerabilities[numpy]"].status is Status.PASS
    family = checks["operational::vulnerabilities[*]"]
    assert family.status is Status.PASS
    assert f"from the Python environment {sys.executable} against advisories.json" in (
        family.message
    )
    assert "checked on their own: numpy, pip-audit" in family.message


# --- errors: exit 2, nothing judged ----------------------------------------------------


@pytest.mark.parametrize(
    ("audit", "fragments"),
    [
        (
            'ignore = [{ id = "PYSEC-2024-110", expires = 2027-01-31 }]',
            ["operational.audit.ignore[0].reason", "is required"],
        ),
        (
            'ignore = [{ id = "PYSEC-2024-110", reason = "r", expires = "2027-02-30" }]',
            ["operational.audit.ignore[0].expires", "is not a date"],
        ),
        (
            'ignore = [{ id = "PYSEC-2024-110", reason = "r" }]',
            ["operational.audit.ignore[0].expires", "is required"],
        ),
        (
            'advisory_url = "http://127.0.0.1:1/v1/query"',
            ["operational.audit.advisories", "not both"],
        ),
    ],
)
def test_config_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], audit: str, fragments: list[str]
) -> None:
    path = _project(
        tmp_path,
        "numpy==1.26.4\n",
        f'advisories = "advisories.json"\nchecks = ["vulnerabilities == 0"]\n{audit}\n',
    )
    code, out, err = _cli(path, capsys)
    assert code == 2, out + err
    assert err.startswith("mlgates: error: ") and "mlgates.toml: " in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


@pytest.mark.parametrize(
    ("records", "fragments"),
    [
        (
            [_record("T-1", "x", versions=["soon"])],
            ["advisories.json: record 0 (T-1)", "'soon' is not a PEP 440 version"],
        ),
        ([], ["advisories.json: it holds no advisory records"]),
    ],
)
def test_a_broken_or_empty_advisory_file_is_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], records: Any, fragments: list[str]
) -> None:
    path = _project(
        tmp_path,
        "numpy==1.26.4\n",
        'advisories = "advisories.json"\nchecks = ["vulnerabilities == 0"]\n',
    )
    _write(tmp_path / "advisories.json", records)
    code = main(["run", "--config", str(path)])
    out, err = capsys.readouterr()
    assert code == 2, out + err
    assert "mlgates: error: operational.audit.advisories: " in err, err
    for fragment in fragments:
        assert fragment in err, err
    assert not (tmp_path / "history.jsonl").exists()


def test_without_pip_audit_the_error_names_the_extra(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _project(
        tmp_path,
        "numpy==1.26.4\n",
        'advisories = "advisories.json"\nchecks = ["vulnerabilities == 0"]\n',
    )
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "pip_audit" else real(name, *a),
    )
    code, out, err = _cli(path, capsys)
    assert code == 2, out + err
    assert "operational.audit: the dependency audit needs the operational extra" in err
    assert "pip install 'mlgates[operational]'" in err


# --- the bounded run: pip-audit and the timing worker ----------------------------------


def _spawner(tmp_path: Path) -> tuple[list[str], Path]:
    pids = tmp_path / "pids"
    return [sys.executable, "-c", SPAWNER, str(pids)], pids


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="process groups are POSIX")
@pytest.mark.parametrize("runner", ["run_bounded", "run_json"])
def test_a_run_past_its_timeout_is_stopped_with_its_children(tmp_path: Path, runner: str) -> None:
    argv, pids = _spawner(tmp_path)
    started = time.monotonic()
    if runner == "run_bounded":
        with pytest.raises(subprocess.TimeoutExpired):
            run_bounded(argv, timeout=1.5, cwd=tmp_path, env=os.environ)
    else:
        with pytest.raises(ProcessFailed, match=r"^the probe: no answer within 1\.5 s; the pro"):
            run_json(argv, timeout=1.5, what="the probe")
    assert time.monotonic() - started < 10
    assert gone([int(pid) for pid in wait_for_file(pids).split()])


_INTERRUPTED = """\
import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
from mlgates.processes import run_bounded, run_json
argv = [sys.executable, "-c", sys.argv[1], sys.argv[2]]
if sys.argv[3] == "run_bounded":
    run_bounded(argv, timeout=120)
else:
    run_json(argv, timeout=120, what="the probe")
"""


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="process groups are POSIX")
@pytest.mark.parametrize("runner", ["run_bounded", "run_json"])
def test_an_interrupt_stops_the_run_with_its_children(tmp_path: Path, runner: str) -> None:
    """Ctrl-C reaches the gates' process only (the run has a session of its own): the
    runner kills the run and all it started before the interrupt goes on."""
    argv, pids = _spawner(tmp_path)
    with subprocess.Popen(
        [sys.executable, "-c", _INTERRUPTED, argv[2], argv[3], runner],
        stderr=subprocess.PIPE,
        text=True,
    ) as gates:
        running = [int(pid) for pid in wait_for_file(pids).split()]
        gates.send_signal(signal.SIGINT)
        _, errors = gates.communicate(timeout=30)
    assert gates.returncode != 0 and "KeyboardInterrupt" in errors, errors
    assert gone(running)


def test_a_nested_requirements_file_is_refused_without_resolve(tmp_path: Path) -> None:
    """pip-audit does not follow ``-r`` when the pins are audited as they are: a
    vulnerable pin in the included file would pass unseen."""
    (tmp_path / "base.txt").write_text("scikit-learn==1.4.2\n")
    text = "-r base.txt\nnumpy==2.0.0\n"
    with pytest.raises(InputError, match=r"line 1: '-r base.txt' includes another file"):
        check_requirements(text, "requirements.txt", resolve=False)
    check_requirements(text, "requirements.txt", resolve=True)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("-rbase.txt\nnumpy==2.0.0\n", "line 1: '-rbase.txt' includes another file"),
        (f"-e .\nnumpy==2.0.0 {_HASH}\n", "line 1: '-e .' is editable"),
    ],
)
def test_files_pip_audit_would_misread_are_input_errors(text: str, fragment: str) -> None:
    with pytest.raises(InputError, match=re.escape(fragment)):
        check_requirements(text, "requirements.txt", resolve=False)


def test_constraints_add_no_package_and_are_accepted() -> None:
    check_requirements("-c constraints.txt\nnumpy==2.0.0\n", "requirements.txt", resolve=False)


_TERMINATED = """\
import sys
from mlgates.cli import _interrupt_on_termination
from mlgates.processes import run_bounded
_interrupt_on_termination()
run_bounded([sys.executable, "-c", sys.argv[1], sys.argv[2]], timeout=120)
"""


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="process groups are POSIX")
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_the_command_stops_its_children_when_terminated(tmp_path: Path, signame: str) -> None:
    """A cancelled CI job sends SIGTERM: the mlgates command ends as on Ctrl-C, and
    the helper it started goes with it."""
    argv, pids = _spawner(tmp_path)
    with subprocess.Popen(
        [sys.executable, "-c", _TERMINATED, argv[2], argv[3]], stderr=subprocess.PIPE, text=True
    ) as gates:
        running = [int(pid) for pid in wait_for_file(pids).split()]
        gates.send_signal(getattr(signal, signame))
        _, errors = gates.communicate(timeout=30)
    assert gates.returncode != 0 and f"KeyboardInterrupt: {signame}" in errors, errors
    assert gone(running)
