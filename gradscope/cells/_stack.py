"""Stacked layers: the state of a stack is the concatenation of the layers' states."""

from __future__ import annotations

from functools import cache, partial

import jax.numpy as jnp
import numpy as np

from ..config import Config
from ._cell import Cell, StructuredCell
from ._cells import gru_cho_layer, gru_layer, gru_post, lstm_layer, lstm_post, rnn_layer, rnn_post
from ._structured import unitwise_coefficients, unitwise_jacobian, unitwise_products


def layer_fn(cfg: Config):
    """The one-layer step `(p, s, x) -> (s', aux)` that `cfg` names."""
    if cfg.arch == "rnn":
        return partial(rnn_layer, act=cfg.activation)
    if cfg.arch == "lstm":
        return lstm_layer
    return gru_cho_layer if cfg.gru_variant == "cho" else gru_layer


def layer_post(cfg: Config):
    """The unit-wise part of the layer (`_cells.py`), or None where the cell has none (Cho's
    GRU multiplies r into h before W)."""
    if cfg.arch == "rnn":
        return partial(rnn_post, act=cfg.activation)
    if cfg.arch == "lstm":
        return lstm_post
    return None if cfg.gru_variant == "cho" else gru_post


def layer_params(params: dict, k: int, suffix: str = "") -> dict:
    """Layer k's `{w_ih, w_hh, b_ih, b_hh}` from PyTorch-named params (`suffix="_reverse"`:
    the second direction of a bidirectional layer)."""
    return {"w_ih": params[f"weight_ih_l{k}{suffix}"], "w_hh": params[f"weight_hh_l{k}{suffix}"],
            "b_ih": params[f"bias_ih_l{k}{suffix}"], "b_hh": params[f"bias_hh_l{k}{suffix}"]}


def split_layers(params: dict, layers: int) -> list[dict]:
    """PyTorch-named flat params -> one `{w_ih, w_hh, b_ih, b_hh}` dict per layer."""
    return [layer_params(params, k) for k in range(layers)]


def direction_params(cfg: Config, params: dict) -> dict:
    """The parameters of the direction `cfg` analyses, under the plain (forward) names.

    A bidirectional layer k ≥ 1 reads `[h_fwd; h_bwd]` of the layer below (PyTorch). The step
    reads its own direction first (`[own; other]`), so the backward direction's `weight_ih`
    columns are swapped here; a unidirectional network's params come back as they are.
    """
    if not cfg.bidirectional:
        return params
    suffix = "_reverse" if cfg.direction == "backward" else ""
    H, out = cfg.hidden, {}
    for k in range(cfg.layers):
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            out[f"{name}_l{k}"] = params[f"{name}_l{k}{suffix}"]
        if suffix and k > 0:
            w = out[f"weight_ih_l{k}"]
            out[f"weight_ih_l{k}"] = np.concatenate([w[:, H:], w[:, :H]], axis=1)
    return out


def make_step(cfg: Config):
    """Build `step(params, s, x) -> (s', aux)` over the stacked state of `cfg.layers` layers.

    Layer k > 0 reads the new hidden output `h` of layer k - 1 at the same time step. With
    `cfg.residual`, layer k ≥ 1 passes up `h_k + (its own input)` (a skip connection; layer 0
    cannot, its input has size D). `aux` entries are concatenated over layers.

    The step's input vector is `[x; context; mask]` (`cfg.step_input_size`): for a
    bidirectional network, layer k ≥ 1 also reads the other direction's output of layer k - 1
    (`context`, H per layer below the top); with `--dropout`, the recurrent `h` of every layer
    is multiplied by its `mask` (H per layer, already scaled by 1/(1-p)) before the step, so
    the mask is a constant of the Jacobian, as it is of the backward pass in training.
    """
    one = layer_fn(cfg)
    L, H, width, residual = cfg.layers, cfg.hidden, cfg.layer_state_size, cfg.residual
    D, C = cfg.input_size, cfg.context_size

    def step(params, s, x_full, kicks=None):
        # `kicks` (L, H), when given, is added to what each layer passes up (not to its
        # state): the derivative with respect to it is the depth direction ∂h_top/∂h_k.
        per_layer = split_layers(params, L)
        x, context, mask = x_full[:D], x_full[D : D + C], x_full[D + C :]
        new, auxes = [], []
        inp = x
        for k in range(L):
            s_k = s[k * width : (k + 1) * width]
            if mask.shape[0]:  # only h; an LSTM's cell c is not masked
                s_k = s_k.at[:H].multiply(mask[k * H : (k + 1) * H])
            s_k, aux = one(per_layer[k], s_k, inp)
            new.append(s_k)
            auxes.append(aux)
            up = s_k[:H] if kicks is None else s_k[:H] + kicks[k]
            if C:
                inp = jnp.concatenate([up, context[k * H : (k + 1) * H]])
            else:
                inp = up + inp if residual and k > 0 else up
        aux = {key: jnp.concatenate([a[key] for a in auxes]) for key in auxes[0]}
        return jnp.concatenate(new), aux

    return step


STEP_FIELDS = ("arch", "activation", "gru_variant", "layers", "hidden", "input_size",
               "residual", "bidirectional")  # a dropout mask shows in the input width


def cell_for(cfg: Config) -> Cell:
    """The `Cell` of `cfg`'s network (`make_cell`), one object per cell shape, so that the
    engine's compiled programs are reused across configurations that differ in values."""
    return _cell_for(tuple((f, getattr(cfg, f)) for f in STEP_FIELDS))


@cache
def _cell_for(key: tuple) -> Cell:
    return make_cell(Config(**dict(key)))


def make_cell(cfg: Config) -> Cell:
    """`make_step(cfg)` as a `Cell`: a one-layer LSTM or (PyTorch) GRU as a `StructuredCell`,
    whose J_t is built from the unit-wise form of `_structured.py` (its `P @ J` costs
    2·S²·H flops instead of the VJP's 2·S·G·H²); every other network as a VJP `Cell`
    (for the vanilla RNN the VJP's product is already one S×S product)."""
    step = make_step(cfg)
    post = layer_post(cfg)
    if cfg.layers != 1 or post is None or cfg.arch == "rnn":
        return Cell(step, cfg.arch)
    H, D, C = cfg.hidden, cfg.input_size, cfg.context_size

    def layer_input(params, s, x_full):
        # the layer's params, its (masked) state and input, and the dropout mask
        p, mask = layer_params(params, 0), x_full[D + C :]
        if mask.shape[0]:
            s = s.at[:H].multiply(mask)
        return p, s, x_full[:D], mask

    def jacobian(params, s, x_full):
        # J_t as (cols, tail) (`_structured.py`); a dropout mask scales the h columns
        p, s, x, mask = layer_input(params, s, x_full)
        cols, tail = unitwise_jacobian(post, p, s, x)
        return (cols * mask if mask.shape[0] else cols), tail

    def products(params, s, x_full):
        # (v -> J_t v, w -> w J_t) in O(G·H²) each, W_hh shared (`_structured.py`)
        p, s, x, mask = layer_input(params, s, x_full)
        matvec, rmatvec = unitwise_products(p["w_hh"], *unitwise_coefficients(post, p, s, x))
        if not mask.shape[0]:
            return matvec, rmatvec
        return (lambda v: matvec(v.at[:H].multiply(mask)),
                lambda w: rmatvec(w).at[:H].multiply(mask))

    return StructuredCell(step, cfg.arch, structured=jacobian, products=products)
