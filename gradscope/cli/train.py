"""`gradscope train`: train on a long-memory task with and without gradient clipping, and
watch the gradient norms, the task error and the Jacobian profile as training goes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .. import interrupt
from ..errors import GradscopeError, UsageError
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


def _check_save_path(path: str | None) -> None:
    if path is None:
        return
    p = Path(path)
    if p.suffix != ".safetensors":
        raise UsageError(f"--save-weights {path} does not end in .safetensors",
                         "name the file e.g. --save-weights model.safetensors")
    if not p.parent.is_dir():
        raise UsageError(f"--save-weights: folder {p.parent} does not exist",
                         "create it first or choose another path")


def weights_paths(path: str, labels: list[tuple[str, str]]) -> list[Path]:
    """One file per run: `path` itself for a single run, else `<stem>-<arch>-clip<θ>` next
    to it (`labels`: (arch, clip tag) per run)."""
    p = Path(path)
    if len(labels) == 1:
        return [p]
    return [p.with_name(f"{p.stem}-{arch}-clip{tag.replace(' ', '')}{p.suffix}")
            for arch, tag in labels]


def summary_table(report: dict):
    """One row per run: final loss against the baseline, task error, clipping, divergence."""
    from rich import box
    from rich.table import Table

    from ..report.text import fmt

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
                      fmt(s["clip_fraction"], ".0%"), fmt(s["first_nonfinite_iter"], "d"), rho)
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
    from ..train.setup import resolve_train
    from ._common import check_format

    check_format(format)
    cfgs, the_task, clips = resolve_train(dict(
        task=task, text=text, arch=arch, clip=clip, clip_mode=clip_mode, optimizer=optimizer,
        lr=lr, batch_size=batch_size, iters=iters, tbptt=tbptt,
        checkpoint_every=checkpoint_every, hidden=hidden, steps=steps, layers=layers,
        init=init, scale=scale, forget_bias=forget_bias, activation=activation, seed=seed))
    _check_save_path(save_weights)
    _run(cfgs, the_task, clips, out=out, fmt=format, no_plots=no_plots, force=force,
         save_weights=save_weights, platform=platform, tf32=tf32)


def _run(cfgs, task, clips, *, out, fmt, no_plots, force, save_weights, platform=None,
         tf32=False) -> None:
    from ..io.store import prepare_out_dir
    from ..train.runner import TrainSettings, check_memory

    extra = dict(cfgs[0].extra)
    settings = TrainSettings(task, tuple(clips), extra["clip_mode"], extra["optimizer"],
                             extra["lr"], extra["batch_size"], extra["iters"], extra["tbptt"],
                             extra["checkpoint_every"])
    for cfg in cfgs:
        check_memory(cfg, settings)
    out_dir = prepare_out_dir(out, "train", force=force)
    from ._common import figure_worker

    with figure_worker(no_plots) as worker:
        _train(cfgs, settings, clips, out_dir, fmt, no_plots, save_weights, platform, tf32,
               worker)


def _train(cfgs, settings, clips, out_dir, fmt, no_plots, save_weights, platform, tf32,
           worker) -> None:
    from ..io.schema import build_report, device_info
    from ..io.store import write_report_folder
    from ..runtime import configure_jax
    from ..train.runner import GroupTrainer
    from ._common import emit, progress_bar

    configure_jax(platform, tf32)
    trainers = [GroupTrainer(c, settings) for c in cfgs]
    interrupted = False
    total = settings.iters * len(trainers)
    try:
        with progress_bar(f"training {len(trainers) * len(clips)} run(s)", fmt != "json") as bar:
            for g, trainer in enumerate(trainers):
                trainer.run(lambda done, g=g: bar(g * settings.iters + done, total))
    except KeyboardInterrupt:
        interrupt.handled()  # the report of the work done so far is still written
        interrupted = True
    runs = [r for t in trainers for r in t.records()]
    files = _weights_files(save_weights, trainers, clips, settings.clip_mode)
    for run, path in zip(runs, files, strict=False):
        run["weights_file"] = str(path)
    report = build_report("train", runs, device=device_info(), interrupted=interrupted)
    if files:
        _save(files, trainers, report)
    write_report_folder(out_dir, report, plots=not no_plots, plot_worker=worker)
    if interrupted:
        done = sum(t.progress.done for t in trainers)
        raise Interrupted("interrupted", f"the report in {out_dir} holds the {done} of {total} "
                                         "iterations done; rerun with --force to redo them")
    emit(report, fmt, str(out_dir), table=summary_table)


def _weights_files(path: str | None, trainers, clips, mode: str) -> list[Path]:
    from ..train.runner import clip_tag

    if path is None:
        return []
    return weights_paths(path, [(t.cfg.arch, clip_tag(c, mode)) for t in trainers for c in clips])


def _save(paths: list[Path], trainers, report: dict) -> None:
    """Each run's weights with PyTorch names; its label, config (and the charlm vocabulary)
    in the safetensors metadata."""
    import json

    from ..io.weights import write_safetensors

    files, runs = iter(paths), iter(report["runs"])
    for t in trainers:
        for r in range(len(t.settings.clips)):
            run = next(runs)
            meta = {"gradscope": report["version"], "label": run["label"],
                    "config": json.dumps(run["config"])}
            if t.settings.task.name == "charlm":
                meta["vocab"] = json.dumps("".join(t.settings.task.vocab))
            write_safetensors(next(files), t.weights(r), metadata=meta)
