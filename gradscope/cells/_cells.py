"""One layer of each cell, in the equations of docs/cli.md (PyTorch gate order)."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def activation(name: str):
    """Return `(phi, phi_prime)` for the vanilla RNN's activation."""
    if name == "tanh":
        return jnp.tanh, lambda z: 1.0 - jnp.tanh(z) ** 2
    if name == "relu":
        return jax.nn.relu, lambda z: (z > 0).astype(z.dtype)
    if name == "linear":
        return (lambda z: z), jnp.ones_like
    raise ValueError(name)


def recurrent(p, s):
    """The recurrent pre-activations `W_hh h + b_hh` (h = the first H entries of the state)."""
    return p["w_hh"] @ s[: p["w_hh"].shape[1]] + p["b_hh"]


# Each layer below is `post(p, recurrent(p, s), s, x)`, where `post` acts unit by unit: its
# output for unit u reads only entry u of each gate block of `W_hh h + b_hh` and entry u of
# each block of the state. `cells/_structured.py` builds J_t from that split.


def rnn_post(p, gh, h, x, *, act: str = "tanh"):
    """`h' = phi(W_ih x + b_ih + W_hh h + b_hh)`, given `gh = W_hh h + b_hh`."""
    phi, dphi = activation(act)
    z = p["w_ih"] @ x + p["b_ih"] + gh
    return phi(z), {"pre": z, "deriv": dphi(z)}


def lstm_post(p, gh, s, x):
    """State `s = [h; c]`; gates i, f, g, o; `c' = f c + i g`, `h' = o tanh(c')`."""
    H = p["w_hh"].shape[1]
    c = s[H:]
    gates = p["w_ih"] @ x + p["b_ih"] + gh
    i, f, g, o = jnp.split(gates, 4)
    i, f, o = jax.nn.sigmoid(i), jax.nn.sigmoid(f), jax.nn.sigmoid(o)
    c2 = f * c + i * jnp.tanh(g)
    h2 = o * jnp.tanh(c2)
    aux = {"pre": g, "deriv": 1.0 - jnp.tanh(g) ** 2, "forget": f}
    return jnp.concatenate([h2, c2]), aux


def gru_post(p, gh, h, x):
    """PyTorch/cuDNN GRU: `n = tanh(W_in x + b_in + r (W_hn h + b_hn))`, `h' = (1-z) n + z h`."""
    gi = p["w_ih"] @ x + p["b_ih"]
    ir, iz, i_n = jnp.split(gi, 3)
    hr, hz, h_n = jnp.split(gh, 3)
    r = jax.nn.sigmoid(ir + hr)
    z = jax.nn.sigmoid(iz + hz)
    a = i_n + r * h_n
    n = jnp.tanh(a)
    return (1.0 - z) * n + z * h, {"pre": a, "deriv": 1.0 - n**2}


def rnn_layer(p, h, x, *, act: str = "tanh"):
    return rnn_post(p, recurrent(p, h), h, x, act=act)


def lstm_layer(p, s, x):
    return lstm_post(p, recurrent(p, s), s, x)


def gru_layer(p, h, x):
    return gru_post(p, recurrent(p, h), h, x)


def gru_cho_layer(p, h, x):
    """CS224N / Cho et al. GRU: `h~ = tanh(W (r h) + U x + b)`, `h' = (1-u) h + u h~`."""
    H = p["w_hh"].shape[1]
    gi = p["w_ih"] @ x + p["b_ih"]
    w_r, w_u, w_n = p["w_hh"][:H], p["w_hh"][H : 2 * H], p["w_hh"][2 * H :]
    b_r, b_u, b_n = jnp.split(p["b_hh"], 3)
    ir, iu, i_n = jnp.split(gi, 3)
    r = jax.nn.sigmoid(ir + w_r @ h + b_r)
    u = jax.nn.sigmoid(iu + w_u @ h + b_u)
    a = i_n + w_n @ (r * h) + b_n
    n = jnp.tanh(a)
    return (1.0 - u) * h + u * n, {"pre": a, "deriv": 1.0 - n**2}
