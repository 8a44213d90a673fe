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
