"""Ahead-of-time compiled programs, so that a report can say how long compiling took apart
from running (`timings.compile_s`): the first call of a shape lowers and compiles, later
calls of the same shapes reuse the executable, as `jax.jit` itself would. Across processes,
JAX's persistent compilation cache (`runtime.py`) skips XLA's part of the work."""

from __future__ import annotations

import time

import jax


def _signature(args) -> tuple:
    leaves, tree = jax.tree.flatten(args)
    return tree, tuple((getattr(a, "shape", None), str(getattr(a, "dtype", type(a))),
                        str(getattr(a, "sharding", None))) for a in leaves)


def compiled(jitted, static: tuple, *args):
    """`jitted.lower(*static, *args).compile()` for these static arguments and these shapes
    and dtypes of `args`. Returns `(executable, compile_seconds)`; the seconds are 0 when
    this process had compiled it already."""
    key = (jitted, static, jax.config.jax_enable_x64, jax.config.jax_default_matmul_precision,
           _signature(args))
    exe = _EXECUTABLES.get(key)
    if exe is not None:
        return exe, 0.0
    t0 = time.perf_counter()
    exe = jitted.lower(*static, *args).compile()
    if len(_EXECUTABLES) >= MAX_KEPT:
        _EXECUTABLES.pop(next(iter(_EXECUTABLES)))  # the oldest
    _EXECUTABLES[key] = exe
    return exe, time.perf_counter() - t0


MAX_KEPT = 256
# a memo, as jax.jit keeps one: its entries are pure functions of their keys
_EXECUTABLES: dict = {}
