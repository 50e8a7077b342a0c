"""Numerical robustness: underflow, empty components, outliers, scales, parallel chains."""

import multiprocessing

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from bayes_gmm import BayesianMCMCMixture, _sampling
from bayes_gmm.datasets import make_notebook_data


def _no_nan_anywhere(est, X):
    for name in ("weights", "means", "sigma"):
        assert np.all(np.isfinite(est.sample_trace_.posterior[name].to_numpy())), name
    proba = est.predict_proba(X)
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.all(np.isfinite(est.score_samples(X)))


def _within_posterior_sds(est, name, truth, n_sd=4):
    """The truth lies within n_sd posterior standard deviations of the posterior mean."""
    values = est.sample_trace_.posterior[name]
    mean = values.mean(("chain", "draw")).to_numpy()
    sd = values.std(("chain", "draw")).to_numpy()
    assert np.all(np.abs(mean - truth) <= n_sd * sd), (name, mean, sd, truth)


def test_far_apart_clusters_with_tiny_variances():
    # Responsibilities underflow: each point is ~1e6 sds from the other clusters.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    X = (np.array([0.0, 1e3, 2e3])[y] + rng.normal(size=300) * 1e-3)[:, None]
    est = BayesianMCMCMixture(draws=300, tune=300, random_state=0).fit(X)
    _no_nan_anywhere(est, X)
    assert adjusted_rand_score(y, est.labels_) == 1.0
    _within_posterior_sds(est, "sigma", 1e-3)
    _within_posterior_sds(est, "means", [[0.0], [1e3], [2e3]])


def test_components_that_lose_all_their_points():
    X, _ = make_notebook_data()
    est = BayesianMCMCMixture(
        4, covariance_type="diag", min_weight=0, weight_concentration=0.1, random_state=0
    ).fit(X)
    category = est.sample_trace_.posterior["category"].to_numpy().reshape(-1, X.shape[0])
    empty = [np.bincount(c, minlength=4).min() == 0 for c in category]
    assert np.mean(empty) > 0.1  # the situation under test does arise
    _no_nan_anywhere(est, X)


def test_extreme_outlier_gets_its_own_component():
    X, y = make_notebook_data()
    X_outlier = np.r_[X, [[1e12]]]
    est = BayesianMCMCMixture(4, random_state=0).fit(X_outlier)
    _no_nan_anywhere(est, X_outlier)
    assert est.labels_[-1] == 3
    assert adjusted_rand_score(y, est.labels_[:-1]) > 0.9
    # The seed clusters keep their posterior (means near -5, 0, 5 and sd near 1).
    np.testing.assert_allclose(est.means_[:3, 0], [-5.0, 0.0, 5.0], atol=0.3)
    assert np.sqrt(est.covariances_[0, 0]) == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize("covariance_type", ["tied_diag", "diag"])
def test_features_on_wildly_different_scales(covariance_type):
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 300)
    centers = np.array([[-5.0, 0.0], [0.0, 5.0], [5.0, -5.0]])
    X = (centers[y] + rng.normal(size=(300, 2))) * [1e-6, 1e6]
    est = BayesianMCMCMixture(covariance_type=covariance_type, draws=300, tune=300, random_state=0)
    est.fit(X)
    _no_nan_anywhere(est, X)
    assert adjusted_rand_score(y, est.labels_) > 0.95
    sd = np.sqrt(
        np.diagonal(est.covariances_, axis1=-2, axis2=-1)
        if covariance_type == "tied_diag"
        else est.covariances_
    )
    np.testing.assert_allclose(sd / [1e-6, 1e6], 1.0, atol=0.15)


def test_parallel_chains_give_the_same_draws_as_sequential(monkeypatch):
    X, _ = make_notebook_data()
    settings = {"draws": 100, "tune": 100, "random_state": 3}
    sequential = BayesianMCMCMixture(**settings).fit(X)
    monkeypatch.setattr(
        _sampling, "PARALLEL_MIN_WORK", dict.fromkeys(_sampling.PARALLEL_MIN_WORK, 0)
    )
    cores = []
    real_sample = _sampling.pm.sample

    def spy(*args, **kwargs):
        cores.append(kwargs["cores"])
        return real_sample(*args, **kwargs)

    monkeypatch.setattr(_sampling.pm, "sample", spy)
    parallel = BayesianMCMCMixture(**settings).fit(X)
    assert cores == [2]
    for name in ("weights", "means", "sigma", "category"):
        np.testing.assert_array_equal(
            parallel.sample_trace_.posterior[name], sequential.sample_trace_.posterior[name]
        )


@pytest.mark.parametrize(
    ("start_method", "n_samples", "parallel"),
    [
        ("fork", 200, False),
        ("fork", 500, True),
        ("spawn", 100_000, False),
        ("spawn", 250_000, True),
        ("forkserver", 100_000, False),
    ],
)
def test_parallel_chains_by_size_and_start_method(monkeypatch, start_method, n_samples, parallel):
    context = multiprocessing.get_context(start_method)
    monkeypatch.setattr(multiprocessing, "get_context", lambda: context)
    settings = {"n_samples": n_samples, "draws": 1000, "tune": 1000, "chains": 2}
    chosen = _sampling.parallel_context(**settings)
    assert (chosen is not None) == parallel
    if parallel:
        assert chosen is context
        # One chain has nothing to share with another.
        assert _sampling.parallel_context(**{**settings, "chains": 1}) is None


def test_chains_run_sequentially_inside_a_daemonic_process(monkeypatch):
    # A Dask worker, say: it may not start child processes.
    monkeypatch.setattr(multiprocessing.current_process(), "daemon", True)
    assert _sampling.parallel_context(n_samples=10**6, draws=1000, tune=1000, chains=2) is None
