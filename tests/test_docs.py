"""docs/cli.md is the generator's output for the current CLI, lists the files a command
really writes, and docs/report-schema.md names every key real reports have."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from gradscope.cli import docs

DOCS = Path(__file__).resolve().parent.parent / "docs"

# one worker runs them all, so that the real reports below are made once (`make test` runs
# pytest with --dist loadgroup)
pytestmark = pytest.mark.xdist_group("docs")

# Tiny sizes: compiling is most of the time, so every run shares them where it can.
SMALL = dict(hidden=3, steps=5)


def test_cli_md_is_current():
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert text == docs.render(), (
        "docs/cli.md is out of date with the CLI: run `make docs` "
        "(python -m gradscope.cli.docs docs/cli.md) and commit the result")


def test_cli_md_lists_every_command_and_figure():
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    for command in docs.COMMAND_FILES:
        assert f"## `gradscope {command}`" in text
        for path in docs.files_written(command):
            name = path.removeprefix("plots/").rsplit(".", 1)[0] if path.startswith("plots/") \
                else path
            assert f"`{name}`" in text, f"{path} of {command} is not in docs/cli.md"


@pytest.fixture(scope="session")
def reports(tmp_path_factory):
    """Real reports of every kind, with the options that add keys: a batch (series_std),
    Lyapunov exponents, a gated stack's spectrum (blocks, layers), a comparison, a sweep (on
    the comparison's compiled programs) and a merge, training with saved weights, and the
    cliff. (A stack's `depth` is left out: analysing one compiles twice as long.)"""
    from gradscope.api import analyze, compare, merge, spectrum
    from gradscope.api.cliff import cliff
    from gradscope.api.sweeping import sweep
    from gradscope.api.training import train

    tmp = tmp_path_factory.mktemp("docs")
    report = analyze(arch="rnn", lyapunov=2, batch=2, **SMALL)
    report.write(tmp / "analyze")
    compared = compare(arch=["rnn"], scale=[0.5, 1.0], **SMALL)
    compared.write(tmp / "compare", figures=False)
    (tmp / "sweep.toml").write_text(
        f'[sweep]\ncommand = "analyze"\nout = "{(tmp / "sweep").as_posix()}"\n'
        '[grid]\nscale = [0.5, 1.0]\n[fixed]\nhidden = 3\nsteps = 5\n', encoding="utf-8")
    swept = sweep(tmp / "sweep.toml", figures=False)
    trained = train(arch=["rnn"], clip=["none", 1], iters=2, batch_size=2, checkpoint_every=1,
                    save_weights=str(tmp / "w.safetensors"), **SMALL)
    trained.write(tmp / "train", figures=False)
    cliffs = cliff(grid=3, steps=3, iters=2, clip=[None, 1])
    cliffs.write(tmp / "cliff", figures=False)
    return {"folder": tmp, "analyze": report, "compare": compared, "sweep": swept,
            "merge": merge(tmp / "sweep", tmp / "compare"),
            "spectrum": spectrum(arch="gru", layers=2, hidden=3),
            "train": trained, "cliff": cliffs}


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("command", ["analyze", "train", "cliff"])
def test_a_command_writes_the_files_cli_md_lists(reports, command):
    """Every file written is documented; every documented file but the figures that apply
    only to some reports (and the plots of runs written without them) is written."""
    written = _files(reports["folder"] / command)
    documented = set(docs.files_written(command))
    assert written <= documented, f"undocumented: {sorted(written - documented)}"
    assert {f for f in documented if not f.startswith("plots/")} <= written
    if command == "analyze":
        assert {f for f in written if f.startswith("plots/")}, "no figures were written"


# Keys whose children are names from the data (gate blocks, grid options), not fields.
DATA_NAMED = {("runs", "spectrum", "blocks"), ("runs", "spectrum", "layers", "blocks"),
              ("runs", "cell", "grid")}


def _keys(obj, path=(), out=None) -> set[str]:
    out = set() if out is None else out
    if isinstance(obj, dict):
        for k, v in obj.items():
            if path not in DATA_NAMED:
                out.add(k)
            _keys(v, path if path in DATA_NAMED else (*path, k), out)
    elif isinstance(obj, list):
        for v in obj:
            _keys(v, path, out)
    return out


def _documented() -> set[str]:
    text = (DOCS / "report-schema.md").read_text(encoding="utf-8")
    return set(re.findall(r"`([^`\s]+)`", text))


def test_every_report_key_is_in_report_schema_md(reports):
    documented = _documented()
    for name, report in reports.items():
        if name == "folder":
            continue
        missing = _keys(report.to_dict()) - documented
        assert not missing, (f"{name} report keys not in docs/report-schema.md (as `key`): "
                             f"{sorted(missing)}")


@pytest.mark.parametrize("command", ["analyze", "train", "cliff"])
def test_every_csv_column_is_in_report_schema_md(reports, command):
    documented = _documented()
    for name in ("series.csv", "summary.csv"):
        path = reports["folder"] / command / name
        if not path.exists():
            continue
        with open(path, encoding="utf-8", newline="") as f:
            header = next(csv.reader(f))
        missing = {c for c in header if c not in documented and c.removesuffix("_std")
                   not in documented}
        assert not missing, f"{command} {name} columns not in docs/report-schema.md: {missing}"
