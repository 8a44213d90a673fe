"""`gradscope train`: train on a long-memory task with and without gradient clipping, and
watch the gradient norms, the task error and the Jacobian profile as training goes."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import GradscopeError
from . import options as o

TRAIN = "Training"

Task = Annotated[str, typer.Option(
    "--task", help="adding, copy, torder, charlm (built-in text, or --text FILE), or text:FILE "
    "(charlm on FILE)", rich_help_panel=TRAIN)]
Text = Annotated[str | None, typer.Option(
    "--text", help="UTF-8 text file for --task charlm (default: a built-in paragraph that "
    "starts with the seeds' 'hello')", rich_help_panel=TRAIN)]
ArchList = Annotated[str | None, typer.Option(
    "--arch", "-a", help="comma list of rnn, lstm, gru (default: rnn)", rich_help_panel=o.MODEL)]
ClipList = Annotated[str, typer.Option(
    "--clip", help="comma list of clip thresholds θ, 'none' for no clipping (e.g. none,1,5)",
    rich_help_panel=TRAIN)]
ClipMode = Annotated[str, typer.Option(
    "--clip-mode", help="norm (g ← θ/‖g‖·g when the global norm ‖g‖ > θ) or value "
    "(each entry clipped to [−θ, θ])", rich_help_panel=TRAIN)]
Optimizer = Annotated[str, typer.Option("--optimizer", help="sgd or adam",
                                        rich_help_panel=TRAIN)]
Lr = Annotated[float, typer.Option("--lr", help="learning rate", rich_help_panel=TRAIN)]
BatchSize = Annotated[int, typer.Option("--batch-size", help="sequences per iteration",
                                        rich_help_panel=TRAIN)]
Iters = Annotated[int, typer.Option("--iters", help="training iterations (updates)",
                                    rich_help_panel=TRAIN)]
Tbptt = Annotated[int | None, typer.Option(
    "--tbptt", help="truncated backpropagation: the gradient flows back at most K steps "
    "(chunks of K aligned to the end of the sequence; default: full BPTT)",
    rich_help_panel=TRAIN)]
CheckpointEvery = Annotated[int | None, typer.Option(
    "--checkpoint-every", help="iterations between evaluations and Jacobian checkpoints "
    "(default: iters/10)", rich_help_panel=TRAIN)]
SaveWeights = Annotated[str | None, typer.Option(
    "--save-weights", help="write the trained weights (PyTorch names, head.* for the readout) "
    "to FILE.safetensors; with several runs one file per run, FILE-<arch>-clip<θ>.safetensors",
    rich_help_panel=TRAIN)]
TrainSteps = Annotated[int | None, typer.Option(
    "--steps", "-T", help="sequence length T; for copy the gap (the sequence has T + 20 steps) "
    "(default: 100)", rich_help_panel=o.DATA)]


class Interrupted(GradscopeError):
    """Ctrl-C during training, after the partial report was written (exit code 130)."""

    exit_code = 130


def summary_table(report: dict):
    """One row per run: final loss against the baseline, task error, clipping, divergence."""
    from rich import box
    from rich.table import Table

    from ..report.text import fmt, share

    table = Table(title="gradscope train", title_justify="left", box=box.SIMPLE_HEAD,
                  show_edge=False, pad_edge=False, padding=(0, 1), caption_justify="left",
                  caption="loss, error: held-out batch at the end; base: loss of the best "
                          "memoryless predictor; clip: share of updates clipped; NaN at: first "
                          "non-finite iteration; ρ: spectral radius of W_hh, start → end")
    for col in ("run", "loss", "base", "error", "solved", "clip", "NaN at", "ρ(W_hh)"):
        table.add_column(col, justify="left" if col == "run" else "right",
                         no_wrap=col != "run", min_width=12 if col == "run" else None)
    for run in report["runs"]:
        s, ck = run["summary"], run["checkpoints"]
        rho = f"{ck[0]['spectral_radius']:.2f}→{ck[-1]['spectral_radius']:.2f}" if ck else "–"
        table.add_row(run["label"], fmt(s["final_loss"], ".3g"), fmt(s["baseline_loss"], ".3g"),
                      fmt(s["final_task_error"], ".3f"), "yes" if s["solved"] else "no",
                      share(s["clip_fraction"]), fmt(s["first_nonfinite_iter"], "d"), rho)
    return table


def train(
    *,
    task: Task = "adding",
    text: Text = None,
    arch: ArchList = None,
    clip: ClipList = "none",
    clip_mode: ClipMode = "norm",
    optimizer: Optimizer = "adam",
    lr: Lr = 1e-3,
    batch_size: BatchSize = 32,
    iters: Iters = 1000,
    tbptt: Tbptt = None,
    checkpoint_every: CheckpointEvery = None,
    save_weights: SaveWeights = None,
    hidden: o.Hidden = None,
    steps: TrainSteps = None,
    layers: o.Layers = None,
    init: o.Init = None,
    scale: o.Scale = None,
    forget_bias: o.ForgetBias = None,
    activation: o.Activation = None,
    seed: o.Seed = None,
    platform: o.Platform = None,
    tf32: o.Tf32 = False,
    out: o.Out = None,
    format: o.Format = "table",
    no_plots: o.NoPlots = False,
    force: o.Force = False,
) -> None:
    """Train on adding, copy, temporal order or a character LM, with and without clipping.

    One run per (arch, clip) pair, all from the same init on the same batches. Records the
    loss, the gradient norm before clipping, clip events, the first non-finite iteration,
    the task error on a held-out batch and, at checkpoints, log10 ‖∂s_T/∂s_t‖ and the
    spectral radius of W_hh. Ctrl-C writes the report of the iterations done so far.
    """
    from ..api.training import train as run
    from ._common import begin, emit, progress_bar

    begin(format, out, force, platform, tf32)
    with progress_bar("training", format != "json") as bar:
        report = run(task=task, text=text, arch=arch, clip=clip, clip_mode=clip_mode,
                     optimizer=optimizer, lr=lr, batch_size=batch_size, iters=iters,
                     tbptt=tbptt, checkpoint_every=checkpoint_every, save_weights=save_weights,
                     hidden=hidden, steps=steps, layers=layers, init=init, scale=scale,
                     forget_bias=forget_bias, activation=activation, seed=seed, progress=bar,
                     tf32=tf32)
    out_dir = report.write(out, figures=not no_plots, force=force)
    data = report.to_dict()
    if data.get("interrupted"):
        per_arch = {r["config"]["arch"]: r["summary"]["iterations"] for r in data["runs"]}
        done, total = sum(per_arch.values()), iters * len(per_arch)
        raise Interrupted("interrupted", f"the report in {out_dir} holds the {done} of {total} "
                                         "iterations done; rerun with --force to redo them")
    emit(data, format, str(out_dir), table=summary_table)
