"""Rendering of `train` reports, on a synthetic report whose every value is known."""

import csv
import io
import json
import math

import numpy as np
import pytest

from gradscope.report import renderers
from gradscope.report import train as tr
from gradscope.report.folder import write_report_folder

ITERS, T = 40, 6


def _run(arch: str, clip, *, bad: int | None = None, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    loss = list(np.exp(-np.arange(ITERS) / 20) * 0.1 + 1e-3)
    norm = list(rng.uniform(0.2, 3.0, ITERS))
    theta = math.inf if clip == "none" else clip
    clipped = [int(n > theta) for n in norm]
    evals = [0, 20, 40]
    errors = [0.9, 0.3, 0.005]
    if bad is not None:
        loss = [*loss[:bad], None] + [None] * (ITERS - bad - 1)
        norm = [*norm[:bad], 1e30] + [None] * (ITERS - bad - 1)
        clipped = [*clipped[:bad]] + [0] * (ITERS - bad)
        errors = [e if k <= bad else None for k, e in zip(evals, errors, strict=True)]
    checkpoints = [{"iter": k, "log10_jacobian_norm": [-(T - t) * (0.3 - 0.1 * j)
                                                       for t in range(T + 1)],
                    "spectral_radius": 0.9 + 0.05 * j}
                   for j, k in enumerate(evals) if bad is None or k <= bad]
    return {
        "label": f"{arch} · clip {clip}",
        "config": {"arch": arch, "hidden": 8, "steps": T, "task": "adding", "clip": clip,
                   "clip_mode": "norm", "optimizer": "sgd", "lr": 0.1, "iters": ITERS},
        "state_size": 16 if arch == "lstm" else 8,
        "series": {"loss": loss, "grad_norm": norm, "clipped": clipped, "task_error": errors,
                   "eval_loss": [0.3, 0.02, 0.001 if bad is None else None],
                   "eval_iter": evals},
        "checkpoints": checkpoints,
        "summary": {"final_loss": None if bad is not None else 0.001,
                    "final_task_error": None if bad is not None else 0.005,
                    "baseline_loss": 1 / 24, "clip_fraction": float(np.mean(clipped)),
                    "first_nonfinite_iter": bad, "solved": bad is None,
                    "solved_below": 0.01, "iterations": ITERS},
        "timings": {"compile_s": 1.0, "run_s": 0.5},
    }


def train_report() -> dict:
    """A synthetic train report: four runs, one of them non-finite from iteration 13."""
    runs = [_run("rnn", "none", bad=13), _run("rnn", 1.0, seed=1), _run("lstm", "none", seed=2),
            _run("lstm", 1.0, seed=3)]
    return {"schema": "gradscope.report/1", "version": "0.1.0", "command": "train",
            "created": "2026-01-01T00:00:00Z", "runs": runs, "interrupted": False,
            "device": {"platform": "cpu", "device": "cpu", "jax": "0"}}


@pytest.fixture
def report() -> dict:
    return train_report()


def test_dispatch():
    funcs = renderers({"command": "train"})
    assert funcs == (tr.render_series_csv, tr.write_plots, tr.render_markdown, tr.render_html)


def test_series_csv_one_row_per_run_and_iteration(report):
    rows = list(csv.DictReader(io.StringIO(tr.render_series_csv(report))))
    assert len(rows) == 4 * (ITERS + 1)
    assert list(rows[0]) == ["run", "label", "iter", "loss", "grad_norm", "clipped",
                             "task_error", "eval_loss"]
    by_run = [[r for r in rows if r["run"] == str(n)] for n in range(4)]
    run1 = report["runs"][1]
    assert [int(r["iter"]) for r in by_run[1]] == list(range(ITERS + 1))
    assert [float(r["loss"]) for r in by_run[1][:ITERS]] == run1["series"]["loss"]
    assert [int(r["clipped"]) for r in by_run[1][:ITERS]] == run1["series"]["clipped"]
    assert {int(r["iter"]): float(r["task_error"]) for r in by_run[1] if r["task_error"]} == {
        0: 0.9, 20: 0.3, 40: 0.005}
    assert by_run[1][ITERS]["loss"] == ""  # after the last update: evaluation only
    diverged = by_run[0]
    assert diverged[12]["loss"] != "" and diverged[13]["loss"] == "" and diverged[30]["loss"] == ""
    assert diverged[40]["task_error"] == ""


def _gids(fig) -> dict:
    return {line.get_gid(): line for ax in fig.axes for line in ax.lines if line.get_gid()}


def test_figures_mark_thresholds_clip_events_divergence_and_checkpoints(report):
    loss = tr.fig_loss(report)
    assert len(loss.axes) == 2  # one panel per architecture
    g = _gids(loss)
    assert {"0:loss", "1:loss_smooth", "3:loss", "baseline"} <= set(g)
    assert list(g["0:first_nonfinite_iter"].get_xdata()) == [13]
    assert g["baseline"].get_ydata()[0] == pytest.approx(1 / 24)

    norms = _gids(tr.fig_grad_norm(report))
    assert "0:threshold" not in norms and norms["1:threshold"].get_ydata()[0] == 1.0
    events = norms["3:clip_events"].get_xdata()
    assert list(events) == list(np.flatnonzero(report["runs"][3]["series"]["clipped"]))

    err = _gids(tr.fig_task_error(report))
    assert list(err["0:task_error"].get_xdata()) == [0, 20, 40]
    assert np.isnan(err["0:task_error"].get_ydata()[2])

    jac = tr.fig_jacobian(report)
    panels = [ax for ax in jac.axes if ax.get_visible() and ax.lines]
    assert len(panels) == 4
    g = _gids(jac)
    assert {"1:jacobian@0", "1:jacobian@20", "1:jacobian@40"} <= set(g)
    assert "0:jacobian@20" not in g  # after the run diverged at 13
    assert g["1:jacobian@0"].get_color() != g["1:jacobian@40"].get_color()
    np.testing.assert_allclose(g["2:jacobian@40"].get_ydata(),
                               report["runs"][2]["checkpoints"][2]["log10_jacobian_norm"])


def test_report_folder_markdown_and_html(report, tmp_path):
    rel = write_report_folder(tmp_path, report)
    assert rel == [f"plots/{n}.png" for n in ("loss", "grad_norm", "task_error", "jacobian")]
    for p in rel:
        assert (tmp_path / p).stat().st_size > 0 and (tmp_path / p).with_suffix(".svg").exists()
    assert json.loads((tmp_path / "report.json").read_text()) == report
    md = (tmp_path / "report.md").read_text()
    assert md.startswith("# gradscope report — train on adding")
    for run in report["runs"]:
        assert f"### {run['label']}" in md
    assert "diverged: at iteration 13" in md
    assert "![loss](plots/loss.png)" in md
    assert "| rnn · clip 1.0 | 0.001 | 0.04167 | 0.005 | yes |" in md
    html = (tmp_path / "report.html").read_text()
    assert 'name="viewport"' in html and html.count("data:image/png;base64,") == 4
    assert "http://" not in html and "https://" not in html
    assert "rnn · clip none" in html


def test_interrupted_report_says_so(report):
    report["interrupted"] = True
    assert "interrupted" in tr.render_markdown(report, [])
    assert "interrupted" in tr.render_html(report, tr.Path("/nonexistent"))
