"""`gradscope cliff`: the loss surface of Pascanu, Mikolov & Bengio's (2013) single-unit RNN,
its cliff, and gradient-descent paths across it with and without gradient clipping."""

from __future__ import annotations

import math
from typing import Annotated

import typer

from ..constants import CLIFF_MAX_GRID as MAX_GRID
from ..errors import UsageError
from . import options as o

CLIFF = "Cliff"
DESCENT = "Gradient descent"

# Defaults chosen by computation (see the report text): the cliff of the sigmoid map with
# x0 = 0.5 is the line b = x0 − w·σ(x0) for w > 1/σ'(x0) ≈ 4.25; from this start the
# unclipped path slides down to it, zigzags along it and is thrown off the map.
W_RANGE = "0,9"
B_RANGE = "-6,1"
START = "5.5,-2"

WRange = Annotated[str, typer.Option(
    "--w-range", help="w axis of the map: LOW,HIGH", rich_help_panel=CLIFF)]
BRange = Annotated[str, typer.Option(
    "--b-range", help="b axis of the map: LOW,HIGH",
    rich_help_panel=CLIFF)]
Grid = Annotated[int, typer.Option(
    "--grid", help=f"map points per axis (2 to {MAX_GRID})", rich_help_panel=CLIFF)]
CliffSteps = Annotated[int, typer.Option(
    "--steps", "-T", help="steps T of x_t = w·σ(x_{t−1}) + b", rich_help_panel=CLIFF)]
Target = Annotated[float, typer.Option(
    "--target", help="target of x_T in L = ½(x_T − target)²", rich_help_panel=CLIFF)]
X0 = Annotated[float, typer.Option("--x0", help="initial state x_0", rich_help_panel=CLIFF)]
CliffActivation = Annotated[str, typer.Option(
    "--activation", help="σ: sigmoid (the paper's) or tanh", rich_help_panel=CLIFF)]
Start = Annotated[str, typer.Option(
    "--start", help="where every gradient-descent path starts: W,B", rich_help_panel=DESCENT)]
Lr = Annotated[float, typer.Option("--lr", help="learning rate of plain SGD",
                                   rich_help_panel=DESCENT)]
Iters = Annotated[int, typer.Option("--iters", help="gradient-descent iterations per path",
                                    rich_help_panel=DESCENT)]
ClipList = Annotated[str, typer.Option(
    "--clip", help="comma list of thresholds θ (g ← θ/‖g‖·g when ‖g‖ > θ), 'none' for no "
    "clipping: one path each", rich_help_panel=DESCENT)]


def parse_pair(option: str, value: str, example: str) -> tuple[float, float]:
    """`"a,b"` -> (a, b), both finite numbers."""
    hint = f"pass two numbers separated by a comma, e.g. {option}={example}"
    parts = [v.strip() for v in str(value).split(",")]
    if len(parts) != 2:
        raise UsageError(f"{option} {value!r} is not two numbers", hint)
    try:
        a, b = float(parts[0]), float(parts[1])
    except ValueError:
        raise UsageError(f"{option} {value!r} is not two numbers", hint) from None
    if not (math.isfinite(a) and math.isfinite(b)):
        raise UsageError(f"{option} {value!r} must be finite", hint)
    return a, b


def parse_range(option: str, value: str, example: str) -> tuple[float, float]:
    lo, hi = parse_pair(option, value, example)
    if not lo < hi:
        raise UsageError(f"{option} {value!r}: LOW must be below HIGH",
                         f"pass LOW,HIGH with LOW < HIGH, e.g. {option}={example}")
    return lo, hi


def parse_clips(value: str) -> list[float | None]:
    """`none,1,5` -> [None, 1.0, 5.0] (the rules of `train --clip`)."""
    from ..training.setup import parse_clips as parse

    return [None if math.isinf(theta) else theta for theta in parse(value)]


def _table(report: dict):
    """One row per clip setting."""
    from rich.table import Table

    from ..report.text import fmt, share

    table = Table(title="gradient descent across the cliff", title_justify="left",
                  caption="max jump: largest ‖Δ(w, b)‖ of one step; clipped: share of steps "
                  "rescaled to length lr·θ", caption_justify="left")
    for col in ("run", "final log10 L", "max jump", "clipped", "first non-finite iter"):
        table.add_column(col, justify="left" if col == "run" else "right")
    for run in report["runs"]:
        s = run["summary"]
        table.add_row(run["label"], fmt(s["final_log10_loss"], ".3g"), fmt(s["max_jump"], ".3g"),
                      share(s["clip_fraction"]), fmt(s["first_nonfinite_iter"], "d"))
    return table


def cliff(
    *,
    w_range: WRange = W_RANGE,
    b_range: BRange = B_RANGE,
    grid: Grid = 200,
    steps: CliffSteps = 50,
    target: Target = 0.7,
    x0: X0 = 0.5,
    activation: CliffActivation = "sigmoid",
    start: Start = START,
    lr: Lr = 0.002,
    iters: Iters = 1500,
    clip: ClipList = "none,1,5",
    out: o.Out = None,
    format: o.Format = "table",
    no_plots: o.NoPlots = False,
    force: o.Force = False,
) -> None:
    """The exploding-gradient cliff (Pascanu, Mikolov & Bengio 2013, section 3).

    x_t = w·σ(x_{t−1}) + b from x_0 for T steps; loss L = ½(x_T − target)², mapped over (w, b).

    Gradient descent from --start per --clip θ: unclipped, a step onto the cliff flies far away.
    """
    from ..api.cliff import cliff as run
    from ._common import begin, emit, progress_bar

    begin(format, out, force)
    w_lo, w_hi = parse_range("--w-range", w_range, W_RANGE)
    b_lo, b_hi = parse_range("--b-range", b_range, B_RANGE)
    w0, b0 = parse_pair("--start", start, START)
    clips = parse_clips(clip)
    with progress_bar("loss surface", format != "json") as bar:
        report = run(w_range=(w_lo, w_hi), b_range=(b_lo, b_hi), grid=grid, steps=steps,
                     target=target, x0=x0, activation=activation, start=(w0, b0), lr=lr,
                     iters=iters, clip=clips, progress=bar)
    out_dir = report.write(out, figures=not no_plots, force=force)
    emit(report.to_dict(), format, str(out_dir), table=_table)
