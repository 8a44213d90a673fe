"""Training options → model configs, task and clip thresholds, checked before any work.

Shared by `gradscope train` and sweeps of it; every bad value is a `UsageError` naming the
option.
"""

from __future__ import annotations

import math
from typing import Any

from ..config import Config, validate
from ..errors import UsageError
from ..training.clipping import CLIP_MODES
from ..training.loop import OPTIMIZERS
from ..training.tasks import make_task

DEFAULTS = dict(task="adding", text=None, arch="rnn", clip="none", clip_mode="norm",
                optimizer="adam", lr=1e-3, batch_size=32, iters=1000, tbptt=None,
                checkpoint_every=None, steps=100)
MODEL_OPTIONS = ("hidden", "layers", "init", "scale", "forget_bias", "seed")


def parse_clips(value: str) -> list[float]:
    """`none,1,5` -> [inf, 1.0, 5.0]; every θ finite and > 0, or none."""
    items = [v.strip() for v in value.split(",") if v.strip()]
    hint = "pass a comma list of positive thresholds or none, e.g. --clip none,1,5"
    if not items:
        raise UsageError("--clip is empty", hint)
    out = []
    for v in items:
        if v.lower() == "none":
            out.append(math.inf)
            continue
        try:
            theta = float(v)
        except ValueError:
            raise UsageError(f"--clip: {v!r} is not a number or none", hint) from None
        if not (math.isfinite(theta) and theta > 0):
            raise UsageError(f"--clip: {v!r} must be a positive finite threshold", hint)
        out.append(theta)
    if len(set(out)) != len(out):
        raise UsageError(f"--clip {value} repeats a threshold", hint)
    return out


def _check_choice(flag: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise UsageError(f"unknown {flag} {value!r}",
                         f"use one of: {', '.join(choices)} (e.g. {flag} {choices[0]})")


def _check_int(flag: str, value: int | None, example: int) -> None:
    if value is not None and value < 1:
        raise UsageError(f"{flag} must be at least 1, got {value}", f"pass e.g. {flag} {example}")


def _check_numbers(lr: float, batch_size: int, iters: int, tbptt: int | None,
                   checkpoint_every: int | None) -> None:
    if not (math.isfinite(lr) and lr > 0):
        raise UsageError(f"--lr must be a positive finite number, got {lr:g}",
                         "pass e.g. --lr 0.01")
    _check_int("--batch-size", batch_size, 32)
    _check_int("--iters", iters, 1000)
    _check_int("--tbptt", tbptt, 20)
    _check_int("--checkpoint-every", checkpoint_every, 100)


def _as_list(value: Any) -> list[str]:
    """A comma string (the CLI) or a list (a sweep cell) as a list of strings."""
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def resolve_train(options: dict[str, Any]) -> tuple[list[Config], Any, list[float]]:
    """`(configs, task, clips)`: one model config per architecture (the training options in
    its `extra`), the task and the thresholds θ (inf = no clipping).

    **Arguments:** `options`: option name → value (`None`: not given); `arch` and `clip`
    may be comma strings or lists.
    """

    known = set(DEFAULTS) | set(MODEL_OPTIONS) | {"activation"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise UsageError(f"unknown option {unknown[0]!r} for train",
                         "see `gradscope train --help`")
    o = {**DEFAULTS, **{k: v for k, v in options.items() if v is not None}}
    archs = _as_list(o["arch"])
    if not archs:
        raise UsageError("--arch is empty", "pass e.g. --arch rnn,lstm")
    clips = parse_clips(",".join(_as_list(o["clip"])))
    _check_choice("--clip-mode", o["clip_mode"], CLIP_MODES)
    _check_choice("--optimizer", o["optimizer"], OPTIMIZERS)
    _check_numbers(o["lr"], o["batch_size"], o["iters"], o["tbptt"], o["checkpoint_every"])
    activation = options.get("activation")
    if activation is not None and "rnn" not in archs:
        raise UsageError(f"--activation {activation} applies to the vanilla RNN only, not "
                         f"{','.join(archs)}", "drop --activation or add rnn to --arch")
    task = make_task(o["task"], o["steps"], text_file=o["text"])
    every = o["checkpoint_every"] or max(1, o["iters"] // 10)
    shared = {k: options[k] for k in MODEL_OPTIONS if options.get(k) is not None}
    extras = dict(task=task.name, text=task.text_file, sequence_length=task.length,
                  clip_mode=o["clip_mode"], optimizer=o["optimizer"], lr=o["lr"],
                  batch_size=o["batch_size"], iters=o["iters"], tbptt=o["tbptt"],
                  checkpoint_every=every)
    cfgs = []
    for a in dict.fromkeys(archs):
        act = {"activation": activation} if activation is not None and a == "rnn" else {}
        cfgs.append(validate(Config.from_dict({**shared, **act, **extras, "arch": a,
                                               "steps": o["steps"],
                                               "input_size": task.input_size})))
    return cfgs, task, clips
