"""Sweeps: a TOML grid of runs (`spec.py`), done cell by cell into `cells/<id>.json`,
resumable and shardable (`runner.py`)."""

from .runner import (
    MAX_GROUP,
    collect,
    done_ids,
    final_report,
    groups,
    pending_groups,
    prepare_folder,
    run_cells,
    run_group,
    start_distributed,
    wait_for_cells,
)
from .spec import (
    COMMANDS,
    Cell,
    Sweep,
    cell_id,
    estimate,
    folder_of,
    load,
    parse_shard,
    resolve_train_cell,
    shard_cells,
)

__all__ = ["COMMANDS", "MAX_GROUP", "Cell", "Sweep", "cell_id", "collect", "done_ids",
           "estimate", "final_report", "folder_of", "groups", "load", "parse_shard",
           "pending_groups", "prepare_folder", "resolve_train_cell", "run_cells", "run_group",
           "shard_cells", "start_distributed", "wait_for_cells"]
