import copy
import math

import numpy as np
import pytest

from gradscope.report import plots, write_plots

from .conftest import T0, linear_rnn_run, make_report


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
    assert [p.stem for p in pngs] == ["jacobian_norm", "local_norm", "spectrum", "saturation",
                                      "gain_vs_scale", "heatmaps"]
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
    assert ax.get_yscale() == "linear" and ax.get_title()
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


def test_local_norm_and_saturation(shared_report):
    fig = plots.fig_local_norm(shared_report)
    line = _line(fig, "0:log10_local_norm")
    np.testing.assert_array_equal(line.get_xdata(), np.arange(1, T0 + 1))
    np.testing.assert_array_equal(line.get_ydata(), [math.log10(0.5)] * T0)
    assert fig.axes[0].get_xlabel() == "time step t"
    fig = plots.fig_saturation(shared_report)
    sat = _line(fig, "2:saturation_fraction")
    np.testing.assert_array_equal(sat.get_xdata(), np.arange(1, T0 + 1))
    np.testing.assert_array_equal(sat.get_ydata(),
                                  shared_report["runs"][2]["series"]["saturation_fraction"])
    lo, hi = fig.axes[0].get_ylim()
    assert lo <= 0 and 1 <= hi < 1.1
    assert np.isnan(_line(fig, "3:saturation_fraction").get_ydata()[9:]).all()


def test_spectrum(shared_report):
    fig = plots.fig_spectrum(shared_report)
    ax1, ax2 = fig.axes
    assert ax1.get_yscale() == "log"
    assert any(np.allclose(ln.get_ydata(), 1) for ln in ax1.lines)  # the σ = 1 line
    sv = _line(fig, "2:singular_values").get_ydata()
    np.testing.assert_array_equal(sv, sorted(sv, reverse=True))
    circle = _line(fig, "unit_circle")
    np.testing.assert_allclose(np.hypot(circle.get_xdata(), circle.get_ydata()), 1)
    assert ax2.get_aspect() == 1.0
    (f_gate,) = [c for c in ax2.collections if c.get_gid() == "2:eigenvalues:f"]
    np.testing.assert_allclose(f_gate.get_offsets(),
                               shared_report["runs"][2]["spectrum"]["blocks"]["f"]["eigenvalues"])
    texts = _legend_texts(fig)
    assert {"gate i", "gate f", "gate g", "gate o", "gate r", "gate z", "gate n"} <= set(texts)
    assert shared_report["runs"][0]["label"] in texts


def test_spectrum_of_one_gated_run_labels_gates(shared_report):
    report = make_report([copy.deepcopy(shared_report["runs"][2])])
    fig = plots.fig_spectrum(report)
    texts = _legend_texts(fig)
    assert {"gate i", "gate f", "gate g", "gate o", "unit circle"} <= set(texts)
    colours = {tuple(c.get_facecolor()[0]) for c in fig.axes[1].collections}
    assert len(colours) == 4


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


def test_eighteen_runs_keep_the_legend_inside_the_figure():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    runs = [linear_rnn_run(0.5 + 0.05 * i, 12, 2, f"rnn · identity · scale {0.5 + 0.05 * i:.2f}")
            for i in range(18)]
    fig = plots.fig_jacobian_norm(make_report(runs))
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    texts = _legend_texts(fig)
    assert all(r["label"] in texts for r in runs)
    box = fig.bbox
    for leg in fig.axes[0].get_children():
        if type(leg).__name__ == "Legend":
            ext = leg.get_window_extent(canvas.get_renderer())
            assert box.x0 - 1 <= ext.x0 and ext.x1 <= box.x1 + 1
            assert box.y0 - 1 <= ext.y0 and ext.y1 <= box.y1 + 1
    # with many runs only the measured norms are drawn, one line each
    assert len([ln for ln in fig.axes[0].lines if ln.get_gid().endswith("jacobian_norm")]) == 18
    assert not [ln for ln in fig.axes[0].lines if ln.get_gid().endswith("seed_bound")]


def test_runs_without_a_series_are_skipped():
    run = linear_rnn_run(0.5, 5, 2, "x")
    run["series"]["log10_local_norm"] = None
    assert plots.fig_local_norm(make_report([run])) is None
    assert plots.fig_jacobian_norm(make_report([run])) is not None
