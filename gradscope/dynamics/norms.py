"""Norms that stay finite for zero and non-finite inputs, and spectral norms at the cost of a
few matrix-vector products (warm-started power iteration)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

# Subspace iteration stops when the top Ritz pair's residual ‖AᵀAx − θx‖ is below POWER_TOL
# of ‖AᵀAx‖ (an eigenvalue of AᵀA then lies that close to θ), or when θ, which only grows
# towards σ_max², grows by less than STALL_TOL in one iteration (a near-degenerate top
# cluster, where θ is already within the cluster's width). A block of BLOCK vectors resolves
# near-degenerate top pairs by Rayleigh–Ritz. log10 norms are exact to about 5e-4 in float32
# and 1e-7 in float64 (tested against SVD).
POWER_TOL = {4: 1e-5, 8: 1e-10}
STALL_TOL = {4: 1e-6, 8: 1e-13}
POWER_MAX_ITERS = 100
BLOCK = 4


def rescale(a, log_scale):
    """Divide `a` by its largest |entry| and add log10 of that factor to `log_scale`.

    An exact zero keeps `a` at zero and sends the scale to -inf (a true zero, not an
    underflow); NaN/inf propagate to the scale so the first non-finite step is visible.
    """
    m = jnp.max(jnp.abs(a))
    safe = jnp.where((m > 0) & jnp.isfinite(m), m, 1.0)
    return a / safe, log_scale + jnp.log10(m)


def log10_vector_norm(v):
    return jnp.log10(jnp.linalg.norm(v))


def log10_frobenius(M):
    return 0.5 * jnp.log10(jnp.sum(M * M, axis=(-2, -1)))


def start_block(n: int, dtype):
    """A fixed orthonormal block of generic columns (not aligned with any structure)."""
    k = min(BLOCK, n)
    cols = [1.0 + 0.5 * jnp.sin(jnp.arange(1, n + 1, dtype=dtype) * (0.7 + 0.9 * j))
            for j in range(k)]
    return jnp.linalg.qr(jnp.stack(cols, axis=1))[0]


def top_singular_value(matmat, rmatmat, n: int, dtype, tol=None, max_iters=POWER_MAX_ITERS):
    """Largest singular value of the operator A given `matmat` (A V) and `rmatmat` (Aᵀ W)
    applied to blocks of k columns, A having n columns.

    Block power iteration on AᵀA with Rayleigh–Ritz from the fixed `start_block`: a generic
    block lets the largest singular value grow first (a warm start from the previous step's
    top vectors does not: it stops on an old top when near-equal values swap order), and the
    widely spread singular values of long products make it converge in a few iterations.
    """
    size = jnp.dtype(dtype).itemsize
    tol = POWER_TOL[size] if tol is None else tol

    def ritz(V, previous):
        Y = rmatmat(matmat(V))  # AᵀA V
        small = V.T @ Y
        theta, E = jnp.linalg.eigh(0.5 * (small + small.T))
        E = E[:, ::-1]
        x, y = V @ E[:, 0], Y @ E[:, 0]
        top = theta[-1]
        converged = jnp.linalg.norm(y - top * x) <= tol * jnp.linalg.norm(y)
        stalled = top - previous <= STALL_TOL[size] * top
        done = converged | stalled | ~jnp.isfinite(top)
        return jnp.linalg.qr(Y @ E)[0], top, done

    def body(state):
        k, V, previous, _ = state
        return (k + 1, *ritz(V, previous))

    state = (0, start_block(n, dtype), jnp.asarray(-jnp.inf, dtype), False)
    _, _, theta, _ = jax.lax.while_loop(lambda st: (st[0] < max_iters) & ~st[3], body, state)
    return jnp.sqrt(jnp.maximum(theta, 0.0))

