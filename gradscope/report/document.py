"""The one layout of report.md and report.html: title, notes, summary table, a paragraph per
run, the figures and the configuration. Each kind of report (analyses, train, cliff) fills a
`Layout` with its own table, sentences and captions."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path, PurePosixPath

from .html import CSS, FIGURE_ORDER, html_table
from .markdown import md_table
from .story import GRID_NOTE, QUESTION, Answer, answer
from .text import (
    FIGURE_CAPTIONS,
    concepts,
    config_tables,
    explain,
    meta_line,
    pairs_table,
    summary_parts,
    title,
)


@dataclass(frozen=True)
class Layout:
    title: str
    columns: tuple[str, ...]
    rows: list[list[str]]
    note: str
    explain: Callable[[dict], list[str]]
    captions: dict[str, str]
    order: tuple[str, ...] = ()  # figures first in this order, the others by name
    notes: list[str] = field(default_factory=list)  # in bold, before the summary
    intro: list[str] = field(default_factory=list)  # one paragraph before the summary
    regime_col: int | None = None  # the column whose cells are coloured by regime
    answer: Answer | None = None  # the report's answer, first (with the lead figure)
    lead: str | None = None  # the figure shown right after the answer or summary
    concepts: list[str] = field(default_factory=list)  # what the numbers mean, said once


def _caption(layout: Layout, name: str) -> str:
    return layout.captions.get(name, name.replace("_", " "))


def markdown_document(report: dict, plot_files: list[str], layout: Layout) -> str:
    """report.md; `plot_files` are PNG paths relative to the report folder."""
    runs = report.get("runs") or []
    lines = [f"# {layout.title}", "", meta_line(report), ""]
    lines += [line for t in layout.notes for line in (f"**{t}**", "")]
    if layout.intro:
        lines += [" ".join(layout.intro), ""]
    lead = [p for p in plot_files if PurePosixPath(p).stem == layout.lead]
    rest = [p for p in plot_files if p not in lead]
    if layout.answer is not None:
        lines += [f"## {QUESTION}", "", *(f"- {t}" for t in layout.answer.sentences), ""]
        if layout.answer.grid_rows:
            lines += [GRID_NOTE, "",
                      *md_table(layout.answer.grid_header, layout.answer.grid_rows), ""]
        lines += _md_figures(lead, layout)
    lines += ["## Summary", "", *md_table(layout.columns, layout.rows), "", layout.note, ""]
    if layout.answer is None:
        lines += _md_figures(lead, layout)
    if layout.concepts:
        lines += ["## How to read the numbers", "", " ".join(layout.concepts), ""]
    lines += ["## Runs", ""]
    for run in runs:
        lines += [f"### {run.get('label', '')}", "", " ".join(layout.explain(run)), ""]
    if rest:
        lines += ["## Figures", "", *_md_figures(rest, layout)]
    shared, diff_header, diff_rows = config_tables(runs)
    lines += ["## Configuration", ""]
    if diff_rows:
        lines += ["Options that differ between runs:", "", *md_table(diff_header, diff_rows), ""]
        if shared:
            lines += ["Options shared by every run:", ""]
    if shared:
        lines += [*md_table(*pairs_table(shared)), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _md_figures(paths: list[str], layout: Layout) -> list[str]:
    lines = []
    for path in paths:
        name = PurePosixPath(path).stem
        lines += [f"![{name.replace('_', ' ')}]({path})", "", f"*{_caption(layout, name)}*", ""]
    return lines


def _figures(plots_dir: Path, layout: Layout) -> list[str]:
    """Every PNG of `plots_dir` as an inlined <figure>, in the layout's order."""
    plots_dir = Path(plots_dir)
    if not plots_dir.is_dir():
        return []
    rank = {name: i for i, name in enumerate(layout.order)}
    out = []
    for png in sorted(plots_dir.glob("*.png"), key=lambda p: (rank.get(p.stem, len(rank)), p.stem)):
        data = base64.b64encode(png.read_bytes()).decode("ascii")
        out.append((png.stem, f'<figure><img alt="{escape(png.stem.replace("_", " "))}" '
                    f'src="data:image/png;base64,{data}">'
                    f"<figcaption>{escape(_caption(layout, png.stem))}</figcaption></figure>"))
    return out


def html_document(report: dict, plots_dir: Path, layout: Layout) -> str:
    """report.html, self-contained: the PNGs of `plots_dir` inlined as base64 data URIs."""
    runs = report.get("runs") or []
    head = escape(layout.title)
    figures = _figures(plots_dir, layout)
    lead = [html for name, html in figures if name == layout.lead]
    rest = [html for name, html in figures if name != layout.lead]
    parts = [f"<h1>{head}</h1>", f"<p>{escape(meta_line(report))}</p>"]
    parts += [f"<p><strong>{escape(t)}</strong></p>" for t in layout.notes]
    if layout.intro:
        parts.append(f"<p>{escape(' '.join(layout.intro))}</p>")
    if layout.answer is not None:
        parts += [f"<h2>{escape(QUESTION)}</h2>", '<ul class="answer">',
                  *(f"<li>{escape(t)}</li>" for t in layout.answer.sentences), "</ul>"]
        if layout.answer.grid_rows:
            parts += [f"<p>{escape(GRID_NOTE)}</p>",
                      html_table(layout.answer.grid_header, layout.answer.grid_rows)]
        parts += lead
    parts += ["<h2>Summary</h2>",
              html_table(layout.columns, layout.rows, layout.regime_col, cards=True),
              f'<p class="note">{escape(layout.note)}</p>']
    if layout.answer is None:
        parts += lead
    if layout.concepts:
        parts += ["<h2>How to read the numbers</h2>",
                  f"<p>{escape(' '.join(layout.concepts))}</p>"]
    parts.append("<h2>Runs</h2>")
    for run in runs:
        parts += [f"<h3>{escape(str(run.get('label', '')))}</h3>",
                  f"<p>{escape(' '.join(layout.explain(run)))}</p>"]
    if rest:
        parts += ["<h2>Figures</h2>", *rest]
    shared, diff_header, diff_rows = config_tables(runs)
    parts.append("<h2>Configuration</h2>")
    if diff_rows:
        parts += ["<p>Options that differ between runs:</p>",
                  html_table(diff_header, diff_rows, cards=True)]
        if shared:
            parts.append("<p>Options shared by every run:</p>")
    if shared:
        parts.append(html_table(*pairs_table(shared)))
    return ('<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{head}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            + "\n".join(parts) + "\n</body>\n</html>\n")


def analysis_layout(report: dict) -> Layout:
    """The layout of analyze, compare, spectrum and sweep reports."""
    columns, rows, note, regime_col = summary_parts(report)
    runs = report.get("runs") or []
    spectrum = report.get("command") == "spectrum"
    return Layout(title(report), columns, rows, note, explain, FIGURE_CAPTIONS, FIGURE_ORDER,
                  regime_col=regime_col, answer=answer(report),
                  lead="spectrum" if spectrum else "jacobian_norm",
                  concepts=[] if spectrum else concepts(runs))


def render_markdown(report: dict, plot_files: list[str]) -> str:
    """The Markdown report of an analysis; `plot_files` are PNG paths relative to the report
    folder."""
    return markdown_document(report, plot_files, analysis_layout(report))


def render_html(report: dict, plots_dir: Path) -> str:
    """The HTML report of an analysis, with the PNGs of `plots_dir` inlined."""
    return html_document(report, plots_dir, analysis_layout(report))
