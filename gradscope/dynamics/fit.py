"""Summary numbers from a log10 ‖P_t‖ profile: gain per step, regime, memory horizon."""

from __future__ import annotations

import numpy as np

HORIZON_LOG10 = -3.0  # ‖P_t‖ < 1e-3


def gain_per_step(log_norm: np.ndarray) -> float | None:
    """Least-squares slope of log10 ‖P_t‖ against the distance d = T − t (finite points)."""
    T = len(log_norm) - 1
    d = T - np.arange(T + 1)
    ok = np.isfinite(log_norm)
    if ok.sum() < 2:
        return None
    return float(np.polyfit(d[ok], log_norm[ok], 1)[0])


def regime(gain: float | None, steps: int) -> str | None:
    """`stable` when the fitted change over the whole sequence is under one decade
    (|gain| · T ≤ 1), else `vanishing` (gain < 0) or `exploding` (gain > 0)."""
    if gain is None:
        return None
    if abs(gain) * steps <= 1.0:
        return "stable"
    return "vanishing" if gain < 0 else "exploding"


def memory_horizon(log_norm: np.ndarray) -> int | None:
    """Steps back from T until ‖P_t‖ < 1e-3; None if it never drops that low."""
    below = np.nonzero(log_norm[::-1] < HORIZON_LOG10)[0]
    return int(below[0]) if below.size else None


def first_nonfinite_step(nonfinite: np.ndarray) -> int | None:
    """First t whose state (any batch element) is NaN or inf; `nonfinite` (B, T+1) marks
    the non-finite states."""
    idx = np.nonzero(nonfinite.any(axis=0))[0]
    return int(idx[0]) if idx.size else None


def summarize(log_norm: np.ndarray, nonfinite: np.ndarray) -> dict:
    T = len(log_norm) - 1
    g = gain_per_step(log_norm)
    return {
        "log10_gain_per_step": g,
        "regime": regime(g, T),
        "memory_horizon": memory_horizon(log_norm),
        "first_nonfinite_step": first_nonfinite_step(nonfinite),
    }
