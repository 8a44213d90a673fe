"""The host-side arrays of a Config, as numpy: its weights (from `--weights` or the
initialiser), inputs, initial states, dropout masks and what the analysed step reads, and
the memory check made before any of them goes to the device (`pipeline._group`)."""

from __future__ import annotations

import numpy as np

from . import memory
from .cells import init_params
from .config import Config
from .dynamics.directions import other_direction_outputs
from .errors import UsageError
from .io import inputs, weights


def load_params(cfg: Config) -> dict[str, np.ndarray]:
    """Weights from `--weights` (checked against the sizes) or from the initialiser."""
    if cfg.weights:

        sd = weights.read_state_dict(cfg.weights)
        return weights.check_params(sd, arch=cfg.arch, hidden=cfg.hidden,
                                    input_size=cfg.input_size, layers=cfg.layers,
                                    bidirectional=cfg.bidirectional, source=cfg.weights)

    return init_params(cfg)


def make_inputs(cfg: Config) -> np.ndarray:
    """Inputs of shape (B, T, D) as float64."""
    shape = (cfg.batch, cfg.steps, cfg.input_size)
    if cfg.inputs == "gaussian":
        return np.random.default_rng([cfg.seed, 2]).standard_normal(shape)
    if cfg.inputs == "zeros":
        return np.zeros(shape)
    if cfg.inputs == "array":
        raise UsageError("inputs='array' comes with the array itself",
                         "pass the array as inputs= to gradscope.analyze or compare")

    xs = inputs.load_inputs(cfg.inputs, dtype=np.float64)
    if xs.shape != shape:
        raise UsageError(f"inputs {cfg.inputs} have shape {xs.shape}, expected {shape}",
                         "drop --steps/--batch/--input-size: they come from the file")
    return xs


def make_h0(cfg: Config) -> np.ndarray:
    """Initial states (B, S): zeros, N(0, 1), or a .npy of shape (S,) or (B, S)."""
    B, S = cfg.batch, cfg.state_size
    if cfg.h0 == "zeros":
        return np.zeros((B, S))
    if cfg.h0 == "gaussian":
        return np.random.default_rng([cfg.seed, 3]).standard_normal((B, S))
    try:
        h0 = np.load(cfg.h0, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise UsageError(f"cannot read --h0 file {cfg.h0}: {e}", "pass a .npy of shape (S,)") from e
    if h0.shape not in ((S,), (B, S)) or not np.isfinite(h0).all():
        raise UsageError(f"--h0 {cfg.h0} has shape {h0.shape} or non-finite values",
                         f"expected finite values of shape ({S},) or ({B}, {S})")
    return np.broadcast_to(h0, (B, S)).astype(np.float64)


def make_masks(cfg: Config) -> np.ndarray:
    """Dropout masks on each layer's recurrent h, (B, T, L·H), scaled by 1/(1-p) (inverted
    dropout, as in training): one mask for all steps (`variational`, Gal & Ghahramani) or a
    new one per step (`naive`)."""
    B, T, n = cfg.batch, cfg.steps, cfg.mask_size
    rng = np.random.default_rng([cfg.seed, 4])
    keep = rng.random((B, 1 if cfg.dropout_mode == "variational" else T, n)) >= cfg.dropout
    return np.broadcast_to(keep / (1.0 - cfg.dropout), (B, T, n))


def step_inputs(cfg: Config, params: dict, xs: np.ndarray, h0: np.ndarray) -> np.ndarray:
    """What the analysed step reads at each of its steps, (B, T, `cfg.step_input_size`):
    the inputs in the direction's time order, the other direction's lower-layer outputs
    (bidirectional) and the dropout masks (see `cells.make_step`)."""
    parts = [xs]
    if cfg.context_size:

        parts.append(np.asarray(other_direction_outputs(cfg, params, xs, h0), np.float64))
    if cfg.direction == "backward":
        parts = [p[:, ::-1] for p in parts]
    if cfg.mask_size:
        parts.append(make_masks(cfg))
    return np.concatenate(parts, axis=-1) if len(parts) > 1 else parts[0]


def check_memory(cfg: Config, runs: int = 1) -> None:
    """Refuse, before allocating, a forward pass whose states and aux cannot fit."""

    itemsize = 8 if cfg.x64 else 4
    per_step = cfg.state_size + 3 * cfg.layers * cfg.hidden + cfg.step_input_size
    need = 2 * runs * cfg.batch * (cfg.steps + 1) * per_step * itemsize
    avail = memory.available_bytes()
    if need > avail // 2:
        raise UsageError(
            f"{runs} run(s) × batch {cfg.batch} × {cfg.steps} steps × state {cfg.state_size} "
            f"need about {need / 2**30:.1f} GiB, more than half the {avail / 2**30:.1f} GiB free",
            "lower --steps, --batch or --hidden, or analyse fewer runs at once",
        )
