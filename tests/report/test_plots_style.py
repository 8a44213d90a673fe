"""Runs look alike where they share the first varying option (a hue family per value), are
told apart by shade and line style by the next options, and seeds are replicates."""

import matplotlib.colors as mcolors
import pytest

from gradscope.report import plots_style as ps

from .plot_reports import grid_report


def _lightness(color) -> float:
    r, g, b = mcolors.to_rgb(color)
    return 0.299 * r + 0.587 * g + 0.114 * b


def test_colour_by_the_first_option_shade_by_the_second():
    runs = grid_report()["runs"]  # rnn, lstm, gru × 3 scales
    styles = ps.run_styles(runs)
    for k, arch in enumerate(("rnn", "lstm", "gru")):
        looks = [lk for r, lk in zip(runs, styles.looks, strict=True)
                 if r["config"]["arch"] == arch]
        assert [lk.color for lk in looks] == [ps.family_color(k, 3, j, 3) for j in range(3)]
        # one hue family: the same colormap, darker as the scale grows
        assert _lightness(looks[0].color) > _lightness(looks[1].color) > _lightness(
            looks[2].color)
        assert {lk.ls for lk in looks} == {"-"}
    assert len({lk.color for lk in styles.looks}) == 9
    # nine kinds of run: a panel per architecture, legends name only the scale
    assert styles.panels == ["rnn", "lstm", "gru"]
    assert [styles.text(lk) for lk in styles.looks[:3]] == ["scale 0.5", "scale 1", "scale 1.5"]


def test_line_style_by_the_third_option_where_it_applies():
    runs = grid_report(forget_biases=(0.0, 1.0))["runs"]  # 12 runs
    styles = ps.run_styles(runs)
    by = {(r["config"]["arch"], r["config"]["scale"], r["config"]["forget_bias"]): lk
          for r, lk in zip(runs, styles.looks, strict=True)}
    assert by["lstm", 1.0, 0.0].ls == "-" and by["lstm", 1.0, 1.0].ls != "-"
    assert by["lstm", 1.0, 0.0].color == by["lstm", 1.0, 1.0].color
    assert by["rnn", 1.0, 0.0].ls == "-"  # no forget gate: no forget bias
    assert by["lstm", 1.0, 1.0].rest == "scale 1 · forget bias 1"
    assert by["rnn", 1.0, 0.0].rest == "scale 1"


def test_seeds_are_replicates():
    runs = grid_report(scales=(0.5, 0.75, 1.0, 1.25, 1.5, 2.0), seeds=range(6))["runs"]
    assert len(runs) == 108
    styles = ps.run_styles(runs)
    assert len(set(styles.looks)) == 18 and len(styles.entries()) == 18
    assert styles.note == "6 seeds each"
    assert styles.panels == ["rnn", "lstm", "gru"]
    assert len(styles.entries(panel="lstm")) == 6


@pytest.mark.parametrize(("archs", "scales", "panels"), [
    (("rnn", "lstm"), (0.5, 1.0, 1.5), [""]),             # 6 kinds of run: one axis
    (("rnn",), tuple(0.25 * k for k in range(1, 13)), [""]),  # 12 values: no panels
])
def test_one_axis_up_to_a_handful_or_with_no_option_to_split_by(archs, scales, panels):
    styles = ps.run_styles(grid_report(archs, scales)["runs"])
    assert styles.panels == panels
    assert styles.text(styles.looks[0]) == styles.looks[0].label
    assert len({lk.color for lk in styles.looks}) == len(archs) * len(scales)


def test_only_seeds_vary_and_a_single_run():
    runs = grid_report(("rnn",), (1.0,), seeds=(0, 1))["runs"]
    styles = ps.run_styles(runs)
    assert ps.style_keys([r["config"] for r in runs]) == ["seed"]
    assert styles.looks[0].color != styles.looks[1].color and styles.note == ""
    one = ps.run_styles(runs[:1])
    assert one.looks[0].label == "" and one.panels == [""]
