"""`gradscope compare`: architectures × inits × scales on the same inputs and seed."""

from __future__ import annotations

from typing import Annotated

import typer

from . import options as o

ArchList = Annotated[str | None, typer.Option(
    "--arch", "-a", help="comma list of rnn, lstm, gru (default: rnn,lstm,gru)",
    rich_help_panel=o.MODEL)]
InitList = Annotated[str | None, typer.Option(
    "--init", help="comma list of inits (default: gaussian)", rich_help_panel=o.MODEL)]
ScaleList = Annotated[str | None, typer.Option(
    "--scale", "-s", help="comma list of W_hh gains (default: 0.5,1,1.5; 1 next to --weights)",
    rich_help_panel=o.MODEL)]
WeightsList = Annotated[str | None, typer.Option(
    "--weights", help="comma list of state_dict files (.npz, .safetensors, .pt): one run each; "
    "with --init, the same architecture at those inits runs beside them", rich_help_panel=o.MODEL)]
DropoutList = Annotated[str | None, typer.Option(
    "--dropout", help="comma list of dropout probabilities on the recurrent h (default: 0)",
    rich_help_panel=o.MODEL)]
DropoutModeList = Annotated[str | None, typer.Option(
    "--dropout-mode", help="comma list of variational, naive (default: variational)",
    rich_help_panel=o.MODEL)]


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
    bidirectional: o.Bidirectional = False,
    dropout: DropoutList = None,
    dropout_mode: DropoutModeList = None,
    weights: WeightsList = None,
    activation: o.Activation = None,
    forget_bias: o.ForgetBias = None,
    gru_variant: o.GruVariant = None,
    inputs: o.Inputs = None,
    h0: o.H0 = None,
    batch: o.Batch = None,
    seed: o.Seed = None,
    x64: o.X64 = False,
    norm: o.Norm = None,
    platform: o.Platform = None,
    tf32: o.Tf32 = False,
    out: o.Out = None,
    format: o.Format = "table",
    no_plots: o.NoPlots = False,
    force: o.Force = False,
) -> None:
    """Compare architectures, inits, scales and remedies side by side on the same inputs.

    One run per combination (the cartesian product of the comma lists); runs that differ
    only in their weights are computed in one vmapped call. One table ranked by memory
    horizon, overlaid plots and one report. `--weights a.pt,b.pt --init pytorch` compares
    trained weights with the same architecture at init.
    """
    from ..api import compare as run
    from ._common import begin, finish, progress_bar, split_list

    begin(format, out, force, platform, tf32)
    lists = dict(arch=split_list("--arch", arch), init=split_list("--init", init),
                 scale=split_list("--scale", scale, float),
                 weights=split_list("--weights", weights),
                 dropout=split_list("--dropout", dropout, float),
                 dropout_mode=split_list("--dropout-mode", dropout_mode))
    shared = dict(hidden=hidden, input_size=input_size, steps=steps, layers=layers,
                  residual=residual or None, bidirectional=bidirectional or None,
                  activation=activation, forget_bias=forget_bias, gru_variant=gru_variant,
                  inputs=inputs, h0=h0, batch=batch, seed=seed, x64=x64 or None, norm=norm)
    with progress_bar("compare", format != "json") as bar:
        report = run(**lists, **shared, progress=bar, tf32=tf32)
    finish(report, out=out, fmt=format, no_plots=no_plots, force=force)
