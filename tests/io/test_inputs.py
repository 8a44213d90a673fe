"""Inputs files: `.npy` arrays of shape (T, D) or (B, T, D) and one-hot `text:FILE`."""

import numpy as np
import pytest

from gradscope.errors import UsageError
from gradscope.io import inputs


def assert_usage(fn, *args, match):
    with pytest.raises(UsageError, match=match) as e:
        fn(*args)
    assert e.value.hint and "\n" not in e.value.message
    return e.value


def test_npy_t_d(tmp_path):
    a = np.arange(21, dtype=np.float64).reshape(7, 3)
    np.save(tmp_path / "a.npy", a)
    spec = str(tmp_path / "a.npy")
    assert inputs.infer_sizes(spec) == {"steps": 7, "input_size": 3, "batch": 1}
    x = inputs.load_inputs(spec)
    assert x.shape == (1, 7, 3) and x.dtype == np.float32
    np.testing.assert_array_equal(x[0], a)
    assert inputs.load_inputs(spec, dtype=np.float64).dtype == np.float64


def test_npy_b_t_d_and_int_dtype(tmp_path):
    a = np.arange(2 * 5 * 3, dtype=np.int16).reshape(2, 5, 3)
    np.save(tmp_path / "b.npy", a)
    spec = str(tmp_path / "b.npy")
    assert inputs.infer_sizes(spec) == {"batch": 2, "steps": 5, "input_size": 3}
    x = inputs.load_inputs(spec)
    assert x.shape == (2, 5, 3)
    np.testing.assert_array_equal(x, a.astype(np.float32))
    x[0, 0, 0] = 99  # a fresh writable array, not a view of the file
    np.testing.assert_array_equal(np.load(spec), a)


@pytest.mark.parametrize("shape", [(5,), (2, 3, 4, 5), (0, 3), (2, 0, 3)])
def test_npy_wrong_shape(tmp_path, shape):
    np.save(tmp_path / "c.npy", np.ones(shape))
    e = assert_usage(inputs.infer_sizes, str(tmp_path / "c.npy"),
                     match=r"c\.npy have shape " + "\\" + str(shape)[:-1])
    assert "(T, D) or (B, T, D)" in e.hint


def test_npy_wrong_dtype(tmp_path):
    np.save(tmp_path / "z.npy", np.ones((3, 2), complex))
    assert_usage(inputs.infer_sizes, str(tmp_path / "z.npy"), match="complex128")
    np.save(tmp_path / "s.npy", np.array([["a", "b"]]))
    assert_usage(inputs.load_inputs, str(tmp_path / "s.npy"), match="<U1")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_npy_non_finite(tmp_path, bad):
    a = np.ones((4, 2))
    a[1, 1] = bad
    np.save(tmp_path / "d.npy", a)
    assert inputs.infer_sizes(str(tmp_path / "d.npy"))["steps"] == 4  # sizes only
    assert_usage(inputs.load_inputs, str(tmp_path / "d.npy"), match=r"d\.npy hold NaN or inf")


def test_npy_too_large_for_float32(tmp_path):
    np.save(tmp_path / "big.npy", np.full((2, 2), 1e300))
    assert_usage(inputs.load_inputs, str(tmp_path / "big.npy"), match="too large for float32")
    assert inputs.load_inputs(str(tmp_path / "big.npy"), np.float64)[0, 0, 0] == 1e300


def test_npy_missing_corrupt_and_not_npy(tmp_path):
    assert_usage(inputs.infer_sizes, str(tmp_path / "none.npy"),
                 match=r"^inputs file not found: .*none\.npy$")
    (tmp_path / "dir.npy").mkdir()
    assert_usage(inputs.infer_sizes, str(tmp_path / "dir.npy"), match="not a file")
    np.save(tmp_path / "t.npy", np.ones((100, 4)))
    (tmp_path / "t.npy").write_bytes((tmp_path / "t.npy").read_bytes()[:200])
    for fn in (inputs.infer_sizes, inputs.load_inputs):
        assert_usage(fn, str(tmp_path / "t.npy"), match=r"cannot read inputs file .*t\.npy")
    np.savez(tmp_path / "z.npy", a=np.ones((2, 2)))  # an archive with a .npy name
    (tmp_path / "z.npy.npz").rename(tmp_path / "z.npy")
    assert_usage(inputs.infer_sizes, str(tmp_path / "z.npy"), match="not a .npy file")
    np.save(tmp_path / "o.npy", np.array([[object()]]), allow_pickle=True)
    assert_usage(inputs.load_inputs, str(tmp_path / "o.npy"), match=r"o\.npy")


def test_text_hello_one_hot(tmp_path):
    (tmp_path / "h.txt").write_text("hello\n")
    spec = f"text:{tmp_path / 'h.txt'}"
    assert inputs.text_vocab(spec) == ["e", "h", "l", "o"]
    assert inputs.infer_sizes(spec) == {"steps": 5, "input_size": 4, "batch": 1}
    x = inputs.load_inputs(spec)
    expected = np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    assert x.shape == (1, 5, 4) and x.dtype == np.float32
    np.testing.assert_array_equal(x[0], expected)


def test_text_strips_one_newline_only_and_reads_unicode(tmp_path):
    (tmp_path / "n.txt").write_bytes(b"ab\n\n")
    spec = f"text:{tmp_path / 'n.txt'}"
    assert inputs.text_vocab(spec) == ["\n", "a", "b"]
    assert inputs.infer_sizes(spec)["steps"] == 3
    (tmp_path / "u.txt").write_bytes("né é\r\n".encode())
    spec = f"text:{tmp_path / 'u.txt'}"
    assert inputs.text_vocab(spec) == [" ", "n", "é"]
    np.testing.assert_array_equal(inputs.load_inputs(spec)[0].argmax(axis=1), [1, 2, 0, 2])


def test_empty_missing_and_non_utf8_text(tmp_path):
    for content in (b"", b"\n"):
        (tmp_path / "e.txt").write_bytes(content)
        assert_usage(inputs.infer_sizes, f"text:{tmp_path / 'e.txt'}", match=r"e\.txt is empty")
    (tmp_path / "b.txt").write_bytes(b"abc\xff\xfe")
    e = assert_usage(inputs.load_inputs, f"text:{tmp_path / 'b.txt'}", match=r"b\.txt is not UTF-8")
    assert "byte 3" in e.message
    assert_usage(inputs.text_vocab, f"text:{tmp_path / 'none.txt'}",
                 match=r"inputs file not found: .*none\.txt")
    assert_usage(inputs.infer_sizes, "text:", match="not found")
