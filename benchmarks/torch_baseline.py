"""The project's own PyTorch baseline: what a careful PyTorch user computes for the same
numbers — per-step Jacobians with torch.func (vmap of jacrev over t), the chain of products
P_t = J_T … J_{t+1} in plain float32, and ‖P_t‖₂ by a batched SVD. Optional: needs torch."""

from __future__ import annotations

import time

import numpy as np


def _cell(arch: str, H: int):
    import torch

    def rnn(s, x, w_ih, w_hh, b):
        return torch.tanh(w_ih @ x + w_hh @ s + b)

    def lstm(s, x, w_ih, w_hh, b):
        h, c = s[:H], s[H:]
        i, f, g, o = (w_ih @ x + w_hh @ h + b).chunk(4)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.cat([torch.sigmoid(o) * torch.tanh(c), c])

    def gru(s, x, w_ih, w_hh, b):
        xr, xz, xn = (w_ih @ x + b).chunk(3)
        hr, hz, hn = (w_hh @ s).chunk(3)
        r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
        return (1 - z) * torch.tanh(xn + r * hn) + z * s

    return {"rnn": rnn, "lstm": lstm, "gru": gru}[arch]


def log10_jacobian_norms(arch: str, params: dict, xs: np.ndarray, device: str = "cpu"
                         ) -> tuple[np.ndarray, float]:
    """log10 ‖P_t‖ for t = 0..T and the seconds it took (float32, on `device`)."""
    import torch
    from torch.func import jacrev, vmap

    def tensor(a):
        return torch.tensor(a, dtype=torch.float32, device=device)

    w_ih, w_hh = tensor(params["weight_ih_l0"]), tensor(params["weight_hh_l0"])
    b = tensor(params["bias_ih_l0"] + params["bias_hh_l0"])
    H = w_hh.shape[1]
    S = 2 * H if arch == "lstm" else H
    step = _cell(arch, H)
    x = tensor(xs)
    eye = torch.eye(S, device=device)
    if device != "cpu":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    with torch.no_grad():
        s, states = torch.zeros(S, device=device), []
        for t in range(x.shape[0]):
            states.append(s)
            s = step(s, x[t], w_ih, w_hh, b)
        J = vmap(jacrev(step), in_dims=(0, 0, None, None, None))(torch.stack(states), x,
                                                                  w_ih, w_hh, b)
        P, Ps = eye, [eye]
        for t in range(x.shape[0] - 1, -1, -1):
            P = P @ J[t]
            Ps.append(P)
        norms = torch.linalg.matrix_norm(torch.stack(Ps[::-1]), ord=2)
        out = torch.log10(norms).cpu().numpy()  # waits for the device
    return out, time.perf_counter() - t0
