"""The one pipeline: Config → params and inputs → unroll → dynamics → one run of the report.

`analyze_group(cfgs)` returns one run dict of docs/report-schema.md per config (`label`, `config`,
`state_size`, `series`, `spectrum`, `summary`, `lyapunov`, `timings`). Rendering and writing
live elsewhere.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from . import records
from .cells import Cell, cell_for, direction_params
from .config import Config
from .dynamics.compiled import compiled
from .dynamics.depth import depth_norms, sampled_steps
from .dynamics.lyapunov import lyapunov_exponents
from .dynamics.propagate import over_runs_and_batch, propagate
from .dynamics.unroll import unroll
from .host_arrays import check_memory, load_params, make_h0, make_inputs, step_inputs


def _loss_grad_at_T(cfg: Config, B: int, S: int) -> np.ndarray:
    # L = Σ s_T per sequence; `batch_mean` is L = mean_n Σ s_T[n] (DLFS2's sqrt(sum dh²)/N).
    g = np.ones((B, S))
    return g / B if cfg.loss == "batch_mean" else g


@partial(jax.jit, static_argnums=0)
def forward(cell, params, s0, xs):
    """States, aux and, per step, whether the state is non-finite (R, B, T+1)."""
    states, aux = over_runs_and_batch(partial(unroll, cell), 2)(params, s0, xs)
    return states, aux, ~jnp.isfinite(states).all(axis=-1)


def shape_key(cfg: Config) -> tuple:
    """Configs with the same key differ only in values (weights, inputs, seeds), not in
    shapes or programs: one vmapped call serves them."""
    # Weights, inputs and initial states all carry a leading run axis, so configs may differ
    # in any of the options that only choose their values.
    weightless = {"init", "scale", "forget_bias", "weights", "preset", "extra", "seed",
                  "inputs", "h0", "direction"}
    return tuple((k, v) for k, v in sorted(cfg.to_dict().items()) if k not in weightless)


def analyze(cfg: Config, *, progress=None) -> dict:
    """Run one configuration through the pipeline; returns one report run (docs/report-schema.md)."""
    return analyze_group([cfg], progress=progress)[0]


def analyze_group(cfgs: list[Config], *, progress=None, inputs=None) -> list[dict]:
    """Runs that share `shape_key` (same sizes and programs; other weights, inputs or seeds)
    in one jitted, vmapped pass. Returns one report run per config, in order.

    **Arguments:**

    - `progress`: optional callable `(steps_done, steps_total)`.
    - `inputs`: optional, per config, an inputs array (B, T, D) for the configs whose
      `inputs` is `"array"` (None for the others).
    """
    with jax.enable_x64(cfgs[0].x64):
        return _analyze_group(cfgs, progress, inputs or [None] * len(cfgs))


def jax_tree(tree, dtype):
    """numpy arrays (or a dict of them) as jax arrays of `dtype`."""
    return jax.tree.map(lambda a: jax.device_put(np.asarray(a, np.dtype(dtype))), tree)


def _stack(arrays: list[np.ndarray], dtype) -> np.ndarray:
    # converted on the host: `jnp.asarray(a, dtype)` would convert on the device, an op
    # that is compiled anew in each process (≈30 ms each)
    return np.stack(arrays).astype(np.dtype(dtype), copy=False)


def run_sharding(runs: int):
    """`(sharding, padded runs)`: with several local devices, the run axis is split over
    them (padded to a multiple of their number); with one, `(None, runs)`."""

    devices = jax.local_devices()
    if len(devices) < 2 or runs < 2:
        return None, runs
    mesh = Mesh(np.array(devices), ("runs",))
    return NamedSharding(mesh, PartitionSpec("runs")), -(-runs // len(devices)) * len(devices)


@dataclass
class _Group:
    """A group's arrays on the device, with a leading run axis (padded to `padded` runs)."""

    params_np: list[dict]  # per run, as numpy (the report's spectra)
    xs_np: list[np.ndarray]  # per run, the raw inputs in the analysed direction's order
    params: dict
    xs: object  # (R, B, T, D')
    s0: object  # (R, B, S)
    g_T: object  # (R, B, S)
    cell: Cell
    padded: int


def _group(cfgs: list[Config], arrays=None) -> _Group:
    if len({shape_key(c) for c in cfgs}) != 1:
        raise ValueError("a group's configs must differ only in values, not shapes")
    cfg, R = cfgs[0], len(cfgs)
    dtype = jnp.float64 if cfg.x64 else jnp.float32
    sharding, padded = run_sharding(R)
    check_memory(cfg, padded)
    # the padding repeats the last run; its results are dropped
    cfgs_p = list(cfgs) + [cfgs[-1]] * (padded - R)
    full = [load_params(c) for c in cfgs]
    full += full[-1:] * (padded - R)
    params_np = [direction_params(c, p) for c, p in zip(cfgs_p, full, strict=True)]
    params = {k: _stack([p[k] for p in params_np], dtype) for k in params_np[0]}
    h0s = [make_h0(c) for c in cfgs_p]
    arrays = list(arrays or [None] * R)
    arrays += arrays[-1:] * (padded - R)
    raw = [make_inputs(c) if a is None else a for c, a in zip(cfgs_p, arrays, strict=True)]

    def inputs(c, p, x, h):  # the weights go to the device only where the other direction runs
        if c.context_size:
            p, h = jax_tree(p, dtype), jax_tree(h, dtype)
        return step_inputs(c, p, x, h)

    xs = _stack([inputs(c, p, x, h) for c, p, x, h in zip(cfgs_p, full, raw, h0s, strict=True)],
                dtype)
    # the inputs in the analysed direction's time order (for the mean-field theory)
    xs_np = [x[:, ::-1] if c.direction == "backward" else x
             for c, x in zip(cfgs_p, raw, strict=True)]
    g_T = _stack([_loss_grad_at_T(cfg, cfg.batch, cfg.state_size)] * padded, dtype)
    # one transfer for all of them (each separate one costs ≈0.2 ms)
    params, xs, s0, g_T = jax.device_put((params, xs, _stack(h0s, dtype), g_T), sharding)
    return _Group(params_np, xs_np, params, xs, s0, g_T, cell_for(cfg), padded)


def jacobian_norms(cfgs: list[Config]) -> np.ndarray:
    """log10 ‖∂s_T/∂s_t‖ of configurations that share `shape_key`, shape (runs, B, T+1): the
    forward pass and the product chain (which carries the loss gradient along), all runs
    together, without ‖J_t‖ or the report's other numbers — what the PyTorch baseline in
    `benchmarks/` computes. Unlike `analyze`, values after a non-finite state are not
    blanked."""
    with jax.enable_x64(cfgs[0].x64):
        g = _group(cfgs)
        fwd, _ = _compile_forward(g)
        states = fwd(g.params, g.s0, g.xs)[0]
        prop = propagate(g.cell, g.params, states, g.xs, g.g_T, norm=cfgs[0].norm, local=False)
    return prop.jacobian_norm[: len(cfgs)]


def _compile_forward(g: _Group):
    """The group's forward program: `(executable, seconds)`."""
    return compiled(forward, (g.cell,), g.params, g.s0, g.xs)


def _analyze_group(cfgs: list[Config], progress, inputs) -> list[dict]:
    cfg, g = cfgs[0], _group(cfgs, inputs)
    cell, params, xs = g.cell, g.params, g.xs
    fwd, compile_s = _compile_forward(g)
    t1 = time.perf_counter()
    states, aux, nonfinite = fwd(params, g.s0, xs)
    prop = propagate(cell, params, states, xs, g.g_T, norm=cfg.norm, progress=progress)
    lyap = _lyapunov(cfg, cell, params, states, xs)
    depth = _depth(cfg, cell, params, states, xs)
    # Only the non-finite flags and the aux values leave the device; not the states.
    nonfinite = np.asarray(nonfinite)
    aux_np = {k: np.asarray(v) for k, v in aux.items()}
    run_s = (time.perf_counter() - t1 - prop.compile_s) / g.padded
    timings = {"compile_s": compile_s + prop.compile_s, "run_s": run_s}
    return [records.run_record(c, g.params_np[r], xs=g.xs_np[r], nonfinite=nonfinite[r],
                              aux={k: v[r] for k, v in aux_np.items()}, prop=prop.run(r),
                              lyapunov=None if lyap is None else lyap[r],
                              depth=None if depth is None else depth[r], timings=timings)
            for r, c in enumerate(cfgs)]


def _depth(cfg: Config, cell, params, states, xs):
    """(R, B, L): mean over sampled steps of log10 ‖∂h^top_t/∂h^k_t‖, for stacks only."""
    if cfg.layers == 1:
        return None

    idx = sampled_steps(cfg.steps)
    out = depth_norms(cell.step, cfg.layers, cfg.hidden, cfg.layer_state_size, params,
                      states[:, :, idx], xs[:, :, idx])
    return np.asarray(out).mean(axis=2)


def _lyapunov(cfg: Config, cell, params, states, xs):
    if not cfg.lyapunov:
        return None

    def one(p, st, x):
        return lyapunov_exponents(cell, cfg.lyapunov, p, st, x)

    return np.asarray(over_runs_and_batch(one, 2)(params, states, xs))
