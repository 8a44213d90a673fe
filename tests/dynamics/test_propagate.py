"""P_t = ∂s_T/∂s_t against closed forms; finite log norms far below float32's range."""

import numpy as np
import pytest

from gradscope import memory
from gradscope.dynamics import propagate as prop_mod

from .helpers import linear_rnn, run_propagate


def _log10_spec(M):
    return np.log10(np.linalg.norm(M, 2))


def test_linear_rnn_products_are_matrix_powers():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((6, 6)) / np.sqrt(6) * 1.3
    cfg, params = linear_rnn(W)
    T = 15
    xs = rng.standard_normal((1, T, 2))
    for norm, f, tol in (("spectral", _log10_spec, 1e-8),
                         ("frobenius", lambda M: np.log10(np.linalg.norm(M, "fro")), 1e-12)):
        out = run_propagate(cfg, params, xs, norm=norm)
        expected = [f(np.linalg.matrix_power(W, T - t)) for t in range(T + 1)]
        np.testing.assert_allclose(out.jacobian_norm[0], expected, atol=tol)
        np.testing.assert_allclose(out.local_norm[0], f(W), atol=tol)
    # loss L = Σ s_T: ∂L/∂s_t = (W^{T-t})^T 1
    g = [np.log10(np.linalg.norm(np.linalg.matrix_power(W, T - t).T @ np.ones(6)))
         for t in range(T + 1)]
    np.testing.assert_allclose(out.loss_grad_norm[0], g, atol=1e-10)


def test_orthogonal_linear_rnn_keeps_norm_one_in_float32():
    q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((16, 16)))
    cfg, params = linear_rnn(q)
    out = run_propagate(cfg, params, np.zeros((1, 300, 2)), x64=False)
    np.testing.assert_allclose(out.jacobian_norm[0], 0.0, atol=2e-5)
    np.testing.assert_allclose(out.local_norm[0], 0.0, atol=2e-6)


def test_norm_near_1e_minus_300_is_finite_and_exact_in_float32():
    q, _ = np.linalg.qr(np.random.default_rng(2).standard_normal((8, 8)))
    T = 1000
    cfg, params = linear_rnn(0.5 * q)
    out = run_propagate(cfg, params, np.zeros((1, T, 2)), x64=False)
    closed = (T - np.arange(T + 1)) * np.log10(0.5)  # ‖(0.5 Q)^k‖ = 0.5^k
    assert np.isfinite(out.jacobian_norm).all()
    assert out.jacobian_norm[0, 0] < -300
    np.testing.assert_allclose(out.jacobian_norm[0], closed, atol=2e-3)
    np.testing.assert_allclose(out.loss_grad_norm[0], closed + 0.5 * np.log10(8), atol=2e-3)


def test_random_contraction_matches_float64_log_space_reference():
    rng = np.random.default_rng(3)
    W = rng.standard_normal((10, 10)) / np.sqrt(10) * 0.4
    T = 900
    cfg, params = linear_rnn(W)
    out = run_propagate(cfg, params, np.zeros((1, T, 2)), x64=False)
    # Independent float64 reference: renormalise the numpy product by its norm each step.
    P, log_scale, ref = np.eye(10), 0.0, [0.0]
    for _ in range(T):
        P = P @ W
        n = np.linalg.norm(P, 2)
        P, log_scale = P / n, log_scale + np.log10(n)
        ref.append(log_scale)
    ref = np.array(ref[::-1])
    assert ref[0] < -280
    np.testing.assert_allclose(out.jacobian_norm[0], ref, atol=1e-2)


def test_chunking_and_padding_do_not_change_results(monkeypatch):
    from gradscope.cells import init_params
    from gradscope.config import Config

    cfg = Config(arch="gru", hidden=5, input_size=3, steps=37)
    params = init_params(cfg)
    xs = np.random.default_rng(4).standard_normal((2, 37, 3))
    whole = run_propagate(cfg, params, xs)
    monkeypatch.setattr(prop_mod, "MAX_CHUNK", 4)
    assert prop_mod.chunk_size(2, 5, 37, 8) == 4
    chunked = run_propagate(cfg, params, xs)
    for a, b in zip((whole.jacobian_norm, whole.local_norm, whole.loss_grad_norm),
                    (chunked.jacobian_norm, chunked.local_norm, chunked.loss_grad_norm), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-12)


def test_without_local_norms_the_other_results_are_the_same():
    from gradscope.cells import init_params
    from gradscope.config import Config

    cfg = Config(arch="lstm", hidden=5, input_size=3, steps=9)
    params = init_params(cfg)
    xs = np.random.default_rng(2).standard_normal((2, 9, 3))
    full = run_propagate(cfg, params, xs, x64=False)
    bare = run_propagate(cfg, params, xs, x64=False, local=False)
    assert bare.local_norm is None and full.local_norm.shape == (2, 9)
    np.testing.assert_array_equal(bare.jacobian_norm, full.jacobian_norm)
    np.testing.assert_array_equal(bare.loss_grad_norm, full.loss_grad_norm)


def test_sizes_that_cannot_fit_are_refused(monkeypatch):
    from gradscope.errors import UsageError

    monkeypatch.setattr(memory, "available_bytes", lambda: 2**30)
    with pytest.raises(UsageError, match="GiB"):
        prop_mod.chunk_size(1, 16384, 100, 4)
    assert prop_mod.chunk_size(1, 256, 1000, 4) >= 1


def test_the_host_built_start_matches_the_chains_rescaling():
    import jax.numpy as jnp

    from gradscope.dynamics.norms import TRACK, rescale

    g_T = np.array([[[3.0, -4.0, 0.5, 0.0, 1.0]], [[0.0] * 5], [[1.0, np.nan, 2.0, 0.0, 0.0]]],
                   np.float32)  # (R=3, B=1, S=5): an ordinary, a zero and a non-finite gradient
    P, lp, g, lg, U = prop_mod._start(jnp.asarray(g_T))
    P, g, U = (np.asarray(a) for a in (P, g, U))
    lp, lg = (np.asarray(a) for a in lp), (np.asarray(a) for a in lg)
    lg, lg_comp = lg
    np.testing.assert_array_equal(P, np.broadcast_to(np.eye(5, dtype=np.float32), (3, 1, 5, 5)))
    np.testing.assert_array_equal(np.stack(list(lp)), 0.0)
    np.testing.assert_array_equal(lg_comp, 0.0)
    zero = (jnp.float32(0.0), jnp.float32(0.0))
    for r in range(3):
        g_ref, (lg_ref, _) = rescale(jnp.asarray(g_T[r, 0]), zero)
        np.testing.assert_array_equal(g[r, 0], np.asarray(g_ref))
        np.testing.assert_array_equal(lg[r, 0], np.asarray(lg_ref))
    assert lg[1, 0] == -np.inf and np.isnan(lg[2, 0])
    assert U.shape == (3, 1, 5, TRACK) and U.dtype == np.float32
    np.testing.assert_allclose(U[0, 0].T @ U[0, 0], np.eye(TRACK), atol=1e-6)


@pytest.mark.parametrize("T, tol", [(1000, 2e-4), (10_000, 1e-3)])
def test_the_log_scale_of_a_long_float32_chain_stays_exact(T, tol):
    # a linear 0.5·I RNN: every P_t = 0.5^(T−t)·I is exact in float32, so the only error is
    # the running log10 scale's; summed plainly in float32 it drifted 2e-3 at T = 10³ and
    # 4e-2 at 10⁴ (the scale is a compensated sum now)
    cfg, params = linear_rnn(0.5 * np.eye(3))
    out = run_propagate(cfg, params, np.zeros((1, T, 2)), x64=False)
    exact = (T - np.arange(T + 1)) * np.log10(0.5)
    np.testing.assert_allclose(out.jacobian_norm[0], exact, rtol=0, atol=tol)
    # the loss gradient's scale too (g_t = 1ᵀ P_t, norm √3 · 0.5^(T−t))
    np.testing.assert_allclose(out.loss_grad_norm[0], exact + 0.5 * np.log10(3), rtol=0,
                               atol=tol)
