"""report.md: summary table, a paragraph per run, the configuration and the figures."""

from __future__ import annotations


def _cell(text) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def md_table(header, rows) -> list[str]:
    """A GitHub-flavoured Markdown table; `|` inside cells is escaped."""
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |",
             "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in r) + " |" for r in rows]
    return lines


def render_markdown(report: dict, plot_files: list[str]) -> str:
    """The Markdown report; `plot_files` are PNG paths relative to the report folder."""
    from .document import analysis_layout, markdown_document

    return markdown_document(report, plot_files, analysis_layout(report))
