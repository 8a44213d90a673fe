"""The report dict of docs/report-schema.md (`gradscope.report/1`): its top level, the device it ran on,
and JSON-safe values (NaN and ±inf become null). The runs are assembled in
`gradscope/records.py`."""

from __future__ import annotations

import datetime as _dt
import math
import platform
from typing import Any

import jax
import numpy as np

from .. import __version__
from ..constants import SCHEMA

SERIES_KEYS = (
    "log10_jacobian_norm",
    "log10_local_norm",
    "log10_loss_grad_norm",
    "log10_seed_bound",
    "log10_activation_deriv_product",
    "saturation_fraction",
    "log10_cell_path_norm",
)


def json_safe(obj: Any) -> Any:
    """Lists and plain floats all the way down; NaN/±inf → None."""
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "biu":
            return obj.tolist()  # Python ints and bools
        if obj.dtype.kind == "f":  # whole arrays at once (series of 10⁵ values and more)
            values = obj.astype(np.float64)
            finite = np.isfinite(values)
            return (values if finite.all() else np.where(finite, values.astype(object), None)
                    ).tolist()
        return json_safe(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def device_info() -> dict:

    dev = jax.devices()[0]
    return {"platform": dev.platform, "device": str(getattr(dev, "device_kind", dev)),
            "count": jax.local_device_count(), "jax": jax.__version__,
            "jaxlib": getattr(jax.lib, "__version__", None) or _version_of("jaxlib"),
            "numpy": np.__version__, "python": platform.python_version()}


def _version_of(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


def build_report(command: str, runs: list[dict], **extra: Any) -> dict:
    """The top-level report dict for `runs`."""
    created = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
    report = {
        "schema": SCHEMA,
        "version": __version__,
        "command": command,
        "created": created.replace("+00:00", "Z"),
        "runs": runs,
    }
    report.update(extra)
    return json_safe(report)
