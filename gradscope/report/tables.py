"""The terminal summary: one rich table row per run."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..labels import short_labels
from .story import GRID_NOTE, QUESTION, answer
from .text import largest_lyapunov, ranked, summary_row

REGIME_STYLE = {"vanishing": "blue", "exploding": "red", "stable": "green"}

# Short headers (the Markdown report spells them out) so that 80 columns are enough.
_HEADERS = ("run", "regime", "gain", "×/step", "horizon", "‖P_0‖", "ρ", "σ_max", "NaN at")
_CAPTION = ("gain: log10 factor per step back (slope of log10 ‖∂s_T/∂s_t‖); horizon: steps back "
            "until the norm < 1e-3; ‖P_0‖ = ‖∂s_T/∂s_0‖ in log10; ρ, σ_max: spectral radius and "
            "largest singular value of W_hh")


def summary_table(report: dict) -> Table:
    """The summary as a rich Table, runs ranked by memory horizon (longest first): regime
    coloured (vanishing blue, exploding red, stable green), labels without the parts every
    run shares, the non-finite column only where a run has one."""
    table = Table(title=f"gradscope {report.get('command', '')}", title_justify="left",
                  box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 0),
                  caption=_CAPTION, caption_justify="left")
    runs = ranked(report.get("runs") or [])
    rows = [summary_row(r) for r in runs]
    for row, label in zip(rows, short_labels(runs), strict=True):
        row[0] = label
    nonfinite = any(r[_HEADERS.index("NaN at")] != "–" for r in rows)
    drop = {"×/step"} | (set() if nonfinite else {"NaN at"})  # ×/step: 10^gain, said by gain
    keep = [i for i, header in enumerate(_HEADERS) if header not in drop]
    for i in keep:
        if i == 0:
            table.add_column(_HEADERS[i], min_width=12, overflow="fold")
        else:
            table.add_column(_HEADERS[i], justify="left" if i == 1 else "right", no_wrap=True)
    lyapunov = any(r.get("lyapunov") for r in runs)
    if lyapunov:  # the largest exponent, natural log per step
        table.add_column("λ_1", justify="right", no_wrap=True)
    for row, run in zip(rows, runs, strict=True):
        row[1] = Text(row[1], style=REGIME_STYLE.get(row[1], ""))
        table.add_row(*(row[i] for i in keep), *([largest_lyapunov(run)] if lyapunov else []))
    table.caption = _CAPTION + ("; NaN at: first non-finite step" if nonfinite else "") + (
        "; λ_1: largest Lyapunov exponent (ln per step)" if lyapunov else "")
    return table


def answer_lines(report: dict) -> list:
    """The report's answer (`story.answer`) as rich renderables: the question, the horizon
    grid and one bullet per sentence; empty for a report without one."""
    a = answer(report)
    if a is None:
        return []
    out: list = [Text(""), Text(QUESTION, style="bold")]
    if a.grid_rows:
        grid = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 0),
                     caption=GRID_NOTE.rstrip(":"),
                     caption_justify="left")
        for i, col in enumerate(a.grid_header):
            grid.add_column(col, justify="left" if i == 0 else "right")
        for row in a.grid_rows:
            grid.add_row(*row)
        out.append(grid)
    out += [Text(f"• {t}") for t in a.sentences]
    return out


def print_summary(report: dict, console: Console, out_dir: str | None) -> None:
    """Print the summary table, the answer, then where the report was written (if it was)."""
    console.print(summary_table(report))
    for line in answer_lines(report):
        console.print(line)
    if out_dir:
        console.print(f"report: {out_dir}/report.md", highlight=False, soft_wrap=True)
