"""docs/cli.md is the generator's output for the current CLI, lists the files a command
really writes, and docs/report-schema.md names every key real reports have."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from gradscope.cli import docs

DOCS = Path(__file__).resolve().parent.parent / "docs"

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


def _reports(tmp: Path) -> dict:
    """Real reports of every kind, with the options that add keys: a batch (series_std),
    Lyapunov exponents, a gated stack's spectrum (blocks, layers), a comparison, a sweep (on
    the comparison's compiled programs) and a merge, training with saved weights, and the
    cliff. (A stack's `depth` is left out: analysing one compiles twice as long.)"""
    from gradscope.api import analyze, compare, merge, spectrum
    from gradscope.api.cliff import cliff
    from gradscope.api.sweeping import sweep
    from gradscope.api.training import train

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


def test_real_reports_agree_with_the_docs(tmp_path):
    """One test, so that the real reports are made once: every file a command writes is in
    cli.md, and every key and CSV column of every kind of report in report-schema.md."""
    reports = _reports(tmp_path)
    for command in ("analyze", "train", "cliff"):
        _assert_files_documented(reports["folder"] / command, command)
        _assert_columns_documented(reports["folder"] / command, command)
    _assert_keys_documented(reports)


def _assert_files_documented(folder: Path, command: str) -> None:
    """Every file written is documented; every documented file but the figures that apply
    only to some reports (and the plots of runs written without them) is written."""
    written = _files(folder)
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


def _assert_keys_documented(reports: dict) -> None:
    documented = _documented()
    for name, report in reports.items():
        if name == "folder":
            continue
        missing = _keys(report.to_dict()) - documented
        assert not missing, (f"{name} report keys not in docs/report-schema.md (as `key`): "
                             f"{sorted(missing)}")


def _assert_columns_documented(folder: Path, command: str) -> None:
    documented = _documented()
    for name in ("series.csv", "summary.csv"):
        path = folder / name
        if not path.exists():
            continue
        with open(path, encoding="utf-8", newline="") as f:
            header = next(csv.reader(f))
        missing = {c for c in header if c not in documented and c.removesuffix("_std")
                   not in documented}
        assert not missing, f"{command} {name} columns not in docs/report-schema.md: {missing}"
