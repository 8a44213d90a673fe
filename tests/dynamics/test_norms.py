"""Spectral norms from matrix-vector products against numpy's SVD and eigvalsh."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gradscope.dynamics.norms import (
    _top_ritz_value,
    start_block,
    top_singular_value,
    tracked_top_singular_value,
)


def _lanczos(A, **kw):
    A = jnp.asarray(A)
    return float(top_singular_value(lambda v: A @ v, lambda w: w @ A, A.shape[1], A.dtype, **kw))


def _dense_top(n, seed, rows=None):
    """diag(d)·Q with Q orthogonal: the singular values are |d|, crowded near the top."""
    rng = np.random.default_rng(seed)
    q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    d = 1 - np.tanh(rng.standard_normal(n)) ** 2
    return (d[:, None] * q)[: rows or n]


@pytest.mark.parametrize("x64", [False, True])
@pytest.mark.parametrize("make", [
    lambda: np.random.default_rng(0).standard_normal((200, 200)) / 14,
    lambda: _dense_top(300, 1),
    lambda: np.diag(np.linspace(0.5, 1.0, 150)),  # a dense top on the axes
    lambda: np.random.default_rng(2).standard_normal((40, 90)),  # not square
], ids=["gaussian", "diag-times-orthogonal", "diagonal", "wide"])
def test_lanczos_matches_svd(make, x64):
    A = make()
    with jax.enable_x64(x64):
        got = _lanczos(A.astype(np.float64 if x64 else np.float32))
    want = np.linalg.svd(A, compute_uv=False)[0]
    assert abs(np.log10(got) - np.log10(want)) <= (1e-7 if x64 else 2e-4)  # see norms.py


def test_lanczos_stops_exactly_at_an_invariant_subspace():
    q = np.linalg.qr(np.random.default_rng(3).standard_normal((64, 64)))[0]
    assert _lanczos(q.astype(np.float32)) == pytest.approx(1.0, abs=1e-6)  # AᵀA = I
    assert _lanczos(np.zeros((8, 8), np.float32)) == 0.0
    assert _lanczos(np.eye(1, dtype=np.float32) * 3) == pytest.approx(3.0)


def test_lanczos_passes_nan_on():
    A = np.eye(5, dtype=np.float32)
    A[2, 3] = np.nan
    assert np.isnan(_lanczos(A))


def test_top_ritz_value_is_the_top_eigenvalue_of_the_leading_block():
    rng = np.random.default_rng(4)
    with jax.enable_x64(True):
        a, b = rng.uniform(0, 2, 20), rng.uniform(-1, 1, 20)
        for k in (1, 5, 20):
            T = np.diag(a[:k]) + np.diag(b[: k - 1], 1) + np.diag(b[: k - 1], -1)
            want = max(np.linalg.eigvalsh(T)[-1], 0.0)
            assert float(_top_ritz_value(jnp.asarray(a), jnp.asarray(b), k)) == pytest.approx(
                want, rel=1e-12)


def _track(mats, dtype):
    """Run the tracker along a sequence of products P_t = M_1 … M_t, as the engine does."""
    P = np.eye(mats[0].shape[0])
    U = start_block(P.shape[0], dtype)
    got, want = [], []
    step = jax.jit(tracked_top_singular_value)
    for M in mats:
        P = P @ M
        P /= np.abs(P).max()
        sigma, U = step(jnp.asarray(P, dtype), U)
        got.append(float(sigma))
        want.append(np.linalg.svd(P, compute_uv=False)[0])
    return np.log10(got), np.log10(want)


@pytest.mark.parametrize("x64", [False, True])
def test_tracked_norm_along_a_product_matches_svd(x64):
    rng = np.random.default_rng(5)
    mats = [rng.standard_normal((60, 60)) / 7 for _ in range(80)]
    with jax.enable_x64(x64):
        got, want = _track(mats, jnp.float64 if x64 else jnp.float32)
    np.testing.assert_allclose(got, want, atol=1e-9 if x64 else 2e-5)


def test_tracked_norm_follows_a_new_top_after_a_swap():
    """The block follows e₁ for 30 steps; then the products turn so that e₁ is no longer
    the top. A tracker without a certificate reports the old direction's value."""
    n = 30
    grow = np.diag(np.r_[2.0, np.full(n - 1, 0.5)])
    swap = np.diag(np.r_[1e-3, 1.0, np.full(n - 2, 0.9)])
    rot = np.linalg.qr(np.random.default_rng(6).standard_normal((n, n)))[0]
    mats = [grow] * 30 + [swap] * 3 + [rot @ np.diag(np.linspace(0.2, 1.0, n)) @ rot.T] * 20
    with jax.enable_x64(True):
        got, want = _track(mats, jnp.float64)
    np.testing.assert_allclose(got, want, atol=1e-9)
