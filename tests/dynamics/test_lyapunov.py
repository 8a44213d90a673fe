import jax
import numpy as np
import pytest

from gradscope.cells import cell_for as step_for
from gradscope.dynamics.lyapunov import lyapunov_exponents
from gradscope.dynamics.unroll import unroll

from .helpers import linear_rnn


def _exponents(W, k, T):
    cfg, params = linear_rnn(W)
    step = step_for(cfg)
    xs = np.zeros((T, 2))
    with jax.enable_x64(True):
        states, _ = unroll(step, params, np.zeros(W.shape[0]), xs)
        return np.asarray(lyapunov_exponents(step, k, params, states, xs))


def test_linear_map_gives_log_abs_eigenvalues():
    rng = np.random.default_rng(0)
    U, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    eig = np.array([1.1, -0.9, 0.5, 0.3, 0.05])
    W = U @ np.diag(eig) @ U.T
    got = _exponents(W, 4, 2000)
    np.testing.assert_allclose(got, np.log(np.sort(np.abs(eig))[::-1][:4]), atol=2e-3)


def test_orthogonal_linear_map_gives_zeros():
    q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((6, 6)))
    np.testing.assert_allclose(_exponents(q, 6, 200), 0.0, atol=1e-12)


def test_rejects_more_exponents_than_state():
    from gradscope.config import Config, validate
    from gradscope.errors import UsageError

    with pytest.raises(UsageError, match="state size"):
        validate(Config(hidden=4, lyapunov=5))


def test_a_diagonal_map_gives_its_largest_exponents_not_its_first_units():
    # J = diag(0.3, 0.5, 0.9): the coordinate vectors stay put under it, so the QR method
    # must start from a generic basis to find ln 0.9 (then ln 0.5), not ln 0.3
    import jax
    import jax.numpy as jnp

    from gradscope.dynamics.lyapunov import lyapunov_exponents

    d = np.array([0.3, 0.5, 0.9])

    def step(p, s, x):
        return p * s, {}

    with jax.enable_x64(True):
        T = 2000  # the estimate's transient fades like 1/T
        states = jnp.ones((T + 1, 3))  # J does not depend on the state
        got = np.asarray(lyapunov_exponents(step, 2, jnp.asarray(d), states, jnp.zeros((T, 1))))
    np.testing.assert_allclose(got, np.log([0.9, 0.5]), atol=1e-3)
