"""Local Jacobians `J_t = ∂s_t/∂s_{t-1}` with `jax.jacrev`."""

from __future__ import annotations

import jax


def state_step(step):
    """Drop the aux output: `(params, s, x) -> s'`."""
    return lambda params, s, x: step(params, s, x)[0]


def local_jacobian(step, params, s, x):
    """`∂step(params, s, x)/∂s` at one step, shape (S, S) (row i = ∂s'_i/∂s)."""
    return jax.jacrev(state_step(step), argnums=1)(params, s, x)


def local_jacobians(step, params, s_prev, xs):
    """`J_t` for a run of steps: `s_prev` (C, S) are the states before each step, `xs` (C, D).

    **Returns:** shape (C, S, S).
    """
    return jax.vmap(jax.jacrev(state_step(step), argnums=1), in_axes=(None, 0, 0))(
        params, s_prev, xs
    )
