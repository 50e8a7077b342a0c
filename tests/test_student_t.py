"""Student-t components: the density and the exact conditionals of their latent variables.

The t density (from each covariance type's Gaussian pieces) against SciPy's
``multivariate_t``; the latent scale's conditional against the normalised product of its
Gamma prior and the Gaussian given the scale, integrated numerically; the degrees of
freedom's slice update against its invariant law, the prior, when the scales are drawn
from it.
"""

import itertools
import warnings

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm._posterior import (
    Draws,
    log_joint,
    precision_cholesky_from_covariance,
    sample_predictive,
)
from bayes_gmm._sampling.student_t import sample_degrees_of_freedom, sample_latent_scales
from bayes_gmm._scoring import category_probabilities, pointwise_log_likelihood
from bayes_gmm._student_t import DF_PRIOR, t_log_density
from tests.conftest import (
    COVARIANCE_TYPES,
    FAST,
    P_MIN,
    assert_fitted_sanely,
    assert_posterior_means_agree,
    random_draws,
)


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


def _t_draws(rng, n_draws, k, d, full):
    """Random draws of t components with their scale matrices."""
    draws, scale = random_draws(rng, n_draws, k, d, full)
    return draws._replace(degrees_of_freedom=rng.uniform(1.0, 30.0, (n_draws, k))), scale


@pytest.mark.parametrize("full", [False, True])
def test_predictions_use_the_t_densities(full):
    rng = np.random.default_rng(3)
    draws, scale = _t_draws(rng, 4, 3, 2, full)
    X = rng.normal(0, 4, (9, 2))
    expected = np.empty((4, 3, X.shape[0]))
    for s in range(4):
        for c in range(3):
            law = stats.multivariate_t(
                draws.means[s, c], scale[s, c], df=draws.degrees_of_freedom[s, c]
            )
            expected[s, c] = np.log(draws.weights[s, c]) + law.logpdf(X)
    np.testing.assert_allclose(log_joint(X, *draws), expected, rtol=1e-10)
    probabilities = np.exp(expected - logsumexp(expected, axis=1, keepdims=True)).mean(axis=0)
    np.testing.assert_allclose(category_probabilities(X, draws), probabilities.T, rtol=1e-9)
    np.testing.assert_allclose(
        pointwise_log_likelihood(X, draws), logsumexp(expected, axis=1), rtol=1e-10
    )


def test_predictive_samples_are_t_distributed():
    draws = Draws(
        np.ones((1, 1)),
        np.zeros((1, 1, 1)),
        np.full((1, 1, 1), 0.5),
        degrees_of_freedom=np.full((1, 1), 3.0),
    )
    X, _ = sample_predictive(np.random.default_rng(4), draws, 20_000)
    assert stats.kstest(X[:, 0], stats.t(3.0, scale=2.0).cdf).pvalue > P_MIN


# -- fitted estimators ----------------------------------------------------------------

RNG = np.random.default_rng(20261209)
X_HEAVY = np.concatenate([RNG.standard_t(3, (60, 2)) - 4, RNG.standard_t(3, (50, 2)) + 4])


def _fit(X, **params):
    params = {"n_components": 2, "distribution": "student_t", **FAST, **params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return BayesianMCMCMixture(**params).fit(X)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_every_covariance_type_takes_t_components(covariance_type):
    est = _fit(X_HEAVY, covariance_type=covariance_type)
    assert_fitted_sanely(est, X_HEAVY)
    df = est.sample_trace_.posterior["degrees_of_freedom"]
    per_component = est._spec.covariance.per_component
    assert df.shape[2:] == ((2,) if per_component else ())
    assert np.shape(est.t_degrees_of_freedom_) == ((2,) if per_component else ())
    assert np.all(np.asarray(est.t_degrees_of_freedom_) < 20)  # heavy tails, not the prior's mean


@pytest.mark.parametrize(
    "params",
    [
        {"t_degrees_of_freedom": 4.0},
        {"sampler": "nuts", "draws": 100},
        {"noise_component": True},
        {"n_components": 5, "weight_concentration": "sparse", "draws": 300, "tune": 300},
    ],
)
def test_t_components_with_fixed_df_nuts_noise_and_the_sparse_mixture(params):
    est = _fit(X_HEAVY, **params)
    assert_fitted_sanely(est, X_HEAVY)
    if "t_degrees_of_freedom" in params:
        assert "degrees_of_freedom" not in est.sample_trace_.posterior
        assert est.t_degrees_of_freedom_ == 4.0
    if "weight_concentration" in params:
        assert est.n_clusters_ == 2


def test_save_and_load_keep_t_components(tmp_path):
    est = _fit(X_HEAVY)
    est.save(tmp_path / "fit.nc")
    loaded = BayesianMCMCMixture.load(tmp_path / "fit.nc")
    np.testing.assert_allclose(loaded.predict_proba(X_HEAVY), est.predict_proba(X_HEAVY))
    np.testing.assert_allclose(loaded.t_degrees_of_freedom_, est.t_degrees_of_freedom_)


@pytest.mark.parametrize(
    ("params", "weight", "match"),
    [
        ({"distribution": "normal", "t_degrees_of_freedom": 3.0}, None, "applies to distribution"),
        ({"n_temperatures": 3}, None, "n_temperatures=3 cannot be combined"),
        ({"split_merge": True}, None, "split_merge=True cannot be combined"),
        ({"sampler": "metropolis"}, None, "sampler='metropolis' cannot be combined"),
        ({}, np.arange(X_HEAVY.shape[0]) % 3 + 1, "sample_weight cannot be combined"),
    ],
)
def test_what_t_components_cannot_take_is_refused(params, weight, match):
    est = BayesianMCMCMixture(2, **{"distribution": "student_t", **params})
    with pytest.raises(ValueError, match=match):
        est.fit(X_HEAVY, sample_weight=weight)


def test_missing_entries_with_t_components_are_refused():
    X = X_HEAVY.copy()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="distribution='student_t' \\(not yet\\)"):
        BayesianMCMCMixture(2, distribution="student_t").fit(X)


# -- the chains (slow) ----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("covariance_type", ["diag", "full"])
def test_gibbs_and_nuts_agree_with_t_components(covariance_type):
    """Two independent samplers of one posterior: the Gibbs sweep's latent scales and
    degrees-of-freedom updates against NUTS on the t density, posterior means within
    Monte Carlo error."""
    params = {"covariance_type": covariance_type, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gibbs = BayesianMCMCMixture(2, distribution="student_t", draws=4000, **params)
        nuts = BayesianMCMCMixture(
            2, distribution="student_t", sampler="nuts", draws=1000, **params
        )
        gibbs.fit(X_HEAVY)
        nuts.fit(X_HEAVY)
    assert_posterior_means_agree(gibbs, nuts)
