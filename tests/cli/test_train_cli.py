"""`gradscope train` end to end: the real entry point in a subprocess, the saved weights read
back by `analyze`, Ctrl-C, and bad inputs."""

import json
import math
from contextlib import contextmanager

import numpy as np
import pytest

from .test_analyze_cli import _assert_usage_error, gradscope, run_main


@pytest.mark.slow
def test_lstm_learns_adding_and_weights_round_trip_through_analyze(tmp_path):
    out, weights = tmp_path / "run", tmp_path / "w.safetensors"
    r = gradscope("train", "--task", "adding", "--arch", "lstm", "--clip", "none,1", "-H", "32",
                  "-T", "20", "--iters", "200", "--checkpoint-every", "100", "--lr", "0.01",
                  "--optimizer", "adam", "--save-weights", str(weights), "--format", "json",
                  "-o", str(out))
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)  # nothing else on stdout
    assert report["command"] == "train" and report["interrupted"] is False
    assert json.loads((out / "report.json").read_text()) == report
    free, clipped = report["runs"]
    assert [free["label"], clipped["label"]] == ["lstm · clip none", "lstm · clip 1"]
    cfg = free["config"]
    assert {k: cfg[k] for k in ("task", "clip", "clip_mode", "optimizer", "lr", "batch_size",
                                "iters", "tbptt", "checkpoint_every", "hidden", "steps")} == {
        "task": "adding", "clip": "none", "clip_mode": "norm", "optimizer": "adam", "lr": 0.01,
        "batch_size": 32, "iters": 200, "tbptt": None, "checkpoint_every": 100, "hidden": 32,
        "steps": 20}
    assert clipped["config"]["clip"] == 1.0
    for run in (free, clipped):
        s = run["summary"]
        assert len(run["series"]["loss"]) == len(run["series"]["grad_norm"]) == 200
        assert run["series"]["eval_iter"] == [0, 100, 200]
        assert s["baseline_loss"] == pytest.approx(1 / 24)
        # measured: about 0.002 (seed 0); the memoryless baseline is 1/24 ≈ 0.042
        assert s["final_loss"] < 0.5 * s["baseline_loss"]
        assert s["first_nonfinite_iter"] is None
        assert [c["iter"] for c in run["checkpoints"]] == [0, 100, 200]
    norms, flags = np.array(clipped["series"]["grad_norm"]), clipped["series"]["clipped"]
    assert flags == [int(n > 1.0) for n in norms]
    assert clipped["summary"]["clip_fraction"] == pytest.approx(np.mean(norms > 1.0))
    assert free["summary"]["clip_fraction"] == 0

    for name in ("series.csv", "report.md", "report.html"):
        assert (out / name).stat().st_size > 0
    import matplotlib.image as mpimg

    pngs = sorted((out / "plots").glob("*.png"))
    assert {p.stem for p in pngs} == {"loss", "grad_norm", "task_error", "jacobian"}
    for p in pngs:
        img = mpimg.imread(p)
        assert img.shape[0] > 100 and img.std() > 0
        assert p.with_suffix(".svg").exists()

    # One weights file per run; analyze --weights on the held-out sequences gives the final
    # checkpoint's Jacobian profile.
    from gradscope.config import resolve
    from gradscope.io.weights import read_safetensors, safetensors_metadata
    from gradscope.pipeline import analyze
    from gradscope.training.loop import EVAL_BATCH, JACOBIAN_BATCH
    from gradscope.training.tasks import eval_batch, make_task

    files = {run["label"]: tmp_path / f"w-lstm-clip{tag}.safetensors"
             for run, tag in ((free, "none"), (clipped, "1"))}
    xs = eval_batch(make_task("adding", 20), 0, EVAL_BATCH).xs[:JACOBIAN_BATCH]
    np.save(tmp_path / "xs.npy", xs)
    for run in (free, clipped):
        path = files[run["label"]]
        assert run["weights_file"] == str(path)
        tensors = read_safetensors(path)
        assert tensors["head.weight"].shape == (1, 32) and tensors["weight_hh_l0"].shape == (128, 32)
        assert safetensors_metadata(path)["label"] == run["label"]
        a = analyze(resolve({"weights": str(path), "inputs": str(tmp_path / "xs.npy")}))
        np.testing.assert_allclose(a["series"]["log10_jacobian_norm"],
                                   run["checkpoints"][-1]["log10_jacobian_norm"], atol=2e-4)
        assert a["spectrum"]["spectral_radius"] == pytest.approx(
            run["checkpoints"][-1]["spectral_radius"], rel=1e-5)


@contextmanager
def _interrupting_bar(description, enabled):
    def update(done, total, what=None):
        raise KeyboardInterrupt

    yield update


def test_ctrl_c_keeps_the_iterations_done_then_a_finished_run(tmp_path, capsys, monkeypatch):
    text = tmp_path / "hello.txt"
    text.write_text("hello\n")
    out, w = tmp_path / "out", tmp_path / "hello.safetensors"
    args = ["train", "--task", f"text:{text}", "-T", "4", "-H", "4", "--iters", "50",
            "--checkpoint-every", "10", "--optimizer", "sgd", "--lr", "0.5", "--clip", "5",
            "--tbptt", "2",
            "--save-weights", str(w), "--no-plots", "-o", str(out)]
    import gradscope.cli._common as common

    with monkeypatch.context() as m:
        m.setattr(common, "progress_bar", _interrupting_bar)
        code, stdout, err = run_main(capsys, *args, "--format", "none")
    assert code == 130
    lines = err.strip().splitlines()
    assert lines[0] == "error: interrupted" and lines[1].startswith("hint: ") and len(lines) == 2
    assert "10 of 50" in lines[1]
    report = json.loads((out / "report.json").read_text())
    (run,) = report["runs"]
    assert report["interrupted"] is True
    assert len(run["series"]["loss"]) == 10 and run["summary"]["iterations"] == 10
    assert run["config"]["task"] == "charlm" and run["config"]["input_size"] == 4
    assert run["config"]["tbptt"] == 2 and run["config"]["text"] == str(text)
    assert run["summary"]["baseline_loss"] == pytest.approx(
        -sum(p * math.log(p) for p in (0.25, 0.5, 0.25)))
    assert w.exists()
    assert "interrupted" in (out / "report.md").read_text()

    code, stdout, err = run_main(capsys, *args, "--force")
    assert code == 0, err
    assert "rnn · clip 5" in stdout and "report" in stdout
    report = json.loads((out / "report.json").read_text())
    assert report["interrupted"] is False and len(report["runs"][0]["series"]["loss"]) == 50


@pytest.mark.parametrize(("args", "needle"), [
    (["--task", "nope"], "--task"),
    (["--clip", "abc"], "--clip"),
    (["--clip", "0"], "--clip"),
    (["--clip", "none,none"], "--clip"),
    (["--lr", "0"], "--lr"),
    (["--lr", "nan"], "--lr"),
    (["--iters", "0"], "--iters"),
    (["--batch-size", "0"], "--batch-size"),
    (["--tbptt", "0"], "--tbptt"),
    (["--optimizer", "foo"], "--optimizer"),
    (["--clip-mode", "bar"], "--clip-mode"),
    (["--arch", "rnn,tcn"], "arch"),
    (["--arch", "lstm", "--activation", "relu"], None),
    (["--task", "charlm", "-T", "5000"], "characters"),
    (["--save-weights", "w.npz"], ".safetensors"),
    (["--format", "yaml"], "--format"),
    (["-H", "100000", "-T", "100000", "--arch", "lstm"], "GiB"),
])
def test_bad_inputs_exit_2_with_one_line_and_hint(tmp_path, capsys, args, needle):
    out = tmp_path / "never"
    code, stdout, err = run_main(capsys, "train", *args, "-o", str(out))
    _assert_usage_error(code, stdout, err, *([needle] if needle else []))
    assert not out.exists()


def test_bad_text_files(tmp_path, capsys):
    empty, latin = tmp_path / "empty.txt", tmp_path / "latin.txt"
    empty.write_text("")
    latin.write_bytes("naïve".encode("latin1"))
    for args, needle in ((["--task", "charlm", "--text", str(empty)], "empty"),
                         (["--task", f"text:{latin}"], "UTF-8"),
                         (["--task", "adding", "--text", str(latin)], "--text")):
        code, stdout, err = run_main(capsys, "train", *args, "-o", str(tmp_path / "o"))
        _assert_usage_error(code, stdout, err, needle)


def test_entry_point_bad_task():
    r = gradscope("train", "--task", "nope")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("error: unknown --task 'nope'\nhint: ")
    assert "Traceback" not in r.stderr
