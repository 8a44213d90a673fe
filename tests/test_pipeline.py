"""The whole pipeline on small sizes: the DLFS2 book numbers, the seeds' bound, batches."""

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradscope.config import Config, resolve
from gradscope.pipeline import analyze, analyze_group

BOOK_SCALE_1 = {1: 2.4684, 2: 3.3357, 3: 4.7833, 20: 249.50}


@pytest.mark.parametrize(("scale", "expected"), [(1.0, BOOK_SCALE_1), (0.5, {20: 2.3794e-4})])
def test_dlfs2_preset_gives_the_books_numbers(scale, expected):
    run = analyze(resolve({"scale": scale}, preset="dlfs2"))
    g = run["series"]["log10_loss_grad_norm"]
    T = run["config"]["steps"]
    assert T == 20 and run["config"]["batch"] == 2 and run["config"]["hidden"] == 3
    for k, value in expected.items():
        assert 10 ** g[T - k] == pytest.approx(value, rel=5e-5)


@settings(max_examples=4, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(H=st.integers(2, 12), act=st.sampled_from(["tanh", "relu", "linear"]),
       runs=st.lists(st.tuples(st.floats(0.2, 3.0), st.integers(0, 10_000)), min_size=4,
                     max_size=4))
def test_seed_bound_is_above_the_true_norm(H, act, runs):
    # the runs of one example share their shapes: one compiled group serves them all
    cfgs = [Config(hidden=H, input_size=3, steps=16, scale=scale, seed=seed, activation=act,
                   x64=True) for scale, seed in runs]
    for run in analyze_group(cfgs):
        s = run["series"]
        for bound, actual in zip(s["log10_seed_bound"], s["log10_jacobian_norm"], strict=True):
            if actual is not None:  # relu can zero a product exactly
                assert bound >= actual - 1e-9


def test_batch_series_are_means_of_single_runs(tmp_path):
    xs = np.random.default_rng(0).standard_normal((3, 12, 4))
    np.save(tmp_path / "all.npy", xs)
    batch = analyze(resolve({"inputs": str(tmp_path / "all.npy"), "hidden": 6, "arch": "lstm",
                             "x64": True}))
    singles = []
    for b in range(3):
        np.save(tmp_path / f"{b}.npy", xs[b])
        singles.append(analyze(resolve({"inputs": str(tmp_path / f"{b}.npy"), "hidden": 6,
                                        "arch": "lstm", "x64": True})))
    key = "log10_jacobian_norm"
    per = np.array([r["series"][key] for r in singles])
    np.testing.assert_allclose(batch["series"][key], per.mean(axis=0), atol=1e-10)
    np.testing.assert_allclose(batch["series_std"][key], per.std(axis=0), atol=1e-10)
    assert "series_std" not in singles[0]


def test_float32_agrees_with_x64():
    a = analyze(Config(arch="gru", hidden=16, steps=60))["series"]["log10_jacobian_norm"]
    b = analyze(Config(arch="gru", hidden=16, steps=60, x64=True))["series"]["log10_jacobian_norm"]
    np.testing.assert_allclose(a, b, atol=1e-3)


def test_exploding_relu_reports_first_nonfinite_step_without_crashing():
    run = analyze(Config(activation="relu", init="identity", scale=50.0, hidden=4, steps=400,
                         inputs="gaussian"))
    step = run["summary"]["first_nonfinite_step"]
    assert step is not None and 0 < step <= 400
    json.dumps(run, allow_nan=False)  # non-finite numbers are reported as null, not NaN


def test_run_has_every_key_of_the_spec():
    run = analyze(Config(arch="lstm", hidden=8, steps=10))
    assert set(run) >= {"label", "config", "state_size", "series", "spectrum", "summary",
                        "lyapunov", "timings"}
    assert set(run["series"]) == {
        "log10_jacobian_norm", "log10_local_norm", "log10_loss_grad_norm", "log10_seed_bound",
        "log10_activation_deriv_product", "saturation_fraction", "log10_cell_path_norm"}
    assert len(run["series"]["log10_jacobian_norm"]) == 11
    assert len(run["series"]["log10_local_norm"]) == 10
    assert run["series"]["log10_jacobian_norm"][-1] == pytest.approx(0.0, abs=1e-6)
    assert run["series"]["log10_seed_bound"] is None
    assert set(run["spectrum"]["blocks"]) == {"i", "f", "g", "o"}
    assert run["state_size"] == 16


def test_one_vmapped_group_equals_separate_runs():
    from gradscope.pipeline import analyze_group

    cfgs = [Config(arch="lstm", hidden=6, steps=20, scale=s, init=i, batch=2, x64=True, seed=n,
                   h0=h)
            for s, i, n, h in ((0.5, "gaussian", 0, "zeros"), (2.0, "orthogonal", 7, "gaussian"))]
    for cfg, grouped in zip(cfgs, analyze_group(cfgs), strict=True):
        alone = analyze(cfg)
        for key in ("log10_jacobian_norm", "log10_local_norm", "log10_loss_grad_norm"):
            np.testing.assert_allclose(grouped["series"][key], alone["series"][key], atol=1e-9)


def test_lyapunov_top_exponent_matches_the_fitted_gain():
    run = analyze(Config(hidden=32, steps=300, lyapunov=2, x64=True))
    top = run["lyapunov"][0] / np.log(10)  # natural log -> log10 per step
    assert run["lyapunov"][0] >= run["lyapunov"][1]
    assert top == pytest.approx(run["summary"]["log10_gain_per_step"], abs=0.02)


@pytest.mark.slow
def test_theory_matches_measured_gain_for_a_wide_tanh_rnn():
    # H = 512, Gaussian init, both sides of the edge of chaos (χ = 1 near scale 1.9 here).
    # Measured minus theory is +0.013, +0.010, +0.009, +0.004 (finite-width effects shrink
    # as the scale grows); the stated tolerance is 0.02 in log10 per step.
    for scale in (0.8, 1.2, 1.5, 2.0):
        s = analyze(Config(hidden=512, steps=100, scale=scale, seed=1))["summary"]
        assert s["log10_gain_per_step"] == pytest.approx(s["theory_log10_gain_per_step"], abs=0.02)


def test_values_computed_at_non_finite_states_are_blanked():
    run = analyze(Config(activation="relu", scale=8.0, hidden=16, steps=200))
    k = run["summary"]["first_nonfinite_step"]
    assert k is not None and k < 200
    assert run["summary"]["memory_horizon"] is None
    assert all(v is None for v in run["series"]["log10_jacobian_norm"][:-1])
    assert all(v is None for v in run["series"]["log10_local_norm"][k:])
    assert run["series"]["log10_local_norm"][0] is not None


def test_forward_pass_that_cannot_fit_is_refused_before_allocating(monkeypatch):
    from gradscope import memory
    from gradscope.errors import UsageError

    monkeypatch.setattr(memory, "available_bytes", lambda: 2**30)
    with pytest.raises(UsageError, match="GiB") as e:
        analyze(Config(arch="lstm", hidden=1024, steps=10_000, batch=8))
    assert "--steps" in e.value.hint


def test_forget_bias_lengthens_the_lstm_memory_horizon():
    """The seeds' remedy: f ≈ σ(b_f) near one keeps the cell path open."""
    horizons = [analyze(Config(arch="lstm", hidden=32, steps=300, forget_bias=b))["summary"]
                ["memory_horizon"] for b in (0.0, 2.0)]
    assert horizons[0] is not None
    assert horizons[1] is None or horizons[1] > 2 * horizons[0]



def test_jacobian_norms_alone_are_the_analysis_series():
    from gradscope.pipeline import jacobian_norms

    cfgs = [Config(arch="lstm", hidden=6, input_size=3, steps=20, batch=2, scale=1.5, seed=s)
            for s in (0, 1)]
    alone = jacobian_norms(cfgs)
    assert alone.shape == (2, 2, 21) and np.isfinite(alone).all()
    for cfg, a in zip(cfgs, alone, strict=True):
        run = analyze(cfg)
        np.testing.assert_allclose(a.mean(axis=0), run["series"]["log10_jacobian_norm"],
                                   atol=1e-6)
        assert np.ptp(a[:, 0]) > 0  # the two sequences differ: the mean is not trivial
    assert np.abs(alone[0] - alone[1]).max() > 0.01  # and so do the seeds


def test_a_group_of_different_shapes_is_refused():
    from gradscope.pipeline import analyze_group, jacobian_norms

    cfgs = [Config(arch="rnn", hidden=4, steps=5), Config(arch="rnn", hidden=5, steps=5)]
    for run in (analyze_group, jacobian_norms):
        with pytest.raises(ValueError, match="differ only in values"):
            run(cfgs)
