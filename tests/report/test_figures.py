"""What the reports' figures share: log-axis labels, and drawing in a pool (dearest first)."""

import pytest

from gradscope.report import figures


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


def _spectra_only(report: dict) -> dict:
    """What a command sends the plot worker early: each run's label and spectrum."""
    runs = [{"label": r["label"], "spectrum": r["spectrum"]} for r in report["runs"]]
    return {**report, "runs": runs}


