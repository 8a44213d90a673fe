"""Clipping invariants, truncated backpropagation, learning and divergence of the loop."""

import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradscope.cells import init_params, make_step
from gradscope.config import Config, validate
from gradscope.dynamics.unroll import unroll
from gradscope.training.clipping import clip_by_global_norm, clip_by_value
from gradscope.training.loop import HEAD_BIAS, HEAD_WEIGHT, LoopSpec, forward, init_head
from gradscope.training.runner import GroupTrainer, TrainSettings
from gradscope.training.tasks import make_task

# --------------------------------------------------------------------------- clipping

shapes = st.lists(st.lists(st.integers(1, 4), min_size=0, max_size=2), min_size=1, max_size=4)


def _tree(seed: int, leaf_shapes, scale: float) -> dict:
    rng = np.random.default_rng(seed)
    return {f"p{i}": jnp.asarray(rng.standard_normal(s) * scale, jnp.float32)
            for i, s in enumerate(leaf_shapes)}


def _flat(tree) -> np.ndarray:
    return np.concatenate([np.ravel(np.asarray(v, np.float64)) for v in jax.tree.leaves(tree)])


@settings(max_examples=25, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**31 - 1), leaf_shapes=shapes,
       scale=st.sampled_from([1e-3, 0.1, 1.0, 10.0, 1e4]),
       theta=st.floats(1e-3, 1e3, allow_nan=False))
def test_global_norm_clip_bounds_norm_keeps_direction_and_equals_optax(seed, leaf_shapes, scale,
                                                                      theta):
    g = _tree(seed, leaf_shapes, scale)
    clipped, norm, acted = clip_by_global_norm(g, jnp.float32(theta))
    before, after = _flat(g), _flat(clipped)
    assert float(norm) == pytest.approx(np.linalg.norm(before), rel=1e-5)
    assert np.linalg.norm(after) <= theta * (1 + 1e-5)
    assert bool(acted) == (float(norm) > theta)
    if not acted:
        np.testing.assert_array_equal(after, before)
    cosine = after @ before / (np.linalg.norm(after) * np.linalg.norm(before))
    assert cosine == pytest.approx(1.0, abs=1e-6)
    ref, _ = optax.clip_by_global_norm(theta).update(g, optax.EmptyState())
    for k in g:
        np.testing.assert_array_equal(np.asarray(clipped[k]), np.asarray(ref[k]))


def test_clip_threshold_is_traced_inf_is_none_and_value_mode_is_optax_clip():
    g = _tree(0, [[3, 2], [4]], 5.0)
    thetas = jnp.asarray([np.inf, 1.0, 1e6], jnp.float32)
    clipped, norm, acted = jax.jit(jax.vmap(clip_by_global_norm, in_axes=(None, 0)))(g, thetas)
    assert acted.tolist() == [False, True, False]
    for k in g:
        np.testing.assert_array_equal(clipped[k][0], g[k])
        ref, _ = optax.clip_by_global_norm(1.0).update(g, optax.EmptyState())
        # jit may fuse the division and product differently from optax's eager ops: 1 ulp
        np.testing.assert_allclose(clipped[k][1], ref[k], rtol=1e-6)
    vclipped, _, vacted = jax.vmap(clip_by_value, in_axes=(None, 0))(g, thetas)
    ref, _ = optax.clip(1.0).update(g, optax.EmptyState())
    for k in g:
        np.testing.assert_array_equal(vclipped[k][1], ref[k])
        np.testing.assert_array_equal(vclipped[k][0], g[k])
    big = max(float(jnp.abs(v).max()) for v in g.values())
    assert vacted.tolist() == [False, big > 1.0, big > 1e6]


# --------------------------------------------------------------------------- tbptt

def _model(arch="lstm", H=5, D=2, O=1, layers=1):
    cfg = validate(Config(arch=arch, hidden=H, input_size=D, layers=layers, seed=1))
    params = init_params(cfg) | init_head(cfg, O)
    params = {k: jnp.asarray(v, jnp.float32) for k, v in params.items()}
    return cfg, make_step(cfg), params


def _spec(cfg, K):
    return LoopSpec("sgd", "norm", K, True, cfg.layers, cfg.hidden, cfg.layer_state_size)


def _last_step_loss(step, spec, params, xs):
    return (forward(step, spec, params, xs)[-1, 0] - 0.3) ** 2


def test_tbptt_long_window_is_full_bptt_short_window_cuts_old_inputs():
    cfg, step, params = _model("lstm", H=3)
    L, K = 12, 4
    xs = jnp.asarray(np.random.default_rng(0).standard_normal((L, 2)), jnp.float32)
    top = (cfg.layers - 1) * cfg.layer_state_size

    # Independent references from the project's plain unroll: the full gradient, and the
    # truncated one as the full gradient of the last K steps from s_{L-K} taken as a constant.
    def plain_loss(params, s, xs):
        h = unroll(step, params, s, xs)[0][-1][top : top + cfg.hidden]
        return ((params[HEAD_WEIGHT] @ h + params[HEAD_BIAS])[0] - 0.3) ** 2

    plain = jax.jit(jax.grad(plain_loss, argnums=(0, 2)))
    full_p, full_x = plain(params, jnp.zeros(cfg.state_size), xs)
    s_mid = unroll(step, params, jnp.zeros(cfg.state_size), xs[: L - K])[0][-1]
    trunc_p, trunc_x = plain(params, s_mid, xs[L - K :])

    grad = jax.jit(jax.grad(_last_step_loss, argnums=(2, 3)), static_argnums=(0, 1))
    for K_long in (L, 50):
        p, x = grad(step, _spec(cfg, K_long), params, xs)
        np.testing.assert_allclose(_flat(p), _flat(full_p), rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(x, full_x, rtol=1e-5, atol=1e-7)
    p, x = grad(step, _spec(cfg, K), params, xs)
    assert (np.asarray(x[: L - K]) == 0).all()
    assert (np.abs(np.asarray(x[L - K :])).sum(axis=1) > 0).all()
    np.testing.assert_allclose(x[L - K :], trunc_x, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(_flat(p), _flat(trunc_p), rtol=1e-5, atol=1e-7)
    assert not np.allclose(_flat(p), _flat(full_p))


# --------------------------------------------------------------------------- training

def _trainer(arch, task, clips, **kw):
    cfg = validate(Config.from_dict(dict(arch=arch, hidden=kw.pop("hidden", 4),
                                         input_size=task.input_size, steps=task.steps)))
    return GroupTrainer(cfg, TrainSettings(task, tuple(clips), **kw))


def test_huge_lr_diverges_as_a_result_clipped_run_stays_finite():
    task = make_task("adding", 5)
    trainer = _trainer("rnn", task, [math.inf, 1.0], optimizer="sgd", lr=1e4, batch_size=4,
                       iters=30, checkpoint_every=10)
    trainer.run()
    free, clipped = trainer.records()
    bad = free["summary"]["first_nonfinite_iter"]
    assert isinstance(bad, int) and 0 <= bad < 30
    assert free["summary"]["final_loss"] is None and free["summary"]["solved"] is False
    assert all(v is None for v in free["series"]["loss"][bad + 1 :])
    assert all(ck["iter"] <= bad for ck in free["checkpoints"])
    assert all(np.isfinite(v).all() for v in trainer.weights(0).values())  # frozen, finite
    assert clipped["summary"]["first_nonfinite_iter"] is None
    assert all(v is not None for v in clipped["series"]["loss"])
    assert clipped["summary"]["clip_fraction"] > 0.5
    assert all(n <= 1.0 or c == 1 for n, c in zip(clipped["series"]["grad_norm"],
                                                  clipped["series"]["clipped"], strict=True))
    assert len(clipped["checkpoints"]) == 4
    json.dumps([free, clipped], allow_nan=False)


def test_runs_share_init_and_data_and_chunking_does_not_matter():
    # the shapes of the divergence test, so that most programs are compiled once
    task = make_task("adding", 5)
    runs = []
    for every in (10, 5):
        t = _trainer("rnn", task, [math.inf, 1.0], optimizer="sgd", lr=0.05, batch_size=4,
                     iters=10, checkpoint_every=every)
        t.run()
        runs.append(t.records())
    (a_free, a_clip), (b_free, _) = runs
    assert a_free["series"]["loss"][0] == a_clip["series"]["loss"][0]  # same init, same batch
    np.testing.assert_allclose(a_free["series"]["loss"], b_free["series"]["loss"], rtol=1e-5)
    assert b_free["series"]["eval_iter"] == [0, 5, 10]
    assert [c["iter"] for c in b_free["checkpoints"]] == [0, 5, 10]
    assert len(b_free["checkpoints"][-1]["log10_jacobian_norm"]) == 6
