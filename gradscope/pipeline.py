"""The one pipeline: Config → params and inputs → unroll → dynamics → one run of the report.

`analyze(cfg)` returns the run dict of SPEC.md (`label`, `config`, `state_size`, `series`,
`spectrum`, `summary`, `lyapunov`, `timings`). Rendering and writing live elsewhere.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import cache, partial

import numpy as np

from .config import Config
from .host_arrays import check_memory, load_params, make_h0, make_inputs, step_inputs

STEP_FIELDS = ("arch", "activation", "gru_variant", "layers", "hidden", "input_size",
               "residual", "bidirectional")  # a dropout mask shows in the input width


@cache
def _step_for(key: tuple):
    # One step function object per cell shape, so jit caches hit across runs.
    from .cells import make_step

    step = make_step(Config(**dict(key)))
    step.cache_key = repr(key)  # names it across processes (dynamics/compiled.py)
    return step


def step_for(cfg: Config):
    return _step_for(tuple((f, getattr(cfg, f)) for f in STEP_FIELDS))


def _loss_grad_at_T(cfg: Config, B: int, S: int) -> np.ndarray:
    # L = Σ s_T per sequence; `batch_mean` is L = mean_n Σ s_T[n] (DLFS2's sqrt(sum dh²)/N).
    g = np.ones((B, S))
    return g / B if cfg.loss == "batch_mean" else g


@cache
def _forward_jit():
    import jax

    return jax.jit(_forward, static_argnums=0)


def _forward(step, params, s0, xs):
    """States, aux and, per step, whether the state is non-finite (R, B, T+1)."""
    import jax.numpy as jnp

    from .dynamics.propagate import over_runs_and_batch
    from .dynamics.unroll import unroll

    states, aux = over_runs_and_batch(partial(unroll, step), 2)(params, s0, xs)
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
    """Run one configuration through the pipeline; returns one report run (SPEC schema)."""
    return analyze_group([cfg], progress=progress)[0]


def analyze_group(cfgs: list[Config], *, progress=None, on_spectra=None,
                  then: list[Config] | None = None) -> list[dict]:
    """Runs that share `shape_key` (same sizes and programs; other weights, inputs or seeds)
    in one jitted, vmapped pass. Returns one report run per config, in order. `on_spectra`:
    called with the runs' W_hh spectra (`schema.spectra`, in order) as soon as they are known,
    on another thread, while the products run. `then`: the group the caller analyses next;
    its arrays are made and its programs traced and compiled on a host thread meanwhile."""
    import jax

    with jax.enable_x64(cfgs[0].x64):
        return _analyze_group(cfgs, progress, on_spectra, then)


def jax_tree(tree, dtype):
    """numpy arrays (or a dict of them) as jax arrays of `dtype`."""
    import jax

    return jax.tree.map(lambda a: jax.device_put(np.asarray(a, np.dtype(dtype))), tree)


def _stack(arrays: list[np.ndarray], dtype) -> np.ndarray:
    # converted on the host: `jnp.asarray(a, dtype)` would convert on the device, an op
    # that is compiled anew in each process (≈30 ms each)
    return np.stack(arrays).astype(np.dtype(dtype), copy=False)


def run_sharding(runs: int):
    """`(sharding, padded runs)`: with several local devices, the run axis is split over
    them (padded to a multiple of their number); with one, `(None, runs)`."""
    import jax
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

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
    step: object
    padded: int
    compile_s: float = 0.0  # spent ahead, on a host thread (`_prepare_next`)


# The group prepared ahead (`analyze_group(then=…)`): (its configs, a future of its _Group),
# under its lock (threads that analyse at once only drop each other's lookahead)
_NEXT: list = []
_NEXT_LOCK = threading.Lock()


@cache
def _lookahead():
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(1, thread_name_prefix="gradscope-next")


def _prepare_next(cfgs: list[Config]) -> None:
    """Start making the arrays of the group `cfgs` and compiling its programs on a host
    thread: its tracing (Python) runs while XLA compiles the current group's programs, which
    leaves Python free (`compare` of rnn, lstm and gru at three scales, cold, without
    figures: median 8.3 → 7.7 s). One group ahead at most; not in a multi-host run, whose
    processes place their arrays in step."""
    import jax

    if jax.process_count() > 1:
        return

    def prepare() -> _Group:
        with jax.enable_x64(cfgs[0].x64):
            g = _group(cfgs)
            t0 = time.perf_counter()
            _compile_forward(g)
            _compile_chunks(g, cfgs[0])
        g.compile_s = time.perf_counter() - t0
        return g

    with _NEXT_LOCK:
        _NEXT[:] = [(tuple(cfgs), _lookahead().submit(prepare))]


def _take_prepared(cfgs: list[Config]) -> _Group:
    """The group prepared ahead for `cfgs`, else made here. Where preparing it failed it is
    made again here, so that its error is raised in its turn, and a memory check that failed
    only while the previous group held its arrays can pass. A group prepared for other
    configs is dropped."""
    with _NEXT_LOCK:
        mine = _NEXT.pop()[1] if _NEXT and _NEXT[0][0] == tuple(cfgs) else None
        _NEXT.clear()
    if mine is not None:
        try:
            return mine.result()
        except Exception:  # noqa: BLE001 - made again below, which raises its own error
            pass
    return _group(cfgs)


def _group(cfgs: list[Config]) -> _Group:
    import jax
    import jax.numpy as jnp

    if len({shape_key(c) for c in cfgs}) != 1:
        raise ValueError("a group's configs must differ only in values, not shapes")
    from .cells import direction_params

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
    raw = [make_inputs(c) for c in cfgs_p]

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
    return _Group(params_np, xs_np, params, xs, s0, g_T,
                  step_for(cfg), padded)


def jacobian_norms(cfgs: list[Config]) -> np.ndarray:
    """log10 ‖∂s_T/∂s_t‖ of configurations that share `shape_key`, shape (runs, B, T+1): the
    forward pass and the product chain (which carries the loss gradient along), all runs
    together, without ‖J_t‖ or the report's other numbers — what the PyTorch baseline in
    `benchmarks/` computes. Unlike `analyze`, values after a non-finite state are not
    blanked."""
    import jax

    from .dynamics.propagate import propagate

    with jax.enable_x64(cfgs[0].x64):
        g = _group(cfgs)
        fwd, _ = _compile_forward(g)
        states = fwd(g.params, g.s0, g.xs)[0]
        prop = propagate(g.step, g.params, states, g.xs, g.g_T, norm=cfgs[0].norm, local=False)
    return prop.jacobian_norm[: len(cfgs)]


def _compile_forward(g: _Group):
    """The group's forward program: `(executable, seconds)`."""
    from .dynamics.compiled import compiled, is_quick

    R, B, T, _ = g.xs.shape
    return compiled(_forward_jit(), (g.step,), g.params, g.s0, g.xs,
                    quick=is_quick(R, B, T, g.s0.shape[-1]))


def _compile_chunks(g: _Group, cfg: Config, chain: bool = True, local: bool = True) -> float:
    """The group's chunk programs (the chain's, the local norms'), compiled for `propagate`
    before the states exist (any thread: it sets the group's x64 itself); returns the
    seconds it took."""
    import jax

    from .dynamics.propagate import precompile

    t0 = time.perf_counter()
    R, B, T, _ = g.xs.shape
    with jax.enable_x64(cfg.x64):
        precompile(g.step, g.params, (R, B, T + 1, g.s0.shape[-1]), g.xs.dtype, g.xs, g.g_T,
                   norm=cfg.norm, chain=chain, local=local)
    return time.perf_counter() - t0


def _analyze_group(cfgs: list[Config], progress, on_spectra=None, then=None) -> list[dict]:
    from concurrent.futures import ThreadPoolExecutor

    from .dynamics.compiled import is_compiled, is_quick
    from .dynamics.propagate import propagate
    from .io import schema

    cfg, g = cfgs[0], _take_prepared(cfgs)
    if then is not None:
        _prepare_next(then)
    step, params, xs = g.step, g.params, g.xs
    R, B, T, _ = xs.shape
    quick = is_quick(R, B, T, g.s0.shape[-1])
    # Host threads: the chunk programs' tracing while the forward pass compiles (XLA leaves
    # Python free; not where this process has compiled them already, which costs ≈1 ms at
    # H=64), and W_hh's spectra (numpy's SVD and eigenvalues: 0.25 s for an LSTM at H=256,
    # 6 s at H=1024) while JAX runs the products, instead of after them
    ahead = not is_compiled(_forward_jit(), (step,), params, g.s0, xs, quick=quick)
    pool = ThreadPoolExecutor(3, thread_name_prefix="gradscope-host")
    try:  # the chain's and the local norms' programs each on a thread of its own
        chunks = [pool.submit(_compile_chunks, g, cfg, *which)
                  for which in ((True, False), (False, True))] if ahead else []
        spectra = [pool.submit(schema.spectra, c, g.params_np[r]) for r, c in enumerate(cfgs)]
        if on_spectra is not None:
            pool.submit(lambda: on_spectra([s.result() for s in spectra]))
        fwd, compile_s = _compile_forward(g)
        compile_s += g.compile_s + max((c.result() for c in chunks), default=0.0)
        t1 = time.perf_counter()
        states, aux, nonfinite = fwd(params, g.s0, xs)
        prop = propagate(step, params, states, xs, g.g_T, norm=cfg.norm, progress=progress)
        lyap = _lyapunov(cfg, step, params, states, xs)
        depth = _depth(cfg, step, params, states, xs)
        # Only the non-finite flags and the aux values leave the device; not the states.
        nonfinite = np.asarray(nonfinite)
        aux_np = {k: np.asarray(v) for k, v in aux.items()}
        run_s = (time.perf_counter() - t1 - prop.compile_s) / g.padded
        timings = {"compile_s": compile_s + prop.compile_s, "run_s": run_s}
        return [schema.run_record(c, g.params_np[r], xs=g.xs_np[r], nonfinite=nonfinite[r],
                                  aux={k: v[r] for k, v in aux_np.items()}, prop=prop.run(r),
                                  lyapunov=None if lyap is None else lyap[r],
                                  depth=None if depth is None else depth[r], timings=timings,
                                  spectrum=spectra[r].result())
                for r, c in enumerate(cfgs)]
    finally:  # an interrupt or a failure does not wait for the spectra
        pool.shutdown(wait=False, cancel_futures=True)


def _depth(cfg: Config, step, params, states, xs):
    """(R, B, L): mean over sampled steps of log10 ‖∂h^top_t/∂h^k_t‖, for stacks only."""
    if cfg.layers == 1:
        return None
    from .dynamics.depth import depth_norms, sampled_steps

    idx = sampled_steps(cfg.steps)
    out = depth_norms(step, cfg.layers, cfg.hidden, cfg.layer_state_size, params,
                      states[:, :, idx], xs[:, :, idx])
    return np.asarray(out).mean(axis=2)


def _lyapunov(cfg: Config, step, params, states, xs):
    if not cfg.lyapunov:
        return None
    from .dynamics.lyapunov import lyapunov_exponents
    from .dynamics.propagate import over_runs_and_batch

    def one(p, st, x):
        return lyapunov_exponents(step, cfg.lyapunov, p, st, x)

    return np.asarray(over_runs_and_batch(one, 2)(params, states, xs))
