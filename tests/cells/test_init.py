import numpy as np
import pytest

from gradscope.cells import init_params
from gradscope.config import Config


def test_orthogonal_blocks_are_scaled_orthogonal():
    p = init_params(Config(arch="lstm", hidden=16, init="orthogonal", scale=1.5))
    for k in range(4):
        b = p["weight_hh_l0"][k * 16 : (k + 1) * 16]
        np.testing.assert_allclose(b @ b.T, 2.25 * np.eye(16), atol=1e-12)


def test_identity_and_shapes():
    p = init_params(Config(arch="gru", hidden=5, input_size=7, layers=2, init="identity",
                           scale=0.5))
    assert p["weight_ih_l0"].shape == (15, 7) and p["weight_ih_l1"].shape == (15, 5)
    assert p["weight_hh_l1"].shape == (15, 5) and p["bias_hh_l1"].shape == (15,)
    np.testing.assert_array_equal(p["weight_hh_l0"][5:10], 0.5 * np.eye(5))


def test_gaussian_variance_is_scale_squared_over_h():
    p = init_params(Config(hidden=400, init="gaussian", scale=2.0))
    assert p["weight_hh_l0"].var() == pytest.approx(4.0 / 400, rel=0.02)


def test_textbook_is_the_books_randn():
    p = init_params(Config(hidden=3, init="textbook", seed=3, scale=0.5))
    np.random.seed(3)
    Wh = np.random.randn(3, 3) * 0.5
    np.testing.assert_array_equal(p["weight_hh_l0"], Wh.T)


def test_forget_bias_lands_in_the_forget_block():
    p = init_params(Config(arch="lstm", hidden=4, forget_bias=2.0))
    b = p["bias_ih_l0"] + p["bias_hh_l0"]
    np.testing.assert_array_equal(b[4:8], 2.0)
    np.testing.assert_array_equal(np.delete(b, range(4, 8)), 0.0)


def test_same_seed_same_numbers_other_seed_other_numbers():
    a = init_params(Config(seed=7, hidden=8))
    b = init_params(Config(seed=7, hidden=8))
    c = init_params(Config(seed=8, hidden=8))
    np.testing.assert_array_equal(a["weight_hh_l0"], b["weight_hh_l0"])
    assert not np.allclose(a["weight_hh_l0"], c["weight_hh_l0"])
