"""Heat maps: each cell is the mean of the runs at that point of the two varying options; the
gain against the scale: a line per kind of run, the mean over its seeds with their range."""

import math

import numpy as np
import pytest

from gradscope.report.heatmaps import (
    fig_gain_vs_scale,
    fig_heatmaps,
    heatmap_axes,
    heatmap_table,
)
from gradscope.report.plots_style import family_color

from .conftest import linear_rnn_run, make_report
from .plot_reports import grid_report


def test_heatmap_cells_are_means_of_the_runs_at_each_point():
    runs = []
    for a in (0.5, 2.0):
        for H in (3, 5):
            for seed in (0, 1):
                run = linear_rnn_run(a, 10, H, f"a {a} H {H} seed {seed}")
                run["config"]["seed"] = seed
                run["summary"]["log10_gain_per_step"] += 0.01 * seed  # the mean is +0.005
                runs.append(run)
    report = make_report(runs, "sweep")
    report["grid"] = {"keys": ["scale", "hidden", "seed"]}
    assert heatmap_axes(report) == ("scale", "hidden")
    xs, ys, grid = heatmap_table(report, "scale", "hidden", "log10_gain_per_step")
    assert xs == [0.5, 2.0] and ys == [3, 5]
    for i, a in enumerate(xs):
        for j in range(len(ys)):
            assert grid[j, i] == pytest.approx(math.log10(a) + 0.005)
    fig = fig_heatmaps(report)
    assert {a.get_gid() for ax in fig.axes for a in ax.get_images()} == {
        "heatmap:log10_gain_per_step", "heatmap:memory_horizon"}


def test_gain_vs_scale_over_seeds_is_a_mean_with_a_band_per_architecture():
    report = grid_report(("rnn", "lstm"), (0.5, 1.0, 1.5), seeds=(0, 1, 2), command="sweep")
    fig = fig_gain_vs_scale(report)
    (ax,) = fig.axes
    lines = {ln.get_gid(): ln for ln in ax.lines if ln.get_gid()}
    assert {g for g in lines if g.endswith(":gain")} == {"rnn:gain", "lstm:gain"}  # not 18
    for arch in ("rnn", "lstm"):
        runs = [r for r in report["runs"] if r["config"]["arch"] == arch]
        gains = {s: [r["summary"]["log10_gain_per_step"] for r in runs
                     if r["config"]["scale"] == s] for s in (0.5, 1.0, 1.5)}
        line = lines[f"{arch}:gain"]
        np.testing.assert_array_equal(line.get_xdata(), [0.5, 1.0, 1.5])
        np.testing.assert_allclose(line.get_ydata(), [np.mean(g) for g in gains.values()])
        # the architecture's hue family, as in the other figures
        assert line.get_color() == family_color(("rnn", "lstm").index(arch), 2, 0, 1)
        (band,) = [c for c in ax.collections if c.get_gid() == f"{arch}:band"]
        ys = band.get_paths()[0].vertices[:, 1]
        assert ys.min() == pytest.approx(min(min(g) for g in gains.values()))
        assert ys.max() == pytest.approx(max(max(g) for g in gains.values()))
    assert "rnn:theory" in lines and "lstm:theory" not in lines  # theory: RNN only
    assert ax.get_legend().get_title().get_text() == "mean over seeds"


def test_gain_vs_scale_needs_two_scales_of_one_kind_of_run():
    assert fig_gain_vs_scale(grid_report(("rnn", "lstm"), (1.0,))) is None
    fig = fig_gain_vs_scale(grid_report(("rnn",), (0.5, 2.0)))
    (ax,) = fig.axes
    assert not ax.collections  # one run per scale: no band
    assert ax.get_legend().get_title().get_text() == ""
