"""The `spectrum` figure: like with like. The singular values of each square recurrent block
(the RNN's W_hh, each gate's H×H block of an LSTM or GRU, never their stacked 4H×H matrix),
and the eigenvalues of each kind of run in a panel of its own, with the unit circle."""

from __future__ import annotations

import numpy as np

from .figures import as_array, blank_figure, integer_ticks, log_ticks
from .plots_style import run_styles

GATE_MARKERS = {"i": "o", "f": "s", "g": "D", "o": "^", "r": "v", "z": "P", "n": "X"}
GATE_COLORS = {"i": "#1b9e77", "f": "#d95f02", "g": "#7570b3", "o": "#e7298a",
               "r": "#66a61e", "z": "#e6ab02", "n": "#a6761d"}
EIGEN_COLS = 6  # eigenvalue panels per row at most


def blocks(spectrum: dict) -> list[tuple[str, dict]]:
    """(name, block) of each square recurrent block: the gates', or ("W_hh", the whole)."""
    return list((spectrum.get("blocks") or {}).items()) or [("W_hh", spectrum)]


def fig_spectrum(report: dict):
    """Singular values per block (log axis, σ = 1 line), one panel per value of the first
    varying option past a handful of runs; eigenvalues in a panel per kind of run."""
    runs = report.get("runs") or []
    idx = [i for i, r in enumerate(runs) if r.get("spectrum")]
    if not idx:
        return None
    styles = run_styles(runs)
    rows = _eigen_rows(styles, idx)
    ncols = max(len(row) for row in rows)
    if len(rows) == 1 and ncols <= 2:
        fig = blank_figure(7.5 + 3.2 * ncols, 4.8)
        top, bottom = fig.subfigures(1, 2, width_ratios=(1.5, ncols))
    else:
        side = min(2.6, 10.5 / ncols)
        fig = blank_figure(12, 4.6 + side * len(rows))
        top, bottom = fig.subfigures(2, 1, height_ratios=(3.8, side * len(rows) + 0.3))
    gated = _singular_values(top, runs, idx, styles)
    _eigenvalues(bottom, runs, idx, styles, rows)
    what = "each recurrent block (W_hh; each gate's H×H block)" if gated else "W_hh"
    layers = any((runs[i].get("config") or {}).get("layers", 1) > 1 for i in idx)
    fig.suptitle(f"Spectrum of {what}" + (", layer 0" if layers else ""), fontsize=11)
    return fig


def _replicates(runs: list[dict], idx: list[int], styles, look) -> list[dict]:
    return [runs[i] for i in idx if styles.looks[i] == look]


def _singular_values(subfig, runs: list[dict], idx: list[int], styles) -> bool:
    """A panel per value of the first option (one up to a handful of kinds of run): each
    block's singular values, the mean over replicates, in the run's colour with the block's
    marker. Returns whether any run has gate blocks."""
    from matplotlib.lines import Line2D

    panels = [p for p in styles.panels if styles.entries(idx, p)]
    axes = np.atleast_1d(subfig.subplots(1, len(panels), sharey=True))
    names: dict[str, None] = {}
    legends = [_sv_panel(ax, runs, idx, styles, panel, names)
               for ax, panel in zip(axes, panels, strict=True)]
    axes[0].set_ylabel("singular value σ")
    log_ticks(axes[0])
    marks = [Line2D([], [], color="0.3", lw=1.3, marker=GATE_MARKERS.get(n), ms=4,
                    label=f"gate {n}" if n in GATE_MARKERS else "W_hh (no gates)")
             for n in names]
    marks.append(Line2D([], [], color="0.3", lw=0.9, ls="--", label="σ = 1"))
    if len(panels) == 1:  # one legend in the panel: the runs, then what the marks mean
        legends[0][0].extend(marks)
    else:
        subfig.legend(handles=marks, loc="outside right upper", fontsize=8, frameon=False,
                      title="singular values of", title_fontsize=8)
    for ax, (handles, title) in zip(axes, legends, strict=True):
        ax.legend(handles=handles, title=title or None, fontsize=7.5, title_fontsize=8,
                  loc="lower left", framealpha=0.85, ncol=2 if len(handles) > 12 else 1)
    return any(n in GATE_MARKERS for n in names)


def _sv_panel(ax, runs: list[dict], idx: list[int], styles, panel: str,
              names: dict) -> tuple[list, str]:
    """The singular values of the runs on `panel` (adding the block names drawn to
    `names`); returns the panel's legend entries and title."""
    from matplotlib.lines import Line2D

    handles = []
    for i, look in styles.entries(idx, panel):
        for k, (name, _) in enumerate(blocks(runs[i]["spectrum"])):
            sv = _mean_sorted([blocks(r["spectrum"])[k][1].get("singular_values") or []
                               for r in _replicates(runs, idx, styles, look)])
            step = max(1, len(sv) // 8)
            ax.plot(np.arange(1, len(sv) + 1), sv, color=look.color, ls=look.ls, lw=1.3,
                    marker=GATE_MARKERS.get(name), ms=4, markevery=(k * step // 4, step),
                    gid=f"{i}:singular_values:{name}")
            names[name] = None
        label = styles.text(look) or str(runs[i].get("label", ""))
        handles.append(Line2D([], [], color=look.color, ls=look.ls, lw=2, label=label))
    ax.axhline(1, color="0.3", lw=0.9, ls="--", gid="sigma_one")
    integer_ticks(ax)
    ax.set(xlabel="index (largest first)", yscale="log")
    ax.grid(alpha=0.3, which="both")
    note = styles.note
    return handles, (f"{panel} ({note})" if panel and note else panel or note)


def _mean_sorted(values: list[list]) -> np.ndarray:
    """Each list sorted largest first, averaged elementwise (lists of one length; else the
    first); values ≤ 0 as NaN (a log axis cannot show them)."""
    arrays = [np.sort(as_array(v))[::-1] for v in values]
    same = len({a.size for a in arrays}) == 1
    sv = np.mean(arrays, axis=0) if same else arrays[0]
    sv[~(sv > 0)] = np.nan
    return sv


def _eigen_rows(styles, idx: list[int]) -> list[list]:
    """The eigenvalue panels (first run index, look) by rows: a row per value of the first
    option when it has several kinds of run, else rows of up to EIGEN_COLS."""
    entries = styles.entries(idx)
    groups: dict[str, list] = {}
    for entry in entries:
        groups.setdefault(entry[1].panel, []).append(entry)
    if len(groups) < len(entries) and len(groups) <= EIGEN_COLS:
        rows = list(groups.values())
    else:
        rows = [entries]
    return [row[k:k + EIGEN_COLS] for row in rows for k in range(0, len(row), EIGEN_COLS)]


def _eigenvalues(subfig, runs: list[dict], idx: list[int], styles, rows: list[list]) -> None:
    """A panel per kind of run (replicates pooled) with the unit circle: gate blocks in their
    gate's colour and marker, an RNN's W_hh in the run's colour. Same limits in all (set,
    not shared: shared axes would rescale each other at every point set)."""
    from matplotlib.lines import Line2D

    ncols = max(len(row) for row in rows)
    by_row = all(look.rest and look.panel == row[0][1].panel for row in rows for _, look in row)
    points = {(r, c): _pooled_eigenvalues(runs, idx, styles, look)
              for r, row in enumerate(rows) for c, (_, look) in enumerate(row)}
    finite = [np.hypot(ev[:, 0], ev[:, 1]) for p in points.values() for ev in p.values()]
    finite = np.concatenate([f[np.isfinite(f)] for f in finite] or [np.zeros(0)])
    lim = 1.08 * max(1.0, float(finite.max()) if finite.size else 1.0)
    grid = subfig.subplots(len(rows), ncols, squeeze=False)
    names: dict[str, None] = {}
    for (r, c), ax in np.ndenumerate(grid):
        if c >= len(rows[r]):
            ax.set_axis_off()
            continue
        i, look = rows[r][c]
        bottom = r + 1 == len(rows) or c >= len(rows[r + 1])
        _eigen_panel(ax, points[r, c], look, lim, f"{i}:eigenvalues", left=c == 0,
                     bottom=bottom)
        ax.set_title(_wrap(look.rest if by_row else look.label or str(runs[i].get("label", "")),
                           60 // ncols), fontsize=8)
        if c == 0:
            ax.set_ylabel(f"{look.panel}\nIm λ" if by_row else "Im λ", fontsize=8)
        names.update(dict.fromkeys(points[r, c]))
    marks = [Line2D([], [], ls="", marker=GATE_MARKERS.get(n, "o"), ms=5,
                    color=GATE_COLORS.get(n, "0.3"),
                    label=f"gate {n}" if n in GATE_MARKERS else "W_hh (colour of its run)")
             for n in names]
    marks.append(Line2D([], [], color="0.3", lw=0.9, label="unit circle"))
    below = len(rows) == 1 and ncols <= 2  # beside the singular values: under the panels
    subfig.legend(handles=marks, loc="outside lower center" if below else "outside right upper",
                  ncol=min(len(marks), 3) if below else 1, fontsize=8, frameon=False,
                  title="eigenvalues of", title_fontsize=8)


def _pooled_eigenvalues(runs: list[dict], idx: list[int], styles, look) -> dict:
    """Block name -> the (n, 2) eigenvalues of that block in every run of `look`."""
    pooled: dict[str, list] = {}
    for run in _replicates(runs, idx, styles, look):
        for name, block in blocks(run["spectrum"]):
            pooled.setdefault(name, []).append(_eigenvalue_array(block))
    return {name: np.concatenate(parts) for name, parts in pooled.items()}


def _eigen_panel(ax, points: dict, look, lim: float, gid: str, left: bool,
                 bottom: bool) -> None:
    """One kind of run's eigenvalues (gids `<gid>:<block>`) within ±lim, the unit circle;
    tick labels only on the left and lowest panels."""
    from matplotlib.ticker import MaxNLocator

    ax.set(xlim=(-lim, lim), ylim=(-lim, lim))
    ax.set_aspect("equal", adjustable="box")
    for name, ev in points.items():
        gated = name in GATE_MARKERS
        ax.scatter(ev[:, 0], ev[:, 1], s=9 if gated else 12, lw=0, alpha=0.75,
                   marker=GATE_MARKERS.get(name, "o"), color=GATE_COLORS.get(name, look.color),
                   gid=f"{gid}:{name}")
    th = np.linspace(0, 2 * np.pi, 200)
    ax.plot(np.cos(th), np.sin(th), color="0.3", lw=0.9, gid="unit_circle")
    ax.grid(alpha=0.3)
    ax.tick_params(labelsize=7, labelleft=left, labelbottom=bottom)
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(4, steps=[1, 2, 5, 10]))
    if bottom:
        ax.set_xlabel("Re λ", fontsize=8)


def _wrap(title: str, width: int) -> str:
    """A panel title on one line, or one option a line when it is long."""
    return title.replace(" · ", "\n") if len(title) > width else title


def _eigenvalue_array(block: dict) -> np.ndarray:
    """A block's eigenvalues as an (n, 2) array of (re, im); None entries as NaN."""
    return np.array([[np.nan, np.nan] if e is None else [np.nan if x is None else x for x in e]
                     for e in block.get("eigenvalues") or []], dtype=float).reshape(-1, 2)
