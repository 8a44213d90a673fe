"""Propagation matrices `P_t = ∂s_T/∂s_t = J_T … J_{t+1}` and loss gradients, streamed.

The sequence is processed backwards in fixed-size chunks of C steps, so one compiled
program serves every T and memory is O(C·S²) whatever T is. Inside a chunk the local
Jacobians come from `jacrev` (vmapped over the chunk) and a reverse `lax.scan` multiplies
`P ← P @ J_t`, dividing P by its largest entry after every product and keeping the log10 of
that factor apart, so ‖P_t‖ is a finite log10 value far below 1e-38 (or above 1e38).

The loss gradient `g_t = ∂L/∂s_t` is carried by vector-Jacobian products of the step
(`jax.vjp`), independently of the Jacobians, with its own log-scale.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import UsageError
from .jacobian import local_jacobians, state_step
from .norms import log10_matrix_norms, log10_vector_norm, rescale

MAX_CHUNK = 64
CHUNK_BUDGET_BYTES = 512 * 2**20


@dataclass(frozen=True)
class Propagation:
    """Results of `propagate`, all log10, shape (B, ·)."""

    jacobian_norm: np.ndarray  # (B, T+1): log10 ‖P_t‖, t = 0..T
    local_norm: np.ndarray  # (B, T): log10 ‖J_t‖, t = 1..T
    loss_grad_norm: np.ndarray  # (B, T+1): log10 ‖∂L/∂s_t‖
    compile_s: float = 0.0


def available_memory_bytes() -> int:
    """Memory this process may still use (MemAvailable; a large default where unknown)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 8 * 2**30


def chunk_size(batch: int, state: int, steps: int, itemsize: int) -> int:
    """Steps per chunk: a power of two ≤ MAX_CHUNK whose working set fits the budget.

    Refuses (UsageError) sizes whose smallest working set cannot fit in memory.
    """
    per_step = 4 * batch * state * state * itemsize  # J, P, their product and SVD workspace
    avail = available_memory_bytes()
    if 2 * per_step > avail:
        need = 2 * per_step / 2**30
        raise UsageError(
            f"batch {batch} × state {state} needs about {need:.1f} GiB per step, "
            f"more than the {avail / 2**30:.1f} GiB available",
            "lower --batch or --hidden (--norm frobenius does not reduce it)",
        )
    fit = max(1, min(CHUNK_BUDGET_BYTES, avail // 4) // per_step)
    cap = min(MAX_CHUNK, 1 << max(0, math.ceil(math.log2(steps))))
    return int(max(1, min(cap, 1 << int(math.log2(fit)))))


def _chunk(step, norm: str, params, carry, s_prev, xs, mask):
    """One chunk for one sequence; see the module docstring. `mask` marks real steps."""
    f = state_step(step)
    J = local_jacobians(step, params, s_prev, xs)
    eye = jnp.eye(J.shape[-1], dtype=J.dtype)
    J = jnp.where(mask[:, None, None], J, eye)
    local = log10_matrix_norms(J, norm)

    def body(c, inp):
        P, lp, g, lg = c
        Jt, s, x, m = inp
        P, lp = rescale(P @ Jt, lp)
        g_new = jax.vjp(lambda s_: f(params, s_, x), s)[1](g)[0]
        g, lg = rescale(jnp.where(m, g_new, g), lg)
        return (P, lp, g, lg), (P, lp, lg + log10_vector_norm(g))

    carry, (Ps, lps, lgs) = jax.lax.scan(body, carry, (J, s_prev, xs, mask), reverse=True)
    return carry, log10_matrix_norms(Ps, norm) + lps, local, lgs


@partial(jax.jit, static_argnums=(0, 1))
def _batched_chunk(step, norm, params, carry, s_prev, xs, mask):
    fn = partial(_chunk, step, norm)
    return jax.vmap(fn, in_axes=(None, 0, 0, 0, None))(params, carry, s_prev, xs, mask)


@partial(jax.jit, static_argnums=(0,))
def _start(norm, g_T):
    B, S = g_T.shape
    P = jnp.broadcast_to(jnp.eye(S, dtype=g_T.dtype), (B, S, S))
    lp = jnp.zeros((B,), g_T.dtype)
    g, lg = jax.vmap(rescale)(g_T, jnp.zeros((B,), g_T.dtype))
    return (P, lp, g, lg), log10_matrix_norms(P[:1], norm)[0]


def propagate(step, params, states, xs, g_T, *, norm="spectral", progress=None) -> Propagation:
    """Log10 norms of every `P_t`, every `J_t` and every loss gradient `g_t`.

    **Arguments:**

    - `step`: `(params, s, x) -> (s', aux)`.
    - `states`: (B, T+1, S) from `unroll`; `xs`: (B, T, D).
    - `g_T`: (B, S), `∂L/∂s_T` for each sequence.
    - `norm`: `spectral` or `frobenius`.
    - `progress`: optional callable `(steps_done, steps_total)`.
    """
    B, T1, S = states.shape
    T = T1 - 1
    C = chunk_size(B, S, T, states.dtype.itemsize)
    n = -(-T // C)
    pad = n * C - T
    s_prev = jnp.pad(states[:, :T], ((0, 0), (pad, 0), (0, 0)))
    xs_p = jnp.pad(xs, ((0, 0), (pad, 0), (0, 0)))
    real = jnp.arange(n * C) >= pad
    carry, log_eye = _start(norm, g_T)
    t0 = time.perf_counter()
    first = slice((n - 1) * C, n * C)
    run_chunk = _batched_chunk.lower(step, norm, params, carry, s_prev[:, first], xs_p[:, first],
                                     real[first]).compile()
    compile_s = time.perf_counter() - t0
    P_out, J_out, g_out = [], [], []
    for j in reversed(range(n)):
        sl = slice(j * C, (j + 1) * C)
        carry, pn, ln, gn = run_chunk(params, carry, s_prev[:, sl], xs_p[:, sl], real[sl])
        P_out.append(np.asarray(pn))
        J_out.append(np.asarray(ln))
        g_out.append(np.asarray(gn))
        if progress is not None:
            progress(min(T, (n - j) * C), T)
    cat = lambda parts: np.concatenate(parts[::-1], axis=1)[:, pad:]  # noqa: E731
    g_T_log = np.asarray(jax.vmap(log10_vector_norm)(g_T))[:, None]
    jac = np.concatenate([cat(P_out), np.full((B, 1), float(log_eye))], axis=1)
    return Propagation(
        jacobian_norm=jac,
        local_norm=cat(J_out),
        loss_grad_norm=np.concatenate([cat(g_out), g_T_log], axis=1),
        compile_s=compile_s,
    )
