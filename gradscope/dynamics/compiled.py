"""Ahead-of-time compiled programs, kept per process: the first call of a shape compiles
(and reports how long it took), later calls of the same shapes reuse the executable."""

from __future__ import annotations

import time

import jax

_CACHE: dict = {}


def _signature(args) -> tuple:
    leaves, tree = jax.tree.flatten(args)
    return tree, tuple((getattr(a, "shape", None), str(getattr(a, "dtype", type(a))),
                        str(getattr(a, "sharding", None))) for a in leaves)


def compiled(jitted, static: tuple, *args):
    """`jitted.lower(*static, *args).compile()`, cached on the static arguments and the
    shapes and dtypes of `args`. Returns `(executable, compile_seconds)` (0 when cached)."""
    key = (jitted, static, jax.config.jax_enable_x64, _signature(args))
    if key in _CACHE:
        return _CACHE[key], 0.0
    t0 = time.perf_counter()
    exe = jitted.lower(*static, *args).compile()
    _CACHE[key] = exe
    return exe, time.perf_counter() - t0
