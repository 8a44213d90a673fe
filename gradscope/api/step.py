"""`analyze_step`: any JAX step function through the same streamed, log-scaled engine.

The step is `step(params, s, x) -> s_next`, for a state `s` that is a vector or any pytree
of arrays (flattened with `jax.flatten_util.ravel_pytree`). The engine pulls the rows of
P_t through the step's VJP (`cells.Cell`), so memory stays at a few S×S matrices whatever
T is. Params may be any pytree (an Equinox module, a Flax variable dict, a dict of
arrays); their array leaves are the values, everything else is part of the step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from ..cells import Cell
from ..config import NORMS
from ..dynamics.compiled import compiled
from ..dynamics.lyapunov import lyapunov_exponents
from ..dynamics.propagate import propagate
from ..errors import RunError, UsageError
from ..io.schema import build_report, device_info
from ..pipeline import forward
from ..records import step_run_record
from ..result import Report
from .session import Progress, session

HINT = "the step must be a JAX function step(params, s, x) -> s_next, with s_next shaped like s"


def analyze_step(step: Callable, params: Any, xs, s0, *, x64: bool = False,
                 norm: str = "spectral", lyapunov: int | None = None, label: str | None = None,
                 progress: Progress | None = None, platform: str | None = None,
                 tf32: bool = False) -> Report:
    """Analyse your own cell: log10 ‖∂s_T/∂s_t‖, ‖J_t‖, the loss gradient's norm, the
    summary and (with `lyapunov=K`) the K largest Lyapunov exponents.

    **Arguments:**

    - `step`: `step(params, s, x) -> s_next`, a pure JAX function.
    - `params`: its parameters, any pytree.
    - `xs`: inputs (T, D) or (B, T, D).
    - `s0`: the initial state: a vector (S,), a batch of them (B, S), or a pytree of arrays
      (one state, shared by every sequence).
    - `x64`: float64 everywhere; `norm`: `"spectral"` or `"frobenius"`.
    - `lyapunov`: also the K largest Lyapunov exponents (natural log per step).
    - `label`: the run's name in the report (default: the step's name).
    - `progress`: optional callable `(steps_done, steps_total)`; `platform`, `tf32`: as in
      `gradscope.analyze`.

    **Returns:** a `Report` with one run (the W_hh-specific series are null).

    **Raises:** `GradscopeError` naming the step when it is not a JAX function of the right
    shapes, when its arguments hold NaN or inf, or when its first step turns finite
    arguments into NaN or inf.
    """

    name = label or getattr(step, "__name__", None) or type(step).__name__
    if norm not in NORMS:
        raise UsageError(f"analyze_step({name}): unknown norm {norm!r}",
                         f"use one of: {', '.join(NORMS)}")
    with jax.enable_x64(x64), session(platform, tf32):
        dtype = jnp.float64 if x64 else jnp.float32
        x, s_flat, unravel, batched = _arrays(name, xs, s0, dtype)
        B, T, _ = x.shape
        S = s_flat.shape[-1]
        if lyapunov is not None and not 0 < lyapunov <= S:
            raise UsageError(f"analyze_step({name}): lyapunov={lyapunov} is not in 1..{S} "
                             "(the state size)",
                             f"ask for at most {S} exponents")
        values, cell, call = _as_cell(step, params, unravel, s_flat.shape[-1], name, dtype)
        _check_structure(call, values, unravel(s_flat[0]), x[0, 0], name)
        _check_step(cell, values, s_flat[0], x[0, 0], name)
        s_all = s_flat if batched else jnp.broadcast_to(s_flat, (B, S))
        run = _run(cell, values, s_all, x, norm, lyapunov, progress)
        device = device_info()
    config = {"step": name, "state_size": S, "steps": T, "batch": B,
              "input_size": int(x.shape[-1]), "x64": x64, "norm": norm,
              "lyapunov": lyapunov or 0}
    return Report(build_report("analyze_step", [_record(name, config, run)], device=device))


def _arrays(name: str, xs, s0, dtype):
    """`(xs (B, T, D), s0 (B, S) or (1, S), unravel, batched)` on the device, checked."""

    x = np.asarray(xs)
    if x.ndim not in (2, 3) or 0 in x.shape or x.dtype.kind not in "fiu":
        raise UsageError(f"analyze_step({name}): xs has shape {x.shape} and dtype {x.dtype}",
                         "pass xs of shape (T, D) or (B, T, D)")
    x = x if x.ndim == 3 else x[None]
    _finite(name, "xs", x)
    leaves = jax.tree.leaves(s0)
    if not leaves:
        raise UsageError(f"analyze_step({name}): s0 is empty", "pass the initial state")
    batched = not isinstance(s0, (dict, list, tuple)) and np.ndim(s0) == 2
    if batched:
        s = np.asarray(s0)
        if s.shape[0] != x.shape[0]:
            raise UsageError(f"analyze_step({name}): s0 has {s.shape[0]} states for "
                             f"{x.shape[0]} sequences", "pass s0 of shape (S,) or (B, S)")
        _finite(name, "s0", s)
        flat, unravel_one = ravel_pytree(jnp.asarray(s[0], dtype))
        return (jnp.asarray(x, dtype), jnp.asarray(s, dtype), unravel_one, True)
    for leaf in leaves:
        _finite(name, "s0", np.asarray(leaf))
    flat, unravel = ravel_pytree(jax.tree.map(lambda a: jnp.asarray(a, dtype), s0))
    return jnp.asarray(x, dtype), flat[None], unravel, False


def _finite(name: str, what: str, a: np.ndarray) -> None:
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise UsageError(f"analyze_step({name}): {what} holds NaN or inf",
                         f"pass finite {what}")


@dataclass(frozen=True)
class _FlatStep:
    """The caller's step on the flat state, with params' array leaves passed as values.
    Equal for the same step function, params structure and state structure, so that the
    engine's compiled programs serve every later call with them (a notebook's reruns)."""

    step: Callable
    tree: Any  # params' treedef
    key: Any  # params' leaves that are not arrays; a token of its own where unhashable
    state: Any  # the state's treedef, shapes and dtypes
    static: tuple = field(compare=False)  # params' leaves, _VALUE where an array
    unravel: Callable = field(compare=False)

    def call(self, vals, s, x):
        """The step itself, on the state as a pytree."""
        it = iter(vals)
        p = jax.tree.unflatten(self.tree, [next(it) if a is _VALUE else a
                                           for a in self.static])
        return self.step(p, s, x)

    def __call__(self, vals, s, x):
        return ravel_pytree(self.call(vals, self.unravel(s), x))[0].astype(s.dtype), {}


_VALUE = object()  # marks a params leaf that is an array, passed as a value


def _as_cell(step, params, unravel, size: int, name: str, dtype):
    """`(values, cell, call)`: params' float array leaves as `dtype` (the values the engine
    vmaps over), a `Cell` whose step puts them back into params and works on the flat
    state, and `call(values, s, x)`, the step itself on the state as a pytree."""
    leaves, tree = jax.tree.flatten(params)
    dynamic = [hasattr(a, "shape") and hasattr(a, "dtype") for a in leaves]
    values = [jnp.asarray(a, dtype) if np.dtype(a.dtype).kind == "f" else jnp.asarray(a)
              for a, d in zip(leaves, dynamic, strict=True) if d]
    static = tuple(_VALUE if d else a for a, d in zip(leaves, dynamic, strict=True))
    state = jax.eval_shape(unravel, jnp.zeros(size, dtype))
    spec = (jax.tree.structure(state), tuple((a.shape, str(a.dtype))
                                              for a in jax.tree.leaves(state)))
    try:
        hash((step, static))
        key = static
    except TypeError:  # an unhashable leaf: this call's programs are its own
        key = object()
    flat = _FlatStep(step, tree, key, spec, static, unravel)
    return values, Cell(flat, name), flat.call


def _check_structure(call, values, s, x, name: str) -> None:
    """The step's output has the state's leaves, in order, with their shapes: a flat count
    alone would let a step that returns (S, 1) for (S,), or swaps two leaves of different
    sizes, through. (A step that fails to trace is left to `_check_step`, which names it.)"""

    try:
        out = jax.eval_shape(call, values, s, x)
    except Exception:  # noqa: BLE001 - reported by _check_step
        return
    got = [tuple(a.shape) for a in jax.tree.leaves(out)]
    want = [tuple(a.shape) for a in jax.tree.leaves(s)]
    if got != want and sum(map(np.prod, got)) == sum(map(np.prod, want)):
        shapes = ", ".join(map(str, got)) or "nothing"
        raise UsageError(f"analyze_step({name}): the step returned arrays of shapes {shapes} "
                         f"for a state of {', '.join(map(str, want))}", HINT)


@partial(jax.jit, static_argnums=0)
def _one_step(cell, values, s, x):
    """The next state, and J s and s J through the products the engine uses (one program,
    compiled once per cell and shapes)."""
    matvec, rmatvec = cell.jacobian_products(values, s, x)
    return cell.next_state(values, s, x), matvec(s), rmatvec(s)


def _check_step(cell, values, s, x, name: str) -> None:
    """One step, traced and run: a step that is not JAX, or whose output is not shaped like
    its state, or that turns finite arguments into NaN, fails here with its name."""

    try:
        out = jax.eval_shape(cell.next_state, values, s, x)
    except Exception as e:  # noqa: BLE001 - whatever the user's code raises, named
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise UsageError(f"analyze_step({name}): the step failed under JAX tracing: "
                         f"{type(e).__name__}: {first}", HINT) from e
    if out.shape != s.shape:
        raise UsageError(f"analyze_step({name}): the step returned {out.shape[0]} numbers "
                         f"for a state of {s.shape[0]}", HINT)
    try:  # the engine takes J v by jax.linearize and w J by jax.vjp. Run, not only traced:
        # a custom_vjp step fails only when its linearized program is evaluated.
        after = np.asarray(_one_step(cell, values, s, x)[0])
    except Exception as e:  # noqa: BLE001 - e.g. a while_loop (no VJP), a custom_vjp (no JVP)
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise UsageError(f"analyze_step({name}): the step cannot be differentiated by "
                         f"jax.linearize and jax.vjp: {type(e).__name__}: {first}",
                         "use differentiable JAX code (lax.scan or a static fori_loop for "
                         "loops; custom_jvp rather than custom_vjp)") from e
    if not np.isfinite(after).all():
        raise RunError(f"analyze_step({name}): the first step turned finite params, state "
                       "and input into NaN or inf", "check the step's arithmetic and params")


def _run(cell, values, s0, xs, norm: str, lyapunov: int | None, progress) -> dict:



    params = jax.tree.map(lambda a: a[None], values)  # one run
    s0, xs = s0[None], xs[None]
    fwd, compile_s = compiled(forward, (cell,), params, s0, xs)
    t0 = time.perf_counter()
    states, _, nonfinite = fwd(params, s0, xs)
    prop = propagate(cell, params, states, xs, jnp.ones_like(s0), norm=norm, progress=progress)
    lyap = None
    if lyapunov:
        lyap = np.asarray(jax.vmap(lambda st, x: lyapunov_exponents(
            cell, lyapunov, values, st, x))(states[0], xs[0]))
    run_s = time.perf_counter() - t0 - prop.compile_s
    return {"prop": prop.run(0), "nonfinite": np.asarray(nonfinite[0]), "lyapunov": lyap,
            "timings": {"compile_s": compile_s + prop.compile_s, "run_s": run_s}}


def _record(name: str, config: dict, run: dict) -> dict:

    return step_run_record(name, config, **run)
