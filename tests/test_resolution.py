"""The default sd floor follows the resolution the data were recorded at."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm._spec import data_scales, grid_step

SHEPPARD = 1 / np.sqrt(12)


def _fit(X, **params):
    params = {"n_components": 4, "covariance_type": "diag", "draws": 200, "tune": 200, **params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return BayesianMCMCMixture(random_state=0, **params).fit(X)


@pytest.mark.parametrize(
    ("values", "step"),
    [
        ([3, 1, 1, 4, 2, 9], 1.0),  # integers with a tie
        ([0.0, 1.0, 1.0, 0.0], 1.0),  # binary
        ([0.2, 0.2, 0.5, 1.3, 0.7], 0.1),  # rounded to 0.1, as iris
        # 2.5, 10 and 25 lie on a grid of 7.5 too: the coarsest grid that fits is taken.
        ([2.5, 2.5, 10.0, 25.0], 7.5),
        ([3, 1, 4, 2, 9], 0.0),  # integers, but no ties: nothing can collapse
        ([0.0, 0.0, 1.0, np.sqrt(2)], 0.0),  # tied, but on no grid
    ],
)
def test_grid_step_of_rounded_and_continuous_values(values, step):
    assert grid_step(np.asarray(values, dtype=float)) == pytest.approx(step, rel=1e-9)


def test_continuous_values_are_on_no_grid():
    rng = np.random.default_rng(0)
    assert grid_step(rng.normal(size=1000)) == 0.0
    assert grid_step(np.round(rng.normal(size=1000), 2)) == pytest.approx(0.01)


def test_integer_data_floor_every_sd_at_their_rounding_noise():
    rng = np.random.default_rng(1)
    # Three count clusters, one of them a single repeated value that a component can take.
    X = np.concatenate([rng.poisson(3, 60), rng.poisson(12, 60), np.full(30, 25)])[:, None]
    est = _fit(X.astype(float))
    np.testing.assert_allclose(est.sd_lower_, [SHEPPARD])
    assert est.sample_trace_.posterior["sigma"].min() >= SHEPPARD


def test_data_rounded_to_a_tenth_floor_at_a_tenth_over_root_12():
    rng = np.random.default_rng(2)
    X = np.round(rng.normal(size=(120, 2)) * [1.0, 0.5] + [0.0, 5.0], 1)
    est = _fit(X, n_components=2)
    np.testing.assert_allclose(est.sd_lower_, [0.1 * SHEPPARD] * 2, rtol=1e-9)
    assert est.sample_trace_.posterior["sigma"].min() >= 0.1 * SHEPPARD * (1 - 1e-9)


def test_spherical_floor_is_the_smallest_features_and_none_with_a_continuous_feature():
    rng = np.random.default_rng(3)
    X = np.column_stack([np.round(rng.normal(size=100), 1), np.round(rng.normal(size=100))])
    assert _fit(X, covariance_type="spherical").sd_lower_ == pytest.approx(0.1 * SHEPPARD)
    X[:, 1] = rng.normal(size=100)
    spherical = _fit(X, covariance_type="spherical")
    assert spherical.sd_lower_ == pytest.approx(1e-10 * data_scales(X).spread.max())


def test_continuous_data_keep_the_tiny_floor_and_explicit_floors_are_honoured():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(100, 2))
    np.testing.assert_allclose(_fit(X).sd_lower_, 1e-10 * data_scales(X).spread)
    np.testing.assert_array_equal(_fit(np.round(X, 1), sd_lower=1e-6).sd_lower_, [1e-6, 1e-6])


def test_data_nearly_all_one_value_keep_the_floor_below_the_upper_bound():
    X = np.zeros((2001, 1))
    X[0] = 1.0  # a grid of step 1, but a robust spread of about 0.02
    est = _fit(X, n_components=2)
    spread = data_scales(X).spread
    np.testing.assert_allclose(est.sd_lower_, spread)
    assert np.all(est.sd_lower_ < est.sd_upper_)
