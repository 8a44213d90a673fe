"""`gradscope cliff`: the loss surface of Pascanu, Mikolov & Bengio's (2013) single-unit RNN,
its cliff, and gradient-descent paths across it with and without gradient clipping."""

from __future__ import annotations

import math
from typing import Annotated

import typer

from ..errors import UsageError
from . import options as o

CLIFF = "Cliff"
DESCENT = "Gradient descent"

MAX_GRID = 1000        # points per axis: 10⁶ grid points, ~40 MB of report.json
MAX_ITERS = 100_000    # per path; every iteration is a row of series.csv
MAX_STEPS = 100_000

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
    from ..train.setup import parse_clips as parse

    return [None if math.isinf(theta) else theta for theta in parse(value)]


def _check(*, grid: int, steps: int, lr: float, iters: int, target: float, x0: float,
           activation: str) -> None:
    from ..dynamics.cliff import ACTIVATIONS

    if not 2 <= grid <= MAX_GRID:
        raise UsageError(f"--grid {grid} is out of range",
                         f"use 2 to {MAX_GRID} points per axis (200 draws a smooth map)")
    if not 1 <= steps <= MAX_STEPS:
        raise UsageError(f"--steps {steps} is out of range", f"use 1 to {MAX_STEPS} (the paper: 50)")
    if not (math.isfinite(lr) and lr > 0):
        raise UsageError(f"--lr {lr} must be a positive number", "e.g. --lr 0.002")
    if not 1 <= iters <= MAX_ITERS:
        raise UsageError(f"--iters {iters} is out of range", f"use 1 to {MAX_ITERS}")
    for name, v in (("--target", target), ("--x0", x0)):
        if not math.isfinite(v):
            raise UsageError(f"{name} {v} must be finite", f"pass a number, e.g. {name} 0.5")
    if activation not in ACTIVATIONS:
        raise UsageError(f"unknown --activation {activation!r}",
                         f"use one of: {', '.join(ACTIVATIONS)}")


def _check_memory(grid: int, steps: int) -> None:
    from ..dynamics.cliff import surface_bytes
    from ..dynamics.propagate import available_memory_bytes

    need, avail = surface_bytes(grid * grid, steps), available_memory_bytes()
    if need > avail // 2:
        raise UsageError(f"--grid {grid} × --steps {steps} need about {need / 2**30:.1f} GiB, "
                         f"more than half the {avail / 2**30:.1f} GiB free",
                         "lower --grid or --steps")


def label(theta: float | None) -> str:
    return "clip none" if theta is None else f"clip {theta:g}"


def _table(report: dict):
    """One row per clip setting."""
    from rich.table import Table

    from ..report.text import fmt

    table = Table(title="gradient descent across the cliff", title_justify="left",
                  caption="max jump: largest ‖Δ(w, b)‖ of one step; clipped: share of steps "
                  "rescaled to length lr·θ", caption_justify="left")
    for col in ("run", "final log10 L", "max jump", "clipped", "first non-finite iter"):
        table.add_column(col, justify="left" if col == "run" else "right")
    for run in report["runs"]:
        s = run["summary"]
        table.add_row(run["label"], fmt(s["final_log10_loss"], ".3g"), fmt(s["max_jump"], ".3g"),
                      fmt(s["clip_fraction"], ".0%"), fmt(s["first_nonfinite_iter"], "d"))
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
    from ._common import check_format, emit, progress_bar

    check_format(format)
    w_lo, w_hi = parse_range("--w-range", w_range, W_RANGE)
    b_lo, b_hi = parse_range("--b-range", b_range, B_RANGE)
    w0, b0 = parse_pair("--start", start, START)
    clips = parse_clips(clip)
    _check(grid=grid, steps=steps, lr=lr, iters=iters, target=target, x0=x0,
           activation=activation)
    _check_memory(grid, steps)

    from ..io.schema import build_report, device_info
    from ..io.store import prepare_out_dir, write_report_folder
    from ..runtime import configure_jax
    from ._common import figure_worker

    out_dir = prepare_out_dir(out, "cliff", force=force)
    with figure_worker(no_plots) as worker:  # before JAX: matplotlib imports meanwhile
        configure_jax()
        import jax
        import numpy as np

        from ..dynamics import cliff as dyn

        ws, bs = np.linspace(w_lo, w_hi, grid), np.linspace(b_lo, b_hi, grid)
        common = {"w_range": [w_lo, w_hi], "b_range": [b_lo, b_hi], "grid": grid, "steps": steps,
                  "target": target, "x0": x0, "activation": activation, "start": [w0, b0],
                  "lr": lr, "iters": iters, "loss": "½(x_T − target)²", "optimizer": "sgd",
                  "dtype": "float64"}
        with jax.enable_x64(True):
            with progress_bar("loss surface", format != "json" and grid * grid > dyn.CHUNK) as upd:
                log_l, log_g = dyn.surface(ws, bs, x0=x0, target=target, steps=steps,
                                           activation=activation, progress=upd)
            paths = dyn.descend((w0, b0), clips=clips, lr=lr, iters=iters, x0=x0, target=target,
                                steps=steps, activation=activation)
        runs = [run_record(p, theta, common) for p, theta in zip(paths, clips, strict=True)]
        surface = {"w": dyn.round_sig(ws), "b": dyn.round_sig(bs), "log10_loss": dyn.round_sig(log_l),
                   "log10_grad_norm": dyn.round_sig(log_g),
                   "cliff_line": dyn.cliff_line(w_lo, w_hi, x0=x0, activation=activation)}
        line = surface["cliff_line"]
        profile = None
        if line is not None:
            prof = dyn.cliff_profile(line, x0=x0, target=target, steps=steps, activation=activation)
            profile = {k: dyn.round_sig(v) for k, v in prof.items()}
        report = build_report("cliff", runs, surface=surface, profile=profile, device=device_info())
        write_report_folder(out_dir, report, plots=not no_plots, plot_worker=worker)
    emit(report, format, str(out_dir), table=_table)


def run_record(path: dict, theta: float | None, common: dict) -> dict:
    """One run of the report: the path's series (iterations 0..iters; `clipped` and
    `step_norm` per step, so one shorter) and its summary."""
    import numpy as np

    from ..dynamics.cliff import log10_np, round_sig

    steps_ok = np.isfinite(path["step_norm"])
    jumps = np.where(steps_ok, path["step_norm"], -np.inf)
    k_max = int(np.argmax(jumps)) if steps_ok.any() else None
    log_l = log10_np(path["loss"])
    finite = np.flatnonzero(np.isfinite(log_l))
    clipped = path["clipped"][np.isfinite(path["clipped"])]
    summary = {
        # the last finite value: a path that went non-finite stopped before the end
        "final_log10_loss": float(log_l[finite[-1]]) if finite.size else None,
        "min_log10_loss": float(np.nanmin(log_l)) if finite.size else None,
        "first_nonfinite_iter": path["first_nonfinite_iter"],
        "max_jump": float(path["step_norm"][k_max]) if k_max is not None else None,
        "max_jump_iter": k_max,
        "max_jump_from": None if k_max is None else [float(path["w"][k_max]),
                                                     float(path["b"][k_max])],
        "max_jump_to": None if k_max is None else [float(path["w"][k_max + 1]),
                                                   float(path["b"][k_max + 1])],
        "clip_fraction": float(clipped.mean()) if clipped.size else None,
        "final_w": float(path["w"][finite[-1]]) if finite.size else None,
        "final_b": float(path["b"][finite[-1]]) if finite.size else None,
    }
    series = {"w": round_sig(path["w"]), "b": round_sig(path["b"]), "log10_loss": round_sig(log_l),
              "log10_grad_norm": round_sig(log10_np(path["grad_norm"])),
              "clipped": [None if not np.isfinite(c) else int(c) for c in path["clipped"]],
              "step_norm": round_sig(path["step_norm"])}
    return {"label": label(theta), "config": {**common, "clip": theta}, "series": series,
            "summary": summary}
