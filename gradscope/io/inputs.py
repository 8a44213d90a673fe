"""Input sequences from files: `.npy` arrays of shape (T, D) or (B, T, D), and `text:FILE`
(one-hot characters over the sorted set of characters in the file)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import UsageError

SHAPES_HINT = "save an array of shape (T, D) or (B, T, D) with np.save"


def _npy(path: str, mmap: bool = True) -> np.ndarray:
    if not Path(path).is_file():
        raise UsageError(f"inputs file not found: {path}", "check the path given to --inputs")
    try:
        arr = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise UsageError(f"cannot read inputs file {path}: {e}", SHAPES_HINT) from e
    if arr.ndim not in (2, 3) or 0 in arr.shape or arr.dtype.kind not in "fiub":
        raise UsageError(f"inputs {path} have shape {arr.shape} and dtype {arr.dtype}",
                         SHAPES_HINT + " and a numeric dtype")
    return arr


def _text(spec: str) -> str:
    path = spec[len("text:"):]
    if not Path(path).is_file():
        raise UsageError(f"text file not found: {path}", "pass text:FILE with an existing file")
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise UsageError(f"text file {path} is not UTF-8 ({e.reason} at byte {e.start})",
                         "convert it with e.g. iconv -t utf-8") from e
    text = text[:-1] if text.endswith("\n") else text
    if not text:
        raise UsageError(f"text file {path} is empty", "pass a file with at least one character")
    return text


def text_vocab(spec: str) -> list[str]:
    return sorted(set(_text(spec)))


def infer_sizes(spec: str) -> dict:
    """`steps`, `input_size` and `batch` of an inputs file."""
    if spec.startswith("text:"):
        text = _text(spec)
        return {"steps": len(text), "input_size": len(set(text)), "batch": 1}
    arr = _npy(spec)
    if arr.ndim == 2:
        return {"steps": arr.shape[0], "input_size": arr.shape[1], "batch": 1}
    return {"batch": arr.shape[0], "steps": arr.shape[1], "input_size": arr.shape[2]}


def load_inputs(spec: str, dtype=np.float32) -> np.ndarray:
    """The inputs as an array of shape (B, T, D)."""
    if spec.startswith("text:"):
        text = _text(spec)
        vocab = {c: i for i, c in enumerate(sorted(set(text)))}
        out = np.zeros((1, len(text), len(vocab)), dtype)
        out[0, np.arange(len(text)), [vocab[c] for c in text]] = 1
        return out
    arr = np.asarray(_npy(spec, mmap=False), dtype)
    if not np.isfinite(arr).all():
        raise UsageError(f"inputs {spec} hold NaN or inf", "clean the array before analysing it")
    return arr if arr.ndim == 3 else arr[None]
