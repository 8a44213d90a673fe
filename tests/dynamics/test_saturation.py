import numpy as np
import pytest

from gradscope.dynamics import fit, saturation


def test_suffix_products_by_hand():
    deriv = np.array([[0.5, 1.0], [0.5, 0.1], [1.0, 0.01]])  # T = 3, 2 units
    got = saturation.activation_deriv_product(deriv)
    # t=0: unit0 .25, unit1 1e-3 ; t=1: .5, 1e-3 ; t=2: 1, .01 ; t=3: empty product 1
    np.testing.assert_allclose(got, np.log10([0.25, 0.5, 1.0, 1.0]))
    np.testing.assert_allclose(saturation.saturation_fraction(deriv), [0.0, 0.0, 0.5])
    bound = saturation.seed_bound(deriv, sigma_max=2.0)
    np.testing.assert_allclose(bound, np.log10([1.0 * 1.0 * 2.0 ** 3 * 0.5, 1.0 * 2 ** 2 * 0.5,
                                                2.0, 1.0]))


def test_cell_path_norm_is_largest_forget_product():
    f = np.array([[0.9, 0.5], [0.9, 0.99]])
    np.testing.assert_allclose(saturation.cell_path_norm(f), np.log10([0.81, 0.99, 1.0]))


def test_fit_gain_regime_horizon():
    T = 50
    prof = -0.1 * (T - np.arange(T + 1))
    assert fit.gain_per_step(prof) == pytest.approx(-0.1)
    assert fit.regime(-0.1, T) == "vanishing"
    assert fit.regime(0.1, T) == "exploding"
    assert fit.regime(0.01, T) == "stable"
    assert fit.memory_horizon(prof) == 31  # first d with -0.1 d < -3
    assert fit.memory_horizon(np.zeros(T + 1)) is None
    nonfinite = np.zeros((2, T + 1), bool)
    nonfinite[1, 7:] = True
    assert fit.first_nonfinite_step(nonfinite) == 7
    assert fit.first_nonfinite_step(nonfinite[:, :7]) is None
