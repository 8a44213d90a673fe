"""Norms that stay finite for zero and non-finite inputs, and spectral norms at the cost of a
few dozen matrix-vector products (Lanczos)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

# Lanczos on AᵀA from a fixed generic vector. Its top Ritz value θ_k only grows with k, towards
# σ_max², and it gets there fast (the error falls like 1/k² even for a dense top of the
# spectrum, where power iteration stalls). Every CHECK iterations, from MIN_ITERS on, the
# iteration stops once the error that θ's last growth implies is below RTOL·θ; it stops at
# MAX_ITERS in any case, and at an invariant subspace (exact then). log10 norms are exact to
# about 2e-4 in float32 where the top of the spectrum is dense (orthogonal or identity W_hh;
# 1e-6 elsewhere) and 1e-7 in float64 (tested against SVD).
CHECK = 8
MIN_ITERS = 16
MAX_ITERS = 192
RTOL = {4: 5e-5, 8: 1e-13}
# tracked_top_singular_value: block size, iterations per call, and the error bound
# (relative to θ) it accepts
TRACK = 4
TRACK_ITERS = 3
TRACK_TOL = {4: 1e-6, 8: 1e-13}


def rescale(a, log_scale):
    """Divide `a` by its largest |entry| and add log10 of that factor to `log_scale`, a
    compensated sum `(total, compensation)` (`compensated_add`; its value: `scale_value`).

    An exact zero keeps `a` at zero and sends the scale to -inf (a true zero, not an
    underflow); NaN/inf propagate to the scale so the first non-finite step is visible.
    """
    m = jnp.max(jnp.abs(a))
    safe = jnp.where((m > 0) & jnp.isfinite(m), m, 1.0)
    return a / safe, compensated_add(log_scale, jnp.log10(m))


def compensated_add(log_scale, x):
    """`(total, compensation) + x` by Kahan's summation: the rounding of each addition is
    carried along instead of lost. A plain float32 sum of T factors drifts by about
    T·ulp(total): 2e-3 in log10 at T = 10³ and 4e-2 at 10⁴ for a 0.5·I RNN, against
    1e-5 and 2e-4 compensated. A non-finite total keeps no compensation."""
    total, comp = log_scale
    y = x - comp
    t = total + y
    return t, jnp.where(jnp.isfinite(t), (t - total) - y, 0.0).astype(t.dtype)


def scale_value(log_scale):
    """The value of a compensated sum `(total, compensation)`."""
    total, comp = log_scale
    return total - comp


def log10_vector_norm(v):
    return jnp.log10(jnp.linalg.norm(v))


def log10_frobenius(M):
    return 0.5 * jnp.log10(jnp.sum(M * M, axis=(-2, -1)))


def start_vector(n: int, dtype):
    """A fixed unit vector of generic entries (not aligned with any structure)."""
    v = 1.0 + 0.5 * jnp.sin(jnp.arange(1, n + 1, dtype=dtype) * 0.7)
    return v / jnp.linalg.norm(v)


def _top_ritz_value(alpha, beta, k):
    """Largest eigenvalue of the leading k×k block of the tridiagonal (alpha on the diagonal,
    beta beside it), ≥ 0 (the rest is zero padding), by bisection on Sturm counts."""
    m, dtype = alpha.shape[0], alpha.dtype
    a = jnp.where(jnp.arange(m) < k, alpha, 0.0)
    e = jnp.abs(jnp.where(jnp.arange(m - 1) < k - 1, beta[:-1], 0.0))
    zero = jnp.zeros(1, dtype)
    e2 = jnp.concatenate([zero, e * e])  # e2[i] = beta[i-1]²
    lo = jnp.maximum(jnp.max(a), 0.0)  # a diagonal entry is a Rayleigh quotient
    hi = jnp.max(a + jnp.concatenate([e, zero]) + jnp.concatenate([zero, e]))  # Gershgorin
    tiny = jnp.finfo(dtype).tiny

    def all_below(x):  # are all eigenvalues < x? (every pivot of T − xI negative)
        def pivot(q, ae):
            q = ae[0] - x - ae[1] / q
            q = jnp.where(q == 0, -tiny, q)
            return q, q < 0

        return jnp.all(jax.lax.scan(pivot, jnp.ones((), dtype), (a, e2))[1])

    def bisect(_, bounds):
        lo, hi = bounds
        mid = 0.5 * (lo + hi)
        below = all_below(mid)
        return jnp.where(below, lo, mid), jnp.where(below, mid, hi)

    iters = 32 if dtype == jnp.float32 else 60
    return jax.lax.fori_loop(0, iters, bisect, (lo, jnp.maximum(hi, lo)))[1]


def top_singular_value(matvec, rmatvec, n: int, dtype, rtol=None, max_iters=MAX_ITERS,
                       skip=False, start=None):
    """Largest singular value of the operator A given `matvec` (A v) and `rmatvec` (Aᵀ w),
    A having n columns: Lanczos on AᵀA (see the constants above). With `skip` (traced) no
    iteration runs and the result is 0. `start`: a guess of the top right singular vector;
    the iteration starts from it plus a small generic part (which keeps every direction in
    the Krylov space)."""
    eps = jnp.finfo(dtype).eps
    rtol = RTOL[jnp.dtype(dtype).itemsize] if rtol is None else rtol
    max_iters = min(max_iters, -(-max(n, MIN_ITERS) // CHECK) * CHECK)

    def one(i, c):
        vp, v, bp, alpha, beta = c
        w = rmatvec(matvec(v)) - bp * vp
        a = jnp.vdot(v, w)
        w = w - a * v
        b = jnp.linalg.norm(w)
        ok = b > 16 * eps * (jnp.abs(a) + bp)  # else an invariant subspace: stop there
        b = jnp.where(ok, b, 0.0)
        v_next = jnp.where(ok, w / jnp.where(ok, b, 1.0), 0.0)
        return v, v_next, b, alpha.at[i].set(a), beta.at[i].set(b)

    def body(st):
        k, c, _, theta = st
        c = jax.lax.fori_loop(0, CHECK, lambda i, c_: one(k + i, c_), c)
        return k + CHECK, c, theta, _top_ritz_value(c[3], c[4], k + CHECK)

    def cond(st):
        k, _, before, theta = st
        # where the top is dense θ's error falls like 1/k², about (growth · k / 2·CHECK);
        # twice that must be below rtol·θ
        settled = (k >= MIN_ITERS) & ((theta - before) * k <= CHECK * rtol * theta)
        return (k < max_iters) & ~settled & jnp.isfinite(theta) & ~skip

    skip = jnp.asarray(skip, bool)
    v0 = start_vector(n, dtype)
    if start is not None:
        v0 = start + 0.1 * v0
        v0 = v0 / jnp.linalg.norm(v0)
    zeros = jnp.zeros(max_iters, dtype)
    c0 = (jnp.zeros_like(v0), v0, jnp.zeros((), dtype), zeros, zeros)
    inf = jnp.asarray(jnp.inf, dtype)
    state = (0, c0, -inf, jnp.asarray(0.0, dtype))
    theta = jax.lax.while_loop(cond, body, state)[3]
    return jnp.sqrt(jnp.maximum(theta, 0.0))


def tracked_top_singular_value(A, U, tol=None):
    """`(σ_max(A), U')` for a square A that changes slowly from call to call (P_t along t),
    U being an orthonormal block of TRACK columns that follows its top left singular vectors.

    Up to TRACK_ITERS subspace iterations on AAᵀ from U, each with Rayleigh–Ritz, until the
    top Ritz value θ (residual r = ‖AAᵀx − θx‖, F = ‖A‖_F²) is certified: an eigenvalue λ
    of AAᵀ lies within r of θ; θ − r ≥ F/2 makes it the largest (the eigenvalues are ≥ 0 and
    sum to F, so any other one is ≤ F − λ ≤ λ), and then the others are ≤ F − θ + r, which
    bounds the error by Kato–Temple: θ ≤ λ ≤ θ + r²/(2θ − F − r), accepted when below
    TRACK_TOL·θ. That holds once a long product's top singular value dominates; otherwise
    (short or near-orthogonal products) `top_singular_value` runs from the block's top vector.
    """
    n, dtype = A.shape[0], A.dtype
    tol = TRACK_TOL[jnp.dtype(dtype).itemsize] if tol is None else tol
    F = jnp.sum(A * A)

    def iteration(state):
        i, U, _, _ = state
        # Aᵀ U one column at a time: XLA's CPU dot contracting A's rows with a few columns
        # at once runs ten times slower than a vector-matrix product per column
        Z = A @ jnp.stack([U[:, j] @ A for j in range(U.shape[1])], axis=1)
        small = U.T @ Z
        theta, E = jnp.linalg.eigh(0.5 * (small + small.T))
        E = E[:, ::-1]
        top = theta[-1]
        r = jnp.linalg.norm(Z @ E[:, 0] - top * (U @ E[:, 0]))
        certified = (top - r >= 0.5 * F) & (r * r <= tol * top * (2 * top - F - r))
        return i + 1, jnp.linalg.qr(Z @ E)[0], top, certified

    state = (0, U, jnp.zeros((), dtype), jnp.asarray(False))
    _, U, top, certified = jax.lax.while_loop(
        lambda st: (st[0] < TRACK_ITERS) & ~st[3], iteration, state)
    # Lanczos on AAᵀ (the operator Aᵀ) from the block's best guess of the top vector
    fallback = top_singular_value(lambda w: w @ A, lambda v: A @ v, n, dtype, skip=certified,
                                  start=U[:, 0])
    return jnp.where(certified, jnp.sqrt(jnp.maximum(top, 0.0)), fallback), U


def start_block(n: int, dtype) -> np.ndarray:
    """A fixed orthonormal block of TRACK generic columns (numpy: built on the host, where it
    costs microseconds instead of a compiled program)."""
    k = np.arange(1, n + 1, dtype=np.float64)
    cols = [1.0 + 0.5 * np.sin(k * (0.7 + 0.9 * j)) for j in range(min(TRACK, n))]
    return np.linalg.qr(np.stack(cols, axis=1))[0].astype(np.dtype(dtype))
