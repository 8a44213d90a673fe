"""Compiled programs: kept per process, and their lowered form kept on disk across processes."""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gradscope.dynamics import compiled as mod


def _step(params, s, x):
    return jnp.tanh(params["w"] @ s + x), None


@partial(jax.jit, static_argnums=(0,))
def _program(step, params, s, xs):
    return jax.lax.scan(lambda c, x: (step(params, c, x)[0], None), s, xs)[0]


@pytest.fixture
def disk_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("GRADSCOPE_NO_CACHE", raising=False)
    monkeypatch.setattr(mod, "_folder", lambda: tmp_path)
    monkeypatch.setattr(mod, "_CACHE", {})
    return tmp_path


def _args(n=5):
    rng = np.random.default_rng(0)
    return ({"w": jnp.asarray(rng.standard_normal((n, n)), jnp.float32)},
            jnp.zeros(n, jnp.float32), jnp.asarray(rng.standard_normal((7, n)), jnp.float32))


def test_a_named_step_is_kept_on_disk_and_read_back_with_the_same_results(disk_cache):
    step = partial(_step)
    step.cache_key = "test-step"
    args = _args()
    exe, _ = mod.compiled(_program, (step,), *args)
    files = list(disk_cache.glob("gradscope-*.export"))
    assert len(files) == 1
    mod._CACHE.clear()  # as a new process would: no executable in memory, tracing is skipped
    traced = []

    def counting_step(params, s, x):  # same program, but it says when it is traced
        traced.append(1)
        return _step(params, s, x)

    counting_step.cache_key = "test-step"
    again, _ = mod.compiled(_program, (counting_step,), *args)
    assert not traced and list(disk_cache.glob("gradscope-*.export")) == files
    np.testing.assert_array_equal(np.asarray(again(*args)), np.asarray(exe(*args)))
    np.testing.assert_array_equal(np.asarray(again(*args)), np.asarray(_program(step, *args)))


def test_other_shapes_or_an_unnamed_step_get_their_own_or_no_file(disk_cache):
    step = partial(_step)
    step.cache_key = "test-step"
    mod.compiled(_program, (step,), *_args(5))
    mod.compiled(_program, (step,), *_args(6))
    assert len(list(disk_cache.glob("gradscope-*.export"))) == 2
    mod.compiled(_program, (partial(_step),), *_args(7))  # no cache_key: traced, not kept
    assert len(list(disk_cache.glob("gradscope-*.export"))) == 2
    mod._CACHE.clear()
    traced = []

    def counting_step(params, s, x):
        traced.append(1)
        return _step(params, s, x)

    counting_step.cache_key = "test-step"
    mod.compiled(_program, (counting_step,), *_args(6))
    assert not traced
    mod.compiled(_program, (counting_step,), *_args(8))  # a new shape is traced
    assert traced


def test_a_broken_file_falls_back_to_tracing(disk_cache):
    step = partial(_step)
    step.cache_key = "test-step"
    args = _args()
    mod.compiled(_program, (step,), *args)
    (path,) = disk_cache.glob("gradscope-*.export")
    path.write_bytes(b"not an export")
    mod._CACHE.clear()
    exe, _ = mod.compiled(_program, (step,), *args)
    np.testing.assert_array_equal(np.asarray(exe(*args)), np.asarray(_program(step, *args)))
