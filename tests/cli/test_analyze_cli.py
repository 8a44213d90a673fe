"""`gradscope analyze` end to end: the real entry point in a subprocess, and bad inputs."""

import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from typing import NamedTuple

import numpy as np
import pytest

from gradscope.cli.app import main

SPEC_SERIES = {"log10_jacobian_norm", "log10_local_norm", "log10_loss_grad_norm",
               "log10_seed_bound", "log10_activation_deriv_product", "saturation_fraction",
               "log10_cell_path_norm"}


class Completed(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


def gradscope(*args, cwd=None) -> Completed:
    """`gradscope *args` in this process, as the entry point runs it (`main`), with its
    stdout and stderr captured: the programs one test compiles serve the next ones.
    `gradscope_process` runs the real entry point in a process of its own."""
    out, err = io.StringIO(), io.StringIO()
    here, columns = os.getcwd(), os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "120"
    try:
        if cwd is not None:
            os.chdir(cwd)
        with redirect_stdout(out), redirect_stderr(err):
            try:
                main(list(args))
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 0 if e.code is None else 1
    finally:
        os.chdir(here)
        if columns is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = columns
    return Completed(code, out.getvalue(), err.getvalue())


def gradscope_process(*args, cwd=None):
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run([sys.executable, "-m", "gradscope", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=300)


def run_main(capsys, *args):
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_analyze_json_report_and_plots(tmp_path):
    out = tmp_path / "run"
    r = gradscope("analyze", "--arch", "lstm", "-H", "8", "-T", "12", "--batch", "2",
                  "--format", "json", "-o", str(out))
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)  # nothing else on stdout
    assert report["schema"] == "gradscope.report/1" and report["command"] == "analyze"
    (run,) = report["runs"]
    assert set(run["series"]) == SPEC_SERIES
    assert len(run["series"]["log10_jacobian_norm"]) == 13
    assert run["config"]["arch"] == "lstm" and run["state_size"] == 16
    assert set(run["summary"]) >= {"log10_gain_per_step", "regime", "memory_horizon",
                                   "first_nonfinite_step", "theory_log10_gain_per_step"}
    assert "series_std" in run
    assert json.loads((out / "report.json").read_text()) == report
    for name in ("series.csv", "report.md", "report.html"):
        assert (out / name).stat().st_size > 0
    import matplotlib.image as mpimg

    pngs = sorted((out / "plots").glob("*.png"))
    assert {p.stem for p in pngs} >= {"jacobian_norm", "local_norm", "spectrum", "saturation"}
    for p in pngs:
        img = mpimg.imread(p)
        assert img.shape[0] > 100 and img.std() > 0
        assert p.with_suffix(".svg").exists()


@pytest.mark.slow
def test_the_real_process_ends_with_its_output_complete(tmp_path):
    # what the command printed reaches the reader (the table's last line, a JSON report
    # larger than stdio's buffer), and a reader that closed the pipe early (`| head`) costs
    # neither the exit code nor a traceback
    # (T = 400 makes the JSON report larger than the pipe's buffer; H = 8 keeps it quick)
    r = gradscope_process("analyze", "-T", "400", "-H", "8", "--no-plots", "-o",
                          str(tmp_path / "t"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.rstrip().endswith(f"report: {tmp_path / 't'}/report.md")
    r = gradscope_process("analyze", "-T", "400", "-H", "8", "--no-plots", "--format", "json",
                          "-o", str(tmp_path / "a"))
    assert r.returncode == 0, r.stderr
    assert len(r.stdout) > 4 * 8192
    assert json.loads(r.stdout) == json.loads((tmp_path / "a" / "report.json").read_text())
    p = subprocess.Popen([sys.executable, "-m", "gradscope", "analyze", "-T", "400", "-H", "8",
                          "--no-plots", "--format", "json", "-o", str(tmp_path / "b")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout.read(1) == b"{"
    p.stdout.close()
    with p.stderr:
        err = p.stderr.read().decode()
    assert p.wait(timeout=300) == 0 and "Traceback" not in err, err


def test_table_output_and_refusal_to_overwrite(tmp_path):
    out = tmp_path / "r"
    r = gradscope("analyze", "-H", "4", "-T", "5", "--no-plots", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "report.md" in r.stdout and "rnn" in r.stdout
    assert not (out / "plots").exists()
    again = gradscope("analyze", "-H", "4", "-T", "5", "--no-plots", "-o", str(out))
    assert again.returncode == 2
    assert again.stderr.startswith("error: ") and "--force" in again.stderr
    forced = gradscope("analyze", "-H", "4", "-T", "5", "--no-plots", "-o", str(out), "--force",
                       "--format", "none")
    assert forced.returncode == 0 and forced.stdout == ""


def _assert_usage_error(code, out, err, *needles):
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 2, err
    assert lines[0].startswith("error: ") and lines[1].startswith("hint: ")
    assert "Traceback" not in err and out == ""
    for n in needles:
        assert n in lines[0]


@pytest.mark.parametrize(("args", "needle"), [
    (["--arch", "transformer"], "transformer"),
    (["--hidden", "-3"], "--hidden"),
    (["--steps", "0"], "--steps"),
    (["--scale", "nan"], "--scale"),
    (["--init", "he"], "he"),
    (["--hidden", "abc"], "--hidden"),
    (["--bogus"], "--bogus"),
    (["--weights", "missing.npz"], "missing.npz"),
    (["--inputs", "missing.npy"], "missing.npy"),
    (["--format", "yaml"], "yaml"),
    (["--preset", "nope"], "nope"),
    (["--arch", "lstm", "--activation", "relu"], "relu"),
    (["--platform", "tpu"], "tpu"),
    (["--dropout", "1.5"], "--dropout"),
    (["--dropout", "0.2", "--dropout-mode", "sometimes"], "sometimes"),
    (["--bidirectional", "--residual", "--layers", "3"], "--bidirectional"),
])
def test_bad_inputs_give_exit_2_one_line_and_a_hint(capsys, tmp_path, monkeypatch, args, needle):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_main(capsys, "analyze", *args)
    _assert_usage_error(code, out, err, needle)


def test_wrong_weight_shape_names_key_and_shapes(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    f = tmp_path / "w.npz"
    np.savez(f, weight_ih_l0=np.zeros((8, 3)), weight_hh_l0=np.zeros((8, 8)),
             bias_ih_l0=np.zeros(8), bias_hh_l0=np.zeros(7))
    code, out, err = run_main(capsys, "analyze", "--weights", str(f))
    _assert_usage_error(code, out, err, "bias_hh_l0", "(7,)", "(8,)")


def test_weights_contradicting_an_explicit_option(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    f = tmp_path / "w.npz"
    np.savez(f, weight_ih_l0=np.zeros((8, 3)), weight_hh_l0=np.zeros((8, 8)),
             bias_ih_l0=np.zeros(8), bias_hh_l0=np.zeros(8))
    code, out, err = run_main(capsys, "analyze", "--weights", str(f), "--hidden", "16")
    _assert_usage_error(code, out, err, "--hidden")


def test_out_that_is_a_file(capsys, tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    code, out, err = run_main(capsys, "analyze", "-o", str(f))
    _assert_usage_error(code, out, err, "is a file")


def test_help_and_version_do_not_import_jax():
    code = ("import sys; from gradscope.cli.app import main\n"
            "try:\n    main(['analyze', '--help'])\nexcept SystemExit:\n    pass\n"
            "assert 'jax' not in sys.modules, 'jax imported'\n"
            "assert 'numpy' not in sys.modules, 'numpy imported'\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "--arch" in r.stdout and "--preset" in r.stdout
    v = gradscope("--version")
    assert v.returncode == 0 and v.stdout.strip() == "gradscope 0.1.0"


def test_compare_runs_every_combination_in_one_report(tmp_path):
    out = tmp_path / "cmp"
    r = gradscope("compare", "-a", "rnn,gru", "-s", "0.5,2", "--init", "orthogonal", "-H", "6",
                  "-T", "15", "--format", "json", "-o", str(out))
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["command"] == "compare"
    got = [(run["config"]["arch"], run["config"]["scale"]) for run in report["runs"]]
    assert got == [("rnn", 0.5), ("rnn", 2.0), ("gru", 0.5), ("gru", 2.0)]
    assert (out / "plots" / "gain_vs_scale.png").exists()
    # same inputs and seed: runs that differ only in scale share their config otherwise
    a, b = report["runs"][0]["config"], report["runs"][1]["config"]
    assert {k for k in a if a[k] != b[k]} == {"scale"}


def test_compare_rejects_a_non_numeric_scale(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_main(capsys, "compare", "--scale", "0.5,abc")
    _assert_usage_error(code, out, err, "abc")


def test_report_rerenders_one_folder_and_merges_several(tmp_path, capsys, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    for folder, arch in ((a, "rnn"), (b, "gru")):
        r = gradscope("analyze", "-a", arch, "-H", "4", "-T", "6", "--format", "none", "-o",
                      str(folder))
        assert r.returncode == 0, r.stderr
    (a / "report.md").unlink()
    r = gradscope("report", str(a), "--format", "none", "--no-plots")
    assert r.returncode == 0, r.stderr
    assert "rnn" in (a / "report.md").read_text()
    merged = tmp_path / "m"
    r = gradscope("report", str(a), str(b), "-o", str(merged), "--format", "json", "--no-plots")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert [run["config"]["arch"] for run in report["runs"]] == ["rnn", "gru"]
    assert json.loads((merged / "report.json").read_text()) == report
    monkeypatch.chdir(tmp_path)
    code, out, err = run_main(capsys, "report", str(tmp_path / "nothing"))
    _assert_usage_error(code, out, err, "no report.json")


def test_spectrum_of_a_scaled_orthogonal_init(tmp_path):
    r = gradscope("spectrum", "--init", "orthogonal", "-s", "0.9", "-H", "8", "--format", "json",
                  "-o", str(tmp_path / "s"))
    assert r.returncode == 0, r.stderr
    sp = json.loads(r.stdout)["runs"][0]["spectrum"]
    np.testing.assert_allclose(sp["singular_values"], 0.9, atol=1e-12)  # 0.9·Q
    assert abs(sp["spectral_radius"] - 0.9) < 1e-12
    assert (tmp_path / "s" / "plots" / "spectrum.png").exists()
    t = gradscope("spectrum", "-a", "gru", "-H", "6", "-o", str(tmp_path / "g"))
    assert t.returncode == 0, t.stderr
    assert "gated cell" in t.stdout and " z " in t.stdout
    low = gradscope("spectrum", "-s", "0.5", "--init", "orthogonal", "-H", "4", "--no-plots",
                    "-o", str(tmp_path / "r"))
    assert "gradients must vanish" in low.stdout


def test_spectrum_of_weights_matches_numpy(tmp_path):
    rng = np.random.default_rng(0)
    w_hh = rng.standard_normal((12, 3))
    f = tmp_path / "w.npz"
    np.savez(f, **{"lstm.weight_ih_l0": rng.standard_normal((12, 2)), "lstm.weight_hh_l0": w_hh})
    r = gradscope("spectrum", "--weights", str(f), "--format", "json", "-o", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    sp = json.loads(r.stdout)["runs"][0]["spectrum"]
    # float64 weights stay float64
    np.testing.assert_allclose(sp["singular_values"], np.linalg.svd(w_hh, compute_uv=False),
                               rtol=1e-12)
    f_block = w_hh[3:6]
    np.testing.assert_allclose(sp["blocks"]["f"]["spectral_radius"],
                               np.abs(np.linalg.eigvals(f_block)).max(), rtol=1e-12)


@pytest.mark.parametrize("option", [["--init", "orthogonal"], ["--scale", "2"],
                                    ["--forget-bias", "1"]])
def test_options_a_weights_file_ignores_are_usage_errors(capsys, tmp_path, option):
    from gradscope.cells import init_params
    from gradscope.config import Config

    path = tmp_path / "w.npz"
    np.savez(path, **init_params(Config(arch="lstm", hidden=4, input_size=3)))
    code, out, err = run_main(capsys, "analyze", "--weights", str(path), *option, "-T", "5",
                              "--no-plots", "-o", str(tmp_path / "o"))
    _assert_usage_error(code, out, err, f"{option[0]} has no effect with --weights")
    assert not (tmp_path / "o").exists()


def test_an_empty_entry_in_a_comma_list_is_a_usage_error(capsys, tmp_path):
    code, out, err = run_main(capsys, "compare", "--arch", "rnn,,lstm", "-o",
                              str(tmp_path / "o"))
    _assert_usage_error(code, out, err, "empty entry")
    assert "--arch rnn,lstm" in err


def test_a_mistyped_command_is_pointed_at_the_one_that_exists(capsys):
    code, out, err = run_main(capsys, "analyse")
    assert code == 2 and out == ""
    assert err.splitlines()[1] == ("hint: did you mean 'gradscope analyze'? run "
                                   "'gradscope analyze --help'")


def test_report_refuses_a_folder_given_twice(capsys, tmp_path):
    a = tmp_path / "a"
    assert gradscope("analyze", "-H", "3", "-T", "4", "--no-plots", "--format", "none", "-o",
                     str(a)).returncode == 0
    code, out, err = run_main(capsys, "report", str(a), str(tmp_path / "." / "a"), "-o",
                              str(tmp_path / "m"))
    _assert_usage_error(code, out, err, "given twice")


def test_inputs_whose_width_the_weights_do_not_read_name_inputs_and_the_widths(capsys,
                                                                                 tmp_path):
    from gradscope.cells import init_params
    from gradscope.config import Config

    weights, inputs = tmp_path / "w.npz", tmp_path / "x.npy"
    np.savez(weights, **init_params(Config(arch="gru", hidden=4, input_size=3)))
    np.save(inputs, np.zeros((7, 5)))
    code, out, err = run_main(capsys, "analyze", "--weights", str(weights), "--inputs",
                              str(inputs), "-o", str(tmp_path / "o"))
    _assert_usage_error(code, out, err, f"--inputs {inputs} has shape (7, 5)", "read 3")
    assert "weight_ih" not in err and "(T, 3)" in err


def test_an_rnn_file_says_that_its_nonlinearity_was_assumed(capsys, tmp_path):
    # a state_dict does not record nn.RNN's nonlinearity (a ReLU network would be analysed
    # as tanh without a word): the assumption goes to stderr and into the report
    from gradscope.cells import init_params
    from gradscope.config import Config

    path = tmp_path / "rnn.npz"
    np.savez(path, **init_params(Config(arch="rnn", hidden=4, input_size=3)))
    code, out, err = run_main(capsys, "analyze", "--weights", str(path), "-T", "6",
                              "--no-plots", "--format", "none", "-o", str(tmp_path / "a"))
    assert code == 0 and "does not record the RNN's nonlinearity; analysed as tanh" in err
    assert "--activation relu" in err
    config = json.loads((tmp_path / "a" / "report.json").read_text())["runs"][0]["config"]
    assert config["activation"] == "tanh" and config["activation_assumed"] is True
    code, out, err = run_main(capsys, "analyze", "--weights", str(path), "--activation",
                              "relu", "-T", "6", "--no-plots", "--format", "none", "-o",
                              str(tmp_path / "b"))
    assert code == 0 and "nonlinearity" not in err
    config = json.loads((tmp_path / "b" / "report.json").read_text())["runs"][0]["config"]
    assert config["activation"] == "relu" and "activation_assumed" not in config
