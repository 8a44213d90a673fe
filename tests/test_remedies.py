"""The seeds' remedies through the whole pipeline, each against a closed form: dropout on the
recurrent state (variational vs naive) and bidirectional runs."""

import math

import numpy as np
import pytest

from gradscope.config import Config, resolve
from gradscope.errors import UsageError
from gradscope.host_arrays import make_masks
from gradscope.pipeline import analyze

P = 0.3


def _identity_rnn(mode: str, **kw) -> Config:
    # W_hh = I, linear: J_t = diag(m_t) / (1 - p) exactly, so every product is diagonal.
    return Config(arch="rnn", activation="linear", init="identity", hidden=16, input_size=2,
                  steps=60, dropout=P, dropout_mode=mode, x64=True, **kw)


def test_variational_dropout_keeps_one_path_for_every_step():
    # One mask for all steps: the kept units carry the gradient through every step, each
    # step scaling it by 1/(1-p): log10 ‖P_t‖ = (T - t)·(-log10(1 - p)), never cut.
    run = analyze(_identity_rnn("variational"))
    T = run["config"]["steps"]
    expected = [(T - t) * -math.log10(1 - P) for t in range(T + 1)]
    assert run["series"]["log10_jacobian_norm"] == pytest.approx(expected, abs=1e-9)
    assert run["summary"]["memory_horizon"] is None


def test_naive_dropout_cuts_every_path_within_a_few_steps():
    # A new mask per step: unit i survives k steps with probability (1-p)^k, so with H = 16
    # every path is cut after about log(16)/-log(0.7) ≈ 8 steps (P(not cut in 60) ≈ 1e-8).
    # Until then the surviving units still give the variational closed form.
    cfg = _identity_rnn("naive")
    run = analyze(cfg)
    T, s = cfg.steps, run["series"]["log10_jacobian_norm"]
    masks = make_masks(cfg)[0] > 0  # (T, H): which units step t + 1 keeps
    alive = np.ones(cfg.hidden, bool)
    cut = None
    for k in range(1, T + 1):  # k steps back from T
        alive &= masks[T - k]
        if not alive.any():
            cut = k
            break
    assert cut is not None and cut < 25
    for k in range(cut):
        assert s[T - k] == pytest.approx(k * -math.log10(1 - P), abs=1e-9)
    assert all(v is None for v in s[: T - cut + 1])  # exactly zero: no log10
    assert run["summary"]["memory_horizon"] == cut


def test_masks_are_fixed_or_fresh_and_keep_one_minus_p():
    var = make_masks(Config(hidden=200, steps=50, batch=2, dropout=P, dropout_mode="variational"))
    naive = make_masks(Config(hidden=200, steps=50, batch=2, dropout=P, dropout_mode="naive"))
    assert var.shape == naive.shape == (2, 50, 200)
    assert (var == var[:, :1]).all() and not (naive == naive[:, :1]).all()
    for m in (var, naive):
        assert set(np.unique(m)) == {0.0, 1 / (1 - P)}
        assert (m > 0).mean() == pytest.approx(1 - P, abs=0.03)


def test_naive_dropout_shortens_a_tanh_rnns_memory_compared_with_variational():
    # The seeds: dropout along time loses information as steps go by; one mask per sequence
    # (variational) does not. Averaged over a batch, naive decays faster.
    gains = {}
    for mode in ("variational", "naive"):
        cfg = Config(arch="rnn", hidden=32, input_size=4, steps=80, init="orthogonal", batch=8,
                     dropout=P, dropout_mode=mode)
        gains[mode] = analyze(cfg)["summary"]["log10_gain_per_step"]
    assert gains["naive"] < gains["variational"]


@pytest.mark.parametrize(("options", "match"), [
    ({"dropout": 1.0}, "--dropout must be in"),
    ({"dropout": float("nan")}, "--dropout must be in"),
    ({"dropout": 0.2, "dropout_mode": "sometimes"}, "unknown dropout_mode"),
    ({"bidirectional": True, "residual": True, "layers": 3}, "cannot be combined"),
    ({"direction": "backward"}, "needs a bidirectional"),
])
def test_bad_remedy_options(options, match):
    with pytest.raises(UsageError, match=match) as e:
        resolve(options)
    assert e.value.hint


def test_bidirectional_gives_two_runs_with_their_own_weights():
    cfg = Config(arch="gru", hidden=8, input_size=3, steps=20, bidirectional=True)
    fwd, bwd = [analyze(c) for c in cfg.directions()]
    assert fwd["label"].endswith("forward") and bwd["label"].endswith("backward")
    assert fwd["config"]["direction"] == "forward" and bwd["config"]["direction"] == "backward"
    assert fwd["spectrum"]["singular_values"] != bwd["spectrum"]["singular_values"]
    assert fwd["series"]["log10_jacobian_norm"] != bwd["series"]["log10_jacobian_norm"]
