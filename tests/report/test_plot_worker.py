"""The figures drawn by the worker process are the figures drawn in-process; a failing worker
costs nothing but time."""

import copy
import sys

import numpy as np
import pytest

from gradscope.io.store import write_report_folder
from gradscope.report import plot_worker


def _pixels(path):
    from matplotlib.image import imread

    return imread(path)


@pytest.mark.parametrize("processes", ["1", "2"])
def test_worker_draws_the_same_figures_as_this_process(tmp_path, monkeypatch,
                                                      shared_report, written_plots, processes):
    # the worker forks a pool of drawing processes on Linux; forced here, whatever the cores
    monkeypatch.setenv("GRADSCOPE_PLOT_PROCESSES", processes)
    plots_dir, pngs = written_plots
    worker = plot_worker.PlotWorker()
    got = worker.write_plots(copy.deepcopy(shared_report), tmp_path)
    assert got is not None and [p.name for p in got] == [p.name for p in pngs]  # FIGURES order
    for p in pngs:
        np.testing.assert_array_equal(_pixels(tmp_path / p.name), _pixels(p))
        svg = p.with_suffix(".svg")  # byte for byte: no date, clip-path ids from a fixed salt
        assert (tmp_path / svg.name).read_bytes() == svg.read_bytes()
    assert worker.proc.poll() == 0


@pytest.mark.parametrize("processes", ["1", "2"])
def test_figures_sent_early_are_drawn_once_and_written_with_the_rest(tmp_path, monkeypatch,
                                                                     shared_report,
                                                                     written_plots, processes):
    monkeypatch.setenv("GRADSCOPE_PLOT_PROCESSES", processes)
    plots_dir, pngs = written_plots
    early = copy.deepcopy(shared_report)
    early["runs"] = [{"label": r["label"], "spectrum": r["spectrum"]} for r in early["runs"]]
    early["runs"][0]["spectrum"]["singular_values"] = [0.01] * 4  # marks the early drawing
    worker = plot_worker.PlotWorker()
    worker.send_early(early)
    got = worker.write_plots(copy.deepcopy(shared_report), tmp_path)
    assert got is not None and [p.name for p in got] == [p.name for p in pngs]
    for p in pngs:
        svg = (tmp_path / p.name).with_suffix(".svg").read_bytes()
        # the spectrum is the one drawn from the early report, not drawn again
        assert (svg == p.with_suffix(".svg").read_bytes()) == (p.stem != "spectrum")
    assert worker.proc.poll() == 0


def test_an_early_report_after_the_last_one_is_dropped(tmp_path, shared_report):
    worker = plot_worker.PlotWorker()
    assert worker.write_plots(copy.deepcopy(shared_report), tmp_path) is not None
    worker.send_early(shared_report)  # the worker's input is closed: nothing is sent, no error
    assert worker.proc.poll() == 0


def _stat(pid) -> list[str] | None:
    """/proc/<pid>/stat after the command name: state, parent pid, …; None once it is gone."""
    from pathlib import Path

    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _children(pid: int) -> set[int]:
    from pathlib import Path

    return {int(p.name) for p in Path("/proc").glob("[0-9]*")
            if (st := _stat(p.name)) is not None and int(st[1]) == pid}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="drawing pools are Linux-only")
def test_a_killed_worker_takes_its_drawing_processes_with_it(monkeypatch, shared_report,
                                                              tmp_path):
    import json
    import time

    monkeypatch.setenv("GRADSCOPE_PLOT_PROCESSES", "2")
    worker = plot_worker.PlotWorker()
    request = {"report": shared_report, "dir": str(tmp_path)}
    worker.proc.stdin.write(json.dumps(request).encode())
    worker.proc.stdin.close()
    deadline = time.monotonic() + 60
    while len(kids := _children(worker.proc.pid)) < 2 and worker.proc.poll() is None:
        assert time.monotonic() < deadline, "the worker started no drawing processes"
        time.sleep(0.01)
    assert len(kids) == 2, "the worker ended before its pool was seen"
    worker.close()  # what an interrupted command does: kill the worker
    deadline = time.monotonic() + 30
    while alive := {k for k in kids if (st := _stat(k)) is not None and st[0] != "Z"}:
        assert time.monotonic() < deadline, f"drawing processes left running: {alive}"
        time.sleep(0.05)


def test_processes_follow_the_usable_cores(monkeypatch):
    import os

    monkeypatch.delenv("GRADSCOPE_PLOT_PROCESSES", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert plot_worker.processes() == 3
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    assert plot_worker.processes() == plot_worker.MAX_PROCESSES
    monkeypatch.setenv("GRADSCOPE_PLOT_PROCESSES", "1")
    assert plot_worker.processes() == 1
    monkeypatch.setenv("GRADSCOPE_PLOT_PROCESSES", "many")  # not a number: the default
    assert plot_worker.processes() == plot_worker.MAX_PROCESSES
    monkeypatch.setattr(sys, "platform", "darwin")  # a child would import matplotlib again
    monkeypatch.setenv("GRADSCOPE_PLOT_PROCESSES", "2")
    assert plot_worker.processes() == 1


def test_a_dead_worker_falls_back_to_drawing_here(tmp_path, report):
    worker = plot_worker.PlotWorker()
    worker.proc.kill()
    worker.proc.wait()
    rel = write_report_folder(tmp_path, report, plot_worker=worker)
    assert rel and all((tmp_path / r).stat().st_size > 1000 for r in rel)
    assert (tmp_path / "report.json").is_file()


def test_a_worker_is_started_only_where_it_helps(monkeypatch):
    monkeypatch.setenv("GRADSCOPE_PLOT_WORKER", "0")
    assert plot_worker.start() is None
    monkeypatch.setenv("GRADSCOPE_PLOT_WORKER", "1")
    import matplotlib.figure  # noqa: F401 - imported here already: no gain from a worker

    assert plot_worker.start() is None


@pytest.mark.parametrize("closed_early", [True, False])
def test_close_leaves_no_process(closed_early):
    worker = plot_worker.PlotWorker()
    if closed_early:
        worker.close()
    else:
        worker.proc.stdin.close()  # the command ended without figures: the worker just exits
        worker.proc.wait(timeout=60)
        worker.close()
    assert worker.proc.poll() is not None


def test_worker_draws_a_train_report_like_this_process(tmp_path):
    # train and cliff start the worker too; it picks the figures by the report's command
    from gradscope.report import renderers

    from .test_train_report import train_report

    report = train_report()
    here = renderers(report)[1](copy.deepcopy(report), tmp_path / "here")
    got = plot_worker.PlotWorker().write_plots(copy.deepcopy(report), tmp_path / "worker")
    assert got is not None and [p.name for p in got] == [p.name for p in here]
    assert {p.stem for p in here} >= {"loss", "grad_norm"}
    for p in here:
        np.testing.assert_array_equal(_pixels(tmp_path / "worker" / p.name), _pixels(p))
