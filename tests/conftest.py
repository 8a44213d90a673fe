import os
import shutil
import tempfile

# The suite compiles a few hundred small programs whose runs take milliseconds: XLA's
# optimisation passes are most of its time. Without them (and with XLA:CPU's simpler loop
# emitters) it compiles about twice as fast; the numbers differ only in rounding, within
# every tolerance the tests state. Set before JAX starts here and inherited by every
# subprocess the tests start; users' runs keep XLA's defaults.
os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0 "
                                   "--xla_cpu_use_fusion_emitters=false")


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
