"""The HTML report: one self-contained file that loads nothing from anywhere.

The style sheet, the charts (inline SVG) and a small filtering script are in the
page itself. A Content-Security-Policy ``<meta>`` forbids every network load and
allows exactly that style sheet and that script, by their SHA-256 hashes computed
here, so nothing injected into the page could run or fetch. The page is complete
without JavaScript; the script only adds the filter bar.

What the page shows is worked out in :mod:`mlgates.report.view`; the template
``templates/report.html.j2`` lays it out.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mlgates.core import RunRecord
from mlgates.files import write_text_atomically

if TYPE_CHECKING:
    import jinja2

__all__ = ["content_security_policy", "render_html", "write_html"]

_TEMPLATE = "report.html.j2"
_STYLE = "report.css.j2"
_SCRIPT = "filter.js.j2"


def render_html(record: RunRecord, history: Sequence[RunRecord] = ()) -> str:
    """The report of ``record``; ``history`` holds the earlier runs, oldest first (it
    may hold ``record`` itself, which is then not counted as an earlier run)."""
    from markupsafe import Markup

    from mlgates.report.view import build_view  # the charts and the diff: only when rendering

    environment = _environment()
    style, script = _asset(_STYLE), _asset(_SCRIPT)
    template = environment.get_template(_TEMPLATE)
    return template.render(
        view=build_view(record, history),
        style=Markup(style),
        script=Markup(script),
        csp=content_security_policy(style, script),
    )


def write_html(path: Path, record: RunRecord, history: Sequence[RunRecord] = ()) -> Path:
    """Write the report atomically to ``path`` and return it."""
    html = render_html(record, history)
    write_text_atomically(path, html)
    return path


def content_security_policy(style: str, script: str) -> str:
    """The page's policy: nothing from the network, no plugin, no form target, no base
    URL; the one style sheet and the one script, by hash; images only as ``data:``."""
    return (
        "default-src 'none'; "
        f"style-src '{source_hash(style)}'; "
        f"script-src '{source_hash(script)}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )


def source_hash(text: str) -> str:
    """``sha256-...``: the CSP source expression that allows an inline element whose
    content is exactly ``text``."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


@functools.cache
def _environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("mlgates", "report/templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@functools.cache
def _asset(name: str) -> str:
    """A file of the templates folder as it is (the style sheet, the script)."""
    environment = _environment()
    assert environment.loader is not None
    source, _, _ = environment.loader.get_source(environment, name)
    return source.strip()
