"""The noise component: one more category, of constant density over a box.

Exactness in steps that need no chain: the log-joint of draws with noise against the
mixture's density written out by hand (SciPy's Gaussians, the box's volume), in NumPy's
direct and expanded forms and with missing entries; the noise weight's conditional
against its Beta law; the tempered category update of a row with a missing entry
against numerical quadrature; the posterior predictive's noise share. The chains are
checked by SBC (``tests/test_calibration.py``, slow) and by the agreement of Gibbs and
NUTS (slow, below); whole-number weights against repeated rows here.
"""

import warnings

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm._noise import NOISE_WEIGHT_PRIOR, sample_noise_weight
from bayes_gmm._posterior import log_joint
from bayes_gmm._sampling.sweep import GibbsSweep
from bayes_gmm._scoring import category_probabilities, pointwise_log_likelihood
from bayes_gmm._spec import data_scales, resolve_spec
from tests.conftest import (
    COVARIANCE_TYPES,
    FAST,
    P_MIN,
    assert_fitted_sanely,
    assert_posterior_means_agree,
    bonferroni_z,
    random_draws,
)

RNG = np.random.default_rng(20261208)
# Two clusters in two features and 12 outliers spread far around them.
X_CLEAN = np.concatenate([RNG.normal(-3, 1, (60, 2)), RNG.normal(3, 1, (50, 2))])
OUTLIERS = RNG.uniform(-25, 25, (12, 2))
OUTLIERS[np.abs(OUTLIERS).max(axis=1) < 10] = 20.0
X_NOISY = np.concatenate([X_CLEAN, OUTLIERS])
BOX = np.array([[-30.0, -30.0], [30.0, 30.0]])


def _noise_draws(rng, n_draws, k, d, full):
    """Random draws with a noise component on ``BOX`` (d = 2), and their covariances."""
    draws, covariance = random_draws(rng, n_draws, k, d, full)
    noise_weight = rng.uniform(0.05, 0.5, n_draws)
    widths = np.broadcast_to(np.log(BOX[1] - BOX[0]), (n_draws, d))
    draws = draws._replace(
        weights=draws.weights * (1 - noise_weight[:, None]),
        noise_weight=noise_weight,
        noise_log_widths=widths,
    )
    return draws, covariance


def _mixture_log_joint(X, draws, covariance):
    """log w_c + log Normal(x_o | ...) by SciPy, and log nu - log(volume of the observed
    features' box) last: (S, k + 1, n)."""
    S, k, _ = draws.means.shape
    out = np.empty((S, k + 1, X.shape[0]))
    for i, row in enumerate(X):
        o = ~np.isnan(row)
        for s in range(S):
            for c in range(k):
                if not o.any():  # nothing observed: a density of 1
                    out[s, c, i] = np.log(draws.weights[s, c])
                    continue
                law = stats.multivariate_normal(
                    draws.means[s, c, o], covariance[s, c][np.ix_(o, o)]
                )
                out[s, c, i] = np.log(draws.weights[s, c]) + law.logpdf(row[o])
            out[s, k, i] = np.log(draws.noise_weight[s]) - np.log(np.prod((BOX[1] - BOX[0])[o]))
    return out


@pytest.mark.parametrize("full", [False, True])
def test_log_joint_and_scores_hold_the_noise_component(full):
    rng = np.random.default_rng(1)
    draws, covariance = _noise_draws(rng, 4, 3, 2, full)
    X = rng.normal(0, 4, (7, 2))
    expected = _mixture_log_joint(X, draws, covariance)
    np.testing.assert_allclose(log_joint(X, *draws), expected, rtol=1e-10)
    # The expanded form of prediction, with rows missing an entry or both.
    X_missing = X.copy()
    X_missing[[1, 4], [0, 1]] = np.nan
    X_missing[5] = np.nan
    expected = _mixture_log_joint(X_missing, draws, covariance)
    probabilities = np.exp(expected - logsumexp(expected, axis=1, keepdims=True)).mean(axis=0)
    np.testing.assert_allclose(category_probabilities(X_missing, draws), probabilities.T, rtol=1e-9)
    np.testing.assert_allclose(
        pointwise_log_likelihood(X_missing, draws),
        logsumexp(expected, axis=1),
        rtol=1e-10,
        atol=1e-12,  # the row with nothing observed: log 1, to rounding
    )


def test_noise_weight_conditional_is_its_beta():
    rng = np.random.default_rng(2)
    draws = [sample_noise_weight(rng, 7, 50) for _ in range(4000)]
    a, b = NOISE_WEIGHT_PRIOR
    assert stats.kstest(draws, stats.beta(a + 7, b + 43).cdf).pvalue > P_MIN


def _sweep(X, covariance_type, **params):
    """The sweep of a model with a noise component on ``BOX``, and a state in data units."""
    params = {
        **BayesianMCMCMixture(
            2, covariance_type=covariance_type, noise_component=BOX, **params
        ).get_params(),
    }
    scales = data_scales(X)
    spec = resolve_spec(params, scales, 0)
    return GibbsSweep(X, spec, scales.median, scales.spread), spec


@pytest.mark.parametrize("covariance_type", ["diag", "full"])
def test_tempered_noise_category_integrates_the_missing_entries_out(covariance_type):
    """At inverse temperature beta a row's categories weigh w_c Normal(x | theta_c)^beta
    and nu (1 / V)^beta, each integrated over the row's missing entries: against
    numerical quadrature, over the line for the Gaussians and the box for noise."""
    beta = 0.4
    X = np.array([[0.7, np.nan], [np.nan, -1.2], [0.3, 0.4], [5.0, -2.0]])
    sweep, spec = _sweep(X, covariance_type)
    means = np.array([[-1.0, 0.5], [1.5, -0.5]])
    if covariance_type == "full":
        covariance = np.array([[[1.0, 0.3], [0.3, 0.8]], [[2.0, -0.5], [-0.5, 1.5]]])
        param = covariance
    else:
        sd = np.array([[1.0, 0.8], [1.4, 1.2]])
        covariance, param = sd[..., None] ** 2 * np.eye(2), sd
    trace_name = spec.covariance.trace_name
    point = {"weights": np.array([0.4, 0.6]), "means": means, trace_name: param}
    state = sweep.from_point({**point, "noise_weight": np.asarray(0.2)})
    factor = sweep._covariance.precision_cholesky(state.covariance[None])
    ours, *_ = sweep.category_log_weights(state, factor, beta)
    volume = np.prod(BOX[1] - BOX[0])
    for i, row in enumerate(X):
        exact = np.empty(3)
        missing = np.flatnonzero(np.isnan(row))
        for c in range(3):
            if c < 2:
                law = stats.multivariate_normal(means[c], covariance[c])
                weight, limits = 0.8 * point["weights"][c], (-np.inf, np.inf)
            else:
                weight = 0.2
            if c < 2 and not missing.size:
                exact[c] = np.log(weight) + beta * law.logpdf(row)
                continue
            if c == 2 and not missing.size:
                exact[c] = np.log(weight) - beta * np.log(volume)
                continue
            j = int(missing[0])
            if c < 2:

                def density(value, j=j, row=row, law=law):
                    point_ = row.copy()
                    point_[j] = value
                    return np.exp(beta * law.logpdf(point_))

            else:
                limits = tuple(BOX[:, j])

                def density(value):
                    return volume**-beta

            integral = integrate.quad(density, *limits, epsabs=0, epsrel=1e-11)[0]
            exact[c] = np.log(weight) + np.log(integral)
        np.testing.assert_allclose(
            ours[:, i] - logsumexp(ours[:, i]), exact - logsumexp(exact), rtol=1e-8, atol=1e-9
        )


def test_predictive_samples_hold_noise_in_its_share():
    rng = np.random.default_rng(3)
    draws, _ = _noise_draws(rng, 5, 2, 2, full=False)
    from bayes_gmm._posterior import sample_predictive

    X, y = sample_predictive(np.random.default_rng(4), draws, 20_000, BOX)
    share = draws.noise_weight.mean()
    se = np.sqrt(share * (1 - share) / y.size)
    assert abs(np.mean(y == -1) - share) <= bonferroni_z(1) * se
    inside = X[y == -1]
    assert np.all((inside >= BOX[0]) & (inside <= BOX[1]))
    assert set(np.unique(y)) == {-1, 0, 1}


# -- fitted estimators ----------------------------------------------------------------


def _fit(X, **params):
    params = {"n_components": 2, "noise_component": True, **FAST, **params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return BayesianMCMCMixture(**params).fit(X)


@pytest.fixture(scope="module")
def noise_fit():
    return _fit(X_NOISY, covariance_type="full")


def test_outliers_are_labelled_noise(noise_fit):
    est = noise_fit
    assert est.classes_.tolist() == [0, 1, -1]
    proba = est.predict_proba(X_NOISY)
    assert proba.shape == (X_NOISY.shape[0], 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    labels = est.predict(X_NOISY)
    np.testing.assert_array_equal(labels, est.labels_)
    assert np.all(labels[-OUTLIERS.shape[0] :] == -1)
    assert np.mean(labels[: X_CLEAN.shape[0]] == -1) < 0.05
    # Far outside the training box: noise, whose density is 1 / V everywhere.
    assert est.predict([[500.0, -500.0]]).tolist() == [-1]
    assert est.weights_.sum() + est.noise_weight_ == pytest.approx(1.0)
    assert 0 < est.noise_weight_ < 0.3


def test_a_noise_fit_samples_scores_and_counts_its_parameter(noise_fit):
    est = noise_fit
    X, y = est.sample(500)
    assert set(np.unique(y)) <= {-1, 0, 1} and (y == -1).any()
    assert np.all((X[y == -1] >= est._spec.noise_box[0]) & (X[y == -1] <= est._spec.noise_box[1]))
    assert np.isfinite(est.score(X_NOISY))
    plain_spec = resolve_spec(
        {**est.get_params(), "noise_component": False}, data_scales(X_NOISY), 0
    )
    assert est._spec.n_free_parameters == plain_spec.n_free_parameters + 1
    n = X_NOISY.shape[0]
    assert est.bic(X_NOISY) - est.aic(X_NOISY) == pytest.approx(
        est._spec.n_free_parameters * (np.log(n) - 2)
    )


def test_diagnostics_and_plots_show_noise_apart(noise_fit):
    import matplotlib

    matplotlib.use("Agg")
    from bayes_gmm.plotting import plot_category_trace, plot_cluster_posterior, plot_mixture

    # The noise points are no cluster of the chains' modal partitions.
    assert noise_fit.convergence_["chain_modes"]["n_clusters"] == [2, 2]
    outlier = X_NOISY.shape[0] - 1
    ticks = [t.get_text() for t in plot_cluster_posterior(noise_fit, outlier).get_xticklabels()]
    assert ticks == ["0", "1", "noise"]
    ax = plot_category_trace(noise_fit, outlier)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "1", "noise"]
    assert set(ax.lines[0].get_ydata()) == {2}
    ax = plot_mixture(noise_fit)
    assert "noise" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_save_and_load_keep_the_noise_component(noise_fit, tmp_path):
    noise_fit.save(tmp_path / "fit.nc")
    loaded = BayesianMCMCMixture.load(tmp_path / "fit.nc")
    np.testing.assert_array_equal(loaded._spec.noise_box, noise_fit._spec.noise_box)
    np.testing.assert_allclose(loaded.predict_proba(X_NOISY), noise_fit.predict_proba(X_NOISY))
    assert loaded.noise_weight_ == noise_fit.noise_weight_


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_every_covariance_type_takes_a_noise_component(covariance_type):
    est = _fit(X_NOISY, covariance_type=covariance_type)
    assert_fitted_sanely(est, X_NOISY)
    assert "noise_weight" in est.sample_trace_.posterior
    assert np.all(est.predict(OUTLIERS) == -1)


@pytest.mark.parametrize(
    "params", [{"n_temperatures": 3}, {"split_merge": True}, {"sampler": "nuts", "draws": 100}]
)
def test_noise_component_with_tempering_split_merge_and_nuts(params):
    est = _fit(X_NOISY, **params)
    assert_fitted_sanely(est, X_NOISY)
    assert np.all(est.predict(OUTLIERS) == -1)


def test_the_sparse_mixture_with_noise_counts_only_the_gaussian_clusters():
    est = _fit(X_NOISY, n_components=6, weight_concentration="sparse", draws=400, tune=400)
    assert est.n_clusters_ == 2
    assert est.classes_.tolist() == [0, 1, -1]
    assert np.all(est.predict(OUTLIERS) == -1)


def test_noise_component_with_missing_entries():
    X = X_NOISY.copy()
    X[RNG.random(X.shape) < 0.15] = np.nan
    X[np.isnan(X).all(axis=1), 0] = 0.0
    est = _fit(X, covariance_type="full")
    assert_fitted_sanely(est, X)
    both_missing = np.array([[np.nan, np.nan]])
    np.testing.assert_allclose(
        est.predict_proba(both_missing)[0],
        np.append(est.weights_, est.noise_weight_),
        rtol=0.1,  # a mean of ratios against a ratio of means: close, not equal
    )
    imputed = est.impute(X)
    assert np.isfinite(imputed).all()
    np.testing.assert_array_equal(imputed[~np.isnan(X)], X[~np.isnan(X)])
    copies = est.impute(X, n_imputations=3)
    assert copies.shape == (3, *X.shape) and np.isfinite(copies).all()


def test_whole_weights_are_repetitions_with_noise():
    weight = RNG.integers(1, 4, X_NOISY.shape[0])
    params = {"draws": 1000, "covariance_type": "tied_diag"}
    weighted = BayesianMCMCMixture(2, noise_component=True, random_state=0, **params)
    repeated = BayesianMCMCMixture(2, noise_component=True, random_state=1, **params)
    weighted.fit(X_NOISY, sample_weight=weight)
    repeated.fit(np.repeat(X_NOISY, weight, axis=0))
    assert_posterior_means_agree(weighted, repeated)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"sampler": "metropolis"}, "noise_component=True is not available with"),
        ({"noise_component": [[0.0], [1.0]]}, r"array of shape \(2, n_features\) = \(2, 2\)"),
        ({"noise_component": [[0.0, 0.0], [0.0, 1.0]]}, "finite lows below their highs"),
        ({"noise_component": [[-5.0, -5.0], [5.0, 5.0]]}, r"feature\(s\) \[0, 1\] have values"),
    ],
)
def test_what_the_noise_component_cannot_take_is_refused(params, match):
    with pytest.raises(ValueError, match=match):
        BayesianMCMCMixture(2, **{"noise_component": True, **params}).fit(X_NOISY)


# -- the chains (slow) ----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("covariance_type", ["diag", "full"])
def test_gibbs_and_nuts_agree_with_a_noise_component(covariance_type):
    """Two independent samplers of one posterior, the Gibbs sweep's categories (noise
    among them) against NUTS on the density with the categories summed out: posterior
    means within Monte Carlo error."""
    params = {"covariance_type": covariance_type, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gibbs = BayesianMCMCMixture(2, noise_component=True, draws=4000, **params).fit(X_NOISY)
        nuts = BayesianMCMCMixture(
            2, noise_component=True, sampler="nuts", draws=1000, **params
        ).fit(X_NOISY)
    assert_posterior_means_agree(gibbs, nuts)


@pytest.mark.slow
def test_tempered_chains_with_noise_and_missing_entries_sample_the_posterior():
    """The beta = 1 replica of a tempered fit, whose hotter replicas weigh noise by the
    box's tempered density integrated over the missing features, samples the posterior of
    plain chains: posterior means within Monte Carlo error."""
    X = X_NOISY.copy()
    X[np.random.default_rng(9).random(X.shape) < 0.2] = np.nan
    X[np.isnan(X).all(axis=1), 1] = X_NOISY[np.isnan(X).all(axis=1), 1]
    params = {"covariance_type": "full", "draws": 2000, "tune": 500, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = BayesianMCMCMixture(2, noise_component=True, **params).fit(X)
        tempered = BayesianMCMCMixture(2, noise_component=True, n_temperatures=3, **params)
        tempered.fit(X)
    assert tempered.n_temperatures_ == 3
    assert_posterior_means_agree(plain, tempered)
