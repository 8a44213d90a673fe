"""`Config`: every resolved option of one analysis, in one place (defaults, presets, checks).

A `Config` is frozen, hashable and JSON-round-trippable (`to_dict` / `from_dict`). It is
resolved from the options a user gave explicitly (`None` means "not given"), a preset, and
the sizes found in a weights or inputs file, in that order of precedence:
explicit option > file sizes > preset > default. A file that contradicts an explicit option
is a usage error.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .constants import ARCHS, GATES
from .errors import UsageError
from .io import inputs as _inputs
from .io import weights as _weights
from .labels import option_text

ACTIVATIONS = ("tanh", "relu", "linear")
INITS = ("gaussian", "orthogonal", "identity", "xavier", "pytorch", "textbook")
GRU_VARIANTS = ("pytorch", "cho")
NORMS = ("spectral", "frobenius")
DIRECTIONS = ("forward", "backward")
DROPOUT_MODES = ("variational", "naive")
LOSSES = ("sum", "batch_mean")

# Sizes above these are almost certainly typos; they are refused before any allocation.
MAX_SIZE = 1 << 20


@dataclass(frozen=True)
class Config:
    """One fully explicit analysis configuration (docs/cli.md lists them)."""

    arch: str = "rnn"
    hidden: int = 64
    input_size: int = 16
    steps: int = 100
    layers: int = 1
    residual: bool = False
    bidirectional: bool = False
    direction: str = "forward"
    dropout: float = 0.0
    dropout_mode: str = "variational"
    activation: str = "tanh"
    init: str = "gaussian"
    scale: float = 1.0
    forget_bias: float = 0.0
    gru_variant: str = "pytorch"
    inputs: str = "gaussian"
    h0: str = "zeros"
    batch: int = 1
    seed: int = 0
    weights: str | None = None
    x64: bool = False
    norm: str = "spectral"
    loss: str = "sum"
    lyapunov: int = 0
    preset: str | None = None
    extra: tuple[tuple[str, Any], ...] = field(default=())

    @property
    def gates(self) -> int:
        return GATES[self.arch]

    @property
    def layer_state_size(self) -> int:
        return 2 * self.hidden if self.arch == "lstm" else self.hidden

    @property
    def state_size(self) -> int:
        """Size S of the (stacked) state whose Jacobian is taken."""
        return self.layers * self.layer_state_size

    @property
    def context_size(self) -> int:
        """Extra inputs of a bidirectional stack: the other direction's output of every layer
        but the top one (held fixed while this direction is differentiated)."""
        return (self.layers - 1) * self.hidden if self.bidirectional else 0

    @property
    def mask_size(self) -> int:
        """Extra inputs carrying the dropout mask on each layer's recurrent h."""
        return self.layers * self.hidden if self.dropout > 0 else 0

    @property
    def step_input_size(self) -> int:
        """Width of the vector one step reads: x, then context, then dropout mask."""
        return self.input_size + self.context_size + self.mask_size

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.pop("extra")
        d.update(dict(self.extra))
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Config:
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        known = {k: v for k, v in d.items() if k in names}
        extra = tuple(sorted((k, v) for k, v in d.items() if k not in names))
        return cls(**known, extra=extra)

    def label(self) -> str:
        parts = [self.arch]
        if self.arch == "rnn" and self.activation != "tanh":
            parts[0] = f"rnn-{self.activation}"
        if self.weights:
            parts.append(option_text("weights", self.weights))
        else:
            parts += [option_text("init", self.init), option_text("scale", self.scale)]
            if self.arch == "lstm" and self.forget_bias:
                parts.append(option_text("forget_bias", self.forget_bias))
        if self.arch == "gru" and self.gru_variant != "pytorch":
            parts.append(option_text("gru_variant", self.gru_variant))
        if self.layers > 1:
            parts.append(f"{self.layers} layers" + (" residual" if self.residual else ""))
        if self.dropout > 0:
            parts.append(f"{self.dropout_mode} dropout {self.dropout:g}")
        if self.bidirectional:
            parts.append(self.direction)
        return " · ".join(parts)

    def directions(self) -> list[Config]:
        """The configs to analyse: both directions of a bidirectional network, else itself."""
        if not self.bidirectional:
            return [self]
        return [dataclasses.replace(self, direction=d) for d in DIRECTIONS]


# Presets fill options the user did not give. `dlfs2` is "Deep Learning from Scratch 2",
# chapter 6: N = 2 sequences, H = 3, T = 20, np.random.seed(3); Wh = randn(H, H) (the
# `textbook` init), a linear backward pass dh <- dh Wh^T and norm sqrt(sum(dh^2)) / N, which
# is the norm over the batch of the gradient of L = mean_n sum_i s_T[n, i] (`batch_mean`).
PRESETS: dict[str, dict[str, Any]] = {
    "dlfs2": {
        "arch": "rnn",
        "activation": "linear",
        "hidden": 3,
        "input_size": 1,
        "steps": 20,
        "batch": 2,
        "init": "textbook",
        "seed": 3,
        "inputs": "zeros",
        "loss": "batch_mean",
    },
}


def _choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise UsageError(
            f"unknown {name} {value!r}",
            f"use one of: {', '.join(choices)} (e.g. --{name.replace('_', '-')} {choices[0]})",
        )


def _positive(name: str, value: int, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"--{name.replace('_', '-')} must be an integer, got {value!r}",
                         f"pass a whole number, e.g. --{name.replace('_', '-')} 64")
    if value < minimum or value > MAX_SIZE:
        raise UsageError(
            f"--{name.replace('_', '-')} must be between {minimum} and {MAX_SIZE}, got {value}",
            f"pass a positive size, e.g. --{name.replace('_', '-')} 64",
        )


def validate(cfg: Config) -> Config:
    """Check every field; raise `UsageError` naming the first bad one."""
    _choice("arch", cfg.arch, ARCHS)
    _choice("activation", cfg.activation, ACTIVATIONS)
    _choice("init", cfg.init, INITS)
    _choice("gru_variant", cfg.gru_variant, GRU_VARIANTS)
    _choice("norm", cfg.norm, NORMS)
    _choice("loss", cfg.loss, LOSSES)
    _choice("direction", cfg.direction, DIRECTIONS)
    _choice("dropout_mode", cfg.dropout_mode, DROPOUT_MODES)
    for name in ("hidden", "input_size", "steps", "layers", "batch"):
        _positive(name, getattr(cfg, name))
    _positive("lyapunov", cfg.lyapunov, minimum=0)
    if cfg.lyapunov > cfg.state_size:
        raise UsageError(
            f"--lyapunov {cfg.lyapunov} exceeds the state size {cfg.state_size}",
            f"ask for at most {cfg.state_size} exponents",
        )
    for name in ("scale", "forget_bias"):
        v = getattr(cfg, name)
        if not isinstance(v, (int, float)) or not math.isfinite(v):
            raise UsageError(f"--{name.replace('_', '-')} must be a finite number, got {v!r}",
                             f"pass e.g. --{name.replace('_', '-')} 1.0")
    if not isinstance(cfg.dropout, (int, float)) or not 0 <= cfg.dropout < 1:
        raise UsageError(f"--dropout must be in [0, 1), got {cfg.dropout!r}",
                         "pass the probability of dropping a unit, e.g. --dropout 0.3")
    if cfg.direction == "backward" and not cfg.bidirectional:
        raise UsageError("direction 'backward' needs a bidirectional network",
                         "add --bidirectional")
    if cfg.residual and cfg.bidirectional:
        raise UsageError("--residual and --bidirectional cannot be combined",
                         "a bidirectional layer's input (2H) and output (H) differ in size; drop one")
    if cfg.residual and cfg.layers < 3:
        raise UsageError("--residual needs --layers 3 or more",
                         "skips join layer k's input to its output from layer 1 up; add layers")
    if cfg.activation != "tanh" and cfg.arch != "rnn":
        raise UsageError(
            f"--activation {cfg.activation} applies to the vanilla RNN only, not {cfg.arch}",
            "drop --activation or use --arch rnn",
        )
    if not (cfg.inputs in ("gaussian", "zeros", "array") or cfg.inputs.startswith("text:")
            or cfg.inputs.endswith(".npy")):
        raise UsageError(f"unknown --inputs {cfg.inputs!r}",
                         "use gaussian, zeros, a .npy file or text:FILE")
    if not (cfg.h0 in ("zeros", "gaussian") or cfg.h0.endswith(".npy")):
        raise UsageError(f"unknown --h0 {cfg.h0!r}", "use zeros, gaussian or a .npy file of shape (S,)")
    if cfg.seed < 0 or cfg.seed >= 2**63:
        raise UsageError(f"--seed must be a non-negative integer, got {cfg.seed}", "pass e.g. --seed 0")
    return cfg


def resolve(explicit: dict[str, Any], *, preset: str | None = None) -> Config:
    """Build a validated `Config` from the options the user gave.

    **Arguments:**

    - `explicit`: option name -> value; `None` values mean "not given". `inputs` may be an
      array (T, D) or (B, T, D) (recorded as `inputs="array"`; its values are the caller's to
      pass on, e.g. `pipeline.analyze_group(..., inputs=...)`).
    - `preset`: name of an entry of `PRESETS`, or `None`.

    **Returns:** a validated `Config` whose sizes agree with any weights / inputs file.
    """
    given = {k: v for k, v in explicit.items() if v is not None}
    values: dict[str, Any] = {}
    if preset is not None:
        if preset not in PRESETS:
            raise UsageError(f"unknown preset {preset!r}", f"use one of: {', '.join(PRESETS)}")
        values.update(PRESETS[preset])
        values["preset"] = preset
    values.update(given)
    names = {f.name for f in dataclasses.fields(Config)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise UsageError(f"unknown option {unknown[0]!r}", "see `gradscope analyze --help`")

    if values.get("weights"):
        ignored = [k for k in WEIGHT_OPTIONS if k in given]
        if ignored:
            flag = "--" + ignored[0].replace("_", "-")
            raise UsageError(f"{flag} has no effect with --weights: the weights come from "
                             f"{values['weights']}",
                             f"drop {flag}, or compare the file with an init: gradscope compare "
                             f"--weights {values['weights']} {flag} …")
        found = _weights.infer_sizes(_weights.read_state_dict(values["weights"]))
        _merge_found(values, given, found, source=values["weights"])
        if values.get("arch") == "rnn" and "activation" not in given:
            # a state_dict does not record nn.RNN's nonlinearity: say that it was assumed
            values["extra"] = (*values.get("extra", ()), ("activation_assumed", True))
    inputs = values.get("inputs", "gaussian")
    found = None
    if inputs is not None and not isinstance(inputs, str):  # an array, from Python
        found, source = _inputs.array_sizes(_inputs.check_array(inputs)), "the inputs array"
        shape = tuple(np.shape(inputs))
        values["inputs"] = "array"
    elif inputs.endswith(".npy") or inputs.startswith("text:"):
        found, source, shape = _inputs.infer_sizes(inputs), inputs, _inputs.shape_of(inputs)
    if found is not None:
        width = values.get("input_size") if values.get("weights") else None
        if width is not None and found["input_size"] != width:
            raise UsageError(f"--inputs {source} has shape {shape}: {found['input_size']} "
                             f"features a step, but the weights in {values['weights']} read "
                             f"{width}", f"pass inputs of shape (T, {width}) or (B, T, {width}) "
                             "(e.g. the output of the network's embedding layer)")
        _merge_found(values, given, found, source=source)
    return validate(Config(**values))


# options that only shape weights drawn by an initialiser: a weights file leaves them no role
WEIGHT_OPTIONS = ("init", "scale", "forget_bias")


def _merge_found(values: dict[str, Any], given: dict[str, Any], found: dict[str, Any],
                 *, source: str) -> None:
    for key, val in found.items():
        if key in given and given[key] != val:
            flag = "--" + key.replace("_", "-")
            raise UsageError(
                f"{flag} {given[key]} contradicts {source}, which has {key} = {val}",
                f"drop {flag}: sizes come from the file",
            )
        values[key] = val
