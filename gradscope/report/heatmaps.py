"""Figures of summary numbers over the options a set of runs (a sweep, a compare) varies
along: heat maps of the gain per step and the memory horizon over two options (each cell the
mean of its runs), and the gain per step against the scale of W_hh."""

from __future__ import annotations

import numpy as np

from .plots_style import run_styles

HEATMAP_METRICS = (("log10_gain_per_step", "log10 gain per step", "+.3f"),
                   ("memory_horizon", "memory horizon (steps; blank: never)", ".0f"))


def heatmap_axes(report: dict) -> tuple[str, str] | None:
    """The two options the runs vary most along (grid keys first), or None."""
    runs = report.get("runs") or []
    keys = list((report.get("grid") or {}).get("keys") or [])
    keys += [k for r in runs for k in (r.get("config") or {}) if k not in keys]
    varying = [k for k in dict.fromkeys(keys)
               if len({repr((r.get("config") or {}).get(k)) for r in runs}) > 1]
    return (varying[0], varying[1]) if len(varying) >= 2 else None


def heatmap_table(report: dict, a: str, b: str, metric: str):
    """(values of a, values of b, mean of `metric` over the runs at each (a, b))."""
    runs = report.get("runs") or []
    cfg = [r.get("config") or {} for r in runs]
    va = sorted({c.get(a) for c in cfg}, key=repr)
    vb = sorted({c.get(b) for c in cfg}, key=repr)
    if all(isinstance(v, (int, float)) for v in va + vb):
        va, vb = sorted(va), sorted(vb)
    grid = np.full((len(vb), len(va)), np.nan)
    for j, y in enumerate(vb):
        for i, x in enumerate(va):
            vals = [(r.get("summary") or {}).get(metric) for r, c in zip(runs, cfg, strict=True)
                    if c.get(a) == x and c.get(b) == y]
            vals = [v for v in vals if v is not None]
            if vals:
                grid[j, i] = float(np.mean(vals))
    return va, vb, grid


def fig_heatmaps(report: dict):
    """Summary numbers over the two options the runs vary along (means over the others)."""
    axes = heatmap_axes(report)
    if axes is None:
        return None
    from .figures import new_figure

    a, b = axes
    fig, panels = new_figure(11, 4.4, ncols=len(HEATMAP_METRICS))
    for ax, (metric, name, spec) in zip(panels, HEATMAP_METRICS, strict=True):
        va, vb, grid = heatmap_table(report, a, b, metric)
        cmap = "RdBu_r" if metric == "log10_gain_per_step" else "viridis"
        lim = np.nanmax(np.abs(grid)) if np.isfinite(grid).any() else 1.0
        kw = {"vmin": -lim, "vmax": lim} if metric == "log10_gain_per_step" else {}
        im = ax.imshow(grid, cmap=cmap, aspect="auto", origin="lower", gid=f"heatmap:{metric}",
                       **kw)
        for (j, i), v in np.ndenumerate(grid):
            if np.isfinite(v):
                r, g, b_, _ = im.cmap(im.norm(v))
                dark = 0.299 * r + 0.587 * g + 0.114 * b_ < 0.5
                ax.text(i, j, format(v, spec), ha="center", va="center", fontsize=7,
                        color="white" if dark else "black")
        ax.set_xticks(range(len(va)), [str(v) for v in va], fontsize=8)
        ax.set_yticks(range(len(vb)), [str(v) for v in vb], fontsize=8)
        ax.set(xlabel=a, ylabel=b, title=name)
        ax.title.set_fontsize(10)
        fig.colorbar(im, ax=ax, shrink=0.85)
    return fig


def fig_gain_vs_scale(report: dict):
    """Gain per step against the scale of W_hh, a line per kind of run (coloured as in the
    other figures): the mean over the runs at each scale (seeds) with their range as a band,
    and the mean-field theory where it applies. None when no kind of run has 2 scales."""
    runs = [r for r in report.get("runs") or []
            if (r.get("config") or {}).get("scale") is not None
            and "log10_gain_per_step" in (r.get("summary") or {})]
    styles = run_styles(runs, exclude=("scale",))
    lines = [(look, [r for r, lk in zip(runs, styles.looks, strict=True) if lk == look])
             for _, look in styles.entries()]
    if all(len({r["config"]["scale"] for r in g}) < 2 for _, g in lines):
        return None
    from matplotlib.lines import Line2D

    from .figures import new_figure

    fig, ax = new_figure(9, 4.8)
    for look, group in lines:
        name = look.label or "measured"
        x, (mean, lo, hi) = _by_scale(group, "log10_gain_per_step")
        ax.plot(x, mean, marker="o", color=look.color, ls=look.ls, lw=1.8, ms=5, label=name,
                gid=f"{name}:gain")
        if np.any(hi > lo):
            ax.fill_between(x, lo, hi, color=look.color, alpha=0.2, lw=0, gid=f"{name}:band")
        x, (theory, _, _) = _by_scale(group, "theory_log10_gain_per_step")
        if np.isfinite(theory).any():
            ax.plot(x, theory, "--", color=look.color, lw=1.1, gid=f"{name}:theory")
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set(xlabel="scale of W_hh", ylabel="log10 gain per step")
    fig.suptitle("Gain per step against the scale of W_hh (below 0 vanishing, above 0 "
                 "exploding)", fontsize=11)
    ax.grid(alpha=0.3)
    handles = ax.get_legend_handles_labels()[0]
    if any(ln.get_gid().endswith(":theory") for ln in ax.lines):
        handles.append(Line2D([], [], color="0.3", ls="--", lw=1.1, label="mean-field theory"))
    if any(c.get_gid().endswith(":band") for c in ax.collections):
        handles.append(Line2D([], [], color="0.3", lw=6, alpha=0.25,
                              label=f"min – max over {_replicates(styles)}"))
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              frameon=False, title=f"mean over {_replicates(styles)}" if styles.note else None,
              title_fontsize=8)
    return fig


def _by_scale(runs: list[dict], metric: str):
    """The scales of `runs`, sorted, and the mean, min and max of `metric` over the runs at
    each (NaN where none has a value)."""
    scales = sorted({r["config"]["scale"] for r in runs})
    out = np.full((3, len(scales)), np.nan)
    for j, s in enumerate(scales):
        vals = [(r.get("summary") or {}).get(metric) for r in runs if r["config"]["scale"] == s]
        vals = [v for v in vals if v is not None]
        if vals:
            out[:, j] = np.mean(vals), min(vals), max(vals)
    return np.array(scales, dtype=float), out


def _replicates(styles) -> str:
    return "seeds" if "seed" in styles.note else "runs"
