"""Reporters: the HTML report, the Markdown summary, JUnit XML and the terminal table."""

from __future__ import annotations

from mlgates.report.html import render_html, write_html
from mlgates.report.junit import render_junit
from mlgates.report.markdown import COMMENT_LIMIT, SUMMARY_LIMIT, render_markdown
from mlgates.report.terminal import render_table

__all__ = [
    "COMMENT_LIMIT",
    "SUMMARY_LIMIT",
    "render_html",
    "render_junit",
    "render_markdown",
    "render_table",
    "write_html",
]
