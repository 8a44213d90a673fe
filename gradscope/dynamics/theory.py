"""Mean-field prediction for the vanilla RNN (Chen, Pennington & Schoenholz 2018).

With recurrent weight variance σ_w² = ‖W_hh‖_F² / H and input drive variance σ_in², the
pre-activation variance settles at the fixed point q* = σ_w² E[φ(√q* z)²] + σ_in², and one
step back multiplies the mean squared gradient norm by χ = σ_w² E[φ'(√q* z)²]
(z ~ N(0, 1)). The predicted log10 gain per step of ‖P_t‖ is ½ log10 χ.
"""

from __future__ import annotations

import numpy as np

_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(101)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def _expect(f, q: float) -> float:
    return float(np.sum(_WEIGHTS * f(np.sqrt(q) * _NODES)))


def _phi(activation: str):
    if activation == "tanh":
        return np.tanh, lambda z: 1.0 - np.tanh(z) ** 2
    if activation == "relu":
        return (lambda z: np.maximum(z, 0.0)), lambda z: (z > 0).astype(float)
    return (lambda z: z), np.ones_like


def fixed_point_variance(activation: str, sigma_w2: float, sigma_in2: float,
                         iters: int = 500) -> float:
    phi, _ = _phi(activation)
    q = max(sigma_in2, 1.0)
    for _ in range(iters):
        q_new = sigma_w2 * _expect(lambda z: phi(z) ** 2, q) + sigma_in2
        if not np.isfinite(q_new) or q_new > 1e12:
            return float("inf")
        if abs(q_new - q) < 1e-12 * max(1.0, q):
            return q_new
        q = q_new
    return q


def chi(activation: str, sigma_w2: float, sigma_in2: float) -> float:
    _, dphi = _phi(activation)
    if activation != "tanh":  # φ'² does not depend on the scale of z
        return sigma_w2 * _expect(lambda z: dphi(z) ** 2, 1.0)
    q = fixed_point_variance(activation, sigma_w2, sigma_in2)
    if not np.isfinite(q):
        return 0.0
    return sigma_w2 * _expect(lambda z: dphi(z) ** 2, q)


def theory_gain_per_step(activation: str, w_hh: np.ndarray, input_drive: np.ndarray) -> float | None:
    """½ log10 χ for a one-layer vanilla RNN.

    **Arguments:**

    - `w_hh`: (H, H). `input_drive`: W_ih x_t + b_ih + b_hh for all t (and sequences).
    """
    H = w_hh.shape[1]
    sigma_w2 = float(np.sum(np.asarray(w_hh, np.float64) ** 2) / H)
    sigma_in2 = float(np.mean(np.asarray(input_drive, np.float64) ** 2))
    c = chi(activation, sigma_w2, sigma_in2)
    return 0.5 * float(np.log10(c)) if c > 0 else None
