"""The depth direction ∂h^top_t/∂h^k_t against central finite differences of a numpy stack
(with and without skip connections), and the seeds' claim that residual connections keep it
from vanishing."""

import numpy as np
import pytest

from gradscope.cells import init_params
from gradscope.config import Config
from gradscope.host_arrays import make_inputs
from gradscope.pipeline import analyze

from ..cells import numpy_cells as ref


def _layer(params, k):
    return {f"{n}_l0": params[f"{n}_l{k}"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}


def numpy_top_output(params, s_prev, x, L, H, residual, kick_layer=None, kick=None):
    """One step of a stacked LSTM; `kick` is added to what layer `kick_layer` passes up."""
    W, inp = 2 * H, x
    for k in range(L):
        s_k = ref.lstm(_layer(params, k), s_prev[k * W : (k + 1) * W], inp)
        up = s_k[:H] + (kick if k == kick_layer else 0)
        inp = up + inp if residual and k > 0 else up
    return s_k[:H]


@pytest.mark.parametrize("residual", [False, True])
def test_depth_norms_match_finite_differences(residual):
    cfg = Config(arch="lstm", hidden=4, input_size=3, steps=6, layers=3, residual=residual,
                 h0="gaussian", x64=True, seed=5)
    run = analyze(cfg)
    params, xs = init_params(cfg), make_inputs(cfg)[0]
    states = ref.unroll(lambda p, s, x: _stack_step(p, s, x, cfg), params,
                        np.random.default_rng([cfg.seed, 3]).standard_normal(cfg.state_size), xs)
    eps, H = 1e-6, cfg.hidden
    expected = np.zeros(cfg.layers)
    for t in range(cfg.steps):
        for k in range(cfg.layers - 1):
            cols = [(numpy_top_output(params, states[t], xs[t], 3, H, residual, k, eps * e)
                     - numpy_top_output(params, states[t], xs[t], 3, H, residual, k, -eps * e))
                    / (2 * eps) for e in np.eye(H)]
            expected[k] += np.log10(np.linalg.norm(np.stack(cols, axis=1), 2)) / cfg.steps
    np.testing.assert_allclose(run["depth"]["log10_norm"], expected, atol=1e-6)


def _stack_step(params, s, x, cfg):
    W, inp, out = cfg.layer_state_size, x, []
    for k in range(cfg.layers):
        s_k = ref.lstm(_layer(params, k), s[k * W : (k + 1) * W], inp)
        out.append(s_k)
        inp = s_k[: cfg.hidden] + inp if cfg.residual and k > 0 else s_k[: cfg.hidden]
    return np.concatenate(out)


@pytest.mark.slow
def test_residual_connections_keep_the_depth_gradient_alive():
    # The seeds (ResNet): an identity path lets the gradient pass down the stack. An 8-layer
    # LSTM (H = 32) loses about 10^-3.7 from top to bottom, with skips about 10^-0.2; a
    # 6-layer one with H = 16 about 10^-2.6 and 10^-0.2.
    bottom = {}
    for residual in (False, True):
        # the chain's norm plays no part in the depth direction; Frobenius compiles faster
        cfg = Config(arch="lstm", hidden=16, input_size=8, steps=10, layers=6, residual=residual,
                     norm="frobenius")
        bottom[residual] = analyze(cfg)["depth"]["log10_norm"][0]
    assert bottom[False] < -2.0 and bottom[True] > -1.0


def test_one_layer_has_no_depth():
    assert "depth" not in analyze(Config(hidden=4, steps=5))
