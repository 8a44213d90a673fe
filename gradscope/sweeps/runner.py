"""Running a sweep's cells: each finished cell is written atomically to `cells/<id>.json`,
then recorded in `index.jsonl`. The cell files are the truth: a restart (after Ctrl-C,
SIGKILL or a crash) skips every cell whose file exists and redoes the rest, so its results
equal an uninterrupted run. Cells that share shapes run in one vmapped call; several
processes (shards, or a multi-host JAX run) share the cells by index."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import jax

from .. import interrupt
from ..errors import RunError, UsageError
from ..io.schema import build_report, device_info
from ..io.store import atomic_write_text, remove_stale_temporaries
from ..pipeline import analyze_group, shape_key
from ..training.runner import GroupTrainer, TrainSettings
from ..training.setup import resolve_train
from .spec import Cell, Sweep

# cells per vmapped call: bounds the memory of one call and the work lost to a kill
MAX_GROUP = 64


def start_distributed(coordinator: str | None = None, num_processes: int | None = None,
                      process_id: int | None = None) -> tuple[int, int]:
    """Join a multi-host JAX run (`jax.distributed.initialize`); returns (this process, count).

    Each process then does every count-th cell from its own index, on its own devices, into
    the shared output folder.
    """
    if num_processes is not None and not 0 <= (process_id or 0) < num_processes:
        raise UsageError(f"--process-id {process_id} is not in 0..{num_processes - 1}",
                         "number the processes from 0")
    kwargs = {} if coordinator is None else {
        "coordinator_address": coordinator, "num_processes": num_processes,
        "process_id": process_id}
    try:
        jax.distributed.initialize(**kwargs)
    except (RuntimeError, ValueError) as e:
        raise RunError(f"cannot join the multi-host run: {str(e).splitlines()[0]}",
                       "check that process 0 runs and --coordinator HOST:PORT is reachable") from e
    return jax.process_index(), jax.process_count()


def wait_for_cells(out_dir: Path, cells: list[Cell], timeout_s: float = 7 * 24 * 3600,
                   poll_s: float = 0.5) -> None:
    """Block until every cell's file is in `out_dir` (a multi-host sweep's process 0 waits
    so for the cells of the others, in the folder they share: the files are the truth)."""

    deadline = time.monotonic() + timeout_s
    ids = {c.id for c in cells}
    while not ids <= done_ids(out_dir):
        if time.monotonic() > deadline:

            raise RunError(f"the other processes' cells did not appear in {out_dir}",
                           "check that every process of the multi-host sweep runs")
        interrupt.checkpoint()
        time.sleep(poll_s)


def prepare_folder(spec: Sweep, out_dir: Path) -> None:
    """Create `out_dir/cells`, tidy what a killed run was writing, and record the sweep
    (`sweep.json`: its file, grid and cell ids, which `gradscope report` reads)."""

    try:
        (out_dir / "cells").mkdir(parents=True, exist_ok=True)
        for folder in (out_dir, out_dir / "cells"):
            remove_stale_temporaries(folder)
        atomic_write_text(out_dir / "sweep.json", json.dumps({
            "file": spec.path, "command": spec.command, "grid": spec.grid, "fixed": spec.fixed,
            "cells": [c.id for c in spec.cells]}, indent=1) + "\n")
    except OSError as e:
        raise UsageError(f"cannot write to {out_dir}: {e.strerror or e}",
                         "choose a writable --out folder") from e


def run_cells(out_dir: Path, mine: list[Cell], done: set[str], progress=None) -> None:
    """Run the groups of `mine` that hold a cell not in `done`, writing each cell's file;
    `progress(cells_done, cells_total)` after each group."""
    todo = pending_groups(mine, done)
    total, finished = sum(len(g) for g in todo), 0
    if progress is not None:
        progress(0, total)
    for group in todo:
        run_group(out_dir, group, frozenset(done))
        finished += len(group)
        if progress is not None:
            progress(finished, total)


def final_report(spec: Sweep, out_dir: Path) -> tuple[dict, list[Cell]]:
    """The report of every finished cell, and the cells still missing."""

    runs, missing = collect(out_dir, spec.cells)
    report = build_report(spec.command, runs, device=device_info(),
                          grid={"keys": list(spec.grid), "cells": len(spec.cells),
                                "missing": len(missing)})
    return report, missing


def done_ids(out_dir: Path) -> set[str]:
    """Ids of the cells whose result file exists and parses (the files are the truth)."""
    done = set()
    for f in (Path(out_dir) / "cells").glob("*.json"):
        try:
            json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a partial file cannot exist (atomic writes); unreadable means redo
        done.add(f.stem)
    return done


def _group_key(cell: Cell) -> tuple:

    if not cell.trains:
        return shape_key(cell.config)
    # train: the runs of one call differ only in their clip threshold
    return tuple((k, repr(v)) for k, v in sorted(cell.config.to_dict().items()) if k != "clip")


def groups(cells: list[Cell]) -> list[list[Cell]]:
    """Cells that share shapes, in chunks of at most MAX_GROUP, in cell order."""
    by_key: dict[tuple, list[Cell]] = {}
    for c in cells:
        by_key.setdefault(_group_key(c), []).append(c)
    return [g[i : i + MAX_GROUP] for g in by_key.values() for i in range(0, len(g), MAX_GROUP)]


def pending_groups(cells: list[Cell], done: set[str]) -> list[list[Cell]]:
    """The groups (of all `cells`) that still hold a cell to do. A group is always run whole,
    so a resumed sweep runs the very programs of an uninterrupted one: same numbers, bit for
    bit."""
    return [g for g in groups(cells) if any(c.id not in done for c in g)]


def run_group(out_dir: Path, cells: list[Cell], done: frozenset = frozenset()) -> None:
    """Run `cells` in one vmapped call and write the result of each cell not in `done`
    (cell file, then index); a done cell's file is left exactly as it was."""

    runs = _train_group(cells) if cells[0].trains else _analyze(cells)
    folder = Path(out_dir) / "cells"
    for cell, run in zip(cells, runs, strict=True):
        if cell.id in done:
            continue
        run["label"] = cell.label
        run["cell"] = {"id": cell.id, "index": cell.index, "grid": cell.grid}
        atomic_write_text(folder / f"{cell.id}.json", json.dumps(run, allow_nan=False) + "\n")
        with open(Path(out_dir) / "index.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps({"id": cell.id, "index": cell.index, "label": run["label"]}) + "\n")
            f.flush()
            os.fsync(f.fileno())


def _analyze(cells: list[Cell]) -> list[dict]:

    return analyze_group([c.config for c in cells])


def _train_group(cells: list[Cell]) -> list[dict]:
    """Train the cells (same options, one clip threshold each) in one vmapped call."""

    options = dict(cells[0].options)
    clips = ",".join("none" if c.config.to_dict()["clip"] is None else str(c.config.to_dict()["clip"])
                     for c in cells)
    cfgs, task, thetas = resolve_train({**options, "clip": clips})
    extra = dict(cfgs[0].extra)
    settings = TrainSettings(task, tuple(thetas), extra["clip_mode"], extra["optimizer"],
                             extra["lr"], extra["batch_size"], extra["iters"], extra["tbptt"],
                             extra["checkpoint_every"])
    trainer = GroupTrainer(cfgs[0], settings)
    trainer.run()
    return trainer.records()


def collect(out_dir: Path, cells: list[Cell]) -> tuple[list[dict], list[Cell]]:
    """The finished runs in cell order, and the cells still missing."""
    runs, missing = [], []
    for c in cells:
        f = Path(out_dir) / "cells" / f"{c.id}.json"
        try:
            runs.append(json.loads(f.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            missing.append(c)
    return runs, missing
