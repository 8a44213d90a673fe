"""gradscope.cells against an independent numpy implementation, finite differences and
(when installed) PyTorch, on the same weights."""

import jax
import numpy as np
import pytest

from gradscope.cells import init_params, make_step
from gradscope.config import Config
from gradscope.dynamics.jacobian import local_jacobian
from gradscope.dynamics.unroll import unroll

from . import numpy_cells as ref

CASES = [
    (Config(arch="rnn", activation="tanh"), ref.rnn, {}),
    (Config(arch="rnn", activation="relu"), ref.rnn, {"act": "relu"}),
    (Config(arch="rnn", activation="linear", scale=0.9), ref.rnn, {"act": "linear"}),
    (Config(arch="lstm", forget_bias=1.0), ref.lstm, {}),
    (Config(arch="gru"), ref.gru, {}),
    (Config(arch="gru", gru_variant="cho"), ref.gru_cho, {}),
]


def _setup(cfg, H=6, D=3, T=9, seed=1):
    cfg = Config(**{**cfg.to_dict(), "hidden": H, "input_size": D, "steps": T, "seed": seed,
                    "init": "pytorch" if cfg.init == "gaussian" else cfg.init})
    params = init_params(cfg)
    rng = np.random.default_rng(seed)
    xs = rng.standard_normal((T, D))
    s0 = 0.3 * rng.standard_normal(cfg.state_size)
    return cfg, params, xs, s0


@pytest.mark.parametrize(("cfg", "cell", "kw"), CASES, ids=lambda c: getattr(c, "arch", None))
def test_unroll_matches_numpy(cfg, cell, kw):
    cfg, params, xs, s0 = _setup(cfg)
    with jax.enable_x64(True):
        states, _ = unroll(make_step(cfg), params, s0, xs)
    expected = ref.unroll(cell, params, s0, xs, **kw)
    np.testing.assert_allclose(np.asarray(states), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("cfg", "cell", "kw"), CASES, ids=lambda c: getattr(c, "arch", None))
def test_jacrev_matches_central_differences(cfg, cell, kw):
    cfg, params, xs, s0 = _setup(cfg)
    with jax.enable_x64(True):
        J = np.asarray(local_jacobian(make_step(cfg), params, s0, xs[0]))
    eps = 1e-6
    fd = np.empty_like(J)
    for j in range(len(s0)):
        e = np.zeros_like(s0)
        e[j] = eps
        fd[:, j] = (cell(params, s0 + e, xs[0], **kw) - cell(params, s0 - e, xs[0], **kw)) / (2 * eps)
    np.testing.assert_allclose(J, fd, rtol=1e-6, atol=1e-8)


def test_rnn_jacobian_is_diag_deriv_times_w_hh():
    """The seeds' formula: ∂h_t/∂h_{t-1} = diag(tanh'(z_t)) W_hh."""
    cfg, params, xs, s0 = _setup(Config(arch="rnn"))
    with jax.enable_x64(True):
        J = np.asarray(local_jacobian(make_step(cfg), params, s0, xs[0]))
    z = params["weight_ih_l0"] @ xs[0] + params["bias_ih_l0"] + params["weight_hh_l0"] @ s0 \
        + params["bias_hh_l0"]
    np.testing.assert_allclose(J, np.diag(1 - np.tanh(z) ** 2) @ params["weight_hh_l0"], atol=1e-12)


def test_stacked_layers_feed_the_hidden_output_upwards():
    cfg = Config(arch="lstm", hidden=4, input_size=3, layers=2, seed=2)
    params = init_params(cfg)
    xs = np.random.default_rng(0).standard_normal((5, 3))
    with jax.enable_x64(True):
        states, _ = unroll(make_step(cfg), params, np.zeros(16), xs)
    p0 = {k.replace("_l0", "_l0"): v for k, v in params.items() if k.endswith("_l0")}
    p1 = {k.replace("_l1", "_l0"): v for k, v in params.items() if k.endswith("_l1")}
    s_low, s_high = np.zeros(8), np.zeros(8)
    for t, x in enumerate(xs, start=1):
        s_low = ref.lstm(p0, s_low, x)
        s_high = ref.lstm(p1, s_high, s_low[:4])
        np.testing.assert_allclose(np.asarray(states[t]), np.concatenate([s_low, s_high]),
                                   atol=1e-12)


@pytest.mark.parametrize("arch", ["rnn", "lstm", "gru"])
def test_cells_match_pytorch(arch):
    torch = pytest.importorskip("torch")
    H, D, T = 5, 3, 7
    mod = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[arch](D, H).double()
    params = {k: v.detach().numpy() for k, v in mod.state_dict().items()}
    xs = np.random.default_rng(0).standard_normal((T, D))
    out = mod(torch.from_numpy(xs)[:, None, :])
    h_torch = out[0][:, 0, :].detach().numpy()
    cfg = Config(arch=arch, hidden=H, input_size=D, steps=T)
    with jax.enable_x64(True):
        states, _ = unroll(make_step(cfg), params, np.zeros(cfg.state_size), xs)
    np.testing.assert_allclose(np.asarray(states)[1:, :H], h_torch, atol=1e-12)


def test_residual_stack_adds_each_layers_input_to_its_output():
    cfg = Config(arch="rnn", hidden=4, input_size=3, layers=3, residual=True, seed=3)
    params = init_params(cfg)
    xs = np.random.default_rng(1).standard_normal((6, 3))
    with jax.enable_x64(True):
        states, _ = unroll(make_step(cfg), params, np.zeros(12), xs)
    p = [{k.replace(f"_l{i}", "_l0"): v for k, v in params.items() if k.endswith(f"_l{i}")}
         for i in range(3)]
    h = [np.zeros(4)] * 3
    for t, x in enumerate(xs, start=1):
        h0 = ref.rnn(p[0], h[0], x)
        h1 = ref.rnn(p[1], h[1], h0)
        h2 = ref.rnn(p[2], h[2], h1 + h0)  # layer 1 passes up h1 + its input h0
        h = [h0, h1, h2]
        np.testing.assert_allclose(np.asarray(states[t]), np.concatenate(h), atol=1e-12)
