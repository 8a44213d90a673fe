"""`gradscope spectrum`: singular values and eigenvalues of W_hh, per gate block."""

from __future__ import annotations

from . import options as o


def condition(sigma_max: float, arch: str) -> str:
    """The seeds' condition on σ_max(W_hh), in words."""
    if arch == "rnn":
        if sigma_max < 1:
            return "σ_max < 1: gradients must vanish (‖J_t‖ ≤ max|φ'|·σ_max < 1 for tanh)"
        return "σ_max ≥ 1: gradients may explode (saturated units can still make them vanish)"
    side = "above" if sigma_max > 1 else "below"
    return f"σ_max {side} 1; in a gated cell the gates scale each step, so it is only a guide"


def _table(run: dict):
    """One row per layer and gate block; the seeds' condition per layer as the caption."""
    from rich.table import Table

    arch = run["config"]["arch"]
    layers = run["spectrum"].get("layers") or [run["spectrum"]]
    notes = [f"layer {k}: {condition(sp['singular_values'][0], arch)}"
             for k, sp in enumerate(layers)]
    table = Table(title=f"W_hh of {run['label']}", title_justify="left",
                  caption="\n".join(notes), caption_justify="left")
    for col in ("layer", "block", "σ_max", "σ_min", "spectral radius"):
        table.add_column(col, justify="left" if col in ("layer", "block") else "right")
    for k, sp in enumerate(layers):
        for name, b in ({"W_hh": sp} | (sp.get("blocks") or {})).items():
            sv = b["singular_values"]
            table.add_row(str(k), name, f"{sv[0]:.4f}", f"{sv[-1]:.4f}",
                          f"{b['spectral_radius']:.4f}")
    return table


def _tables(runs: list[dict]):
    from rich.console import Group

    return Group(*(_table(r) for r in runs))


def spectrum(
    *,
    arch: o.Arch = None,
    hidden: o.Hidden = None,
    input_size: o.InputSize = None,
    layers: o.Layers = None,
    init: o.Init = None,
    scale: o.Scale = None,
    forget_bias: o.ForgetBias = None,
    gru_variant: o.GruVariant = None,
    seed: o.Seed = None,
    weights: o.Weights = None,
    bidirectional: o.Bidirectional = False,
    out: o.Out = None,
    format: o.Format = "table",
    no_plots: o.NoPlots = False,
    force: o.Force = False,
) -> None:
    """Singular values and eigenvalues of W_hh (per gate block), from an init or --weights.

    States the seeds' condition: σ_max(W_hh) below 1 makes a tanh RNN's gradients vanish.
    """
    from ..api import spectrum as run
    from ._common import check_format, finish

    check_format(format)
    from ..io.store import check_out_dir

    check_out_dir(out, force=force)
    report = run(arch=arch, hidden=hidden, input_size=input_size, layers=layers, init=init,
                 scale=scale, forget_bias=forget_bias, gru_variant=gru_variant, seed=seed,
                 weights=weights, bidirectional=bidirectional or None)
    finish(report, out=out, fmt=format, no_plots=no_plots, force=force,
           table=lambda r: _tables(r["runs"]))
