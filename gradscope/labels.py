"""Run labels that tell the runs of one report apart, and the options that vary between them.

A run's own label (`Config.label()`: architecture, init or weights file, scale and the
remedies it uses, named as `option_text` names them) is completed, within a report, by
every other option whose value differs between the report's runs, so that no two different
runs share a label. Pure functions of the runs' config dicts (as in report.json).
"""

from __future__ import annotations

from typing import Any

# The options that make a run, in the order labels and figures name them. `arch` first: it
# is what a reader compares first.
KEYS = ("arch", "activation", "init", "weights", "scale", "forget_bias", "gru_variant",
        "layers", "residual", "dropout", "dropout_mode", "hidden", "input_size", "steps",
        "inputs", "h0", "batch", "seed", "x64", "norm", "loss", "lyapunov", "direction")

# options that shape only one architecture's cell
ONLY_FOR = {"activation": "rnn", "forget_bias": "lstm", "gru_variant": "gru"}


def applies(key: str, config: dict) -> bool:
    """Whether `key` changes anything in a run of `config` (the forget bias only in an LSTM,
    the dropout mode only with dropout, init and scale only without a weights file)."""
    if key in ONLY_FOR:
        return config.get("arch") == ONLY_FOR[key]
    if key == "dropout_mode":
        return bool(config.get("dropout"))
    if key in ("init", "scale", "forget_bias") and config.get("weights"):
        return False
    if key == "residual":
        return (config.get("layers") or 1) > 1
    return True


def varying(configs: list[dict]) -> list[str]:
    """The options (of `KEYS`, in that order) whose values differ between the configs where
    they apply."""
    out = []
    for key in KEYS:
        values = {_hashable(c.get(key)) for c in configs if applies(key, c)}
        if len(values) > 1:
            out.append(key)
    return out


def option_text(key: str, value: Any) -> str:
    """`forget bias 1`, `H 128`, `T 500`, `seed 3`, …: one option as a label names it."""
    if key == "x64":
        return "float64" if value else "float32"
    if key == "residual":
        return "residual" if value else "plain"
    if key in ("arch", "init", "direction"):
        return str(value)
    if key == "activation":
        return f"rnn-{value}" if value != "tanh" else "tanh"
    if key == "weights":
        return str(value).rsplit("/", 1)[-1] if value else "at init"
    if key == "dropout":
        return f"dropout {value:g}" if value else "no dropout"
    if key == "gru_variant":
        return f"{value} GRU"
    if key == "norm":
        return f"{value} norm"
    short = {"hidden": "H", "input_size": "D", "steps": "T", "batch": "B"}
    name = short.get(key, key.replace("_", " "))
    return f"{name} {value:g}" if isinstance(value, float) else f"{name} {value}"


def distinct_labels(runs: list[dict]) -> list[str]:
    """The label of each run, completed by every option that varies between the runs (where
    it applies and the label does not already show it); runs that are still alike (the same
    configuration twice) are numbered."""
    configs = [r.get("config") or {} for r in runs]
    keys = varying(configs)
    labels = []
    for run, cfg in zip(runs, configs, strict=True):
        label = str(run.get("label", ""))
        parts = label.split(" · ") if label else []
        for key in keys:
            if key in cfg and applies(key, cfg):
                text = option_text(key, cfg[key])
                if text not in parts and not _shown(key, cfg, parts):
                    parts.append(text)
        labels.append(" · ".join(parts))
    for same in _alike(labels):  # still alike: the options outside KEYS that tell them apart
        group = [configs[i] for i in same]
        extra = [k for k in dict.fromkeys(k for c in group for k in c)
                 if k not in KEYS and len({_hashable(c.get(k)) for c in group}) > 1]
        for i in same:
            labels[i] = " · ".join([labels[i], *(option_text(k, configs[i].get(k))
                                                 for k in extra)])
    for same in _alike(labels):  # the same configuration twice: numbered
        for n, i in enumerate(same, 1):
            labels[i] = f"{labels[i]} ({n})"
    return labels


def _alike(labels: list[str]) -> list[list[int]]:
    groups: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(label, []).append(i)
    return [g for g in groups.values() if len(g) > 1]


def relabel(runs: list[dict]) -> list[dict]:
    """`runs` with `distinct_labels` as their labels (new dicts; the inputs are unchanged)."""
    return [{**run, "label": label} for run, label in zip(runs, distinct_labels(runs),
                                                         strict=True)]


def short_labels(runs: list[dict]) -> list[str]:
    """The runs' labels without the parts every run shares (`gaussian` when all runs are
    gaussian); the architecture always stays."""
    parts = [str(r.get("label", "")).split(" · ") for r in runs]
    shared = set.intersection(*(set(p[1:]) for p in parts)) if len(parts) > 1 else set()
    return [" · ".join([p[0], *(x for x in p[1:] if x not in shared)]) for p in parts]


def _shown(key: str, cfg: dict, parts: list[str]) -> bool:
    """Whether the run's own label already says `key`'s value in words other than
    `option_text`'s (`Config.label` names init, scale, forget bias, GRU variant and weights
    file by `option_text`, so those are found as they are)."""
    value = cfg.get(key)
    if key == "activation":
        return bool(parts) and parts[0] in (f"rnn-{value}", "rnn")
    if key == "arch":
        return bool(parts) and parts[0].split("-")[0] == value
    if key == "dropout":
        return any(p.endswith(f"dropout {value:g}") for p in parts) if value else False
    if key == "dropout_mode":
        return any(p.startswith(f"{value} dropout") for p in parts)
    if key == "layers":
        return any(p.startswith(f"{value} layers") for p in parts)
    return False


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value
