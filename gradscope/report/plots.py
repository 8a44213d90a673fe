"""Figures (PNG and SVG) of a report: pure functions of the report dict."""

from __future__ import annotations

from pathlib import Path

import numpy as np

EXTRAS_MAX_RUNS = 3  # bound / loss gradient / products drawn per run up to this many runs


def _arr(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _legend(ax, n_runs: int) -> None:
    if n_runs > 6:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                  ncol=1 if n_runs <= 20 else 2)
    else:
        ax.legend(fontsize=8)


def _colors(n: int):
    cmap = _plt().get_cmap("tab10" if n <= 10 else "tab20")
    return [cmap(i % cmap.N) for i in range(n)]


def fig_jacobian_norm(report: dict):
    plt = _plt()
    runs = report["runs"]
    fig, ax = plt.subplots(figsize=(9, 5.2), layout="constrained")
    extras = len(runs) <= EXTRAS_MAX_RUNS
    for run, c in zip(runs, _colors(len(runs)), strict=True):
        s = run["series"]
        y = _arr(s["log10_jacobian_norm"])
        t = np.arange(len(y))
        label = f"{run['label']}: log10 ‖∂s_T/∂s_t‖" if extras else run["label"]
        ax.plot(t, y, color=c, lw=2, label=label)
        std = (run.get("series_std") or {}).get("log10_jacobian_norm")
        if std is not None:
            ax.fill_between(t, y - _arr(std), y + _arr(std), color=c, alpha=0.2, lw=0)
        gain = run["summary"].get("theory_log10_gain_per_step")
        if gain is not None:
            ax.plot(t, gain * (t[-1] - t), color=c, lw=1, ls=(0, (1, 3)),
                    label="mean-field theory" if extras else None)
        if not extras:
            continue
        for key, ls, name in (("log10_seed_bound", "--", "seed bound Σ log10(max|φ'|·σ_max)"),
                              ("log10_loss_grad_norm", ":", "log10 ‖∂L/∂s_t‖"),
                              ("log10_activation_deriv_product", "-.", "log10 max Π φ'"),
                              ("log10_cell_path_norm", (0, (5, 1, 1, 1)), "cell path Π f")):
            if s.get(key) is not None:
                ax.plot(t, _arr(s[key]), color=c, lw=1.2, ls=ls, label=name)
    ax.axhline(-3, color="0.5", lw=0.8, ls="--")
    ax.annotate("memory horizon threshold (1e-3)", (0, -3), xytext=(2, 3),
                textcoords="offset points", fontsize=8, color="0.4")
    ax.set(xlabel="time step t", ylabel="log10 ‖∂s_T/∂s_t‖",
           title="How the gradient shrinks or grows going back from step T")
    ax.grid(alpha=0.3)
    _legend(ax, len(runs))
    return fig


def fig_local_norm(report: dict):
    plt = _plt()
    runs = report["runs"]
    fig, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")
    for run, c in zip(runs, _colors(len(runs)), strict=True):
        y = _arr(run["series"]["log10_local_norm"])
        ax.plot(np.arange(1, len(y) + 1), y, color=c, lw=1.4, label=run["label"])
    ax.axhline(0, color="0.5", lw=0.8, ls="--")
    ax.set(xlabel="time step t", ylabel="log10 ‖∂s_t/∂s_{t-1}‖",
           title="One step's Jacobian norm (above 0: that step amplifies)")
    ax.grid(alpha=0.3)
    _legend(ax, len(runs))
    return fig


def fig_spectrum(report: dict):
    plt = _plt()
    runs = report["runs"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 5), layout="constrained")
    single = len(runs) == 1
    for run, c in zip(runs, _colors(len(runs)), strict=True):
        sp = run["spectrum"]
        sv = np.asarray(sp["singular_values"], float)
        ax1.semilogy(np.arange(1, len(sv) + 1), sv, ".-", color=c, ms=3, lw=1, label=run["label"])
        blocks = sp.get("blocks") or {}
        if single and blocks:
            for (name, b), m in zip(blocks.items(), "osD^v<>", strict=False):
                ev = np.asarray(b["eigenvalues"], float).reshape(-1, 2)
                ax2.scatter(ev[:, 0], ev[:, 1], s=12, marker=m, alpha=0.7, label=f"gate {name}")
        else:
            ev = np.asarray(sp["eigenvalues"], float).reshape(-1, 2)
            ax2.scatter(ev[:, 0], ev[:, 1], s=10, color=c, alpha=0.6, label=run["label"])
    ax1.axhline(1, color="0.3", lw=0.8, ls="--", label="σ = 1")
    ax1.set(xlabel="index", ylabel="singular value of W_hh", title="Singular values of W_hh")
    ax1.grid(alpha=0.3, which="both")
    th = np.linspace(0, 2 * np.pi, 400)
    ax2.plot(np.cos(th), np.sin(th), color="0.3", lw=1, label="unit circle")
    ax2.set_aspect("equal", adjustable="datalim")
    ax2.set(xlabel="Re λ", ylabel="Im λ", title="Eigenvalues of W_hh (per gate block)")
    ax2.grid(alpha=0.3)
    for ax in (ax1, ax2):
        ax.legend(fontsize=7, loc="best") if len(runs) <= 6 else None
    if len(runs) > 6:
        _legend(ax2, len(runs))
    return fig


def fig_saturation(report: dict):
    plt = _plt()
    runs = report["runs"]
    fig, ax = plt.subplots(figsize=(9, 4), layout="constrained")
    for run, c in zip(runs, _colors(len(runs)), strict=True):
        y = _arr(run["series"]["saturation_fraction"])
        ax.plot(np.arange(1, len(y) + 1), y, color=c, lw=1.4, label=run["label"])
    ax.set(xlabel="time step t", ylabel="share of units with φ'(z) < 0.1", ylim=(-0.02, 1.02),
           title="Saturated units (|z| > 1.8 for tanh)")
    ax.grid(alpha=0.3)
    _legend(ax, len(runs))
    return fig


def fig_gain_vs_scale(report: dict):
    """Gain per step against the W_hh scale, one line per (arch, init); None if < 2 scales."""
    groups: dict[str, list] = {}
    for run in report["runs"]:
        cfg = run["config"]
        groups.setdefault(f"{cfg['arch']} · {cfg['init']}", []).append(run)
    if all(len({r["config"]["scale"] for r in g}) < 2 for g in groups.values()):
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    for (name, g), c in zip(groups.items(), _colors(len(groups)), strict=True):
        g = sorted(g, key=lambda r: r["config"]["scale"])
        x = [r["config"]["scale"] for r in g]
        ax.plot(x, _arr([r["summary"]["log10_gain_per_step"] for r in g]), "o-", color=c, label=name)
        th = [r["summary"].get("theory_log10_gain_per_step") for r in g]
        if any(v is not None for v in th):
            ax.plot(x, _arr(th), "--", color=c, lw=1, label=f"{name}: mean-field theory")
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set(xlabel="scale of W_hh", ylabel="log10 gain per step",
           title="Gain per step against scale (< 0 vanishing, > 0 exploding)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def fig_dlfs2(report: dict):
    """The figure of "Deep Learning from Scratch 2", ch. 6: the norm after k backward steps."""
    runs = [r for r in report["runs"] if r["config"].get("preset") == "dlfs2"]
    if not runs:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4.5), layout="constrained")
    for run in runs:
        g = _arr(run["series"]["log10_loss_grad_norm"])
        T = len(g) - 1
        k = np.arange(1, T + 1)
        ax.plot(k, 10 ** g[T - k], "o-", ms=3, label=f"scale {run['config']['scale']:g}")
    ax.set(xlabel="time step", ylabel="norm", title="Gradient norm in backward steps (DLFS2 ch. 6)")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


FIGURES = {"jacobian_norm": fig_jacobian_norm, "local_norm": fig_local_norm,
           "spectrum": fig_spectrum, "saturation": fig_saturation,
           "gain_vs_scale": fig_gain_vs_scale, "dlfs2": fig_dlfs2}


def write_plots(report: dict, plots_dir: Path) -> list[Path]:
    """Write every applicable figure as PNG and SVG into `plots_dir`; return the PNG paths."""
    plt = _plt()
    plots_dir = Path(plots_dir)
    plots_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in FIGURES.items():
        fig = make(report)
        if fig is None:
            continue
        try:
            fig.savefig(plots_dir / f"{name}.png", dpi=150)
            fig.savefig(plots_dir / f"{name}.svg")
        finally:
            plt.close(fig)
        written.append(plots_dir / f"{name}.png")
    return written
