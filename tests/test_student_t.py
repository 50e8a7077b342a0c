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
from bayes_gmm._missing import imputed_draws
from bayes_gmm._posterior import (
    Draws,
    complete_log_likelihood,
    log_joint,
    precision_cholesky_from_covariance,
    sample_predictive,
)
from bayes_gmm._sampling.student_t import (
    TPoints,
    df_log_density,
    sample_degrees_of_freedom,
    sample_latent_scales,
)
from bayes_gmm._sampling.sweep import GibbsSweep, SweepState
from bayes_gmm._scoring import category_probabilities, pointwise_log_likelihood
from bayes_gmm._spec import data_scales, resolve_spec
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
    draws = sample_latent_scales(rng, TPoints(np.full(5000, delta), d), nu)

    def unnormalised(u):
        # Normal(x | mu, Sigma / u) as a function of u: u^(d/2) exp(-u delta / 2).
        return stats.gamma.pdf(u, nu / 2, scale=2 / nu) * u ** (d / 2) * np.exp(-u * delta / 2)

    assert stats.kstest(draws, _numerical_cdf(unnormalised, draws.max())).pvalue > P_MIN


def _numerical_cdf(unnormalised, largest):
    """The CDF of a density on (0, inf) known up to its constant, on a fine grid to
    ``largest``, piece by piece, interpolated between (error far below KS's)."""
    total = integrate.quad(unnormalised, 0, np.inf)[0]
    grid = np.linspace(0, largest * 1.01, 2001)
    pieces = [integrate.quad(unnormalised, a, b)[0] for a, b in itertools.pairwise(grid)]
    cdf_grid = np.concatenate([[0.0], np.cumsum(pieces)]) / total
    return lambda values: np.interp(values, grid, cdf_grid)


def test_summed_scales_of_a_weighted_row_are_the_sum_of_its_points_scales():
    """A row of weight m with m_c points in a component: one draw of their scales' sum
    against the sum of m_c single draws (two-sample KS)."""
    nu, d, delta, m = 2.5, 3, 4.0, 3
    rng = np.random.default_rng(5)
    summed = sample_latent_scales(rng, TPoints(np.full(4000, delta), d, np.full(4000, m)), nu)
    singles = sample_latent_scales(rng, TPoints(np.full(4000 * m, delta), d), nu)
    assert stats.ks_2samp(summed, singles.reshape(4000, m).sum(axis=1)).pvalue > P_MIN


@pytest.mark.parametrize("missing", [False, True])
def test_degrees_of_freedom_update_leaves_its_law_invariant(missing):
    """With nu from its prior and points from the t with nu degrees of freedom, one slice
    update of nu given the points' squared distances (the scales integrated out) leaves
    nu's marginal at the prior. With ``missing`` each point keeps a random number of its
    entries: its marginal there is a t with the same nu, in fewer dimensions."""
    rng = np.random.default_rng(2)
    shape, rate = DF_PRIOR
    n_points, d, n_chains = 12, 3, 1000
    prior = rng.gamma(shape, 1 / rate, n_chains)
    updated = np.empty(n_chains)
    for i, nu in enumerate(prior):
        # Standard t points: Normal ones over the root of a Gamma(nu / 2, nu / 2) scale.
        x = rng.standard_normal((n_points, d)) / np.sqrt(rng.gamma(nu / 2, 2 / nu, (n_points, 1)))
        dims = rng.integers(1, d + 1, n_points) if missing else np.full(n_points, d)
        observed = np.arange(d) < dims[:, None]
        points = TPoints(((x * observed) ** 2).sum(axis=1), dims if missing else d)
        updated[i] = sample_degrees_of_freedom(rng, np.array([nu]), [points])[0]
    assert not np.allclose(updated, prior)
    assert stats.kstest(updated, stats.gamma(shape, scale=1 / rate).cdf).pvalue > P_MIN


def test_degrees_of_freedom_density_counts_a_weighted_row_as_its_repetitions():
    """A row of count m as m rows; and complete rows' shortcut as the general sum."""
    rng = np.random.default_rng(6)
    delta, dims, count = rng.gamma(2.0, 1.0, 7), rng.integers(1, 4, 7), rng.integers(1, 5, 7)
    for log_df in (-1.0, 0.5, 3.0):
        np.testing.assert_allclose(
            df_log_density(log_df, TPoints(delta, dims, count)),
            df_log_density(log_df, TPoints(np.repeat(delta, count), np.repeat(dims, count))),
            rtol=1e-12,
        )
        np.testing.assert_allclose(
            df_log_density(log_df, TPoints(delta, 3)),
            df_log_density(log_df, TPoints(delta, np.full(7, 3))),
            rtol=1e-12,
        )


COVARIANCE_3D = np.array([[1.0, 0.6, 0.2], [0.6, 2.0, -0.4], [0.2, -0.4, 1.5]])


def _t_sweep(X, covariance_type, nu, means):
    """The sweep of t components with nu fixed on ``X``, and a state (standardised units)
    with ``means`` (k, 3) and COVARIANCE_3D (its diagonal for "diag") for every component;
    returns the sweep, the state and the covariance."""
    k = means.shape[0]
    params = BayesianMCMCMixture(
        k, covariance_type=covariance_type, distribution="student_t", t_degrees_of_freedom=nu
    ).get_params()
    scales = data_scales(X)
    sweep = GibbsSweep(X, resolve_spec(params, scales, 0), scales.median, scales.spread)
    covariance = COVARIANCE_3D
    if covariance_type == "diag":
        covariance = np.diag(np.diag(covariance))
        param = np.repeat(np.sqrt(np.diag(covariance))[None], k, axis=0)
    else:
        param = np.repeat(covariance[None], k, axis=0)
    state = SweepState(np.full(k, 1 / k), means, param, 1.0, None, None, None, np.full(k, nu))
    return sweep, state, covariance


def _tempered_t_log_density(z, mean, covariance, nu, beta):
    """log of the integral over u of Normal(z | mean, covariance / u)^beta Gamma(u | nu / 2,
    rate nu / 2), by quadrature."""

    def integrand(u):
        log_normal = stats.multivariate_normal(mean, covariance / u).logpdf(z)
        return np.exp(beta * log_normal) * stats.gamma.pdf(u, nu / 2, scale=2 / nu)

    return np.log(integrate.quad(integrand, 0, np.inf)[0])


@pytest.mark.parametrize("covariance_type", ["diag", "full"])
def test_tempered_t_categories_integrate_the_scale_out(covariance_type):
    """At inverse temperature beta a row's categories weigh w_c times the integral over u
    of Normal(x | theta_c / u)^beta Gamma(u | nu / 2, nu / 2): against quadrature."""
    beta, nu = 0.4, 2.5
    X = np.array([[0.4, 0.3, -1.0], [1.5, 0.2, 0.3], [-0.7, 1.1, 0.9], [3.1, -2.5, 2.0]])
    means = np.array([[-0.5, 0.0, 0.2], [0.8, -0.3, 0.4]])
    sweep, state, covariance = _t_sweep(X, covariance_type, nu, means)
    factor = sweep._covariance.precision_cholesky(state.covariance[None])
    _, tempered, _ = sweep.category_log_weights(state, factor, beta)
    for i, z in enumerate(sweep._Z):
        for c in range(2):
            expected = _tempered_t_log_density(z, means[c], covariance, nu, beta)
            assert tempered[c, i] == pytest.approx(expected, rel=1e-7)


def test_tempered_latent_scale_conditional_is_prior_times_tempered_gaussian():
    """The sweep's scale draw at inverse temperature beta: Gamma(u | nu/2, nu/2)
    Normal(x | mu, Sigma / u)^beta, normalised numerically (KS)."""
    beta, nu, d, delta = 0.3, 2.5, 3, 4.0
    X = np.random.default_rng(12).normal(size=(5000, 3))  # the distances are given
    sweep, _, _ = _t_sweep(X, "diag", nu, np.zeros((1, 3)))
    category, distance = np.zeros(5000, dtype=int), np.full((1, 5000), delta)
    scales, _ = sweep._latent_scales(
        np.random.default_rng(11), category, distance, np.array([nu]), beta
    )

    def unnormalised(u):
        return (
            stats.gamma.pdf(u, nu / 2, scale=2 / nu)
            * (u ** (d / 2) * np.exp(-u * delta / 2)) ** beta
        )

    assert stats.kstest(scales[:, 0], _numerical_cdf(unnormalised, scales.max())).pvalue > P_MIN


@pytest.mark.parametrize("covariance_type", ["diag", "full"])
def test_the_sweep_draws_missing_entries_from_the_t_conditional(covariance_type):
    """One component, the parameters held fixed: after the sweep's scale and imputation
    steps a missing entry is t-distributed given the row's observed ones, with nu + d_o
    degrees of freedom, the Gaussian conditional's centre and its covariance times (nu +
    delta_o) / (nu + d_o)."""
    X = np.array([[0.4, np.nan, -1.0], [1.5, 0.2, 0.3], [-0.7, 1.1, 0.9], [0.1, -0.5, 2.0]])
    nu, mean = 3.0, np.array([[0.3, -0.2, 0.5]])
    sweep, state, covariance = _t_sweep(X, covariance_type, nu, mean)
    rng = np.random.default_rng(7)
    z_o = sweep._Z_observed[0, [0, 2]]
    draws = np.empty(8000)
    for i in range(draws.size):
        sweep(rng, state)
        draws[i] = sweep._Z[0, 1]
    gain = covariance[1, [0, 2]] @ np.linalg.inv(covariance[np.ix_([0, 2], [0, 2])])
    centre = mean[0, 1] + gain @ (z_o - mean[0, [0, 2]])
    variance = covariance[1, 1] - gain @ covariance[[0, 2], 1]
    resid = z_o - mean[0, [0, 2]]
    delta = resid @ np.linalg.solve(covariance[np.ix_([0, 2], [0, 2])], resid)
    law = stats.t(nu + 2, centre, np.sqrt(variance * (nu + delta) / (nu + 2)))
    assert stats.kstest(draws, law.cdf).pvalue > P_MIN


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


@pytest.mark.parametrize("full", [False, True])
def test_predictions_of_rows_with_missing_entries_use_the_t_marginals(full):
    """A t's marginal on the observed entries is a t with the same degrees of freedom:
    against SciPy's on each row's observed features."""
    rng = np.random.default_rng(8)
    draws, scale = _t_draws(rng, 3, 2, 3, full)
    X = rng.normal(0, 3, (6, 3))
    X[0, 1] = X[1, [0, 2]] = X[2, 2] = np.nan
    expected = np.empty((3, 2, X.shape[0]))
    for i, row in enumerate(X):
        observed = ~np.isnan(row)
        for s in range(3):
            for c in range(2):
                law = stats.multivariate_t(
                    draws.means[s, c, observed],
                    scale[s, c][np.ix_(observed, observed)],
                    df=draws.degrees_of_freedom[s, c],
                )
                expected[s, c, i] = np.log(draws.weights[s, c]) + law.logpdf(row[observed])
    probabilities = np.exp(expected - logsumexp(expected, axis=1, keepdims=True)).mean(axis=0)
    np.testing.assert_allclose(category_probabilities(X, draws), probabilities.T, rtol=1e-9)
    np.testing.assert_allclose(
        pointwise_log_likelihood(X, draws), logsumexp(expected, axis=1), rtol=1e-10
    )


def test_imputed_draws_follow_the_t_conditional():
    """One t component: a missing entry's multiple imputations against the conditional
    t, nu + d_o degrees of freedom and the Gaussian conditional's scale times (nu +
    delta_o) / (nu + d_o)."""
    nu, mean = 2.5, np.array([1.0, -1.0])
    covariance = np.array([[2.0, 0.8], [0.8, 1.0]])
    draws = Draws(
        np.ones((1, 1)),
        mean[None, None],
        precision_cholesky_from_covariance(covariance)[None, None],
        degrees_of_freedom=np.full((1, 1), nu),
    )
    draws = draws.take(np.zeros(5000, dtype=int))
    X = np.array([[3.0, np.nan], [np.nan, np.nan]])
    completed = imputed_draws(np.random.default_rng(9), X, draws)
    gain = covariance[1, 0] / covariance[0, 0]
    delta = (X[0, 0] - mean[0]) ** 2 / covariance[0, 0]
    variance = (covariance[1, 1] - gain * covariance[0, 1]) * (nu + delta) / (nu + 1)
    law = stats.t(nu + 1, mean[1] + gain * (X[0, 0] - mean[0]), np.sqrt(variance))
    assert stats.kstest(completed[:, 0, 1], law.cdf).pvalue > P_MIN
    # Nothing observed: the t itself.
    law = stats.t(nu, mean[0], np.sqrt(covariance[0, 0]))
    assert stats.kstest(completed[:, 1, 0], law.cdf).pvalue > P_MIN


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


def test_bic_and_aic_use_the_t_density_at_the_posterior_means():
    est = _fit(X_HEAVY, covariance_type="full")
    log_likelihood = logsumexp(
        [
            np.log(est.weights_[c])
            + stats.multivariate_t(
                est.means_[c], est.covariances_[c], df=est.t_degrees_of_freedom_[c]
            ).logpdf(X_HEAVY)
            for c in range(2)
        ],
        axis=0,
    ).sum()
    p = est._spec.n_free_parameters
    assert p == 2 * 2 + 2 * 3 + 1 + 2  # means, matrices, a weight, two degrees of freedom
    n = X_HEAVY.shape[0]
    assert est.bic(X_HEAVY) == pytest.approx(-2 * log_likelihood + p * np.log(n), rel=1e-10)
    assert est.aic(X_HEAVY) == pytest.approx(-2 * log_likelihood + 2 * p, rel=1e-10)


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
        ({"split_merge": True}, None, "split_merge=True cannot be combined"),
        ({"sampler": "metropolis"}, None, "sampler='metropolis' cannot be combined"),
        ({}, np.full(X_HEAVY.shape[0], 1.5), "sample_weight has fractional values"),
        ({"n_temperatures": 3}, np.full(X_HEAVY.shape[0], 2), "n_temperatures=3 with"),
    ],
)
def test_what_t_components_cannot_take_is_refused(params, weight, match):
    est = BayesianMCMCMixture(2, **{"distribution": "student_t", **params})
    with pytest.raises(ValueError, match=match):
        est.fit(X_HEAVY, sample_weight=weight)


def test_tempered_t_components_refuse_missing_entries():
    est = BayesianMCMCMixture(2, distribution="student_t", n_temperatures=3)
    with pytest.raises(ValueError, match="n_temperatures=3 and distribution='student_t'"):
        est.fit(X_HEAVY_MISSING)


@pytest.mark.parametrize("full", [False, True])
def test_tempered_complete_log_likelihood_takes_the_scales(full):
    """The swaps' log p(x | z, u, theta): each point's Normal with its covariance divided
    by its scale, against SciPy."""
    rng = np.random.default_rng(13)
    draws, scale = random_draws(rng, 1, 2, 3, full)
    X, category, u = rng.normal(size=(6, 3)), rng.integers(0, 2, 6), rng.gamma(2.0, 0.5, 6)
    expected = sum(
        stats.multivariate_normal(draws.means[0, c], scale[0, c] / u[i]).logpdf(X[i])
        for i, c in enumerate(category)
    )
    value = complete_log_likelihood(X, category, draws.means[0], draws.precision_cholesky[0], u)
    assert value == pytest.approx(expected, rel=1e-10)


def test_tempered_degrees_of_freedom_density_is_the_tempered_t_marginal():
    """nu's tempered conditional, the sweep's points with d and delta times beta, against
    the quadrature of the tempered Gaussian over the scale: differences between values of
    nu (its normalising constant aside) agree."""
    beta, mean = 0.4, np.zeros(3)
    z = np.array([[0.4, 0.3, -1.0], [1.5, 0.2, 0.3], [3.1, -2.5, 2.0]])
    delta = np.einsum("ij,jk,ik->i", z, np.linalg.inv(COVARIANCE_3D), z)
    points = TPoints(beta * delta, beta * 3)
    shape, rate = DF_PRIOR

    def expected(nu):
        log_prior = stats.gamma(shape, scale=1 / rate).logpdf(nu) + np.log(nu)
        return log_prior + sum(
            _tempered_t_log_density(row, mean, COVARIANCE_3D, nu, beta) for row in z
        )

    for nu_1, nu_2 in ((1.5, 6.0), (3.0, 40.0)):
        ours = df_log_density(np.log(nu_1), points) - df_log_density(np.log(nu_2), points)
        assert ours == pytest.approx(expected(nu_1) - expected(nu_2), rel=1e-7)


X_HEAVY_MISSING = X_HEAVY.copy()
X_HEAVY_MISSING[RNG.random(X_HEAVY.shape) < 0.15] = np.nan
X_HEAVY_MISSING[np.isnan(X_HEAVY_MISSING).all(axis=1), 0] = 0.0


@pytest.mark.parametrize("covariance_type", ["diag", "full", "tied"])
def test_t_components_with_missing_entries(covariance_type):
    est = _fit(X_HEAVY_MISSING, covariance_type=covariance_type)
    assert_fitted_sanely(est, X_HEAVY_MISSING)
    assert np.all(np.asarray(est.t_degrees_of_freedom_) < 20)
    imputed = est.impute(X_HEAVY_MISSING)
    observed = ~np.isnan(X_HEAVY_MISSING)
    assert np.isfinite(imputed).all()
    np.testing.assert_array_equal(imputed[observed], X_HEAVY_MISSING[observed])
    copies = est.impute(X_HEAVY_MISSING, n_imputations=3)
    assert copies.shape == (3, *X_HEAVY.shape) and np.isfinite(copies).all()


def test_whole_weights_are_repetitions_with_t_components():
    """A row of weight m and the row m times: one posterior, each repetition with a
    category and a latent scale of its own."""
    weight = RNG.integers(1, 4, X_HEAVY.shape[0])
    params = {"draws": 1000, "covariance_type": "tied_diag"}
    weighted = BayesianMCMCMixture(2, distribution="student_t", random_state=0, **params)
    repeated = BayesianMCMCMixture(2, distribution="student_t", random_state=1, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted.fit(X_HEAVY, sample_weight=weight)
        repeated.fit(np.repeat(X_HEAVY, weight, axis=0))
    assert_posterior_means_agree(weighted, repeated)


# -- the chains (slow) ----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("covariance_type", "data"),
    [("diag", "complete"), ("full", "complete"), ("diag", "missing"), ("full", "weighted")],
)
def test_gibbs_and_nuts_agree_with_t_components(covariance_type, data):
    """Two independent samplers of one posterior, posterior means within Monte Carlo
    error: the Gibbs sweep's latent scales and degrees-of-freedom updates (with missing
    entries its observed-entry t densities and imputation; with weights its summed scales
    of repeated points) against NUTS on the marginal t density (weighted rows'
    log-density times their weights)."""
    X, weight = X_HEAVY, None
    if data == "missing":
        X = X_HEAVY_MISSING
    if data == "weighted":
        weight = np.random.default_rng(10).integers(0, 4, X_HEAVY.shape[0])
    params = {"covariance_type": covariance_type, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gibbs = BayesianMCMCMixture(2, distribution="student_t", draws=4000, **params)
        nuts = BayesianMCMCMixture(
            2, distribution="student_t", sampler="nuts", draws=1000, **params
        )
        gibbs.fit(X, sample_weight=weight)
        nuts.fit(X, sample_weight=weight)
    assert_posterior_means_agree(gibbs, nuts)


@pytest.mark.slow
def test_tempered_chains_with_t_components_sample_the_posterior():
    """The beta = 1 replica of a tempered fit, whose hotter replicas draw the categories,
    nu and the scales from the tempered t conditionals and swap by log p(x | z, u,
    theta), samples the posterior of plain chains: posterior means within Monte Carlo
    error."""
    params = {"covariance_type": "full", "draws": 2000, "tune": 500, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = BayesianMCMCMixture(2, distribution="student_t", **params).fit(X_HEAVY)
        tempered = BayesianMCMCMixture(2, distribution="student_t", n_temperatures=3, **params)
        tempered.fit(X_HEAVY)
    assert tempered.n_temperatures_ == 3
    assert_posterior_means_agree(plain, tempered)
