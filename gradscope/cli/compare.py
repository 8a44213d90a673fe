"""`gradscope compare`: architectures × inits × scales on the same inputs and seed."""

from __future__ import annotations

import itertools
from typing import Annotated

import typer

from . import options as o

ArchList = Annotated[str | None, typer.Option(
    "--arch", "-a", help="comma list of rnn, lstm, gru (default: rnn,lstm,gru)",
    rich_help_panel=o.MODEL)]
InitList = Annotated[str | None, typer.Option(
    "--init", help="comma list of inits (default: gaussian)", rich_help_panel=o.MODEL)]
ScaleList = Annotated[str | None, typer.Option(
    "--scale", "-s", help="comma list of W_hh gains (default: 0.5,1,1.5)", rich_help_panel=o.MODEL)]


def compare(
    *,
    arch: ArchList = None,
    init: InitList = None,
    scale: ScaleList = None,
    hidden: o.Hidden = None,
    input_size: o.InputSize = None,
    steps: o.Steps = None,
    layers: o.Layers = None,
    residual: o.Residual = False,
    activation: o.Activation = None,
    forget_bias: o.ForgetBias = None,
    gru_variant: o.GruVariant = None,
    inputs: o.Inputs = None,
    h0: o.H0 = None,
    batch: o.Batch = None,
    seed: o.Seed = None,
    x64: o.X64 = False,
    norm: o.Norm = None,
    out: o.Out = None,
    format: o.Format = "table",
    no_plots: o.NoPlots = False,
    force: o.Force = False,
) -> None:
    """Compare architectures, inits and scales side by side on the same inputs.

    One run per combination (the cartesian product of the comma lists); runs that differ
    only in their weights are computed in one vmapped call. One table ranked by memory
    horizon, overlaid plots and one report.
    """
    from ..config import resolve
    from ._common import check_format, run_configs, split_list

    check_format(format)
    archs = split_list("--arch", arch) or ["rnn", "lstm", "gru"]
    inits = split_list("--init", init) or [None]
    scales = split_list("--scale", scale, float) or [0.5, 1.0, 1.5]
    shared = dict(hidden=hidden, input_size=input_size, steps=steps, layers=layers,
                    residual=residual or None,
                  forget_bias=forget_bias, gru_variant=gru_variant, inputs=inputs, h0=h0,
                  batch=batch, seed=seed, x64=x64 or None, norm=norm)
    configs = []
    for a, i, s in itertools.product(archs, inits, scales):
        act = activation if a == "rnn" else None
        configs.append(resolve({**shared, "arch": a, "init": i, "scale": s, "activation": act}))
    run_configs("compare", configs, out=out, fmt=format, no_plots=no_plots, force=force)
