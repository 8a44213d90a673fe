"""Bidirectional stacks against a plain numpy network written layer by layer (checked against
PyTorch's nn.LSTM/nn.GRU when installed), and the Jacobian of one direction against central
finite differences of that numpy network."""

import dataclasses

import numpy as np
import pytest

from gradscope.cells import init_params
from gradscope.config import Config
from gradscope.pipeline import analyze

from ..cells import numpy_cells as ref

CELLS = {"rnn": ref.rnn, "lstm": ref.lstm, "gru": ref.gru}


def _layer(params, k, suffix):
    return {f"{n}_l0": params[f"{n}_l{k}{suffix}"]
            for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}


def numpy_bidirectional(arch, params, xs, layers, H, *, kick=None):
    """Outputs (T, 2H) of the top layer and the final forward states of every layer.

    `kick = (t, delta)` adds `delta` (the stacked forward state, layer by layer) to the
    forward states right after step t (t = 0: the initial state)."""
    cell, W = CELLS[arch], (2 * H if arch == "lstm" else H)
    inp, finals = xs, []
    for k in range(layers):
        s, h_f = np.zeros(W), []
        for t in range(len(inp) + 1):
            if t:
                s = cell(_layer(params, k, ""), s, inp[t - 1])
                h_f.append(s[:H])
            if kick is not None and kick[0] == t:
                s = s + kick[1][k * W : (k + 1) * W]
        finals.append(s)
        s, h_b = np.zeros(W), []
        for t in reversed(range(len(inp))):
            s = cell(_layer(params, k, "_reverse"), s, inp[t])
            h_b.append(s[:H])
        inp = np.concatenate([np.array(h_f), np.array(h_b[::-1])], axis=1)
    return inp, np.concatenate(finals)


def _cfg(arch, layers, T=12, H=4, D=3):
    return Config(arch=arch, hidden=H, input_size=D, steps=T, layers=layers, bidirectional=True,
                  init="pytorch", seed=2, x64=True)


@pytest.mark.parametrize("arch", ["lstm", "gru"])
def test_numpy_reference_is_pytorch(arch):
    torch = pytest.importorskip("torch")
    cfg = _cfg(arch, 2)
    params = init_params(cfg)
    xs = np.random.default_rng(0).standard_normal((cfg.steps, cfg.input_size))
    net = getattr(torch.nn, arch.upper())(cfg.input_size, cfg.hidden, num_layers=2,
                                         bidirectional=True, batch_first=True, dtype=torch.float64)
    net.load_state_dict({k: torch.from_numpy(v) for k, v in params.items()})
    with torch.no_grad():
        out, _ = net(torch.from_numpy(xs)[None])
    expected, _ = numpy_bidirectional(arch, params, xs, 2, cfg.hidden)
    np.testing.assert_allclose(out[0].numpy(), expected, atol=1e-12)


def _states(cfg, params, xs):
    """gradscope's own states of the direction `cfg` analyses, (T+1, S)."""
    import jax

    from gradscope.cells import cell_for as step_for
    from gradscope.cells import direction_params
    from gradscope.dynamics.unroll import unroll
    from gradscope.host_arrays import step_inputs

    with jax.enable_x64(True):
        x = step_inputs(cfg, params, xs[None], np.zeros((1, cfg.state_size)))[0]
        states, _ = unroll(step_for(cfg), direction_params(cfg, params),
                           np.zeros(cfg.state_size), x)
    return np.asarray(states)


@pytest.mark.parametrize("arch", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 3])
def test_each_direction_unrolls_to_the_networks_outputs(arch, layers):
    cfg = _cfg(arch, layers)
    params = init_params(cfg)
    xs = np.random.default_rng(1).standard_normal((cfg.steps, cfg.input_size))
    out, _ = numpy_bidirectional(arch, params, xs, layers, cfg.hidden)
    H, W = cfg.hidden, cfg.layer_state_size
    top = slice((layers - 1) * W, (layers - 1) * W + H)
    fwd = _states(cfg, params, xs)
    bwd = _states(dataclasses.replace(cfg, direction="backward"), params, xs)
    np.testing.assert_allclose(fwd[1:, top], out[:, :H], atol=1e-12)
    np.testing.assert_allclose(bwd[1:, top][::-1], out[:, H:], atol=1e-12)


@pytest.mark.parametrize("arch", ["lstm", "gru"])
def test_forward_direction_jacobian_matches_finite_differences(arch):
    # Two layers: the backward direction's outputs do not depend on the forward states that
    # feed the top layer, so holding them fixed gives the network's own ∂s_T/∂s_t.
    cfg = dataclasses.replace(_cfg(arch, 2, T=10), inputs="gaussian")
    params = init_params(cfg)
    from gradscope.host_arrays import make_inputs

    xs = make_inputs(cfg)[0]
    run = analyze(cfg)
    assert run["label"].endswith("forward")
    S, eps = cfg.state_size, 1e-6
    for t in (0, 4, 9):
        J = np.empty((S, S))
        for j in range(S):
            d = np.zeros(S)
            d[j] = eps
            plus = numpy_bidirectional(arch, params, xs, 2, cfg.hidden, kick=(t, d))[1]
            minus = numpy_bidirectional(arch, params, xs, 2, cfg.hidden, kick=(t, -d))[1]
            J[:, j] = (plus - minus) / (2 * eps)
        expected = np.log10(np.linalg.norm(J, 2))
        assert run["series"]["log10_jacobian_norm"][t] == pytest.approx(expected, abs=1e-6)


def test_backward_direction_is_the_forward_analysis_of_the_mirrored_network(tmp_path):
    # Swapping the directions' tensors (and the halves of the upper layers' inputs) and
    # reversing time turns the backward direction into a forward one.
    cfg = _cfg("lstm", 2)
    params = init_params(cfg)
    H = cfg.hidden
    mirrored = {}
    for key, value in params.items():
        other = key[: -len("_reverse")] if key.endswith("_reverse") else key + "_reverse"
        if key.startswith("weight_ih_l1"):
            value = np.concatenate([value[:, H:], value[:, :H]], axis=1)
        mirrored[other] = value
    xs = np.random.default_rng(3).standard_normal((cfg.steps, cfg.input_size))
    np.save(tmp_path / "x.npy", xs)
    np.save(tmp_path / "x_rev.npy", xs[::-1].copy())
    from gradscope.io.weights import write_npz

    write_npz(tmp_path / "a.npz", params)
    write_npz(tmp_path / "b.npz", mirrored)
    back = analyze(Config(**{**cfg.to_dict(), "weights": str(tmp_path / "a.npz"),
                             "inputs": str(tmp_path / "x.npy"), "direction": "backward"}))
    fwd = analyze(Config(**{**cfg.to_dict(), "weights": str(tmp_path / "b.npz"),
                            "inputs": str(tmp_path / "x_rev.npy")}))
    np.testing.assert_allclose(back["series"]["log10_jacobian_norm"],
                               fwd["series"]["log10_jacobian_norm"], atol=1e-9)
    assert back["spectrum"] == fwd["spectrum"]
