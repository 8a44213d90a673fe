"""Local Jacobians `J_t = ∂s_t/∂s_{t-1}` with `jax.jacrev`.

`local_jacobian` is the public way to get one J_t, and the reference the engine is tested
against. The engine (`propagate`) never forms the stack of all of them: it pulls the rows of
P through the step's VJP, which is what `jacrev` does to the rows of the identity, or, for
one-layer gated cells, builds J_t from the step's unit-wise structure
(`cells/_structured.py`).
"""

from __future__ import annotations

import jax


def state_step(step):
    """Drop the aux output: `(params, s, x) -> s'`."""
    return lambda params, s, x: step(params, s, x)[0]


def local_jacobian(step, params, s, x):
    """`∂step(params, s, x)/∂s` at one step, shape (S, S) (row i = ∂s'_i/∂s)."""
    return jax.jacrev(state_step(step), argnums=1)(params, s, x)

