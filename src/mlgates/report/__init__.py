"""Reporters: the self-contained HTML report and the terminal table."""

from __future__ import annotations

from mlgates.report.html import render_html, write_html
from mlgates.report.terminal import render_table

__all__ = ["render_html", "render_table", "write_html"]
