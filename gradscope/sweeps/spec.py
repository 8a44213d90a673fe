"""The sweep file (README, "Sweeps"): `[sweep]` (`command`, `out`), `[grid]` (lists whose
cartesian product are the cells) and `[fixed]` (options shared by every cell). Every cell is
resolved and checked before any work starts; an error names the file, the line and the key.
A cell's id is a stable hash of its resolved config."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Config, resolve
from ..errors import UsageError
from ..labels import option_text
from ..training.setup import resolve_train

COMMANDS = ("analyze", "compare", "train")


TABLES = {"sweep": {"command", "out"}, "grid": None, "fixed": None}


# Rough cost model for --dry-run: seconds per unit of T·S²·(S + 4·H·G) on this project's CPU
# reference (LSTM H=256, T=1000: 5.4 s, benchmarks/README.md).
SECONDS_PER_UNIT = 2.7e-11


def _toml():
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    return tomllib


@dataclass(frozen=True)
class Cell:
    """One run of the sweep: its resolved config, its id and its place in the grid."""

    index: int
    config: Config
    grid: dict[str, Any]
    options: tuple = ()  # (name, value) pairs the cell was resolved from (train cells)

    @property
    def id(self) -> str:
        return cell_id(self.config)

    @property
    def trains(self) -> bool:
        """A cell of a `train` sweep (its config carries the training options)."""
        return "task" in dict(self.config.extra)

    @property
    def label(self) -> str:
        """The grid values that make this cell, as run labels name them, e.g.
        `lstm · scale 0.5 · seed 2`."""
        return " · ".join(option_text(k, v) for k, v in self.grid.items()) or self.config.label()


@dataclass(frozen=True)
class Sweep:
    path: str
    command: str
    out: str
    grid: dict[str, list]
    fixed: dict[str, Any]
    cells: list[Cell]


def cell_id(cfg: Config) -> str:
    """A stable hash of every resolved option (16 hex digits)."""
    text = json.dumps(cfg.to_dict(), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _line_of(text: str, table: str | None, key: str | None) -> int:
    """The line (1-based) of `key` in `[table]`, or of the table header; 1 if not found."""
    current, header_line = None, 1
    for n, line in enumerate(text.splitlines(), 1):
        m = re.match(r"\s*\[\s*([A-Za-z0-9_.-]+)\s*\]", line)
        if m:
            current = m.group(1)
            if current == table:
                header_line = n
            continue
        if current == table and key is not None and re.match(
                rf"\s*[\"']?{re.escape(key)}[\"']?\s*=", line):
            return n
    return header_line


def _error(path: str, text: str, table: str | None, key: str | None, what: str,
           hint: str) -> UsageError:
    line = _line_of(text, table, key)
    where = f"{path}:{line}" + (f": [{table}] {key}" if key else f": [{table}]" if table else "")
    return UsageError(f"{where}: {what}", hint)


def load(path: str | os.PathLike, *, out: str | None = None) -> Sweep:
    """Parse and check a sweep file; every cell is resolved (and so validated) here.

    **Raises:** `UsageError` naming the file, line and key of the first problem.
    """
    path = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"sweep file {path} does not exist", "pass the path of a .toml file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"cannot read sweep file {path}: {e}", "pass a UTF-8 .toml file") from e
    tomllib = _toml()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        line = getattr(e, "lineno", None) or _lineno_from(str(e))
        raise UsageError(f"{path}:{line}: not valid TOML: {str(e).split(' (at')[0]}",
                         "see the sweep file format in the README, \"Sweeps\" ([sweep], [grid], "
                         "[fixed])") from e
    for table, value in data.items():
        if table not in TABLES or not isinstance(value, dict):
            raise _error(path, text, None, None, f"unknown table [{table}]",
                         "a sweep file has the tables [sweep], [grid] and [fixed]")
    head = data.get("sweep", {})
    for key in head:
        if key not in TABLES["sweep"]:
            raise _error(path, text, "sweep", key, f"unknown key {key!r}",
                         "[sweep] takes command and out")
    command = head.get("command", "analyze")
    if command not in COMMANDS:
        raise _error(path, text, "sweep", "command", f"unknown command {command!r}",
                     f"use one of: {', '.join(COMMANDS)}")
    grid = data.get("grid", {})
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise _error(path, text, "grid", key, f"{key} must be a non-empty list",
                         f"write e.g. {key} = [{_example(key)}]")
    fixed = data.get("fixed", {})
    both = sorted(set(grid) & set(fixed))
    if both:
        raise _error(path, text, "fixed", both[0], f"{both[0]} is in [grid] and [fixed]",
                     "keep it in one of them")
    out_dir = out or head.get("out") or f"runs/sweep-{Path(path).stem}"
    if not isinstance(out_dir, str):
        raise _error(path, text, "sweep", "out", "out must be a string", 'write out = "runs/x"')
    keys = list(grid)
    cells = []
    for i, combo in enumerate(itertools.product(*(grid[k] for k in keys))):
        point = dict(zip(keys, combo, strict=True))
        options = {**fixed, **point}
        try:
            cfg = resolve_train_cell(options) if command == "train" else resolve(options)
        except UsageError as e:
            key = _guilty_key(e.message, options)
            table = "grid" if key in grid else "fixed" if key in fixed else None
            raise _error(path, text, table, key, e.message, e.hint) from None
        cells.append(Cell(i, cfg, point, tuple(sorted(options.items(), key=lambda kv: kv[0]))))
    for cfg_cells in _by_id(cells).values():
        if len(cfg_cells) > 1:
            raise _error(path, text, "grid", None,
                         f"cells {cfg_cells[0].index} and {cfg_cells[1].index} are the same run",
                         "remove repeated values from the lists in [grid]")
    return Sweep(path, command, out_dir, grid, fixed, cells)


def folder_of(path: str | os.PathLike, out: str | None = None) -> Path:
    """The sweep's folder: `out`, else the file's `[sweep] out`, else `runs/sweep-<name>`
    (read without resolving the cells; the file was checked by `load` before)."""
    head = _toml().loads(Path(path).read_text(encoding="utf-8")).get("sweep", {})
    return Path(out or head.get("out") or f"runs/sweep-{Path(path).stem}")


def resolve_train_cell(options: dict) -> Config:
    """A train cell: one architecture and one clip threshold; its config carries every
    training option (and `clip`) so that its id changes with any of them."""

    for key in ("arch", "clip"):
        value = options.get(key)
        if isinstance(value, (list, tuple)) or (isinstance(value, str) and "," in value):
            raise UsageError(f"{key} lists belong in [grid] (one value per cell)",
                             f"move {key} to [grid] as a list")
    cfgs, _, clips = resolve_train({**options, **({"clip": str(options["clip"])}
                                                  if "clip" in options else {})})
    theta = clips[0]
    return Config.from_dict({**cfgs[0].to_dict(), "clip": None if math.isinf(theta) else theta})


def _lineno_from(message: str) -> int:
    m = re.search(r"line (\d+)", message)
    return int(m.group(1)) if m else 1


def _example(key: str) -> str:
    return {"arch": '"rnn", "lstm"', "scale": "0.5, 1.0", "seed": "0, 1"}.get(key, "...")


def _guilty_key(message: str, options: dict) -> str | None:
    """The option a resolve() error is about (its --flag or name appears in the message)."""
    for key in options:
        if f"--{key.replace('_', '-')}" in message or re.search(rf"\b{key}\b", message):
            return key
    return None


def _by_id(cells: list[Cell]) -> dict[str, list[Cell]]:
    out: dict[str, list[Cell]] = {}
    for c in cells:
        out.setdefault(c.id, []).append(c)
    return out


def parse_shard(text: str | None) -> tuple[int, int]:
    """`"K/N"` → (K, N) with 0 ≤ K < N; None → (0, 1)."""
    if text is None:
        return 0, 1
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m or not 0 <= int(m.group(1)) < int(m.group(2)):
        raise UsageError(f"--shard {text!r} is not K/N with 0 ≤ K < N",
                         "pass e.g. --shard 0/4 (this machine does cells 0, 4, 8, …)")
    return int(m.group(1)), int(m.group(2))


def shard_cells(cells: list[Cell], k: int, n: int) -> list[Cell]:
    """Every n-th cell from cell k."""
    return [c for c in cells if c.index % n == k]


def estimate(cfg: Config) -> tuple[float, int]:
    """(seconds, bytes) of one cell, rough: the product chain and the forward pass."""
    S, H, G = cfg.state_size, cfg.hidden, cfg.gates
    seconds = SECONDS_PER_UNIT * cfg.batch * cfg.steps * S * S * (S + 4 * H * G)
    itemsize = 8 if cfg.x64 else 4
    memory = itemsize * cfg.batch * (3 * S * (S + 2 * (cfg.step_input_size + S))
                                     + 2 * (cfg.steps + 1) * (S + 3 * cfg.layers * H))
    return seconds, memory
