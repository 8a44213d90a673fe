"""The public functions stay functions whatever else of the package has been imported."""

import importlib
import subprocess
import sys


def test_train_and_sweep_are_the_functions_after_the_engine_was_imported():
    # a subpackage named like a public function would replace it as an attribute of
    # gradscope once imported; run in a fresh process, so nothing was imported before
    code = ("import gradscope, importlib\n"
            "for m in ('training.loop', 'training.runner', 'sweeps.spec', 'sweeps.runner',\n"
            "          'api.training', 'api.sweeping', 'dynamics.cliff'):\n"
            "    importlib.import_module('gradscope.' + m)\n"
            "names = [n for n in gradscope.__all__ if n[0].islower()]\n"
            "bad = [n for n in names if not callable(getattr(gradscope, n))]\n"
            "print(bad)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_no_subpackage_shadows_a_public_name():
    import gradscope

    for name in gradscope.__all__:
        try:
            mod = importlib.import_module(f"gradscope.{name}")
        except ModuleNotFoundError:
            continue
        raise AssertionError(f"gradscope.{name} is also a module: {mod.__name__}")
