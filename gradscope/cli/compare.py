"""`gradscope compare`: architectures × inits × scales on the same inputs and seed."""

from __future__ import annotations

from typing import Annotated

import typer

from . import options as o


def _list(flags: tuple[str, ...], help: str, panel: str = o.MODEL):
    return Annotated[str | None, typer.Option(*flags, help=f"comma list of {help}",
                                              rich_help_panel=panel)]


ArchList = _list(("--arch", "-a"), "rnn, lstm, gru (default: rnn,lstm,gru)")
InitList = _list(("--init",), "inits: gaussian, orthogonal, identity, xavier, pytorch, "
                 "textbook (default: gaussian)")
ScaleList = _list(("--scale", "-s"), "W_hh gains (default: 0.5,1,1.5; 1 next to --weights)")
ForgetBiasList = _list(("--forget-bias",), "values added to the LSTM forget-gate bias "
                       "(default: 0; LSTM runs only)")
ActivationList = _list(("--activation",), "RNN activations: tanh, relu, linear (default: tanh; "
                       "RNN runs only)")
GruVariantList = _list(("--gru-variant",), "GRU variants: pytorch, cho (default: pytorch; GRU "
                       "runs only)")
WeightsList = _list(("--weights",), "state_dict files (.npz, .safetensors, .pt): one run each; "
                    "with --init, the same architecture at those inits runs beside them")
DropoutList = _list(("--dropout",), "dropout probabilities on the recurrent h (default: 0)")
DropoutModeList = _list(("--dropout-mode",), "variational, naive (default: variational)")
HiddenList = _list(("--hidden", "-H"), "hidden sizes H (default: 64)")
InputSizeList = _list(("--input-size",), "input sizes D (default: 16)")
LayersList = _list(("--layers",), "numbers of stacked layers (default: 1)")
StepsList = _list(("--steps", "-T"), "sequence lengths T (default: 100)", o.DATA)
InputsList = _list(("--inputs",), "inputs: gaussian, zeros, FILE.npy, text:FILE "
                   "(default: gaussian)", o.DATA)
H0List = _list(("--h0",), "initial states: zeros, gaussian, FILE.npy (default: zeros)", o.DATA)
BatchList = _list(("--batch", "-B"), "batch sizes (default: 1)", o.DATA)
SeedList = _list(("--seed",), "seeds (default: 0)", o.DATA)
NormList = _list(("--norm",), "norms: spectral, frobenius (default: spectral)", o.OUTPUT)

# option -> how its comma list is read
CASTS = dict(arch=str, init=str, scale=float, forget_bias=float, activation=str,
             gru_variant=str, weights=str, dropout=float, dropout_mode=str, hidden=int,
             input_size=int, layers=int, steps=int, inputs=str, h0=str, batch=int, seed=int,
             norm=str)


def compare(
    *,
    arch: ArchList = None,
    init: InitList = None,
    scale: ScaleList = None,
    forget_bias: ForgetBiasList = None,
    activation: ActivationList = None,
    gru_variant: GruVariantList = None,
    hidden: HiddenList = None,
    input_size: InputSizeList = None,
    steps: StepsList = None,
    layers: LayersList = None,
    residual: o.Residual = False,
    bidirectional: o.Bidirectional = False,
    dropout: DropoutList = None,
    dropout_mode: DropoutModeList = None,
    weights: WeightsList = None,
    inputs: InputsList = None,
    h0: H0List = None,
    batch: BatchList = None,
    seed: SeedList = None,
    x64: o.X64 = False,
    norm: NormList = None,
    platform: o.Platform = None,
    tf32: o.Tf32 = False,
    out: o.Out = None,
    format: o.Format = "table",
    no_plots: o.NoPlots = False,
    force: o.Force = False,
) -> None:
    """Compare architectures, inits, scales and remedies side by side on the same inputs.

    Every value option takes a comma list; one run per combination (the cartesian product
    of the lists; `--forget-bias 0,1` varies the LSTM runs only). Runs that differ only in
    their weights are computed in one vmapped call. One table ranked by memory
    horizon, overlaid plots and one report. `--weights a.pt,b.pt --init pytorch` compares
    trained weights with the same architecture at init.
    """
    from ..api import compare as run
    from ._common import begin, finish, progress_bar, split_list

    begin(format, out, force, platform, tf32)
    given = dict(arch=arch, init=init, scale=scale, forget_bias=forget_bias,
                 activation=activation, gru_variant=gru_variant, weights=weights,
                 dropout=dropout, dropout_mode=dropout_mode, hidden=hidden,
                 input_size=input_size, layers=layers, steps=steps, inputs=inputs, h0=h0,
                 batch=batch, seed=seed, norm=norm)
    lists = {name: split_list("--" + name.replace("_", "-"), value, CASTS[name])
             for name, value in given.items()}
    flags = dict(residual=residual or None, bidirectional=bidirectional or None, x64=x64 or None)
    with progress_bar("compare", format != "json") as bar:
        report = run(**lists, **flags, progress=bar, tf32=tf32)
    finish(report, out=out, fmt=format, no_plots=no_plots, force=force)
