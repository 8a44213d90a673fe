import math

import numpy as np
import pytest

from gradscope.report import plots, write_plots
from gradscope.report.html import FIGURE_ORDER
from gradscope.report.plots_style import run_styles
from gradscope.report.text import FIGURE_CAPTIONS

from .conftest import T0, linear_rnn_run, make_report
from .plot_reports import grid_report


def _line(fig, gid):
    (line,) = [ln for ax in fig.axes for ln in ax.lines if ln.get_gid() == gid]
    return line


def _legend_texts(fig):
    legends = [a for ax in fig.axes for a in ax.get_children()
               if type(a).__name__ == "Legend"] + list(fig.legends)
    return [t.get_text() for leg in legends for t in leg.get_texts()]


def test_files_exist_open_and_are_not_blank(written_plots):
    import matplotlib.image as mpimg

    plots_dir, pngs = written_plots
    # no gain_vs_scale: the two RNN runs differ in their batch as well as in their scale
    assert [p.stem for p in pngs] == ["jacobian_norm", "local_norm", "spectrum", "saturation",
                                      "heatmaps", "lyapunov"]
    for png in pngs:
        assert png.parent == plots_dir
        img = mpimg.imread(png)
        assert img.ndim == 3 and img.shape[0] > 300 and img.shape[1] > 600
        assert img[..., :3].std() > 0.02
        svg = png.with_suffix(".svg").read_text()
        assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
    assert not (plots_dir / "dlfs2.png").exists()


def test_jacobian_norm_plots_the_series(shared_report):
    fig = plots.fig_jacobian_norm(shared_report)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "time step t"
    assert ax.get_ylabel() == "log10 ‖∂s_T/∂s_t‖"
    assert ax.get_yscale() == "linear" and fig.get_suptitle()
    line = _line(fig, "0:log10_jacobian_norm")
    np.testing.assert_array_equal(line.get_xdata(), np.arange(T0 + 1))
    np.testing.assert_allclose(line.get_ydata(),
                               [(T0 - t) * math.log10(0.5) for t in range(T0 + 1)], rtol=1e-15)
    # the extras, each in the run's colour
    lstm = shared_report["runs"][2]["series"]
    np.testing.assert_array_equal(_line(fig, "2:log10_cell_path_norm").get_ydata(),
                                  lstm["log10_cell_path_norm"])
    np.testing.assert_array_equal(_line(fig, "2:log10_loss_grad_norm").get_ydata(),
                                  lstm["log10_loss_grad_norm"])
    bound = _line(fig, "0:log10_seed_bound")
    assert bound.get_color() == line.get_color() and bound.get_linestyle() != "-"
    _line(fig, "0:log10_activation_deriv_product")
    with pytest.raises(ValueError):
        _line(fig, "2:log10_seed_bound")  # None for the LSTM: not drawn


def test_jacobian_norm_theory_horizon_band_and_gaps(shared_report):
    fig = plots.fig_jacobian_norm(shared_report)
    theory = _line(fig, "1:theory")
    np.testing.assert_allclose(theory.get_ydata(),
                               [math.log10(1.25) * (T0 - t) for t in range(T0 + 1)])
    assert theory.get_linestyle() == "--"
    with pytest.raises(ValueError):
        _line(fig, "2:theory")  # theory is None for the LSTM
    np.testing.assert_array_equal(_line(fig, "horizon").get_ydata(), [-3, -3])
    assert "memory horizon threshold (1e-3)" in _legend_texts(fig)
    (band,) = [c for c in fig.axes[0].collections if c.get_gid() == "1:log10_jacobian_norm_std"]
    ys = band.get_paths()[0].vertices[:, 1]
    run = shared_report["runs"][1]
    y, s = np.array(run["series"]["log10_jacobian_norm"]), run["series_std"]["log10_jacobian_norm"]
    assert ys.max() == pytest.approx(np.max(y + s)) and ys.min() == pytest.approx(np.min(y - s))
    gru = _line(fig, "3:log10_jacobian_norm").get_ydata()
    assert np.isnan(gru[9:]).all() and np.isfinite(gru[:9]).all()
    np.testing.assert_array_equal(_line(fig, "3:first_nonfinite_step").get_xdata(), [9, 9])
    assert "first non-finite step" in _legend_texts(fig)
    lo, hi = fig.axes[0].get_xlim()
    assert lo < 0 and hi > T0  # the whole sequence is shown, gaps included


def test_dlfs2_only_for_the_preset(shared_report, dlfs2_report, tmp_path, monkeypatch):
    assert plots.fig_dlfs2(shared_report) is None
    # write only the figures under test (the others are covered above, and take time)
    monkeypatch.setattr(plots, "FIGURES", {k: plots.FIGURES[k] for k in ("dlfs2", "spectrum")})
    assert [p.name for p in write_plots(dlfs2_report, tmp_path)] == ["dlfs2.png", "spectrum.png"]
    assert (tmp_path / "dlfs2.svg").exists()
    fig = plots.fig_dlfs2(dlfs2_report)
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_yscale()) == ("time step", "norm", "linear")
    for i, run in enumerate(dlfs2_report["runs"]):
        g = run["series"]["log10_loss_grad_norm"]
        T = len(g) - 1
        line = _line(fig, f"{i}:dlfs2")
        np.testing.assert_array_equal(line.get_xdata(), np.arange(1, T + 1))
        np.testing.assert_allclose(line.get_ydata(), [10 ** g[T - k] for k in range(1, T + 1)])
    y1, y05 = _line(fig, "0:dlfs2").get_ydata(), _line(fig, "1:dlfs2").get_ydata()
    assert y1[0] == pytest.approx(2.4684) and y1[-1] == pytest.approx(249.50)
    assert y05[0] == pytest.approx(2.4684) and y05[-1] == pytest.approx(2.3794e-4)


def test_runs_without_a_series_are_skipped():
    run = linear_rnn_run(0.5, 5, 2, "x")
    run["series"]["log10_local_norm"] = None
    assert plots.fig_local_norm(make_report([run])) is None
    assert plots.fig_jacobian_norm(make_report([run])) is not None


def _panels(fig) -> dict:
    """The axes of a figure of small multiples by their legend's title."""
    return {ax.get_legend().get_title().get_text(): ax for ax in fig.axes if ax.get_legend()}


def test_many_runs_get_a_panel_per_architecture():
    report = grid_report()  # 3 architectures × 3 scales
    styles = run_styles(report["runs"])
    for make, key in ((plots.fig_jacobian_norm, "log10_jacobian_norm"),
                      (plots.fig_local_norm, "log10_local_norm"),
                      (plots.fig_lyapunov, "lyapunov")):
        fig = make(report)
        panels = _panels(fig)
        assert list(panels) == ["rnn", "lstm", "gru"] and len(fig.axes) == 3
        for i, run in enumerate(report["runs"]):
            (line,) = [ln for ln in panels[run["config"]["arch"]].lines
                       if ln.get_gid() == f"{i}:{key}"]
            assert line.get_color() == styles.looks[i].color
        texts = [t.get_text() for t in panels["lstm"].get_legend().get_texts()]
        assert texts == ["scale 0.5", "scale 1", "scale 1.5"]
    # a handful of runs stay on one axis, their legend naming what differs
    few = grid_report(("rnn", "lstm"), (0.5, 1.0))
    fig = plots.fig_jacobian_norm(few)
    assert len(fig.axes) == 1
    assert {"rnn · scale 0.5", "lstm · scale 1"} <= set(_legend_texts(fig))


def test_local_norm_says_it_bounds_one_step_not_the_gradient():
    fig = plots.fig_local_norm(grid_report(("rnn",), (1.5,)))
    title = fig.get_suptitle()
    assert "amplifies the gradient" not in title
    assert "upper bound" in title and "Lyapunov" in title
    caption = FIGURE_CAPTIONS["local_norm"]
    assert "amplifies the gradient" not in caption and "upper bound" in caption


def test_saturation_of_one_run_fits_its_range():
    report = grid_report(("rnn",), (1.0,))
    fig = plots.fig_saturation(report)
    values = report["runs"][0]["series"]["saturation_fraction"]
    line = _line(fig, "0:saturation_fraction")
    np.testing.assert_array_equal(line.get_xdata(), np.arange(1, len(values) + 1))
    np.testing.assert_allclose(line.get_ydata(), values)
    lo, hi = fig.axes[0].get_ylim()
    assert lo == 0 and max(values) < hi <= 1.15 * max(values)  # not 0–1: the data is ≤ 0.3


def test_saturation_of_many_runs_is_a_summary_per_kind_of_run():
    report = grid_report(seeds=(0, 1, 2))  # 27 runs, 9 kinds
    styles = run_styles(report["runs"])
    fig = plots.fig_saturation(report)
    (ax,) = fig.axes
    means = [ln for ln in ax.lines if str(ln.get_gid()).endswith(":saturation_mean")]
    assert len(means) == 9 and not [ln for ln in ax.lines if "fraction" in str(ln.get_gid())]
    for line in means:
        i = int(line.get_gid().split(":")[0])
        pooled = [v for r, lk in zip(report["runs"], styles.looks, strict=True)
                  if lk == styles.looks[i] for v in r["series"]["saturation_fraction"]]
        assert line.get_xdata()[0] == pytest.approx(np.mean(pooled))
        assert line.get_color() == styles.looks[i].color
        (span,) = [ln for ln in ax.lines if ln.get_gid() == f"{i}:saturation_range"]
        assert list(span.get_xdata()) == pytest.approx([min(pooled), max(pooled)])
    top = max(max(r["series"]["saturation_fraction"]) for r in report["runs"])
    assert top < ax.get_xlim()[1] <= 1.15 * top
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[:3] == ["rnn · scale 0.5", "rnn · scale 1", "rnn · scale 1.5"]


def test_lyapunov_figure():
    report = grid_report(("rnn", "gru"), (0.5, 1.5))
    fig = plots.fig_lyapunov(report)
    (ax,) = fig.axes
    line = _line(fig, "3:lyapunov")
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(line.get_ydata(), report["runs"][3]["lyapunov"])
    np.testing.assert_array_equal(_line(fig, "zero").get_ydata(), [0, 0])
    assert "λ_k" in ax.get_ylabel()
    for run in report["runs"]:
        run["lyapunov"] = None
    assert plots.fig_lyapunov(report) is None
    assert "lyapunov" in plots.FIGURES and "lyapunov" in FIGURE_ORDER
    assert "Lyapunov" in FIGURE_CAPTIONS["lyapunov"]
