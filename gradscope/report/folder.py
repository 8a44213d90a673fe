"""An output folder's files, rendered from a report dict: series.csv, summary.csv, plots/,
report.md, report.html and, written last, report.json (docs/cli.md, "Files written")."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from ..errors import RunError
from ..io.store import atomic_write_text, temp_prefix
from . import renderers
from .summary_csv import render_summary_csv


def write_report_folder(out_dir: Path, report: dict, *, plots: bool = True) -> list[str]:
    """Write series.csv, summary.csv, plots/, report.md, report.html and, last, report.json
    (atomically each; a folder holding report.json is finished).

    **Returns:** the figure paths relative to `out_dir`.
    """
    render_series_csv, write_plots, render_markdown, render_html = renderers(report)
    out_dir = Path(out_dir)
    atomic_write_text(out_dir / "series.csv", render_series_csv(report))
    if report.get("command") != "cliff":  # one row per run (a sweep's cell)
        atomic_write_text(out_dir / "summary.csv", render_summary_csv(report))
    rel: list[str] = []
    if plots:
        rel = _write_plots_atomically(out_dir, report, write_plots)
    atomic_write_text(out_dir / "report.md", render_markdown(report, rel))
    atomic_write_text(out_dir / "report.html", render_html(report, out_dir / "plots"))
    atomic_write_text(out_dir / "report.json", json.dumps(report, indent=1, allow_nan=False) + "\n")
    return rel


def _write_plots_atomically(out_dir: Path, report: dict, write_plots) -> list[str]:
    final = out_dir / "plots"
    final.mkdir(exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=temp_prefix("plots"), dir=out_dir))
    try:
        pngs = write_plots(report, tmp)
        for f in sorted(tmp.iterdir()):
            os.replace(f, final / f.name)
    except OSError as e:
        raise RunError(f"cannot write plots to {final}: {e.strerror or e}",
                       "check free disk space and permissions of the output folder") from e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [f"plots/{Path(p).name}" for p in pngs]
