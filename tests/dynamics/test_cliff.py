"""The cliff's map, loss, gradients and descent paths against plain numpy: a loop of the
recurrence, central finite differences in float64, and the fixed-point analysis."""

import math

import jax
import numpy as np
import pytest

from gradscope.cli.cliff import START
from gradscope.dynamics import cliff as C

X0, TARGET, T = 0.5, 0.7, 50
ACT = {"sigmoid": lambda x: 1 / (1 + math.exp(-x)), "tanh": math.tanh}


def x_T(w, b, act="sigmoid", steps=T, x0=X0):
    x = x0
    for _ in range(steps):
        x = w * ACT[act](x) + b
    return x


def loss_np(w, b, act="sigmoid", steps=T):
    return 0.5 * (x_T(w, b, act, steps) - TARGET) ** 2


def fd_grad(w, b, act="sigmoid", steps=T, h=1e-6):
    return np.array([(loss_np(w + h, b, act, steps) - loss_np(w - h, b, act, steps)) / (2 * h),
                     (loss_np(w, b + h, act, steps) - loss_np(w, b - h, act, steps)) / (2 * h)])


def sep_b(w):
    """x_0 is a fixed point: b = x_0 − w·σ(x_0)."""
    return X0 - w * ACT["sigmoid"](X0)


POINTS = [(2.0, -1.0), (5.0, -2.0), (6.0, -4.0), (-1.5, 0.5), (3.0, 1.0)]


@pytest.mark.parametrize("act", ["sigmoid", "tanh"])
def test_loss_and_gradient_match_numpy_loop_and_finite_differences(act):
    steps = T if act == "sigmoid" else 20
    pts = np.array(POINTS)
    with jax.enable_x64(True):
        ls, gs = C.loss_and_grad(pts, X0, TARGET, steps=steps, activation=act)
    assert ls.dtype == np.float64
    for (w, b), l, g in zip(POINTS, ls, gs, strict=True):
        assert l == pytest.approx(loss_np(w, b, act, steps), rel=1e-12, abs=1e-14)
        np.testing.assert_allclose(g, fd_grad(w, b, act, steps), rtol=1e-5, atol=1e-7)


def test_grid_is_the_pointwise_evaluation_rows_along_b():
    ws, bs = np.linspace(1.0, 7.0, 5), np.linspace(-4.0, 0.5, 4)
    log_l, log_g = C.surface(ws, bs, x0=X0, target=TARGET, steps=T, activation="sigmoid")
    assert log_l.shape == log_g.shape == (4, 5)
    for j, b in enumerate(bs):
        for i, w in enumerate(ws):
            assert log_l[j, i] == pytest.approx(math.log10(loss_np(w, b)), abs=1e-9)
            g = np.linalg.norm(fd_grad(w, b))
            assert log_g[j, i] == pytest.approx(math.log10(g), abs=1e-4)


def test_grid_chunks_and_padding_give_the_same_numbers(monkeypatch):
    ws, bs = np.linspace(0.0, 9.0, 7), np.linspace(-6.0, 1.0, 6)
    whole = C.surface(ws, bs, x0=X0, target=TARGET, steps=T, activation="sigmoid")
    monkeypatch.setattr(C, "CHUNK", 8)  # 42 points: 5 full chunks and a padded one
    C._surface_fn.cache_clear()
    seen = []
    parts = C.surface(ws, bs, x0=X0, target=TARGET, steps=T, activation="sigmoid",
                      progress=lambda d, n: seen.append((d, n)))
    for a, b in zip(whole, parts, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    assert seen[-1] == (42, 42) and len(seen) == 6


def test_the_cliff_gradient_jumps_by_orders_of_magnitude_across_the_line():
    w = 5.0
    b0 = sep_b(w)
    assert float(C.separatrix_b(w, X0)) == pytest.approx(b0, abs=1e-15)
    # either side of the line x_T lands on a different attractor (numpy loop)
    assert x_T(w, b0 - 1e-3) < -1 and x_T(w, b0 + 1e-3) > 1
    near = np.linalg.norm(fd_grad(w, b0 - 1e-4, h=1e-8))
    far = max(np.linalg.norm(fd_grad(w, b0 + d)) for d in (-0.3, -0.1, 0.1, 0.3))
    assert near / far > 1e3
    with jax.enable_x64(True):
        _, g = C.loss_and_grad(np.array([[w, b0 - 1e-4], [w, b0 + 0.3]]), X0, TARGET, steps=T,
                               activation="sigmoid")
    assert np.linalg.norm(g[0]) == pytest.approx(near, rel=1e-4)
    # the wall's gradient is perpendicular to the line b = x_0 − w·σ(x_0): ∇ ∥ (σ(x_0), 1)
    n = np.array([ACT["sigmoid"](X0), 1.0])
    cos = abs(g[0] @ n) / (np.linalg.norm(g[0]) * np.linalg.norm(n))
    assert cos > 0.99


@pytest.mark.parametrize("w", [4.5, 5.0, 7.0])
def test_bistable_wedge_matches_iterating_the_map(w):
    lo, hi = C.fixed_point_wedge(np.array(w))
    assert lo < sep_b(w) < hi  # the cliff line runs inside the wedge

    def limits(b):
        return x_T(w, b, steps=3000, x0=-20.0), x_T(w, b, steps=3000, x0=20.0)

    for b in (lo + 0.02 * (hi - lo), 0.5 * (lo + hi), hi - 0.02 * (hi - lo)):
        a, z = limits(b)
        assert abs(a - z) > 0.5  # two attractors
    for b in (lo - 0.05, hi + 0.05):
        a, z = limits(b)
        assert a == pytest.approx(z, abs=1e-6)  # one
    assert np.isnan(C.fixed_point_wedge(np.array(3.9))[0])


def test_cliff_line_starts_where_the_fixed_point_turns_unstable():
    line = C.cliff_line(0.0, 9.0, x0=X0, activation="sigmoid")
    s = ACT["sigmoid"](X0)
    assert line["w_min"] == pytest.approx(1 / (s * (1 - s)))
    assert line["w"] == [pytest.approx(line["w_min"]), 9.0]
    assert line["b"][1] == pytest.approx(sep_b(9.0))
    assert C.cliff_line(0.0, 4.0, x0=X0, activation="sigmoid") is None
    t = math.tanh(X0)
    tanh_line = C.cliff_line(0.0, 9.0, x0=X0, activation="tanh")
    assert tanh_line["w_min"] == pytest.approx(1 / (1 - t * t))


@pytest.fixture(scope="module")
def default_paths():
    from gradscope.cli import cliff as cli

    start = tuple(float(v) for v in START.split(","))
    sig = cli.cliff.__kwdefaults__
    kw = {"lr": sig["lr"], "iters": sig["iters"]}
    paths = C.descend(start, clips=[None, 1.0, 5.0], x0=X0, target=TARGET, steps=T,
                      activation="sigmoid", **kw)
    return start, kw, paths


def test_path_shapes_and_start(default_paths):
    start, kw, paths = default_paths
    n = kw["iters"]
    for p in paths:
        assert len(p["w"]) == len(p["loss"]) == len(p["grad_norm"]) == n + 1
        assert len(p["clipped"]) == len(p["step_norm"]) == n
        assert (p["w"][0], p["b"][0]) == start
        assert p["first_nonfinite_iter"] is None
        assert p["loss"][0] == pytest.approx(loss_np(*start), rel=1e-12)
        steps = np.hypot(np.diff(p["w"]), np.diff(p["b"]))
        np.testing.assert_allclose(p["step_norm"], steps, rtol=1e-9, atol=1e-15)


def test_clipped_steps_are_short_and_point_down_the_gradient(default_paths):
    _, kw, paths = default_paths
    lr = kw["lr"]
    for p, theta in zip(paths[1:], (1.0, 5.0), strict=True):
        assert np.all(p["step_norm"] <= lr * theta * (1 + 1e-9))
        clipped = np.flatnonzero(p["clipped"] == 1)
        assert clipped.size > 0
        # a clipped step is exactly lr·θ long; an unclipped one is lr·‖∇L‖
        np.testing.assert_allclose(p["step_norm"][clipped], lr * theta, rtol=1e-9)
        free = np.flatnonzero(p["clipped"] == 0)
        np.testing.assert_allclose(p["step_norm"][free], lr * p["grad_norm"][free], rtol=1e-9)
        for k in clipped[:: max(1, clipped.size // 6)]:
            d = np.array([p["w"][k + 1] - p["w"][k], p["b"][k + 1] - p["b"][k]])
            g = fd_grad(p["w"][k], p["b"][k], h=1e-8)
            cos = -(d @ g) / (np.linalg.norm(d) * np.linalg.norm(g))
            assert cos == pytest.approx(1.0, abs=1e-5)
            assert np.linalg.norm(g) > theta


def test_unclipped_path_jumps_far_clipped_ones_do_not(default_paths):
    _, kw, (none, one, five) = default_paths
    assert not np.any(none["clipped"])
    # unclipped, each step is −lr·∇L (checked against the numpy gradient at a few steps)
    for k in (0, 10, 50):
        d = np.array([none["w"][k + 1] - none["w"][k], none["b"][k + 1] - none["b"][k]])
        np.testing.assert_allclose(d, -kw["lr"] * fd_grad(none["w"][k], none["b"][k]),
                                   rtol=1e-5)
    big = np.nanmax(none["step_norm"])
    assert big > 100 * max(np.nanmax(one["step_norm"]), np.nanmax(five["step_norm"]))
    assert big > 1.0  # a tenth of the default map, in one step


def test_a_path_that_overflows_stops_cleanly():
    (p,) = C.descend((5.5, -2.0), clips=[None], lr=1e306, iters=6, x0=X0, target=TARGET,
                     steps=T, activation="sigmoid")
    k = p["first_nonfinite_iter"]
    assert k is not None and 1 <= k <= 6
    assert np.isfinite(p["w"][:k]).all() and np.isfinite(p["loss"][:k]).all()
    assert np.isnan(p["w"][k + 1:]).all() and np.isnan(p["loss"][k:]).all()
    assert np.isnan(p["step_norm"][k:]).all() and np.isnan(p["clipped"][k:]).all()
    # where the overflowing step landed is kept: −lr·∇L from the last finite point
    assert abs(p["w"][k] - p["w"][k - 1]) > 1e300 and p["step_norm"][k - 1] > 1e300


def test_log10_floor_and_rounding():
    out = C.log10_np(np.array([0.0, 1e-5, np.inf, np.nan, 100.0]))
    assert out[0] == pytest.approx(C.LOG10_TINY) and out[1] == pytest.approx(-5.0)
    assert np.isnan(out[2]) and np.isnan(out[3]) and out[4] == 2.0
    assert C.round_sig([[1.23456789, -9.87654321e-12]]) == [[1.23457, -9.87654e-12]]
    assert math.isnan(C.round_sig([np.nan])[0])
