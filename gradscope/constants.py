"""Names and limits that several layers share and that import nothing: the report's schema,
the architectures and their PyTorch gate layout, the output formats and the `cliff`
command's limits."""

SCHEMA = "gradscope.report/1"  # report.json's format (docs/report-schema.md)
ARCHS = ("rnn", "lstm", "gru")
GATES = {"rnn": 1, "lstm": 4, "gru": 3}  # gate blocks of weight_hh (PyTorch's layout)
GATE_NAMES = {"rnn": ("h",), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}
FORMATS = ("table", "json", "none")

# `cliff`: points per axis of its map (10⁶ points: ~40 MB of report.json), iterations per
# path (each a row of series.csv) and steps of its single-unit RNN
CLIFF_MAX_GRID = 1000
CLIFF_MAX_ITERS = 100_000
CLIFF_MAX_STEPS = 100_000
