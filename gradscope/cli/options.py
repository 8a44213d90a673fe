"""Shared option definitions (docs/cli.md). `None` defaults mean "not given", so a
preset or a weights file can fill them; `gradscope.config` holds the real defaults."""

from __future__ import annotations

from typing import Annotated

import typer

MODEL = "Model"
DATA = "Data"
OUTPUT = "Output"

Arch = Annotated[str | None, typer.Option("--arch", "-a", help="rnn, lstm or gru (default: rnn)",
                                          rich_help_panel=MODEL)]
Hidden = Annotated[int | None, typer.Option("--hidden", "-H", help="hidden size H (default: 64)",
                                            rich_help_panel=MODEL)]
InputSize = Annotated[int | None, typer.Option("--input-size", help="input size D (default: 16)",
                                               rich_help_panel=MODEL)]
Steps = Annotated[int | None, typer.Option("--steps", "-T", help="sequence length T (default: 100)",
                                           rich_help_panel=DATA)]
Layers = Annotated[int | None, typer.Option("--layers", help="stacked layers (default: 1)",
                                            rich_help_panel=MODEL)]
Activation = Annotated[str | None, typer.Option(
    "--activation", help="RNN only: tanh, relu, linear (default: tanh)", rich_help_panel=MODEL)]
Init = Annotated[str | None, typer.Option(
    "--init", help="gaussian, orthogonal, identity, xavier, pytorch, textbook (default: gaussian)",
    rich_help_panel=MODEL)]
Scale = Annotated[float | None, typer.Option("--scale", "-s", help="gain of W_hh (default: 1.0)",
                                             rich_help_panel=MODEL)]
ForgetBias = Annotated[float | None, typer.Option(
    "--forget-bias", help="added to the LSTM forget-gate bias (default: 0.0)", rich_help_panel=MODEL)]
GruVariant = Annotated[str | None, typer.Option(
    "--gru-variant", help="pytorch (cuDNN) or cho (CS224N notes) (default: pytorch)",
    rich_help_panel=MODEL)]
Inputs = Annotated[str | None, typer.Option(
    "--inputs", help="gaussian, zeros, FILE.npy of shape (T, D) or (B, T, D), or text:FILE "
    "(default: gaussian)", rich_help_panel=DATA)]
H0 = Annotated[str | None, typer.Option("--h0", help="initial state: zeros, gaussian or FILE.npy "
                                        "(default: zeros)", rich_help_panel=DATA)]
Batch = Annotated[int | None, typer.Option("--batch", "-B", help="independent sequences "
                                           "(default: 1)", rich_help_panel=DATA)]
Seed = Annotated[int | None, typer.Option("--seed", help="every random draw derives from it "
                                          "(default: 0)", rich_help_panel=DATA)]
Weights = Annotated[str | None, typer.Option(
    "--weights", help=".npz, .safetensors or .pt state_dict with PyTorch names; sizes come "
    "from the file", rich_help_panel=MODEL)]
X64 = Annotated[bool, typer.Option("--x64", help="float64 everywhere", rich_help_panel=MODEL)]
Norm = Annotated[str | None, typer.Option(
    "--norm", help="spectral (largest singular value) or frobenius (default: spectral)",
    rich_help_panel=OUTPUT)]
Out = Annotated[str | None, typer.Option("--out", "-o", help="output folder "
                                         "(default: runs/<command>-<timestamp>)",
                                         rich_help_panel=OUTPUT)]
Format = Annotated[str, typer.Option("--format", help="table, json (report on stdout) or none",
                                     rich_help_panel=OUTPUT)]
NoPlots = Annotated[bool, typer.Option("--no-plots", help="skip figures", rich_help_panel=OUTPUT)]
Force = Annotated[bool, typer.Option("--force", help="overwrite a finished report in --out",
                                     rich_help_panel=OUTPUT)]
Residual = Annotated[bool, typer.Option(
    "--residual", help="skip connections between stacked layers (from layer 1 up)",
    rich_help_panel=MODEL)]
Bidirectional = Annotated[bool, typer.Option(
    "--bidirectional", help="two directions (PyTorch's _reverse tensors); each is analysed and "
    "reported as its own run", rich_help_panel=MODEL)]
Dropout = Annotated[float | None, typer.Option(
    "--dropout", help="probability p of dropping a unit of the recurrent h (mask held fixed "
    "while differentiating, kept units scaled by 1/(1-p)) (default: 0)", rich_help_panel=MODEL)]
DropoutMode = Annotated[str | None, typer.Option(
    "--dropout-mode", help="variational (one mask for all steps) or naive (a new mask per "
    "step) (default: variational)", rich_help_panel=MODEL)]
Platform = Annotated[str | None, typer.Option(
    "--platform", help="cpu or gpu (default: what JAX finds)", rich_help_panel=OUTPUT)]
Tf32 = Annotated[bool, typer.Option(
    "--tf32", help="let GPUs multiply float32 matrices in TF32 (faster, ~1e-3 relative error "
    "per product); full precision by default", rich_help_panel=OUTPUT)]
