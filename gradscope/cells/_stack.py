"""Stacked layers: the state of a stack is the concatenation of the layers' states."""

from __future__ import annotations

from functools import partial

import jax.numpy as jnp

from ..config import Config
from ._cells import gru_cho_layer, gru_layer, lstm_layer, rnn_layer


def layer_fn(cfg: Config):
    """The one-layer step `(p, s, x) -> (s', aux)` that `cfg` names."""
    if cfg.arch == "rnn":
        return partial(rnn_layer, act=cfg.activation)
    if cfg.arch == "lstm":
        return lstm_layer
    return gru_cho_layer if cfg.gru_variant == "cho" else gru_layer


def split_layers(params: dict, layers: int) -> list[dict]:
    """PyTorch-named flat params -> one `{w_ih, w_hh, b_ih, b_hh}` dict per layer."""
    return [
        {
            "w_ih": params[f"weight_ih_l{k}"],
            "w_hh": params[f"weight_hh_l{k}"],
            "b_ih": params[f"bias_ih_l{k}"],
            "b_hh": params[f"bias_hh_l{k}"],
        }
        for k in range(layers)
    ]


def make_step(cfg: Config):
    """Build `step(params, s, x) -> (s', aux)` over the stacked state of `cfg.layers` layers.

    Layer k > 0 reads the new hidden output `h` of layer k - 1 at the same time step. With
    `cfg.residual`, layer k ≥ 1 passes up `h_k + (its own input)` (a skip connection; layer 0
    cannot, its input has size D). `aux` entries are concatenated over layers.
    """
    one = layer_fn(cfg)
    L, H, width, residual = cfg.layers, cfg.hidden, cfg.layer_state_size, cfg.residual

    def step(params, s, x):
        layer_params = split_layers(params, L)
        new, auxes = [], []
        inp = x
        for k in range(L):
            s_k, aux = one(layer_params[k], s[k * width : (k + 1) * width], inp)
            new.append(s_k)
            auxes.append(aux)
            inp = s_k[:H] + inp if residual and k > 0 else s_k[:H]
        aux = {key: jnp.concatenate([a[key] for a in auxes]) for key in auxes[0]}
        return jnp.concatenate(new), aux

    return step
