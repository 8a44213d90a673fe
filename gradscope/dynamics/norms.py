"""log10 matrix and vector norms that stay finite for zero and non-finite inputs."""

from __future__ import annotations

import jax.numpy as jnp


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


def log10_matrix_norms(M, kind: str):
    """log10 ‖M_i‖ for a stack `M` (..., S, S): `spectral` (largest singular value) or
    `frobenius`. Non-finite matrices give NaN instead of reaching LAPACK."""
    if kind == "frobenius":
        return 0.5 * jnp.log10(jnp.sum(M * M, axis=(-2, -1)))
    finite = jnp.all(jnp.isfinite(M), axis=(-2, -1))
    clean = jnp.where(finite[..., None, None], M, 0.0)
    sigma = jnp.linalg.svd(clean, compute_uv=False)[..., 0]
    return jnp.where(finite, jnp.log10(sigma), jnp.nan)
