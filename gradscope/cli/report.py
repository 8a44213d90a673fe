"""`gradscope report DIR…`: re-render one result folder, or merge several into one report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from . import options as o


def report(
    folders: Annotated[list[str], typer.Argument(help="result folders holding report.json")],
    *,
    out: o.Out = None,
    format: o.Format = "table",
    no_plots: o.NoPlots = False,
    force: o.Force = False,
) -> None:
    """Re-render a result folder (Markdown, HTML, plots, CSV), or merge several into one.

    One folder and no --out: its report.md, report.html, series.csv and plots are written
    again from its report.json. Several folders: their runs go into one new report in --out.
    """
    from ..api.merge import load, merge
    from ..report.folder import write_report_folder
    from ._common import check_format, emit

    check_format(format)
    if len(folders) == 1 and out is None:  # written again where it is
        merged, out_dir = load(folders[0]), Path(folders[0])
        write_report_folder(out_dir, merged.to_dict(), plots=not no_plots)
    else:
        merged = merge(*folders)
        out_dir = merged.write(out, figures=not no_plots, force=force)
    emit(merged.to_dict(), format, str(out_dir))
