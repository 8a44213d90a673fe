import os

# Tests must not share or depend on the user's compilation cache.
os.environ.setdefault("GRADSCOPE_NO_CACHE", "1")
# Figures are drawn in-process (tests/report/test_plot_worker.py tests the worker).
os.environ.setdefault("GRADSCOPE_PLOT_WORKER", "0")
