"""The exploding-gradient cliff of Pascanu, Mikolov & Bengio (2013), section 3.

A single-unit RNN without input, `x_t = w·σ(x_{t−1}) + b` from `x_0`, run for T steps, with
the loss `L(w, b) = ½(x_T − target)²`. For σ the sigmoid and w > 4 the map has two stable
fixed points and an unstable one between them (a saddle-node bifurcation on each edge of a
wedge in the (w, b) plane). Where `x_0` sits on the unstable point, an infinitesimal change
of (w, b) sends x_T to one attractor or the other: L jumps and ∂L/∂(w, b) grows like
(w·σ'(x_u))^T — a thin wall of huge gradient next to the smooth valley of low loss.

`surface` and `descend` compute in float64 (they enter `jax.enable_x64` themselves): the map
is tiny, and float32 rounding near the unstable point would be amplified by up to ~1e17.

- `fixed_point_wedge(w)`: closed-form edges of the bistable wedge (for the sigmoid).
- `surface(...)`: log10 L and log10 ‖∇L‖ over a (w, b) grid — one jitted `vmap` of
  `value_and_grad`, called per chunk of points.
- `descend(...)`: gradient-descent paths from one start, one per clip threshold θ
  (`optax.clip_by_global_norm(θ)` then `optax.sgd(lr)`; θ = inf never clips) — one jitted
  `lax.scan` over iterations, vmapped over θ.
"""

from __future__ import annotations

from functools import cache, partial

import jax
import jax.numpy as jnp
import numpy as np
import optax

ACTIVATIONS = ("sigmoid", "tanh")
CHUNK = 1 << 14  # grid points per compiled call: bounds the memory of the T saved states
TINY = float(np.finfo(np.float64).tiny)  # floor of the log10s: log10(0) would be −inf
LOG10_TINY = float(np.log10(TINY))


def _act(name: str):
    if name == "sigmoid":
        return jax.nn.sigmoid
    if name == "tanh":
        return jnp.tanh
    raise ValueError(f"unknown activation {name!r}")


def final_state(theta, x0, *, steps: int, activation: str):
    """x_T of `x_t = w·σ(x_{t−1}) + b` for `theta = [w, b]`."""

    w, b = theta[0], theta[1]
    act = _act(activation)

    def step(x, _):
        return w * act(x) + b, None

    x_T, _ = jax.lax.scan(step, x0 + 0.0 * w, None, length=steps)
    return x_T


def loss(theta, x0, target, *, steps: int, activation: str):
    """L = ½(x_T − target)²."""
    return 0.5 * (final_state(theta, x0, steps=steps, activation=activation) - target) ** 2


def log10_floor(x):
    """log10 of max(x, TINY); NaN and ±inf stay NaN (the report stores them as null)."""

    y = jnp.log10(jnp.maximum(x, TINY))
    return jnp.where(jnp.isfinite(x), y, jnp.nan)


@cache
def _surface_fn(steps: int, activation: str):
    vg = jax.value_and_grad(partial(loss, steps=steps, activation=activation))

    def points(thetas, x0, target):
        ls, gs = jax.vmap(vg, in_axes=(0, None, None))(thetas, x0, target)
        return log10_floor(ls), log10_floor(jnp.linalg.norm(gs, axis=-1))

    return jax.jit(points)


@cache
def _points_fn(steps: int, activation: str):
    vg = jax.value_and_grad(partial(loss, steps=steps, activation=activation))
    return jax.jit(jax.vmap(vg, in_axes=(0, None, None)))


def loss_and_grad(thetas, x0: float, target: float, *, steps: int, activation: str):
    """(L, ∇L) at each row `[w, b]` of `thetas` (N, 2), by autodiff, as numpy arrays (the
    caller chooses the precision with `jax.enable_x64`)."""

    ls, gs = _points_fn(steps, activation)(jnp.asarray(thetas), x0, target)
    return np.asarray(ls), np.asarray(gs)


def surface_bytes(n_points: int, steps: int) -> int:
    """Memory of `surface`: the results plus one chunk's saved states and cotangents."""
    chunk = min(n_points, CHUNK)
    return 8 * (4 * n_points + 6 * chunk * (steps + 2))


def surface(ws: np.ndarray, bs: np.ndarray, *, x0: float, target: float, steps: int,
            activation: str, progress=None) -> tuple[np.ndarray, np.ndarray]:
    """log10 L and log10 ‖∇L‖ on the grid `ws × bs`, each of shape (len(bs), len(ws)) (rows
    along b, as an image with b upwards). Calls `progress(done, total)` after each chunk."""

    with jax.enable_x64(True):
        return _surface(ws, bs, x0=x0, target=target, steps=steps, activation=activation,
                        progress=progress)


def _surface(ws, bs, *, x0, target, steps, activation, progress):
    W, B = np.meshgrid(np.asarray(ws, np.float64), np.asarray(bs, np.float64))
    pts = np.stack([W.ravel(), B.ravel()], axis=-1)
    n = len(pts)
    size = min(n, CHUNK)
    fn = _surface_fn(steps, activation)
    out_l, out_g = np.empty(n), np.empty(n)
    for start in range(0, n, size):
        part = pts[start:start + size]
        k = len(part)
        if k < size:  # pad the last chunk so every call has the one compiled shape
            part = np.concatenate([part, np.repeat(part[-1:], size - k, axis=0)])
        ll, gg = fn(jnp.asarray(part, jnp.float64), jnp.float64(x0), jnp.float64(target))
        out_l[start:start + k] = np.asarray(ll)[:k]
        out_g[start:start + k] = np.asarray(gg)[:k]
        if progress is not None:
            progress(min(start + size, n), n)
    return out_l.reshape(W.shape), out_g.reshape(W.shape)


def safe_norm(v):
    """‖v‖ without overflow of the squares: a step of 1e200 has length 1e200, not inf."""

    m = jnp.max(jnp.abs(v))
    scale = jnp.where((m > 0) & jnp.isfinite(m), m, 1.0)
    return scale * jnp.sqrt(jnp.sum((v / scale) ** 2))


@cache
def _descend_fn(steps: int, activation: str, iters: int):
    vg = jax.value_and_grad(partial(loss, steps=steps, activation=activation))

    def one(theta_clip, start, lr, x0, target):
        # θ = inf: `g_norm < θ` always holds, so optax's clip leaves g alone
        opt = optax.chain(optax.clip_by_global_norm(theta_clip), optax.sgd(lr))

        def body(carry, _):
            theta, state, stopped = carry
            l, g = vg(theta, x0, target)
            gn = safe_norm(g)
            upd, new_state = opt.update(g, state, theta)
            bad = ~(jnp.isfinite(l) & jnp.isfinite(gn) & jnp.all(jnp.isfinite(theta)))
            stop = stopped | bad
            nan = jnp.nan
            # where the path landed is kept at its first non-finite iteration: it shows
            # how far the last step threw it
            rec = (jnp.where(stopped, nan, theta[0]), jnp.where(stopped, nan, theta[1]),
                   jnp.where(stop, nan, l), jnp.where(stop, nan, gn),
                   jnp.where(stop, nan, jnp.where(gn > theta_clip, 1.0, 0.0)),
                   jnp.where(stop, nan, safe_norm(upd)), stop)
            # a stopped path stays where it was; its later records are all NaN
            theta = jnp.where(stop, theta, theta + upd)
            return (theta, new_state, stop), rec

        carry0 = (start, opt.init(start), jnp.array(False))
        (theta, _, stopped), rec = jax.lax.scan(body, carry0, None, length=iters)
        l, g = vg(theta, x0, target)
        gn = safe_norm(g)
        bad = stopped | ~(jnp.isfinite(l) & jnp.isfinite(gn) & jnp.all(jnp.isfinite(theta)))
        last = [jnp.where(stopped, jnp.nan, theta[0]), jnp.where(stopped, jnp.nan, theta[1]),
                jnp.where(bad, jnp.nan, l), jnp.where(bad, jnp.nan, gn)]
        ws, bs, ls, gns, clipped, jumps, stops = rec
        cat = partial(jnp.concatenate, axis=0)
        return {"w": cat([ws, last[0][None]]), "b": cat([bs, last[1][None]]),
                "loss": cat([ls, last[2][None]]), "grad_norm": cat([gns, last[3][None]]),
                "clipped": clipped, "step_norm": jumps,
                "stopped": cat([stops, bad[None]])}

    return jax.jit(jax.vmap(one, in_axes=(0, None, None, None, None)))


def descend(start: tuple[float, float], *, clips: list[float | None], lr: float, iters: int,
            x0: float, target: float, steps: int, activation: str) -> list[dict]:
    """Gradient descent from `start = (w, b)`, one path per clip threshold (None: no clipping).

    **Returns:** per clip setting a dict of numpy arrays: `w`, `b`, `loss`, `grad_norm` at
    iterations 0..iters (θ_k before step k; index `iters` is the end point) and, per step
    k = 0..iters−1, `clipped` (1 where ‖∇L‖ > θ, so the step was rescaled to length lr·θ)
    and `step_norm` (‖θ_{k+1} − θ_k‖); `first_nonfinite_iter`, the first k whose θ_k, L or
    ∇L is not finite, or None: the path stops there; from k on L, ∇L and the steps are NaN,
    and so are w and b after k (w_k, b_k stay, to show where the last step went).
    """

    with jax.enable_x64(True):
        return _descend(start, clips=clips, lr=lr, iters=iters, x0=x0, target=target,
                        steps=steps, activation=activation)


def _descend(start, *, clips, lr, iters, x0, target, steps, activation) -> list[dict]:

    thresholds = jnp.asarray([np.inf if c is None else c for c in clips], jnp.float64)
    fn = _descend_fn(steps, activation, iters)
    out = fn(thresholds, jnp.asarray(start, jnp.float64), jnp.float64(lr), jnp.float64(x0),
             jnp.float64(target))
    out = {k: np.asarray(v) for k, v in out.items()}
    paths = []
    for i in range(len(clips)):
        p = {k: v[i] for k, v in out.items() if k != "stopped"}
        stopped = np.flatnonzero(out["stopped"][i])
        p["first_nonfinite_iter"] = int(stopped[0]) if stopped.size else None
        paths.append(p)
    return paths


def fixed_point_wedge(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For the sigmoid map and w > 4: the b interval (b_low, b_high) where x = w·σ(x) + b has
    two stable fixed points; NaN for w ≤ 4.

    On the edges a fixed point x* meets the unstable one: w·σ'(x*) = 1 with σ' = s(1 − s),
    s = σ(x*), so s = (1 ± √(1 − 4/w))/2 and b = x* − w·s = logit(s) − 1/(1 − s).
    """
    w = np.asarray(w, np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.sqrt(np.where(w > 4, 1 - 4 / w, np.nan))
        edges = []
        for s in ((1 + r) / 2, (1 - r) / 2):
            edges.append(np.log(s / (1 - s)) - 1 / (1 - s))
    return edges[0], edges[1]


def _act_np(name: str, x: float) -> tuple[float, float]:
    """σ(x) and σ'(x) in numpy."""
    if name == "sigmoid":
        s = 1 / (1 + np.exp(-x))
        return float(s), float(s * (1 - s))
    t = np.tanh(x)
    return float(t), float(1 - t * t)


def separatrix_b(w: np.ndarray, x0: float, activation: str = "sigmoid") -> np.ndarray:
    """The b at which x_0 is itself a fixed point, b = x_0 − w·σ(x_0). Where w·σ'(x_0) > 1
    that fixed point is unstable: the boundary between the basins of the two attractors,
    which x_0 sits on — the line of the cliff."""
    return x0 - np.asarray(w, np.float64) * _act_np(activation, x0)[0]


def cliff_line(w_lo: float, w_hi: float, *, x0: float, activation: str) -> dict | None:
    """The segment of `separatrix_b` inside [w_lo, w_hi] where it is a cliff (w > 1/σ'(x_0)),
    as `{"w": [w1, w2], "b": [b1, b2], "w_min": 1/σ'(x_0)}`; None when it misses the range."""
    w_min = 1 / _act_np(activation, x0)[1]
    if w_hi <= w_min:
        return None
    w = np.array([max(w_lo, w_min), w_hi])
    return {"w": w.tolist(), "b": separatrix_b(w, x0, activation).tolist(), "w_min": w_min}


def log10_np(x) -> np.ndarray:
    """`log10_floor` in numpy."""
    x = np.asarray(x, np.float64)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(x), np.log10(np.maximum(np.nan_to_num(x), TINY)), np.nan)


def round_sig(a, digits: int = 6) -> list | float:
    """`a` as (nested) lists of floats with `digits` significant digits; NaN stays NaN."""
    a = np.asarray(a, np.float64)
    flat = [float(f"{v:.{digits}g}") for v in a.ravel().tolist()]
    return np.array(flat).reshape(a.shape).tolist()


def cliff_profile(line: dict, *, x0: float, target: float, steps: int, activation: str,
                  half_width: float = 0.02, n: int = 4001) -> dict:
    """L and ‖∇L‖ along b across the cliff, at w = 1.15/σ'(x_0) (where the wall is wide
    enough to resolve; further out it thins like (w·σ'(x_0))^−T), within ±`half_width` of
    the cliff line: what a grid cannot show.

    **Returns:** `{"w": w, "b_cliff": b on the line, "offset": b − b_cliff, "log10_loss",
    "log10_grad_norm"}` as numpy arrays and floats.
    """

    w_c = float(np.clip(1.15 * line["w_min"], *line["w"]))
    b_c = float(separatrix_b(w_c, x0, activation))
    offset = np.linspace(-half_width, half_width, n)
    pts = np.stack([np.full(n, w_c), b_c + offset], axis=-1)
    with jax.enable_x64(True):
        ls, gs = loss_and_grad(pts, x0, target, steps=steps, activation=activation)
    return {"w": w_c, "b_cliff": b_c, "offset": offset, "log10_loss": log10_np(ls),
            "log10_grad_norm": log10_np(np.linalg.norm(gs, axis=-1))}
