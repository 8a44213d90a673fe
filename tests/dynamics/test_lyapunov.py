import jax
import numpy as np
import pytest

from gradscope.dynamics.lyapunov import lyapunov_exponents
from gradscope.dynamics.unroll import unroll
from gradscope.pipeline import step_for

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
