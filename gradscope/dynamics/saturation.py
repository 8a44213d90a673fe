"""The seeds' per-step quantities, from the pre-activations and gates of the forward pass.

All inputs are host arrays of one sequence: `deriv` (T, U) = φ'(z_k) of the candidate
activation for every unit, `forget` (T, U) the LSTM forget gate. Outputs are log10 values
indexed like `log10_jacobian_norm` (t = 0..T, the value at T being the empty product).
"""

from __future__ import annotations

import numpy as np

SATURATED_DERIV = 0.1  # tanh'(z) < 0.1  <=>  |z| > 1.8


def _suffix_sums(a: np.ndarray) -> np.ndarray:
    """out[t] = Σ_{k>t} a[k-1] for t = 0..T (a has T rows); out[T] = 0 (float64 sums)."""
    a = np.asarray(a, np.float64)
    zero = np.zeros((1,) + a.shape[1:])
    return np.concatenate([np.cumsum(a[::-1], axis=0)[::-1], zero])


def _log10(a: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(np.asarray(a, np.float64))


def seed_bound(deriv: np.ndarray, sigma_max: float) -> np.ndarray:
    """`Σ_{k>t} log10(max_i |φ'(z_k,i)| · σ_max(W_hh))`, the bound on log10 ‖P_t‖ of a
    one-layer vanilla RNN, whose J_k = diag(φ'(z_k)) W_hh."""
    per_step = _log10(np.abs(deriv).max(axis=1)) + np.log10(sigma_max)
    return _suffix_sums(per_step)


def activation_deriv_product(deriv: np.ndarray) -> np.ndarray:
    """`log10 max_i Π_{k>t} φ'(z_k,i)`: the largest product of derivatives of one unit."""
    return _suffix_sums(_log10(np.abs(deriv))).max(axis=1)


def saturation_fraction(deriv: np.ndarray) -> np.ndarray:
    """Share of units with φ'(z) < 0.1 at each step t = 1..T."""
    return (np.abs(deriv) < SATURATED_DERIV).mean(axis=1)


def cell_path_norm(forget: np.ndarray) -> np.ndarray:
    """LSTM `log10 ‖Π_{k>t} diag(f_k)‖ = log10 max_i Π_{k>t} f_k,i`."""
    return _suffix_sums(_log10(forget)).max(axis=1)
