"""Fixtures, and the helpers and constants test modules share (``from tests.conftest import``).

Statistical tests use fixed seeds, so each is deterministic; P_MIN is the chance that a
correct sampler fails one for a given choice of seed. Tolerances of estimates are z-scores
of Monte Carlo standard errors, Bonferroni-corrected over the comparisons a test makes.
"""

import arviz as az
import numpy as np
import pytest
from scipy import stats

from bayes_gmm import BayesianMCMCMixture

# The one place tests import the covariance types from, so that they follow the package.
from bayes_gmm._covariance import COVARIANCE_TYPES
from bayes_gmm._demo import NOTEBOOK_PRIORS
from bayes_gmm._sampling import SAMPLERS
from bayes_gmm.datasets import make_notebook_data

__all__ = [
    "COVARIANCE_TYPES",
    "FAST",
    "P_MIN",
    "SAMPLERS",
    "assert_fitted_sanely",
    "assert_posterior_means_agree",
    "bonferroni_z",
    "random_draws",
]

P_MIN = 1e-3

# Short chains, for tests of what a fit returns rather than of how well it mixes.
FAST = {"draws": 200, "tune": 200, "random_state": 0}


def bonferroni_z(n_comparisons, alpha=P_MIN):
    """Two-sided z threshold at which any of ``n_comparisons`` tests fails with chance alpha."""
    return stats.norm.isf(alpha / (2 * n_comparisons))


def elongated_clusters(n_per_cluster=200, seed=0):
    """Three clusters 6 apart on x in 3-D, each correlated 0.9 in a plane of its own, and
    their labels. x's robust spread (7.8) comes from the gaps between them, so
    standardising shrinks it, and k-means on the standardised data cuts across them."""
    rng = np.random.default_rng(seed)
    parts = []
    for c, (i, j, rho) in enumerate([(0, 1, 0.9), (1, 2, -0.9), (0, 2, 0.9)]):
        cov = np.eye(3)
        cov[i, j] = cov[j, i] = rho
        parts.append(rng.multivariate_normal([6.0 * (c - 1), 0, 0], cov, n_per_cluster))
    return np.concatenate(parts), np.repeat(np.arange(3), n_per_cluster)


def random_draws(rng, n_draws, k, d, full):
    """Draws with random weights, means and covariance matrices (full, or diagonal with
    sds as the factors), and the matrices (n_draws, k, d, d)."""
    from bayes_gmm._posterior import Draws, precision_cholesky_from_covariance

    weights = rng.dirichlet(np.ones(k), size=n_draws)
    means = rng.normal(0, 2, (n_draws, k, d))
    if full:
        root = rng.normal(size=(n_draws, k, d, d))
        covariance = root @ np.swapaxes(root, -1, -2) + d * np.eye(d)
        factor = precision_cholesky_from_covariance(covariance)
    else:
        sd = rng.uniform(0.5, 2.0, (n_draws, k, d))
        covariance, factor = sd[..., None] ** 2 * np.eye(d), 1.0 / sd
    return Draws(weights, means, factor), covariance


def assert_fitted_sanely(est, X):
    """Finite draws and fitted attributes, finite scores, probabilities that sum to 1."""
    for name in est._spec.parameter_names:
        assert np.all(np.isfinite(est.sample_trace_.posterior[name].to_numpy())), name
    for name in ("weights_", "means_", "covariances_"):
        assert np.all(np.isfinite(getattr(est, name))), name
    X = np.asarray(X, dtype=float)
    proba = est.predict_proba(X)
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.all(np.isfinite(est.score_samples(X)))


def assert_posterior_means_agree(fit, other, scale=1.0):
    """Posterior means of weights, means and covariances agree within Monte Carlo error.

    ``other`` is a fit of the same data in units ``scale`` times those of ``fit``. The
    standard error of a difference is that of independent chains, sqrt(mcse_1^2 + mcse_2^2):
    conservative for chains that share their seed.
    """
    names = list(fit._spec.parameter_names)
    posteriors = [f.sample_trace_.posterior for f in (fit, other)]
    mcses = [az.mcse(f.sample_trace_, var_names=names) for f in (fit, other)]
    z = bonferroni_z(sum(posteriors[0][name].isel(chain=0, draw=0).size for name in names))
    for name in names:
        # Weights have no unit; sds scale with the data, covariance matrices with its square.
        unit = {"weights": 1.0, "covariance": scale**2}.get(name, scale)
        mean, other_mean = (p[name].mean(("chain", "draw")).to_numpy() for p in posteriors)
        se = np.hypot(mcses[0][name].to_numpy(), mcses[1][name].to_numpy() / unit)
        assert np.all(np.abs(other_mean / unit - mean) <= z * se), (name, mean, other_mean, se)


@pytest.fixture(scope="session")
def seed_data():
    """The 2015 PyMC notebook's data: 500 points, clusters at -5, 0 and 5."""
    return make_notebook_data()


@pytest.fixture(scope="session")
def seed_fit(seed_data):
    """The notebook's model with its priors and default sampler settings, fitted once."""
    X, _ = seed_data
    return BayesianMCMCMixture(n_components=3, random_state=0, **NOTEBOOK_PRIORS).fit(X)


@pytest.fixture(scope="session")
def blobs_2d():
    """Three well separated 2-D clusters with different spreads per feature."""
    rng = np.random.default_rng(0)
    centers = np.array([[-6.0, 0.0], [0.0, 4.0], [6.0, -2.0]])
    labels = rng.integers(0, 3, 300)
    X = centers[labels] + rng.normal(size=(300, 2)) * [1.0, 0.5]
    return X, labels
