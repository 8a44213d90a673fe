"""Synthetic reports of many runs for the figure tests: a grid of architectures, scales,
forget biases and seeds, small (T = 10, H = 3) so that drawing them is quick."""

from __future__ import annotations

import math

from gradscope.constants import GATE_NAMES

from .conftest import linear_rnn_run, make_report

GRID_SCALES = (0.5, 1.0, 1.5)


def grid_run(arch: str, scale: float, seed: int = 0, *, forget_bias: float = 0.0,
             T: int = 10, H: int = 3) -> dict:
    """A run of `arch` at `scale` whose numbers are those of a linear RNN of gain `scale`
    (nudged by the seed), with gate blocks for an LSTM or GRU (gate k's singular values
    scale·(1 + k/10)), saturation shares around 0.1·scale and 3 Lyapunov exponents."""
    label = f"{arch} · gaussian · scale {scale:g}"
    run = linear_rnn_run(scale * (1 + 0.01 * seed), T, H, label)
    run["config"].update(arch=arch, init="gaussian", activation="tanh", scale=scale, seed=seed,
                         forget_bias=forget_bias)
    run["series"]["saturation_fraction"] = [0.1 * scale * (1 + (t + seed) % 3) for t in range(T)]
    run["lyapunov"] = [math.log(scale) - 0.1 * k for k in range(3)]
    if arch != "rnn":
        run["spectrum"]["blocks"] = {
            g: {"singular_values": [scale * (1 + k / 10) / (j + 1) for j in range(H)],
                "eigenvalues": [[scale * (1 + k / 10), 0.0]] * H,
                "spectral_radius": scale * (1 + k / 10)}
            for k, g in enumerate(GATE_NAMES[arch])}
        run["spectrum"]["singular_values"] = [2 * scale] * H  # the stacked matrix: not drawn
        run["series"]["log10_seed_bound"] = None
        run["summary"]["theory_log10_gain_per_step"] = None
    return run


def grid_report(archs=("rnn", "lstm", "gru"), scales=GRID_SCALES, seeds=(0,),
                forget_biases=(0.0,), command: str = "compare") -> dict:
    """One run per (arch, scale, forget bias where it applies, seed), in that order."""
    runs = [grid_run(a, s, seed, forget_bias=fb)
            for a in archs for s in scales
            for fb in (forget_biases if a == "lstm" else (0.0,)) for seed in seeds]
    return make_report(runs, command)
