"""A synthetic report whose every number is known: a linear RNN with W = a·I has
log10 ‖P_t‖ = (T − t)·log10 a exactly."""

import math

import pytest

T = 10


def linear_run(a: float, label: str, *, arch="rnn", std=False, nonfinite_at=None, preset=None):
    g = math.log10(a)
    jac = [(T - t) * g for t in range(T + 1)]
    if nonfinite_at is not None:
        jac = [None] * nonfinite_at + jac[nonfinite_at:]
    run = {
        "label": label,
        "config": {"arch": arch, "hidden": 2, "steps": T, "init": "identity", "scale": a,
                   "preset": preset},
        "state_size": 4 if arch == "lstm" else 2,
        "series": {
            "log10_jacobian_norm": jac,
            "log10_local_norm": [g] * T,
            "log10_loss_grad_norm": [v + 0.15 if v is not None else None for v in jac],
            "log10_seed_bound": [v + 0.5 if v is not None else None for v in jac],
            "log10_activation_deriv_product": [0.0] * (T + 1),
            "saturation_fraction": [0.0, 0.5] * (T // 2),
            "log10_cell_path_norm": [-0.1 * (T - t) for t in range(T + 1)] if arch == "lstm" else None,
        },
        "spectrum": {"singular_values": [a, a], "eigenvalues": [[a, 0.0], [a, 0.0]],
                     "spectral_radius": a, "blocks": {}},
        "summary": {"log10_gain_per_step": g, "regime": "vanishing" if a < 1 else "exploding",
                    "memory_horizon": (math.ceil(-3 / g - 1e-9) if a < 1 and -3 / g <= T else None),
                    "first_nonfinite_step": nonfinite_at, "theory_log10_gain_per_step": g},
        "lyapunov": None,
        "timings": {"compile_s": 0.1, "run_s": 0.01},
    }
    if std:
        run["series_std"] = {k: ([0.1] * len(v) if v is not None else None)
                             for k, v in run["series"].items()}
    return run


@pytest.fixture
def report():
    return {
        "schema": "gradscope.report/1", "version": "0.1.0", "command": "compare",
        "created": "2026-11-23T10:00:00Z",
        "runs": [linear_run(0.5, "rnn · a=0.5 <&>", std=True),
                 linear_run(2.0, "lstm · a=2", arch="lstm"),
                 linear_run(0.8, "rnn · a=0.8", nonfinite_at=3)],
    }
