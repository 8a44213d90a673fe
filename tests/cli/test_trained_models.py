"""Weights trained elsewhere: a PyTorch nn.LSTM state_dict saved as .pt and .safetensors (or,
without PyTorch, an .npz written here), compared with the same architecture at init by
`gradscope compare --weights FILES --init pytorch`, and its Jacobian profile checked against
an independent computation."""

import json

import numpy as np
import pytest

from gradscope.io.weights import write_npz, write_safetensors

from ..cells import numpy_cells as ref
from .test_analyze_cli import gradscope

H, D, T = 8, 3, 15


def _compare(tmp_path, files, xs):
    np.save(tmp_path / "xs.npy", xs)
    r = gradscope("compare", "--weights", ",".join(str(f) for f in files), "--init", "pytorch",
                  "--inputs", str(tmp_path / "xs.npy"), "--x64", "--format", "json",
                  "--no-plots", "-o", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["runs"]


def _check_runs(runs, files):
    assert [r["config"]["weights"] for r in runs] == [str(f) for f in files] + [None]
    init = runs[-1]
    assert init["config"]["init"] == "pytorch" and init["label"].startswith("lstm · pytorch")
    for key in ("arch", "hidden", "input_size", "layers", "steps"):
        assert {r["config"][key] for r in runs} == {init["config"][key]}
    assert init["series"]["log10_jacobian_norm"] != runs[0]["series"]["log10_jacobian_norm"]


def test_trained_pytorch_lstm_against_its_init(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = torch.nn.LSTM(D, H, batch_first=True)
            self.head = torch.nn.Linear(H, 1)

        def forward(self, x):
            return self.head(self.rnn(x)[0][:, -1])

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=0.02)
    for _ in range(150):  # recall the first channel of the input 3 steps back
        x = torch.randn(32, T, D)
        loss = ((net(x)[:, 0] - x[:, -3, 0]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.3  # it learned (predicting 0 gives 1)
    sd = net.state_dict()
    torch.save(sd, tmp_path / "model.pt")
    write_safetensors(tmp_path / "model.safetensors", {k: v.numpy() for k, v in sd.items()})

    xs = np.random.default_rng(0).standard_normal((T, D))
    files = [tmp_path / "model.pt", tmp_path / "model.safetensors"]
    runs = _compare(tmp_path, files, xs)
    _check_runs(runs, files)
    assert runs[0]["series"] == runs[1]["series"]

    # Independent: PyTorch's own LSTMCell, its Jacobians by torch.func.jacrev, dense products
    cell = torch.nn.LSTMCell(D, H, dtype=torch.float64).requires_grad_(False)
    cell.load_state_dict({k.replace("rnn.", "").replace("_l0", ""): v.double()
                          for k, v in sd.items() if k.startswith("rnn.")})

    def step(s, x):
        h, c = cell(x[None], (s[None, :H], s[None, H:]))
        return torch.cat([h[0], c[0]])

    s, states = torch.zeros(2 * H, dtype=torch.float64), []
    xt = torch.from_numpy(xs)
    with torch.no_grad():
        for t in range(T):
            states.append(s)
            s = step(s, xt[t])
    P, expected = torch.eye(2 * H, dtype=torch.float64), [0.0]
    for t in reversed(range(T)):
        P = P @ torch.func.jacrev(step)(states[t], xt[t])
        expected.append(float(torch.log10(torch.linalg.matrix_norm(P, 2))))
    np.testing.assert_allclose(runs[0]["series"]["log10_jacobian_norm"], expected[::-1],
                               atol=1e-7)


def test_trained_npz_against_its_init(tmp_path):
    # Without PyTorch: "trained" weights written here, under a module prefix and with a
    # readout, as a user's state_dict would be; checked against a numpy LSTM and central
    # finite differences of its whole unroll.
    rng = np.random.default_rng(1)
    p = {"weight_ih_l0": rng.normal(0, 0.5, (4 * H, D)),
         "weight_hh_l0": rng.normal(0, 0.4, (4 * H, H)),
         "bias_ih_l0": np.r_[np.zeros(H), np.full(H, 2.0), np.zeros(2 * H)],
         "bias_hh_l0": rng.normal(0, 0.1, 4 * H)}
    sd = {f"model.encoder.lstm.{k}": v for k, v in p.items()}
    sd["model.head.weight"] = np.ones((1, H))
    write_npz(tmp_path / "trained.npz", sd)
    xs = rng.standard_normal((T, D))
    runs = _compare(tmp_path, [tmp_path / "trained.npz"], xs)
    _check_runs(runs, [tmp_path / "trained.npz"])

    def final(s0):
        return ref.unroll(ref.lstm, p, s0, xs)[-1]

    eps, S = 1e-6, 2 * H
    J = np.stack([(final(eps * e) - final(-eps * e)) / (2 * eps) for e in np.eye(S)], axis=1)
    assert runs[0]["series"]["log10_jacobian_norm"][0] == pytest.approx(
        np.log10(np.linalg.norm(J, 2)), abs=1e-6)


def test_a_bidirectional_file_gives_a_run_per_direction(tmp_path):
    from gradscope.cells import init_params
    from gradscope.config import Config

    cfg = Config(arch="gru", hidden=5, input_size=D, layers=2, bidirectional=True, seed=4)
    write_npz(tmp_path / "bi.npz", {f"enc.{k}": v for k, v in init_params(cfg).items()})
    for command, extra in (("analyze", ["-T", "10"]), ("spectrum", [])):
        r = gradscope(command, "--weights", str(tmp_path / "bi.npz"), *extra, "--format",
                      "json", "--no-plots", "-o", str(tmp_path / command))
        assert r.returncode == 0, r.stderr
        runs = json.loads(r.stdout)["runs"]
        assert [run["config"]["direction"] for run in runs] == ["forward", "backward"]
        assert all(run["config"]["bidirectional"] and run["config"]["layers"] == 2
                   for run in runs)
    r = gradscope("analyze", "--weights", str(tmp_path / "bi.npz"), "--layers", "3",
                  "-o", str(tmp_path / "bad"))
    assert r.returncode == 2 and "contradicts" in r.stderr and "hint:" in r.stderr
