"""Rendering of `cliff` reports from a synthetic report whose every value is known."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest

from gradscope.report import cliff as R
from gradscope.report import renderers

LR = 0.01


def _run(theta, w, b, clipped, label, first_nonfinite=None):
    n = len(w)
    steps = [math.hypot(w[k + 1] - w[k], b[k + 1] - b[k])
             if None not in (w[k], w[k + 1], b[k], b[k + 1]) else None for k in range(n - 1)]
    good = [s for s in steps if s is not None]
    k_max = steps.index(max(good))
    return {
        "label": label,
        "config": {"w_range": [0.0, 9.0], "b_range": [-6.0, 1.0], "grid": 4, "steps": 50,
                   "target": 0.7, "x0": 0.5, "activation": "sigmoid", "start": [w[0], b[0]],
                   "lr": LR, "iters": n - 1, "loss": "½(x_T − target)²", "clip": theta},
        "series": {"w": w, "b": b, "log10_loss": [0.5 - 0.1 * k if w[k] is not None else None
                                                  for k in range(n)],
                   "log10_grad_norm": [0.7] * n, "clipped": clipped, "step_norm": steps},
        "summary": {"final_log10_loss": 0.1, "min_log10_loss": -1.5,
                    "first_nonfinite_iter": first_nonfinite, "max_jump": max(good),
                    "max_jump_iter": k_max, "max_jump_from": [w[k_max], b[k_max]],
                    "max_jump_to": [w[k_max + 1], b[k_max + 1]],
                    "clip_fraction": sum(c or 0 for c in clipped) / len(clipped),
                    "final_w": 5.0, "final_b": -2.5},
    }


@pytest.fixture
def report() -> dict:
    # clip none: two short steps, then a jump to (40, 60), far off the map, then non-finite
    none = _run(None, [5.5, 5.4, 5.0, 40.0, None], [-2.0, -2.2, -2.6, 60.0, None],
                [0, 0, 0, None], "clip none", first_nonfinite=4)
    one = _run(1.0, [5.5, 5.495, 5.49, 5.485], [-2.0, -2.005, -2.01, -2.015], [1, 1, 0],
               "clip 1")
    ws, bs = [0.0, 3.0, 6.0, 9.0], [-6.0, -2.5, 1.0]
    return {"schema": "gradscope.report/1", "version": "0.1.0", "command": "cliff",
            "created": "2026-11-22T10:00:00Z",
            "device": {"platform": "cpu", "device": "cpu", "jax": "0.0"},
            "runs": [none, one],
            "surface": {"w": ws, "b": bs,
                        "log10_loss": [[0.1 * i - j for i in range(4)] for j in range(3)],
                        "log10_grad_norm": [[None, 1.0, 2.0, 3.0]] * 3,
                        "cliff_line": {"w": [4.25, 9.0], "b": [-2.15, -5.1], "w_min": 4.25}},
            "profile": {"w": 4.89, "b_cliff": -2.55, "offset": [-0.01, 0.0, 0.01],
                        "log10_loss": [0.5, -3.0, -0.7], "log10_grad_norm": [0.7, 4.4, 0.8]}}


def test_the_report_picks_these_renderers(report):
    assert renderers(report) == (R.render_series_csv, R.write_plots, R.render_markdown,
                                 R.render_html)


def test_csv_has_a_header_and_one_row_per_run_and_iteration(report):
    rows = list(csv.reader(io.StringIO(R.render_series_csv(report))))
    assert rows[0] == ["run", "clip", "iter", "w", "b", "log10_loss", "log10_grad_norm",
                       "clipped", "step_norm"]
    body = rows[1:]
    assert len(body) == 5 + 4
    assert [r[0] for r in body] == ["clip none"] * 5 + ["clip 1"] * 4
    assert [int(r[2]) for r in body] == [0, 1, 2, 3, 4, 0, 1, 2, 3]
    jump = body[2]  # the step from (5, −2.6) to (40, 60)
    assert float(jump[8]) == pytest.approx(math.hypot(35.0, 62.6))
    assert body[4][3:] == ["", "", "", "0.7", "", ""]  # non-finite values and no step: empty
    assert body[5][1] == "1.0" and body[5][7] == "1"


def test_markdown_names_every_clip_setting_and_the_jump(report):
    md = R.render_markdown(report, ["plots/cliff_surface.png"])
    assert md.startswith("# gradscope report — cliff")
    for label in ("clip none", "clip 1"):
        assert f"### {label}" in md and f"| {label} |" in md
    assert "![cliff surface](plots/cliff_surface.png)" in md
    assert "(40, 60)" in md and "iteration 2" in md and "iteration 4" in md
    assert "1/σ'(x_0) = 4.25" in md and "½(x_T − 0.7)²" in md


def test_plots_and_html(report, tmp_path):
    pngs = R.write_plots(report, tmp_path)
    names = [p.stem for p in pngs]
    assert names == ["cliff_surface", "cliff_grad_norm", "cliff_profile", "cliff_loss",
                     "cliff_3d"]
    for p in pngs:
        assert p.exists() and p.with_suffix(".svg").exists()
    html = R.render_html(report, tmp_path)
    assert html.count("data:image/png;base64,") == 5
    assert 'name="viewport"' in html and "clip none" in html and "clip 1" in html
    assert "<script" not in html and "http://" not in html and "https://" not in html


def _lines(fig, gid):
    return [ln for ax in fig.axes for ln in ax.get_lines() if ln.get_gid() == gid]


def test_surface_figure_keeps_paths_inside_the_map_and_marks_the_exit(report):
    fig = R.fig_surface(report)
    (path,) = _lines(fig, "0:path")
    x, y = path.get_data()
    ok = np.isfinite(x)
    assert np.all((x[ok] >= 0) & (x[ok] <= 9) & (y[ok] >= -6) & (y[ok] <= 1 + 1e-12))
    # the jump from (5, −2.6) towards (40, 60) leaves through the top edge b = 1
    (exit_mark,) = _lines(fig, "0:exit")
    ex, ey = exit_mark.get_data()
    assert ey[0] == pytest.approx(1.0)
    assert ex[0] == pytest.approx(5.0 + 35.0 * 3.6 / 62.6)
    assert len(_lines(fig, "start")) == 1 and len(_lines(fig, "cliff_line")) == 1
    (clipped,) = _lines(fig, "1:path")
    assert np.allclose(clipped.get_data()[0], report["runs"][1]["series"]["w"])


def test_clip_segment_geometry():
    box = (0.0, 1.0, 0.0, 1.0)
    assert R.clip_segment((0.5, 0.5), (0.6, 0.6), box) == ((0.5, 0.5), (0.6, 0.6), False)
    a, e, cut = R.clip_segment((0.5, 0.5), (2.5, 0.5), box)
    assert a == (0.5, 0.5) and e == pytest.approx((1.0, 0.5)) and cut
    assert R.clip_segment((2.0, 2.0), (3.0, 5.0), box) is None
    a, e, cut = R.clip_segment((-1.0, 0.5), (2.0, 0.5), box)
    assert a == pytest.approx((0.0, 0.5)) and e == pytest.approx((1.0, 0.5))
