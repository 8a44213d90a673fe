import csv
import io
import math

from gradscope.report import render_series_csv

from .conftest import ODD_LABEL, T0


def _rows(report):
    return list(csv.DictReader(io.StringIO(render_series_csv(report))))


def _row(rows, run, t):
    (row,) = [r for r in rows if r["run"] == str(run) and r["t"] == str(t)]
    return row


def test_one_row_per_run_and_step(report):
    rows = _rows(report)
    expected = sum(len(r["series"]["log10_jacobian_norm"]) for r in report["runs"])
    assert len(rows) == expected == 3 * (T0 + 1) + 16
    assert [r["t"] for r in rows if r["run"] == "3"] == [str(t) for t in range(16)]


def test_columns(report):
    header = next(csv.reader(io.StringIO(render_series_csv(report))))
    assert header[:3] == ["run", "label", "t"]
    # every series that is not None in some run, in SPEC order, then the spread
    assert header[3:10] == ["log10_jacobian_norm", "log10_local_norm", "log10_loss_grad_norm",
                            "log10_seed_bound", "log10_activation_deriv_product",
                            "saturation_fraction", "log10_cell_path_norm"]
    assert "log10_jacobian_norm_std" in header and "saturation_fraction_std" in header
    assert "log10_cell_path_norm_std" not in header  # None in the only run with a spread


def test_exact_values_round_trip(report):
    rows = _rows(report)
    for t in (0, 7, T0):
        assert float(_row(rows, 0, t)["log10_jacobian_norm"]) == (T0 - t) * math.log10(0.5)
    lstm = report["runs"][2]["series"]
    assert float(_row(rows, 2, 5)["log10_cell_path_norm"]) == lstm["log10_cell_path_norm"][5]
    assert float(_row(rows, 2, 5)["log10_loss_grad_norm"]) == lstm["log10_loss_grad_norm"][5]


def test_per_step_series_are_shifted(report):
    rows = _rows(report)
    sat = report["runs"][2]["series"]["saturation_fraction"]
    assert _row(rows, 2, 0)["saturation_fraction"] == ""
    assert _row(rows, 2, 0)["log10_local_norm"] == ""
    assert float(_row(rows, 2, 1)["saturation_fraction"]) == sat[0]
    assert float(_row(rows, 2, T0)["saturation_fraction"]) == sat[T0 - 1]
    assert float(_row(rows, 0, 3)["log10_local_norm"]) == math.log10(0.5)


def test_none_gives_empty_cells(report):
    rows = _rows(report)
    assert float(_row(rows, 3, 8)["log10_jacobian_norm"]) == (15 - 8) * 0.4
    assert _row(rows, 3, 9)["log10_jacobian_norm"] == ""
    assert _row(rows, 3, 15)["log10_loss_grad_norm"] == ""
    assert float(_row(rows, 3, 8)["log10_local_norm"]) == 0.4
    assert _row(rows, 3, 9)["log10_local_norm"] == ""
    # series that do not apply to a run
    assert _row(rows, 2, 3)["log10_seed_bound"] == ""
    assert _row(rows, 0, 3)["log10_cell_path_norm"] == ""


def test_std_columns(report):
    rows = _rows(report)
    std = report["runs"][1]["series_std"]
    assert float(_row(rows, 1, 4)["log10_jacobian_norm_std"]) == std["log10_jacobian_norm"][4]
    assert float(_row(rows, 1, 4)["saturation_fraction_std"]) == std["saturation_fraction"][3]
    assert _row(rows, 1, 0)["saturation_fraction_std"] == ""
    assert _row(rows, 0, 4)["log10_jacobian_norm_std"] == ""


def test_labels_are_quoted(report):
    rows = _rows(report)
    assert {r["label"] for r in rows if r["run"] == "0"} == {ODD_LABEL}


def test_repr_precision():
    from .conftest import make_report

    x = 0.1 + 0.2  # 0.30000000000000004: %g would lose it
    run = {"label": "x", "config": {"steps": 1},
           "series": {"log10_jacobian_norm": [x, 0.0], "log10_local_norm": [1 / 3]}}
    rows = _rows(make_report([run]))
    assert float(rows[0]["log10_jacobian_norm"]) == x
    assert float(rows[1]["log10_local_norm"]) == 1 / 3
