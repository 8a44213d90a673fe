"""The pieces of report.html: its inline CSS and escaped tables (the page itself is laid out
in `document.py`: self-contained, figures inlined, no external URLs)."""

from __future__ import annotations

from html import escape

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:62rem;margin:0 auto;
padding:1rem;line-height:1.5;color:#1a1a1a;background:#fff}
h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:1px solid #ddd}h3{font-size:1.05rem}
img{max-width:100%;height:auto;display:block;margin:1rem auto 0}
figure{margin:1.5rem 0}figcaption{font-size:.9rem;color:#555;text-align:center}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;margin:1rem 0}
table{border-collapse:collapse;font-size:.88rem}
td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:right;white-space:nowrap}
th{background:#f4f4f4;white-space:normal;vertical-align:bottom}
td:first-child,th:first-child{text-align:left;white-space:normal;min-width:7rem}
.answer li{margin:.35rem 0}
.note{font-size:.9rem;color:#444}
.vanishing{color:#1f5fbf;font-weight:600}.exploding{color:#c0392b;font-weight:600}
.stable{color:#1e8449;font-weight:600}
@media (max-width:40rem){
table.cards thead{display:none}
table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:100%;
box-sizing:border-box}
table.cards tr{border:1px solid #ccc;margin:0 0 .6rem}
table.cards td{border:none;border-top:1px solid #eee;display:flex;justify-content:space-between;
gap:1rem;white-space:normal}
table.cards td::before{content:attr(data-label);color:#555;text-align:left}
table.cards td:first-child{font-weight:600;background:#f4f4f4;border-top:none}
table.cards td:first-child::before{content:none}
}
"""

# Figures in the order the Markdown report shows them; any others follow by name.
FIGURE_ORDER = ("jacobian_norm", "local_norm", "spectrum", "saturation", "gain_vs_scale",
                "depth_norm", "heatmaps", "dlfs2", "lyapunov")


def html_table(header, rows, regime_col: int | None = None, cards: bool = False) -> str:
    """A table in a horizontally scrolling box; every cell escaped. With `cards`, a narrow
    screen (a phone) shows each row as a card of "column: value" lines under the row's first
    cell (the run's name), so nothing scrolls sideways and no name is cut."""
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = []
    for r in rows:
        cells = []
        for i, c in enumerate(r):
            cls = f' class="{escape(str(c))}"' if i == regime_col else ""
            label = f' data-label="{escape(str(header[i]))}"' if cards and i else ""
            cells.append(f"<td{cls}{label}>{escape(str(c))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    kind = ' class="cards"' if cards else ""
    return (f'<div class="scroll"><table{kind}><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')
