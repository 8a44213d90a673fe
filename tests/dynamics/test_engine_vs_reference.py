"""The streamed engine (VJP rows, Lanczos and the certified tracker) against a float64
reference built from `jacrev` Jacobians, dense numpy products and full SVDs."""

import jax
import numpy as np
import pytest

from gradscope.cells import Cell, JacrevCell, StructuredCell, init_params, make_cell
from gradscope.cells import cell_for as step_for
from gradscope.config import Config
from gradscope.dynamics.jacobian import local_jacobian
from gradscope.dynamics.unroll import unroll

from .helpers import run_propagate


def reference(cfg, params, xs, norm=lambda M: np.linalg.norm(M, 2)):
    step = step_for(cfg)
    with jax.enable_x64(True):
        states, _ = unroll(step, params, np.zeros(cfg.state_size), xs)
        Js = [np.asarray(local_jacobian(step, params, states[t - 1], xs[t - 1]))
              for t in range(1, len(xs) + 1)]
    T = len(xs)
    P = np.eye(cfg.state_size)
    out = [np.log10(norm(P))]
    for t in range(T, 0, -1):
        P = P @ Js[t - 1]
        out.append(np.log10(norm(P)))
    local = [np.log10(norm(J)) for J in Js]
    return np.array(out[::-1]), np.array(local)


@pytest.mark.parametrize("cfg", [
    Config(arch="rnn", hidden=7, input_size=3, steps=30, scale=1.5),
    Config(arch="lstm", hidden=5, input_size=3, steps=30, init="identity", forget_bias=2.0),
    Config(arch="gru", hidden=6, input_size=3, steps=30, init="orthogonal"),
    Config(arch="gru", hidden=6, input_size=3, steps=30, gru_variant="cho", scale=2.0),
], ids=["rnn", "lstm-identity", "gru-orthogonal", "gru-cho"])
@pytest.mark.parametrize("x64", [True, False])
def test_engine_matches_dense_svd_reference(cfg, x64):
    params = init_params(cfg)
    xs = np.random.default_rng(5).standard_normal((cfg.steps, cfg.input_size))
    ref_P, ref_J = reference(cfg, params, xs)
    out = run_propagate(cfg, params, xs[None], x64=x64)
    tol = 1e-7 if x64 else 2e-4
    np.testing.assert_allclose(out.jacobian_norm[0], ref_P, atol=tol)
    np.testing.assert_allclose(out.local_norm[0], ref_J, atol=tol)


@pytest.mark.parametrize("arch", ["lstm", "gru", "rnn"])
def test_frobenius_norms_match_the_reference(arch):
    cfg = Config(arch=arch, hidden=5, input_size=3, steps=12, scale=1.4, dropout=0.3)
    params = init_params(cfg)
    xs = np.random.default_rng(6).standard_normal((cfg.steps, cfg.step_input_size))
    xs[:, cfg.input_size:] = (np.random.default_rng(7).random((cfg.steps, cfg.mask_size))
                              > 0.3) / 0.7  # a dropout mask per step, as the pipeline draws
    ref_P, ref_J = reference(cfg, params, xs, norm=lambda M: np.linalg.norm(M, "fro"))
    out = run_propagate(cfg, params, xs[None], norm="frobenius")
    np.testing.assert_allclose(out.jacobian_norm[0], ref_P, atol=1e-10)
    np.testing.assert_allclose(out.local_norm[0], ref_J, atol=1e-10)


@pytest.mark.parametrize("arch", ["lstm", "gru"])
def test_every_jacobian_strategy_gives_the_same_numbers(arch):
    # the structured cell, the same step through its VJP, and the jacrev reference
    cfg = Config(arch=arch, hidden=5, input_size=3, steps=20, scale=1.3)
    params = init_params(cfg)
    xs = np.random.default_rng(8).standard_normal((1, cfg.steps, cfg.input_size))
    structured = make_cell(cfg)
    assert isinstance(structured, StructuredCell)
    outs = [run_propagate(cfg, params, xs, cell=c)
            for c in (structured, Cell(structured.step), JacrevCell(structured.step))]
    for other in outs[1:]:
        np.testing.assert_allclose(other.jacobian_norm, outs[0].jacobian_norm, atol=1e-10)
        np.testing.assert_allclose(other.local_norm, outs[0].local_norm, atol=1e-10)
        np.testing.assert_allclose(other.loss_grad_norm, outs[0].loss_grad_norm, atol=1e-10)
