import numpy as np
import pytest

from gradscope.errors import UsageError
from gradscope.io import inputs


def test_npy_shapes(tmp_path):
    np.save(tmp_path / "a.npy", np.ones((7, 3)))
    np.save(tmp_path / "b.npy", np.ones((2, 7, 3)))
    assert inputs.infer_sizes(str(tmp_path / "a.npy")) == {"steps": 7, "input_size": 3, "batch": 1}
    assert inputs.infer_sizes(str(tmp_path / "b.npy")) == {"batch": 2, "steps": 7, "input_size": 3}
    assert inputs.load_inputs(str(tmp_path / "a.npy")).shape == (1, 7, 3)


def test_bad_npy(tmp_path):
    np.save(tmp_path / "c.npy", np.ones(5))
    with pytest.raises(UsageError, match=r"shape \(5,\)"):
        inputs.infer_sizes(str(tmp_path / "c.npy"))
    a = np.ones((4, 2))
    a[1, 1] = np.inf
    np.save(tmp_path / "d.npy", a)
    with pytest.raises(UsageError, match="NaN or inf"):
        inputs.load_inputs(str(tmp_path / "d.npy"))
    with pytest.raises(UsageError, match="not found"):
        inputs.infer_sizes(str(tmp_path / "none.npy"))


def test_text_hello_one_hot(tmp_path):
    (tmp_path / "h.txt").write_text("hello\n")
    spec = f"text:{tmp_path / 'h.txt'}"
    assert inputs.text_vocab(spec) == ["e", "h", "l", "o"]
    assert inputs.infer_sizes(spec) == {"steps": 5, "input_size": 4, "batch": 1}
    x = inputs.load_inputs(spec)
    expected = np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    np.testing.assert_array_equal(x[0], expected)


def test_empty_and_non_utf8_text(tmp_path):
    (tmp_path / "e.txt").write_text("")
    with pytest.raises(UsageError, match="empty"):
        inputs.infer_sizes(f"text:{tmp_path / 'e.txt'}")
    (tmp_path / "b.txt").write_bytes(b"\xff\xfe\x00abc")
    with pytest.raises(UsageError, match="not UTF-8"):
        inputs.infer_sizes(f"text:{tmp_path / 'b.txt'}")
