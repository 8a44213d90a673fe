"""Propagation matrices `P_t = ∂s_T/∂s_t = J_T … J_{t+1}` and loss gradients, streamed.

The sequence is processed backwards in fixed-size chunks of C steps, so one compiled
program serves every T, and memory is O(S²) whatever T is: the (T, S, S) stack of local
Jacobians is never formed. A reverse `lax.scan` updates `P ← P @ J_t`: for a one-layer gated
cell with J_t built from its unit-wise structure (`cells/_structured.py`, 2·S²·H flops),
otherwise by pulling each row of P back through the step's VJP (what `jacrev` does to the
rows of I to build J_t, at the cost of the product itself). It divides P by its largest
entry after every step and keeps the log10 of that factor apart, so ‖P_t‖ is a finite log10
value far below 1e-38 (or above 1e38).
Spectral norms come from matrix-vector products: ‖J_t‖ by Lanczos, batched over the steps of
a chunk, in a program of its own that a second host thread runs beside the chain's (on a CPU
XLA runs the two side by side); ‖P_t‖ by a certified block that follows its top singular
vectors (`norms.py`).

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

from ..cells._structured import times_jacobian
from ..errors import UsageError
from .compiled import compiled, is_quick
from .jacobian import state_step
from .norms import (
    log10_frobenius,
    log10_vector_norm,
    rescale,
    start_block,
    top_singular_value,
    tracked_top_singular_value,
)

MAX_CHUNK = 64


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


def working_set_bytes(batch: int, state: int, gate_width: int, itemsize: int) -> int:
    """Memory of one step: P, its update and the VJP's gate-sized intermediates, per sequence."""
    return 3 * batch * state * (state + 2 * gate_width) * itemsize


def chunk_size(batch: int, state: int, steps: int, itemsize: int, gate_width: int = 0) -> int:
    """Steps per compiled chunk (a power of two ≤ MAX_CHUNK); refuses sizes that cannot fit."""
    need = working_set_bytes(batch, state, gate_width, itemsize)
    avail = available_memory_bytes()
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


def _log10_local_norm(norm: str, f, params, s, x, products=None, skip=False):
    """log10 ‖J_t‖ from products with J_t (Lanczos), or from its rows for the Frobenius norm.
    `products` (`step.products`, for one-layer cells): J_t's products from its unit-wise form,
    a few vector operations each besides W_hh's, instead of a pass through the step's
    linearisation."""

    def fx(s_):
        return f(params, s_, x)

    if products is not None:
        matvec, rmatvec = products(params, s, x)
    else:
        pull = jax.vjp(fx, s)[1]
        matvec = None if norm == "frobenius" else jax.linearize(fx, s)[1]

        def rmatvec(r):
            return pull(r)[0]

    if norm == "frobenius":
        return log10_frobenius(jax.vmap(rmatvec)(jnp.eye(s.shape[0], dtype=s.dtype)))
    return jnp.log10(top_singular_value(matvec, rmatvec, s.shape[0], s.dtype, skip=skip))


def _chunk(step, norm: str, params, carry, s_prev, xs, mask):
    """One chunk of steps for one sequence, newest step first (see the module docstring)."""
    f = state_step(step)
    # J_t built at O(G·H²) cost (cells/_structured.py) makes P @ J_t cost 2·S²·H flops, against
    # 2·S·(G·H)·H through the VJP: less for gated cells. For a vanilla RNN (G·H = S) the VJP's
    # products share W_hh across sequences and are faster.
    structured = getattr(step, "jacobian", None)
    if structured is not None and params["weight_hh_l0"].shape[0] <= s_prev.shape[-1]:
        structured = None

    def body(c, inp):
        P, lp, g, lg, U = c
        s, x, m = inp

        def fx(s_):
            return f(params, s_, x)

        pull = jax.vjp(fx, s)[1]

        def row_times_j(r):  # r @ J_t, i.e. one row of P_t J_t
            return pull(r)[0]

        if structured is not None:
            PJ = times_jacobian(P, *structured(params, s, x))
        else:
            PJ = jax.vmap(row_times_j)(P)
        # a padded step (before t = 0) leaves P and g alone; its outputs are dropped
        P, lp = rescale(jnp.where(m, PJ, P), lp)
        g, lg = rescale(jnp.where(m, row_times_j(g), g), lg)
        log_norm, U = _log10_norm_of_P(norm, P, U)
        return (P, lp, g, lg, U), (log_norm + lp, lg + log10_vector_norm(g))

    return jax.lax.scan(body, carry, (s_prev, xs, mask), reverse=True)


def over_runs_and_batch(fn, data_args: int):
    """vmap `fn(params, *data)` over runs (params and data) and the batch (data only)."""
    per_run = jax.vmap(fn, in_axes=(None,) + (0,) * data_args)
    return jax.vmap(per_run, in_axes=(0,) * (1 + data_args))


@partial(jax.jit, static_argnums=(0, 1))
def _batched_chunk(step, norm, params, carry, s_prev, xs, mask):
    """A chunk of every run and sequence: the carried chain and its norms."""
    def fn(p, c, s, x):
        return _chunk(step, norm, p, c, s, x, mask)

    carry, (pn, gn) = over_runs_and_batch(fn, 3)(params, carry, s_prev, xs)
    return carry, pn, gn


@partial(jax.jit, static_argnums=(0, 1))
def _batched_local(step, norm, params, s_prev, xs, mask):
    """The norms of a chunk's own J_t, of every run and sequence: a program of its own, which
    a second host thread runs beside the chain's (they share no data)."""
    return _local_norms(step, norm, params, s_prev, xs, mask)


def _local_norms(step, norm, params, s_prev, xs, mask):
    """log10 ‖J_t‖ for a chunk of steps: independent of P, so batched over the steps (padded
    steps run no iterations)."""
    f = state_step(step)
    R, B, C = s_prev.shape[:3]

    # J_t's unit-wise products save the gated cells' linearisation (14-28 % of the LSTM's local
    # norms); for a vanilla RNN the linearisation is already one product and is faster batched
    products = getattr(step, "products", None)
    if params["weight_hh_l0"].shape[-2] <= s_prev.shape[-1]:
        products = None
    skip = jnp.broadcast_to(~mask, (B, C)).reshape(B * C)

    def per_run(p, s, x):  # one flat vmap over batch × steps
        return jax.vmap(lambda s1, x1, k: _log10_local_norm(norm, f, p, s1, x1, products, k)
                        )(s, x, skip)

    out = jax.vmap(per_run)(params, s_prev.reshape(R, B * C, -1), xs.reshape(R, B * C, -1))
    return out.reshape(R, B, C)


def _start(g_T):
    """The chain's first carry, built on the host (no program to compile): P = I, the loss
    gradient rescaled, the tracker's starting block; placed like `g_T`."""
    g = np.asarray(g_T)
    R, B, S = g.shape
    m = np.max(np.abs(g), axis=-1, keepdims=True)
    safe = np.where((m > 0) & np.isfinite(m), m, 1.0)
    with np.errstate(divide="ignore"):
        lg = np.log10(m[..., 0]).astype(g.dtype)
    U = start_block(S, g.dtype)
    carry = (np.broadcast_to(np.eye(S, dtype=g.dtype), (R, B, S, S)),
             np.zeros((R, B), g.dtype), (g / safe).astype(g.dtype), lg,
             np.broadcast_to(U, (R, B) + U.shape))
    sharding = getattr(g_T, "sharding", None)
    return jax.device_put(tuple(np.ascontiguousarray(a) for a in carry), sharding)  # one call


def _array_module(states):
    """numpy where the states live in host memory on one CPU device: slicing a chunk there
    costs a microsecond, against a dispatched op (≈0.2 ms) for a jax array. Elsewhere (GPU,
    several devices) the states stay where they are."""
    devices = states.devices() if hasattr(states, "devices") else set()
    return np if len(devices) <= 1 and all(d.platform == "cpu" for d in devices) else jnp


def _layout(states_shape, xs, itemsize: int):
    """`(R, B, T, S, C, n, pad)`: the sizes, the chunk length, the number of chunks and the
    padded steps before t = 0."""
    R, B, T1, S = states_shape
    T = T1 - 1
    C = chunk_size(R * B, S, T, itemsize, gate_width=xs.shape[-1] + S)
    n = -(-T // C)
    return R, B, T, S, C, n, n * C - T


def _chunk_program(step, norm, params, carry, s_prev, xs_p, real, sizes):
    """The compiled chunk, for the last chunk's slices (every chunk has their shapes)."""
    R, B, T, S, C, n, _ = sizes
    first = slice((n - 1) * C, n * C)
    return compiled(_batched_chunk, (step, norm), params, carry, s_prev[:, :, first],
                    xs_p[:, :, first], real[first], quick=is_quick(R, B, T, S))


def _local_program(step, norm, params, s_prev, xs_p, real, sizes):
    """The compiled local norms of a chunk (see `_chunk_program`)."""
    R, B, T, S, C, n, _ = sizes
    first = slice((n - 1) * C, n * C)
    return compiled(_batched_local, (step, norm), params, s_prev[:, :, first],
                    xs_p[:, :, first], real[first], quick=is_quick(R, B, T, S))


def precompile(step, params, states_shape, states_dtype, xs, g_T, *, norm="spectral",
               chain=True, local=True) -> None:
    """Compile `propagate`'s programs for states of this shape before the states exist: the
    chain's chunk (`chain`) and the local norms' (`local`). Called on host threads while the
    forward pass compiles and runs (their tracing is Python, which the forward's XLA compile
    leaves free); `propagate` then finds them compiled. Only where the chunks are sliced on
    the host (one CPU device), whose slices a stand-in can match."""
    if _array_module(xs) is not np:
        return
    sizes = _layout(states_shape, xs, np.dtype(states_dtype).itemsize)
    R, B, T, S, C, n, pad = sizes
    zeros = np.zeros((R, B, n * C, S), states_dtype)  # only its first chunk's shape is used
    xs_p = np.zeros((R, B, n * C, xs.shape[-1]), np.dtype(xs.dtype))
    real = np.arange(n * C) >= pad
    if chain:
        _chunk_program(step, norm, params, _start(g_T), zeros, xs_p, real, sizes)
    if local:
        _local_program(step, norm, params, zeros, xs_p, real, sizes)


def _run_local(step, norm, params, s_prev, xs_p, real, sizes, x64: bool, stop=None):
    """The local norms of every chunk, newest first, and the seconds their compile took;
    None once `stop` (a `threading.Event`) is set, checked between chunks."""
    C, n = sizes[4], sizes[5]
    with jax.enable_x64(x64):  # per thread in JAX
        run, compile_s = _local_program(step, norm, params, s_prev, xs_p, real, sizes)
        out = []
        for j in reversed(range(n)):
            if stop is not None and stop.is_set():
                return None
            sl = slice(j * C, (j + 1) * C)
            out.append(np.asarray(run(params, s_prev[:, :, sl], xs_p[:, :, sl], real[sl])))
    return out, compile_s


def _beside(fn, *args):
    """`fn(*args, stop=…)` on a thread of its own: `(future, stop)`, `stop` a
    `threading.Event` that asks it to end early. Where several processes run one program
    in step (multi-host), it runs here and now instead, so that every process launches its
    programs in the same order."""
    import threading
    from concurrent.futures import Future, ThreadPoolExecutor

    stop = threading.Event()
    if jax.process_count() > 1:
        done = Future()
        done.set_result(fn(*args))
        return done, stop
    pool = ThreadPoolExecutor(1, thread_name_prefix="gradscope-local")
    future = pool.submit(fn, *args, stop=stop)
    pool.shutdown(wait=False)
    return future, stop


def propagate(step, params, states, xs, g_T, *, norm="spectral", local=True,
              progress=None) -> Propagation:
    """Log10 norms of every `P_t`, every `J_t` and every loss gradient `g_t`.

    **Arguments:**

    - `step`: `(params, s, x) -> (s', aux)`; `params` carry a leading run axis R.
    - `states`: (R, B, T+1, S) from `unroll`; `xs`: (R, B, T, D).
    - `g_T`: (R, B, S), `∂L/∂s_T` for each sequence.
    - `norm`: `spectral` or `frobenius`.
    - `local`: also ‖J_t‖ (a program of its own, batched over a chunk's steps, which a
      second host thread runs while this one runs the chain: on a CPU, XLA runs the two side
      by side); without it `local_norm` is None.
    - `progress`: optional callable `(steps_done, steps_total)`.
    """
    sizes = _layout(states.shape, xs, states.dtype.itemsize)
    R, B, T, S, C, n, pad = sizes
    widths = ((0, 0), (0, 0), (pad, 0), (0, 0))
    xp = _array_module(states)
    s_prev = xp.pad(xp.asarray(states)[:, :, :T], widths)
    xs_p = xp.pad(xp.asarray(xs), widths)
    real = np.arange(n * C) >= pad
    carry = _start(g_T)
    # the local norms on a second host thread (XLA runs the two programs side by side): a
    # sixth to a quarter less time for an analysis at H=64 T=100, 7-12 % at H=256 T=1000 on
    # two cores
    local_norms, stop = _beside(_run_local, step, norm, params, s_prev, xs_p, real, sizes,
                                jax.config.jax_enable_x64) if local else (None, None)
    try:
        run_chunk, compile_s = _chunk_program(step, norm, params, carry, s_prev, xs_p, real,
                                              sizes)
        P_out, g_out = [], []
        for j in reversed(range(n)):
            sl = slice(j * C, (j + 1) * C)
            carry, pn, gn = run_chunk(params, carry, s_prev[:, :, sl], xs_p[:, :, sl], real[sl])
            P_out.append(np.asarray(pn))
            g_out.append(np.asarray(gn))
            if progress is not None:
                progress(min(T, (n - j) * C), T)
            if local and local_norms.done():
                local_norms.result()  # its error now, not after the chain
        if local:
            J_out, local_s = local_norms.result()
            compile_s = max(compile_s, local_s)  # compiled side by side
    finally:  # an error or an interrupt here stops the other thread after its chunk
        if stop is not None:
            stop.set()

    def cat(parts):  # the chunks in time order, without the padding
        return np.concatenate(parts[::-1], axis=2)[:, :, pad:]

    g_T_log = np.log10(np.linalg.norm(np.asarray(g_T, np.float64), axis=-1))[..., None]
    log_eye = 0.0 if norm == "spectral" else 0.5 * math.log10(S)  # ‖P_T‖ = ‖I‖
    jac = np.concatenate([cat(P_out), np.full((R, B, 1), log_eye)], axis=2)
    return Propagation(
        jacobian_norm=jac,
        local_norm=cat(J_out) if local else None,
        loss_grad_norm=np.concatenate([cat(g_out), g_T_log], axis=2),
        compile_s=compile_s,
    )
