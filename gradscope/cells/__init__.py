"""Recurrent cells as pure one-step functions with PyTorch parameter names.

A cell is `step(params, s, x) -> (s', aux)`: `params` is a flat dict keyed like a PyTorch
state_dict (`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, ...), `s` the stacked
state of all layers, `x` one input vector. `aux` holds what the analysis needs besides the
state: the candidate pre-activation `pre`, its derivative `deriv`, and the LSTM `forget` gate.
"""

from ._cell import Cell, JacrevCell, StructuredCell, as_cell
from ._init import init_params
from ._stack import cell_for, direction_params, make_cell, make_step, split_layers

__all__ = ["Cell", "JacrevCell", "StructuredCell", "as_cell", "cell_for", "direction_params",
           "init_params", "make_cell", "make_step", "split_layers"]
