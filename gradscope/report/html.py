"""report.html: the Markdown report's content in one self-contained file (figures inlined,
inline CSS, no external URLs)."""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from .text import (
    FIGURE_CAPTIONS,
    config_tables,
    explain,
    meta_line,
    pairs_table,
    summary_parts,
    title,
)

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:62rem;margin:0 auto;
padding:1rem;line-height:1.5;color:#1a1a1a;background:#fff}
h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:1px solid #ddd}h3{font-size:1.05rem}
img{max-width:100%;height:auto;display:block;margin:1rem auto 0}
figure{margin:1.5rem 0}figcaption{font-size:.9rem;color:#555;text-align:center}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;margin:1rem 0}
table{border-collapse:collapse;font-size:.88rem}
td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:right;white-space:nowrap}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
.note{font-size:.9rem;color:#444}
.vanishing{color:#1f5fbf;font-weight:600}.exploding{color:#c0392b;font-weight:600}
.stable{color:#1e8449;font-weight:600}
"""

# Figures in the order the Markdown report shows them; any others follow by name.
FIGURE_ORDER = ("jacobian_norm", "local_norm", "spectrum", "saturation", "gain_vs_scale",
                "depth_norm", "heatmaps", "dlfs2")


def html_table(header, rows, regime_col: int | None = None) -> str:
    """A table in a horizontally scrolling box; every cell escaped."""
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = []
    for r in rows:
        cells = []
        for i, c in enumerate(r):
            cls = f' class="{escape(str(c))}"' if i == regime_col else ""
            cells.append(f"<td{cls}>{escape(str(c))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _pngs(plots_dir: Path) -> list[Path]:
    plots_dir = Path(plots_dir)
    if not plots_dir.is_dir():
        return []
    rank = {name: i for i, name in enumerate(FIGURE_ORDER)}
    return sorted(plots_dir.glob("*.png"), key=lambda p: (rank.get(p.stem, len(rank)), p.stem))


def _figures(plots_dir: Path) -> list[str]:
    out = []
    for png in _pngs(plots_dir):
        data = base64.b64encode(png.read_bytes()).decode("ascii")
        caption = FIGURE_CAPTIONS.get(png.stem, png.stem.replace("_", " "))
        out.append(f'<figure><img alt="{escape(png.stem.replace("_", " "))}" '
                   f'src="data:image/png;base64,{data}">'
                   f"<figcaption>{escape(caption)}</figcaption></figure>")
    return ["<h2>Figures</h2>", *out] if out else []


def _config(runs: list[dict]) -> list[str]:
    shared, diff_header, diff_rows = config_tables(runs)
    out = ["<h2>Configuration</h2>"]
    if diff_rows:
        out += ["<p>Options that differ between runs:</p>", html_table(diff_header, diff_rows)]
        if shared:
            out.append("<p>Options shared by every run:</p>")
    if shared:
        out.append(html_table(*pairs_table(shared)))
    return out


def render_html(report: dict, plots_dir: Path) -> str:
    """The HTML report, with the PNGs of `plots_dir` inlined as base64 data URIs."""
    runs = report.get("runs") or []
    head = escape(title(report))
    columns, rows, note, regime_col = summary_parts(report)
    parts = [f"<h1>{head}</h1>", f"<p>{escape(meta_line(report))}</p>", "<h2>Summary</h2>",
             html_table(columns, rows, regime_col=regime_col),
             f'<p class="note">{escape(note)}</p>', "<h2>Runs</h2>"]
    for run in runs:
        parts += [f"<h3>{escape(str(run.get('label', '')))}</h3>",
                  f"<p>{escape(' '.join(explain(run)))}</p>"]
    parts += _figures(plots_dir) + _config(runs)
    return ('<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{head}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            + "\n".join(parts) + "\n</body>\n</html>\n")
