"""summary.csv: one row per run (a sweep's cell), every config field and summary number as a
column, ready for `pandas.read_csv`."""

from __future__ import annotations

import csv
import io

from .text import first, sigma_max


def _value(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def render_summary_csv(report: dict) -> str:
    """The CSV text; columns `label`, `cell`, the config fields (in order of first
    appearance), the summary fields, then `log10_P0`, `spectral_radius`, `sigma_max`."""
    runs = report.get("runs") or []
    config_keys = list(dict.fromkeys(k for r in runs for k in (r.get("config") or {})))
    summary_keys = list(dict.fromkeys(k for r in runs for k in (r.get("summary") or {})))
    header = ["label", "cell", *config_keys, *summary_keys, "log10_P0", "spectral_radius",
              "sigma_max"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in runs:
        config, summary = r.get("config") or {}, r.get("summary") or {}
        w.writerow([_value(r.get("label")), _value((r.get("cell") or {}).get("id")),
                    *(_value(config.get(k)) for k in config_keys),
                    *(_value(summary.get(k)) for k in summary_keys),
                    _value(first((r.get("series") or {}).get("log10_jacobian_norm"))),
                    _value((r.get("spectrum") or {}).get("spectral_radius")),
                    _value(sigma_max(r))])
    return buf.getvalue()
