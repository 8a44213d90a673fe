"""Training on the long-memory tasks of the RNN literature, with gradient clipping, and the
dynamics (Jacobian profiles, W_hh spectra) measured at checkpoints along the way.

`tasks` is numpy only (the CLI checks options with it before importing jax); `clipping` and
`loop` hold the jitted pieces.
"""

from .tasks import TASKS, Task, eval_batch, make_task, train_batch

__all__ = ["TASKS", "Task", "eval_batch", "make_task", "train_batch"]
