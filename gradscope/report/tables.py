"""The terminal summary: one rich table row per run."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .text import ranked, summary_row

REGIME_STYLE = {"vanishing": "blue", "exploding": "red", "stable": "green"}

# Short headers (the Markdown report spells them out) so that 80 columns are enough.
_HEADERS = ("run", "regime", "gain", "×/step", "horizon", "‖P_0‖", "ρ", "σ_max", "NaN at")
_CAPTION = ("gain: log10 factor per step back (slope of log10 ‖∂s_T/∂s_t‖); horizon: steps back "
            "until the norm < 1e-3; ‖P_0‖ = ‖∂s_T/∂s_0‖ in log10; ρ, σ_max: spectral radius and "
            "largest singular value of W_hh; NaN at: first non-finite step")


def summary_table(report: dict) -> Table:
    """The summary as a rich Table, runs ranked by memory horizon (longest first): regime
    coloured (vanishing blue, exploding red, stable green)."""
    table = Table(title=f"gradscope {report.get('command', '')}", title_justify="left",
                  box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 0),
                  caption=_CAPTION, caption_justify="left")
    for i, col in enumerate(_HEADERS):
        if i == 0:
            table.add_column(col, min_width=12, overflow="fold")
        else:
            table.add_column(col, justify="left" if i == 1 else "right", no_wrap=True)
    for run in ranked(report.get("runs") or []):
        row: list = summary_row(run)
        row[1] = Text(row[1], style=REGIME_STYLE.get(row[1], ""))
        table.add_row(*row)
    return table


def print_summary(report: dict, console: Console, out_dir: str | None) -> None:
    """Print the summary table, then where the report was written (if it was)."""
    console.print(summary_table(report))
    if out_dir:
        console.print(f"report: {out_dir}/report.md", highlight=False, soft_wrap=True)
