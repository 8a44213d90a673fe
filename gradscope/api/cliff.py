"""`cliff`: Pascanu, Mikolov & Bengio's (2013) single-unit RNN x_t = w·σ(x_{t−1}) + b — its
loss surface over (w, b), the cliff, and gradient-descent paths across it with and without
clipping — into a `Report`."""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
import numpy as np

from .. import memory
from ..constants import CLIFF_MAX_GRID as MAX_GRID
from ..constants import CLIFF_MAX_ITERS as MAX_ITERS
from ..constants import CLIFF_MAX_STEPS as MAX_STEPS
from ..dynamics import cliff as dyn
from ..dynamics.cliff import ACTIVATIONS, log10_np, round_sig, surface_bytes
from ..errors import UsageError
from ..io.schema import build_report, device_info
from ..result import Report
from .session import Progress, session


def cliff(*, w_range: tuple[float, float] = (0.0, 9.0),
          b_range: tuple[float, float] = (-6.0, 1.0),
          grid: int = 200, steps: int = 50, target: float = 0.7, x0: float = 0.5,
          activation: str = "sigmoid", start: tuple[float, float] = (5.5, -2.0),
          lr: float = 0.002, iters: int = 1500,
          clip: Sequence[float | None] = (None, 1.0, 5.0),
          progress: Progress | None = None) -> Report:
    """The exploding-gradient cliff (Pascanu, Mikolov & Bengio 2013, section 3).

    **Arguments:**

    - `w_range`, `b_range`: the (LOW, HIGH) axes of the map; `grid`: points per axis.
    - `steps`, `target`, `x0`, `activation` (`sigmoid` or `tanh`): x_t = w·σ(x_{t−1}) + b
      from x_0 for T steps, loss L = ½(x_T − target)².
    - `start`, `lr`, `iters`: plain gradient descent from `start`, one path per threshold θ
      of `clip` (None: no clipping).
    - `progress`: optional callable `(points_done, points_total)` for the surface.

    **Returns:** a `Report` with one run per clip threshold and the surface.
    """
    (w_lo, w_hi), (b_lo, b_hi), (w0, b0) = w_range, b_range, start
    _check(grid=grid, steps=steps, lr=lr, iters=iters, target=target, x0=x0,
           activation=activation)
    for name, (lo, hi) in (("w_range", w_range), ("b_range", b_range)):
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise UsageError(f"{name} {lo:g},{hi:g}: LOW must be below HIGH, both finite",
                             f"pass LOW,HIGH with LOW < HIGH, e.g. --{name.replace('_', '-')}")
    clips = list(clip)
    _check_memory(grid, steps)


    with session():
        ws, bs = np.linspace(w_lo, w_hi, grid), np.linspace(b_lo, b_hi, grid)
        common = {"w_range": [w_lo, w_hi], "b_range": [b_lo, b_hi], "grid": grid, "steps": steps,
                  "target": target, "x0": x0, "activation": activation, "start": [w0, b0],
                  "lr": lr, "iters": iters, "loss": "½(x_T − target)²", "optimizer": "sgd",
                  "dtype": "float64"}
        with jax.enable_x64(True):
            log_l, log_g = dyn.surface(ws, bs, x0=x0, target=target, steps=steps,
                                       activation=activation, progress=progress)
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
    return Report(report)


def _check(*, grid: int, steps: int, lr: float, iters: int, target: float, x0: float,
           activation: str) -> None:

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

    need, avail = surface_bytes(grid * grid, steps), memory.available_bytes()
    if need > avail // 2:
        raise UsageError(f"--grid {grid} × --steps {steps} need about {need / 2**30:.1f} GiB, "
                         f"more than half the {avail / 2**30:.1f} GiB free",
                         "lower --grid or --steps")


def label(theta: float | None) -> str:
    return "clip none" if theta is None else f"clip {theta:g}"


def run_record(path: dict, theta: float | None, common: dict) -> dict:
    """One run of the report: the path's series (iterations 0..iters; `clipped` and
    `step_norm` per step, so one shorter) and its summary."""

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
