"""What every analysis command does after parsing: check the output, run, write, render."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager

from ..config import FORMATS, Config
from ..errors import UsageError


def split_list(option: str, value: str | None, cast=str) -> list | None:
    """`"0.5,1,1.5"` -> [0.5, 1.0, 1.5]; a bad item is a usage error naming it."""
    if value is None:
        return None
    items = [v.strip() for v in str(value).split(",") if v.strip()]
    if not items:
        raise UsageError(f"{option} is empty", f"pass a comma list, e.g. {option} 0.5,1,1.5")
    out = []
    for v in items:
        try:
            out.append(cast(v))
        except ValueError:
            raise UsageError(f"{option}: {v!r} is not a number",
                             f"pass a comma list of numbers, e.g. {option} 0.5,1,1.5") from None
    return out


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise UsageError(f"unknown --format {fmt!r}", f"use one of: {', '.join(FORMATS)}")


@contextmanager
def progress_bar(description: str, enabled: bool):
    """Yield `update(done, total)`; a rich bar with ETA on stderr when it is a terminal.
    Each update is also a checkpoint for a dropped Ctrl-C (`interrupt.py`)."""
    from ..interrupt import checkpoint

    if not (enabled and sys.stderr.isatty()):
        yield lambda done, total: checkpoint()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=None)

        def update(done, total):
            checkpoint()
            bar.update(task, completed=done, total=total)

        yield update


@contextmanager
def figure_worker(no_plots: bool):
    """A process that imports matplotlib while this one imports JAX and computes, for
    `write_report_folder(plot_worker=...)` (`report/plot_worker.py`); None with --no-plots
    or where a worker would not help (`plot_worker.start`). Enter it before JAX is imported."""
    from ..report import plot_worker

    worker = None if no_plots else plot_worker.start()
    try:
        yield worker
    finally:
        if worker is not None:
            worker.close()


def run_configs(command: str, configs: list[Config], *, out: str | None, fmt: str,
                no_plots: bool, force: bool, platform: str | None = None,
                tf32: bool = False) -> dict:
    """Run each config through the pipeline, write the output folder, print the result."""
    check_format(fmt)
    from ..io.store import check_out_dir

    check_out_dir(out, force=force)  # a refusal comes before JAX or the worker start
    with figure_worker(no_plots) as worker:
        report, out_dir = _run(command, configs, out, fmt, force, platform, tf32, no_plots,
                               worker)
    emit(report, fmt, str(out_dir))
    return report


def _run(command, configs, out, fmt, force, platform, tf32, no_plots, worker):
    from ..io.schema import build_report, device_info
    from ..io.store import prepare_out_dir, write_report_folder
    from ..pipeline import analyze_group, shape_key
    from ..runtime import configure_jax

    configure_jax(platform, tf32)
    out_dir = prepare_out_dir(out, command, force=force)
    configs = [d for cfg in configs for d in cfg.directions()]
    groups: dict[tuple, list[int]] = {}
    for i, cfg in enumerate(configs):
        groups.setdefault(shape_key(cfg), []).append(i)
    runs: list[dict] = [{}] * len(configs)
    early = _EarlyFigures(command, configs, worker) if worker is not None else None
    order = [[configs[i] for i in members] for members in groups.values()]
    for g, members in enumerate(groups.values()):
        cfgs, then = order[g], order[g + 1] if g + 1 < len(order) else None
        label = cfgs[0].label() if len(cfgs) == 1 else f"{cfgs[0].arch} × {len(cfgs)} runs"
        on_spectra = None if early is None else early.callback(members)
        with progress_bar(f"[{g + 1}/{len(groups)}] {label}", fmt != "json") as update:
            for i, run in zip(members, analyze_group(cfgs, progress=update, then=then,
                                                     on_spectra=on_spectra), strict=True):
                runs[i] = run
    report = build_report(command, runs, device=device_info())
    write_report_folder(out_dir, report, plots=not no_plots, plot_worker=worker)
    return report, out_dir


class _EarlyFigures:
    """Collects the runs' spectra as each group's are known; once every run's are, sends the
    plot worker a report of them, from which it draws the figures that need nothing else
    while the products run (`plot_worker.PlotWorker.send_early`)."""

    def __init__(self, command: str, configs: list[Config], worker) -> None:
        import threading

        self.command, self.configs, self.worker = command, configs, worker
        self.spectra: dict[int, dict] = {}
        self.lock = threading.Lock()

    def callback(self, members: list[int]):
        def add(spectra: list[dict]) -> None:
            with self.lock:
                self.spectra.update(zip(members, spectra, strict=True))
                if len(self.spectra) != len(self.configs):
                    return
            from ..io.schema import build_report, spectrum_record

            runs = [spectrum_record(c, None, self.spectra[i]) for i, c in enumerate(self.configs)]
            self.worker.send_early(build_report(self.command, runs))

        return add


def emit(report: dict, fmt: str, out_dir: str, table=None) -> None:
    """The report on stdout: JSON, or a rich table (`table(report)`, by default the summary)
    followed by where the report was written."""
    if fmt == "json":
        sys.stdout.write(json.dumps(report) + "\n")
    elif fmt == "table":
        from rich.console import Console

        from ..report import print_summary

        if table is None and report.get("command") == "train":
            from .train import summary_table as table

        if table is None:
            print_summary(report, Console(), out_dir)
        else:
            console = Console()
            console.print(table(report))
            console.print(f"report: {out_dir}/report.md")
