"""`sweep`: a TOML grid of analyze, compare or train runs, resumable and shardable."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import UsageError
from ..report.folder import write_report_folder
from ..result import Report
from ..sweeps import (
    done_ids,
    final_report,
    load,
    parse_shard,
    prepare_folder,
    run_cells,
    shard_cells,
    wait_for_cells,
)
from .session import Progress, session


def sweep(file: str | os.PathLike, *, out: str | None = None, shard: str | None = None,
          figures: bool = True, progress: Progress | None = None, platform: str | None = None,
          tf32: bool = False, processes: tuple[int, int] | None = None) -> Report:
    """Run the cells of a sweep file not done yet, each written to `out/cells/<id>.json`,
    then write the report of every finished cell into `out` (with `summary.csv` and heat
    maps).

    **Arguments:**

    - `file`: the sweep file (`[sweep]`, `[grid]`, `[fixed]`).
    - `out`: the sweep's folder (default: the file's `[sweep] out`, else
      `runs/sweep-<file name>`); a stopped sweep resumes there.
    - `shard`: `"K/N"`: only every N-th cell from cell K (for N machines or a job array).
    - `figures`: draw the report's figures.
    - `progress`: optional callable `(cells_done, cells_total)`.
    - `processes`: `(k, n)` in a multi-host JAX run (`jax.distributed` initialised by the
      caller): this process does every n-th cell from k; process 0 waits for the others'
      cells and writes the report, the others return their own share's report unwritten.

    **Returns:** the report of every finished cell.
    """

    k, n = processes if processes is not None else parse_shard(shard)
    spec = load(file, out=out)
    out_dir = Path(spec.out)
    check_folder(out_dir)
    mine = shard_cells(spec.cells, k, n)
    with session(platform, tf32):
        prepare_folder(spec, out_dir)
        run_cells(out_dir, mine, done_ids(out_dir), progress)
        if processes is not None and n > 1:
            if k != 0:
                return Report(final_report(spec, out_dir)[0])
            wait_for_cells(out_dir, spec.cells)
        report, missing = final_report(spec, out_dir)
    write_report_folder(out_dir, report, plots=figures)
    return Report(report)


def check_folder(out_dir: Path) -> None:
    """A sweep's folder must be a folder, and not hold another command's finished report."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {out_dir} is a file, not a folder", "choose a folder for the sweep")
    if (out_dir / "report.json").exists() and not (out_dir / "sweep.json").exists():
        raise UsageError(f"{out_dir} holds a finished report that is not a sweep's",
                         "choose another --out (a sweep resumes only in its own folder)")
