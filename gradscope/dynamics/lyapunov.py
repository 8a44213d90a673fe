"""Lyapunov exponents by the QR method over the same local Jacobians.

Forward in time, `Z = J_t Q_{t-1}` (K Jacobian-vector products, never the dense J_t), then
`Q_t R_t = Z` with diag(R_t) made positive; the exponents are the mean over t of
`ln R_t[i, i]`: natural log per step, largest first. A linear map W gives ln|eigenvalues|.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from ..cells import as_cell


def start_basis(S: int, k: int) -> np.ndarray:
    """A fixed, generic orthonormal S×k start (seeded: the same numbers every run). The
    first k coordinate vectors would not do: where J_t is diagonal (an identity-init RNN, a
    minGRU) they stay put, and the method would return the exponents of units 1..k instead
    of the k largest."""
    q, r = np.linalg.qr(np.random.default_rng(0).standard_normal((S, k)))
    return q * np.sign(np.diagonal(r))


def _qr_positive(Z):
    Q, R = jnp.linalg.qr(Z)
    d = jnp.diagonal(R)
    sign = jnp.where(d < 0, -1.0, 1.0).astype(Z.dtype)
    return Q * sign, jnp.abs(d)


@partial(jax.jit, static_argnums=(0, 1))
def lyapunov_exponents(step, k: int, params, states, xs):
    """The `k` largest Lyapunov exponents of one sequence.

    **Arguments:** `step` a `Cell` or a step function; `states` (T+1, S) from `unroll`,
    `xs` (T, D).

    **Returns:** shape (k,), natural log per step, in decreasing order.
    """
    cell = as_cell(step)
    Q0 = jnp.asarray(start_basis(states.shape[1], k), states.dtype)

    def body(carry, inp):
        Q, total = carry
        s, x = inp
        jvp = cell.jacobian_products(params, s, x)[0]
        Q, r = _qr_positive(jax.vmap(jvp, in_axes=1, out_axes=1)(Q))
        return (Q, total + jnp.log(r)), None

    (_, total), _ = jax.lax.scan(body, (Q0, jnp.zeros(k, states.dtype)), (states[:-1], xs))
    return jnp.sort(total / xs.shape[0])[::-1]
