"""Heat maps: each cell is the mean of the runs at that point of the two varying options."""

import math

import pytest

from gradscope.report.heatmaps import fig_heatmaps, heatmap_axes, heatmap_table

from .conftest import linear_rnn_run, make_report


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
