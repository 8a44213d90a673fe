import jax
import jax.numpy as jnp
import numpy as np

from gradscope.config import Config
from gradscope.dynamics.propagate import propagate
from gradscope.dynamics.unroll import unroll
from gradscope.pipeline import step_for


def run_propagate(cfg: Config, params: dict, xs: np.ndarray, *, x64=True, norm="spectral",
                  s0=None):
    """propagate() on explicit params/inputs (B, T, D); returns the Propagation."""
    with jax.enable_x64(x64):
        dt = jnp.float64 if x64 else jnp.float32
        p = {k: jnp.asarray(v, dt) for k, v in params.items()}
        xs = jnp.asarray(xs, dt)
        B = xs.shape[0]
        s0 = jnp.zeros((B, cfg.state_size), dt) if s0 is None else jnp.asarray(s0, dt)
        step = step_for(cfg)
        states, _ = jax.vmap(lambda s, x: unroll(step, p, s, x))(s0, xs)
        g_T = jnp.ones((B, cfg.state_size), dt)
        return propagate(step, p, states, xs, g_T, norm=norm)


def linear_rnn(W: np.ndarray, D: int = 2):
    H = W.shape[0]
    cfg = Config(arch="rnn", activation="linear", hidden=H, input_size=D)
    params = {"weight_ih_l0": np.zeros((H, D)), "weight_hh_l0": W,
              "bias_ih_l0": np.zeros(H), "bias_hh_l0": np.zeros(H)}
    return cfg, params
