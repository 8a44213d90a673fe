"""Initialisers of `--init` (docs/cli.md). Every draw comes from numpy generators seeded by
`cfg.seed`, so float32 and `--x64` runs (and CPU and GPU runs) start from the same numbers."""

from __future__ import annotations

import numpy as np

from ..config import Config


def _recurrent_block(init: str, H: int, scale: float, rng: np.random.Generator) -> np.ndarray:
    if init == "gaussian":
        return rng.standard_normal((H, H)) * (scale / np.sqrt(H))
    if init == "orthogonal":
        q, r = np.linalg.qr(rng.standard_normal((H, H)))
        return scale * q * np.sign(np.diag(r))
    if init == "identity":
        return scale * np.eye(H)
    if init == "xavier":
        bound = np.sqrt(6.0 / (H + H))
        return scale * rng.uniform(-bound, bound, (H, H))
    if init == "pytorch":
        return scale * rng.uniform(-1 / np.sqrt(H), 1 / np.sqrt(H), (H, H))
    raise ValueError(init)


def _textbook_hh(cfg: Config, layer: int) -> np.ndarray:
    # "Deep Learning from Scratch 2": np.random.seed(seed); Wh = np.random.randn(H, G*H) * scale,
    # used as h @ Wh (row vectors). In column form that is W_hh = Wh.T.
    rs = np.random.RandomState(cfg.seed + layer)
    return (rs.randn(cfg.hidden, cfg.gates * cfg.hidden) * cfg.scale).T


def init_params(cfg: Config) -> dict[str, np.ndarray]:
    """PyTorch-named parameters for `cfg` (float64 numpy arrays).

    `--init` and `--scale` shape W_hh (each gate block separately); W_ih is N(0, 1/D_in)
    and biases are zero, except `pytorch`, where everything is U(±1/√H) as in `nn.RNN`.
    `--forget-bias` is added to the LSTM forget-gate block of `bias_ih`. A bidirectional
    network also gets the `_reverse` tensors of PyTorch, and layers k ≥ 1 read 2H inputs.
    """
    H = cfg.hidden
    params: dict[str, np.ndarray] = {}
    suffixes = ("", "_reverse") if cfg.bidirectional else ("",)
    for k in range(cfg.layers):
        d_in = cfg.input_size if k == 0 else H * len(suffixes)
        for j, suffix in enumerate(suffixes):
            # The forward direction draws what a unidirectional network draws.
            rng = np.random.default_rng([cfg.seed, 1, k] + ([j] if j else []))
            for name, value in _layer(cfg, k + 1000 * j, d_in, rng).items():
                params[f"{name}_l{k}{suffix}"] = value
    return params


def _layer(cfg: Config, k: int, d_in: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    G, H = cfg.gates, cfg.hidden
    if cfg.init == "textbook":
        w_hh = _textbook_hh(cfg, k)
    else:
        w_hh = np.concatenate([_recurrent_block(cfg.init, H, cfg.scale, rng) for _ in range(G)])
    if cfg.init == "pytorch":
        bound = 1 / np.sqrt(H)
        w_ih = rng.uniform(-bound, bound, (G * H, d_in))
        b_ih, b_hh = rng.uniform(-bound, bound, (2, G * H))
    else:
        w_ih = rng.standard_normal((G * H, d_in)) / np.sqrt(d_in)
        b_ih, b_hh = np.zeros(G * H), np.zeros(G * H)
    if cfg.arch == "lstm":
        b_ih = b_ih.copy()
        b_ih[H : 2 * H] += cfg.forget_bias
    return {"weight_ih": w_ih, "weight_hh": w_hh, "bias_ih": b_ih, "bias_hh": b_hh}
