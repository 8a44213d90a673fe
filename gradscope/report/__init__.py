"""Rendering: pure functions of a report dict (docs/report-schema.md) to tables, CSV, figures, Markdown
and HTML. No jax here."""

from .document import render_html, render_markdown
from .plots import write_plots
from .series_csv import render_series_csv
from .tables import print_summary, summary_table

__all__ = ["print_summary", "render_html", "render_markdown", "render_series_csv",
           "renderers", "summary_table", "write_plots"]

# Commands whose reports have their own layout (`train` runs carry other series). Each
# names a module of this package defining `render_series_csv(report)`,
# `write_plots(report, plots_dir)`, `render_markdown(report, plot_files)` and
# `render_html(report, plots_dir)` with the signatures of the generic ones.
OWN_LAYOUT = {"train": "train", "cliff": "cliff"}


def renderers(report: dict):
    """`(render_series_csv, write_plots, render_markdown, render_html)` for `report`."""
    name = OWN_LAYOUT.get(report.get("command", ""))
    if name is None:
        return render_series_csv, write_plots, render_markdown, render_html
    import importlib

    mod = importlib.import_module(f"{__name__}.{name}")
    return mod.render_series_csv, mod.write_plots, mod.render_markdown, mod.render_html
