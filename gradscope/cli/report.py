"""`gradscope report DIR…`: re-render one result folder, or merge several into one report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from . import options as o


def _load_sweep(folder: Path) -> dict:
    """A sweep folder's report from its cell files (so unfinished shards merge too)."""
    from ..errors import UsageError
    from ..io.schema import build_report

    try:
        spec = json.loads((folder / "sweep.json").read_text(encoding="utf-8"))
        ids = list(spec["cells"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise UsageError(f"cannot read {folder / 'sweep.json'}: {e}",
                         "rerun the sweep to write it again") from e
    runs = []
    for cid in ids:
        try:
            runs.append(json.loads((folder / "cells" / f"{cid}.json").read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue  # not done (yet), or done by another shard into another folder
    return build_report(spec.get("command", "analyze"), runs,
                        grid={"keys": list(spec.get("grid") or {}), "cells": len(ids),
                              "missing": len(ids) - len(runs)})


def _load(folder: str) -> dict:
    from ..errors import UsageError
    from ..io.schema import SCHEMA

    if (Path(folder) / "sweep.json").is_file():
        return _load_sweep(Path(folder))
    path = Path(folder) / "report.json"
    if not path.is_file():
        raise UsageError(f"{folder} holds no report.json", "pass a folder written by gradscope")
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UsageError(f"cannot read {path}: {e}", "rerun the command that wrote it") from e
    if not isinstance(report, dict) or report.get("schema") != SCHEMA:
        raise UsageError(f"{path} is not a {SCHEMA} report",
                         "pass folders written by this version of gradscope")
    return report


def _merge(reports: list[dict], folders: list[str]) -> dict:
    """One report of every run; `train` and `cliff` reports keep their own layout, so they
    merge only with reports of the same command."""
    from ..errors import UsageError
    from ..io.schema import build_report
    from ..report import OWN_LAYOUT

    commands = {r.get("command") for r in reports}
    own = commands & set(OWN_LAYOUT)
    if own and len(commands) > 1:
        raise UsageError(f"cannot merge {' and '.join(sorted(map(str, commands)))} reports",
                         f"merge {sorted(own)[0]} folders only with each other")
    runs, seen = [], set()
    for run in (run for r in reports for run in r["runs"]):
        cid = (run.get("cell") or {}).get("id")
        if cid is None or cid not in seen:  # a sweep cell done by two shards counts once
            runs.append(run)
            seen.add(cid)
    extra = {k: v for k, v in reports[0].items()
             if (own or k == "grid") and k not in ("schema", "version", "command", "created",
                                                    "runs")}
    if "grid" in extra:
        extra["grid"] = {**extra["grid"], "missing": None}
    return build_report(own.pop() if own else "report", runs,
                        **{**extra, "sources": [str(f) for f in folders]})


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
    from ..io.store import prepare_out_dir
    from ..report.folder import write_report_folder
    from ._common import check_format, emit

    check_format(format)
    reports = [_load(f) for f in folders]
    if len(reports) == 1 and out is None:
        merged, out_dir = reports[0], Path(folders[0])
    else:
        merged = _merge(reports, folders)
        out_dir = prepare_out_dir(out, "report", force=force)
    write_report_folder(out_dir, merged, plots=not no_plots)
    emit(merged, format, str(out_dir))
