"""The tasks' batches, checked against the definitions recomputed here from the raw symbols."""

import math

import numpy as np
import pytest

from gradscope.errors import UsageError
from gradscope.training.tasks import BUILTIN_TEXT, eval_batch, make_task, train_batch


def test_adding_markers_targets_and_baseline():
    task = make_task("adding", 21)
    b = train_batch(task, 3, 0, 500)
    assert b.xs.shape == (500, 21, 2) and b.xs.dtype == np.float32
    values, markers = b.xs[..., 0], b.xs[..., 1]
    assert ((values >= 0) & (values <= 1)).all()
    assert set(np.unique(markers)) == {0.0, 1.0}
    assert (markers.sum(axis=1) == 2).all()
    half = 21 // 2
    assert (markers[:, :half].sum(axis=1) == 1).all() and (markers[:, half:].sum(axis=1) == 1).all()
    expected = np.array([values[n][markers[n] == 1].mean() for n in range(500)])
    np.testing.assert_allclose(b.targets[:, -1], expected, rtol=1e-6)
    assert (b.loss_mask[:, :-1] == 0).all() and (b.loss_mask[:, -1] == 1).all()
    # Var((u1 + u2) / 2) = (1/12) / 2 for independent U(0, 1)
    assert task.baseline_loss == pytest.approx(1 / 24)
    big = train_batch(task, 0, 1, 20000).targets[:, -1]
    assert np.mean((big - 0.5) ** 2) == pytest.approx(1 / 24, rel=0.05)
    assert task.input_size == 2 and task.output_size == 1 and task.regression


def test_torder_labels_recomputed_from_symbols():
    T = 50
    task = make_task("torder", T)
    b = train_batch(task, 1, 7, 300)
    assert b.xs.shape == (300, T, 6)
    assert (b.xs.sum(axis=-1) == 1).all()  # one-hot
    symbols = b.xs.argmax(axis=-1)
    for n in range(300):
        where = np.flatnonzero(symbols[n] >= 4)
        assert len(where) == 2
        t1, t2 = where
        assert 5 <= t1 < 10 and 25 <= t2 < 30  # [T/10, 2T/10) and [5T/10, 6T/10)
        label = {(4, 4): 0, (4, 5): 1, (5, 4): 2, (5, 5): 3}[(symbols[n, t1], symbols[n, t2])]
        assert b.targets[n, -1] == label
    assert set(np.unique(b.targets[:, -1])) == {0, 1, 2, 3}
    assert task.baseline_loss == pytest.approx(math.log(4))


def test_copy_layout_and_baseline():
    T = 7
    task = make_task("copy", T)
    b = train_batch(task, 2, 0, 64)
    L = T + 20
    assert task.length == L and b.xs.shape == (64, L, 10)
    inputs = b.xs.argmax(axis=-1)
    data = inputs[:, :10]
    assert ((data >= 1) & (data <= 8)).all()
    assert (inputs[:, 10 : T + 9] == 0).all() and (inputs[:, T + 9] == 9).all()
    assert (inputs[:, T + 10 :] == 0).all()
    assert (b.targets[:, : T + 10] == 0).all() and (b.targets[:, T + 10 :] == data).all()
    assert (b.loss_mask == 1).all() and b.score_mask.sum(axis=1).tolist() == [10] * 64
    # blanks predicted exactly, uniform over the 8 symbols in the 10 recall steps
    assert task.baseline_loss == pytest.approx(10 * math.log(8) / (T + 20))


def test_charlm_builtin_text_windows():
    assert BUILTIN_TEXT.startswith("hello")
    task = make_task("charlm", 12)
    vocab = sorted(set(BUILTIN_TEXT))
    assert task.input_size == task.output_size == len(vocab)
    b = train_batch(task, 0, 0, 16)
    for n in range(16):
        chars = "".join(vocab[i] for i in b.xs[n].argmax(axis=-1))
        start = BUILTIN_TEXT.find(chars + vocab[b.targets[n, -1]])
        assert start >= 0
        assert "".join(vocab[i] for i in b.targets[n]) == BUILTIN_TEXT[start + 1 : start + 13]


def test_charlm_hello_file(tmp_path):
    f = tmp_path / "hello.txt"
    f.write_text("hello\n")
    task = make_task("charlm", 4, text_file=str(f))
    assert task == make_task(f"text:{f}", 4)
    b = train_batch(task, 0, 0, 3)
    vocab = ["e", "h", "l", "o"]
    assert ["".join(vocab[i] for i in x.argmax(-1)) for x in b.xs] == ["hell"] * 3
    assert ["".join(vocab[i] for i in y) for y in b.targets] == ["ello"] * 3
    p = np.array([1, 2, 1]) / 4  # e, l, o among the targets "ello"
    assert task.baseline_loss == pytest.approx(-(p * np.log(p)).sum())


def test_determinism_per_seed():
    for name in ("adding", "torder", "copy", "charlm"):
        task = make_task(name, 10)
        a, b = train_batch(task, 5, 3, 8), train_batch(task, 5, 3, 8)
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)
        assert not np.array_equal(a.xs, train_batch(task, 6, 3, 8).xs)
        assert not np.array_equal(a.xs, train_batch(task, 5, 4, 8).xs)
        np.testing.assert_array_equal(eval_batch(task, 1, 4).xs, eval_batch(task, 1, 4).xs)


@pytest.mark.parametrize(("args", "needle"), [
    (("nope", 10), "unknown --task"),
    (("adding", 1), "--steps 2"),
    (("charlm", 5000), "characters"),
])
def test_bad_tasks(args, needle):
    with pytest.raises(UsageError, match=needle):
        make_task(*args)


def test_bad_text_files(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    latin = tmp_path / "latin.txt"
    latin.write_bytes("café".encode("latin1"))
    with pytest.raises(UsageError, match="empty") as e:
        make_task("charlm", 3, text_file=str(empty))
    assert e.value.hint
    with pytest.raises(UsageError, match="not UTF-8"):
        make_task("charlm", 3, text_file=str(latin))
    with pytest.raises(UsageError, match="--text applies"):
        make_task("adding", 3, text_file=str(latin))
