"""PyTorch-named state_dicts from .npz, .safetensors and .pt files, parsed without running
code from the file (`allow_pickle=False`, a hand-written safetensors reader, and
`torch.load(weights_only=True)`)."""

from __future__ import annotations

import json
import os
import re
import struct
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from ..config import GATES
from ..errors import UsageError

RNN_KEY = re.compile(r"^(?P<prefix>.*?)(?P<name>(weight|bias)_(ih|hh)_l\d+(_reverse)?)$")
SUFFIXES = (".npz", ".safetensors", ".pt", ".pth", ".bin")
_ST_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4",
              "I16": "<i2", "I8": "i1", "U8": "u1"}


def _bad(path, why: str) -> UsageError:
    return UsageError(f"cannot read weights file {path}: {why}",
                      "pass a state_dict saved as .npz, .safetensors or .pt (torch.save)")


def read_safetensors(path: str) -> dict[str, np.ndarray]:
    data = Path(path).read_bytes()
    if len(data) < 8:
        raise _bad(path, "file is truncated")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise _bad(path, "header length points past the end of the file")
    try:
        header = json.loads(data[8 : 8 + n])
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _bad(path, f"bad header ({e})") from e
    body = memoryview(data)[8 + n :]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        if end > len(body) or begin > end:
            raise _bad(path, f"tensor {name!r} lies past the end of the file")
        raw = bytes(body[begin:end])
        if info["dtype"] == "BF16":
            arr = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)
        elif info["dtype"] in _ST_DTYPES:
            arr = np.frombuffer(raw, _ST_DTYPES[info["dtype"]])
        else:
            raise _bad(path, f"tensor {name!r} has unsupported dtype {info['dtype']}")
        out[name] = arr.reshape(info["shape"])
    return out


def _read_pt(path: str) -> dict[str, np.ndarray]:
    try:
        import torch
    except ImportError as e:
        raise UsageError(f"reading {path} needs PyTorch, which is not installed",
                         "pip install torch, or save the state_dict as .safetensors or .npz") from e
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many kinds for corrupt or unsafe files
        raise _bad(path, str(e).splitlines()[0] if str(e) else type(e).__name__) from e
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise _bad(path, "it does not hold a state_dict (a dict of tensors)")
    return {k: v.detach().cpu().double().numpy() for k, v in obj.items()
            if hasattr(v, "detach")}


def _read_any(path: str) -> dict[str, np.ndarray]:
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise UsageError(f"unknown weights format {suffix or path!r}",
                         f"use one of: {', '.join(SUFFIXES)}")
    if not Path(path).is_file():
        raise UsageError(f"weights file not found: {path}", "check the path given to --weights")
    if suffix == ".safetensors":
        return read_safetensors(path)
    if suffix == ".npz":
        try:
            with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
            raise _bad(path, str(e) or type(e).__name__) from e
    return _read_pt(path)


def read_state_dict(path: str) -> dict[str, np.ndarray]:
    """The recurrent tensors of a weights file, keyed `weight_ih_l0` … (prefix stripped).

    Other keys (`fc.weight`, `embedding.weight`) are ignored; `_reverse` tensors (the second
    direction of a bidirectional layer) are dropped. Float64 stays float64, the rest becomes
    float32. Raises `UsageError` for a missing, corrupt or non-finite file.
    """
    raw = _read_any(str(path))
    found = {}
    prefixes = set()
    for key, arr in raw.items():
        m = RNN_KEY.match(key)
        if m and not m["name"].endswith("_reverse"):
            prefixes.add(m["prefix"])
            found[m["name"]] = arr
    if not found:
        raise UsageError(f"no recurrent tensors in {path}",
                         "expected PyTorch names such as weight_ih_l0, weight_hh_l0, bias_ih_l0")
    if len(prefixes) > 1:
        raise UsageError(f"{path} holds several recurrent modules: {', '.join(sorted(prefixes))}",
                         "save the state_dict of one nn.RNN/LSTM/GRU")
    out = {}
    for name, arr in found.items():
        arr = np.asarray(arr)
        arr = arr.astype(np.float64 if arr.dtype == np.float64 else np.float32)
        if not np.isfinite(arr).all():
            raise UsageError(f"tensor {name!r} in {path} holds NaN or inf",
                             "analyse a checkpoint from before training diverged")
        out[name] = arr
    return out


def infer_sizes(sd: dict[str, np.ndarray]) -> dict:
    """`arch`, `hidden`, `input_size` and `layers` from the shapes of a state_dict."""
    for key in ("weight_hh_l0", "weight_ih_l0"):
        if key not in sd or np.ndim(sd[key]) != 2:
            raise UsageError(f"weights lack a 2-D {key!r}", "save the state_dict of an nn.RNN/LSTM/GRU")
    rows, H = sd["weight_hh_l0"].shape
    by_gates = {g: a for a, g in GATES.items()}
    if H == 0 or rows % H or rows // H not in by_gates:
        raise UsageError(f"weight_hh_l0 has shape {sd['weight_hh_l0'].shape}, not (G·H, H) "
                         "with G = 1, 3 or 4", "save the state_dict of an nn.RNN/LSTM/GRU")
    layers = 0
    while f"weight_hh_l{layers}" in sd:
        layers += 1
    return {"arch": by_gates[rows // H], "hidden": H, "input_size": sd["weight_ih_l0"].shape[1],
            "layers": layers}


def expected_shapes(*, arch: str, hidden: int, input_size: int, layers: int) -> dict:
    G = GATES[arch]
    shapes = {}
    for k in range(layers):
        shapes[f"weight_ih_l{k}"] = (G * hidden, input_size if k == 0 else hidden)
        shapes[f"weight_hh_l{k}"] = (G * hidden, hidden)
        shapes[f"bias_ih_l{k}"] = (G * hidden,)
        shapes[f"bias_hh_l{k}"] = (G * hidden,)
    return shapes


def check_params(sd, *, arch, hidden, input_size, layers, source="weights") -> dict:
    """Exactly the tensors a `(arch, hidden, input_size, layers)` network needs, shapes
    checked; a missing bias (`bias=False`) is zeros."""
    out = {}
    for key, shape in expected_shapes(arch=arch, hidden=hidden, input_size=input_size,
                                      layers=layers).items():
        if key not in sd:
            if key.startswith("bias"):
                out[key] = np.zeros(shape)
                continue
            raise UsageError(f"missing tensor {key!r} in {source}",
                             f"expected shape {shape} for a {layers}-layer {arch} with H = {hidden}")
        if tuple(sd[key].shape) != shape:
            raise UsageError(f"tensor {key!r} in {source} has shape {tuple(sd[key].shape)}, "
                             f"expected {shape}", f"weights of a {arch} with H = {hidden} "
                             f"and D = {input_size} have these shapes; check the file")
        out[key] = np.asarray(sd[key])
    return out


def _atomic(path: Path, write) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_safetensors(path, tensors: dict[str, np.ndarray], metadata: dict | None = None) -> None:
    """Write `tensors` in the safetensors format (readable by `safetensors` and PyTorch)."""
    names = {np.dtype("<f8"): "F64", np.dtype("<f4"): "F32", np.dtype("<f2"): "F16",
             np.dtype("<i8"): "I64", np.dtype("<i4"): "I32"}
    header, blobs, offset = {}, [], 0
    for name, arr in tensors.items():
        a = np.ascontiguousarray(arr)
        a = a.astype(a.dtype.newbyteorder("<"))
        blob = a.tobytes()
        header[name] = {"dtype": names[a.dtype], "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)

    def write(f):
        f.write(struct.pack("<Q", len(text)) + text)
        for blob in blobs:
            f.write(blob)

    _atomic(Path(path), write)


def write_npz(path, tensors: dict[str, np.ndarray]) -> None:
    _atomic(Path(path), lambda f: np.savez(f, **tensors))
