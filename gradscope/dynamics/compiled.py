"""Ahead-of-time compiled programs, kept per process: the first call of a shape compiles
(and reports how long it took), later calls of the same shapes reuse the executable.

Across processes, JAX's persistent cache skips XLA's compilation but not the tracing and
lowering of the Python functions, which costs about a second per analysis. So the lowered
programs are also kept, serialised with `jax.export`, beside that cache: keyed on the
static arguments (a step function names itself by `cache_key`), the shapes and dtypes of
the arguments, the versions of jax and jaxlib and a hash of gradscope's own source. A
program whose static arguments have no stable name, or whose arguments are split over
devices, is not kept; any failure to read or write one falls back to tracing.

The folder is capped: after a new program is written, when its files add up to more than
`GRADSCOPE_CACHE_MAX_MB` (default 1024), the oldest are removed until 80 % of that is left.
A program read back counts as new (its file is touched); an evicted one is compiled again.

A program whose whole run is short (`quick`) is compiled with XLA:CPU's loop emitters instead
of its newer fusion emitters: the default analysis's chunk then compiles in 1.0 s instead of
1.6 s and runs 4–9 % slower (7.3 → 7.8 ms a chunk), which only pays where the compile is the
larger cost, i.e. for small sizes. Elsewhere, or where XLA does not know the option, the
program is compiled as usual.
"""

from __future__ import annotations

import hashlib
import os
import time
from functools import cache
from pathlib import Path

import jax

_CACHE: dict = {}
DEFAULT_MAX_MB = 1024
# XLA:CPU compile options for `quick` programs; emptied when this XLA does not know them
QUICK_OPTIONS = {"xla_cpu_use_fusion_emitters": False}
# the largest analysis counted as short, in runs × sequences × steps × S³ (the products'
# dense work): about 0.1 s of products on one laptop core, against ≥ 0.5 s of compile saved
QUICK_WORK = 2**31


def is_quick(runs: int, batch: int, steps: int, state: int) -> bool:
    """Is an analysis of these sizes short enough to be compiled `quick`?"""
    return runs * batch * steps * state**3 <= QUICK_WORK


def _signature(args) -> tuple:
    leaves, tree = jax.tree.flatten(args)
    return tree, tuple((getattr(a, "shape", None), str(getattr(a, "dtype", type(a))),
                        str(getattr(a, "sharding", None))) for a in leaves)


def compiled(jitted, static: tuple, *args, quick: bool = False):
    """`jitted.lower(*static, *args).compile()`, cached on the static arguments and the
    shapes and dtypes of `args`. Returns `(executable, compile_seconds)` (0 when cached).
    `quick`: the program's run is short next to its compile (see the module docstring)."""
    options = _options(quick)
    key = _key(jitted, static, args, options)
    if key in _CACHE:
        return _CACHE[key], 0.0
    t0 = time.perf_counter()
    exe = _from_disk(jitted, static, args, options)
    if exe is None:
        exe = _compile(jitted.lower(*static, *args), options)
    _CACHE[key] = exe
    return exe, time.perf_counter() - t0


def is_compiled(jitted, static: tuple, *args, quick: bool = False) -> bool:
    """Has this process compiled `compiled(jitted, static, *args, quick=quick)` already?"""
    return _key(jitted, static, args, _options(quick)) in _CACHE


def _key(jitted, static, args, options) -> tuple:
    return jitted, static, jax.config.jax_enable_x64, _signature(args), bool(options)


def _options(quick: bool) -> dict:
    return QUICK_OPTIONS if quick and QUICK_OPTIONS and jax.default_backend() == "cpu" else {}


def _compile(lowered, options: dict):
    """`lowered.compile()` with XLA `options`; without them where XLA rejects them as unknown
    (a jaxlib that renamed or dropped them), which is remembered for the process."""
    if options:
        try:
            return lowered.compile(compiler_options=options)
        except Exception as e:  # noqa: BLE001 - XLA's own error type varies by version
            if "compile option" not in str(e):
                raise
            QUICK_OPTIONS.clear()
    return lowered.compile()


@cache
def _source_hash() -> str:
    h = hashlib.sha256(f"{jax.__version__} {jax.lib.__version__}".encode())
    root = Path(__file__).resolve().parent.parent
    for path in sorted(root.rglob("*.py")):
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _folder() -> Path | None:
    folder = jax.config.jax_compilation_cache_dir
    return None if not folder or os.environ.get("GRADSCOPE_NO_CACHE") else Path(folder)


def _disk_key(jitted, static, args) -> str | None:
    names = []
    for s in static:
        if callable(s):
            name = getattr(s, "cache_key", None)
            if name is None:
                return None
            names.append(name)
        else:
            names.append(repr(s))
    leaves = jax.tree.leaves(args)
    if any(len(getattr(getattr(a, "sharding", None), "device_set", ())) > 1 for a in leaves):
        return None
    text = repr((getattr(jitted, "__qualname__", repr(jitted)), names, _signature(args),
                 jax.config.jax_enable_x64, jax.default_backend(),
                 jax.config.jax_default_matmul_precision, _source_hash()))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _from_disk(jitted, static, args, options: dict):
    """The executable through a serialised export (written first when missing), or None."""
    folder, key = _folder(), None
    try:
        if folder is None or (key := _disk_key(jitted, static, args)) is None:
            return None
        path = folder / f"gradscope-{key}.export"
        if path.is_file():
            exported = jax.export.deserialize(bytearray(path.read_bytes()))
            os.utime(path)  # recently used: evicted last
            return _compile(jax.jit(exported.call).lower(*args), options)
        exported = jax.export.export(jitted)(*static, *args)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(exported.serialize())
        os.replace(tmp, path)
        exe = _compile(jax.jit(exported.call).lower(*args), options)  # XLA's entry is written here
        prune(folder, max_bytes())
        return exe
    except Exception:  # noqa: BLE001 - a cache must never break a run
        return None


def max_bytes() -> int:
    """The cache folder's cap, `GRADSCOPE_CACHE_MAX_MB` (a bad value: the default)."""
    try:
        mb = float(os.environ.get("GRADSCOPE_CACHE_MAX_MB", DEFAULT_MAX_MB))
    except ValueError:
        mb = DEFAULT_MAX_MB
    return int(max(mb, 0) * 2**20)


def _cache_file(name: str) -> bool:
    """Written by gradscope (`gradscope-…`) or by JAX's persistent cache (`…-cache`, and
    `…-atime` where JAX evicts itself): the only files `prune` touches, so a cache folder
    chosen among other files never loses those."""
    return name.startswith("gradscope-") or name.endswith(("-cache", "-atime"))


def prune(folder: Path, limit: int) -> int:
    """When the cache files in `folder` add up to more than `limit` bytes, remove the least
    recently written ones until at most 80 % of it is left; returns the bytes removed. Files
    that vanish meanwhile (another process pruning) are skipped."""
    files, total = [], 0
    with os.scandir(folder) as entries:
        for e in entries:
            try:
                if _cache_file(e.name) and e.is_file(follow_symlinks=False):
                    st = e.stat(follow_symlinks=False)
                    files.append((st.st_mtime, st.st_size, e.path))
                    total += st.st_size
            except OSError:
                continue
    if total <= limit:
        return 0
    removed = 0
    for _, size, path in sorted(files):
        if total - removed <= 0.8 * limit:
            break
        try:
            os.unlink(path)
            removed += size
        except OSError:
            continue
    return removed
