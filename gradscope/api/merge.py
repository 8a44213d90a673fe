"""`load` and `merge`: reports read back from output folders, one or many into one
(what `gradscope report` re-renders)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..constants import SCHEMA
from ..errors import UsageError
from ..io.schema import build_report
from ..labels import relabel
from ..report import OWN_LAYOUT
from ..result import Report


def load(folder: str | os.PathLike) -> Report:
    """The report of an output folder (its report.json), or of a sweep's folder (from its
    cell files, so an unfinished sweep or shard loads too)."""
    folder = Path(folder)
    return Report(_load_sweep(folder) if (folder / "sweep.json").is_file() else _load(folder))


def merge(*folders: str | os.PathLike) -> Report:
    """One report of every run of `folders` (a sweep cell done by two shards counts once;
    `train` and `cliff` reports merge only with reports of their own command)."""
    if not folders:
        raise UsageError("no folders to merge", "pass one or more output folders")
    seen: dict[Path, str] = {}
    for f in folders:
        key = Path(f).resolve()
        if key in seen:
            raise UsageError(f"{f} is given twice (as {seen[key]} too): its runs would be "
                             "counted twice", "pass each folder once")
        seen[key] = str(f)
    return Report(_merge([load(f).to_dict() for f in folders], [str(f) for f in folders]))


def _load_sweep(folder: Path) -> dict:
    """A sweep folder's report from its cell files (so unfinished shards merge too)."""
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


def _load(folder: Path) -> dict:
    path = folder / "report.json"
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
    return build_report(own.pop() if own else "report", relabel(runs),
                        **{**extra, "sources": [str(f) for f in folders]})
