"""A `spectrum` report's summary table and CSV carry the spectra, not empty dynamics columns."""

import csv
import io

import numpy as np
import pytest

from gradscope.config import Config
from gradscope.io.schema import build_report
from gradscope.records import spectrum_record
from gradscope.report import render_markdown, render_series_csv


@pytest.fixture
def report():
    # LSTM blocks i, f, g, o = c·diag(3, 2, 1) for c = 0.1, 0.2, 0.3, 0.4: each block's
    # singular values and eigenvalues are c·(3, 2, 1).
    blocks = [np.diag([3.0, 2.0, 1.0]) * c for c in (0.1, 0.2, 0.3, 0.4)]
    params = {"weight_hh_l0": np.concatenate(blocks)}
    run = spectrum_record(Config(arch="lstm", hidden=3), params)
    return build_report("spectrum", [run])


def test_summary_table_lists_each_block(report):
    md = render_markdown(report, [])
    assert "| run | layer | block | σ_max | σ_min | spectral radius ρ |" in md
    assert "| 0 | f | 0.6000 | 0.2000 | 0.6000 |" in md
    assert "| 0 | o | 1.2000 | 0.4000 | 1.2000 |" in md
    assert "regime" not in md.split("## Runs")[0]


def test_csv_rows_are_the_singular_values_and_eigenvalues(report):
    rows = list(csv.DictReader(io.StringIO(render_series_csv(report))))
    g = [r for r in rows if r["block"] == "g"]
    assert [float(r["singular_value"]) for r in g] == pytest.approx([0.9, 0.6, 0.3])
    assert [float(r["eigenvalue_re"]) for r in g] == pytest.approx([0.9, 0.6, 0.3])
    stacked = [r for r in rows if r["block"] == "W_hh"]
    assert len(stacked) == 3 and all(r["eigenvalue_re"] == "" for r in stacked)
    # σ of the stacked matrix: sqrt(Σ_c (c·d)²) for d = 3, 2, 1
    expected = [np.sqrt(sum((c * d) ** 2 for c in (0.1, 0.2, 0.3, 0.4))) for d in (3, 2, 1)]
    assert [float(r["singular_value"]) for r in stacked] == pytest.approx(expected)
