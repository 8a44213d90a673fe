"""`train`: a long-memory task with and without gradient clipping, into a `Report`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .. import interrupt
from ..errors import UsageError
from ..io.schema import build_report, device_info
from ..io.weights import write_safetensors
from ..result import Report
from ..training.runner import GroupTrainer, TrainSettings, check_memory, clip_tag
from ..training.setup import resolve_train
from .session import Progress, session


def train(*, task: str = "adding", text: str | None = None, arch: Any = None,
          clip: Any = "none", clip_mode: str = "norm", optimizer: str = "adam",
          lr: float = 1e-3, batch_size: int = 32, iters: int = 1000, tbptt: int | None = None,
          checkpoint_every: int | None = None, save_weights: str | None = None,
          hidden: int | None = None, steps: int | None = None, layers: int | None = None,
          init: str | None = None, scale: float | None = None,
          forget_bias: float | None = None, activation: str | None = None,
          seed: int | None = None, progress: Progress | None = None,
          platform: str | None = None, tf32: bool = False) -> Report:
    """Train on `adding`, `copy`, `torder` or `charlm` with and without clipping: one run per
    (arch, clip) pair, all from the same init on the same batches.

    **Arguments** (the options of `gradscope train`, in snake_case):

    - `arch`: one architecture or a list (default `"rnn"`); `clip`: a threshold θ,
      `"none"`, or a list of them (e.g. `["none", 1, 5]`).
    - `task`: `adding`, `copy`, `torder`, `charlm`, or `"text:FILE"` (charlm on FILE).
    - `save_weights`: a `.safetensors` path for the trained weights (one file per run when
      there are several).
    - `progress`: optional callable `(iterations_done, iters, what)`, called for each
      architecture in turn (`what` names it: `"lstm (2/2)"`).

    **Returns:** a `Report` of `train` runs. A KeyboardInterrupt during training ends it
    early: the report of the iterations done is returned, with `"interrupted": true`.
    """

    cfgs, the_task, clips = resolve_train(dict(
        task=task, text=text, arch=arch, clip=clip, clip_mode=clip_mode, optimizer=optimizer,
        lr=lr, batch_size=batch_size, iters=iters, tbptt=tbptt,
        checkpoint_every=checkpoint_every, hidden=hidden, steps=steps, layers=layers,
        init=init, scale=scale, forget_bias=forget_bias, activation=activation, seed=seed))
    check_save_path(save_weights)
    extra = dict(cfgs[0].extra)
    settings = TrainSettings(the_task, tuple(clips), extra["clip_mode"], extra["optimizer"],
                             extra["lr"], extra["batch_size"], extra["iters"], extra["tbptt"],
                             extra["checkpoint_every"])
    for cfg in cfgs:
        check_memory(cfg, settings)
    interrupted = False
    with session(platform, tf32):
        trainers = [GroupTrainer(c, settings) for c in cfgs]
        try:
            for g, trainer in enumerate(trainers):
                what = f"{trainer.cfg.arch} ({g + 1}/{len(trainers)})" if len(trainers) > 1 \
                    else trainer.cfg.arch
                trainer.run(None if progress is None else
                            (lambda done, what=what: progress(done, settings.iters, what)))
        except KeyboardInterrupt:
            interrupt.handled()  # the report of the work done so far is still made
            interrupted = True
        runs = [r for t in trainers for r in t.records()]
        device = device_info()
    files = _weights_files(save_weights, trainers, clips, settings.clip_mode)
    for run, path in zip(runs, files, strict=False):
        run["weights_file"] = str(path)
    report = build_report("train", runs, device=device, interrupted=interrupted)
    if files:
        _save(files, trainers, report)
    return Report(report)


def check_save_path(path: str | None) -> None:
    """A `save_weights` path must be a `.safetensors` file in an existing folder."""
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


def _weights_files(path: str | None, trainers, clips, mode: str) -> list[Path]:

    if path is None:
        return []
    return weights_paths(path, [(t.cfg.arch, clip_tag(c, mode)) for t in trainers for c in clips])


def _save(paths: list[Path], trainers, report: dict) -> None:
    """Each run's weights with PyTorch names; its label, config (and the charlm vocabulary)
    in the safetensors metadata."""

    files, runs = iter(paths), iter(report["runs"])
    for t in trainers:
        for r in range(len(t.settings.clips)):
            run = next(runs)
            meta = {"gradscope": report["version"], "label": run["label"],
                    "config": json.dumps(run["config"])}
            if t.settings.task.name == "charlm":
                meta["vocab"] = json.dumps("".join(t.settings.task.vocab))
            write_safetensors(next(files), t.weights(r), metadata=meta)
