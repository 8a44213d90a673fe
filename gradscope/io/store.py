"""Output folders: atomic writes, never overwriting a finished report without `--force`.

A folder is finished when it holds `report.json`, which is written last.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from .. import interrupt
from ..errors import RunError, UsageError


def file_mode() -> int:
    """The permissions `open()` gives a new file (0o666 less the umask): a temporary file
    from `mkstemp` is private (0o600), which a finished report must not stay. (A replaced
    file gets them too, not its old mode.)"""
    try:
        with open("/proc/self/status") as f:
            umask = next(int(line.split()[1], 8) for line in f if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError):
        umask = os.umask(0o022)
        os.umask(umask)
    return 0o666 & ~umask


STALE_S = 3600.0  # a temporary this old is a dead writer's, whoever wrote it
_OWNED = re.compile(r"\.(\d+)@([^@/]+)\.[^.]+$")  # .<name>.<pid>@<node>.<random>[.tmp]


def _node() -> str:
    """This machine and PID namespace: where a writer's pid means that process (containers
    that share a host name have their own PID namespaces)."""
    try:
        ns = os.readlink("/proc/self/ns/pid").strip("pid:[]")
    except OSError:
        ns = "0"
    return f"{os.uname().nodename.replace('@', '_')}-{ns}"


def temp_prefix(name: str) -> str:
    """The start of the name of a temporary for `name`: it records the writing process, so
    that `remove_stale_temporaries` can tell a killed writer's leftover from a live one."""
    return f".{name}.{os.getpid()}@{_node()}."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process
    return True


def remove_stale_temporaries(folder: Path) -> list[str]:
    """Remove what a writer killed mid-write (SIGKILL, power loss) left in `folder`: the
    temporary files and plot folders of a process of this machine that no longer runs, and
    any older than `STALE_S` (another machine's on a shared disk, or an older gradscope's).
    A live writer's temporaries stay. Such leftovers are never read as results (their names
    start with a dot), so this only tidies the folder.

    **Returns:** the names removed.
    """
    removed, node, now = [], _node(), time.time()
    for p in Path(folder).glob(".*"):
        name = p.name
        if not (name.endswith(".tmp") or name.startswith((".plots.", ".probe."))):
            continue
        owner = _OWNED.search(name[:-4] if name.endswith(".tmp") else name)
        try:
            stale = now - p.lstat().st_mtime > STALE_S
            if not stale and owner is not None and owner.group(2) == node:
                stale = not _alive(int(owner.group(1)))
            if stale:
                shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
                removed.append(name)
        except OSError:
            continue  # gone already, or not ours to remove
    return removed


def atomic_write(path: Path, write) -> None:
    """`write(file)` into a temporary file in the same folder, fsync, then rename over
    `path`; a failure leaves `path` as it was and no temporary file behind (a kill can leave
    one, which `remove_stale_temporaries` clears)."""
    interrupt.checkpoint()  # an interrupted command writes nothing more
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path.name), suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise RunError(f"cannot write {path}: {e.strerror or e}",
                       "check free disk space and permissions of the output folder") from e
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda f: f.write(data))


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _default_dir(command: str) -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path("runs") / f"{command}-{stamp}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def check_out_dir(out: str | Path | None, *, force: bool = False) -> None:
    """The refusals of `prepare_out_dir` that need no folder to be made (None: a new default
    folder, always fine): a file, or a finished report without `force`."""
    if out is None:
        return
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise UsageError(f"--out {path} is a file, not a folder", "choose a folder path for --out")
    if (path / "report.json").exists() and not force:
        raise UsageError(f"{path} already holds a finished report",
                         "pass --force to overwrite it, or choose another --out")


def prepare_out_dir(out: str | None, command: str, *, force: bool = False) -> Path:
    """Create (or check) the output folder before any work starts.

    Raises `UsageError` when `out` is a file, is not writable, or already holds a finished
    report and `force` is not set.
    """
    path = Path(out) if out else _default_dir(command)
    check_out_dir(path, force=force)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=path, prefix=temp_prefix("probe"), delete=True)
        probe.close()
        remove_stale_temporaries(path)
    except OSError as e:
        raise UsageError(f"cannot write to output folder {path}: {e.strerror or e}",
                         "choose a writable --out folder") from e
    return path
