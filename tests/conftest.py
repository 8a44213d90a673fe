import os
import shutil
import tempfile


def pytest_configure(config):
    """Tests must not share or depend on the user's compilation cache, but they may share one
    of their own: a folder made for this test run (by the controller, inherited by the xdist
    workers and every subprocess), removed at its end. The command-line tests then compile
    each program once instead of in every process. Tests that need a cold start (to interrupt
    it) set GRADSCOPE_NO_CACHE=1 themselves."""
    if hasattr(config, "workerinput"):  # an xdist worker: the controller's folder is set
        return
    folder = tempfile.mkdtemp(prefix="gradscope-test-cache-")
    os.environ["GRADSCOPE_CACHE_DIR"] = folder
    config._gradscope_cache = folder


def pytest_unconfigure(config):
    folder = getattr(config, "_gradscope_cache", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
