"""Rendering of `cliff` reports: series.csv per gradient-descent iteration, the loss surface
with the paths, the gradient-norm map, the per-iteration figure, and the Markdown and HTML
reports. Pure functions of the report dict (`gradscope cliff`).

Every path line carries a gid `"<run index>:<series>"` and every map a gid `"surface:<key>"`
so that tests can find them.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from .figures import as_array, log_ticks, new_figure, run_colors, write_figures
from .text import fmt, share

SUMMARY_COLUMNS = ("run", "final log10 L", "min log10 L", "max jump ‖Δ(w, b)‖", "at iteration",
                   "clipped", "first non-finite iter", "end (w, b)")

SUMMARY_NOTE = ("Max jump: the largest distance one gradient-descent step moved (w, b), and the "
                "iteration it happened at; with clipping no step is longer than lr·θ. Clipped: "
                "share of the steps whose gradient norm was above θ and was rescaled to θ. "
                "Final log10 L: at the last iteration (or the last finite one, for a path that "
                "went non-finite and stopped there).")

FIGURE_CAPTIONS = {
    "cliff_surface": "log10 L over (w, b), with the gradient-descent paths from the same start "
                     "(★), one colour per clip setting; the dashed line is the cliff, where x_0 "
                     "is the unstable fixed point. An arrow marks a step thrown off the map.",
    "cliff_grad_norm": "log10 ‖∇L‖ over (w, b): the ridge along the cliff is far taller than the "
                       "grid shows, because it is thinner than one grid cell.",
    "cliff_profile": "A cut across the cliff at one w, finer than any grid: L jumps between the "
                     "two attractors' values and ‖∇L‖ spikes by orders of magnitude in a band "
                     "around the line.",
    "cliff_loss": "Per iteration: log10 L along each path, and the length of each step (log "
                  "scale); dashed lines are the clipped step lengths lr·θ.",
    "cliff_3d": "The same surface in 3-D: a plateau, a valley and the wall between them.",
}
FIGURE_ORDER = tuple(FIGURE_CAPTIONS)
SERIES = ("w", "b", "log10_loss", "log10_grad_norm", "clipped", "step_norm")


# --------------------------------------------------------------------------- words


def _cfg(report: dict) -> dict:
    runs = report.get("runs") or []
    return (runs[0].get("config") or {}) if runs else {}


def _g(x, spec: str = ".3g") -> str:
    return fmt(x, spec).replace("-", "−")


def _point(p) -> str:
    return "–" if not p or p[0] is None or p[1] is None else f"({_g(p[0])}, {_g(p[1])})"


def intro(report: dict) -> list[str]:
    """What was computed, and where the cliff is."""
    c = _cfg(report)
    act = c.get("activation", "sigmoid")
    text = [f"The single-unit RNN of Pascanu, Mikolov & Bengio (2013, section 3): "
            f"x_t = w·σ(x_{{t−1}}) + b with σ = {act}, x_0 = {_g(c.get('x0'))} and "
            f"T = {c.get('steps')} steps, and the loss L = ½(x_T − {_g(c.get('target'))})². "
            f"Computed in float64 on a {c.get('grid')} × {c.get('grid')} grid of (w, b)."]
    line = (report.get("surface") or {}).get("cliff_line")
    if line:
        text.append(
            f"For w > 1/σ'(x_0) = {_g(line['w_min'])} the map has two attractors, and x_0 lies "
            f"on the boundary between their basins exactly when b = x_0 − w·σ(x_0) (the dashed "
            f"line). Crossing that line sends x_T from one attractor to the other: L jumps, "
            f"and in a band around the line ‖∇L‖ grows like (w·σ'(x_0))^T — the cliff.")
    else:
        text.append("The cliff line b = x_0 − w·σ(x_0), w > 1/σ'(x_0), lies outside this "
                    "range of w.")
    grad = as_array(np.ravel((report.get("surface") or {}).get("log10_grad_norm") or []))
    if np.isfinite(grad).any():
        text.append(f"The largest gradient norm on the grid is 10^{_g(np.nanmax(grad))}; the "
                    f"cliff itself is steeper, as it is thinner than a grid cell (see the cut "
                    f"across it).")
    return text


def explain(run: dict) -> list[str]:
    """Sentences about one path."""
    c, s = run.get("config") or {}, run.get("summary") or {}
    lr, theta = c.get("lr"), c.get("clip")
    if theta is None:
        out = [f"Plain gradient descent, lr = {_g(lr)}, no clipping."]
    else:
        out = [f"Gradient descent, lr = {_g(lr)}, each step clipped to length at most "
               f"lr·θ = {_g(lr * theta)} (θ = {_g(theta)}); {share(s.get('clip_fraction'))} "
               f"of the steps were clipped."]
    capped = theta is not None and lr and s.get("max_jump") is not None
    if capped and s["max_jump"] <= lr * theta * (1 + 1e-6):
        out.append(f"No step was longer than that cap: the longest moved {_g(s['max_jump'])}.")
    elif s.get("max_jump") is not None:
        ratio = s["max_jump"] / lr if lr else None
        out.append(f"Its largest step, at iteration {s.get('max_jump_iter')}, went from "
                   f"{_point(s.get('max_jump_from'))} to {_point(s.get('max_jump_to'))}: a "
                   f"distance of {_g(s['max_jump'])} ({_g(ratio)} × lr).")
    if s.get("first_nonfinite_iter") is not None:
        out.append(f"At iteration {s['first_nonfinite_iter']} the loss, its gradient or (w, b) "
                   f"became non-finite; the path stops there.")
    out.append(f"It ends at (w, b) = {_point([s.get('final_w'), s.get('final_b')])} with "
               f"log10 L = {_g(s.get('final_log10_loss'))} (lowest on the way: "
               f"{_g(s.get('min_log10_loss'))}).")
    return out


def summary_row(run: dict) -> list[str]:
    s = run.get("summary") or {}
    return [str(run.get("label", "")), _g(s.get("final_log10_loss")),
            _g(s.get("min_log10_loss")), _g(s.get("max_jump")), fmt(s.get("max_jump_iter"), "d"),
            share(s.get("clip_fraction")), fmt(s.get("first_nonfinite_iter"), "d"),
            _point([s.get("final_w"), s.get("final_b")])]


# --------------------------------------------------------------------------- CSV


def render_series_csv(report: dict) -> str:
    """One row per (run, iteration 0..iters); the per-step columns `clipped` and `step_norm`
    are empty on the last row (no step is taken from the end point)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["run", "clip", "iter", *SERIES])
    for run in report.get("runs") or []:
        s, theta = run.get("series") or {}, (run.get("config") or {}).get("clip")
        n = len(s.get("w") or [])
        for k in range(n):
            row = []
            for key in SERIES:
                vals = s.get(key) or []
                v = vals[k] if k < len(vals) else None
                row.append("" if v is None else repr(v) if isinstance(v, float) else str(v))
            w.writerow([run.get("label", ""), "none" if theta is None else theta, k, *row])
    return buf.getvalue()


# --------------------------------------------------------------------------- figures


def _extent(surface: dict) -> tuple[float, float, float, float]:
    w, b = surface["w"], surface["b"]
    return float(w[0]), float(w[-1]), float(b[0]), float(b[-1])


def clip_segment(p, q, box) -> tuple | None:
    """The part of the segment p→q inside `box = (x0, x1, y0, y1)` (Liang–Barsky), as
    (start, end, whether the end was cut), or None when it misses the box."""
    (px, py), (qx, qy) = p, q
    dx, dy = qx - px, qy - py
    t0, t1 = 0.0, 1.0
    for pk, qk in ((-dx, px - box[0]), (dx, box[1] - px), (-dy, py - box[2]), (dy, box[3] - py)):
        if pk == 0:
            if qk < 0:
                return None
        elif pk < 0:
            t0 = max(t0, qk / pk)
        else:
            t1 = min(t1, qk / pk)
    if t0 > t1:
        return None
    return (px + t0 * dx, py + t0 * dy), (px + t1 * dx, py + t1 * dy), t1 < 1.0


def path_in_box(w, b, box) -> tuple[np.ndarray, np.ndarray, list]:
    """The path as a polyline inside `box`, NaN where it leaves the box (so coordinates stay
    small however far a step jumps); also the points where it left, `[(k, (x, y))]`."""
    xs: list[float] = []
    ys: list[float] = []
    exits = []
    last = None
    for k in range(len(w) - 1):
        p, q = (w[k], b[k]), (w[k + 1], b[k + 1])
        if not all(math.isfinite(v) for v in (*p, *q)):
            last = None
            continue
        seg = clip_segment(p, q, box)
        if seg is None:
            last = None
            continue
        a, e, cut = seg
        if last is None or a != last:
            if xs:
                xs.append(np.nan)
                ys.append(np.nan)
            xs.append(a[0])
            ys.append(a[1])
        xs.append(e[0])
        ys.append(e[1])
        last = None if cut else e
        if cut:
            exits.append((k, e))
    return np.array(xs), np.array(ys), exits


def _inward(x: float, y: float, box) -> tuple[float, float]:
    """Offset in points from an exit point on the edge of `box` towards the inside."""
    fx = (x - box[0]) / (box[1] - box[0])
    fy = (y - box[2]) / (box[3] - box[2])
    dx = 60 if fx < 0.2 else -60 if fx > 0.8 else 0
    dy = 28 if fy < 0.2 else -28 if fy > 0.8 else 0
    return (dx, dy) if (dx, dy) != (0, 0) else (0, -28)


def _color_limits(z: np.ndarray) -> tuple[float, float]:
    """Colour range of a log10 map: the floor (log10 of ~0) would wash out everything else."""
    finite = z[np.isfinite(z)]
    if not finite.size:
        return 0.0, 1.0
    hi = float(finite.max())
    lo = max(float(finite.min()), hi - 5.0)
    return (lo, hi) if lo < hi else (hi - 1.0, hi)


def _cliff_line(ax, surface: dict) -> list:
    from matplotlib.lines import Line2D

    line = surface.get("cliff_line")
    if not line:
        return []
    ax.plot(line["w"], line["b"], color="white", ls="--", lw=1.2, alpha=0.9, gid="cliff_line")
    return [Line2D([], [], color="0.3", ls="--", lw=1.2, label="cliff: b = x₀ − w·σ(x₀)")]


def _map(ax, fig, surface: dict, key: str, label: str):
    z = np.array([[np.nan if v is None else v for v in row] for row in surface[key]], float)
    lo, hi = _color_limits(z)
    im = ax.imshow(z, origin="lower", extent=_extent(surface), aspect="auto", cmap="viridis",
                   vmin=lo, vmax=hi, interpolation="nearest", gid=f"surface:{key}")
    bar = fig.colorbar(im, ax=ax, shrink=0.9)
    bar.set_label(label + (" (clipped below)" if lo > np.nanmin(z) else ""))
    ax.set(xlabel="w", ylabel="b")
    return im


def fig_surface(report: dict):
    surface = report.get("surface") or {}
    if not surface.get("log10_loss"):
        return None
    from matplotlib.lines import Line2D

    runs = report.get("runs") or []
    fig, ax = new_figure(7.6, 6.0)
    _map(ax, fig, surface, "log10_loss", "log10 L")
    handles = _cliff_line(ax, surface)
    box = _extent(surface)
    colors = run_colors(max(len(runs), 1))
    for i, run in enumerate(runs):
        s = run.get("series") or {}
        w, b = as_array(s.get("w") or []), as_array(s.get("b") or [])
        xs, ys, exits = path_in_box(w, b, box)
        c = colors[i]
        # earlier runs drawn wider, so paths that share a stretch stay visible side by side
        lw = 1.3 + 1.7 * (len(runs) - 1 - i) / max(len(runs) - 1, 1)
        ax.plot(xs, ys, color=c, lw=lw, gid=f"{i}:path")
        ok = np.flatnonzero(np.isfinite(w) & np.isfinite(b))
        if ok.size and box[0] <= w[ok[-1]] <= box[1] and box[2] <= b[ok[-1]] <= box[3]:
            ax.plot(w[ok[-1]], b[ok[-1]], "o", color=c, ms=6, mec="black", mew=0.6,
                    gid=f"{i}:end")
        for k, (x, y) in exits[:2]:  # the first ones: later exits repeat the story
            ax.plot(x, y, marker="o", color=c, ms=7, mec="black", mew=0.6, gid=f"{i}:exit")
            ax.annotate(f"iter {k} → {_point([w[k + 1], b[k + 1]])}", (x, y),
                        xytext=_inward(x, y, box), textcoords="offset points",
                        ha="center", va="center", fontsize=8,
                        bbox={"boxstyle": "round", "fc": "white", "ec": c, "alpha": 0.9},
                        arrowprops={"arrowstyle": "->", "color": "black", "lw": 0.8},
                        gid=f"{i}:exit_label")
        handles.append(Line2D([], [], color=c, lw=2, label=str(run.get("label", ""))))
    start = _cfg(report).get("start")
    if start:
        ax.plot(*start, marker="*", color="white", mec="black", ms=14, ls="", gid="start")
        handles.append(Line2D([], [], marker="*", color="white", mec="black", ms=12, ls="",
                              label=f"start {_point(start)}"))
    ax.set_xlim(box[0], box[1])
    ax.set_ylim(box[2], box[3])
    ax.legend(handles=handles, loc="lower left", fontsize=8, framealpha=0.9)
    ax.set_title("Loss surface and gradient-descent paths", fontsize=11)
    return fig


def fig_grad_norm(report: dict):
    surface = report.get("surface") or {}
    if not surface.get("log10_grad_norm"):
        return None
    fig, ax = new_figure(7.6, 6.0)
    _map(ax, fig, surface, "log10_grad_norm", "log10 ‖∇L‖")
    handles = _cliff_line(ax, surface)
    if handles:
        ax.legend(handles=handles, loc="upper right", fontsize=8, framealpha=0.9)
    box = _extent(surface)
    ax.set_xlim(box[0], box[1])
    ax.set_ylim(box[2], box[3])
    ax.set_title("Gradient norm", fontsize=11)
    return fig


def fig_profile(report: dict):
    prof = report.get("profile") or {}
    if not prof.get("offset"):
        return None
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.6, 5.2), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    x = as_array(prof["offset"])
    top.plot(x, as_array(prof["log10_loss"]), color="C0", lw=1.3, gid="profile:log10_loss")
    bottom.plot(x, as_array(prof["log10_grad_norm"]), color="C3", lw=1.3,
                gid="profile:log10_grad_norm")
    for ax in (top, bottom):
        ax.axvline(0, color="0.4", ls="--", lw=1.0)
        ax.grid(alpha=0.3)
    top.set(ylabel="log10 L")
    bottom.set(ylabel="log10 ‖∇L‖", xlabel=f"b − b_cliff   (b_cliff = {_g(prof.get('b_cliff'))})")
    fig.suptitle(f"Across the cliff at w = {_g(prof.get('w'))}", fontsize=11)
    return fig


def fig_loss(report: dict):
    runs = [r for r in report.get("runs") or [] if (r.get("series") or {}).get("log10_loss")]
    if not runs:
        return None
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.6, 6.0), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    colors = run_colors(len(report["runs"]))
    for i, run in enumerate(report["runs"]):
        if run not in runs:
            continue
        s, c = run["series"], colors[i]
        y = as_array(s["log10_loss"])
        top.plot(np.arange(len(y)), y, color=c, lw=1.3, label=str(run.get("label", "")),
                 gid=f"{i}:log10_loss")
        step = as_array(s.get("step_norm") or [])
        step[step <= 0] = np.nan  # a zero step has no place on a log axis
        bottom.plot(np.arange(len(step)), step, color=c, lw=0.9, gid=f"{i}:step_norm")
        cfg = run.get("config") or {}
        if cfg.get("clip") is not None and cfg.get("lr"):
            bottom.axhline(cfg["lr"] * cfg["clip"], color=c, ls="--", lw=1.0,
                           gid=f"{i}:clip_step")
        k = (run.get("summary") or {}).get("first_nonfinite_iter")
        if k is not None:
            top.axvline(k, color=c, ls=":", lw=1.2, gid=f"{i}:first_nonfinite_iter")
    top.set(ylabel="log10 L")
    top.grid(alpha=0.3)
    top.legend(fontsize=8)
    if np.isfinite(np.concatenate([as_array(r["series"].get("step_norm") or []) for r in runs])).any():
        bottom.set_yscale("log")
        log_ticks(bottom)
    bottom.set(xlabel="iteration", ylabel="step length ‖Δ(w, b)‖")
    bottom.grid(alpha=0.3, which="both")
    fig.suptitle("Loss and step length per iteration", fontsize=11)
    return fig


def fig_3d(report: dict):
    surface = report.get("surface") or {}
    if not surface.get("log10_loss"):
        return None
    from matplotlib.figure import Figure

    z = np.array([[np.nan if v is None else v for v in row] for row in surface["log10_loss"]],
                 float)
    lo, hi = _color_limits(z)
    z = np.clip(np.where(np.isfinite(z), z, lo), lo, hi)
    W, B = np.meshgrid(np.asarray(surface["w"], float), np.asarray(surface["b"], float))
    fig = Figure(figsize=(7.6, 6.0), layout="constrained")
    ax = fig.add_subplot(projection="3d")
    n = max(z.shape)
    ax.plot_surface(W, B, z, cmap="viridis", vmin=lo, vmax=hi, rcount=min(n, 120), rasterized=True,
                    ccount=min(n, 120), linewidth=0, antialiased=False, gid="surface:3d")
    ax.set(xlabel="w", ylabel="b", zlabel="log10 L")
    ax.view_init(elev=35, azim=-120)
    ax.set_title("Loss surface (log10 L, clipped below)", fontsize=11)
    return fig


FIGURES = {"cliff_surface": fig_surface, "cliff_grad_norm": fig_grad_norm,
           "cliff_profile": fig_profile, "cliff_loss": fig_loss, "cliff_3d": fig_3d}


def write_plots(report: dict, plots_dir: Path) -> list[Path]:
    """Each figure as `<name>.png` (150 dpi) and `<name>.svg`; returns the PNG paths."""
    return write_figures(report, plots_dir, FIGURES)


# --------------------------------------------------------------------------- documents


def _title(report: dict) -> str:
    return "gradscope report — cliff (Pascanu, Mikolov & Bengio 2013)"


def _document_layout(report: dict):
    from .document import Layout

    runs = report.get("runs") or []
    return Layout(_title(report), SUMMARY_COLUMNS, [summary_row(r) for r in runs], SUMMARY_NOTE,
                  explain, FIGURE_CAPTIONS, FIGURE_ORDER, intro=intro(report))


def render_markdown(report: dict, plot_files: list[str]) -> str:
    """The Markdown report; `plot_files` are PNG paths relative to the report folder."""
    from .document import markdown_document

    return markdown_document(report, plot_files, _document_layout(report))


def render_html(report: dict, plots_dir: Path) -> str:
    """The HTML report, figures inlined as base64 (one self-contained file)."""
    from .document import html_document

    return html_document(report, plots_dir, _document_layout(report))
