"""The README's runnable Python example (its own cell, through `analyze_step`) runs as shown."""

import re
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_own_cell_example_runs(capsys):
    pytest.importorskip("equinox")
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    (example,) = [b for b in blocks if "analyze_step(min_gru" in b]
    scope: dict = {}
    exec(compile(example, "README.md", "exec"), scope)
    gru, mg = scope["gru"], scope["mg"]
    assert gru.runs[0].label == "eqx GRU" and gru.runs[0].config["state_size"] == 64
    assert len(mg.runs[0].series["log10_jacobian_norm"]) == 201
    # minGRU's J_t = diag(1 − z_t): every exponent is a mean of ln(1 − z), below 0
    lyap = mg.runs[0].lyapunov
    assert lyap.shape == (4,) and np.all(lyap < 0) and np.all(np.diff(lyap) <= 0)
    assert capsys.readouterr().out.strip()


def test_the_forget_bias_numbers_the_readme_quotes():
    import gradscope

    text = README.read_text(encoding="utf-8")
    m = re.search(r"--forget-bias 2 -T 300 .*horizon (\d+) → (\d+) steps", text)
    assert m, "the README's forget-bias line moved"
    got = [gradscope.analyze(arch="lstm", forget_bias=fb, steps=300).runs[0].summary[
        "memory_horizon"] for fb in (0, 2)]
    assert got == [int(m.group(1)), int(m.group(2))]


def _block_after(text: str, marker: str) -> str:
    """The fenced block that holds `marker`, from the marker on."""
    start = text.index(marker)
    return text[start:text.index("```", start)]


def test_the_main_jobs_answer_is_what_the_readme_shows():
    # `make run`'s comparison (its grid and its words) with the numbers the README quotes
    import gradscope
    from gradscope.report.story import answer

    text = README.read_text(encoding="utf-8")
    assert "gradscope compare --arch rnn,lstm,gru --forget-bias 0,1 --scale 0.5,1,1.5" in text
    makefile = (README.parent / "Makefile").read_text(encoding="utf-8")
    assert "compare --arch rnn,lstm,gru --forget-bias 0,1 --scale 0.5,1,1.5" in makefile
    report = gradscope.compare(arch=["rnn", "lstm", "gru"], forget_bias=[0, 1],
                               scale=[0.5, 1, 1.5]).to_dict()
    got = answer(report)
    block = _block_after(text, "Which keeps the gradient alive?").splitlines()
    rows = [re.split(r"\s{2,}", line.strip()) for line in block[3:7]]
    assert rows == got.grid_rows
    bullets = " ".join(line.strip() for line in block[7:]).split("• ")[1:]
    assert len(bullets) == 4
    for shown, said in zip(bullets, got.sentences, strict=False):
        for part in shown.strip().split("…"):
            assert part.strip(" :") in said, (part, said)
    # what the issue asks of the main job: an LSTM keeps it at least twice as long as the
    # tanh RNN at scale 1
    h = {r["label"]: r["summary"]["memory_horizon"] for r in report["runs"]}
    assert h["lstm · gaussian · scale 1 · forget bias 1"] >= 2 * h["rnn · gaussian · scale 1"]


def test_the_dropout_numbers_the_readme_quotes():
    import gradscope

    text = README.read_text(encoding="utf-8")
    m = re.search(r"lengthen the horizon: (\d+) → (\d+) steps with either mode", text)
    assert m and "compare -a rnn --init orthogonal -s 1 --dropout 0,0.3 --dropout-mode " \
        "variational,naive" in text
    r = gradscope.compare(arch="rnn", init="orthogonal", scale=1, dropout=[0, 0.3],
                          dropout_mode=["variational", "naive"])
    got = [run.summary["memory_horizon"] for run in r.runs]
    assert got == [int(m.group(1)), int(m.group(2)), int(m.group(2))]
