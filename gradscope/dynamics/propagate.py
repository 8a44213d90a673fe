"""Propagation matrices `P_t = ∂s_T/∂s_t = J_T … J_{t+1}` and loss gradients, streamed.

The sequence is processed backwards in fixed-size chunks of C steps, so one compiled
program serves every T, and memory is O(S²) whatever T is: the (T, S, S) stack of local
Jacobians is never formed. A reverse `lax.scan` updates `P ← P @ J_t` and divides P by its largest
entry after every step and keeps the log10 of that factor apart, so ‖P_t‖ is a finite log10
value far below 1e-38 (or above 1e38).
Spectral norms come from matrix-vector products: ‖J_t‖ by Lanczos, batched over the steps of
a chunk; ‖P_t‖ by a certified block that follows its top singular vectors (`norms.py`).

How `P @ J_t` and J_t's products are formed is the cell's business (`cells/_cell.py`): a
`Cell` pulls rows through the step's VJP, a `StructuredCell` builds J_t from its unit-wise
form, a `JacrevCell` from `jax.jacrev`.

The loss gradient `g_t = ∂L/∂s_t` is carried by vector-Jacobian products of the step
(`jax.vjp`), independently of the Jacobians, with its own log-scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .. import memory
from ..cells import Cell
from ..errors import UsageError
from .compiled import compiled
from .norms import (
    MAX_ITERS,
    log10_frobenius,
    log10_vector_norm,
    rescale,
    scale_value,
    start_block,
    top_singular_value,
    tracked_top_singular_value,
)

MAX_CHUNK = 64
# Lanczos problems (runs × sequences × steps) per call of the local norms' program: enough
# to keep its products large, few enough that the slowest to converge, which every other
# lane of the batched iteration waits for, stays near the typical one
LOCAL_MAX = 1024


@dataclass(frozen=True)
class Propagation:
    """Results of `propagate`, all log10, shape (runs R, batch B, ·)."""

    jacobian_norm: np.ndarray  # (R, B, T+1): log10 ‖P_t‖, t = 0..T
    local_norm: np.ndarray | None  # (R, B, T): log10 ‖J_t‖, t = 1..T (None: not asked for)
    loss_grad_norm: np.ndarray  # (R, B, T+1): log10 ‖∂L/∂s_t‖
    compile_s: float = 0.0

    def run(self, r: int) -> Propagation:
        """The results of run `r`, shape (B, ·)."""
        return Propagation(self.jacobian_norm[r],
                           None if self.local_norm is None else self.local_norm[r],
                           self.loss_grad_norm[r], self.compile_s)


def working_set_bytes(batch: int, state: int, gate_width: int, itemsize: int) -> int:
    """Memory of one step: P, its update and the VJP's gate-sized intermediates, per sequence."""
    return 3 * batch * state * (state + 2 * gate_width) * itemsize


def chunk_size(batch: int, state: int, steps: int, itemsize: int, gate_width: int = 0) -> int:
    """Steps per compiled chunk (a power of two ≤ MAX_CHUNK); refuses sizes that cannot fit."""
    need = working_set_bytes(batch, state, gate_width, itemsize)
    avail = memory.available_bytes()
    if need > avail:
        raise UsageError(
            f"batch {batch} × state {state} needs about {need / 2**30:.1f} GiB, "
            f"more than the {avail / 2**30:.1f} GiB available",
            "lower --batch or --hidden",
        )
    return int(min(MAX_CHUNK, 1 << max(0, math.ceil(math.log2(steps)))))


def _log10_norm_of_P(norm: str, P, U):
    """log10 ‖P‖ and the tracked block of its top left singular vectors."""
    if norm == "frobenius":
        return log10_frobenius(P), U
    sigma, U = tracked_top_singular_value(P, U)
    return jnp.log10(sigma), U


def _log10_local_norm(cell: Cell, norm: str, params, s, x, skip=False):
    """log10 ‖J_t‖ from products with J_t (Lanczos), or from its rows for the Frobenius norm."""
    if norm == "frobenius":
        return log10_frobenius(cell.times_jacobian(params, jnp.eye(s.shape[0], dtype=s.dtype),
                                                   s, x))
    matvec, rmatvec = cell.jacobian_products(params, s, x)
    return jnp.log10(top_singular_value(matvec, rmatvec, s.shape[0], s.dtype, skip=skip))


def _chunk(cell: Cell, norm: str, params, carry, s_prev, xs, mask):
    """One chunk of steps for one sequence, newest step first (see the module docstring)."""

    def body(c, inp):
        P, lp, g, lg, U = c
        s, x, m = inp
        PJ = cell.times_jacobian(params, P, s, x)
        gJ = cell.times_jacobian(params, g[None], s, x)[0]
        # a padded step (before t = 0) leaves P and g alone; its outputs are dropped
        P, lp = rescale(jnp.where(m, PJ, P), lp)
        g, lg = rescale(jnp.where(m, gJ, g), lg)
        log_norm, U = _log10_norm_of_P(norm, P, U)
        return (P, lp, g, lg, U), (log_norm + scale_value(lp),
                                   scale_value(lg) + log10_vector_norm(g))

    return jax.lax.scan(body, carry, (s_prev, xs, mask), reverse=True)


def over_runs_and_batch(fn, data_args: int):
    """vmap `fn(params, *data)` over runs (params and data) and the batch (data only)."""
    per_run = jax.vmap(fn, in_axes=(None,) + (0,) * data_args)
    return jax.vmap(per_run, in_axes=(0,) * (1 + data_args))


@partial(jax.jit, static_argnums=(0, 1))
def _batched_chunk(cell, norm, params, carry, s_prev, xs, mask):
    """A chunk of every run and sequence: the carried chain and its norms."""
    def fn(p, c, s, x):
        return _chunk(cell, norm, p, c, s, x, mask)

    carry, (pn, gn) = over_runs_and_batch(fn, 3)(params, carry, s_prev, xs)
    return carry, pn, gn


@partial(jax.jit, static_argnums=(0, 1))
def _local_norms(cell, norm, params, s_prev, xs, mask):
    """log10 ‖J_t‖ for a block of steps, every run and sequence: independent of P, so
    batched over the steps (padded steps run no iterations). A block of hundreds of steps
    keeps the Lanczos iterations' products large enough to run at the matmul rate."""
    R, B, C = s_prev.shape[:3]
    skip = jnp.broadcast_to(~mask, (B, C)).reshape(B * C)

    def per_run(p, s, x):  # one flat vmap over batch × steps
        return jax.vmap(lambda s1, x1, k: _log10_local_norm(cell, norm, p, s1, x1, k))(s, x, skip)

    out = jax.vmap(per_run)(params, s_prev.reshape(R, B * C, -1), xs.reshape(R, B * C, -1))
    return out.reshape(R, B, C)


def local_block(runs: int, batch: int, steps: int, state: int, width: int,
                itemsize: int) -> int:
    """Steps per call of `_local_norms`: LOCAL_MAX problems over the runs and sequences,
    fewer where the batched Lanczos vectors (a few S-vectors and the recurrences'
    coefficients per step) would take more than an eighth of the memory left."""
    per_step = runs * batch * (6 * state + 2 * MAX_ITERS + width) * itemsize
    fit = max(1, memory.available_bytes() // 8 // per_step)
    return int(max(1, min(steps, LOCAL_MAX // (runs * batch), fit)))


def _padded(states, xs, pad: int, before: bool):
    """`(s_prev, xs, real)`: the states before each step (s_0..s_{T−1}) and the inputs, with
    `pad` padded steps before t = 1 (the chain walks back to them) or after t = T (the local
    norms' last block), and which steps are real."""
    T = xs.shape[2]
    widths = ((0, 0), (0, 0), (pad, 0) if before else (0, pad), (0, 0))
    real = np.arange(T + pad) >= pad if before else np.arange(T + pad) < T
    return jnp.pad(states[:, :, :T], widths), jnp.pad(jnp.asarray(xs), widths), real


def _local(cell, norm, params, states, xs) -> tuple[np.ndarray, float]:
    """log10 ‖J_t‖, t = 1..T, (R, B, T), in blocks of `local_block` steps; and the seconds
    their compile took."""
    R, B, T1, S = states.shape
    T = T1 - 1
    L = local_block(R, B, T, S, xs.shape[-1], states.dtype.itemsize)
    n = -(-T // L)
    s_prev, xs_p, real = _padded(states, xs, n * L - T, before=False)
    run, compile_s = compiled(_local_norms, (cell, norm), params, s_prev[:, :, :L],
                              xs_p[:, :, :L], real[:L])
    out = [np.asarray(run(params, s_prev[:, :, j * L:(j + 1) * L], xs_p[:, :, j * L:(j + 1) * L],
                          real[j * L:(j + 1) * L])) for j in range(n)]
    return np.concatenate(out, axis=2)[:, :, :T], compile_s


def _start(g_T):
    """The chain's first carry, built on the host: P = I and its log10 scale, the loss
    gradient rescaled and its scale (each scale a compensated sum, `norms.rescale`), the
    tracker's starting block; placed like `g_T`."""
    g = np.asarray(g_T)
    R, B, S = g.shape
    m = np.max(np.abs(g), axis=-1, keepdims=True)
    safe = np.where((m > 0) & np.isfinite(m), m, 1.0)
    with np.errstate(divide="ignore"):
        lg = np.log10(m[..., 0]).astype(g.dtype)
    U = start_block(S, g.dtype)
    zero = np.zeros((R, B), g.dtype)
    carry = (np.broadcast_to(np.eye(S, dtype=g.dtype), (R, B, S, S)), (zero, zero),
             (g / safe).astype(g.dtype), (lg, zero), np.broadcast_to(U, (R, B) + U.shape))
    return jax.device_put(carry, getattr(g_T, "sharding", None))


def propagate(cell: Cell, params, states, xs, g_T, *, norm="spectral", local=True,
              progress=None) -> Propagation:
    """Log10 norms of every `P_t`, every `J_t` and every loss gradient `g_t`.

    **Arguments:**

    - `cell`: a `Cell` (`cells/_cell.py`): the step and how its Jacobian is taken;
      `params` carry a leading run axis R.
    - `states`: (R, B, T+1, S) from `unroll`; `xs`: (R, B, T, D).
    - `g_T`: (R, B, S), `∂L/∂s_T` for each sequence.
    - `norm`: `spectral` or `frobenius`.
    - `local`: also ‖J_t‖; without it `local_norm` is None.
    - `progress`: optional callable `(steps_done, steps_total)`.
    """
    R, B, T1, S = states.shape
    T = T1 - 1
    C = chunk_size(R * B, S, T, states.dtype.itemsize, gate_width=xs.shape[-1] + S)
    n = -(-T // C)
    pad = n * C - T
    s_prev, xs_p, real = _padded(states, xs, pad, before=True)
    carry = _start(g_T)
    first = slice((n - 1) * C, n * C)  # every chunk has the shapes of this one
    run_chunk, compile_s = compiled(_batched_chunk, (cell, norm), params, carry,
                                    s_prev[:, :, first], xs_p[:, :, first], real[first])
    P_out, g_out = [], []
    for j in reversed(range(n)):
        sl = slice(j * C, (j + 1) * C)
        carry, pn, gn = run_chunk(params, carry, s_prev[:, :, sl], xs_p[:, :, sl], real[sl])
        P_out.append(np.asarray(pn))
        g_out.append(np.asarray(gn))
        if progress is not None:
            progress(min(T, (n - j) * C), T)
    local_norm = None
    if local:
        local_norm, local_s = _local(cell, norm, params, states, xs)
        compile_s += local_s

    def cat(parts):  # the chunks in time order, without the padding
        return np.concatenate(parts[::-1], axis=2)[:, :, pad:]

    g_T_log = np.log10(np.linalg.norm(np.asarray(g_T, np.float64), axis=-1))[..., None]
    log_eye = 0.0 if norm == "spectral" else 0.5 * math.log10(S)  # ‖P_T‖ = ‖I‖
    jac = np.concatenate([cat(P_out), np.full((R, B, 1), log_eye)], axis=2)
    return Propagation(
        jacobian_norm=jac,
        local_norm=local_norm,
        loss_grad_norm=np.concatenate([cat(g_out), g_T_log], axis=2),
        compile_s=compile_s,
    )
