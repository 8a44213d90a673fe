"""Ctrl-C is never lost: an interrupt that Python drops (raised inside a garbage-collector
callback, as JAX's `_xla_gc_callback`) is raised again at the next checkpoint."""

import gc
import signal
import sys

import pytest

from gradscope import interrupt


@pytest.fixture
def installed(monkeypatch):
    before = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    monkeypatch.setattr(sys, "unraisablehook", sys.unraisablehook)  # put back afterwards
    monkeypatch.setattr(interrupt, "_pending", False)
    interrupt.install()
    yield
    signal.signal(signal.SIGINT, before)


def _collect_with_a_ctrl_c_inside():
    def callback(phase, info):  # Python reports and drops what a gc callback raises
        if phase == "start":
            signal.raise_signal(signal.SIGINT)

    gc.callbacks.append(callback)
    try:
        gc.collect()
    finally:
        gc.callbacks.remove(callback)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_ctrl_c_dropped_in_a_gc_callback_is_raised_at_the_next_checkpoint(installed, capsys):
    interrupt.checkpoint()  # nothing pending: no exception
    _collect_with_a_ctrl_c_inside()  # the KeyboardInterrupt does not come out of this
    with pytest.raises(KeyboardInterrupt):
        interrupt.checkpoint()
    assert "KeyboardInterrupt" not in capsys.readouterr().err  # no traceback for users
    interrupt.handled()
    interrupt.checkpoint()  # once handled, forgotten


def test_a_file_is_not_written_after_a_dropped_ctrl_c(installed, tmp_path):
    from gradscope.io.store import atomic_write_text

    _collect_with_a_ctrl_c_inside()
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(tmp_path / "report.json", "{}")
    assert list(tmp_path.iterdir()) == []


def test_an_ignored_sigint_stays_ignored(monkeypatch):
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)  # as in a background job
    try:
        interrupt.install()
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)
