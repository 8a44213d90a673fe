import math
import re

import numpy as np
from rich.console import Console

from gradscope.report import plots, render_html, render_markdown, summary_table, write_plots


def test_plots_files_open_and_hold_the_data(report, tmp_path):
    import matplotlib.image as mpimg

    pngs = write_plots(report, tmp_path)
    names = {p.stem for p in pngs}
    assert names == {"jacobian_norm", "local_norm", "spectrum", "saturation", "gain_vs_scale"}
    for p in pngs:
        img = mpimg.imread(p)
        assert img.shape[0] > 200 and img.std() > 0.01
        assert p.with_suffix(".svg").read_text().lstrip().startswith("<?xml")
    fig = plots.fig_jacobian_norm(report)
    main_line = fig.axes[0].lines[0]
    np.testing.assert_allclose(main_line.get_ydata(), report["runs"][0]["series"]["log10_jacobian_norm"])
    plots._plt().close(fig)


def test_dlfs2_figure_only_for_the_preset(report, tmp_path):
    assert plots.fig_dlfs2(report) is None
    report["runs"][0]["config"]["preset"] = "dlfs2"
    fig = plots.fig_dlfs2(report)
    y = fig.axes[0].lines[0].get_ydata()
    # k = 1 step back from T: 10 ** log10_loss_grad_norm[T - 1] = 0.5 * 10**0.15
    assert math.isclose(y[0], 0.5 * 10**0.15, rel_tol=1e-12)
    plots._plt().close(fig)


def test_markdown_has_labels_regimes_factors_and_figures(report):
    md = render_markdown(report, ["plots/jacobian_norm.png"])
    assert "![jacobian norm](plots/jacobian_norm.png)" in md
    for run in report["runs"]:
        assert run["label"] in md
    assert "vanishing" in md and "exploding" in md
    assert "multiplies ‖∂s_T/∂s_t‖ by 0.5 on average" in md
    assert "| 2 |" in md  # factor per step of a = 2


def test_html_is_self_contained_and_escaped(report, tmp_path):
    write_plots(report, tmp_path)
    html = render_html(report, tmp_path)
    assert html.count("data:image/png;base64,") == 5
    assert not re.search(r'src="https?://', html)
    assert "rnn · a=0.5 &lt;&amp;&gt;" in html and "<&>" not in html
    assert 'name="viewport"' in html


def test_table_ranks_by_memory_horizon(report):
    console = Console(record=True, width=160)
    console.print(summary_table(report))
    text = console.export_text()
    assert text.index("lstm · a=2") < text.index("rnn · a=0.8") < text.index("rnn · a=0.5")
    assert "exploding" in text and "vanishing" in text
