"""Local Jacobians `J_t = ∂s_t/∂s_{t-1}` with `jax.jacrev`.

`local_jacobian` is the public way to get one J_t, and the reference the engine is tested
against. The engine (`propagate`) never forms the stack of all of them: the cell
(`cells/_cell.py`) multiplies rows by J_t through the step's VJP or, for one-layer gated
cells, from J_t's unit-wise structure.
"""

from __future__ import annotations

from ..cells import as_cell


def local_jacobian(step, params, s, x):
    """`∂step(params, s, x)/∂s` at one step, shape (S, S) (row i = ∂s'_i/∂s); `step` a
    `Cell` or a step function `(params, s, x) -> (s', aux)`."""
    return as_cell(step).jacobian(params, s, x)
