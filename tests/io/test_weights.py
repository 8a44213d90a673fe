import json
import struct

import numpy as np
import pytest

from gradscope.errors import UsageError
from gradscope.io import weights as w


def lstm_sd(H=4, D=3, prefix=""):
    rng = np.random.default_rng(0)
    return {f"{prefix}weight_ih_l0": rng.standard_normal((4 * H, D)).astype(np.float32),
            f"{prefix}weight_hh_l0": rng.standard_normal((4 * H, H)).astype(np.float32),
            f"{prefix}bias_ih_l0": rng.standard_normal(4 * H).astype(np.float32),
            f"{prefix}bias_hh_l0": rng.standard_normal(4 * H).astype(np.float32)}


def test_npz_and_safetensors_round_trip(tmp_path):
    sd = lstm_sd()
    w.write_npz(tmp_path / "a.npz", sd)
    w.write_safetensors(tmp_path / "a.safetensors", sd, {"format": "pt"})
    for f in ("a.npz", "a.safetensors"):
        got = w.read_state_dict(str(tmp_path / f))
        assert set(got) == set(sd)
        for k in sd:
            np.testing.assert_array_equal(got[k], sd[k])


def test_safetensors_written_by_hand_with_f16_bf16_and_padding(tmp_path):
    a = np.arange(6, dtype=np.float16).reshape(2, 3)
    b = np.array([1.5, -2.0], np.float32)
    b_bf16 = (b.view(np.uint32) >> 16).astype("<u2").tobytes()
    header = {"weight_hh_l0": {"dtype": "F16", "shape": [2, 3], "data_offsets": [0, 12]},
              "bias_hh_l0": {"dtype": "BF16", "shape": [2], "data_offsets": [12, 16]},
              "__metadata__": {"format": "pt"}}
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    f = tmp_path / "h.safetensors"
    f.write_bytes(struct.pack("<Q", len(text)) + text + a.tobytes() + b_bf16)
    got = w.read_safetensors(str(f))
    np.testing.assert_array_equal(got["weight_hh_l0"], a)
    np.testing.assert_array_equal(got["bias_hh_l0"], b)


@pytest.mark.parametrize("prefix", ["rnn.", "model.lstm.", "module."])
def test_prefix_is_stripped_and_other_keys_ignored(tmp_path, prefix):
    sd = lstm_sd(prefix=prefix)
    sd["fc.weight"] = np.zeros((2, 4), np.float32)
    sd[f"{prefix}weight_ih_l0_reverse"] = np.zeros((16, 3), np.float32)
    np.savez(tmp_path / "m.npz", **sd)
    got = w.read_state_dict(str(tmp_path / "m.npz"))
    assert set(got) == {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"}


@pytest.mark.parametrize(("G", "arch"), [(1, "rnn"), (3, "gru"), (4, "lstm")])
def test_infer_sizes(G, arch):
    sd = {"weight_ih_l0": np.zeros((G * 5, 7)), "weight_hh_l0": np.zeros((G * 5, 5)),
          "weight_ih_l1": np.zeros((G * 5, 5)), "weight_hh_l1": np.zeros((G * 5, 5))}
    assert w.infer_sizes(sd) == {"arch": arch, "hidden": 5, "input_size": 7, "layers": 2}


def test_bad_gate_count_and_missing_and_wrong_shapes():
    with pytest.raises(UsageError, match="G·H"):
        w.infer_sizes({"weight_ih_l0": np.zeros((10, 3)), "weight_hh_l0": np.zeros((10, 5))})
    sd = lstm_sd()
    del sd["weight_hh_l0"]
    with pytest.raises(UsageError, match=r"missing tensor 'weight_hh_l0'.*") as e:
        w.check_params(sd, arch="lstm", hidden=4, input_size=3, layers=1, source="f.npz")
    assert "(16, 4)" in e.value.hint
    sd = lstm_sd()
    sd["weight_ih_l0"] = np.zeros((16, 2))
    with pytest.raises(UsageError, match=r"'weight_ih_l0' in f.npz has shape \(16, 2\), expected \(16, 3\)"):
        w.check_params(sd, arch="lstm", hidden=4, input_size=3, layers=1, source="f.npz")


def test_missing_bias_is_zeros():
    sd = {k: v for k, v in lstm_sd().items() if k.startswith("weight")}
    got = w.check_params(sd, arch="lstm", hidden=4, input_size=3, layers=1)
    np.testing.assert_array_equal(got["bias_ih_l0"], np.zeros(16))


def test_nan_truncated_corrupt_and_unknown_files(tmp_path):
    sd = lstm_sd()
    sd["weight_hh_l0"][0, 0] = np.nan
    np.savez(tmp_path / "nan.npz", **sd)
    with pytest.raises(UsageError, match="weight_hh_l0.*NaN"):
        w.read_state_dict(str(tmp_path / "nan.npz"))
    w.write_safetensors(tmp_path / "t.safetensors", lstm_sd())
    data = (tmp_path / "t.safetensors").read_bytes()
    (tmp_path / "t.safetensors").write_bytes(data[:-10])
    with pytest.raises(UsageError, match="past the end"):
        w.read_state_dict(str(tmp_path / "t.safetensors"))
    (tmp_path / "c.npz").write_bytes(b"PK\x03\x04 not a zip at all")
    with pytest.raises(UsageError, match="cannot read"):
        w.read_state_dict(str(tmp_path / "c.npz"))
    (tmp_path / "x.h5").write_bytes(b"")
    with pytest.raises(UsageError, match="unknown weights format"):
        w.read_state_dict(str(tmp_path / "x.h5"))
    with pytest.raises(UsageError, match="not found"):
        w.read_state_dict(str(tmp_path / "none.npz"))


def test_pickled_npz_is_refused(tmp_path):
    np.savez(tmp_path / "p.npz", weight_hh_l0=np.array([object()], dtype=object))
    with pytest.raises(UsageError):
        w.read_state_dict(str(tmp_path / "p.npz"))


def test_pt_state_dict_from_pytorch(tmp_path):
    torch = pytest.importorskip("torch")
    m = torch.nn.GRU(3, 5, num_layers=2)
    torch.save({"state_dict": {f"enc.{k}": v for k, v in m.state_dict().items()}},
               tmp_path / "m.pt")
    got = w.read_state_dict(str(tmp_path / "m.pt"))
    assert w.infer_sizes(got) == {"arch": "gru", "hidden": 5, "input_size": 3, "layers": 2}
    np.testing.assert_allclose(got["weight_hh_l1"], m.weight_hh_l1.detach().numpy(), rtol=1e-6)
