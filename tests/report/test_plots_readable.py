"""Every analysis figure stays readable from 1 run to a 108-cell sweep: no legend leaves the
image, covers the title or another panel, and drawing says nothing (no matplotlib or numpy
warning), also for runs whose values are non-finite or missing altogether."""

import copy
import io
import warnings

import pytest

from gradscope.report import plots
from gradscope.report.figures import save_svg

from .conftest import _main_report, make_report
from .plot_reports import grid_report, grid_run

SWEEP_SCALES = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)


def _missing_run(arch: str = "rnn") -> dict:
    """A run whose every value is missing: non-finite from step 0 (JSON null)."""
    run = grid_run(arch, 1.0)
    for key, values in run["series"].items():
        if values is not None:
            run["series"][key] = [None] * len(values)
    run["lyapunov"] = [None] * 3
    run["summary"].update(log10_gain_per_step=None, memory_horizon=None, first_nonfinite_step=0,
                          theory_log10_gain_per_step=None)
    for block in [run["spectrum"], *run["spectrum"]["blocks"].values()]:
        block["singular_values"] = [None] * len(block["singular_values"])
        block["eigenvalues"] = [[None, None]] * len(block["eigenvalues"])
    return run


def _sweep() -> dict:
    report = grid_report(scales=SWEEP_SCALES, seeds=range(6), command="sweep")
    report["grid"] = {"keys": ["arch", "scale", "seed"], "cells": 108, "missing": 0}
    return report


REPORTS = {
    "1 run": lambda: grid_report(("lstm",), (1.0,)),
    "9 runs": grid_report,
    "108-cell sweep": _sweep,
    "non-finite steps": lambda: make_report([*_main_report()["runs"], _missing_run("gru")]),
    "all values missing": lambda: make_report([_missing_run(), _missing_run("lstm")]),
}


def _legends(fig) -> list:
    figures = [fig, *fig.subfigs]
    return [leg for f in figures for leg in f.legends] + [
        ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]


def _draw(report_name: str):
    """[(figure name, figure, renderer)]: every figure of the report `report_name` drawn
    (at a low resolution, for speed; the layout is in inches) with every warning an error;
    those of missing values also as SVG, as the report folder writes them."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    report = REPORTS[report_name]()
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name, make in plots.FIGURES.items():
            fig = make(copy.deepcopy(report))
            if fig is not None:
                fig.set_dpi(60)
                canvas = FigureCanvasAgg(fig)
                canvas.draw()
                out.append((name, fig, canvas.get_renderer()))
                if "missing" in report_name:
                    save_svg(fig, io.BytesIO())
    return out


@pytest.mark.parametrize("name", list(REPORTS))
def test_figures_draw_silently_with_their_legends_inside_and_clear(name):
    # (one test per report, so that each report is drawn once, on one worker)
    figures = _draw(name)  # drawn under simplefilter("error"): a warning would have raised
    assert {"jacobian_norm", "local_norm", "saturation", "spectrum"} <= {n for n, _, _ in figures}
    if name == "108-cell sweep":
        assert {"gain_vs_scale", "heatmaps", "lyapunov"} <= {n for n, _, _ in figures}
    for fig_name, fig, renderer in figures:
        _assert_legends_inside_and_clear(fig_name, fig, renderer)


def _assert_legends_inside_and_clear(name, fig, renderer):
    """No legend leaves the image, covers the title or another panel."""
    box = fig.bbox
    title = fig._suptitle.get_window_extent(renderer) if fig._suptitle else None
    for leg in _legends(fig):
        ext = leg.get_window_extent(renderer)
        assert box.x0 - 1 <= ext.x0 and ext.x1 <= box.x1 + 1, name
        assert box.y0 - 1 <= ext.y0 and ext.y1 <= box.y1 + 1, name
        assert title is None or not ext.overlaps(title), name
        own = leg.axes if leg.axes is not None else None
        for ax in fig.axes:
            if ax is not own and ax.get_visible() and ax.axison:
                assert not ext.overlaps(ax.get_window_extent(renderer)), (name, ax)
