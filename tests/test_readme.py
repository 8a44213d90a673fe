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
