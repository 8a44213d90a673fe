import csv
import io
import math

from gradscope.report import render_series_csv

from .conftest import T


def test_rows_columns_and_values(report):
    rows = list(csv.DictReader(io.StringIO(render_series_csv(report))))
    assert len(rows) == 3 * (T + 1)
    r = rows[3]  # run 0, t = 3
    assert (r["run"], r["t"]) == ("0", "3")
    assert math.isclose(float(r["log10_jacobian_norm"]), 7 * math.log10(0.5))
    assert math.isclose(float(r["log10_local_norm"]), math.log10(0.5))
    assert rows[0]["log10_local_norm"] == ""  # no J_0
    assert float(r["log10_jacobian_norm_std"]) == 0.1
    assert rows[0]["log10_cell_path_norm"] == ""  # rnn has none
    lstm_t0 = rows[T + 1]
    assert math.isclose(float(lstm_t0["log10_cell_path_norm"]), -0.1 * T)
    assert rows[2 * (T + 1) + 1]["log10_jacobian_norm"] == ""  # None before the non-finite step
