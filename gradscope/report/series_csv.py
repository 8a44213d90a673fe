"""series.csv: one row per (run, t), one column per series (docs/report-schema.md)."""

from __future__ import annotations

import csv
import io

# Series with T values belong to the steps t = 1..T (index t − 1); the others to t = 0..T.
PER_STEP = frozenset({"log10_local_norm", "saturation_fraction"})

# The order of docs/report-schema.md; series of other names follow in order of first appearance.
ORDER = ("log10_jacobian_norm", "log10_local_norm", "log10_loss_grad_norm", "log10_seed_bound",
         "log10_activation_deriv_product", "saturation_fraction", "log10_cell_path_norm")


def _present(runs: list[dict], field: str) -> list[str]:
    """Names of the series that are not None in at least one run, in that order."""
    seen = dict.fromkeys(k for r in runs for k, v in (r.get(field) or {}).items()
                         if v is not None)
    rank = {k: i for i, k in enumerate(ORDER)}
    first_seen = {k: i for i, k in enumerate(seen)}
    return sorted(seen, key=lambda k: (rank.get(k, len(rank)), first_seen[k]))


def _cell(values, key: str, t: int) -> str:
    if values is None:
        return ""
    i = t - 1 if key in PER_STEP else t
    if not 0 <= i < len(values) or values[i] is None:
        return ""
    return repr(float(values[i]))


def _steps(run: dict) -> int:
    """T of a run: from the lengths of its series, else from its config."""
    lengths = [len(v) + (1 if k in PER_STEP else 0) - 1
               for k, v in (run.get("series") or {}).items() if v is not None]
    if lengths:
        return max(lengths)
    return int((run.get("config") or {}).get("steps") or 0)


def render_spectrum_csv(report: dict) -> str:
    """A `spectrum` report's values: one row per run, layer, block and index k (descending
    singular values; eigenvalues by decreasing modulus, empty for the stacked matrix of a
    gated cell, whose eigenvalues are its blocks')."""
    from .text import spectrum_layers

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["run", "label", "layer", "block", "k", "singular_value", "eigenvalue_re",
                     "eigenvalue_im"])
    for n, run in enumerate(report.get("runs") or []):
        for layer, sp in enumerate(spectrum_layers(run)):
            blocks = sp.get("blocks") or {}
            for name, b in ({"W_hh": sp} | blocks).items():
                sv = b.get("singular_values") or []
                ev = [] if name == "W_hh" and blocks else b.get("eigenvalues") or []
                for k in range(max(len(sv), len(ev))):
                    re_im = ev[k] if k < len(ev) else ("", "")
                    writer.writerow([n, run.get("label", ""), layer, name, k,
                                     repr(float(sv[k])) if k < len(sv) else "", *re_im])
    return buf.getvalue()


def render_series_csv(report: dict) -> str:
    """The CSV text: columns run, label, t, one per series, then `<name>_std` ones.
    Missing values (None, or t = 0 of a per-step series) are empty cells; floats are written
    with repr precision, so they read back exactly. A `spectrum` report has no series: its
    singular values and eigenvalues are written instead (`render_spectrum_csv`)."""
    if report.get("command") == "spectrum":
        return render_spectrum_csv(report)
    runs = report.get("runs") or []
    keys, std_keys = _present(runs, "series"), _present(runs, "series_std")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["run", "label", "t", *keys, *[f"{k}_std" for k in std_keys]])
    for n, run in enumerate(runs):
        series, std = run.get("series") or {}, run.get("series_std") or {}
        for t in range(_steps(run) + 1):
            writer.writerow([n, run.get("label", ""), t,
                             *[_cell(series.get(k), k, t) for k in keys],
                             *[_cell(std.get(k), k, t) for k in std_keys]])
    return buf.getvalue()
