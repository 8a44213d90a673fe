"""report.md: summary table, a paragraph per run, the configuration and the figures."""

from __future__ import annotations

from pathlib import PurePosixPath

from .text import (
    FIGURE_CAPTIONS,
    config_tables,
    explain,
    meta_line,
    pairs_table,
    summary_parts,
    title,
)


def _cell(text) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def md_table(header, rows) -> list[str]:
    """A GitHub-flavoured Markdown table; `|` inside cells is escaped."""
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |",
             "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in r) + " |" for r in rows]
    return lines


def _config_section(runs: list[dict]) -> list[str]:
    shared, diff_header, diff_rows = config_tables(runs)
    lines = ["## Configuration", ""]
    if diff_rows:
        lines += ["Options that differ between runs:", "", *md_table(diff_header, diff_rows), ""]
        if shared:
            lines += ["Options shared by every run:", ""]
    if shared:
        lines += [*md_table(*pairs_table(shared)), ""]
    return lines


def render_markdown(report: dict, plot_files: list[str]) -> str:
    """The Markdown report; `plot_files` are PNG paths relative to the report folder."""
    runs = report.get("runs") or []
    columns, rows, note, _ = summary_parts(report)
    lines = [f"# {title(report)}", "", meta_line(report), "", "## Summary", "",
             *md_table(columns, rows), "", note, ""]
    lines += ["## Runs", ""]
    for run in runs:
        lines += [f"### {run.get('label', '')}", "", " ".join(explain(run)), ""]
    if plot_files:
        lines += ["## Figures", ""]
        for path in plot_files:
            name = PurePosixPath(path).stem
            caption = FIGURE_CAPTIONS.get(name, name.replace("_", " "))
            lines += [f"![{name.replace('_', ' ')}]({path})", "", f"*{caption}*", ""]
    lines += _config_section(runs)
    return "\n".join(lines).rstrip("\n") + "\n"
