"""Bidirectional stacks: what one direction reads from the other.

Layer k ≥ 1 of a bidirectional network reads `[h_fwd; h_bwd]` of layer k - 1 (PyTorch). Seen
from one direction, the other direction's outputs are inputs that do not depend on this
direction's earlier states in a one- or two-layer network, so the direction is an ordinary
recurrence over `[x; context]` and its Jacobians are taken with the context held fixed. With
three or more layers, paths that leave the direction and come back through the other one
exist as well; they are not part of this direction's `∂s_T/∂s_t` (documented in the README).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from ..cells._stack import layer_fn, layer_params
from ..config import Config


@partial(jax.jit, static_argnums=0)
def other_direction_outputs(cfg: Config, params: dict, xs, s0):
    """The other direction's hidden output of layers 0..L-2, in forward time order.

    **Arguments:**

    - `cfg`: a bidirectional config; `cfg.direction` is the direction being analysed.
    - `params`: every tensor of the network, PyTorch names (with `_reverse`).
    - `xs`: (B, T, D) inputs in forward time order; `s0`: (B, S) initial state of the
      analysed direction (the other one starts from zeros, PyTorch's default).

    **Returns:** (B, T, (L-1)·H).
    """
    one = layer_fn(cfg)
    L, H, W = cfg.layers, cfg.hidden, cfg.layer_state_size
    forward = cfg.direction == "forward"

    def run(p, start, inp, reverse):
        def body(s, x):
            s2, _ = one(p, s, x)
            return s2, s2[:H]

        return jax.lax.scan(body, start, inp, reverse=reverse)[1]

    def per_sequence(start, x):
        inp, outs = x, []
        zero = jnp.zeros(W, x.dtype)
        for k in range(L - 1):
            own = start[k * W : (k + 1) * W]
            h_f = run(layer_params(params, k), own if forward else zero, inp, False)
            h_b = run(layer_params(params, k, "_reverse"), zero if forward else own, inp, True)
            outs.append(h_b if forward else h_f)
            inp = jnp.concatenate([h_f, h_b], axis=-1)
        return jnp.concatenate(outs, axis=-1)

    return jax.vmap(per_sequence)(s0, xs)
