"""Settings every JAX-using command applies to its process before any computation: the
platform, full-precision float32 products and the persistent compilation cache. The Python
API applies the precision around its own work only (`matmul_precision`)."""

from __future__ import annotations

import os
from pathlib import Path

import jax

from .errors import UsageError

PLATFORMS = ("cpu", "gpu")


def configure_jax(platform: str | None = None, tf32: bool = False) -> None:
    """Settings every run shares, before any computation.

    - the persistent compilation cache (per user; GRADSCOPE_NO_CACHE=1 disables);
    - float32 matrix products at full precision, unless `tf32` (on GPUs JAX would otherwise
      use TF32, whose 10-bit mantissa compounds over a thousand products);
    - `platform` (`cpu` or `gpu`), else whatever JAX finds.
    """

    jax.config.update("jax_default_matmul_precision", precision_name(tf32))
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


def precision_name(tf32: bool) -> str:
    """JAX's name of the float32 matmul precision: full unless `tf32`."""
    return "tensorfloat32" if tf32 else "highest"


def matmul_precision(tf32: bool = False):
    """A context in which JAX multiplies float32 matrices at full precision (or in TF32):
    what the API wraps its computations in, leaving the caller's own JAX settings alone."""

    return jax.default_matmul_precision(precision_name(tf32))


def _cache() -> None:

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
