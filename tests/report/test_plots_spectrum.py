"""The spectrum figure compares like with like: each gate's H×H block of an LSTM or GRU beside
the RNN's H×H W_hh (never the stacked 4H×H matrix), and each kind of run's eigenvalues in a
panel of its own with the unit circle."""

import numpy as np

from gradscope.report.plots_spectrum import fig_spectrum
from gradscope.report.plots_style import run_styles

from .conftest import make_report
from .plot_reports import grid_report


def _by_gid(fig, kind: str) -> dict:
    artists = [a for ax in fig.axes for a in (*ax.lines, *ax.collections)]
    return {a.get_gid(): a for a in artists if kind in str(a.get_gid())}


def _texts(fig) -> set:
    legends = [leg for f in (fig, *fig.subfigs) for leg in f.legends]
    legends += [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    return {t.get_text() for leg in legends for t in leg.get_texts()}


def test_singular_values_per_gate_block_not_of_the_stacked_matrix(shared_report):
    fig = fig_spectrum(shared_report)  # linear RNNs, an LSTM (run 2), a GRU (run 3)
    sv = _by_gid(fig, "singular_values")
    assert {"0:singular_values:W_hh", "1:singular_values:W_hh"} <= set(sv)
    lstm = shared_report["runs"][2]["spectrum"]
    assert {g for g in sv if g.startswith("2:")} == {f"2:singular_values:{g}" for g in "ifgo"}
    for gate, block in lstm["blocks"].items():
        y = sv[f"2:singular_values:{gate}"].get_ydata()
        np.testing.assert_allclose(y, sorted(block["singular_values"], reverse=True))
    assert {g for g in sv if g.startswith("3:")} == {f"3:singular_values:{g}" for g in "rzn"}
    ax = sv["2:singular_values:f"].axes
    assert ax.get_yscale() == "log"
    assert any(ln.get_gid() == "sigma_one" and np.allclose(ln.get_ydata(), 1) for ln in ax.lines)
    assert {"gate i", "gate f", "gate g", "gate o", "gate r", "gate z", "gate n",
            "W_hh (no gates)", "σ = 1"} <= _texts(fig)


def test_an_eigenvalue_panel_per_kind_of_run_with_the_unit_circle():
    report = grid_report()  # 9 runs
    fig = fig_spectrum(report)
    ev = _by_gid(fig, "eigenvalues")
    panels = {a.axes for a in ev.values()}
    assert len(panels) == 9
    for ax in panels:
        (circle,) = [ln for ln in ax.lines if ln.get_gid() == "unit_circle"]
        np.testing.assert_allclose(np.hypot(circle.get_xdata(), circle.get_ydata()), 1)
        assert ax.get_aspect() == 1.0 and ax.get_xlim() == ax.get_ylim()
    limits = {ax.get_xlim() for ax in panels}
    assert len(limits) == 1 and limits.pop()[1] >= 1.5 * 1.2  # the same, the largest fits
    f_gate = ev["4:eigenvalues:f"]  # lstm at scale 1
    np.testing.assert_allclose(f_gate.get_offsets(),
                               report["runs"][4]["spectrum"]["blocks"]["f"]["eigenvalues"])
    assert f_gate.axes.get_title() == "scale 1"
    first = ev["3:eigenvalues:f"].axes  # a row per architecture, named on its left
    assert first.get_title() == "scale 0.5" and first.get_ylabel() == "lstm\nIm λ"
    assert {"gate i", "gate f", "gate r", "unit circle", "W_hh (colour of its run)"} <= _texts(fig)
    # the singular values: a panel per architecture, coloured as in the other figures
    styles = run_styles(report["runs"])
    sv = _by_gid(fig, "singular_values")
    assert len({a.axes for a in sv.values()}) == 3
    assert sv["4:singular_values:f"].get_color() == styles.looks[4].color


def test_seeds_pool_into_one_panel_and_one_mean_line():
    report = grid_report(("lstm",), (0.5, 1.0), seeds=(0, 1, 2))
    fig = fig_spectrum(report)
    ev = _by_gid(fig, "eigenvalues")
    assert set(ev) == {f"{i}:eigenvalues:{g}" for i in (0, 3) for g in "ifgo"}
    assert len(ev["0:eigenvalues:i"].get_offsets()) == 3 * 3  # 3 seeds × H = 3
    sv = _by_gid(fig, "singular_values")
    assert len(sv) == 2 * 4  # 2 scales × 4 gates, not one line per seed
    (legend,) = [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    assert legend.get_title().get_text() == "3 seeds each"


def test_one_run_and_a_run_without_values():
    report = grid_report(("gru",), (1.0,))
    fig = fig_spectrum(report)
    assert len(_by_gid(fig, "eigenvalues")) == 3 and len(_by_gid(fig, "singular_values")) == 3
    assert fig_spectrum(make_report([{**report["runs"][0], "spectrum": None}])) is None
