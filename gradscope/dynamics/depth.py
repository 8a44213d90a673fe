"""The depth direction of a stacked network: `D_k(t) = ∂h^top_t/∂h^k_t`, how the top layer's
output at step t depends on layer k's output at the same step (through layers k+1..L-1, and
their skip connections with `--residual`). Residual connections act here, not along time.

Its spectral norm comes from the same Lanczos iteration as ‖J_t‖; it is averaged, in
log10, over at most `MAX_STEPS` evenly spaced steps, which bounds the cost for long sequences.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .norms import top_singular_value

MAX_STEPS = 64


def sampled_steps(T: int) -> np.ndarray:
    """Indices t - 1 of the steps whose depth norms are averaged."""
    return np.unique(np.linspace(0, T - 1, min(T, MAX_STEPS)).round().astype(int))


def _one_step(step, L: int, H: int, W: int, params, s_prev, x):
    dtype = s_prev.dtype

    def sigma(k):  # k is traced: one Lanczos iteration serves every layer (vmapped over k)
        def top(d):
            kicks = jnp.zeros((L, H), dtype).at[k].set(d)
            return step(params, s_prev, x, kicks)[0][(L - 1) * W : (L - 1) * W + H]

        d0 = jnp.zeros(H, dtype)
        jvp = jax.linearize(top, d0)[1]
        pull = jax.vjp(top, d0)[1]
        return top_singular_value(jvp, lambda r: pull(r)[0], H, dtype)

    below = jnp.log10(jax.vmap(sigma)(jnp.arange(L - 1)))
    return jnp.concatenate([below, jnp.zeros(1, dtype)])  # D_top = I


@partial(jax.jit, static_argnums=(0, 1, 2, 3))
def depth_norms(step, L: int, H: int, W: int, params, s_prev, xs):
    """log10 ‖D_k(t)‖₂ for k = 0..L-1 (the last is 0).

    **Arguments:** `params` with a leading run axis R; `s_prev` (R, B, n, S), the states
    before the sampled steps; `xs` (R, B, n, D′), their inputs.

    **Returns:** (R, B, n, L).
    """
    one = partial(_one_step, step, L, H, W)
    per_sequence = jax.vmap(one, in_axes=(None, 0, 0))  # over the sampled steps
    per_run = jax.vmap(per_sequence, in_axes=(None, 0, 0))  # over the batch
    return jax.vmap(per_run)(params, s_prev, xs)
