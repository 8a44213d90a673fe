"""Rendering: pure functions of a report dict (SPEC.md) to tables, CSV, figures, Markdown
and HTML. No jax here."""

from .html import render_html
from .markdown import render_markdown
from .plots import write_plots
from .series_csv import render_series_csv
from .tables import print_summary, summary_table

__all__ = ["print_summary", "render_html", "render_markdown", "render_series_csv",
           "summary_table", "write_plots"]
