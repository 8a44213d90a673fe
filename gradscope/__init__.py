"""gradscope: see why gradients vanish or explode in recurrent networks.

```python
import gradscope

r = gradscope.analyze(arch="lstm", hidden=128, steps=500, forget_bias=1)
r = gradscope.compare(arch=["rnn", "lstm", "gru"], scale=[0.5, 1, 1.5])
r = gradscope.analyze_step(step, params, xs, s0)   # any JAX step(params, s, x) -> s_next
r.runs[0].summary; r.figure("jacobian_norm"); r.to_pandas(); r.write("runs/a")
```

Every command of the CLI is a function here with the CLI's options in snake_case, and
returns a `Report`. Importing gradscope is cheap: JAX is imported on the first call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # what IDEs and type checkers see; at run time the names load on first use
    from .api import analyze as analyze
    from .api import analyze_step as analyze_step
    from .api import compare as compare
    from .api import load as load
    from .api import merge as merge
    from .api import spectrum as spectrum
    from .api.cliff import cliff as cliff
    from .api.sweeping import sweep as sweep
    from .api.training import train as train
    from .config import Config as Config
    from .config import resolve as resolve
    from .errors import GradscopeError as GradscopeError
    from .errors import RunError as RunError
    from .errors import UsageError as UsageError
    from .io.weights import read_state_dict as load_weights  # noqa: F401
    from .result import Report as Report
    from .result import Run as Run

_LAZY = {
    "analyze": ("gradscope.api", "analyze"),
    "compare": ("gradscope.api", "compare"),
    "spectrum": ("gradscope.api", "spectrum"),
    "analyze_step": ("gradscope.api", "analyze_step"),
    "load": ("gradscope.api", "load"),
    "merge": ("gradscope.api", "merge"),
    "train": ("gradscope.api.training", "train"),
    "cliff": ("gradscope.api.cliff", "cliff"),
    "sweep": ("gradscope.api.sweeping", "sweep"),
    "Report": ("gradscope.result", "Report"),
    "Run": ("gradscope.result", "Run"),
    "Config": ("gradscope.config", "Config"),
    "resolve": ("gradscope.config", "resolve"),
    "load_weights": ("gradscope.io.weights", "read_state_dict"),
    "GradscopeError": ("gradscope.errors", "GradscopeError"),
    "UsageError": ("gradscope.errors", "UsageError"),
    "RunError": ("gradscope.errors", "RunError"),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value  # found directly from now on
        return value
    raise AttributeError(f"module 'gradscope' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
