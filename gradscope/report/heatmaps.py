"""Heat maps of summary numbers over the two options a set of runs (a sweep, a compare)
varies along: the gain per step and the memory horizon, each cell the mean of its runs."""

from __future__ import annotations

import numpy as np

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
