"""Student-t components: the density and the exact conditionals of their latent variables.

The t density (from each covariance type's Gaussian pieces) against SciPy's
``multivariate_t``; the latent scale's conditional against the normalised product of its
Gamma prior and the Gaussian given the scale, integrated numerically; the degrees of
freedom's slice update against its invariant law, the prior, when the scales are drawn
from it.
"""

import itertools

import numpy as np
import pytest
from scipy import integrate, stats

from bayes_gmm._posterior import Draws, log_joint, precision_cholesky_from_covariance
from bayes_gmm._sampling.student_t import sample_degrees_of_freedom, sample_latent_scales
from bayes_gmm._student_t import DF_PRIOR, t_log_density
from tests.conftest import P_MIN


@pytest.mark.parametrize("full", [False, True])
def test_t_density_is_scipys_multivariate_t(full):
    rng = np.random.default_rng(0)
    k, d = 3, 3
    means = rng.normal(0, 2, (1, k, d))
    if full:
        root = rng.normal(size=(k, d, d))
        covariance = root @ np.swapaxes(root, -1, -2) + d * np.eye(d)
        factor = precision_cholesky_from_covariance(covariance)[None]
    else:
        sd = rng.uniform(0.5, 2.0, (k, d))
        covariance, factor = sd[..., None] ** 2 * np.eye(d), 1.0 / sd[None]
    df = np.array([0.7, 4.0, 60.0])
    X = rng.normal(0, 3, (20, d))
    log_normal = log_joint(X, *Draws(np.ones((1, k)), means, factor))[0]
    half_log_det = 0.5 * np.linalg.slogdet(covariance)[1][:, None]
    ours, delta = t_log_density(log_normal, half_log_det, df[:, None], d)
    for c in range(k):
        law = stats.multivariate_t(means[0, c], covariance[c], df=df[c])
        np.testing.assert_allclose(ours[c], law.logpdf(X), rtol=1e-10)
        resid = X - means[0, c]
        expected = np.einsum("ij,jk,ik->i", resid, np.linalg.inv(covariance[c]), resid)
        np.testing.assert_allclose(delta[c], expected, rtol=1e-9)


def test_latent_scale_conditional_is_prior_times_gaussian():
    """p(u | x) proportional to Gamma(u | nu/2, nu/2) Normal(x | mu, Sigma / u): the
    draws against the numerically normalised product, by a KS test."""
    nu, d, delta = 3.5, 2, 2.7
    rng = np.random.default_rng(1)
    draws = sample_latent_scales(rng, np.full(5000, delta), nu, d)

    def unnormalised(u):
        # Normal(x | mu, Sigma / u) as a function of u: u^(d/2) exp(-u delta / 2).
        return stats.gamma.pdf(u, nu / 2, scale=2 / nu) * u ** (d / 2) * np.exp(-u * delta / 2)

    total = integrate.quad(unnormalised, 0, np.inf)[0]
    # The CDF on a fine grid, piece by piece, interpolated between (error far below KS's).
    grid = np.linspace(0, draws.max() * 1.01, 2001)
    pieces = [integrate.quad(unnormalised, a, b)[0] for a, b in itertools.pairwise(grid)]
    cdf_grid = np.concatenate([[0.0], np.cumsum(pieces)]) / total

    def cdf(values):
        return np.interp(values, grid, cdf_grid)

    assert stats.kstest(draws, cdf).pvalue > P_MIN


def test_degrees_of_freedom_update_leaves_its_law_invariant():
    """With nu from its prior and points from the t with nu degrees of freedom, one slice
    update of nu given the points' squared distances (the scales integrated out) leaves
    nu's marginal at the prior."""
    rng = np.random.default_rng(2)
    shape, rate = DF_PRIOR
    n_points, d, n_chains = 12, 2, 1000
    prior = rng.gamma(shape, 1 / rate, n_chains)
    updated = np.empty(n_chains)
    for i, nu in enumerate(prior):
        # Standard t points: Normal ones over the root of a Gamma(nu / 2, nu / 2) scale.
        x = rng.standard_normal((n_points, d)) / np.sqrt(rng.gamma(nu / 2, 2 / nu, (n_points, 1)))
        delta = (x**2).sum(axis=1)
        updated[i] = sample_degrees_of_freedom(rng, np.array([nu]), [delta], d)[0]
    assert not np.allclose(updated, prior)
    assert stats.kstest(updated, stats.gamma(shape, scale=1 / rate).cdf).pvalue > P_MIN
