"""`gradscope cliff` end to end: the real entry point in a subprocess, and bad inputs."""

import json

import pytest

from .test_analyze_cli import _assert_usage_error, gradscope, run_main


def _no_constant(name):
    raise AssertionError(f"report.json holds {name}")


SMALL = ("--grid", "24", "--iters", "60")


def test_cliff_report_files_plots_refusal_and_force(tmp_path):
    out = tmp_path / "c"
    r = gradscope("cliff", *SMALL, "--clip", "none,1,5", "--format", "json", "-o", str(out))
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout, parse_constant=_no_constant)  # only the JSON on stdout
    assert report["schema"] == "gradscope.report/1" and report["command"] == "cliff"
    assert [run["label"] for run in report["runs"]] == ["clip none", "clip 1", "clip 5"]
    for run, theta in zip(report["runs"], (None, 1.0, 5.0), strict=True):
        c, s = run["config"], run["series"]
        assert c["clip"] == theta and c["steps"] == 50 and c["activation"] == "sigmoid"
        assert c["x0"] == 0.5 and c["target"] == 0.7 and c["grid"] == 24 and c["iters"] == 60
        assert len(s["w"]) == len(s["log10_loss"]) == len(s["log10_grad_norm"]) == 61
        assert len(s["clipped"]) == 60 and set(s["clipped"]) <= {0, 1}
        assert set(run["summary"]) >= {"final_log10_loss", "first_nonfinite_iter", "max_jump",
                                       "clip_fraction"}
        if theta is not None:
            assert run["summary"]["max_jump"] <= c["lr"] * theta * (1 + 1e-6)
    surf = report["surface"]
    assert len(surf["w"]) == len(surf["b"]) == 24
    assert len(surf["log10_loss"]) == 24 and len(surf["log10_loss"][0]) == 24
    assert surf["w"][0] == 0 and surf["w"][-1] == 9 and surf["b"][0] == -6
    assert report["device"]["platform"]
    text = (out / "report.json").read_text()
    assert json.loads(text, parse_constant=_no_constant) == report
    for name in ("series.csv", "report.md", "report.html"):
        assert (out / name).stat().st_size > 0
    assert len((out / "series.csv").read_text().splitlines()) == 1 + 3 * 61
    import matplotlib.image as mpimg

    png = out / "plots" / "cliff_surface.png"
    img = mpimg.imread(png)
    assert img.shape[0] > 100 and img.std() > 0 and png.with_suffix(".svg").exists()

    # a finished folder is kept without --force ...
    again = gradscope("cliff", *SMALL, "-o", str(out))
    assert again.returncode == 2 and again.stdout == ""
    lines = again.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("error: ") and "--force" in lines[1]
    assert json.loads((out / "report.json").read_text()) == report

    # ... and replaced with it; every option reaches the config; the table on stdout
    args = ("--grid", "8", "--iters", "5", "--no-plots", "-T", "20", "--activation", "tanh",
            "--w-range", "-2,4", "--b-range=-3,2", "--start", "1,-1", "--lr", "0.01",
            "--clip", "none,2", "--target", "0.3", "--x0", "0.1")
    r = gradscope("cliff", *args, "-o", str(out), "--force")
    assert r.returncode == 0, r.stderr
    assert "clip none" in r.stdout and "clip 2" in r.stdout and "report.md" in r.stdout
    report = json.loads((out / "report.json").read_text())
    assert [run["label"] for run in report["runs"]] == ["clip none", "clip 2"]
    c = report["runs"][0]["config"]
    assert (c["steps"], c["activation"], c["w_range"], c["b_range"]) == (20, "tanh", [-2, 4],
                                                                         [-3, 2])
    assert (c["start"], c["lr"], c["target"], c["x0"], c["grid"]) == ([1, -1], 0.01, 0.3, 0.1, 8)
    assert len(report["runs"][1]["series"]["w"]) == 6


@pytest.mark.parametrize(("args", "needle"), [
    (("--grid", "0"), "--grid"),
    (("--grid", "1000000"), "--grid"),
    (("--w-range", "3,1"), "--w-range"),
    (("--w-range", "1"), "--w-range"),
    (("--b-range", "a,b"), "--b-range"),
    (("--w-range", "0,inf"), "--w-range"),
    (("--clip", "abc"), "--clip"),
    (("--clip", "none,-1"), "--clip"),
    (("--clip", "1,1"), "--clip"),
    (("--lr", "-1"), "--lr"),
    (("--lr", "0"), "--lr"),
    (("--iters", "0"), "--iters"),
    (("--steps", "0"), "--steps"),
    (("--start", "1"), "--start"),
    (("--activation", "relu"), "--activation"),
    (("--format", "yaml"), "--format"),
    (("--grid", "x"), "--grid"),
])
def test_bad_inputs_are_one_line_and_a_hint(capsys, tmp_path, args, needle):
    out = tmp_path / "never"
    code, stdout, err = run_main(capsys, "cliff", *args, "-o", str(out))
    _assert_usage_error(code, stdout, err, needle)
    assert not (out / "report.json").exists()


def test_bad_input_in_a_real_process_has_no_traceback(tmp_path):
    r = gradscope("cliff", "--grid", "0", "-o", str(tmp_path / "x"))
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("error: ") and lines[1].startswith("hint: ")
