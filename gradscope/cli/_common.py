"""What every analysis command does after parsing: check the output, run, write, render."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager

from ..constants import FORMATS
from ..errors import UsageError


def split_list(option: str, value: str | None, cast=str) -> list | None:
    """`"0.5,1,1.5"` -> [0.5, 1.0, 1.5]; a bad item is a usage error naming it."""
    if value is None:
        return None
    items = [v.strip() for v in str(value).split(",")]
    if not any(items):
        raise UsageError(f"{option} is empty", f"pass a comma list, e.g. {option} 0.5,1,1.5")
    if not all(items):
        raise UsageError(f"{option} {value!r} has an empty entry",
                         f"separate the values by single commas, e.g. {option} "
                         f"{','.join(i for i in items if i)}")
    out = []
    for v in items:
        try:
            out.append(cast(v))
        except ValueError:
            kind, example = ("whole number", "32,64") if cast is int else ("number", "0.5,1,1.5")
            raise UsageError(f"{option}: {v!r} is not a {kind}",
                             f"pass a comma list of {kind}s, e.g. {option} {example}") from None
    return out


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise UsageError(f"unknown --format {fmt!r}", f"use one of: {', '.join(FORMATS)}")


@contextmanager
def progress_bar(description: str, enabled: bool):
    """Yield `update(done, total, what=None)`; a rich bar with ETA on stderr when it is a
    terminal, described as `description` and `what` (the part being worked on).
    Each update is also a checkpoint for a dropped Ctrl-C (`interrupt.py`)."""
    from ..interrupt import checkpoint

    if not (enabled and sys.stderr.isatty()):
        yield lambda done, total, what=None: checkpoint()
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

        def update(done, total, what=None):
            checkpoint()
            name = description if what is None else f"{description} {what}"
            bar.update(task, completed=done, total=total, description=name)

        yield update


def begin(fmt: str, out: str | None, force: bool, platform: str | None = None,
          tf32: bool = False) -> None:
    """What a computing command does before any work: check `--format` and `--out` (a
    refusal comes before JAX is imported), then set up JAX for the process."""
    check_format(fmt)
    from ..io.store import check_out_dir
    from ..runtime import configure_jax

    check_out_dir(out, force=force)
    configure_jax(platform, tf32)


def finish(report, *, out: str | None, fmt: str, no_plots: bool, force: bool,
           table=None) -> None:
    """Write the report's folder (`Report.write`) and print the result (`emit`)."""
    out_dir = report.write(out, figures=not no_plots, force=force)
    emit(report.to_dict(), fmt, str(out_dir), table=table)
    assumed = {r.config.get("weights"): r.config.get("activation") for r in report.runs
               if r.config.get("activation_assumed") and report.command != "spectrum"}
    for weights, activation in assumed.items():
        sys.stderr.write(f"note: {weights} does not record the RNN's nonlinearity; analysed "
                         f"as {activation} (if it is not, set --activation relu or linear)\n")


def emit(report: dict, fmt: str, out_dir: str, table=None) -> None:
    """The report on stdout: JSON, or a rich table (`table(report)`, by default the summary)
    followed by where the report was written."""
    if fmt == "json":
        sys.stdout.write(json.dumps(report) + "\n")
    elif fmt == "table":
        from rich.console import Console

        from ..report import print_summary

        if table is None:
            print_summary(report, Console(), out_dir)
        else:
            console = Console()
            console.print(table(report))
            console.print(f"report: {out_dir}/report.md")
