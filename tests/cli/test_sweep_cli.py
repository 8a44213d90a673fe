"""`gradscope sweep`: the grid, errors that name file:line:key, --dry-run, shards, merging, and
restarts after SIGKILL that end with the results of an uninterrupted run."""

import json
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from gradscope.errors import UsageError
from gradscope.sweeps import cell_id, load

from .test_analyze_cli import gradscope

SWEEP = """\
[sweep]
command = "analyze"
out = "{out}"

[grid]
arch = ["rnn", "gru"]
scale = [0.5, 1.5]
seed = [0, 1]

[fixed]
hidden = 6
steps = 12
"""


def _write(tmp_path, text, name="s.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _numbers(folder):
    """Every cell's results without timings, keyed by cell id."""
    out = {}
    for f in (folder / "cells").glob("*.json"):
        run = json.loads(f.read_text())
        out[f.stem] = {k: run[k] for k in ("label", "config", "series", "summary", "spectrum")}
    return out


def test_cells_are_the_cartesian_product_with_stable_ids(tmp_path):
    spec = load(_write(tmp_path, SWEEP.format(out=tmp_path / "o")))
    assert len(spec.cells) == 8
    assert [c.grid for c in spec.cells[:3]] == [
        {"arch": "rnn", "scale": 0.5, "seed": 0}, {"arch": "rnn", "scale": 0.5, "seed": 1},
        {"arch": "rnn", "scale": 1.5, "seed": 0}]
    assert all(c.config.hidden == 6 and c.config.steps == 12 for c in spec.cells)
    again = load(_write(tmp_path, SWEEP.format(out=tmp_path / "o"), "t.toml"))
    assert [c.id for c in spec.cells] == [c.id for c in again.cells]
    assert len({c.id for c in spec.cells}) == 8
    assert cell_id(spec.cells[0].config) != cell_id(spec.cells[1].config)


@pytest.mark.parametrize(("edit", "where"), [
    (lambda s: s.replace('scale = [0.5, 1.5]', 'scale = [0.5, 1.5'), ":8: not valid TOML"),
    (lambda s: s.replace('arch = ["rnn", "gru"]', 'arch = ["rnn", "nope"]'), ":6: [grid] arch"),
    (lambda s: s.replace("hidden = 6", "hiden = 6"), ":11: [fixed] hiden"),
    (lambda s: s.replace("steps = 12", "steps = 0"), ":12: [fixed] steps"),
    (lambda s: s.replace('command = "analyze"', 'command = "dance"'), ":2: [sweep] command"),
    (lambda s: s.replace("[fixed]", "[fixd]"), "unknown table [fixd]"),
    (lambda s: s.replace("seed = [0, 1]", "seed = 3"), ":8: [grid] seed"),
])
def test_errors_name_file_line_and_key(tmp_path, edit, where):
    path = _write(tmp_path, edit(SWEEP.format(out=tmp_path / "o")))
    with pytest.raises(UsageError) as e:
        load(path)
    assert f"{path}" in e.value.message and where in e.value.message, e.value.message
    assert e.value.hint
    r = gradscope("sweep", str(path))
    assert r.returncode == 2 and r.stderr.startswith("error: ") and "hint: " in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "o").exists()  # before any work


def test_a_folder_with_another_report_is_not_overwritten(tmp_path):
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "report.json").write_text("{}")
    r = gradscope("sweep", str(_write(tmp_path, SWEEP.format(out=tmp_path / "o"))))
    assert r.returncode == 2 and "not a sweep's" in r.stderr and "hint:" in r.stderr
    assert (tmp_path / "o" / "report.json").read_text() == "{}"


def test_dry_run_lists_cells_and_runs_nothing(tmp_path):
    path = _write(tmp_path, SWEEP.format(out=tmp_path / "o"))
    r = gradscope("sweep", str(path), "--dry-run")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("to do") == 8 and "MiB" in r.stdout and "≈" in r.stdout
    assert not (tmp_path / "o").exists()


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """One uninterrupted one-device, one-process run of SWEEP (with plots): the reference."""
    tmp = tmp_path_factory.mktemp("full")
    path = _write(tmp, SWEEP.format(out=tmp / "full"))
    r = gradscope("sweep", str(path), "--format", "none")
    assert r.returncode == 0, r.stderr
    return path, tmp / "full"


def test_shards_together_equal_one_run_and_merge(tmp_path, full):
    path, full_dir = full
    for k in (0, 1):
        r = gradscope("sweep", str(path), "--shard", f"{k}/2", "-o", str(tmp_path / f"s{k}"),
                      "--format", "none", "--no-plots")
        assert r.returncode == 0, r.stderr
        assert len(list((tmp_path / f"s{k}" / "cells").glob("*.json"))) == 4
    r = gradscope("report", str(tmp_path / "s0"), str(tmp_path / "s1"), "-o",
                  str(tmp_path / "merged"), "--format", "json", "--no-plots")
    assert r.returncode == 0, r.stderr
    merged = json.loads(r.stdout)
    reference = json.loads((full_dir / "report.json").read_text())
    key = lambda run: run["cell"]["index"]  # noqa: E731
    got, want = sorted(merged["runs"], key=key), sorted(reference["runs"], key=key)
    assert [r["cell"]["id"] for r in got] == [r["cell"]["id"] for r in want]
    # a shard batches fewer runs per group than the whole sweep: equal up to float32 rounding
    for a, b in zip(got, want, strict=True):
        for k, v in b["summary"].items():
            assert a["summary"][k] == (pytest.approx(v, rel=1e-6) if isinstance(v, float) else v)
        np.testing.assert_allclose(*(np.array(r["series"]["log10_jacobian_norm"], float)
                                     for r in (a, b)), atol=1e-5)
    rows = (tmp_path / "merged" / "summary.csv").read_text().splitlines()
    assert len(rows) == 9 and rows[0].startswith("label,cell,arch,")
    assert (full_dir / "plots" / "heatmaps.png").is_file()
    assert gradscope("sweep", str(path), "--shard", "2/2").returncode == 2


@pytest.mark.slow
def test_cells_spread_over_four_devices_equal_a_one_device_run(tmp_path, full):
    path = _write(tmp_path, SWEEP.format(out=tmp_path / "d4"))
    flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count=4"
    env = {**os.environ, "XLA_FLAGS": flags.strip()}  # the suite's compile flags too
    r = subprocess.run([sys.executable, "-m", "gradscope", "sweep", str(path), "--format",
                        "json", "--no-plots"], env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["device"]["count"] == 4
    four = _numbers(tmp_path / "d4")
    assert len(four) == 8
    _assert_close(four, _numbers(full[1]))


def _assert_close(got, expected):
    """Same cells and numbers up to float32 rounding: a device or process that compiles its
    own share of the runs may differ in the last bit (seen: 1e-7 in log10 ‖J_t‖)."""
    assert got.keys() == expected.keys()
    for cid, one in expected.items():
        other = got[cid]
        assert {k: other[k] for k in ("label", "config", "spectrum")} == \
            {k: one[k] for k in ("label", "config", "spectrum")}
        for key, values in one["series"].items():
            if values is not None:
                np.testing.assert_allclose(np.array(other["series"][key], float),
                                           np.array(values, float), rtol=0, atol=1e-6)


@pytest.mark.slow
def test_two_processes_over_loopback_share_the_cells(tmp_path, full):
    import socket

    with socket.socket() as sock:  # a free port for the coordinator
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    path = _write(tmp_path, SWEEP.format(out=tmp_path / "multi"))
    procs = [subprocess.Popen(
        [sys.executable, "-m", "gradscope", "sweep", str(path), "--coordinator",
         f"127.0.0.1:{port}", "--num-processes", "2", "--process-id", str(k), "--format",
         "json", "--no-plots"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for k in (0, 1)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    report = json.loads(outs[0][0])  # process 0 writes the report of every cell
    assert len(report["runs"]) == 8 and outs[1][0] == ""
    index = [json.loads(line)["index"]
             for line in (tmp_path / "multi" / "index.jsonl").read_text().splitlines()]
    assert sorted(index) == list(range(8))
    _assert_close(_numbers(tmp_path / "multi"), _numbers(full[1]))


@pytest.mark.slow
def test_restarts_after_sigkill_end_with_the_uninterrupted_results(tmp_path):
    grid = SWEEP.replace(
        "hidden = 6", "hidden = 6\nlayers = 1").replace('seed = [0, 1]', 'seed = [0, 1]\n'
                                                         'steps = [12, 20]')
    grid = grid.replace("steps = 12\n", "").replace("scale = [0.5, 1.5]", "scale = [0.5]")
    env = dict(os.environ)  # the test run's shared compilation cache (tests/conftest.py)
    ref = _write(tmp_path, grid.format(out=tmp_path / "ref"), "ref.toml")
    subprocess.run([sys.executable, "-m", "gradscope", "sweep", str(ref), "--format", "none",
                    "--no-plots"], check=True, env=env, capture_output=True, timeout=600)
    path = _write(tmp_path, grid.format(out=tmp_path / "killed"))
    rng, kills, cells = random.Random(7), 0, tmp_path / "killed" / "cells"
    for _ in range(2):
        done = len(list(cells.glob("*.json")))
        p = subprocess.Popen([sys.executable, "-m", "gradscope", "sweep", str(path), "--format",
                              "none", "--no-plots"], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        # killed at a random moment shortly after this run's first new cell (the programs are
        # in the cache after the reference run, so a fixed delay could outlast the sweep)
        deadline = time.time() + 120
        while (p.poll() is None and len(list(cells.glob("*.json"))) <= done
               and time.time() < deadline):
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.4))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        p.wait()
        # a kill inside a cell's write can leave its temporary, never a half-written cell
        assert all(f.name.endswith(".tmp") for f in cells.glob(".*"))
        assert all(json.loads(f.read_text()) for f in cells.glob("*.json"))
    assert kills >= 1
    from gradscope.io.store import temp_prefix  # what a kill inside a write leaves, for sure:
    dead = temp_prefix("0.json").replace(f".{os.getpid()}@", f".{p.pid}@")  # the killed pid's
    (cells / f"{dead}zz9.tmp").write_text('{"runs": [')
    r = subprocess.run([sys.executable, "-m", "gradscope", "sweep", str(path), "--format",
                        "json", "--no-plots"], env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)["runs"]) == 8
    assert _numbers(tmp_path / "killed") == _numbers(tmp_path / "ref")
    assert not list(cells.glob(".*")) and not list((tmp_path / "killed").glob(".*"))  # tidied


TRAIN_SWEEP = """\
[sweep]
command = "train"
out = "{out}"

[grid]
clip = ["none", 1]

[fixed]
task = "adding"
arch = "rnn"
steps = 8
hidden = 6
iters = 12
lr = 0.05
"""


def test_a_train_sweep_equals_the_train_command(tmp_path):
    path = _write(tmp_path, TRAIN_SWEEP.format(out=tmp_path / "sweep"))
    r = gradscope("sweep", str(path), "--format", "json", "--no-plots")
    assert r.returncode == 0, r.stderr
    swept = json.loads(r.stdout)
    assert swept["command"] == "train" and len(swept["runs"]) == 2
    assert (tmp_path / "sweep" / "summary.csv").read_text().count("\n") == 3
    r = gradscope("train", "--task", "adding", "--arch", "rnn", "-T", "8", "-H", "6", "--iters",
                  "12", "--lr", "0.05", "--clip", "none,1", "--format", "json", "--no-plots",
                  "-o", str(tmp_path / "train"))
    assert r.returncode == 0, r.stderr
    direct = json.loads(r.stdout)
    for a, b in zip(swept["runs"], direct["runs"], strict=True):
        assert a["series"] == b["series"] and a["summary"] == b["summary"]


def test_a_bad_train_option_names_its_line(tmp_path):
    path = _write(tmp_path, TRAIN_SWEEP.replace('task = "adding"', 'task = "juggling"')
                  .format(out=tmp_path / "o"))
    with pytest.raises(UsageError) as e:
        load(path)
    assert f"{path}:9: [fixed] task" in e.value.message and "juggling" in e.value.message
