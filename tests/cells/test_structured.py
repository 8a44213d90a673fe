"""The structured local Jacobians of `cells/_structured.py` against `jax.jacrev` of the step,
in float64, and their product against a dense product."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gradscope.cells import Cell, StructuredCell, init_params, make_cell
from gradscope.cells._structured import times_jacobian
from gradscope.config import Config
from gradscope.dynamics.jacobian import local_jacobian

CASES = [  # the one-layer cells that are StructuredCells
    Config(arch="lstm", forget_bias=1.0),
    Config(arch="gru"),
    Config(arch="lstm", dropout=0.4),
    Config(arch="gru", dropout=0.4),
    Config(arch="lstm", bidirectional=True, direction="backward"),
]


def _point(cfg, seed=3):
    rng = np.random.default_rng(seed)
    s = rng.standard_normal(cfg.state_size)
    x = rng.standard_normal(cfg.step_input_size)
    if cfg.mask_size:  # a dropout mask: zeros and 1/(1-p), as the pipeline makes them
        x[cfg.input_size:] = (rng.random(cfg.mask_size) > cfg.dropout) / (1 - cfg.dropout)
    return s, x


@pytest.mark.parametrize("cfg", CASES, ids=Config.label)
def test_structured_jacobian_matches_jacrev(cfg):
    cfg = Config(**{**cfg.to_dict(), "hidden": 7, "input_size": 3, "scale": 1.3})
    step = make_cell(cfg)
    assert isinstance(step, StructuredCell)
    s, x = _point(cfg)
    with jax.enable_x64(True):
        params = jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), init_params(cfg))
        expected = np.asarray(local_jacobian(step, params, s, x))
        cols, tail = step.structured(params, jnp.asarray(s), jnp.asarray(x))
        got = np.asarray(times_jacobian(jnp.eye(cfg.state_size), cols, tail))
    assert np.abs(expected).max() > 0.1  # not a trivially zero Jacobian
    np.testing.assert_allclose(got, expected, atol=1e-13)


@pytest.mark.parametrize("arch", ["lstm", "gru"])
def test_times_jacobian_matches_a_dense_product(arch):
    cfg = Config(arch=arch, hidden=6, input_size=2)
    step = make_cell(cfg)
    assert isinstance(step, StructuredCell)
    s, x = _point(cfg)
    P = np.random.default_rng(0).standard_normal((4, cfg.state_size))  # not square
    with jax.enable_x64(True):
        params = jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), init_params(cfg))
        J = np.asarray(local_jacobian(step, params, s, x))
        got = np.asarray(times_jacobian(jnp.asarray(P), *step.structured(params, s, x)))
    np.testing.assert_allclose(got, P @ J, atol=1e-13)


@pytest.mark.parametrize("cfg", CASES, ids=Config.label)
def test_products_with_a_vector_match_jacrev(cfg):
    # the cell's products: J v and w J from the unit-wise form, W_hh shared (the local norms' Lanczos)
    cfg = Config(**{**cfg.to_dict(), "hidden": 5, "input_size": 2, "scale": 1.2})
    step = make_cell(cfg)
    assert isinstance(step, StructuredCell)
    s, x = _point(cfg, seed=8)
    rng = np.random.default_rng(1)
    v, w = rng.standard_normal((2, cfg.state_size))
    with jax.enable_x64(True):
        params = jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), init_params(cfg))
        J = np.asarray(local_jacobian(step, params, s, x))
        matvec, rmatvec = step.products(params, jnp.asarray(s), jnp.asarray(x))
        Jv, wJ = np.asarray(matvec(jnp.asarray(v))), np.asarray(rmatvec(jnp.asarray(w)))
    assert np.abs(J).max() > 0.1
    np.testing.assert_allclose(Jv, J @ v, atol=1e-13)
    np.testing.assert_allclose(wJ, w @ J, atol=1e-13)


@pytest.mark.parametrize("cfg", [Config(arch="lstm", layers=2), Config(arch="rnn"),
                                 Config(arch="gru", gru_variant="cho")],
                         ids=["stack", "rnn", "cho"])
def test_other_cells_pull_rows_through_the_vjp(cfg):
    # stacks and Cho's GRU have no unit-wise split; for the vanilla RNN the VJP's product is
    # already one S×S product (the engine's numbers for all of them: tests/dynamics)
    cell = make_cell(cfg)
    assert type(cell) is Cell
