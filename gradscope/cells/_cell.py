"""A cell: a step function and the way the engine takes its local Jacobian.

The engine (`dynamics/propagate.py`) needs two things of a step's Jacobian
`J = ∂s'/∂s` at each step: the product `rows @ J` (to carry `P ← P J_t` and the loss
gradient), and the products `v -> J v`, `w -> w J` (Lanczos for ‖J_t‖). A `Cell` says how
it gets them, as Lineax's solvers say how a system is solved:

- `Cell` — rows pulled through the step's VJP (what `jax.jacrev` does to the rows of the
  identity), `J v` by `jax.linearize`. Works for any JAX step; the default.
- `StructuredCell` — one-layer gated cells whose update acts unit by unit on
  `W_hh h + b_hh` (`_structured.py`): J is built at O(G·H²) cost and `P @ J` costs
  2·S²·H flops, half a dense product for the LSTM.
- `JacrevCell` — the dense Jacobian from `jax.jacrev`, then a matrix product: the
  reference the other two are tested against.

A cell is called like its step: `cell(params, s, x) -> (s', aux)`. Cells are equal when
their functions are, so one cell per cell shape (`cell_for`) lets `jax.jit` reuse its
programs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax

from ._structured import times_jacobian


@dataclass(frozen=True)
class Cell:
    """A step `(params, s, x) -> (s', aux)` whose Jacobian is taken through its VJP.

    **Arguments:**

    - `step`: the step function; `s` a vector (S,), `x` one input vector, `aux` a dict of
      arrays (may be empty).
    - `name`: a short name, shown in errors.
    """

    step: Callable
    name: str = "step"

    def __call__(self, params, s, x):
        return self.step(params, s, x)

    def next_state(self, params, s, x):
        """`s'` alone."""
        return self.step(params, s, x)[0]

    def times_jacobian(self, params, rows, s, x):
        """`rows @ J` for rows (n, S): each row pulled back through the step's VJP."""
        pull = jax.vjp(lambda s_: self.next_state(params, s_, x), s)[1]
        return jax.vmap(lambda r: pull(r)[0])(rows)

    def jacobian_products(self, params, s, x):
        """`(v -> J v, w -> w J)`."""
        def f(s_):
            return self.next_state(params, s_, x)

        pull = jax.vjp(f, s)[1]
        return jax.linearize(f, s)[1], (lambda w: pull(w)[0])

    def jacobian(self, params, s, x):
        """The dense J (S, S), row i = ∂s'_i/∂s (`jax.jacrev`)."""
        return jax.jacrev(self.next_state, argnums=1)(params, s, x)


@dataclass(frozen=True)
class StructuredCell(Cell):
    """A one-layer cell whose J comes from its unit-wise form (`_structured.py`).

    **Arguments** (besides `step` and `name`):

    - `structured`: `(params, s, x) -> (cols, tail)`, J as `unitwise_jacobian` gives it.
    - `products`: `(params, s, x) -> (v -> J v, w -> w J)` from the same form.
    """

    structured: Callable | None = None
    products: Callable | None = None

    def times_jacobian(self, params, rows, s, x):
        return times_jacobian(rows, *self.structured(params, s, x))

    def jacobian_products(self, params, s, x):
        return self.products(params, s, x)


@dataclass(frozen=True)
class JacrevCell(Cell):
    """The reference: J from `jax.jacrev`, then a dense product."""

    def times_jacobian(self, params, rows, s, x):
        return rows @ self.jacobian(params, s, x)

    def jacobian_products(self, params, s, x):
        J = self.jacobian(params, s, x)
        return (lambda v: J @ v), (lambda w: w @ J)


def as_cell(step) -> Cell:
    """`step` itself when it is a `Cell`, else a VJP `Cell` around it."""
    return step if isinstance(step, Cell) else Cell(step, getattr(step, "__name__", "step"))
