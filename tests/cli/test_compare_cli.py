"""`gradscope compare`: a comma list for every value option, options that shape one
architecture applied to its runs only, labels that tell every run apart."""

import json

import numpy as np

from .test_analyze_cli import _assert_usage_error, gradscope, run_main


def test_forget_bias_list_varies_the_lstm_runs_only(tmp_path):
    r = gradscope("compare", "-a", "rnn,lstm", "--forget-bias", "0,1,2", "-s", "1", "-H", "6",
                  "-T", "40", "--format", "json", "--no-plots", "-o", str(tmp_path / "c"))
    assert r.returncode == 0, r.stderr
    runs = json.loads(r.stdout)["runs"]
    got = [(run["config"]["arch"], run["config"]["forget_bias"]) for run in runs]
    assert got == [("rnn", 0.0), ("lstm", 0.0), ("lstm", 1.0), ("lstm", 2.0)]
    labels = [run["label"] for run in runs]
    assert labels == ["rnn · gaussian · scale 1", "lstm · gaussian · scale 1 · forget bias 0",
                      "lstm · gaussian · scale 1 · forget bias 1",
                      "lstm · gaussian · scale 1 · forget bias 2"]
    # the same LSTM weights but for the forget bias: the cell path Π diag(f_k) keeps more per
    # step as the bias opens the forget gates
    cell = [run["series"]["log10_cell_path_norm"][0] for run in runs[1:]]
    assert cell[0] < cell[1] < cell[2] < 0


def test_every_value_option_takes_a_list(tmp_path):
    # (a list of sizes is a program per size: two here, to keep the test quick)
    r = gradscope("compare", "-a", "gru", "-H", "3,5", "--seed", "0,1", "--inputs",
                  "gaussian,zeros", "-T", "6", "--format", "json", "--no-plots", "-s", "1",
                  "-o", str(tmp_path / "c"))
    assert r.returncode == 0, r.stderr
    runs = json.loads(r.stdout)["runs"]
    assert [(x["state_size"], x["config"]["inputs"], x["config"]["seed"]) for x in runs] == \
        [(h, i, s) for h in (3, 5) for i in ("gaussian", "zeros") for s in (0, 1)]
    labels = [x["label"] for x in runs]
    assert len(set(labels)) == len(labels)
    assert labels[0] == "gru · gaussian · scale 1 · H 3 · inputs gaussian · seed 0"


def test_a_whole_number_option_refuses_a_fraction(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_main(capsys, "compare", "--hidden", "8,1.5")
    _assert_usage_error(code, out, err, "'1.5' is not a whole number")


def test_scale_with_weights_alone_is_a_usage_error(capsys, tmp_path):
    from gradscope.cells import init_params
    from gradscope.config import Config

    path = tmp_path / "w.npz"
    np.savez(path, **init_params(Config(arch="rnn", hidden=4, input_size=3)))
    code, out, err = run_main(capsys, "compare", "--weights", str(path), "--scale", "1,2",
                              "-o", str(tmp_path / "o"))
    _assert_usage_error(code, out, err, "--scale has no effect with --weights alone")
    assert "--init" in err


def test_a_list_for_a_one_value_option_is_a_usage_error():
    import pytest

    import gradscope
    from gradscope.errors import UsageError

    with pytest.raises(UsageError, match="residual takes one value in compare"):
        gradscope.compare(arch="rnn", layers=3, residual=[False, True])
