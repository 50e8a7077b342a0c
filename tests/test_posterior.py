"""Posterior maths against direct formulas, without MCMC."""

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

from bayes_gmm import _posterior
from bayes_gmm._posterior import (
    Draws,
    category_probabilities,
    covariances_from_sigma,
    expand_sigma,
    log_joint,
    log_predictive_density,
    pool_over_tied,
    responsibilities,
    sigma_shape,
)
from tests.conftest import COVARIANCE_TYPES

K, D = 3, 2


def _draws(rng, n_draws=7, covariance_type="diag"):
    weights = rng.dirichlet(np.ones(K), size=n_draws)
    means = rng.normal(size=(n_draws, K, D)) * 3
    sigma = rng.uniform(0.5, 2.0, size=(n_draws, *sigma_shape(covariance_type, K, D)))
    return Draws(weights, means, expand_sigma(sigma, covariance_type, K, D))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_expand_and_pool_agree_on_what_is_tied(covariance_type):
    shape = sigma_shape(covariance_type, K, D)
    sigma = np.arange(1, 1 + int(np.prod(shape)), dtype=float).reshape(shape)
    expanded = expand_sigma(sigma, covariance_type, K, D)
    assert expanded.shape == (K, D)
    # Pooling ones counts how many (component, feature) cells share each sigma; pooling
    # the expanded array gives sigma times that count.
    counts = pool_over_tied(np.ones((K, D)), covariance_type)
    assert counts.shape == shape
    assert counts.sum() == K * D
    np.testing.assert_array_equal(pool_over_tied(expanded, covariance_type), sigma * counts)


def test_expand_sigma_keeps_leading_draw_axes():
    sigma = np.ones((4, 5, D))
    assert expand_sigma(sigma, "tied_diag", K, D).shape == (4, 5, K, D)
    assert expand_sigma(np.ones(4), "tied_spherical", K, D).shape == (4, K, D)


@pytest.mark.parametrize(
    ("covariance_type", "shape"),
    [("spherical", (K,)), ("diag", (K, D)), ("tied_diag", (D, D)), ("tied_spherical", (D, D))],
)
def test_covariances_follow_scikit_learn_layout(covariance_type, shape):
    variances = np.full(sigma_shape(covariance_type, K, D), 4.0)
    covariances = covariances_from_sigma(variances, covariance_type, K, D)
    assert covariances.shape == shape
    if len(shape) == 2 and shape[0] == shape[1] == D:
        np.testing.assert_array_equal(covariances, 4.0 * np.eye(D))


def test_log_joint_matches_scipy():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(11, D))
    draws = _draws(rng)
    # (S, k, n): log w_c + sum_j log Normal(x_ij | mu_cj, sigma_cj).
    expected = np.log(draws.weights)[:, :, None] + stats.norm.logpdf(
        X[None, None], draws.means[:, :, None], draws.sigma_kd[:, :, None]
    ).sum(-1)
    np.testing.assert_allclose(log_joint(X, *draws), expected, rtol=1e-12)
    # A Fortran-ordered X, as the Gibbs sweep passes, gives the same.
    np.testing.assert_allclose(log_joint(np.asfortranarray(X), *draws), expected, rtol=1e-12)


def test_responsibilities_survive_underflow():
    # Points 1e4 sds from every component: exp(log joint) is 0 for all, the ratio is not.
    log_values = np.array([[-1e8], [-1e8 - 1.0], [-1e8 - 2.0]])  # (k, n) = (3, 1)
    result = responsibilities(log_values)[:, 0]
    np.testing.assert_allclose(result, np.exp([0, -1, -2]) / np.exp([0, -1, -2]).sum())


def test_category_probabilities_is_the_mean_of_responsibilities(monkeypatch):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(13, D)) * 3
    draws = _draws(rng, n_draws=9)
    direct = responsibilities(log_joint(X, *draws)).mean(axis=0).T
    np.testing.assert_allclose(category_probabilities(X, draws), direct, rtol=1e-12)
    np.testing.assert_allclose(category_probabilities(X, draws).sum(axis=1), 1.0)
    # Blocks of draws (as for large n) give the same answer.
    monkeypatch.setattr(_posterior, "_BLOCK_ELEMENTS", 2 * X.size)
    np.testing.assert_allclose(category_probabilities(X, draws), direct, rtol=1e-12)


def test_log_predictive_density_is_log_mean_of_mixture_density(monkeypatch):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(13, D)) * 3
    draws = _draws(rng, n_draws=9, covariance_type="tied_spherical")
    mixture_density = np.exp(log_joint(X, *draws)).sum(axis=1)  # (S, n)
    direct = np.log(mixture_density.mean(axis=0))
    np.testing.assert_allclose(log_predictive_density(X, draws), direct, rtol=1e-12)
    monkeypatch.setattr(_posterior, "_BLOCK_ELEMENTS", 2 * X.size)
    np.testing.assert_allclose(log_predictive_density(X, draws), direct, rtol=1e-12)


def test_log_predictive_density_is_finite_far_from_every_component():
    rng = np.random.default_rng(3)
    draws = _draws(rng)
    far = np.full((2, D), 1e5)
    result = log_predictive_density(far, draws)
    assert np.all(np.isfinite(result))
    per_draw = logsumexp(log_joint(far, *draws), axis=1)
    np.testing.assert_allclose(result, logsumexp(per_draw, axis=0) - np.log(7))
