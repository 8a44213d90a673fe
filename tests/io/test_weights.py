"""Weights files: readers, prefix handling, size inference, shape checks and writers."""

import json
import os
import struct
import sys

import numpy as np
import pytest

from gradscope.errors import UsageError
from gradscope.io import weights as w


def make_sd(G=4, H=4, D=3, layers=1, prefix="", dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    sd = {}
    for k in range(layers):
        sd[f"{prefix}weight_ih_l{k}"] = rng.standard_normal((G * H, D if k == 0 else H))
        sd[f"{prefix}weight_hh_l{k}"] = rng.standard_normal((G * H, H))
        sd[f"{prefix}bias_ih_l{k}"] = rng.standard_normal(G * H)
        sd[f"{prefix}bias_hh_l{k}"] = rng.standard_normal(G * H)
    return {k: v.astype(dtype) for k, v in sd.items()}


def hand_safetensors(path, entries, metadata=None, pad=True):
    """A safetensors file built with struct + json only: entries = [(name, dtype, shape, bytes)]."""
    header, body = {}, b""
    for name, dtype, shape, raw in entries:
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [len(body), len(body) + len(raw)]}
        body += raw
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + body)
    return path


def assert_usage(fn, *args, match, **kwargs):
    with pytest.raises(UsageError, match=match) as e:
        fn(*args, **kwargs)
    assert e.value.hint and "\n" not in e.value.message and "\n" not in e.value.hint
    return e.value


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_round_trip_keeps_values_and_float_width(tmp_path, suffix, dtype):
    sd = make_sd(layers=2, dtype=dtype)
    f = tmp_path / f"a{suffix}"
    (w.write_npz if suffix == ".npz" else w.write_safetensors)(f, sd)
    got = w.read_state_dict(f)
    assert set(got) == set(sd)
    for k, v in sd.items():
        assert got[k].dtype == dtype
        np.testing.assert_array_equal(got[k], v)
    assert [p.name for p in tmp_path.iterdir()] == [f.name]  # no temporary file left behind


def test_safetensors_writer_layout_and_metadata(tmp_path):
    f = tmp_path / "m.safetensors"
    a = np.arange(6, dtype=np.float64).reshape(2, 3)
    b = np.array([1, -2, 3], np.int32)
    c = np.asfortranarray(np.arange(6, dtype=">f4").reshape(3, 2))  # big-endian, Fortran order
    w.write_safetensors(f, {"a": a, "b": b, "c": c}, {"format": "pt", "n": 3})
    data = f.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    assert n % 8 == 0 and data[8 + n - 1 : 8 + n] in (b" ", b"}")
    header = json.loads(data[8 : 8 + n])
    assert header["__metadata__"] == {"format": "pt", "n": "3"}
    assert header["a"] == {"dtype": "F64", "shape": [2, 3], "data_offsets": [0, 48]}
    assert header["b"] == {"dtype": "I32", "shape": [3], "data_offsets": [48, 60]}
    assert header["c"] == {"dtype": "F32", "shape": [3, 2], "data_offsets": [60, 84]}
    assert len(data) == 8 + n + 84
    assert data[8 + n + 60 : 8 + n + 84] == np.arange(6, dtype="<f4").tobytes()  # C order, LE
    assert w.safetensors_metadata(f) == {"format": "pt", "n": "3"}
    got = w.read_safetensors(f)
    np.testing.assert_array_equal(got["c"], c)
    assert got["b"].dtype == np.int32


def test_safetensors_output_loads_with_the_real_library(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    sd = make_sd(G=3, H=2, D=5)
    w.write_safetensors(tmp_path / "g.safetensors", sd, {"format": "np"})
    got = st.load_file(str(tmp_path / "g.safetensors"))
    for k, v in sd.items():
        np.testing.assert_array_equal(got[k], v)


def test_safetensors_built_by_hand_f16_bf16_ints(tmp_path):
    a = np.array([[0.5, -1.0, 2.0], [65504.0, -0.0, 1e-3]], np.float16)
    b = np.array([1.5, -2.0, 3.140625], np.float32)  # exactly representable in bfloat16
    b_bf16 = (b.view(np.uint32) >> 16).astype("<u2").tobytes()
    i = np.array([[7, -8], [9, 10]], np.int64)
    f = hand_safetensors(tmp_path / "h.safetensors", [
        ("rnn.weight_hh_l0", "F16", a.shape, a.astype("<f2").tobytes()),
        ("rnn.bias_hh_l0", "BF16", b.shape, b_bf16),
        ("rnn.weight_ih_l0", "I64", i.shape, i.astype("<i8").tobytes()),
    ], metadata={"format": "pt"})
    raw = w.read_safetensors(f)
    assert raw["rnn.weight_hh_l0"].dtype == np.float16
    np.testing.assert_array_equal(raw["rnn.weight_hh_l0"], a)
    assert raw["rnn.bias_hh_l0"].dtype == np.float32
    np.testing.assert_array_equal(raw["rnn.bias_hh_l0"], [1.5, -2.0, 3.140625])
    np.testing.assert_array_equal(raw["rnn.weight_ih_l0"], i)
    sd = w.read_state_dict(f)
    assert set(sd) == {"weight_hh_l0", "bias_hh_l0", "weight_ih_l0"}
    assert all(v.dtype == np.float32 for v in sd.values())
    np.testing.assert_array_equal(sd["weight_hh_l0"], a.astype(np.float32))
    np.testing.assert_array_equal(sd["weight_ih_l0"], [[7.0, -8.0], [9.0, 10.0]])


def test_unpadded_header_and_empty_tensor_are_read(tmp_path):
    f = hand_safetensors(tmp_path / "u.safetensors", [
        ("weight_hh_l0", "F32", (1, 1), np.float32(2.5).tobytes()),
        ("extra", "F32", (0, 3), b""),
    ], pad=False)
    got = w.read_safetensors(f)
    assert got["weight_hh_l0"].tolist() == [[2.5]] and got["extra"].shape == (0, 3)


# --------------------------------------------------------------------------- key selection


@pytest.mark.parametrize("prefix", ["", "rnn.", "model.lstm.", "model.encoder.lstm.", "module."])
def test_prefix_is_stripped_other_keys_dropped_reverse_kept(tmp_path, prefix):
    sd = make_sd(layers=2, prefix=prefix)
    sd["fc.weight"] = np.ones((2, 4), np.float32)
    sd["embedding.weight"] = np.ones((10, 3), np.float32)
    sd[f"{prefix}weight_ih_l0_reverse"] = np.full((16, 3), 9.0, np.float32)
    np.savez(tmp_path / "m.npz", **sd)
    got = w.read_state_dict(str(tmp_path / "m.npz"))
    assert set(got) == {f"{n}_l{k}" for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
                        for k in (0, 1)} | {"weight_ih_l0_reverse"}
    np.testing.assert_array_equal(got["weight_ih_l0"], sd[f"{prefix}weight_ih_l0"])
    assert (got["weight_ih_l0_reverse"] == 9.0).all()
    np.testing.assert_array_equal(got["bias_hh_l1"], sd[f"{prefix}bias_hh_l1"])


def test_several_prefixes_are_refused(tmp_path):
    sd = {**make_sd(prefix="enc."), **make_sd(prefix="dec.")}
    np.savez(tmp_path / "two.npz", **sd)
    e = assert_usage(w.read_state_dict, tmp_path / "two.npz", match="several prefixes")
    assert "'dec.'" in e.message and "'enc.'" in e.message and "two.npz" in e.message


def test_no_recurrent_tensors_lists_expected_names(tmp_path):
    np.savez(tmp_path / "fc.npz", **{"fc.weight": np.ones((2, 2))})
    e = assert_usage(w.read_state_dict, tmp_path / "fc.npz", match="no recurrent tensors in .*fc.npz")
    assert "weight_ih_l0" in e.hint and "weight_hh_l0" in e.hint


def test_non_finite_weights_are_refused_naming_the_key(tmp_path):
    for bad in (np.nan, np.inf):
        sd = make_sd(prefix="rnn.")
        sd["rnn.weight_hh_l0"][1, 2] = bad
        np.savez(tmp_path / "nan.npz", **sd)
        e = assert_usage(w.read_state_dict, tmp_path / "nan.npz", match="NaN or inf")
        assert "'rnn.weight_hh_l0'" in e.message and "nan.npz" in e.message


def test_non_numeric_tensor_is_refused(tmp_path):
    np.savez(tmp_path / "s.npz", weight_hh_l0=np.array(["a", "b"]))
    assert_usage(w.read_state_dict, tmp_path / "s.npz", match="'weight_hh_l0'.*dtype <U1")


# --------------------------------------------------------------------------- sizes and shapes


@pytest.mark.parametrize(("G", "arch"), [(1, "rnn"), (3, "gru"), (4, "lstm")])
@pytest.mark.parametrize("layers", [1, 2])
def test_infer_sizes(G, arch, layers):
    sd = make_sd(G=G, H=5, D=7, layers=layers)
    assert w.infer_sizes(sd) == {"arch": arch, "hidden": 5, "input_size": 7, "layers": layers,
                                 "bidirectional": False}
    assert w.check_params(sd, arch=arch, hidden=5, input_size=7, layers=layers).keys() == sd.keys()


def test_bidirectional_shapes_follow_pytorch():
    torch = pytest.importorskip("torch")
    net = torch.nn.GRU(7, 5, num_layers=3, bidirectional=True)
    sd = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    assert w.infer_sizes(sd) == {"arch": "gru", "hidden": 5, "input_size": 7, "layers": 3,
                                 "bidirectional": True}
    shapes = w.expected_shapes(arch="gru", hidden=5, input_size=7, layers=3, bidirectional=True)
    assert shapes == {k: v.shape for k, v in sd.items()}
    assert w.check_params(sd, arch="gru", hidden=5, input_size=7, layers=3,
                          bidirectional=True).keys() == sd.keys()
    del sd["weight_hh_l2_reverse"]
    assert_usage(w.check_params, sd, arch="gru", hidden=5, input_size=7, layers=3,
                 bidirectional=True, match="missing tensor 'weight_hh_l2_reverse'")


def test_infer_sizes_refuses_bad_gate_count_and_missing_keys():
    e = assert_usage(w.infer_sizes, {"weight_ih_l0": np.zeros((10, 3)),
                                     "weight_hh_l0": np.zeros((10, 5))}, match="G·H")
    assert "(10, 5)" in e.message
    assert_usage(w.infer_sizes, {"weight_ih_l0": np.zeros((6, 3)),
                                 "weight_hh_l0": np.zeros((6, 4))}, match=r"\(6, 4\)")
    assert_usage(w.infer_sizes, {"weight_ih_l0": np.zeros((4, 3))}, match="'weight_hh_l0'")
    assert_usage(w.infer_sizes, {"weight_hh_l0": np.zeros((4, 4))}, match="'weight_ih_l0'")


def test_check_params_missing_and_wrong_shapes():
    sd = make_sd(layers=2, H=64, D=8)
    del sd["weight_hh_l1"]
    e = assert_usage(w.check_params, sd, arch="lstm", hidden=64, input_size=8, layers=2,
                     source="f.npz", match=r"^missing tensor 'weight_hh_l1' in f\.npz$")
    assert "(256, 64)" in e.hint
    sd = make_sd(H=4, D=3)
    sd["weight_ih_l0"] = np.zeros((16, 2), np.float32)
    e = assert_usage(w.check_params, sd, arch="lstm", hidden=4, input_size=3, layers=1,
                     source="f.npz", match="'weight_ih_l0' in f.npz")
    assert "has shape (16, 2), expected (16, 3)" in e.message
    sd = make_sd(G=3, H=4, D=3)  # a GRU checked as an LSTM
    e = assert_usage(w.check_params, sd, arch="lstm", hidden=4, input_size=3, layers=1,
                     match="'weight_ih_l0'")
    assert "(12, 3)" in e.message and "(16, 3)" in e.message


def test_check_params_missing_bias_is_zeros_and_extra_keys_dropped():
    sd = {k: v for k, v in make_sd(G=1, H=3, D=2, dtype=np.float64).items()
          if k.startswith("weight")}
    sd["weight_hh_l1"] = np.zeros((3, 3))  # a layer beyond the one asked for
    got = w.check_params(sd, arch="rnn", hidden=3, input_size=2, layers=1)
    assert set(got) == {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"}
    assert got["bias_ih_l0"].dtype == np.float64
    np.testing.assert_array_equal(got["bias_hh_l0"], np.zeros(3))
    np.testing.assert_array_equal(got["weight_hh_l0"], sd["weight_hh_l0"])


# --------------------------------------------------------------------------- bad files


def test_truncated_and_corrupt_safetensors(tmp_path):
    f = tmp_path / "t.safetensors"
    w.write_safetensors(f, make_sd())
    data = f.read_bytes()
    cases = {
        data[:-10]: "past the end",
        data[:5]: "truncated",
        data[:20]: "header length",
        struct.pack("<Q", 8) + b"not json": "not valid JSON",
        struct.pack("<Q", 8) + b"[1, 2]  ": "not a JSON object",
    }
    for raw, match in cases.items():
        f.write_bytes(raw)
        e = assert_usage(w.read_state_dict, f, match=match)
        assert "t.safetensors" in e.message
    bad_entries = [
        ("weight_hh_l0", "F32", (2, 2), b"\0" * 12, "needs 16"),
        ("weight_hh_l0", "Q8", (1,), b"\0", "unsupported dtype 'Q8'"),
        ("weight_hh_l0", "F32", (-1,), b"", "bad shape"),
    ]
    for name, dtype, shape, raw, match in bad_entries:
        hand_safetensors(f, [(name, dtype, shape, raw)])
        assert_usage(w.read_state_dict, f, match=match)
    text = json.dumps({"weight_hh_l0": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}})
    f.write_bytes(struct.pack("<Q", len(text)) + text.encode() + b"\0" * 4)
    assert_usage(w.read_state_dict, f, match="bad data_offsets")


def test_corrupt_npz(tmp_path):
    (tmp_path / "c.npz").write_bytes(b"PK\x03\x04 not a zip at all")
    assert_usage(w.read_state_dict, tmp_path / "c.npz", match=r"cannot read weights file .*c\.npz")
    w.write_npz(tmp_path / "t.npz", make_sd())
    (tmp_path / "t.npz").write_bytes((tmp_path / "t.npz").read_bytes()[:300])
    assert_usage(w.read_state_dict, tmp_path / "t.npz", match=r"cannot read .*t\.npz")
    np.save(tmp_path / "single.npy", np.ones(3))
    os.replace(tmp_path / "single.npy", tmp_path / "single.npz")
    assert_usage(w.read_state_dict, tmp_path / "single.npz", match="single .npy array")


def test_pickled_npz_is_refused(tmp_path):
    np.savez(tmp_path / "p.npz", weight_hh_l0=np.array([object()], dtype=object))
    assert_usage(w.read_state_dict, tmp_path / "p.npz", match="p.npz")


def test_missing_unknown_and_folder_paths(tmp_path):
    e = assert_usage(w.read_state_dict, tmp_path / "x.h5", match="unknown weights format '.h5'")
    assert ".safetensors" in e.hint and ".npz" in e.hint and ".pt" in e.hint
    assert_usage(w.read_state_dict, tmp_path / "none.npz", match="weights file not found: .*none.npz")
    (tmp_path / "d.npz").mkdir()
    assert_usage(w.read_state_dict, tmp_path / "d.npz", match="not a file")


def test_write_safetensors_refuses_object_and_reserved_names(tmp_path):
    with pytest.raises(ValueError, match="'x'"):
        w.write_safetensors(tmp_path / "o.safetensors", {"x": np.array([1 + 2j])})
    with pytest.raises(ValueError, match="reserved"):
        w.write_safetensors(tmp_path / "o.safetensors", {"__metadata__": np.zeros(1)})
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- PyTorch


def test_pt_without_torch_says_how_to_fix(tmp_path, monkeypatch):
    (tmp_path / "m.pt").write_bytes(b"whatever")
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    e = assert_usage(w.read_state_dict, tmp_path / "m.pt", match="needs PyTorch")
    assert "safetensors" in e.hint and "pip install torch" in e.hint


def test_pt_state_dict_from_pytorch(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    m = torch.nn.GRU(3, 5, num_layers=2)
    head = torch.nn.Linear(5, 2)
    sd = {**{f"enc.{k}": v for k, v in m.state_dict().items()},
          **{f"head.{k}": v for k, v in head.state_dict().items()}}
    torch.save({"state_dict": sd, "epoch": 3}, tmp_path / "m.pt")
    got = w.read_state_dict(str(tmp_path / "m.pt"))
    assert w.infer_sizes(got) == {"arch": "gru", "hidden": 5, "input_size": 3, "layers": 2,
                                  "bidirectional": False}
    assert len(got) == 8 and got["weight_hh_l1"].dtype == np.float32
    np.testing.assert_array_equal(got["weight_hh_l1"], m.weight_hh_l1.detach().numpy())
    torch.save(m.double().state_dict(), tmp_path / "m64.pth")
    got = w.read_state_dict(tmp_path / "m64.pth")
    assert got["bias_ih_l0"].dtype == np.float64
    np.testing.assert_array_equal(got["bias_ih_l0"], m.bias_ih_l0.detach().numpy())
    (tmp_path / "bad.pt").write_bytes(b"\x80\x04junk")
    assert_usage(w.read_state_dict, tmp_path / "bad.pt", match=r"cannot read weights file .*bad\.pt")
    torch.save([1, 2], tmp_path / "list.bin")
    assert_usage(w.read_state_dict, tmp_path / "list.bin", match="not a state_dict")
