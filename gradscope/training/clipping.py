"""Gradient clipping with the threshold as a traced value, so that the runs of one comparison
(clip none, 1, 5, …) are one `vmap` over θ. `clip none` is θ = inf.

`clip_by_global_norm` is optax's rule (`g ← g/‖g‖·θ` when ‖g‖ ≥ θ, the seeds'
`g ← θ/‖g‖·g`), written with the same operations so that it gives the same numbers as
`optax.clip_by_global_norm(θ)`; `clip_by_value` is `optax.clip(θ)`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

CLIP_MODES = ("norm", "value")


def clip_by_global_norm(grads, theta):
    """Rescale the whole pytree when its global norm is at least `theta`.

    **Arguments:**

    - `grads`: a pytree of arrays; `theta`: a scalar (traced or not; inf: never clip).

    **Returns:** `(clipped, norm, acted)`: the clipped pytree, the global norm before
    clipping and whether clipping changed the gradient (norm > θ).
    """
    norm = optax.tree.norm(grads)
    # optax: keep g where norm < θ, else (g / norm) * θ — the same expression, so bit-identical
    keep = norm < theta
    clipped = jax.tree.map(lambda g: jnp.where(keep, g, (g / norm.astype(g.dtype)) * theta),
                           grads)
    return clipped, norm, norm > theta


def clip_by_value(grads, theta):
    """Clip every entry to [−θ, θ] (`optax.clip`).

    **Returns:** `(clipped, norm, acted)`: the clipped pytree, the global norm before
    clipping and whether any |g| exceeded θ.
    """
    norm = optax.tree.norm(grads)
    acted = jnp.any(jnp.stack([jnp.any(jnp.abs(g) > theta) for g in jax.tree.leaves(grads)]))
    return jax.tree.map(lambda g: jnp.clip(g, -theta, theta), grads), norm, acted


def clip_grads(grads, theta, mode: str):
    """`clip_by_global_norm` (mode `norm`) or `clip_by_value` (mode `value`)."""
    if mode == "norm":
        return clip_by_global_norm(grads, theta)
    if mode == "value":
        return clip_by_value(grads, theta)
    raise ValueError(mode)
