"""Rendering of `train` reports: series.csv per iteration, loss / gradient-norm / task-error /
Jacobian figures, and the Markdown and HTML reports. Pure functions of the report dict.

Runs are laid out by architecture (one panel each) and clip setting (one colour each, the
same in every panel). Every data line carries a gid `"<run index>:<series>"`.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from .figures import as_array, new_figure, run_colors, write_figures
from .text import fmt, share

SUMMARY_COLUMNS = ("run", "final loss", "baseline", "task error", "solved", "clipped",
                   "first non-finite iter", "ρ(W_hh) start → end", "log10 ‖P_0‖ start → end")

SUMMARY_NOTE = (
    "Final loss and task error: on a fixed held-out batch after the last iteration. Baseline: "
    "the loss of the best memoryless predictor (adding: predicting 0.5 always, 1/24; copy: "
    "blanks then uniform guesses, 10·ln 8/(T + 20); torder: ln 4; charlm: the character "
    "frequencies). Solved: task error below the task's threshold. Clipped: share of the updates "
    "that clipping changed. ρ(W_hh): spectral radius of layer 0's recurrent weights (largest "
    "|eigenvalue| over the gate blocks for LSTM/GRU). ‖P_0‖ = ‖∂s_T/∂s_0‖ on the first "
    "held-out sequences. A run whose loss, gradient norm or weights became non-finite stops "
    "at that iteration; its later values are empty.")

FIGURE_CAPTIONS = {
    "loss": "Training loss per iteration (faint) and its running mean (solid), log scale; the "
            "dashed line is the memoryless baseline, × the first non-finite iteration.",
    "grad_norm": "Global gradient norm before clipping, per iteration; dashed lines are the "
                 "clip thresholds θ. Below, one row per run: ticks where clipping changed the "
                 "update.",
    "task_error": "Task error on the held-out batch at each evaluation; the dashed line is "
                  "the threshold for 'solved'.",
    "jacobian": "log10 ‖∂s_T/∂s_t‖ against t at each checkpoint (dark: early, light: late): "
                "how training changes the reach of the gradient back in time.",
}
FIGURE_ORDER = tuple(FIGURE_CAPTIONS)


# --------------------------------------------------------------------------- layout


def _split_label(run: dict) -> tuple[str, str]:
    arch, _, clip = str(run.get("label", "")).partition(" · clip ")
    return arch, clip or "none"


def _layout(runs: list[dict]) -> tuple[list[str], list[str], dict]:
    """Architectures (panels), clip settings (colours) and their colour map."""
    archs = list(dict.fromkeys(_split_label(r)[0] for r in runs))
    clips = list(dict.fromkeys(_split_label(r)[1] for r in runs))
    return archs, clips, dict(zip(clips, run_colors(len(clips)), strict=True))


def _smooth(y: np.ndarray, width: int) -> np.ndarray:
    """Running mean over the last `width` finite values; NaN where y is NaN."""
    ok = np.isfinite(y)
    c = np.concatenate([[0.0], np.cumsum(np.where(ok, y, 0.0))])
    n = np.concatenate([[0], np.cumsum(ok)])
    lo = np.maximum(np.arange(len(y)) + 1 - width, 0)
    hi = np.arange(len(y)) + 1
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (c[hi] - c[lo]) / (n[hi] - n[lo])
    return np.where(ok, out, np.nan)


def _legend(ax, clips: list[str], colors: dict, extra: list | None = None) -> None:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=colors[c], lw=2, label=f"clip {c}") for c in clips]
    ax.legend(handles=handles + (extra or []), fontsize=8, loc="best", framealpha=0.8)


def _panels(n: int, height: float, width_each: float = 5.2):
    fig, axes = new_figure(max(6.0, width_each * n), height, n)
    return fig, list(np.atleast_1d(axes))


def _mark_nonfinite(ax, run: dict, y: np.ndarray, color, gid: str) -> bool:
    bad = (run.get("summary") or {}).get("first_nonfinite_iter")
    if bad is None:
        return False
    finite = y[np.isfinite(y) & (y > 0)]
    level = finite.max() if finite.size else 1.0
    ax.plot([bad], [level], marker="x", ms=10, mew=2.5, color=color, ls="", gid=gid)
    ax.axvline(bad, color=color, ls=":", lw=1.2)
    return True


# --------------------------------------------------------------------------- figures


def fig_loss(report: dict):
    runs = [r for r in report.get("runs") or [] if (r.get("series") or {}).get("loss")]
    if not runs:
        return None
    archs, clips, colors = _layout(runs)
    fig, axes = _panels(len(archs), 4.4)
    from matplotlib.lines import Line2D

    any_bad = False
    for i, run in enumerate(report["runs"]):
        if run not in runs:
            continue
        arch, clip = _split_label(run)
        ax, c = axes[archs.index(arch)], colors[clip]
        y = as_array(run["series"]["loss"])
        t = np.arange(len(y))
        ax.plot(t, y, color=c, lw=0.7, alpha=0.3, gid=f"{i}:loss")
        ax.plot(t, _smooth(y, max(1, len(y) // 40)), color=c, lw=1.8, gid=f"{i}:loss_smooth")
        any_bad |= _mark_nonfinite(ax, run, y, c, f"{i}:first_nonfinite_iter")
    baseline = (runs[0].get("summary") or {}).get("baseline_loss")
    extra = []
    if baseline is not None:
        extra.append(Line2D([], [], color="0.3", ls="--", lw=1.2, label="memoryless baseline"))
    if any_bad:
        extra.append(Line2D([], [], color="0.3", marker="x", ls="", mew=2,
                            label="first non-finite iteration"))
    for arch, ax in zip(archs, axes, strict=True):
        if baseline is not None:
            ax.axhline(baseline, color="0.3", ls="--", lw=1.2, gid="baseline")
        ax.set(yscale="log", xlabel="iteration", ylabel="training loss", title=arch)
        ax.grid(alpha=0.3, which="both")
    _legend(axes[0], clips, colors, extra)
    fig.suptitle("Training loss", fontsize=11)
    return fig


def fig_grad_norm(report: dict):
    runs = [r for r in report.get("runs") or [] if (r.get("series") or {}).get("grad_norm")]
    if not runs:
        return None
    archs, clips, colors = _layout(runs)
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    fig = Figure(figsize=(max(6.0, 5.2 * len(archs)), 5.0), layout="constrained")
    grid = fig.subplots(2, len(archs), squeeze=False, sharex="col",
                        gridspec_kw={"height_ratios": [4, 1]})
    norm_mode = True
    for i, run in enumerate(report["runs"]):
        if run not in runs:
            continue
        arch, clip = _split_label(run)
        col = archs.index(arch)
        ax, rug, c = grid[0, col], grid[1, col], colors[clip]
        y = as_array(run["series"]["grad_norm"])
        ax.plot(np.arange(len(y)), y, color=c, lw=0.8, gid=f"{i}:grad_norm")
        theta = (run.get("config") or {}).get("clip")
        norm_mode = (run.get("config") or {}).get("clip_mode", "norm") == "norm"
        if isinstance(theta, (int, float)) and norm_mode:
            ax.axhline(theta, color=c, ls="--", lw=1.3, gid=f"{i}:threshold")
        events = np.flatnonzero(np.array(run["series"].get("clipped") or [], dtype=float) > 0)
        row = clips.index(clip)
        rug.plot(events, np.full(len(events), row), ls="", marker="|", ms=7, color=c,
                 gid=f"{i}:clip_events")
    for col, arch in enumerate(archs):
        ax, rug = grid[0, col], grid[1, col]
        ax.set(yscale="log", ylabel="‖g‖ before clipping", title=arch)
        ax.grid(alpha=0.3, which="both")
        rug.set(yticks=range(len(clips)), yticklabels=[f"clip {c}" for c in clips],
                ylim=(-0.7, len(clips) - 0.3), xlabel="iteration")
        rug.tick_params(axis="y", labelsize=7)
        rug.set_title("clip events", fontsize=8, loc="left")
    extra = [Line2D([], [], color="0.3", ls="--", lw=1.3,
                    label="threshold θ" if norm_mode else "θ is per entry (value mode)")]
    _legend(grid[0, 0], clips, colors, extra)
    fig.suptitle("Gradient norm per iteration, and when clipping acted", fontsize=11)
    return fig


def fig_task_error(report: dict):
    runs = [r for r in report.get("runs") or [] if (r.get("series") or {}).get("task_error")]
    if not runs:
        return None
    archs, clips, colors = _layout(runs)
    fig, axes = _panels(len(archs), 3.8)
    for i, run in enumerate(report["runs"]):
        if run not in runs:
            continue
        arch, clip = _split_label(run)
        s = run["series"]
        x = s.get("eval_iter") or list(range(len(s["task_error"])))
        axes[archs.index(arch)].plot(x, as_array(s["task_error"]), color=colors[clip],
                                     marker="o", ms=3.5, lw=1.5, gid=f"{i}:task_error")
    from matplotlib.lines import Line2D

    below = (runs[0].get("summary") or {}).get("solved_below")
    for arch, ax in zip(archs, axes, strict=True):
        if below is not None:
            ax.axhline(below, color="0.3", ls="--", lw=1.1, gid="solved_below")
        ax.set(xlabel="iteration", ylabel="task error (held-out)", title=arch, ylim=(-0.02, 1.02))
        ax.grid(alpha=0.3)
    extra = [Line2D([], [], color="0.3", ls="--", lw=1.1, label="solved below")] if below else []
    _legend(axes[0], clips, colors, extra)
    fig.suptitle("Task error during training", fontsize=11)
    return fig


def fig_jacobian(report: dict):
    runs = [r for r in report.get("runs") or [] if r.get("checkpoints")]
    if not runs:
        return None
    archs, clips, _ = _layout(runs)
    import matplotlib
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    iters = [ck["iter"] for r in runs for ck in r["checkpoints"]]
    norm = Normalize(min(iters), max(max(iters), min(iters) + 1))
    cmap = matplotlib.colormaps["viridis"]
    fig = Figure(figsize=(max(6.0, 3.8 * len(clips) + 1.0), 3.0 * len(archs) + 0.6),
                 layout="constrained")
    grid = fig.subplots(len(archs), len(clips), squeeze=False, sharey=True)
    for ax in grid.flat:
        ax.set_visible(False)
    for i, run in enumerate(report["runs"]):
        if run not in runs:
            continue
        arch, clip = _split_label(run)
        ax = grid[archs.index(arch), clips.index(clip)]
        ax.set_visible(True)
        for ck in run["checkpoints"]:
            y = as_array(ck["log10_jacobian_norm"])
            ax.plot(np.arange(len(y)), y, color=cmap(norm(ck["iter"])), lw=1.4,
                    gid=f"{i}:jacobian@{ck['iter']}")
        ax.set_title(str(run.get("label", "")), fontsize=9)
        ax.grid(alpha=0.3)
        ax.set_xlabel("time step t", fontsize=8)
        if clips.index(clip) == 0:
            ax.set_ylabel("log10 ‖∂s_T/∂s_t‖", fontsize=8)
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=grid, label="iteration",
                 shrink=0.9)
    fig.suptitle("Jacobian profile at each checkpoint", fontsize=11)
    return fig


FIGURES = {"loss": fig_loss, "grad_norm": fig_grad_norm, "task_error": fig_task_error,
           "jacobian": fig_jacobian}


def write_plots(report: dict, plots_dir: Path) -> list[Path]:
    """Each figure as `<name>.png` (150 dpi) and `<name>.svg`; returns the PNG paths."""
    return write_figures(report, plots_dir, FIGURES)


# --------------------------------------------------------------------------- series.csv

CSV_COLUMNS = ("loss", "grad_norm", "clipped", "task_error", "eval_loss")


def _num(v) -> str:
    return "" if v is None else repr(float(v)) if not isinstance(v, int) else str(v)


def render_series_csv(report: dict) -> str:
    """One row per (run, iteration): `iter` k holds the loss, gradient norm and clip flag of
    iteration k and, where an evaluation happened after k updates, its task error and loss
    (the last row, k = iters, has only those)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["run", "label", "iter", *CSV_COLUMNS])
    for n, run in enumerate(report.get("runs") or []):
        s = run.get("series") or {}
        loss, norm, clipped = s.get("loss") or [], s.get("grad_norm") or [], s.get("clipped") or []
        evals = dict(zip(s.get("eval_iter") or [],
                         zip(s.get("task_error") or [], s.get("eval_loss") or [], strict=False),
                         strict=False))
        last = max([len(loss) - 1, *evals]) if (loss or evals) else -1
        for k in range(last + 1):
            err, ev = evals.get(k, (None, None))
            per_iter = [loss[k], norm[k], clipped[k]] if k < len(loss) else [None] * 3
            w.writerow([n, run.get("label", ""), k, *(_num(v) for v in (*per_iter, err, ev))])
    return buf.getvalue()


# --------------------------------------------------------------------------- words


def _endpoints(ck: list[dict], key: str, spec: str) -> str:
    if not ck:
        return "–"

    def value(c):
        v = c[key][0] if key == "log10_jacobian_norm" else c[key]
        return fmt(v, spec)

    return f"{value(ck[0])} → {value(ck[-1])}"


def summary_row(run: dict) -> list[str]:
    s, ck = run.get("summary") or {}, run.get("checkpoints") or []
    return [str(run.get("label", "")), fmt(s.get("final_loss"), ".4g"),
            fmt(s.get("baseline_loss"), ".4g"), fmt(s.get("final_task_error"), ".3f"),
            "yes" if s.get("solved") else "no", share(s.get("clip_fraction")),
            fmt(s.get("first_nonfinite_iter"), "d"), _endpoints(ck, "spectral_radius", ".3f"),
            _endpoints(ck, "log10_jacobian_norm", ".2f")]


def explain(run: dict) -> list[str]:
    """Sentences saying what one training run did."""
    s, cfg, ck = run.get("summary") or {}, run.get("config") or {}, run.get("checkpoints") or []
    out = []
    bad, iters = s.get("first_nonfinite_iter"), s.get("iterations")
    if bad is not None:
        out.append(f"Training diverged: at iteration {bad} the loss, the gradient norm or the "
                   f"updated weights were not finite, so this run stopped there (its weights "
                   f"are the last finite ones).")
    elif s.get("final_loss") is not None:
        base, loss = s.get("baseline_loss"), s["final_loss"]
        ratio = f" ({loss / base:.2g} × the memoryless baseline {base:.4g})" if base else ""
        out.append(f"After {iters} iterations the held-out loss is {loss:.4g}{ratio} and the "
                   f"task error {fmt(s.get('final_task_error'), '.3f')}: "
                   f"{'solved' if s.get('solved') else 'not solved'} (threshold "
                   f"{fmt(s.get('solved_below'), 'g')}).")
    frac = s.get("clip_fraction")
    if cfg.get("clip") not in (None, "none") and frac is not None:
        out.append(f"Clipping ({cfg.get('clip_mode', 'norm')} mode, θ = {cfg['clip']}) changed "
                   f"{share(frac)} of the updates.")
    if len(ck) >= 2 and ck[0]["log10_jacobian_norm"][0] is not None \
            and ck[-1]["log10_jacobian_norm"][0] is not None:
        a, b = ck[0]["log10_jacobian_norm"][0], ck[-1]["log10_jacobian_norm"][0]
        out.append(f"Across the whole sequence ‖∂s_T/∂s_0‖ went from 10^{a:.2f} at iteration "
                   f"{ck[0]['iter']} to 10^{b:.2f} at iteration {ck[-1]['iter']}; the spectral "
                   f"radius of W_hh from {ck[0]['spectral_radius']:.3f} to "
                   f"{ck[-1]['spectral_radius']:.3f}.")
    return out


def _title(report: dict) -> str:
    runs = report.get("runs") or []
    task = ((runs[0].get("config") or {}).get("task") if runs else None) or "?"
    return f"gradscope report — train on {task}"


def _interrupted_note(report: dict) -> list[str]:
    if not report.get("interrupted"):
        return []
    return ["Training was interrupted (Ctrl-C): this report holds the iterations done until "
            "then."]


# --------------------------------------------------------------------------- markdown, html


def _document_layout(report: dict):
    from .document import Layout

    runs = report.get("runs") or []
    return Layout(_title(report), SUMMARY_COLUMNS, [summary_row(r) for r in runs], SUMMARY_NOTE,
                  explain, FIGURE_CAPTIONS, FIGURE_ORDER, notes=_interrupted_note(report))


def render_markdown(report: dict, plot_files: list[str]) -> str:
    """The Markdown report; `plot_files` are PNG paths relative to the report folder."""
    from .document import markdown_document

    return markdown_document(report, plot_files, _document_layout(report))


def render_html(report: dict, plots_dir: Path) -> str:
    """The HTML report, figures inlined as base64 (one self-contained file)."""
    from .document import html_document

    return html_document(report, plots_dir, _document_layout(report))
