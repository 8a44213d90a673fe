"""`analyze`, `compare` and `spectrum`: configurations through the pipeline into a `Report`.

The keywords are the CLI's options in snake_case (`gradscope analyze --help` lists them);
`None` means "not given", so a preset or a weights file can fill it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..cells import direction_params
from ..config import Config, resolve
from ..errors import UsageError
from ..host_arrays import load_params
from ..io.inputs import check_array
from ..io.schema import build_report, device_info
from ..labels import ONLY_FOR, relabel
from ..pipeline import analyze_group, shape_key
from ..records import spectrum_record
from ..result import Report
from .session import Progress, session

Many = Any  # a value or a sequence of values (a comma string from the CLI is split there)


def analyze(config: Config | None = None, /, *, preset: str | None = None,
            progress: Progress | None = None, platform: str | None = None, tf32: bool = False,
            **options: Any) -> Report:
    """Analyse one configuration: how ‖∂s_T/∂s_t‖ shrinks or grows going back in time.

    **Arguments:**

    - `config`: a `Config`, or None to resolve one from `options`.
    - `preset`: fill the options of a named experiment (`"dlfs2"`).
    - `progress`: optional callable `(steps_done, steps_total)`.
    - `platform`: `"cpu"` or `"gpu"` (default: JAX's default device); `tf32`: let GPUs
      multiply float32 matrices in TF32.
    - `**options`: `arch`, `hidden`, `input_size`, `steps`, `layers`, `activation`, `init`,
      `scale`, `forget_bias`, `gru_variant`, `inputs` (`"gaussian"`, `"zeros"`, a `.npy`
      path, `"text:FILE"` or an array (T, D) / (B, T, D)), `h0`, `batch`, `seed`, `weights`
      (a state_dict file), `x64`, `norm`, `lyapunov`, `residual`, `bidirectional`,
      `dropout`, `dropout_mode`.

    **Returns:** a `Report` with one run (two for a bidirectional network, one per
    direction).
    """
    if config is not None and (options or preset):
        raise UsageError("pass a Config or options, not both",
                         "e.g. gradscope.analyze(arch='lstm') or gradscope.analyze(cfg)")
    arrays = [_inputs_array(options)]
    cfg = config if config is not None else resolve(options, preset=preset)
    return run_configs("analyze", [cfg], arrays, progress=progress, platform=platform,
                       tf32=tf32)


def compare(*, weights: Many = None, progress: Progress | None = None,
            platform: str | None = None, tf32: bool = False, **options: Many) -> Report:
    """Several architectures, inits, scales, forget biases, sizes, seeds, … side by side, on
    the same inputs: one run per combination (the cartesian product of the lists); runs that
    differ only in their weights go through one vmapped call.

    **Arguments:**

    - `**options`: any option of `analyze`, as one value or a list of values (defaults:
      `arch=["rnn", "lstm", "gru"]`, `scale=[0.5, 1, 1.5]`). An option that shapes only one
      architecture (`forget_bias`: LSTM, `activation`: RNN, `gru_variant`: GRU) is applied to
      that architecture's runs and left out of the others, so `arch=["rnn", "lstm"],
      forget_bias=[0, 1]` is three runs.
    - `weights`: a state_dict file or a list of them, one run each; with `init`, the same
      architecture at those inits runs beside them (scale 1 unless given).

    **Returns:** a `Report` with one run per distinct combination.
    """
    files = _listed(weights) or []
    array = _inputs_array(options)
    lists = {k: _listed(v) for k, v in options.items()
             if v is not None and k in LISTABLE and not (k == "inputs" and array is not None)}
    shared = {k: v for k, v in options.items() if k not in lists}
    for key, value in shared.items():
        if key != "inputs" and isinstance(value, (list, tuple)):
            raise UsageError(f"{key} takes one value in compare, got {list(value)!r}",
                             f"lists are taken by: {', '.join(LISTABLE)}; run compare once per "
                             f"value of {key}")
    configs: list[Config] = []
    if files:
        beside = "init" in lists
        if not beside and ("scale" in lists or "forget_bias" in lists):
            flag = "--scale" if "scale" in lists else "--forget-bias"
            raise UsageError(f"{flag} has no effect with --weights alone: the weights come from "
                             f"{files[0]}", f"add --init to run the same architecture at an "
                             f"init beside the file, or drop {flag}")
        own = {k: v for k, v in lists.items() if k not in ("init", "scale", "forget_bias")}
        for f in files:
            _add(configs, shared, own, weights=f)
        first = configs[0]
        # the architecture and sizes of the (first) file, at the inits asked for beside it
        if beside:
            sizes = dict(arch=[first.arch], hidden=[first.hidden], layers=[first.layers],
                         input_size=[first.input_size])
            bidir = {"bidirectional": first.bidirectional or None}
            _add(configs, {**shared, **bidir}, {"scale": [1.0], **lists, **sizes})
    else:
        _add(configs, shared, {"arch": ["rnn", "lstm", "gru"], "scale": [0.5, 1.0, 1.5],
                               **lists})
    return run_configs("compare", configs, [array] * len(configs), progress=progress,
                       platform=platform, tf32=tf32)


# the options `compare` takes as lists, in the order of their product (`arch` outermost)
LISTABLE = ("arch", "init", "scale", "forget_bias", "activation", "gru_variant", "layers",
            "dropout", "dropout_mode", "hidden", "input_size", "steps", "inputs", "h0",
            "batch", "seed", "norm")


def _add(configs: list[Config], shared: dict, lists: dict, **fixed: Any) -> None:
    """Append to `configs` the config of every combination of `lists` (with `shared` and
    `fixed`), leaving out options that do not apply to a combination's architecture and
    combinations that resolve to a config already there."""
    keys = [k for k in LISTABLE if k in lists]
    for values in itertools.product(*(lists[k] for k in keys)):
        options = {**shared, **dict(zip(keys, values, strict=True)), **fixed}
        arch = options.get("arch")
        for key, only in ONLY_FOR.items():
            if arch is not None and arch != only and key in lists:
                options[key] = None
        if "dropout_mode" in lists and not options.get("dropout"):
            options["dropout_mode"] = None
        cfg = resolve(options)
        if cfg not in configs:
            configs.append(cfg)


def spectrum(config: Config | None = None, /, **options: Any) -> Report:
    """Singular values and eigenvalues of W_hh (per gate block and layer), from an init or
    `weights=`; no dynamics. `**options`: those of `analyze` that shape the weights
    (`arch`, `hidden`, `input_size`, `layers`, `init`, `scale`, `forget_bias`,
    `gru_variant`, `seed`, `weights`, `bidirectional`)."""

    cfg = config if config is not None else resolve(options)
    params = load_params(cfg)
    runs = [spectrum_record(d, direction_params(d, params)) for d in cfg.directions()]
    return Report(build_report("spectrum", runs))


def run_configs(command: str, configs: list[Config], arrays: list | None = None, *,
                progress: Progress | None = None, platform: str | None = None,
                tf32: bool = False) -> Report:
    """Every config (both directions of a bidirectional one) through the pipeline, grouped
    by `shape_key` (one vmapped call per group), into one report of `command`.

    **Arguments:** `arrays`: per config, its inputs array or None."""

    arrays = arrays or [None] * len(configs)
    pairs = [(d, a) for c, a in zip(configs, arrays, strict=True) for d in c.directions()]
    groups: dict[tuple, list[int]] = {}
    for i, (cfg, _) in enumerate(pairs):
        groups.setdefault(shape_key(cfg), []).append(i)
    total = sum(pairs[m[0]][0].steps for m in groups.values())
    runs: list[dict] = [{}] * len(pairs)
    with session(platform, tf32):
        done = 0
        for members in groups.values():
            cfgs = [pairs[i][0] for i in members]
            update = None if progress is None else _shifted(progress, done, total)
            out = analyze_group(cfgs, progress=update, inputs=[pairs[i][1] for i in members])
            for i, run in zip(members, out, strict=True):
                runs[i] = run
            done += cfgs[0].steps
            if progress is not None:
                progress(done, total)
        device = device_info()
    return Report(build_report(command, relabel(runs), device=device))


def _shifted(progress: Callable[[int, int], None], offset: int, total: int):
    return lambda done, _total: progress(offset + done, total)


def _listed(value: Many) -> list | None:
    """None, one value, or a sequence of them, as a list (None: not given)."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        return [value]
    return list(value)


def _inputs_array(options: dict) -> np.ndarray | None:
    """The inputs array among `options`, checked (`options["inputs"]` stays the array, which
    `resolve` records as `"array"`); None where inputs are named by a string."""
    value = options.get("inputs")
    if value is None or isinstance(value, str) or (
            isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)):
        return None  # named inputs (`compare` takes a list of names)

    return check_array(value)
