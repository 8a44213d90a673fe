"""`gradscope analyze`: one configuration, step by step."""

from __future__ import annotations

from typing import Annotated

import typer

from . import options as o


def analyze(
    *,
    arch: o.Arch = None,
    hidden: o.Hidden = None,
    input_size: o.InputSize = None,
    steps: o.Steps = None,
    layers: o.Layers = None,
    residual: o.Residual = False,
    bidirectional: o.Bidirectional = False,
    dropout: o.Dropout = None,
    dropout_mode: o.DropoutMode = None,
    activation: o.Activation = None,
    init: o.Init = None,
    scale: o.Scale = None,
    forget_bias: o.ForgetBias = None,
    gru_variant: o.GruVariant = None,
    inputs: o.Inputs = None,
    h0: o.H0 = None,
    batch: o.Batch = None,
    seed: o.Seed = None,
    weights: o.Weights = None,
    x64: o.X64 = False,
    norm: o.Norm = None,
    lyapunov: Annotated[int | None, typer.Option(
        "--lyapunov", help="also the K largest Lyapunov exponents (QR method, natural log per "
        "step)", rich_help_panel=o.OUTPUT)] = None,
    preset: Annotated[str | None, typer.Option(
        "--preset", help="fill the options of a named experiment: dlfs2 (Deep Learning from "
        "Scratch 2, ch. 6)")] = None,
    platform: o.Platform = None,
    tf32: o.Tf32 = False,
    out: o.Out = None,
    format: o.Format = "table",
    no_plots: o.NoPlots = False,
    force: o.Force = False,
) -> None:
    """Analyse one configuration: how ‖∂s_T/∂s_t‖ shrinks or grows with t.

    Computes every local Jacobian with jax.jacrev, the products P_t on a log scale, the
    W_hh spectrum, the seeds' bound and saturation, a summary, plots and a report.
    """
    from ..api import analyze as run
    from ._common import begin, finish, progress_bar

    begin(format, out, force, platform, tf32)
    explicit = dict(arch=arch, hidden=hidden, input_size=input_size, steps=steps, layers=layers,
                    residual=residual or None, bidirectional=bidirectional or None,
                    dropout=dropout, dropout_mode=dropout_mode,
                    activation=activation, init=init, scale=scale, forget_bias=forget_bias,
                    gru_variant=gru_variant, inputs=inputs, h0=h0, batch=batch, seed=seed,
                    weights=weights, x64=x64 or None, norm=norm, lyapunov=lyapunov)
    with progress_bar("analyze", format != "json") as bar:
        report = run(preset=preset, progress=bar, tf32=tf32, **explicit)
    finish(report, out=out, fmt=format, no_plots=no_plots, force=force)
