"""What every analysis command does after parsing: check the output, run, write, render."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager

from ..config import FORMATS, Config
from ..errors import UsageError


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise UsageError(f"unknown --format {fmt!r}", f"use one of: {', '.join(FORMATS)}")


@contextmanager
def progress_bar(description: str, enabled: bool):
    """Yield `update(done, total)`; a rich bar with ETA on stderr when it is a terminal."""
    if not (enabled and sys.stderr.isatty()):
        yield lambda done, total: None
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
        yield lambda done, total: bar.update(task, completed=done, total=total)


def run_configs(command: str, configs: list[Config], *, out: str | None, fmt: str,
                no_plots: bool, force: bool) -> dict:
    """Run each config through the pipeline, write the output folder, print the result."""
    check_format(fmt)
    from ..io.store import prepare_out_dir, write_report_folder

    out_dir = prepare_out_dir(out, command, force=force)
    from ..io.schema import build_report, device_info
    from ..pipeline import analyze, configure_jax

    configure_jax()
    runs = []
    for i, cfg in enumerate(configs):
        with progress_bar(f"[{i + 1}/{len(configs)}] {cfg.label()}", fmt != "json") as update:
            runs.append(analyze(cfg, progress=update))
    report = build_report(command, runs, device=device_info())
    write_report_folder(out_dir, report, plots=not no_plots)
    emit(report, fmt, str(out_dir))
    return report


def emit(report: dict, fmt: str, out_dir: str) -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps(report) + "\n")
    elif fmt == "table":
        from rich.console import Console

        from ..report import print_summary

        print_summary(report, Console(), out_dir)
