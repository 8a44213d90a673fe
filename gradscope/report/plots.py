"""Figures (PNG and SVG) of a report: pure functions of the report dict.

Each `fig_*` function returns a `matplotlib.figure.Figure` (or None when the report has
nothing to show in it). Figures are made without pyplot, so no GUI backend is touched and
nothing global needs closing; matplotlib is imported only when a figure is drawn.
Every data line carries a gid `"<run index>:<series>"` so that tests can find it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .figures import as_array, log_ticks, new_figure, run_colors, write_figures
from .heatmaps import fig_heatmaps

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
GATE_MARKERS = {"i": "o", "f": "s", "g": "D", "o": "^", "r": "v", "z": "P", "n": "X"}
VANILLA_MARKER = "*"  # W_hh of a cell without gates


def _time_axis(ax, runs: list[dict], colors: list, t_max: int) -> bool:
    """Integer ticks over the whole 0..T range (NaN gaps included) and a dotted vertical line
    at each run's first non-finite step; returns whether any run has one."""
    _integer_ticks(ax)
    ax.set_xlim(-0.02 * t_max, 1.02 * t_max)
    found = False
    for i, (run, c) in enumerate(zip(runs, colors, strict=True)):
        step = (run.get("summary") or {}).get("first_nonfinite_step")
        if step is not None:
            ax.axvline(step, color=c, ls=":", lw=1.2, gid=f"{i}:first_nonfinite_step")
            found = True
    return found


def _nonfinite_handle():
    from matplotlib.lines import Line2D

    return Line2D([], [], color="0.2", ls=":", lw=1.2, label="first non-finite step")


def _integer_ticks(ax) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 2.5, 5, 10]))


def _legend_font(n: int) -> float:
    return 8 if n <= 8 else 7 if n <= 16 else 6


def _legends(ax, runs: list[dict], colors: list, styles: list | None = None) -> None:
    """One legend outside on the right: the runs by colour, then (after a gap) what each line
    style means. One legend, so that the layout makes room for all of it."""
    from matplotlib.lines import Line2D

    n = len(runs)
    handles = _run_handles(runs, colors)
    if styles:
        handles += [Line2D([], [], ls="", label=" "), *styles]
    size = _legend_font(n)
    ax.legend(handles=handles, title="runs" if n > 1 else None, fontsize=size,
              title_fontsize=size, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              ncol=1 if len(handles) <= 30 else 2, frameon=False)


def _run_handles(runs: list[dict], colors: list) -> list:
    from matplotlib.lines import Line2D

    return [Line2D([], [], color=c, lw=2, label=str(r.get("label", "")))
            for r, c in zip(runs, colors, strict=True)]


def _style_handle(key: str):
    from matplotlib.lines import Line2D

    ls, lw, text = STYLES[key]
    return Line2D([], [], color="0.2", ls=ls, lw=lw, label=text)


def _draw_jacobian_run(ax, i: int, run: dict, color, n_runs: int) -> set[str]:
    """One run's lines; returns the style keys it used."""
    series, std = run.get("series") or {}, run.get("series_std") or {}
    y = as_array(series["log10_jacobian_norm"])
    t = np.arange(len(y))
    used = {"log10_jacobian_norm"}
    ls, lw, _ = STYLES["log10_jacobian_norm"]
    ax.plot(t, y, color=color, ls=ls, lw=lw, gid=f"{i}:log10_jacobian_norm")
    if std.get("log10_jacobian_norm") is not None:
        s = as_array(std["log10_jacobian_norm"])
        ax.fill_between(t, y - s, y + s, color=color, alpha=0.2 if n_runs <= 4 else 0.1, lw=0,
                        gid=f"{i}:log10_jacobian_norm_std")
    gain = (run.get("summary") or {}).get("theory_log10_gain_per_step")
    if gain is not None and n_runs <= THEORY_MAX_RUNS:
        ls, lw, _ = STYLES["theory"]
        ax.plot(t, gain * (t[-1] - t), color=color, ls=ls, lw=lw, gid=f"{i}:theory")
        used.add("theory")
    if n_runs > EXTRAS_MAX_RUNS:
        return used
    for key in ("log10_seed_bound", "log10_activation_deriv_product", "log10_loss_grad_norm",
                "log10_cell_path_norm"):
        if series.get(key) is not None:
            ls, lw, _ = STYLES[key]
            values = as_array(series[key])
            ax.plot(np.arange(len(values)), values, color=color, ls=ls, lw=lw, gid=f"{i}:{key}")
            used.add(key)
    return used


def fig_jacobian_norm(report: dict):
    """log10 ‖∂s_T/∂s_t‖ against t for every run, with bounds, theory and ±std bands."""
    runs = [r for r in report.get("runs") or []
            if (r.get("series") or {}).get("log10_jacobian_norm") is not None]
    if not runs:
        return None
    fig, ax = new_figure(10, 5.4)
    colors = run_colors(len(runs))
    used: set[str] = set()
    for i, (run, c) in enumerate(zip(runs, colors, strict=True)):
        used |= _draw_jacobian_run(ax, i, run, c, len(runs))
    ax.axhline(HORIZON_LOG10, color="0.45", lw=0.9, ls=(0, (2, 2)), gid="horizon")
    from matplotlib.lines import Line2D

    styles = [_style_handle(k) for k in STYLES if k in used]
    styles.append(Line2D([], [], color="0.45", lw=0.9, ls=(0, (2, 2)),
                         label="memory horizon threshold (1e-3)"))
    t_max = max(len(r["series"]["log10_jacobian_norm"]) - 1 for r in runs)
    if _time_axis(ax, runs, colors, t_max):
        styles.append(_nonfinite_handle())
    ax.set(xlabel="time step t", ylabel="log10 ‖∂s_T/∂s_t‖",
           title="How strongly the last state s_T depends on the state at step t "
                 "(log10 of the Jacobian norm)")
    ax.title.set_fontsize(11)
    ax.grid(alpha=0.3)
    _legends(ax, runs, colors, styles)
    return fig


def _per_stepnew_figure(report: dict, key: str, height: float):
    """Figure and axes with one line per run of a series with T values (t = 1..T)."""
    runs = [r for r in report.get("runs") or [] if (r.get("series") or {}).get(key) is not None]
    if not runs:
        return None, None
    fig, ax = new_figure(10, height)
    colors = run_colors(len(runs))
    for i, (run, c) in enumerate(zip(runs, colors, strict=True)):
        y = as_array(run["series"][key])
        ax.plot(np.arange(1, len(y) + 1), y, color=c, lw=1.4, gid=f"{i}:{key}")
    ax.set_xlabel("time step t")
    nonfinite = _time_axis(ax, runs, colors, max(len(r["series"][key]) for r in runs))
    ax.grid(alpha=0.3)
    _legends(ax, runs, colors, [_nonfinite_handle()] if nonfinite else None)
    return fig, ax


def fig_local_norm(report: dict):
    """log10 ‖J_t‖ = log10 ‖∂s_t/∂s_(t−1)‖ against t = 1..T."""
    fig, ax = _per_stepnew_figure(report, "log10_local_norm", 4.6)
    if fig is None:
        return None
    ax.axhline(0, color="0.45", lw=0.9, ls="--")
    ax.set(ylabel="log10 ‖∂s_t/∂s_(t−1)‖",
           title="Norm of one step's Jacobian (above 0 the step amplifies the gradient, "
                 "below 0 it shrinks it)")
    ax.title.set_fontsize(11)
    return fig


def fig_saturation(report: dict):
    """Share of units with φ'(z) < 0.1 against t = 1..T."""
    fig, ax = _per_stepnew_figure(report, "saturation_fraction", 4.2)
    if fig is None:
        return None
    ax.set(ylabel="share of units with φ'(z) < 0.1", ylim=(-0.02, 1.02),
           title="Saturated units at each step (activation derivative below 0.1)")
    ax.title.set_fontsize(11)
    return fig


def _singular_values(ax, i: int, run: dict, color) -> None:
    sv = np.sort(as_array(run["spectrum"].get("singular_values") or []))[::-1]
    sv[~(sv > 0)] = np.nan  # a log axis cannot show 0
    ax.semilogy(np.arange(1, len(sv) + 1), sv, ".-", color=color, ms=3, lw=1,
                gid=f"{i}:singular_values")


def _eigenvalues(ax, i: int, run: dict, color, colour_by_gate: bool) -> set:
    """Scatter one run's eigenvalues, per gate block when it has blocks; returns gate names."""
    sp = run["spectrum"]
    blocks = sp.get("blocks") or {}
    parts = blocks.items() if blocks else [(None, sp)]
    gate_colors = run_colors(max(len(blocks), 1))
    for j, (name, block) in enumerate(parts):
        ev = np.array([[np.nan, np.nan] if e is None else e
                       for e in block.get("eigenvalues") or []], dtype=float).reshape(-1, 2)
        marker = GATE_MARKERS.get(name, "o") if name is not None else VANILLA_MARKER
        c = gate_colors[j] if colour_by_gate and name is not None else color
        label = f"gate {name}" if colour_by_gate and name is not None else None
        ax.scatter(ev[:, 0], ev[:, 1], s=40 if name is None else 14, marker=marker, color=c,
                   alpha=0.7, lw=0, label=label, gid=f"{i}:eigenvalues:{name or 'W_hh'}")
    return set(blocks) if blocks else {None}


def fig_spectrum(report: dict):
    """Singular values of W_hh (log axis, σ = 1 line) and eigenvalues with the unit circle."""
    runs = [r for r in report.get("runs") or [] if r.get("spectrum")]
    if not runs:
        return None
    fig, (ax1, ax2) = new_figure(12, 5.2, ncols=2)
    colors = run_colors(len(runs))
    single = len(runs) == 1
    gates: set = set()
    for i, (run, c) in enumerate(zip(runs, colors, strict=True)):
        _singular_values(ax1, i, run, c)
        gates |= _eigenvalues(ax2, i, run, c, colour_by_gate=single)
    ax1.axhline(1, color="0.3", lw=0.9, ls="--", label="σ = 1")
    _integer_ticks(ax1)
    ax1.set(xlabel="index (largest first)", ylabel="singular value of W_hh",
            title="Singular values of W_hh")
    ax1.grid(alpha=0.3, which="both")
    ax1.legend(fontsize=8, loc="best")
    th = np.linspace(0, 2 * np.pi, 400)
    ax2.plot(np.cos(th), np.sin(th), color="0.3", lw=1, label="unit circle", gid="unit_circle")
    ax2.set_aspect("equal", adjustable="datalim")
    ax2.set(xlabel="Re λ", ylabel="Im λ",
            title="Eigenvalues of W_hh" + (" (per gate block)" if gates - {None} else ""))
    ax2.grid(alpha=0.3)
    log_ticks(ax1)
    if single:
        handles, title = ax2.get_legend_handles_labels()[0], str(runs[0].get("label", ""))
    else:
        handles, title = _run_handles(runs, colors) + _gate_handles(gates), "runs"
    fig.legend(handles=handles, loc="outside right upper", fontsize=_legend_font(len(handles)),
               title=title, title_fontsize=8, frameon=False, ncol=1 if len(handles) <= 30 else 2)
    return fig


def _gate_handles(gates: set) -> list:
    """Marker legend entries; none when no run has gate blocks."""
    from matplotlib.lines import Line2D

    named = {g for g in gates if g is not None}
    if not named:
        return []
    order = [g for g in GATE_MARKERS if g in named] + sorted(named - set(GATE_MARKERS))
    handles = [Line2D([], [], ls="", marker=GATE_MARKERS.get(g, "o"), color="0.3",
                      label=f"gate {g}") for g in order]
    if None in gates:
        handles.append(Line2D([], [], ls="", marker=VANILLA_MARKER, color="0.3",
                              label="W_hh (no gates)"))
    return handles


def fig_gain_vs_scale(report: dict):
    """Gain per step against the W_hh scale, one line per (arch, init); None if < 2 scales."""
    groups: dict[str, list] = {}
    for run in report.get("runs") or []:
        cfg = run.get("config") or {}
        if cfg.get("scale") is not None and "log10_gain_per_step" in (run.get("summary") or {}):
            groups.setdefault(f"{cfg.get('arch')} · {cfg.get('init')}", []).append(run)
    if all(len({r["config"]["scale"] for r in g}) < 2 for g in groups.values()):
        return None
    fig, ax = new_figure(8, 4.6)
    for (name, g), c in zip(groups.items(), run_colors(len(groups)), strict=True):
        g = sorted(g, key=lambda r: r["config"]["scale"])
        x = [r["config"]["scale"] for r in g]
        ax.plot(x, as_array([r["summary"]["log10_gain_per_step"] for r in g]), "o-", color=c,
                label=f"{name}: measured", gid=f"{name}:gain")
        th = [r["summary"].get("theory_log10_gain_per_step") for r in g]
        if any(v is not None for v in th):
            ax.plot(x, as_array(th), "--", color=c, lw=1, label=f"{name}: mean-field theory")
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set(xlabel="scale of W_hh", ylabel="log10 gain per step",
           title="Gain per step against the scale of W_hh (below 0 vanishing, above 0 exploding)")
    ax.title.set_fontsize(10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
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
    _integer_ticks(ax)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def fig_depth_norm(report: dict):
    """Stacks: log10 ‖∂h^top_t/∂h^k_t‖ against the layer k (the depth direction)."""
    runs = [r for r in report.get("runs") or [] if r.get("depth")]
    if not runs:
        return None
    fig, ax = new_figure(10, 4.2)
    colors = run_colors(len(runs))
    for i, (run, c) in enumerate(zip(runs, colors, strict=True)):
        y = as_array(run["depth"]["log10_norm"])
        ls = "--" if (run.get("config") or {}).get("residual") else "-"
        ax.plot(np.arange(len(y)), y, ls, marker="o", ms=4, color=c, lw=1.6,
                gid=f"{i}:depth_norm")
    ax.axhline(0, color="0.45", lw=0.9, ls=":")
    _integer_ticks(ax)
    ax.set(xlabel="layer k (0 = bottom)", ylabel="log10 ‖∂h_top/∂h_k‖ (same step)",
           title="Down the stack at one step: ‖∂h_top/∂h_k‖ (mean over steps; dashed: residual)")
    ax.title.set_fontsize(11)
    ax.grid(alpha=0.3)
    _legends(ax, runs, colors)
    return fig


FIGURES = {"jacobian_norm": fig_jacobian_norm, "local_norm": fig_local_norm,
           "spectrum": fig_spectrum, "saturation": fig_saturation,
           "gain_vs_scale": fig_gain_vs_scale, "depth_norm": fig_depth_norm,
           "heatmaps": fig_heatmaps, "dlfs2": fig_dlfs2}


def write_plots(report: dict, plots_dir: Path) -> list[Path]:
    """Every figure of FIGURES that applies as `<name>.png` (150 dpi) and `<name>.svg`; returns
    the PNG paths."""
    return write_figures(report, plots_dir, FIGURES)
