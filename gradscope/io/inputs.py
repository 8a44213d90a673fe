"""Input sequences from files: `.npy` arrays of shape (T, D) or (B, T, D), and `text:FILE`
(one-hot characters over the sorted set of characters in the file).

Only numpy is used; `.npy` files are opened with `allow_pickle=False` and memory-mapped while
their sizes are read, so a large file costs nothing until its values are needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UsageError

TEXT_PREFIX = "text:"
NPY_MAGIC = b"\x93NUMPY"
SHAPES_HINT = "save a numeric array of shape (T, D) or (B, T, D) with np.save"


def _existing(path: str) -> Path:
    p = Path(path)
    if not path or not p.exists():
        raise UsageError(f"inputs file not found: {path or '(empty path)'}",
                         "check the path given to --inputs (a .npy file or text:FILE)")
    if not p.is_file():
        raise UsageError(f"inputs path is not a file: {path}", "pass a file, not a folder")
    return p


def _npy(path: str, *, mmap: bool = True) -> np.ndarray:
    try:
        with _existing(path).open("rb") as fh:
            magic = fh.read(len(NPY_MAGIC))
        if magic != NPY_MAGIC:  # np.load would try a zip (.npz) or a pickle
            raise UsageError(f"inputs file {path} is not a .npy file (no NUMPY magic)", SHAPES_HINT)
        arr = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        why = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise UsageError(f"cannot read inputs file {path}: {why}", SHAPES_HINT) from e
    if arr.ndim not in (2, 3) or 0 in arr.shape or arr.dtype.kind not in "fiu":
        raise UsageError(f"inputs {path} have shape {arr.shape} and dtype {arr.dtype}",
                         SHAPES_HINT + " (sizes > 0, float or int dtype)")
    return arr


def _text(spec: str) -> str:
    path = spec[len(TEXT_PREFIX):]
    data = _existing(path).read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UsageError(f"text file {path} is not UTF-8 ({e.reason} at byte {e.start})",
                         "convert it, e.g. iconv -f latin1 -t utf-8 FILE > FILE.utf8") from e
    for newline in ("\r\n", "\n"):
        if text.endswith(newline):
            text = text[: -len(newline)]
            break
    if not text:
        raise UsageError(f"text file {path} is empty", "pass a file with at least one character")
    return text


def text_vocab(spec: str) -> list[str]:
    """The vocabulary of `text:FILE`: its distinct characters, sorted.

    **Arguments:**

    - `spec`: `text:FILE`.

    **Returns:** the list of characters; index i is the one-hot position of character i.
    """
    return sorted(set(_text(spec)))


def infer_sizes(spec: str) -> dict[str, Any]:
    """Sizes of an inputs file, read without loading its values.

    **Arguments:**

    - `spec`: a path ending in `.npy`, or `text:FILE`.

    **Returns:** `{"steps": T, "input_size": D, "batch": B}` (B = 1 for (T, D) arrays and text).
    """
    if spec.startswith(TEXT_PREFIX):
        text = _text(spec)
        return {"steps": len(text), "input_size": len(set(text)), "batch": 1}
    arr = _npy(spec)
    return array_sizes(arr if arr.ndim == 3 else arr[None])


def shape_of(spec: str) -> tuple[int, ...]:
    """The shape of an inputs file as it is on disk: (T, D) or (B, T, D) for `.npy` (read
    without loading its values), (T, characters) for `text:FILE`."""
    if spec.startswith(TEXT_PREFIX):
        text = _text(spec)
        return (len(text), len(set(text)))
    return tuple(int(n) for n in _npy(spec).shape)


def check_array(xs, name: str = "inputs") -> np.ndarray:
    """An inputs array given in Python, checked as a file's would be: shape (T, D) or
    (B, T, D), numeric and finite. **Returns:** a float64 copy of shape (B, T, D)."""
    arr = np.asarray(xs)
    if arr.ndim not in (2, 3) or 0 in arr.shape or arr.dtype.kind not in "fiu":
        raise UsageError(f"{name} have shape {arr.shape} and dtype {arr.dtype}", SHAPES_HINT)
    arr = np.array(arr, dtype=np.float64)
    if not np.isfinite(arr).all():
        raise UsageError(f"{name} hold NaN or inf", "clean the array before analysing it")
    return arr if arr.ndim == 3 else arr[None]


def array_sizes(arr: np.ndarray) -> dict[str, Any]:
    """`{"batch": B, "steps": T, "input_size": D}` of a (B, T, D) array."""
    return {"batch": int(arr.shape[0]), "steps": int(arr.shape[1]),
            "input_size": int(arr.shape[2])}


def load_inputs(spec: str, dtype: Any = np.float32) -> np.ndarray:
    """The inputs as one array of shape (B, T, D).

    **Arguments:**

    - `spec`: a path ending in `.npy`, or `text:FILE` (one-hot characters, B = 1).
    - `dtype`: the float dtype of the result.

    **Returns:** a new array of shape (B, T, D). Raises `UsageError` for NaN / inf values.
    """
    if spec.startswith(TEXT_PREFIX):
        text = _text(spec)
        index = {c: i for i, c in enumerate(sorted(set(text)))}
        out = np.zeros((1, len(text), len(index)), dtype)
        out[0, np.arange(len(text)), [index[c] for c in text]] = 1
        return out
    raw = _npy(spec, mmap=False)
    if raw.dtype.kind == "f" and not np.isfinite(raw).all():
        raise UsageError(f"inputs {spec} hold NaN or inf", "clean the array before analysing it")
    with np.errstate(over="ignore"):
        arr = np.array(raw, dtype=dtype)
    if not np.isfinite(arr).all():
        raise UsageError(f"inputs {spec} hold values too large for {np.dtype(dtype)}",
                         "rescale the inputs so that they fit in float32")
    return arr if arr.ndim == 3 else arr[None]
