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


def test_a_quick_program_computes_the_same_and_is_kept_apart(monkeypatch):
    monkeypatch.setattr(mod, "_CACHE", {})
    monkeypatch.setenv("GRADSCOPE_NO_CACHE", "1")
    seen = []
    compile_ = mod._compile
    monkeypatch.setattr(mod, "_compile", lambda lowered, options: (seen.append(dict(options)),
                                                                  compile_(lowered, options))[1])
    args = _args(9)
    plain, _ = mod.compiled(_program, (_step,), *args)
    assert not mod.is_compiled(_program, (_step,), *args, quick=True)
    quick, _ = mod.compiled(_program, (_step,), *args, quick=True)
    assert mod.is_compiled(_program, (_step,), *args, quick=True)
    assert quick is not plain and len(mod._CACHE) == 2
    assert seen == [{}, {"xla_cpu_use_fusion_emitters": False}]
    np.testing.assert_allclose(np.asarray(quick(*args)), np.asarray(plain(*args)), rtol=1e-6)
    assert mod.compiled(_program, (_step,), *args, quick=True) == (quick, 0.0)


def test_options_this_xla_does_not_know_fall_back_to_a_plain_compile(monkeypatch):
    monkeypatch.setattr(mod, "_CACHE", {})
    monkeypatch.setenv("GRADSCOPE_NO_CACHE", "1")
    monkeypatch.setattr(mod, "QUICK_OPTIONS", {"xla_cpu_no_such_option_here": True})
    args = _args(4)
    exe, _ = mod.compiled(_program, (_step,), *args, quick=True)
    np.testing.assert_allclose(np.asarray(exe(*args)), np.asarray(_program(_step, *args)),
                               rtol=1e-6)
    assert mod.QUICK_OPTIONS == {}  # not tried again in this process


def test_only_short_analyses_are_quick():
    assert mod.is_quick(1, 1, 100, 64)  # the defaults
    assert mod.is_quick(1, 1, 100, 128)  # an LSTM at H = 64
    assert not mod.is_quick(1, 1, 1000, 512)  # an LSTM at H = 256, T = 1000
    assert not mod.is_quick(1, 32, 500, 128)  # 32 sequences of an RNN at H = 128


def _file(folder, name, size, age_s):
    import os
    import time

    path = folder / name
    path.write_bytes(b"\0" * size)
    t = time.time() - age_s
    os.utime(path, (t, t))
    return path


def test_prune_removes_the_oldest_cache_files_down_to_80_percent(tmp_path):
    names = ["jit_a-cache", "gradscope-b.export", "jit_c-cache", "gradscope-d.1.tmp",
             "jit_e-atime"]
    files = [_file(tmp_path, name, 100, age) for name, age in zip(names, (50, 40, 30, 20, 10),
                                                                  strict=True)]
    mine = _file(tmp_path, "notes.txt", 10_000, 100)  # not a cache file: never counted or removed
    assert mod.prune(tmp_path, 500) == 0 and all(f.exists() for f in files)  # at the cap
    # 500 bytes > 450: the oldest go until at most 360 are left, i.e. two of them
    assert mod.prune(tmp_path, 450) == 200
    assert [f.exists() for f in files] == [False, False, True, True, True]
    assert mod.prune(tmp_path, 0) == 300 and mine.exists()


def test_a_new_program_prunes_the_folder_and_a_read_one_is_kept(disk_cache, monkeypatch):
    monkeypatch.setenv("GRADSCOPE_CACHE_MAX_MB", "1")
    old = _file(disk_cache, "jit_old-cache", 2**20, 3600)  # over the cap with the new files
    step = partial(_step)
    step.cache_key = "test-step"
    args = _args()
    mod.compiled(_program, (step,), *args)
    export = next(disk_cache.glob("gradscope-*.export"))
    assert not old.exists() and export.exists()
    # a program read back from its file is touched, so it outlives older files
    import os

    os.utime(export, (1, 1))
    later = _file(disk_cache, "jit_later-cache", 2**19, 60)
    mod._CACHE.clear()
    mod.compiled(_program, (step,), *args)
    assert export.stat().st_mtime > later.stat().st_mtime
    assert mod.prune(disk_cache, int(export.stat().st_size / 0.8) + 10) > 0  # room for one
    assert export.exists() and not later.exists()


@pytest.mark.parametrize(("value", "expected"), [(None, 1024 * 2**20), ("2.5", int(2.5 * 2**20)),
                                                 ("lots", 1024 * 2**20), ("-1", 0)])
def test_the_cap_comes_from_the_environment(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("GRADSCOPE_CACHE_MAX_MB", raising=False)
    else:
        monkeypatch.setenv("GRADSCOPE_CACHE_MAX_MB", value)
    assert mod.max_bytes() == expected
