"""covariance_type="full" and "tied" end to end: attributes, posterior, numerics, files."""

import warnings

import arviz as az
import numpy as np
import pytest
from scipy import stats
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from bayes_gmm import BayesianMCMCMixture

FULL_TYPES = ("full", "tied")
TRUE_COVARIANCE = np.array([[1.0, 0.7], [0.7, 0.8]])


def _correlated_blobs(n=300, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[-5.0, 0.0], [0.0, 4.0], [5.0, -2.0]])
    labels = rng.integers(0, 3, n)
    X = centers[labels] + rng.multivariate_normal(np.zeros(2), TRUE_COVARIANCE, n)
    return X, labels


def _fit(X, quiet=True, **params):
    params = {"n_components": 3, "draws": 300, "tune": 300, "random_state": 0, **params}
    with warnings.catch_warnings():
        if quiet:
            warnings.simplefilter("ignore", ConvergenceWarning)
        return BayesianMCMCMixture(**params).fit(X)


@pytest.fixture(scope="module", params=FULL_TYPES)
def full_fit(request):
    X, labels = _correlated_blobs()
    return _fit(X, quiet=False, covariance_type=request.param, draws=1000, tune=500), X, labels


def test_fitted_attributes_have_scikit_learns_layouts(full_fit):
    est, X, _ = full_fit
    k, d = 3, 2
    tied = est.covariance_type == "tied"
    shape = (d, d) if tied else (k, d, d)
    assert est.covariances_.shape == shape
    assert est.precisions_.shape == shape
    assert est.precisions_cholesky_.shape == shape
    np.testing.assert_allclose(
        est.precisions_ @ est.covariances_, np.broadcast_to(np.eye(d), shape), atol=1e-10
    )
    assert est.covariance_prior_.shape == (d, d)
    assert est.degrees_of_freedom_prior_ == d + 2
    assert est.sd_lower_ is None and est.sd_upper_ is None and est.sd_prior_scale_ is None
    covariance = est.sample_trace_.posterior["covariance"]
    assert covariance.dims == (
        "chain",
        "draw",
        *(() if tied else ("component",)),
        "feature",
        "feature_bis",
    )
    np.testing.assert_array_equal(covariance.values, np.swapaxes(covariance.values, -1, -2))
    assert np.linalg.eigvalsh(covariance.values).min() > 0
    assert "sigma" not in est.sample_trace_.posterior
    np.testing.assert_allclose(est.predict_proba(X).sum(axis=1), 1.0)
    np.testing.assert_array_equal(est.labels_, est.predict(X))
    assert any(row.startswith("covariance[") for row in est.summary().index)
    attrs = est.sample_trace_.posterior.attrs
    assert attrs["covariance_type"] == est.covariance_type
    np.testing.assert_allclose(attrs["covariance_prior"], est.covariance_prior_.ravel())


def test_the_posterior_covers_the_true_correlated_covariance(full_fit):
    """Well-separated clusters of 100 points: the truth lies within a few posterior sds of
    the posterior mean (Bonferroni over the entries), and labels match the truth."""
    est, X, labels = full_fit
    assert est.convergence_["max_r_hat"] <= 1.01
    covariance = est.sample_trace_.posterior["covariance"].values
    draws = covariance.reshape(-1, *covariance.shape[2:])
    mean, sd = draws.mean(axis=0), draws.std(axis=0)
    truth = np.broadcast_to(TRUE_COVARIANCE, mean.shape)
    z = stats.norm.isf(1e-3 / (2 * truth.size))
    assert np.all(np.abs(mean - truth) <= z * sd)
    # Ordered on feature 0, as the centres are.
    assert (est.predict(X) == labels).mean() > 0.97


def test_bic_and_aic_count_matrix_entries(full_fit):
    est, X, _ = full_fit
    n_params = 2 + 3 * 2 + (3 if est.covariance_type == "tied" else 9)
    assert est._spec.n_free_parameters == n_params
    assert est.bic(X) - est.aic(X) == pytest.approx(n_params * (np.log(len(X)) - 2))


def test_posterior_predictive_samples_are_correlated(full_fit):
    est, _, _ = full_fit
    X, y = est.sample(30_000)
    for c in range(3):
        r = np.corrcoef(X[y == c].T)[0, 1]
        true_r = TRUE_COVARIANCE[0, 1] / np.sqrt(TRUE_COVARIANCE[0, 0] * TRUE_COVARIANCE[1, 1])
        # Posterior uncertainty in Sigma adds spread; 0.1 is about 4 posterior sds here.
        assert r == pytest.approx(true_r, abs=0.1)


def test_save_load_round_trip_of_a_full_fit(full_fit, tmp_path):
    est, X, _ = full_fit
    est.save(tmp_path / "fit.nc")
    loaded = BayesianMCMCMixture.load(tmp_path / "fit.nc")
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
    np.testing.assert_array_equal(loaded.covariances_, est.covariances_)
    np.testing.assert_array_equal(loaded.covariance_prior_, est.covariance_prior_)
    assert loaded.get_params() == est.get_params()
    assert loaded.model_.str_repr() == est.model_.str_repr()


def test_waic_and_loo_work_for_full_fits(full_fit):
    est, _, _ = full_fit
    assert np.isfinite(est.loo().elpd_loo)
    assert np.isfinite(est.waic().elpd_waic)


@pytest.mark.parametrize("covariance_type", FULL_TYPES)
def test_units_from_1e_minus_6_to_1e6_give_the_same_fit(covariance_type):
    X, _ = _correlated_blobs(150)
    unit = _fit(X, covariance_type=covariance_type)
    for scale in (1e-6, 1e6):
        scaled = _fit(X * scale, covariance_type=covariance_type)
        # The whole sampler runs on standardised data: the draws are the same up to rounding.
        np.testing.assert_allclose(scaled.means_ / scale, unit.means_, rtol=1e-6)
        np.testing.assert_allclose(scaled.covariances_ / scale**2, unit.covariances_, rtol=1e-6)
        np.testing.assert_array_equal(scaled.labels_, unit.labels_)


def _all_draws_positive_definite(est):
    covariance = est.sample_trace_.posterior["covariance"].values
    d = covariance.shape[-1]
    eigenvalues = np.linalg.eigvalsh(covariance.reshape(-1, d, d))
    return np.isfinite(covariance).all() and eigenvalues.min() > 0


@pytest.mark.parametrize("covariance_type", FULL_TYPES)
def test_strongly_correlated_collinear_and_50_dimensional_data_stay_positive_definite(
    covariance_type,
):
    rng = np.random.default_rng(1)
    rho = 0.99
    correlated = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], 200)
    correlated[:100] += 3
    base = rng.normal(size=(200, 3))
    # A column that is the sum of two others: the data are rank 3 in 4-D.
    collinear = np.column_stack([base, base[:, 0] + base[:, 1]])
    wide = rng.normal(size=(200, 50)) + np.repeat([[-3.0], [3.0]], 100, axis=0)
    for X in (correlated, collinear, wide):
        est = _fit(X, n_components=2, covariance_type=covariance_type, draws=100, tune=100)
        assert _all_draws_positive_definite(est)
        assert np.isfinite(est.score_samples(X)).all()


@pytest.mark.parametrize("covariance_type", FULL_TYPES)
def test_components_that_empty_during_sampling_stay_proper(covariance_type):
    X, _ = _correlated_blobs(120)
    est = _fit(X, n_components=6, min_weight=0.0, covariance_type=covariance_type)
    category = est.sample_trace_.posterior["category"].values
    counts = np.stack([(category == c).sum(axis=-1) for c in range(6)], axis=-1)
    assert (counts == 0).any()  # some component was empty in some draw
    assert _all_draws_positive_definite(est)


def test_grid_search_over_covariance_types():
    X, _ = _correlated_blobs(150)
    search = GridSearchCV(
        BayesianMCMCMixture(3, draws=100, tune=100, random_state=0),
        {"covariance_type": ["diag", "full"]},
        cv=2,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X)
    # Correlated clusters: full covariances predict held-out data better.
    assert search.best_params_ == {"covariance_type": "full"}


def test_nuts_fit_of_full_covariances_has_the_same_layout():
    X, _ = _correlated_blobs(90)
    gibbs = _fit(X, covariance_type="full", draws=50, tune=50)
    nuts = _fit(X, covariance_type="full", sampler="nuts", draws=50, tune=50)
    for name in ("weights", "means", "covariance", "category"):
        assert nuts.sample_trace_.posterior[name].dims == gibbs.sample_trace_.posterior[name].dims
    assert _all_draws_positive_definite(nuts)
    assert az.summary(nuts.sample_trace_, var_names=["covariance"]).shape[0] == 12
