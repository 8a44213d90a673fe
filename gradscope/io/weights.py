"""PyTorch-named state_dicts from `.npz`, `.safetensors` and `.pt` files, and writers for the
first two.

Nothing in a file is ever executed: `.npz` is read with `allow_pickle=False`, `.safetensors`
by a small reader written here (numpy only, no `safetensors` package), and `.pt` / `.pth` /
`.bin` with `torch.load(weights_only=True)`, importing PyTorch only for those files.
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
import zipfile
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..constants import GATES
from ..errors import UsageError
from .store import atomic_write

RNN_KEY = re.compile(
    r"^(?P<prefix>.*?)(?P<name>(?:weight|bias)_(?:ih|hh)_l\d+)(?P<reverse>_reverse)?$")
PROJ_KEY = re.compile(r"weight_hr_l\d+(_reverse)?$")
SUFFIXES = (".npz", ".safetensors", ".pt", ".pth", ".bin")
EXPECTED_NAMES = "weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0 (one set per layer)"
FORMAT_HINT = "pass a state_dict saved with np.savez, safetensors or torch.save"

# safetensors dtype name -> numpy dtype (BF16 is handled apart: numpy has no bfloat16).
_ST_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4",
              "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?"}
_ST_NAMES = {np.dtype(v): k for k, v in _ST_DTYPES.items()}


def _bad(path: Any, why: str) -> UsageError:
    return UsageError(f"cannot read weights file {path}: {why}", FORMAT_HINT)


# --------------------------------------------------------------------------- safetensors


def _st_header(path: Any, data: bytes) -> tuple[dict, int]:
    if len(data) < 8:
        raise _bad(path, f"file is truncated ({len(data)} bytes, no safetensors header)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise _bad(path, f"header length {n} points past the end of the file "
                         f"({len(data)} bytes; truncated?)")
    try:
        header = json.loads(data[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise _bad(path, f"the header is not valid JSON ({e})") from e
    if not isinstance(header, dict):
        raise _bad(path, "the header is not a JSON object")
    return header, 8 + n


def _is_count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _st_tensor(path: Any, name: str, info: Any, data: bytes, start: int) -> np.ndarray:
    def bad(why: str) -> UsageError:
        return _bad(path, f"tensor {name!r} {why}")

    if not isinstance(info, dict):
        raise bad("has no dtype/shape/data_offsets entry")
    dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if dtype != "BF16" and dtype not in _ST_DTYPES:
        raise bad(f"has unsupported dtype {dtype!r} (supported: BF16, {', '.join(_ST_DTYPES)})")
    if not isinstance(shape, list) or not all(_is_count(v) for v in shape):
        raise bad(f"has a bad shape {shape!r}")
    if (not isinstance(offsets, list) or len(offsets) != 2
            or not all(_is_count(v) for v in offsets) or offsets[0] > offsets[1]):
        raise bad(f"has bad data_offsets {offsets!r}")
    begin, end = start + offsets[0], start + offsets[1]
    if end > len(data):
        raise bad(f"lies past the end of the file (bytes {begin}..{end} of {len(data)}; truncated?)")
    itemsize = 2 if dtype == "BF16" else np.dtype(_ST_DTYPES[dtype]).itemsize
    count = math.prod(shape)
    if end - begin != count * itemsize:
        raise bad(f"has {end - begin} bytes, but shape {tuple(shape)} of {dtype} needs "
                  f"{count * itemsize}")
    if dtype == "BF16":
        bits = np.frombuffer(data, "<u2", count, begin).astype(np.uint32) << 16
        return bits.view(np.float32).reshape(shape)
    return np.frombuffer(data, _ST_DTYPES[dtype], count, begin).reshape(shape)


def _read_bytes(path: Any) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise _bad(path, e.strerror or type(e).__name__) from e


def read_safetensors(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """All tensors of a `.safetensors` file, parsed with numpy only.

    **Arguments:**

    - `path`: the file.

    **Returns:** name -> read-only array in the stored dtype (BF16 becomes float32).
    Raises `UsageError` for a truncated or corrupt file.
    """
    data = _read_bytes(path)
    header, start = _st_header(path, data)
    return {name: _st_tensor(path, name, info, data, start)
            for name, info in header.items() if name != "__metadata__"}


def safetensors_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The `__metadata__` of a `.safetensors` file (`{}` when it has none).

    **Arguments:**

    - `path`: the file.

    **Returns:** the string -> string metadata dict.
    """
    header, _ = _st_header(path, _read_bytes(path))
    meta = header.get("__metadata__") or {}
    return dict(meta) if isinstance(meta, dict) else {}


# --------------------------------------------------------------------------- npz and pt


def _read_npz(path: str) -> dict[str, np.ndarray]:
    try:
        with open(path, "rb") as fh:  # np.load(path) leaks the handle of a corrupt zip
            z = np.load(fh, allow_pickle=False)
            if not hasattr(z, "files"):
                raise _bad(path, "it is a single .npy array, not an .npz archive of named arrays")
            with z:
                return {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, KeyError, NotImplementedError,
            zipfile.BadZipFile, zlib.error) as e:
        raise _bad(path, str(e).splitlines()[0] if str(e) else type(e).__name__) from e


def _import_torch(path: str) -> Any:
    try:
        import torch
    except (ImportError, OSError) as e:
        raise UsageError(f"reading {path} needs PyTorch, which is not installed",
                         "pip install torch, or save the state_dict as .safetensors or .npz") from e
    return torch


def _read_pt(path: str) -> dict[str, np.ndarray]:
    torch = _import_torch(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many kinds for corrupt or unsafe files
        raise _bad(path, str(e).splitlines()[0] if str(e) else type(e).__name__) from e
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise _bad(path, f"it holds a {type(obj).__name__}, not a state_dict (a dict of tensors)")
    out = {}
    for key, v in obj.items():
        if isinstance(key, str) and isinstance(v, torch.Tensor) and not v.is_complex():
            v = v.detach().cpu()
            out[key] = (v.double() if v.dtype == torch.float64 else v.float()).numpy()
    return out


def _read_any(path: str) -> dict[str, np.ndarray]:
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise UsageError(f"unknown weights format {suffix or 'without extension'!r}: {path}",
                         f"use one of: {', '.join(SUFFIXES)}")
    if not Path(path).exists():
        raise UsageError(f"weights file not found: {path}", "check the path given to --weights")
    if not Path(path).is_file():
        raise UsageError(f"weights path is not a file: {path}", "pass a file, not a folder")
    if suffix == ".safetensors":
        return read_safetensors(path)
    if suffix == ".npz":
        return _read_npz(path)
    return _read_pt(path)


# --------------------------------------------------------------------------- state_dicts


def _select(path: str, raw: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    """stripped name -> (original key, array) of the recurrent tensors (`_reverse` kept)."""
    found, prefixes = {}, set()
    for key, arr in raw.items():
        m = RNN_KEY.match(key)
        if m:
            prefixes.add(m["prefix"])
            found[m["name"] + (m["reverse"] or "")] = (key, arr)
    if len(prefixes) > 1:
        shown = ", ".join(repr(p) for p in sorted(prefixes))
        raise UsageError(f"{path} holds recurrent tensors under several prefixes: {shown}",
                         "save the state_dict of a single nn.RNN/LSTM/GRU")
    if any(PROJ_KEY.search(k) for k in raw):
        raise UsageError(f"{path} holds an LSTM with proj_size (weight_hr_l0)",
                         "analyse an LSTM without projections (proj_size=0)")
    if not found:
        raise UsageError(f"no recurrent tensors in {path}",
                         f"expected PyTorch names such as {EXPECTED_NAMES}")
    return found


def _as_float(path: str, key: str, arr: Any) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.dtype.kind not in "fiub":
        raise UsageError(f"tensor {key!r} in {path} has dtype {arr.dtype}, not a real number type",
                         "save the weights as float32 or float64")
    out = arr.astype(np.float64 if arr.dtype == np.float64 else np.float32)
    if not np.isfinite(out).all():
        raise UsageError(f"tensor {key!r} in {path} holds NaN or inf",
                         "analyse a checkpoint from before training diverged")
    return out


def read_state_dict(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The recurrent tensors of a weights file, keyed `weight_ih_l0`, … (prefix stripped).

    Keys are kept when they end with a PyTorch RNN name (`weight_ih_l0`, `bias_hh_l1`, …);
    the common prefix (`rnn.`, `model.encoder.lstm.`, `module.`) is stripped; other keys
    (`fc.weight`) are ignored; the `_reverse` tensors of a bidirectional network are kept
    under their names (`weight_hh_l0_reverse`).

    **Arguments:**

    - `path`: a `.npz`, `.safetensors`, `.pt`, `.pth` or `.bin` file.

    **Returns:** name -> array; float64 stays float64, everything else becomes float32.
    Raises `UsageError` for a missing, unreadable, corrupt or non-finite file.
    """
    path = str(path)
    try:
        st = os.stat(path)
        stamp = (st.st_mtime_ns, st.st_size)
    except OSError:
        stamp = None  # _read_any reports the missing file
    return dict(_read_cached(path, stamp))


@lru_cache(maxsize=2)
def _read_cached(path: str, stamp) -> tuple:
    # resolve() reads a file for its sizes and the pipeline again for its values: once is
    # enough while the file is unchanged (same mtime and size).
    found = _select(path, _read_any(path))
    out = tuple((name, _as_float(path, key, arr)) for name, (key, arr) in found.items())
    for _, arr in out:
        arr.setflags(write=False)  # shared between callers
    return out


def infer_sizes(sd: dict[str, np.ndarray]) -> dict[str, Any]:
    """Architecture and sizes from the shapes of a (prefix-stripped) state_dict.

    **Arguments:**

    - `sd`: name -> array, as returned by `read_state_dict`.

    **Returns:** `{"arch", "hidden", "input_size", "layers", "bidirectional"}`; `layers`
    counts the consecutive `weight_hh_l{k}` from k = 0; `bidirectional` is whether the file
    holds `_reverse` tensors.
    """
    for key in ("weight_hh_l0", "weight_ih_l0"):
        if key not in sd or np.ndim(sd[key]) != 2:
            raise UsageError(f"weights lack a 2-D tensor {key!r} (found: {', '.join(sorted(sd))})",
                             f"save the state_dict of an nn.RNN/LSTM/GRU: {EXPECTED_NAMES}")
    rows, H = np.shape(sd["weight_hh_l0"])
    by_gates = {g: a for a, g in GATES.items()}
    if H == 0 or rows % H or rows // H not in by_gates:
        raise UsageError(f"weight_hh_l0 has shape {(rows, H)}, not (G·H, H) with G = 1 (rnn), "
                         "3 (gru) or 4 (lstm)", "save the state_dict of an nn.RNN/LSTM/GRU")
    layers = 0
    while f"weight_hh_l{layers}" in sd:
        layers += 1
    return {"arch": by_gates[rows // H], "hidden": int(H),
            "input_size": int(np.shape(sd["weight_ih_l0"])[1]), "layers": layers,
            "bidirectional": any(k.endswith("_reverse") for k in sd)}


def expected_shapes(*, arch: str, hidden: int, input_size: int, layers: int,
                    bidirectional: bool = False) -> dict[str, tuple[int, ...]]:
    """PyTorch name -> shape of every parameter of a stacked `arch` network.

    **Arguments:**

    - `arch`: `rnn`, `lstm` or `gru`; `hidden`, `input_size`, `layers`: H, D and the depth.
    - `bidirectional`: add the `_reverse` tensors; layers k ≥ 1 then read 2H inputs.

    **Returns:** an ordered dict, layer by layer: `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`.
    """
    G = GATES[arch]
    shapes = {}
    directions = ("", "_reverse") if bidirectional else ("",)
    for k in range(layers):
        d_in = input_size if k == 0 else hidden * len(directions)
        for sfx in directions:
            shapes[f"weight_ih_l{k}{sfx}"] = (G * hidden, d_in)
            shapes[f"weight_hh_l{k}{sfx}"] = (G * hidden, hidden)
            shapes[f"bias_ih_l{k}{sfx}"] = (G * hidden,)
            shapes[f"bias_hh_l{k}{sfx}"] = (G * hidden,)
    return shapes


def check_params(sd: dict[str, np.ndarray], *, arch: str, hidden: int, input_size: int,
                 layers: int, bidirectional: bool = False, source: str = "weights"
                 ) -> dict[str, np.ndarray]:
    """Exactly the tensors an `(arch, hidden, input_size, layers)` network needs, shapes checked.

    **Arguments:**

    - `sd`: name -> array (prefix already stripped).
    - `arch`, `hidden`, `input_size`, `layers`, `bidirectional`: the network the tensors
      must fit.
    - `source`: the file name used in error messages.

    **Returns:** name -> array for every key of `expected_shapes`; a missing bias (PyTorch
    `bias=False`) is zeros. Raises `UsageError` naming the key and both shapes otherwise.
    """
    what = (f"a {layers}-layer {'bidirectional ' if bidirectional else ''}{arch} "
            f"with H = {hidden}, D = {input_size}")
    out = {}
    for key, shape in expected_shapes(arch=arch, hidden=hidden, input_size=input_size,
                                      layers=layers, bidirectional=bidirectional).items():
        if key not in sd:
            if key.startswith("bias"):
                out[key] = np.zeros(shape, out[key.replace("bias_ih", "weight_hh")
                                               .replace("bias_hh", "weight_hh")].dtype)
                continue
            raise UsageError(f"missing tensor {key!r} in {source}",
                             f"expected shape {shape} for {what}")
        got = tuple(np.shape(sd[key]))
        if got != shape:
            raise UsageError(f"tensor {key!r} in {source} has shape {got}, expected {shape}",
                             f"{what} needs these shapes; check --arch/--hidden/--layers or the file")
        out[key] = np.asarray(sd[key])
    return out


# --------------------------------------------------------------------------- writers


def _st_blob(name: str, arr: Any) -> tuple[str, np.ndarray]:
    a = np.asarray(arr)
    if a.dtype.name == "bfloat16":  # ml_dtypes (as used by JAX)
        return "BF16", np.ascontiguousarray(a).view("<u2")
    a = np.ascontiguousarray(a, a.dtype.newbyteorder("<") if a.dtype.byteorder != "|" else None)
    if a.dtype not in _ST_NAMES:
        raise ValueError(f"tensor {name!r} has dtype {a.dtype}, which safetensors cannot hold")
    return _ST_NAMES[a.dtype], a


def write_safetensors(path: str | os.PathLike, tensors: dict[str, Any],
                      metadata: dict[str, str] | None = None) -> None:
    """Write `tensors` as a `.safetensors` file (readable by `safetensors` and PyTorch), atomically.

    **Arguments:**

    - `path`: the file to (over)write; a temporary file in the same folder is renamed onto it.
    - `tensors`: name -> array (float64/32/16, bfloat16, int64/32/16/8, uint8, bool).
    - `metadata`: optional string -> string dict stored as `__metadata__`.
    """
    header: dict[str, Any] = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs, offset = [], 0
    for name, arr in tensors.items():
        if name == "__metadata__":
            raise ValueError("'__metadata__' is reserved and cannot name a tensor")
        dtype, a = _st_blob(name, arr)
        header[name] = {"dtype": dtype, "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        blobs.append(a)
        offset += a.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)

    def write(f):
        f.write(struct.pack("<Q", len(text)) + text)
        for a in blobs:
            f.write(a.tobytes())

    atomic_write(path, write)


def write_npz(path: str | os.PathLike, tensors: dict[str, Any]) -> None:
    """Write `tensors` as an uncompressed `.npz` (as `np.savez` does), atomically.

    **Arguments:**

    - `path`: the file to (over)write; a temporary file in the same folder is renamed onto it.
    - `tensors`: name -> numeric array (object arrays are refused).
    """
    def write(f):
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            for name, arr in tensors.items():
                with zf.open(f"{name}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.asanyarray(arr), allow_pickle=False)

    atomic_write(path, write)
