"""Missing values (NaN in X): marginalised in prediction, imputed exactly in the sweep.

Exactness in steps that need no chain: a row's density is its components' marginal on
its observed entries (against SciPy), in NumPy and in the PyMC models; an imputed entry
follows its component's conditional Gaussian (its mean and covariance, closed form); the
prediction of a fitted estimator is the observed-coordinates predictive computed by hand
from its draws. The chains themselves are checked by SBC with entries removed completely
at random, in every covariance type (``tests/test_calibration.py``, slow), and by the
agreement of Gibbs and NUTS.
"""

import warnings

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm._covariance import DiagonalCovariance, FullCovariance
from bayes_gmm._lazy import pt
from bayes_gmm._missing import (
    conditional_log_det,
    impute,
    imputed_draws,
    imputed_means,
    missing_layout,
    missing_patterns,
    observed_log_joint,
)
from bayes_gmm._posterior import Draws, precision_cholesky_from_covariance
from tests.conftest import FAST, assert_posterior_means_agree

RNG = np.random.default_rng(20261207)
# Two clusters in three features, a fifth of the entries missing, every row with one.
X_CLEAN = np.concatenate([RNG.normal(-3, 1, (40, 3)), RNG.normal(3, 1, (35, 3))])
X_MISSING = X_CLEAN.copy()
X_MISSING[RNG.random(X_CLEAN.shape) < 0.2] = np.nan
X_MISSING[np.isnan(X_MISSING).all(axis=1), 0] = X_CLEAN[np.isnan(X_MISSING).all(axis=1), 0]


def _random_draws(rng, n_draws, k, d, full):
    """Draws with random weights, means and covariances (full matrices or sds)."""
    weights = rng.dirichlet(np.ones(k), size=n_draws)
    means = rng.normal(0, 2, (n_draws, k, d))
    if not full:
        return Draws(weights, means, 1.0 / rng.uniform(0.5, 2.0, (n_draws, k, d))), None
    root = rng.normal(size=(n_draws, k, d, d))
    covariance = root @ np.swapaxes(root, -1, -2) + d * np.eye(d)
    return Draws(weights, means, precision_cholesky_from_covariance(covariance)), covariance


def _covariances(draws, covariance):
    if covariance is not None:
        return covariance
    return (1.0 / draws.precision_cholesky**2)[..., None] * np.eye(draws.means.shape[-1])


def _marginal_log_joint(X, draws, covariance):
    """log w_c + log Normal(x_o | mu_o, Sigma_oo) by SciPy, (S, k, n)."""
    covariance = _covariances(draws, covariance)
    S, k, _ = draws.means.shape
    out = np.empty((S, k, X.shape[0]))
    for i, row in enumerate(X):
        o = ~np.isnan(row)
        for s in range(S):
            for c in range(k):
                law = stats.multivariate_normal(
                    draws.means[s, c, o], covariance[s, c][np.ix_(o, o)]
                )
                out[s, c, i] = np.log(draws.weights[s, c]) + law.logpdf(row[o])
    return out


def test_patterns_group_the_rows_by_their_observed_entries():
    X = np.array([[1, np.nan], [np.nan, 2], [3, np.nan], [4, 5]])
    groups = missing_patterns(X)
    assert [rows.tolist() for _, rows in groups] == [[0, 2], [1], [3]]
    assert [observed.tolist() for observed, _ in groups] == [
        [True, False],
        [False, True],
        [True, True],
    ]
    assert missing_patterns(np.ones((3, 2))) is None


@pytest.mark.parametrize("full", [False, True])
def test_observed_log_joint_is_each_components_marginal(full):
    rng = np.random.default_rng(1)
    draws, covariance = _random_draws(rng, 2, 3, 4, full)
    X = rng.normal(size=(30, 4))
    X[rng.random(X.shape) < 0.4] = np.nan
    X[np.isnan(X).all(axis=1), 1] = 0.5
    ours = observed_log_joint(np.nan_to_num(X), draws, missing_layout(X))
    np.testing.assert_allclose(ours, _marginal_log_joint(X, draws, covariance), rtol=1e-10)


@pytest.mark.parametrize("beta", [1.0, 0.3])
@pytest.mark.parametrize("full", [False, True])
def test_imputed_entries_follow_the_conditional_gaussian(full, beta):
    """The draw is affine in the standard Normal noise: its value at 0 must be the
    conditional mean, and its linear part a square root of the conditional covariance
    (divided by beta: a Gaussian density to the power beta)."""
    rng = np.random.default_rng(2)
    draws, covariance = _random_draws(rng, 1, 2, 5, full)
    covariance = _covariances(draws, covariance)[0]
    Z = rng.normal(size=(6, 5))
    Z[[0, 0, 1, 2, 2, 2, 3, 5], [1, 3, 0, 1, 3, 4, 2, 1]] = np.nan
    layout = missing_layout(Z)
    category = np.array([0, 1, 1, 0, 1, 0])

    class Noise:
        """A generator whose standard Normals are given: ``values`` (d,) in every row."""

        def __init__(self, values):
            self.values = values

        def standard_normal(self, shape):
            return np.broadcast_to(self.values, shape).copy()

    def imputed(noise):
        completed = np.nan_to_num(Z, nan=123.0)  # the value an entry held must not matter
        impute(
            Noise(noise),
            completed,
            layout,
            category,
            draws.means[0],
            draws.precision_cholesky[0],
            beta,
        )
        return completed

    centre = imputed(np.zeros(5))
    columns = np.stack([imputed(np.eye(5)[j]) - centre for j in range(5)], axis=-1)
    for i, c in enumerate(category):
        o, u = ~np.isnan(Z[i]), np.isnan(Z[i])
        np.testing.assert_array_equal(centre[i, o], Z[i, o])
        if not u.any():
            continue
        gain = covariance[c][np.ix_(u, o)] @ np.linalg.inv(covariance[c][np.ix_(o, o)])
        mean = draws.means[0, c, u] + gain @ (Z[i, o] - draws.means[0, c, o])
        conditional = covariance[c][np.ix_(u, u)] - gain @ covariance[c][np.ix_(o, u)]
        np.testing.assert_allclose(centre[i, u], mean, rtol=1e-10)
        linear = columns[i][u]
        np.testing.assert_allclose(linear @ linear.T, conditional / beta, rtol=1e-10)


@pytest.mark.parametrize("full", [False, True])
def test_tempered_categories_integrate_the_missing_entries_out(full):
    """At inverse temperature beta the category update integrates x_m out of
    w_c Normal(x | theta_c)^beta: against numerical quadrature over one missing entry."""
    from scipy import integrate

    rng = np.random.default_rng(5)
    beta = 0.35
    draws, covariance = _random_draws(rng, 1, 3, 2, full)
    covariance = _covariances(draws, covariance)[0]
    X = np.array([[0.7, np.nan], [np.nan, -1.2], [0.3, 0.4]])
    layout = missing_layout(X)
    ours = (
        beta * observed_log_joint(np.nan_to_num(X), Draws(np.ones((1, 3)), *draws[1:]), layout)[0]
    )
    ours += (1 - beta) * conditional_log_det(layout, draws.precision_cholesky[0])
    ours += np.log(draws.weights[0])[:, None]
    for i, row in enumerate(X):
        exact = np.empty(3)
        for c in range(3):
            law = stats.multivariate_normal(draws.means[0, c], covariance[c])
            if not np.isnan(row).any():
                exact[c] = beta * law.logpdf(row)
                continue
            j = int(np.flatnonzero(np.isnan(row))[0])

            def density(value, j=j, row=row, law=law):
                point = row.copy()
                point[j] = value
                return np.exp(beta * law.logpdf(point))

            exact[c] = np.log(integrate.quad(density, -np.inf, np.inf, epsabs=0, epsrel=1e-11)[0])
        exact += np.log(draws.weights[0])
        # Terms equal for every component (beta's) cancel in the probabilities.
        np.testing.assert_allclose(
            ours[:, i] - logsumexp(ours[:, i]), exact - logsumexp(exact), rtol=1e-8, atol=1e-9
        )


@pytest.mark.parametrize("full", [False, True])
def test_imputations_are_the_mixture_of_conditionals(full):
    rng = np.random.default_rng(3)
    draws, covariance = _random_draws(rng, 3, 2, 3, full)
    cov = _covariances(draws, covariance)
    X = rng.normal(size=(6, 3))
    X[[0, 1, 2, 5], [0, 1, 2, 0]] = np.nan
    X[3] = np.nan  # nothing observed: the weights and the marginal
    means = imputed_means(X, draws)
    log_joint = _marginal_log_joint(
        np.where(np.isnan(X).all(axis=1)[:, None], 0.0, X), draws, covariance
    )
    for i, row in enumerate(X):
        o = ~np.isnan(row)
        expected = np.zeros(int((~o).sum()))
        for s in range(3):
            resp = np.exp(log_joint[s, :, i] - logsumexp(log_joint[s, :, i]))
            if not o.any():
                resp = draws.weights[s]
            for c in range(2):
                gain = cov[s, c][np.ix_(~o, o)] @ np.linalg.inv(cov[s, c][np.ix_(o, o)])
                centre = draws.means[s, c, ~o] + gain @ (row[o] - draws.means[s, c, o])
                expected += resp[c] * centre / 3
        np.testing.assert_allclose(means[i, ~o], expected, rtol=1e-9)
        np.testing.assert_array_equal(means[i, o], row[o])
    completed = imputed_draws(np.random.default_rng(0), X, draws)
    assert completed.shape == (3, *X.shape)
    assert np.isfinite(completed).all()
    np.testing.assert_array_equal(
        completed[:, ~np.isnan(X)], np.broadcast_to(X[~np.isnan(X)], (3, (~np.isnan(X)).sum()))
    )


@pytest.mark.parametrize("covariance_type", ["diag", "full"])
def test_pymc_density_of_missing_entries_is_the_marginal(covariance_type):
    """The PyMC models' observed density: each component's marginal on the observed
    entries, for the diagonal and the full types' expressions."""
    rng = np.random.default_rng(4)
    full = covariance_type == "full"
    draws, covariance = _random_draws(rng, 1, 2, 3, full)
    X = rng.normal(size=(8, 3))
    X[rng.random(X.shape) < 0.35] = np.nan
    X[np.isnan(X).all(axis=1), 2] = 0.1
    patterns, pattern = np.unique(~np.isnan(X), axis=0, return_inverse=True)
    if full:
        kind = FullCovariance("full", 2, 3, degrees_of_freedom=5.0, scale=np.eye(3))
    else:
        kind = DiagonalCovariance("diag", 2, 3, "uniform", np.zeros((2, 3)), np.ones((2, 3)))
    kernel = covariance[0] if full else 1.0 / draws.precision_cholesky[0]
    log_components = kind.pymc_log_components_observed(
        pt.as_tensor(np.nan_to_num(X)),
        pt.as_tensor(draws.weights[0]),
        pt.as_tensor(draws.means[0]),
        pt.as_tensor(kernel),
        patterns,
        pattern.ravel(),
    ).eval()
    np.testing.assert_allclose(
        log_components.T, _marginal_log_joint(X, draws, covariance)[0], rtol=1e-10
    )


# -- fitted estimators ----------------------------------------------------------------


@pytest.fixture(scope="module", params=["diag", "full"])
def missing_fit(request):
    est = BayesianMCMCMixture(2, covariance_type=request.param, **FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X_MISSING)


def test_prediction_is_the_observed_coordinates_predictive(missing_fit):
    """predict_proba and score_samples of rows with NaN, against the marginal densities
    of the observed entries computed by hand from the fit's draws."""
    est = missing_fit
    X = X_MISSING[:12].copy()
    X[0] = np.nan  # no entry observed: the weights, and a density of 1
    draws = est._posterior_draws(est._n_prediction_draws())
    full = draws.precision_cholesky.ndim == 4
    covariance = None
    if full:
        factor = draws.precision_cholesky
        covariance = np.linalg.inv(factor @ np.swapaxes(factor, -1, -2))
    log_joint = _marginal_log_joint(
        np.where(np.isnan(X).all(axis=1)[:, None], 0.0, X), draws, covariance
    )
    log_joint[:, :, 0] = np.log(draws.weights)
    proba = np.exp(log_joint - logsumexp(log_joint, axis=1, keepdims=True)).mean(axis=0).T
    np.testing.assert_allclose(est.predict_proba(X), proba, rtol=1e-9)
    density = logsumexp(logsumexp(log_joint, axis=1), axis=0) - np.log(log_joint.shape[0])
    np.testing.assert_allclose(est.score_samples(X), density, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(est.predict(X), proba.argmax(axis=1))


def test_impute_keeps_the_observed_entries(missing_fit):
    est = missing_fit
    means = est.impute(X_MISSING)
    observed = ~np.isnan(X_MISSING)
    np.testing.assert_array_equal(means[observed], X_MISSING[observed])
    assert np.isfinite(means).all()
    # The clusters sit at -3 and 3: a row's imputed entries follow its observed ones.
    missing = ~observed
    assert np.all(means[:40][missing[:40]] < 0) and np.all(means[40:][missing[40:]] > 0)
    copies = est.impute(X_MISSING, n_imputations=5)
    assert copies.shape == (5, *X_MISSING.shape)
    np.testing.assert_array_equal(
        copies[:, observed], np.broadcast_to(X_MISSING[observed], (5, observed.sum()))
    )
    np.testing.assert_array_equal(copies, est.impute(X_MISSING, n_imputations=5))
    with pytest.raises(ValueError, match="n_imputations=0"):
        est.impute(X_MISSING, n_imputations=0)


def test_save_and_load_keep_a_fit_with_missing_entries(missing_fit, tmp_path):
    est = missing_fit
    est.save(tmp_path / "fit.nc")
    restored = BayesianMCMCMixture.load(tmp_path / "fit.nc")
    np.testing.assert_array_equal(restored.predict_proba(X_MISSING), est.predict_proba(X_MISSING))
    np.testing.assert_array_equal(restored.impute(X_MISSING), est.impute(X_MISSING))
    stored = restored.sample_trace_.observed_data
    np.testing.assert_array_equal(
        np.isnan(stored[next(iter(stored.data_vars))].to_numpy()), np.isnan(X_MISSING)
    )


def test_the_sparse_mixture_counts_its_clusters_with_missing_entries():
    est = BayesianMCMCMixture(5, weight_concentration="sparse", **FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X_MISSING)
    assert est.n_clusters_ == 2
    np.testing.assert_allclose(est.n_clusters_posterior_.sum(), 1.0)


def test_draws_are_the_same_sequential_or_parallel(monkeypatch):
    """The sweep's working copy of the imputed entries must not leak between chains."""
    from bayes_gmm import _sampling

    params = {"covariance_type": "full", "draws": 30, "tune": 30, "random_state": 3}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sequential = BayesianMCMCMixture(2, **params).fit(X_MISSING)
        monkeypatch.setitem(_sampling.PARALLEL_MIN_WORK, "fork", 0)
        monkeypatch.setitem(_sampling.PARALLEL_MIN_WORK, "spawn", 0)
        parallel = BayesianMCMCMixture(2, **params).fit(X_MISSING)
    for name in ("weights", "means", "covariance"):
        np.testing.assert_array_equal(
            sequential.sample_trace_.posterior[name], parallel.sample_trace_.posterior[name]
        )


@pytest.mark.parametrize(
    ("X", "params", "weight", "match"),
    [
        (
            np.where(np.arange(6)[:, None] == 2, np.nan, np.ones((6, 2)) * np.arange(6)[:, None]),
            {},
            None,
            r"no observed entry in row\(s\) \[2\]",
        ),
        (
            np.column_stack([np.arange(6.0), np.full(6, np.nan)]),
            {},
            None,
            r"no observed value in feature\(s\) \[1\]",
        ),
        (X_MISSING, {}, np.ones(X_MISSING.shape[0]) * 2, "sample_weight"),
        (X_MISSING, {"sampler": "metropolis"}, None, "sampler='metropolis'"),
    ],
)
def test_what_cannot_take_missing_entries_is_refused(X, params, weight, match):
    with pytest.raises(ValueError, match=match):
        BayesianMCMCMixture(2, **params).fit(X, sample_weight=weight)


def test_infinite_entries_are_still_refused():
    X = X_MISSING.copy()
    X[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        BayesianMCMCMixture(2).fit(X)


@pytest.mark.slow
@pytest.mark.parametrize("covariance_type", ["diag", "full"])
def test_tempered_chains_sample_the_posterior_of_the_observed_entries(covariance_type):
    """The beta = 1 replica of a tempered fit, whose hotter replicas integrate the
    missing entries out of tempered densities and swap states, samples the same
    posterior as plain chains: posterior means within Monte Carlo error."""
    params = {"covariance_type": covariance_type, "draws": 2000, "tune": 500, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = BayesianMCMCMixture(2, **params).fit(X_MISSING)
        tempered = BayesianMCMCMixture(2, n_temperatures=3, **params).fit(X_MISSING)
    assert tempered.n_temperatures_ == 3
    assert_posterior_means_agree(plain, tempered)
