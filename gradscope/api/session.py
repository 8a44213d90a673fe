"""What every API call that computes wraps its work in: the device and the float32 matmul
precision, set for that work only, so a notebook's own JAX settings are left alone."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import jax

from ..errors import UsageError
from ..runtime import matmul_precision

Progress = Callable[[int, int], None]  # (done, total)
PLATFORMS = ("cpu", "gpu")


@contextmanager
def session(platform: str | None = None, tf32: bool = False) -> Iterator[None]:
    """Full-precision float32 products (TF32 with `tf32`), on `platform`'s first device
    (`"cpu"` or `"gpu"`; None: JAX's default)."""

    with ExitStack() as stack:
        stack.enter_context(matmul_precision(tf32))
        if platform is not None:
            stack.enter_context(jax.default_device(device(platform)))
        yield


def device(platform: str):
    """The first device of `platform`; a usage error where there is none."""

    if platform not in PLATFORMS:
        raise UsageError(f"unknown platform {platform!r}", "use cpu or gpu")
    try:
        return jax.devices(platform)[0]
    except RuntimeError as e:
        raise UsageError(f"platform {platform}: no such device here "
                         f"({str(e).splitlines()[0][:120]})",
                         "install JAX with CUDA (pip install 'gradscope[cuda]') or use "
                         "platform cpu") from e
