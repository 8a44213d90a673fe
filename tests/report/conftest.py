"""Synthetic reports whose every value is known in closed form.

A linear RNN with W_hh = a·I has J_t = a·I, so ‖P_t‖ = a^(T−t) exactly:
log10 ‖P_t‖ = (T − t)·log10 a, log10 ‖J_t‖ = log10 a, and with L = Σ s_T the loss gradient
is ∂L/∂s_t = a^(T−t)·1, of norm √H·a^(T−t).
"""

from __future__ import annotations

import copy
import math

import pytest


def linear_rnn_run(a: float, T: int, H: int, label: str, *, batch: int = 1) -> dict:
    g = math.log10(a)
    series = {
        "log10_jacobian_norm": [(T - t) * g for t in range(T + 1)],
        "log10_local_norm": [g] * T,
        "log10_loss_grad_norm": [0.5 * math.log10(H) + (T - t) * g for t in range(T + 1)],
        "log10_seed_bound": [(T - t) * g for t in range(T + 1)],
        "log10_activation_deriv_product": [0.0] * (T + 1),
        "saturation_fraction": [0.0] * T,
        "log10_cell_path_norm": None,
    }
    horizon = next((T - t for t in range(T, -1, -1) if series["log10_jacobian_norm"][t] < -3),
                   None)
    run = {
        "label": label,
        "config": {"arch": "rnn", "hidden": H, "input_size": 2, "steps": T, "layers": 1,
                   "activation": "linear", "init": "identity", "scale": a, "batch": batch,
                   "seed": 0, "weights": None, "preset": None},
        "state_size": H,
        "series": series,
        "spectrum": {"singular_values": [a] * H, "eigenvalues": [[a, 0.0]] * H,
                     "spectral_radius": a, "blocks": {}},
        "summary": {"log10_gain_per_step": g,
                    "regime": "vanishing" if a < 1 else "exploding" if a > 1 else "stable",
                    "memory_horizon": horizon, "first_nonfinite_step": None,
                    "theory_log10_gain_per_step": g},
        "lyapunov": None,
        "timings": {"compile_s": 0.1, "run_s": 0.01},
    }
    if batch > 1:
        run["series_std"] = {k: None if v is None else [0.05 * (i % 3) for i in range(len(v))]
                             for k, v in series.items()}
    return run


def lstm_run(T: int = 20, H: int = 3) -> dict:
    """Gated run: ‖P_t‖ = 0.9^(T−t), forget gates 0.7 (cell path 0.7^(T−t))."""
    blocks = {
        name: {"singular_values": [r, r / 2, r / 4],
               "eigenvalues": [[r, 0.0], [0.0, r / 2], [0.0, -r / 2]], "spectral_radius": r}
        for name, r in (("i", 0.4), ("f", 0.8), ("g", 1.2), ("o", 0.6))
    }
    return {
        "label": "lstm · orthogonal · scale 1",
        "config": {"arch": "lstm", "hidden": H, "input_size": 2, "steps": T, "layers": 1,
                   "activation": "tanh", "init": "orthogonal", "scale": 1.0, "batch": 1,
                   "seed": 0, "weights": None, "preset": None},
        "state_size": 2 * H,
        "series": {
            "log10_jacobian_norm": [(T - t) * math.log10(0.9) for t in range(T + 1)],
            "log10_local_norm": [math.log10(0.9)] * T,
            "log10_loss_grad_norm": [(T - t) * math.log10(0.9) + 0.3 for t in range(T + 1)],
            "log10_seed_bound": None,
            "log10_activation_deriv_product": None,
            "saturation_fraction": [(t % 4) / 4 for t in range(1, T + 1)],
            "log10_cell_path_norm": [(T - t) * math.log10(0.7) for t in range(T + 1)],
        },
        "spectrum": {"singular_values": [1.0, 0.75, 0.5],
                     "eigenvalues": [e for b in blocks.values() for e in b["eigenvalues"]],
                     "spectral_radius": 1.2, "blocks": blocks},
        "summary": {"log10_gain_per_step": math.log10(0.9), "regime": "vanishing",
                    "memory_horizon": None, "first_nonfinite_step": None,
                    "theory_log10_gain_per_step": None},
        "lyapunov": [-0.1, -0.3],
        "timings": {"compile_s": 0.1, "run_s": 0.01},
    }


def nonfinite_gru_run(T: int = 15, bad: int = 9) -> dict:
    """A GRU whose state overflows at step `bad`: every value from there on is None."""
    g = 0.4
    jac = [(T - t) * g if t < bad else None for t in range(T + 1)]
    return {
        "label": "gru · gaussian · scale 3",
        "config": {"arch": "gru", "hidden": 2, "input_size": 2, "steps": T, "layers": 1,
                   "activation": "tanh", "init": "gaussian", "scale": 3.0, "batch": 1,
                   "seed": 1, "weights": None, "preset": None},
        "state_size": 2,
        "series": {
            "log10_jacobian_norm": jac,
            "log10_local_norm": [g if t < bad else None for t in range(1, T + 1)],
            "log10_loss_grad_norm": list(jac),
            "log10_seed_bound": None,
            "log10_activation_deriv_product": None,
            "saturation_fraction": [0.5 if t < bad else None for t in range(1, T + 1)],
            "log10_cell_path_norm": None,
        },
        "spectrum": {"singular_values": [3.0, 2.0], "eigenvalues": [[2.5, 0.5], [2.5, -0.5]],
                     "spectral_radius": 2.55,
                     "blocks": {n: {"singular_values": [3.0, 2.0],
                                    "eigenvalues": [[2.5, 0.5], [2.5, -0.5]],
                                    "spectral_radius": 2.55} for n in "rzn"}},
        "summary": {"log10_gain_per_step": g, "regime": "exploding", "memory_horizon": None,
                    "first_nonfinite_step": bad, "theory_log10_gain_per_step": None},
        "lyapunov": None,
        "timings": {"compile_s": 0.1, "run_s": 0.01},
    }


def make_report(runs: list[dict], command: str = "compare") -> dict:
    return {"schema": "gradscope.report/1", "version": "0.1.0", "command": command,
            "created": "2026-11-22T10:00:00Z",
            "device": {"platform": "cpu", "device": "cpu", "jax": "0.0"}, "runs": runs}


# Run 0's label has characters that must be escaped in HTML and quoted in CSV.
ODD_LABEL = 'rnn <linear> & a=0.5, "half"'
T0, H0 = 20, 4


def _main_report() -> dict:
    return make_report([
        linear_rnn_run(0.5, T0, H0, ODD_LABEL),
        linear_rnn_run(1.25, T0, H0, "rnn · linear · scale 1.25 · batch 3", batch=3),
        lstm_run(),
        nonfinite_gru_run(),
    ])


def dlfs2_run(scale: float, first: float, ratio: float, T: int = 20) -> dict:
    """The DLFS2 preset: the book's norm after k steps is first·ratio^(k−1), at index T − k."""
    run = linear_rnn_run(ratio, T, 3, f"rnn-linear · textbook · scale {scale:g}", batch=2)
    run["config"].update(init="textbook", scale=scale, preset="dlfs2")
    run["series"]["log10_loss_grad_norm"] = [
        math.log10(first) + (T - 1 - t) * math.log10(ratio) for t in range(T + 1)]
    return run


@pytest.fixture
def report() -> dict:
    """Four runs: linear RNN a=0.5 (odd label), linear RNN a=1.25 with series_std, an LSTM
    with its cell path, and a GRU with None values after a non-finite step."""
    return _main_report()


@pytest.fixture(scope="session")
def shared_report() -> dict:
    """Like `report`, for expensive session fixtures; tests must not change it."""
    return _main_report()


@pytest.fixture(scope="session")
def dlfs2_report() -> dict:
    # scale 1: 2.4684 … 249.50 over 20 steps; scale 0.5: 2.4684 decaying to 2.3794e-4
    return make_report([dlfs2_run(1.0, 2.4684, (249.50 / 2.4684) ** (1 / 19)),
                        dlfs2_run(0.5, 2.4684, (2.3794e-4 / 2.4684) ** (1 / 19))],
                       command="analyze")


@pytest.fixture(scope="session")
def written_plots(tmp_path_factory, shared_report):
    """The main report's figures, written once per session: (plots_dir, png paths)."""
    from gradscope.report import write_plots

    plots_dir = tmp_path_factory.mktemp("plots")
    return plots_dir, write_plots(copy.deepcopy(shared_report), plots_dir)
