"""Singular values and eigenvalues of W_hh: the seeds' condition σ_max(W_hh) vs 1."""

from __future__ import annotations

import numpy as np

from ..constants import GATE_NAMES


def _eig(block: np.ndarray) -> np.ndarray:
    ev = np.linalg.eigvals(block)
    order = np.argsort(-np.abs(ev), kind="stable")
    return ev[order]


def recurrent_spectrum(w_hh: np.ndarray, arch: str) -> dict:
    """Spectrum of one layer's `weight_hh` (G·H, H) in the report's layout.

    **Returns:** dict with `singular_values` (of the stacked matrix, descending),
    `eigenvalues` ([re, im] of the square block(s), by decreasing modulus, shape (n, 2)),
    `spectral_radius` (largest over blocks) and `blocks` (per gate block for LSTM/GRU; empty
    for the RNN). Arrays are numpy (the report's `json_safe` turns them into lists).
    """
    w = np.asarray(w_hh, dtype=np.float64)
    H = w.shape[1]
    names = GATE_NAMES[arch]
    blocks = {}
    eig_all = []
    for k, name in enumerate(names):
        b = w[k * H : (k + 1) * H]
        ev = _eig(b)
        eig_all.append(ev)
        blocks[name] = {
            "singular_values": np.linalg.svd(b, compute_uv=False),
            "eigenvalues": np.column_stack([ev.real, ev.imag]),
            "spectral_radius": float(np.abs(ev).max()),
        }
    ev = np.concatenate(eig_all)
    return {
        "singular_values": np.linalg.svd(w, compute_uv=False),
        "eigenvalues": np.column_stack([ev.real, ev.imag]),
        "spectral_radius": float(np.abs(ev).max()),
        "blocks": blocks if len(names) > 1 else {},
    }
