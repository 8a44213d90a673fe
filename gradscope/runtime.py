"""Settings every JAX-using command applies to its process before any computation: the
platform, full-precision float32 products, the persistent compilation cache, and jaxlib's CPU
LAPACK kernels without all of scipy.linalg."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import UsageError

PLATFORMS = ("cpu", "gpu")


def configure_jax(platform: str | None = None, tf32: bool = False) -> None:
    """Settings every run shares, before any computation.

    - the persistent compilation cache (per user; GRADSCOPE_NO_CACHE=1 disables);
    - float32 matrix products at full precision, unless `tf32` (on GPUs JAX would otherwise
      use TF32, whose 10-bit mantissa compounds over a thousand products);
    - `platform` (`cpu` or `gpu`), else whatever JAX finds;
    - jaxlib's CPU LAPACK kernels, handed over without importing scipy.linalg (`_load_lapack`).
    """
    import jax

    jax.config.update("jax_default_matmul_precision", "tensorfloat32" if tf32 else "highest")
    if platform is not None:
        if platform not in PLATFORMS:
            raise UsageError(f"unknown --platform {platform!r}", "use cpu or gpu")
        if platform == "cpu":  # never initialise an accelerator
            jax.config.update("jax_platforms", "cpu")
        try:
            jax.devices(platform)  # with a GPU, JAX uses it by default
        except RuntimeError as e:
            raise UsageError(f"--platform {platform}: no such device here "
                             f"({str(e).splitlines()[0][:120]})",
                             "install JAX with CUDA (pip install 'gradscope[cuda]') or use "
                             "--platform cpu") from e
    _cache()
    _load_lapack()


def _load_lapack() -> None:
    """Hand jaxlib its CPU LAPACK kernels without importing all of scipy.linalg.

    jaxlib takes them from `scipy.linalg.cython_lapack` and `cython_blas` when it first
    compiles a program for the CPU, and importing those runs `scipy.linalg`'s `__init__`:
    0.13 s of a warm command's 1.3 s, for two extension modules that import in 10 ms. Here
    they are imported under a bare stand-in for the package, jaxlib initialises from them
    (once per process), and the stand-in and the two modules leave `sys.modules` again, so a
    later `import scipy.linalg` gets the real package. If any of that fails, jaxlib imports
    scipy.linalg itself as before.
    """
    import sys
    import types

    if "scipy.linalg" in sys.modules:
        return
    names = ("scipy.linalg", "scipy.linalg.cython_blas", "scipy.linalg.cython_lapack")
    try:
        import scipy
        from jax._src.lax.linalg import initialize_lapack

        stand_in = types.ModuleType("scipy.linalg")
        stand_in.__path__ = [os.path.join(p, "linalg") for p in scipy.__path__]
        sys.modules["scipy.linalg"] = stand_in
        initialize_lapack()
    except Exception:  # noqa: BLE001 - only a lost speed-up; jaxlib imports scipy itself
        pass
    finally:
        for name in names:
            sys.modules.pop(name, None)
        scipy = sys.modules.get("scipy")
        if scipy is not None and "linalg" in vars(scipy):
            del scipy.linalg  # the stand-in, bound on import


def _cache() -> None:
    import jax

    if os.environ.get("GRADSCOPE_NO_CACHE"):
        return
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    folder = os.environ.get("GRADSCOPE_CACHE_DIR") or str(Path(base) / "gradscope" / "jax")
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # a read-only home just means no cache
    jax.config.update("jax_compilation_cache_dir", folder)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
