"""Forward pass: `lax.scan` over t, keeping every state and the step's aux values."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def unroll(step, params, s0, xs):
    """Run `step` over the sequence.

    **Arguments:**

    - `step`: `(params, s, x) -> (s', aux)`.
    - `s0`: initial state, shape (S,).
    - `xs`: inputs, shape (T, D).

    **Returns:** `(states, aux)`: states of shape (T+1, S) with `states[0] = s0`, and aux
    arrays of shape (T, ...) where index t-1 belongs to step t.
    """

    def body(s, x):
        s2, aux = step(params, s, x)
        return s2, (s2, aux)

    _, (states, aux) = jax.lax.scan(body, s0, xs)
    return jnp.concatenate([s0[None], states]), aux
