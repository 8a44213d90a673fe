"""`gradscope sweep FILE.toml`: a grid of runs, resumable and shardable."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from . import options as o


def _dry_run_table(sweep, todo, done):
    from rich.table import Table

    from ..sweeps import estimate

    table = Table(title=f"{sweep.path}: {len(sweep.cells)} cells ({sweep.command}), "
                        f"{len(todo)} left here", title_justify="left")
    for col in ("#", "id", "run", "state", "≈ s", "≈ MiB"):
        table.add_column(col, justify="right" if col in ("#", "≈ s", "≈ MiB") else "left")
    total = peak = 0.0
    todo_ids = {c.id for c in todo}
    for c in sweep.cells:
        seconds, memory = estimate(c.config)
        state = "done" if c.id in done else "to do" if c.id in todo_ids else "other shard"
        if c.id in todo_ids:
            total += seconds
            peak = max(peak, memory)
        table.add_row(str(c.index), c.id, c.label, state, f"{seconds:.2g}",
                      f"{memory / 2**20:.3g}")
    table.caption = (f"estimate for the cells left: ≈ {total:.3g} s of compute (plus compiling "
                     f"once per shape), ≈ {peak / 2**20:.3g} MiB per cell; rough, from the "
                     "CPU benchmark")
    table.caption_justify = "left"
    return table


def sweep(
    file: Annotated[str, typer.Argument(help="sweep file (.toml): [sweep], [grid], [fixed]")],
    *,
    shard: Annotated[str | None, typer.Option(
        "--shard", help="K/N: do every N-th cell from cell K (0 ≤ K < N), for N machines or "
        "a job array")] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="list the cells with an estimate of time and memory; run nothing")] = False,
    coordinator: Annotated[str | None, typer.Option(
        "--coordinator", help="HOST:PORT of process 0, for a sweep over several hosts "
        "(multi-host JAX; default: $JAX_COORDINATOR_ADDRESS)")] = None,
    num_processes: Annotated[int | None, typer.Option(
        "--num-processes", help="processes of a multi-host sweep (default: $JAX_NUM_PROCESSES)")
    ] = None,
    process_id: Annotated[int | None, typer.Option(
        "--process-id", help="this process, 0..N-1 (default: $JAX_PROCESS_ID)")] = None,
    distributed: Annotated[bool, typer.Option(
        "--distributed", help="join a multi-host run found by JAX itself (Slurm, Open MPI, "
        "cloud TPU) without the three options above")] = False,
    platform: o.Platform = None,
    tf32: o.Tf32 = False,
    out: o.Out = None,
    format: o.Format = "table",
    no_plots: o.NoPlots = False,
) -> None:
    """Run a grid of analyze, compare or train runs from a TOML file; stop it, start it again.

    Each finished cell is saved in OUT/cells/<id>.json (id: a hash of its resolved config);
    a restart does only the missing cells. Cells that share shapes run in one vmapped call.
    When every cell is done, OUT holds one report with summary.csv and heat maps.
    """
    from ..errors import UsageError
    from ._common import check_format, emit, progress_bar

    check_format(format)
    multi = _distributed_options(coordinator, num_processes, process_id, distributed)
    if multi is not None and shard is not None:
        raise UsageError("--shard and a multi-host run cannot be combined",
                         "in a multi-host run each process takes every N-th cell by its id")
    if dry_run:
        _dry_run(file, shard, out)
        return
    processes = None
    if multi is not None:
        from ..sweeps import start_distributed

        processes = start_distributed(**multi)
    from ..api.sweeping import sweep as run
    from ..runtime import configure_jax

    configure_jax(platform, tf32)
    with progress_bar(f"sweep {Path(file).name}", format != "json") as bar:
        report = run(file, out=out, shard=shard, figures=not no_plots, progress=bar, tf32=tf32,
                     processes=processes)
    data = report.to_dict()
    if processes is not None and processes[0] != 0:
        return  # process 0 writes the report of every cell
    out_dir = _out_of(file, out)
    emit(data, format, str(out_dir))
    missing = data["grid"]["missing"]
    if missing:
        import sys

        sys.stderr.write(f"{missing} of {data['grid']['cells']} cells are not done yet (other "
                         f"shards?); rerun, or `gradscope report {out_dir}` once they are\n")


def _out_of(file: str, out: str | None) -> Path:
    from ..sweeps import folder_of

    return folder_of(file, out)


def _dry_run(file: str, shard: str | None, out: str | None) -> None:
    from rich.console import Console

    from ..api.sweeping import check_folder
    from ..sweeps import done_ids, load, parse_shard, shard_cells

    k, n = parse_shard(shard)
    spec = load(file, out=out)
    out_dir = Path(spec.out)
    check_folder(out_dir)
    done = done_ids(out_dir) if out_dir.is_dir() else set()
    todo = [c for c in shard_cells(spec.cells, k, n) if c.id not in done]
    Console().print(_dry_run_table(spec, todo, done))


def _distributed_options(coordinator, num_processes, process_id, auto) -> dict | None:
    """The multi-host settings from the options, else JAX's usual environment variables."""
    import os

    env = os.environ
    coordinator = coordinator or env.get("JAX_COORDINATOR_ADDRESS")
    if num_processes is None and env.get("JAX_NUM_PROCESSES", "").isdigit():
        num_processes = int(env["JAX_NUM_PROCESSES"])
    if process_id is None and env.get("JAX_PROCESS_ID", "").isdigit():
        process_id = int(env["JAX_PROCESS_ID"])
    given = [v is not None for v in (coordinator, num_processes, process_id)]
    if not any(given):
        return {} if auto else None
    if not all(given):
        from ..errors import UsageError

        raise UsageError("a multi-host sweep needs --coordinator, --num-processes and "
                         "--process-id together",
                         "pass all three (or set JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES, "
                         "JAX_PROCESS_ID), or --distributed on a cluster JAX detects")
    return {"coordinator": coordinator, "num_processes": num_processes,
            "process_id": process_id}
