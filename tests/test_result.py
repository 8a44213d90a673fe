"""The `Report` the Python API returns, on synthetic reports whose every value is known
(tests/report/conftest.py's builders); no JAX runs here."""

from __future__ import annotations

import copy
import csv
import io
import json
import math
import subprocess
import sys
from html import escape
from pathlib import Path

import numpy as np
import pytest

import gradscope
from gradscope.errors import UsageError
from gradscope.report.story import answer
from gradscope.result import SCHEMA, Report, Run
from tests.report.conftest import (
    ODD_LABEL,
    linear_rnn_run,
    lstm_run,
    make_report,
    nonfinite_gru_run,
)

T0, H0 = 20, 4
LSTM_T, GRU_T, GRU_BAD = 20, 15, 9
SERIES_ORDER = ["log10_jacobian_norm", "log10_local_norm", "log10_loss_grad_norm",
                "log10_seed_bound", "log10_activation_deriv_product", "saturation_fraction",
                "log10_cell_path_norm"]


def analysis_report() -> dict:
    """Four runs: linear RNN a=0.5 (a label that needs escaping), linear RNN a=1.25 with
    series_std, an LSTM (cell path, Lyapunov exponents), a GRU with nulls from step 9."""
    return make_report([
        linear_rnn_run(0.5, T0, H0, ODD_LABEL),
        linear_rnn_run(1.25, T0, H0, "rnn · linear · scale 1.25 · batch 3", batch=3),
        lstm_run(T=LSTM_T),
        nonfinite_gru_run(T=GRU_T, bad=GRU_BAD),
    ])


def small_report() -> dict:
    """Two short runs: enough for every file of an output folder, quick to draw."""
    return make_report([linear_rnn_run(0.5, 8, 3, "a · 0.5"),
                        linear_rnn_run(1.1, 8, 3, "b · 1.1")], command="analyze")


def spectrum_report() -> dict:
    run = lstm_run(T=4)
    run.update(series={}, summary={}, lyapunov=None, timings={})
    return make_report([run], command="spectrum")


def train_report() -> dict:
    """Two training runs of 6 iterations, evaluated after 0, 3 and 6 updates; the second
    went non-finite at iteration 4."""
    def run(label: str, clip, bad: int | None) -> dict:
        loss = [0.5, 0.4, 0.3, 0.25, 0.2, 0.1]
        norm = [1.0, 2.0, 0.5, 3.0, 0.7, 0.2]
        clipped = [int(clip is not None and n > clip) for n in norm]
        if bad is not None:
            loss = [*loss[:bad], None, None]
            norm = [*norm[:bad], 1e30, None]
        return {"label": label,
                "config": {"arch": "rnn", "hidden": 4, "steps": 5, "task": "adding",
                           "clip": clip, "clip_mode": "norm", "iters": 6},
                "state_size": 4,
                "series": {"loss": loss, "grad_norm": norm, "clipped": clipped,
                           "task_error": [0.9, 0.5, None if bad else 0.1],
                           "eval_loss": [0.6, 0.3, None if bad else 0.05],
                           "eval_iter": [0, 3, 6]},
                "checkpoints": [{"iter": 0, "log10_jacobian_norm": [-1.0, -0.5, 0.0],
                                 "spectral_radius": 0.9}],
                "summary": {"final_loss": None if bad else 0.05, "clip_fraction": 0.5,
                            "first_nonfinite_iter": bad, "solved": False},
                "timings": {"compile_s": 0.1, "run_s": 0.1}}

    return make_report([run("rnn · clip 1", 1.0, None), run("rnn · clip none", None, 4)],
                       command="train")


def cliff_report() -> dict:
    def run(theta, w, b, label):
        n = len(w)
        return {"label": label, "config": {"clip": theta, "lr": 0.01, "iters": n - 1},
                "series": {"w": w, "b": b, "log10_loss": [0.5 - 0.1 * k for k in range(n)],
                           "log10_grad_norm": [0.7] * n, "clipped": [0] * (n - 1),
                           "step_norm": [0.1] * (n - 1)},
                "summary": {"final_log10_loss": 0.1, "clip_fraction": 0.0,
                            "first_nonfinite_iter": None}}

    return make_report([run(None, [5.5, 5.4, 5.0], [-2.0, -2.2, -2.6], "clip none"),
                        run(1.0, [5.5, 5.495], [-2.0, -2.005], "clip 1")], command="cliff")


@pytest.fixture
def report() -> dict:
    return analysis_report()


# --------------------------------------------------------------------------- the dict


def test_to_dict_round_trips_and_is_json(report):
    original = copy.deepcopy(report)
    r = Report(report)
    d = r.to_dict()
    assert d == original and d["schema"] == SCHEMA
    d["runs"].clear()  # a copy: the Report keeps its runs
    assert len(r) == 4 and report == original
    assert json.loads(r.to_json()) == original
    assert json.loads(r.to_json(indent=1)) == original and "\n" in r.to_json(indent=1)


def test_len_iteration_indexing_and_repr(report):
    r = Report(report)
    assert r.command == "compare" and len(r) == 4
    assert [run.label for run in r] == [run["label"] for run in report["runs"]]
    assert [run.label for run in r.runs] == [run.label for run in r]
    assert r[2].label == "lstm · orthogonal · scale 1"
    assert repr(r) == "<Report compare: 4 runs>"
    assert repr(Report(make_report(report["runs"][:1], "analyze"))) == "<Report analyze: 1 run>"
    assert repr(r[2]) == "<Run 'lstm · orthogonal · scale 1', T=20>"


def test_bad_input_is_a_usage_error(report):
    with pytest.raises(UsageError):
        Report([1, 2])  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        Report({"schema": SCHEMA})
    with pytest.raises(UsageError, match="gradscope.report/2"):
        Report({**report, "schema": "gradscope.report/2"})


def test_run_views(report):
    rnn, batched, lstm, gru = Report(report).runs
    s = rnn.series
    assert len(s["log10_jacobian_norm"]) == T0 + 1 and len(s["log10_local_norm"]) == T0
    assert s["log10_jacobian_norm"].dtype == np.float64
    assert s["log10_jacobian_norm"][0] == pytest.approx(T0 * math.log10(0.5))
    assert s["log10_cell_path_norm"] is None  # not applicable to an RNN
    assert rnn.series_std is None
    assert set(batched.series_std) == set(s) and batched.series_std["log10_cell_path_norm"] is None
    assert len(batched.series_std["log10_local_norm"]) == T0

    g = gru.series
    assert np.isnan(g["log10_jacobian_norm"][GRU_BAD:]).all()
    assert np.isfinite(g["log10_jacobian_norm"][:GRU_BAD]).all()
    assert np.isnan(g["log10_local_norm"][GRU_BAD - 1:]).all()  # index t − 1
    assert g["log10_seed_bound"] is None

    assert np.array_equal(lstm.lyapunov, [-0.1, -0.3]) and rnn.lyapunov is None
    assert lstm.state_size == 2 * 3 and lstm.config["arch"] == "lstm"
    assert lstm.summary["regime"] == "vanishing"
    assert lstm.spectrum == report["runs"][2]["spectrum"]
    assert lstm.to_dict() == report["runs"][2]
    assert Run(report["runs"][2]).label == lstm.label


def test_no_method_changes_the_callers_dict(report):
    original = copy.deepcopy(report)
    r = Report(report)
    for run in r:
        run.series["log10_jacobian_norm"][:] = 7.0
        run.config["arch"] = "changed"
        run.summary["regime"] = "changed"
        run.to_dict()["label"] = "changed"
    r.summary()[0]["regime"] = "changed"
    r.to_pandas()
    r._repr_html_()
    r.figure("jacobian_norm")
    assert report == original


def test_summary_is_one_dict_per_run(report):
    rows = Report(report).summary()
    assert [row["label"] for row in rows] == [run["label"] for run in report["runs"]]
    assert rows[2] == {"label": "lstm · orthogonal · scale 1", **report["runs"][2]["summary"]}


# --------------------------------------------------------------------------- pandas


def _series_csv_rows(report: dict) -> list[dict]:
    from gradscope.report import renderers

    return list(csv.DictReader(io.StringIO(renderers(report)[0](report))))


def _same_as_csv(df, rows: list[dict]) -> None:
    assert list(df.columns) == list(rows[0])
    assert len(df) == len(rows)
    for col in df.columns:
        if df[col].dtype == np.float64:
            expected = [float(r[col]) if r[col] else np.nan for r in rows]
            np.testing.assert_array_equal(df[col].to_numpy(), expected)
        else:
            assert [str(v) for v in df[col]] == [r[col] for r in rows]


def test_to_pandas_one_row_per_run_and_t(report):
    df = Report(report).to_pandas()
    assert list(df.columns[:3]) == ["run", "label", "t"]
    assert list(df.columns[3:10]) == SERIES_ORDER
    assert list(df.columns[10:]) == [f"{k}_std" for k in SERIES_ORDER if k != "log10_cell_path_norm"]
    steps = [T0, T0, LSTM_T, GRU_T]
    assert len(df) == sum(T + 1 for T in steps)
    assert df["run"].dtype == np.int64 and df["t"].dtype == np.int64
    for n, T in enumerate(steps):
        rows = df[df["run"] == n]
        assert list(rows["t"]) == list(range(T + 1))
        assert set(rows["label"]) == {report["runs"][n]["label"]}

    series = report["runs"][0]["series"]
    run0 = df[df["run"] == 0].set_index("t")
    assert np.isnan(run0.loc[0, "log10_local_norm"])  # t = 1..T only
    assert run0.loc[1, "log10_local_norm"] == series["log10_local_norm"][0]
    assert run0.loc[T0, "saturation_fraction"] == series["saturation_fraction"][T0 - 1]
    assert run0.loc[5, "log10_jacobian_norm"] == series["log10_jacobian_norm"][5]
    assert np.isnan(run0["log10_cell_path_norm"]).all()  # the RNN has none
    assert np.isnan(run0["log10_jacobian_norm_std"]).all()  # batch 1: no spread

    run1 = df[df["run"] == 1].set_index("t")
    std = report["runs"][1]["series_std"]["log10_jacobian_norm"]
    assert list(run1["log10_jacobian_norm_std"]) == std

    gru = df[df["run"] == 3].set_index("t")
    assert np.isfinite(gru.loc[GRU_BAD - 1, "log10_jacobian_norm"])
    assert np.isnan(gru.loc[GRU_BAD:, "log10_jacobian_norm"]).all()
    lstm = df[df["run"] == 2].set_index("t")
    assert lstm.loc[3, "log10_cell_path_norm"] == report["runs"][2]["series"][
        "log10_cell_path_norm"][3]


def test_to_pandas_agrees_with_series_csv(report):
    _same_as_csv(Report(report).to_pandas(), _series_csv_rows(report))


def test_to_pandas_of_train_spectrum_and_cliff_reports():
    train = train_report()
    df = Report(train).to_pandas()
    assert list(df.columns) == ["run", "label", "iter", "loss", "grad_norm", "clipped",
                                "task_error", "eval_loss"]
    assert len(df) == 2 * 7  # iterations 0..6: the last holds only the final evaluation
    _same_as_csv(df, _series_csv_rows(train))
    first = df[df["run"] == 0].set_index("iter")
    assert first.loc[3, "grad_norm"] == 3.0 and first.loc[3, "clipped"] == 1
    assert first.loc[6, "task_error"] == 0.1 and np.isnan(first.loc[6, "loss"])
    assert np.isnan(df[df["run"] == 1].set_index("iter").loc[4, "loss"])

    spectrum = spectrum_report()
    df = Report(spectrum).to_pandas()
    assert list(df.columns) == ["run", "label", "layer", "block", "k", "singular_value",
                                "eigenvalue_re", "eigenvalue_im"]
    _same_as_csv(df, _series_csv_rows(spectrum))
    assert list(df["block"].unique()) == ["W_hh", "i", "f", "g", "o"]
    assert list(df[df["block"] == "g"]["singular_value"]) == pytest.approx([1.2, 0.6, 0.3])
    assert np.isnan(df[df["block"] == "W_hh"]["eigenvalue_re"]).all()

    cliff = cliff_report()
    df = Report(cliff).to_pandas()
    assert list(df.columns) == ["run", "label", "clip", "iter", "w", "b", "log10_loss",
                                "log10_grad_norm", "clipped", "step_norm"]
    assert list(df["run"]) == [0, 0, 0, 1, 1] and list(df["iter"]) == [0, 1, 2, 0, 1]
    assert list(df["clip"]) == ["none"] * 3 + ["1.0"] * 2
    assert list(df["w"]) == [5.5, 5.4, 5.0, 5.5, 5.495]
    assert np.isnan(df["step_norm"].iloc[2]) and df["step_norm"].iloc[1] == 0.1


def test_to_pandas_without_pandas_is_a_usage_error(report, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(UsageError) as e:
        Report(report).to_pandas()
    assert "pandas" in e.value.message and "pip install pandas" in e.value.hint


# --------------------------------------------------------------------------- figures


def test_figure_by_name(report):
    from matplotlib.figure import Figure

    r = Report(report)
    fig = r.figure("jacobian_norm")
    assert isinstance(fig, Figure)
    assert any(ax.lines for ax in fig.axes)
    assert {"jacobian_norm", "local_norm", "spectrum", "saturation"} <= set(r.figures())


def test_unknown_figure_lists_the_names(report):
    r = Report(report)
    with pytest.raises(UsageError) as e:
        r.figure("nope")
    assert "nope" in e.value.message
    assert all(name in e.value.hint for name in r.figures())


def test_figure_with_nothing_to_show(report):
    with pytest.raises(UsageError, match="nothing to show"):
        Report(report).figure("dlfs2")  # no run of the dlfs2 preset


def test_train_and_cliff_reports_have_their_own_figures():
    from matplotlib.figure import Figure

    train = Report(train_report())
    assert train.figures()[:2] == ["loss", "grad_norm"]
    assert isinstance(train.figure("loss"), Figure)
    assert "cliff_surface" in Report(cliff_report()).figures()
    with pytest.raises(UsageError, match="jacobian_norm"):
        train.figure("jacobian_norm")


# --------------------------------------------------------------------------- files


def test_write_makes_the_clis_folder_and_refuses_to_overwrite(tmp_path):
    original = small_report()
    r = Report(copy.deepcopy(original))
    out = r.write(tmp_path / "a")
    assert out == tmp_path / "a"
    for name in ("report.json", "report.md", "report.html", "series.csv",
                 "plots/jacobian_norm.png"):
        assert (out / name).is_file(), name
    assert json.loads((out / "report.json").read_text()) == r.to_dict() == original
    assert (out / "series.csv").read_text().splitlines()[0].startswith("run,label,t,")

    with pytest.raises(UsageError, match="already holds a finished report"):
        r.write(out)
    assert r.write(str(out), figures=False, force=True) == out

    assert gradscope.load(out).to_dict() == original


def test_write_without_figures_and_to_a_new_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = Report(small_report()).write(figures=False)
    assert out.parent == Path("runs") and out.name.startswith("analyze-")
    assert (out / "report.json").is_file() and (out / "series.csv").is_file()
    assert not (out / "plots").exists()


def test_load_refuses_what_is_not_a_report(tmp_path):
    with pytest.raises(UsageError, match="holds no report.json"):
        gradscope.load(tmp_path)
    (tmp_path / "report.json").write_text("{not json")
    with pytest.raises(UsageError, match="cannot read"):
        gradscope.load(tmp_path)


# --------------------------------------------------------------------------- notebooks


def test_repr_html_has_every_label_and_the_figure(report, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    html = Report(report)._repr_html_()
    for run in report["runs"]:
        assert escape(run["label"]) in html
    assert ODD_LABEL not in html  # escaped
    assert 'class="vanishing"' in html
    assert html.count("data:image/png;base64,") == 1
    assert not list(tmp_path.iterdir())  # no file written
    # the answer of a report of several runs, between the table and the figure
    said = escape(answer(report).sentences[0])
    assert html.index("</table>") < html.index(said) < html.index("data:image/png")


def test_repr_html_of_train_spectrum_and_cliff_reports():
    train = Report(train_report())._repr_html_()
    assert "rnn · clip none" in train and "final" in train
    assert "data:image/png;base64," in train
    spectrum = Report(spectrum_report())._repr_html_()
    assert "σ_max" in spectrum and "data:image/png;base64," in spectrum
    cliff = Report(cliff_report())._repr_html_()  # no surface: the table alone
    assert "clip none" in cliff and "clip 1" in cliff


def test_importing_the_module_is_cheap():
    code = ("import sys, gradscope.result; "
            "print(sorted(m for m in ('jax', 'matplotlib', 'pandas', 'gradscope.report') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
