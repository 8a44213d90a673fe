"""What the reports' figures share: log-axis labels, and drawing in a pool (dearest first)."""

import pytest

from gradscope.report import figures, plots, write_plots


@pytest.mark.parametrize(("values", "labels"), [
    ((1e-3, 0.1, 1.0, 10.0, 1e12), ["10⁻³", "10⁻¹", "10⁰", "10¹", "10¹²"]),
    ((2.0, 0.5, 0.0, -1.0), ["2", "0.5", "", ""])])
def test_log_axis_labels_are_powers_of_ten_in_superscripts(values, labels):
    assert [figures.power_of_ten(v) for v in values] == labels


@pytest.mark.parametrize(("lo", "hi", "wide"), [(0.02, 1.9, True), (1e-6, 3e2, True),
                                                 (0.5, 2.0, False)])
def test_log_axis_ticks_carry_no_mathtext(lo, hi, wide):
    # matplotlib's own log labels are mathtext, parsed anew for every figure and format
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.subplots()
    ax.semilogy([0, 1], [lo, hi])
    figures.log_ticks(ax)
    fig.canvas.draw()
    shown = {t.get_position()[1]: t.get_text() for t in ax.get_yticklabels() if t.get_text()}
    assert len(shown) >= 2 and not any("$" in t for t in shown.values())
    for value, text in shown.items():  # each label names the value at its tick
        assert text == (figures.power_of_ten(value) if wide else f"{value:g}")
    assert any(t.startswith("10⁻") for t in shown.values()) == wide


def test_a_pool_gets_the_dearest_figures_first_and_the_paths_keep_their_order(shared_report,
                                                                              tmp_path):
    class Recording:  # an executor that draws here and records the order it was handed
        names: list = []

        def map(self, fn, *jobs):
            self.names = list(jobs[2])
            return map(fn, *jobs)

    pool = Recording()
    got = write_plots(shared_report, tmp_path, executor=pool)
    assert pool.names[0] == "spectrum" and sorted(pool.names) == sorted(plots.FIGURES)
    order = list(plots.FIGURES)  # dearest first; equal costs in the figures' order
    keys = [(-figures.DRAW_COST.get(n, 1.0), order.index(n)) for n in pool.names]
    assert keys == sorted(keys)
    assert [p.name for p in got] == [p.name for p in write_plots(shared_report, tmp_path / "b")]
    assert [p.stem for p in got][:4] == ["jacobian_norm", "local_norm", "spectrum", "saturation"]


def _spectra_only(report: dict) -> dict:
    """What a command sends the plot worker early: each run's label and spectrum."""
    runs = [{"label": r["label"], "spectrum": r["spectrum"]} for r in report["runs"]]
    return {**report, "runs": runs}


def test_figures_drawn_beforehand_are_written_as_they_were_drawn(shared_report, written_plots,
                                                                  tmp_path):
    from concurrent.futures import Future

    plots_dir, pngs = written_plots
    early = figures.draw_figure(_spectra_only(shared_report), plots.fig_spectrum)
    # the early report has what the spectrum needs: the same bytes as from the whole report
    assert early[1] == (plots_dir / "spectrum.svg").read_bytes()
    future = Future()
    future.set_result(early)
    for drawn in ({"spectrum": early}, {"spectrum": future}):
        out = tmp_path / str(len(list(tmp_path.iterdir())))
        got = write_plots(shared_report, out, drawn=drawn)
        assert [p.name for p in got] == [p.name for p in pngs]  # the figures' order
        assert (out / "spectrum.png").read_bytes() == early[0]
        for p in pngs:
            svg = p.with_suffix(".svg")
            assert (out / svg.name).read_bytes() == svg.read_bytes()


def test_a_figure_drawn_beforehand_is_not_drawn_again(shared_report, tmp_path):
    drawn = {"spectrum": (b"png bytes", b"svg bytes")}  # stands for another report's figure
    got = write_plots(shared_report, tmp_path, drawn=drawn)
    assert (tmp_path / "spectrum.png").read_bytes() == b"png bytes"
    assert (tmp_path / "spectrum.svg").read_bytes() == b"svg bytes"
    assert tmp_path / "spectrum.png" in got and len(got) == len(write_plots(shared_report,
                                                                          tmp_path / "b"))
