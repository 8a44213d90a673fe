"""Cells written again in plain numpy from the equations of docs/cli.md, independent of
gradscope.cells, to cross-check them."""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def rnn(p, h, x, act="tanh"):
    z = p["weight_ih_l0"] @ x + p["bias_ih_l0"] + p["weight_hh_l0"] @ h + p["bias_hh_l0"]
    return {"tanh": np.tanh, "relu": lambda v: np.maximum(v, 0), "linear": lambda v: v}[act](z)


def lstm(p, s, x):
    H = p["weight_hh_l0"].shape[1]
    h, c = s[:H], s[H:]
    W_ii, W_if, W_ig, W_io = np.split(p["weight_ih_l0"], 4)
    W_hi, W_hf, W_hg, W_ho = np.split(p["weight_hh_l0"], 4)
    b = p["bias_ih_l0"] + p["bias_hh_l0"]
    b_i, b_f, b_g, b_o = np.split(b, 4)
    i = sigmoid(W_ii @ x + W_hi @ h + b_i)
    f = sigmoid(W_if @ x + W_hf @ h + b_f)
    g = np.tanh(W_ig @ x + W_hg @ h + b_g)
    o = sigmoid(W_io @ x + W_ho @ h + b_o)
    c_new = f * c + i * g
    return np.concatenate([o * np.tanh(c_new), c_new])


def gru(p, h, x):
    W_ir, W_iz, W_in = np.split(p["weight_ih_l0"], 3)
    W_hr, W_hz, W_hn = np.split(p["weight_hh_l0"], 3)
    b_ir, b_iz, b_in = np.split(p["bias_ih_l0"], 3)
    b_hr, b_hz, b_hn = np.split(p["bias_hh_l0"], 3)
    r = sigmoid(W_ir @ x + b_ir + W_hr @ h + b_hr)
    z = sigmoid(W_iz @ x + b_iz + W_hz @ h + b_hz)
    n = np.tanh(W_in @ x + b_in + r * (W_hn @ h + b_hn))
    return (1 - z) * n + z * h


def gru_cho(p, h, x):
    # CS224N: u = σ(W_u h + U_u x + b_u), r = σ(W_r h + U_r x + b_r),
    # h~ = tanh(W (r∘h) + U x + b), h' = (1 - u)∘h + u∘h~ ; blocks in order r, u(z), n.
    U_r, U_u, U = np.split(p["weight_ih_l0"], 3)
    W_r, W_u, W = np.split(p["weight_hh_l0"], 3)
    b = p["bias_ih_l0"] + p["bias_hh_l0"]
    b_r, b_u, b_n = np.split(b, 3)
    r = sigmoid(W_r @ h + U_r @ x + b_r)
    u = sigmoid(W_u @ h + U_u @ x + b_u)
    h_tilde = np.tanh(W @ (r * h) + U @ x + b_n)
    return (1 - u) * h + u * h_tilde


def unroll(cell, p, s0, xs, **kw):
    out = [s0]
    for x in xs:
        out.append(cell(p, out[-1], x, **kw))
    return np.stack(out)
