"""Run labels tell every run of a report apart by the options that differ between them."""

from gradscope.config import Config
from gradscope.labels import distinct_labels, short_labels, varying


def _run(**options):
    cfg = Config(**options)
    return {"label": cfg.label(), "config": cfg.to_dict()}


def test_options_that_differ_are_named_where_they_apply():
    runs = [_run(arch="rnn"), _run(arch="lstm"), _run(arch="lstm", forget_bias=1.0),
            _run(arch="gru", hidden=128)]
    assert varying([r["config"] for r in runs]) == ["arch", "forget_bias", "hidden"]
    assert distinct_labels(runs) == [
        "rnn · gaussian · scale 1 · H 64",
        "lstm · gaussian · scale 1 · forget bias 0 · H 64",
        "lstm · gaussian · scale 1 · forget bias 1 · H 64",
        "gru · gaussian · scale 1 · H 128",
    ]


def test_a_forget_bias_recorded_on_an_rnn_does_not_vary_anything():
    runs = [_run(arch="rnn", forget_bias=1.0), _run(arch="rnn", scale=2.0)]
    assert varying([r["config"] for r in runs]) == ["scale"]
    assert distinct_labels(runs) == ["rnn · gaussian · scale 1", "rnn · gaussian · scale 2"]


def test_merged_runs_never_share_a_label():
    # the same configuration twice (two folders of one command), and two that differ only
    # outside the analysis options
    same = [_run(arch="gru"), _run(arch="gru")]
    assert distinct_labels(same) == ["gru · gaussian · scale 1 (1)", "gru · gaussian · scale 1 (2)"]
    a, b = _run(arch="rnn"), _run(arch="rnn")
    a["config"]["lr"], b["config"]["lr"] = 0.1, 0.01
    assert distinct_labels([a, b]) == ["rnn · gaussian · scale 1 · lr 0.1",
                                       "rnn · gaussian · scale 1 · lr 0.01"]


def test_dropout_seed_precision_and_weights_are_named():
    runs = [_run(dropout=0.3, seed=1), _run(dropout=0.0, seed=2, x64=True)]
    assert distinct_labels(runs) == ["rnn · gaussian · scale 1 · variational dropout 0.3 · "
                                     "seed 1 · float32",
                                     "rnn · gaussian · scale 1 · no dropout · seed 2 · float64"]
    w = [_run(arch="lstm", weights="runs/a/ep1.pt"), _run(arch="lstm", weights="ep9.pt")]
    assert distinct_labels(w) == ["lstm · ep1.pt", "lstm · ep9.pt"]


def test_short_labels_drop_the_parts_every_run_shares():
    labels = [{"label": "rnn · gaussian · scale 1"}, {"label": "lstm · gaussian · scale 2"}]
    assert short_labels(labels) == ["rnn · scale 1", "lstm · scale 2"]
    assert short_labels([{"label": "rnn · gaussian"}]) == ["rnn · gaussian"]
