import jax
import jax.numpy as jnp
import numpy as np

from gradscope.cells import cell_for
from gradscope.config import Config
from gradscope.dynamics.propagate import propagate
from gradscope.dynamics.unroll import unroll


def run_propagate(cfg: Config, params: dict, xs: np.ndarray, *, x64=True, norm="spectral",
                  local=True, cell=None):
    """propagate() for one run on explicit params and inputs (B, T, D); arrays are (B, ·).
    `cell`: the cell to use (default: `cell_for(cfg)`)."""
    with jax.enable_x64(x64):
        dt = jnp.float64 if x64 else jnp.float32
        p = {k: jnp.asarray(v, dt)[None] for k, v in params.items()}
        xs = jnp.asarray(xs, dt)[None]
        B = xs.shape[1]
        s0 = jnp.zeros((1, B, cfg.state_size), dt)
        step = cell if cell is not None else cell_for(cfg)
        states, _ = jax.vmap(jax.vmap(lambda s, x: unroll(step, jax.tree.map(lambda a: a[0], p),
                                                          s, x)))(s0, xs)
        g_T = jnp.ones((1, B, cfg.state_size), dt)
        return propagate(step, p, states, xs, g_T, norm=norm, local=local).run(0)


def linear_rnn(W: np.ndarray, D: int = 2):
    H = W.shape[0]
    cfg = Config(arch="rnn", activation="linear", hidden=H, input_size=D)
    params = {"weight_ih_l0": np.zeros((H, D)), "weight_hh_l0": W,
              "bias_ih_l0": np.zeros(H), "bias_hh_l0": np.zeros(H)}
    return cfg, params
