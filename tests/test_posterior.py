"""Posterior maths against direct formulas, without MCMC."""

import numpy as np
import pytest
from scipy import stats

from bayes_gmm._posterior import (
    Draws,
    evenly_spaced,
    log_joint,
    precision_cholesky_from_covariance,
    sample_predictive,
)

K, D = 3, 2


def _random_covariances(rng, n_draws):
    """(S, k, d, d) random positive-definite matrices, correlated."""
    factor = rng.normal(size=(n_draws, K, D, D))
    return factor @ np.swapaxes(factor, -1, -2) + 0.3 * np.eye(D)


def _draws(rng, n_draws=7, full=False):
    weights = rng.dirichlet(np.ones(K), size=n_draws)
    means = rng.normal(size=(n_draws, K, D)) * 3
    if full:
        factor = precision_cholesky_from_covariance(_random_covariances(rng, n_draws))
    else:
        factor = 1 / rng.uniform(0.5, 2.0, size=(n_draws, K, D))
    return Draws(weights, means, factor)


def _covariances_of(draws):
    """(S, k, d, d) covariance matrices of Draws, from the precision factors."""
    factor = draws.precision_cholesky
    if factor.ndim == 3:
        return (1 / factor**2)[..., None] * np.eye(D)
    return np.linalg.inv(factor @ np.swapaxes(factor, -1, -2))


def test_precision_cholesky_is_upper_triangular_and_inverts_the_covariance():
    rng = np.random.default_rng(4)
    covariance = _random_covariances(rng, 5)
    factor = precision_cholesky_from_covariance(covariance)
    np.testing.assert_array_equal(np.tril(factor, -1), 0.0)
    np.testing.assert_allclose(
        factor @ np.swapaxes(factor, -1, -2) @ covariance,
        np.broadcast_to(np.eye(D), covariance.shape),
        atol=1e-12,
    )


@pytest.mark.parametrize("full", [False, True], ids=["diagonal", "full"])
def test_log_joint_matches_scipy(full):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(11, D))
    draws = _draws(rng, full=full)
    covariances = _covariances_of(draws)
    # (S, k, n): log w_c + log Normal(x_i | mu_c, Sigma_c).
    expected = np.log(draws.weights)[:, :, None] + np.array(
        [
            [stats.multivariate_normal(m, c).logpdf(X) for m, c in zip(ms, cs, strict=True)]
            for ms, cs in zip(draws.means, covariances, strict=True)
        ]
    )
    np.testing.assert_allclose(log_joint(X, *draws), expected, rtol=1e-12)
    # A Fortran-ordered X, as the Gibbs sweep passes, gives the same.
    np.testing.assert_allclose(log_joint(np.asfortranarray(X), *draws), expected, rtol=1e-12)


@pytest.mark.parametrize("full", [False, True], ids=["diagonal", "full"])
def test_posterior_predictive_samples_have_the_component_moments(full):
    """Samples of one draw and component: mean within 5 standard errors, covariance too."""
    rng = np.random.default_rng(5)
    draws = _draws(rng, n_draws=1, full=full)
    draws = draws._replace(weights=np.array([[1.0, 0.0, 0.0]]))
    n = 40_000
    X, y = sample_predictive(rng, draws, n)
    assert np.all(y == 0)
    covariance = _covariances_of(draws)[0, 0]
    se_mean = np.sqrt(np.diag(covariance) / n)
    assert np.all(np.abs(X.mean(axis=0) - draws.means[0, 0]) < 5 * se_mean)
    # Var of a sample covariance entry: (S_ii S_jj + S_ij^2) / n for Normal data.
    se_cov = np.sqrt((np.outer(np.diag(covariance), np.diag(covariance)) + covariance**2) / n)
    assert np.all(np.abs(np.cov(X.T) - covariance) < 5 * se_cov)


def test_evenly_spaced_keeps_spread_draws_and_all_when_asked():
    np.testing.assert_array_equal(evenly_spaced(10, 4), [0, 3, 6, 9])
    every = np.arange(10)
    for n_draws in (None, 10, 50):
        np.testing.assert_array_equal(every[evenly_spaced(10, n_draws)], every)
