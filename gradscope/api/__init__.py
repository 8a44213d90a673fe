"""The public Python API: every command of the CLI as a function that returns a `Report`,
and `analyze_step` for a step function of your own."""

from .analysis import analyze, compare, run_configs, spectrum
from .merge import load, merge
from .step import analyze_step

__all__ = ["analyze", "analyze_step", "compare", "load", "merge", "run_configs", "spectrum"]
