"""Output files: written atomically, with the permissions a plain `open()` would give."""

import os
import stat

import pytest

from gradscope.io.store import atomic_write_text, prepare_out_dir


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_written_files_follow_the_umask_not_mkstemps_private_mode(tmp_path, umask):
    old = os.umask(umask)
    try:
        atomic_write_text(tmp_path / "report.md", "# report\n")
    finally:
        os.umask(old)
    path = tmp_path / "report.md"
    assert path.read_text() == "# report\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]  # no temporary file left


def test_a_finished_folder_is_not_overwritten_without_force(tmp_path):
    from gradscope.errors import UsageError

    out = prepare_out_dir(str(tmp_path / "run"), "analyze")
    atomic_write_text(out / "report.json", "{}\n")
    with pytest.raises(UsageError, match="finished report"):
        prepare_out_dir(str(out), "analyze")
    assert prepare_out_dir(str(out), "analyze", force=True) == out


_BLOCKED_WRITER = """
import sys, time
from pathlib import Path
from gradscope.io.store import atomic_write
atomic_write(Path(sys.argv[1]), lambda f: (f.write(b"{"), f.flush(), time.sleep(600)))
"""


def test_a_killed_writers_temporary_is_removed_and_a_live_writers_is_kept(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    from gradscope.io.store import STALE_S, remove_stale_temporaries, temp_prefix

    p = subprocess.Popen([sys.executable, "-c", _BLOCKED_WRITER, str(tmp_path / "cell.json")])
    deadline = time.time() + 60
    while not list(tmp_path.glob(".cell.json.*.tmp")) and time.time() < deadline:
        time.sleep(0.02)
    (killed,) = tmp_path.glob(".cell.json.*.tmp")  # the writer is inside its write
    assert remove_stale_temporaries(tmp_path) == []  # a live writer's stays
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert killed.exists() and not (tmp_path / "cell.json").exists()
    mine = tmp_path / f"{temp_prefix('report.json')}abc.tmp"  # this (live) process's
    mine.write_text("{")
    plots = tmp_path / f"{temp_prefix('plots')}xyz"
    plots.mkdir()
    old, fresh = tmp_path / ".report.json.k2j4x9.tmp", tmp_path / ".summary.csv.u7q1.tmp"
    old.write_text("{")
    fresh.write_text("{")  # an older gradscope's name, without its writer: kept an hour
    os.utime(old, (time.time() - STALE_S - 60,) * 2)
    (tmp_path / ".keep").write_text("not a temporary")
    assert sorted(remove_stale_temporaries(tmp_path)) == sorted([killed.name, old.name])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [mine.name, plots.name, fresh.name, ".keep"])
