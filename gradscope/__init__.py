"""gradscope: see why gradients vanish or explode in recurrent networks.

Public API (imported lazily, so `import gradscope` stays cheap):

- `Config`, `resolve` — one analysis configuration and its resolution from options.
- `analyze(cfg)` — one run of the report (SPEC.md schema) for a `Config`.
- `load_weights(path)` — a PyTorch-named state_dict from .npz / .safetensors / .pt.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "Config": ("gradscope.config", "Config"),
    "resolve": ("gradscope.config", "resolve"),
    "analyze": ("gradscope.pipeline", "analyze"),
    "load_weights": ("gradscope.io.weights", "read_state_dict"),
    "GradscopeError": ("gradscope.errors", "GradscopeError"),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'gradscope' has no attribute {name!r}")
