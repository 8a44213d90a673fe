"""Figures (PNG and SVG) of a report: pure functions of the report dict.

Each `fig_*` function returns a `matplotlib.figure.Figure` (or None when the report has
nothing to show in it). Figures are made without pyplot, so no GUI backend is touched and
nothing global needs closing; matplotlib is imported only when a figure is drawn.
Every data line carries a gid `"<run index>:<series>"` so that tests can find it.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from .figures import as_array, integer_ticks, new_figure, run_colors, write_figures
from .heatmaps import fig_gain_vs_scale, fig_heatmaps
from .plots_spectrum import fig_spectrum
from .plots_style import axis_of, legends, line_width, panel_axes, run_styles

EXTRAS_MAX_RUNS = 4   # bound, loss gradient and products per run only up to this many runs
THEORY_MAX_RUNS = 8   # the mean-field theory line per run up to this many runs
HORIZON_LOG10 = -3.0  # the memory horizon threshold, 1e-3

# quantity -> (line style, line width, legend text) of the jacobian_norm figure
STYLES = {
    "log10_jacobian_norm": ("-", 2.0, "log10 ‖∂s_T/∂s_t‖ (measured)"),
    "theory": ("--", 1.2, "mean-field theory: gain·(T − t)"),
    "log10_seed_bound": ("-.", 1.2, "bound Σ log10(max|φ'|·σ_max(W_hh))"),
    "log10_activation_deriv_product": ((0, (3, 1, 1, 1, 1, 1)), 1.2, "log10 max_i Π φ'(z_k,i)"),
    "log10_loss_grad_norm": (":", 1.6, "log10 ‖∂L/∂s_t‖ (loss gradient)"),
    "log10_cell_path_norm": ((0, (8, 2)), 1.2, "LSTM cell path log10 ‖Π diag(f_k)‖"),
}


def _runs_figure(report: dict, name: str, values_of, x0: int, size: tuple, more=None,
                 marker: str | None = None):
    """One line per run of `values_of(run)` (a list, or None to leave the run out) against
    x0, x0 + 1, …, on one axis or on a panel per value of the first varying option; lines
    carry the gid `"<run index>:<name>"`. `more(ax, i, run, look, n_on_axis)` draws a run's
    extras and returns the `STYLES` keys it used. Returns (fig, axes by panel, styles, run
    indices, style keys used), or None when no run has values."""
    runs = report.get("runs") or []
    idx = [i for i, r in enumerate(runs) if values_of(r) is not None]
    if not idx:
        return None
    styles = run_styles(runs)
    fig, axes = panel_axes(styles, idx, *size)
    on_axis = Counter(id(axis_of(axes, styles.looks[i])) for i in idx)
    lw, used = line_width(styles, idx), set()
    for i in idx:
        look = styles.looks[i]
        ax = axis_of(axes, look)
        y = as_array(values_of(runs[i]))
        ax.plot(np.arange(x0, x0 + len(y)), y, color=look.color, ls=look.ls, lw=lw,
                marker=marker, ms=4, gid=f"{i}:{name}")
        if more is not None:
            used |= more(ax, i, runs[i], look, on_axis[id(ax)])
    for ax in axes.values():
        ax.grid(alpha=0.3)
    return fig, axes, styles, idx, used


def _time_axes(axes: dict, styles, runs: list[dict], idx: list[int], t_max: int) -> bool:
    """Integer ticks over the whole 0..T range (NaN gaps included) and a dotted vertical line
    at each run's first non-finite step; returns whether any run has one."""
    found = False
    for ax in axes.values():
        integer_ticks(ax)
        ax.set_xlim(-0.02 * t_max, 1.02 * t_max)
    for i in idx:
        step = (runs[i].get("summary") or {}).get("first_nonfinite_step")
        if step is not None:
            look = styles.looks[i]
            axis_of(axes, look).axvline(step, color=look.color, ls=":", lw=1.2,
                                        gid=f"{i}:first_nonfinite_step")
            found = True
    return found


def _nonfinite_handle():
    from matplotlib.lines import Line2D

    return Line2D([], [], color="0.2", ls=":", lw=1.2, label="first non-finite step")


def _style_handle(key: str):
    from matplotlib.lines import Line2D

    ls, lw, text = STYLES[key]
    return Line2D([], [], color="0.2", ls=ls, lw=lw, label=text)


def _finish(fig, axes: dict, title: str, xlabel: str, ylabel: str) -> None:
    """The figure's title, the y label on every panel, the x label on the lowest."""
    fig.suptitle(title, fontsize=11)
    for ax in axes.values():
        ax.set_ylabel(ylabel)
    list(axes.values())[-1].set_xlabel(xlabel)


def _series(key: str):
    return lambda run: (run.get("series") or {}).get(key)


def _jacobian_extras(n_runs: int):
    """`more` of the jacobian_norm figure: the ±std band, the theory line (up to
    THEORY_MAX_RUNS lines on an axis) and, up to EXTRAS_MAX_RUNS runs, the bounds and the
    loss gradient, each in the run's colour."""

    def more(ax, i: int, run: dict, look, n_on_axis: int) -> set[str]:
        series, std = run.get("series") or {}, run.get("series_std") or {}
        y = as_array(series["log10_jacobian_norm"])
        t = np.arange(len(y))
        used = {"log10_jacobian_norm"}
        if std.get("log10_jacobian_norm") is not None:
            s = as_array(std["log10_jacobian_norm"])
            ax.fill_between(t, y - s, y + s, color=look.color, alpha=0.2 if n_on_axis <= 4
                            else 0.1, lw=0, gid=f"{i}:log10_jacobian_norm_std")
        gain = (run.get("summary") or {}).get("theory_log10_gain_per_step")
        if gain is not None and n_on_axis <= THEORY_MAX_RUNS:
            ls, lw, _ = STYLES["theory"]
            ax.plot(t, gain * (t[-1] - t), color=look.color, ls=ls, lw=lw, gid=f"{i}:theory")
            used.add("theory")
        if n_runs > EXTRAS_MAX_RUNS:
            return used
        for key in ("log10_seed_bound", "log10_activation_deriv_product",
                    "log10_loss_grad_norm", "log10_cell_path_norm"):
            if series.get(key) is not None:
                ls, lw, _ = STYLES[key]
                values = as_array(series[key])
                ax.plot(np.arange(len(values)), values, color=look.color, ls=ls, lw=lw,
                        gid=f"{i}:{key}")
                used.add(key)
        return used

    return more


def fig_jacobian_norm(report: dict):
    """log10 ‖∂s_T/∂s_t‖ against t for every run, with bounds, theory and ±std bands."""
    key = "log10_jacobian_norm"
    n_runs = sum(_series(key)(r) is not None for r in report.get("runs") or [])
    made = _runs_figure(report, key, _series(key), 0, (10, 5.4, 2.3), _jacobian_extras(n_runs))
    if made is None:
        return None
    fig, axes, styles, idx, used = made
    from matplotlib.lines import Line2D

    for ax in axes.values():
        ax.axhline(HORIZON_LOG10, color="0.45", lw=0.9, ls=(0, (2, 2)), gid="horizon")
    extra = [_style_handle(k) for k in STYLES if k in used]
    extra.append(Line2D([], [], color="0.45", lw=0.9, ls=(0, (2, 2)),
                        label="memory horizon threshold (1e-3)"))
    runs = report["runs"]
    if _time_axes(axes, styles, runs, idx, max(len(runs[i]["series"][key]) - 1 for i in idx)):
        extra.append(_nonfinite_handle())
    _finish(fig, axes, "How strongly the last state s_T depends on the state at step t "
            "(log10 of the Jacobian norm)", "time step t", "log10 ‖∂s_T/∂s_t‖")
    legends(fig, axes, styles, runs, idx, extra)
    return fig


def _per_step_figure(report: dict, key: str, height: float):
    """Figure, axes by panel, styles and run indices: one line per run of a series with T
    values (t = 1..T), with the first non-finite steps and the legends."""
    made = _runs_figure(report, key, _series(key), 1, (10, height, 2.0))
    if made is None:
        return None
    fig, axes, styles, idx, _ = made
    runs = report["runs"]
    nonfinite = _time_axes(axes, styles, runs, idx, max(len(runs[i]["series"][key]) for i in idx))
    legends(fig, axes, styles, runs, idx, [_nonfinite_handle()] if nonfinite else None)
    return fig, axes, styles, idx


LOCAL_NORM_TITLE = ("One step's largest stretch, log10 ‖∂s_t/∂s_(t−1)‖: an upper bound on that "
                    "step's growth.\nAbove 0 does not make the gradient grow: that depends on "
                    "how the steps' directions line up (Lyapunov exponents).")


def fig_local_norm(report: dict):
    """log10 ‖J_t‖ = log10 ‖∂s_t/∂s_(t−1)‖ against t = 1..T: the largest factor by which one
    step can stretch a direction, not the growth of the gradient itself."""
    made = _per_step_figure(report, "log10_local_norm", 4.6)
    if made is None:
        return None
    fig, axes, _, _ = made
    for ax in axes.values():
        ax.axhline(0, color="0.45", lw=0.9, ls="--", gid="unit_norm")
    _finish(fig, axes, LOCAL_NORM_TITLE, "time step t", "log10 ‖∂s_t/∂s_(t−1)‖")
    return fig


SATURATION_SERIES_MAX = 3  # up to this many runs (no replicates): the share at every step


def fig_saturation(report: dict):
    """Share of units with φ'(z) < 0.1: against t = 1..T for a few runs; else the mean,
    interquartile range and range over the steps (and seeds) of each kind of run."""
    key = "saturation_fraction"
    runs = report.get("runs") or []
    idx = [i for i, r in enumerate(runs) if _series(key)(r) is not None]
    if not idx:
        return None
    styles = run_styles(runs)
    if len(styles.entries(idx)) > SATURATION_SERIES_MAX or styles.note:
        return _saturation_summary(runs, idx, styles)
    fig, axes, _, _ = _per_step_figure(report, key, 4.2)
    values = np.concatenate([as_array(runs[i]["series"][key]) for i in idx])
    for ax in axes.values():
        ax.set_ylim(0, _share_limit(values))
        _percent(ax.yaxis)
    _finish(fig, axes, "Saturated units at each step (activation derivative below 0.1)",
            "time step t", "share of units with φ'(z) < 0.1")
    return fig


def _share_limit(values: np.ndarray) -> float:
    """An axis limit just above the largest finite share (at least 2 %, at most 100 %)."""
    finite = values[np.isfinite(values)]
    top = float(finite.max()) if finite.size else 1.0
    return min(max(1.1 * top, 0.02), 1.02)


def _percent(axis) -> None:
    """Shares as percentages: 0%, 2.5%, 10%."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda x, _: f"{100 * x:.3g}%"))


def _saturation_summary(runs: list[dict], idx: list[int], styles):
    """A row per kind of run (replicates pooled), grouped by the first varying option: the
    mean share over the steps (dot), its interquartile range (bar) and range (line)."""
    from matplotlib.lines import Line2D

    entries = styles.entries(idx)
    order = list(dict.fromkeys(look.panel for _, look in entries))
    entries.sort(key=lambda e: order.index(e[1].panel))
    fig, ax = new_figure(9, 1.5 + 0.27 * len(entries))
    tops = [0.0]
    for y, (first, look) in enumerate(entries):
        pooled = np.concatenate([as_array(runs[i]["series"]["saturation_fraction"])
                                 for i in idx if styles.looks[i] == look])
        pooled = pooled[np.isfinite(pooled)]
        if not pooled.size:
            ax.text(0, y, " no finite value", va="center", fontsize=8, color="0.4")
            continue
        lo, q1, q3, hi = np.percentile(pooled, [0, 25, 75, 100])
        ax.plot([lo, hi], [y, y], color=look.color, lw=1.2, gid=f"{first}:saturation_range")
        ax.plot([q1, q3], [y, y], color=look.color, lw=6, solid_capstyle="butt",
                gid=f"{first}:saturation_iqr")
        ax.plot([pooled.mean()], [y], "o", color=look.color, mec="black", mew=0.6, ms=7,
                gid=f"{first}:saturation_mean")
        tops.append(hi)
    for y in range(1, len(entries)):  # a rule between the first option's values
        if entries[y][1].panel != entries[y - 1][1].panel:
            ax.axhline(y - 0.5, color="0.7", lw=0.8, gid="group_rule")
    ax.set_yticks(range(len(entries)),
                  [look.label or str(runs[i].get("label", "")) for i, look in entries])
    ax.set_ylim(len(entries) - 0.5, -0.5)
    ax.set_xlim(0, _share_limit(np.array(tops)))
    _percent(ax.xaxis)
    ax.grid(alpha=0.3, axis="x")
    pooled_over = ("steps and seeds" if "seed" in styles.note
                   else "steps and runs" if styles.note else "steps")
    ax.set(xlabel=f"share of units with φ'(z) < 0.1 (over the {pooled_over})")
    fig.suptitle("Saturated units: how many units have an activation derivative below 0.1",
                 fontsize=11)
    handles = [Line2D([], [], color="0.3", ls="", marker="o", mec="black", ms=7, label="mean"),
               Line2D([], [], color="0.3", lw=6, label="interquartile range"),
               Line2D([], [], color="0.3", lw=1.2, label="min – max")]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    return fig


def dlfs2_norms(run: dict) -> tuple[np.ndarray, np.ndarray]:
    """k = 1..T and the book's norm after k backward steps, 10 ** log10_loss_grad_norm[T − k]."""
    g = as_array(run["series"]["log10_loss_grad_norm"])
    T = len(g) - 1
    k = np.arange(1, T + 1)
    with np.errstate(over="ignore"):
        norm = 10.0 ** g[T - k]
    norm[~np.isfinite(norm)] = np.nan
    return k, norm


def fig_dlfs2(report: dict):
    """The figure of "Deep Learning from Scratch 2", chapter 6: norm after k backward steps."""
    runs = [r for r in report.get("runs") or []
            if (r.get("config") or {}).get("preset") == "dlfs2"
            and (r.get("series") or {}).get("log10_loss_grad_norm") is not None]
    if not runs:
        return None
    fig, ax = new_figure(6.5, 4.6)
    for i, (run, c) in enumerate(zip(runs, run_colors(len(runs)), strict=True)):
        k, norm = dlfs2_norms(run)
        scale = (run.get("config") or {}).get("scale")
        label = f"scale {scale:g}" if isinstance(scale, (int, float)) else str(run.get("label"))
        ax.plot(k, norm, "o-", ms=3, color=c, label=label, gid=f"{i}:dlfs2")
    ax.set(xlabel="time step", ylabel="norm",
           title="Gradient norm after k backward steps (DLFS2, chapter 6)")
    integer_ticks(ax)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def fig_depth_norm(report: dict):
    """Stacks: log10 ‖∂h^top_t/∂h^k_t‖ against the layer k (the depth direction)."""
    made = _runs_figure(report, "depth_norm", lambda r: (r.get("depth") or {}).get("log10_norm"),
                        0, (10, 4.2, 2.0), marker="o")
    if made is None:
        return None
    fig, axes, styles, idx, _ = made
    for ax in axes.values():
        ax.axhline(0, color="0.45", lw=0.9, ls=":")
        integer_ticks(ax)
    _finish(fig, axes, "Down the stack at one step: ‖∂h_top/∂h_k‖ (mean over steps)",
            "layer k (0 = bottom)", "log10 ‖∂h_top/∂h_k‖ (same step)")
    legends(fig, axes, styles, report["runs"], idx, marker="o")
    return fig


def fig_lyapunov(report: dict):
    """The K largest Lyapunov exponents λ_k of every run against k, with a line at 0."""
    made = _runs_figure(report, "lyapunov", lambda r: r.get("lyapunov") or None, 1,
                        (9, 4.4, 2.0), marker="o")
    if made is None:
        return None
    fig, axes, styles, idx, _ = made
    for ax in axes.values():
        ax.axhline(0, color="0.45", lw=0.9, ls="--", gid="zero")
        integer_ticks(ax)
    _finish(fig, axes, "Lyapunov exponents: how fast the k-th most growing direction grows per "
            "step\n(λ_1 < 0: over long spans every perturbation, and the gradient, shrinks; "
            "λ_1 > 0: they grow)", "k (1 = largest)", "λ_k (natural log per step)")
    legends(fig, axes, styles, report["runs"], idx, marker="o")
    return fig


FIGURES = {"jacobian_norm": fig_jacobian_norm, "local_norm": fig_local_norm,
           "spectrum": fig_spectrum, "saturation": fig_saturation,
           "gain_vs_scale": fig_gain_vs_scale, "depth_norm": fig_depth_norm,
           "heatmaps": fig_heatmaps, "dlfs2": fig_dlfs2, "lyapunov": fig_lyapunov}


def write_plots(report: dict, plots_dir: Path) -> list[Path]:
    """Every figure of FIGURES that applies as `<name>.png` (150 dpi) and `<name>.svg`; returns
    the PNG paths."""
    return write_figures(report, plots_dir, FIGURES)
