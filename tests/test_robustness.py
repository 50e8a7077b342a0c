"""Numerical robustness: underflow, empty components, outliers, scales, parallel chains."""

import multiprocessing
import os
import sys

import arviz as az
import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from bayes_gmm import BayesianMCMCMixture, _sampling
from bayes_gmm._sampling._forked import run_forked
from bayes_gmm.datasets import make_notebook_data
from tests.conftest import assert_fitted_sanely, bonferroni_z


def _assert_truth_within_posterior(posterior, truths):
    """Each true value lies within z posterior sds of its posterior mean.

    With enough data the posterior is about Normal around an estimate whose error has that
    sd (Bernstein-von Mises), so (mean - truth) / sd is about standard Normal; the Monte
    Carlo error of the mean adds to the variance. Bonferroni over every value compared.
    """
    mcse = az.mcse(posterior, var_names=list(truths))
    z = bonferroni_z(sum(posterior[name].isel(chain=0, draw=0).size for name in truths))
    for name, truth in truths.items():
        mean = posterior[name].mean(("chain", "draw")).to_numpy()
        sd = posterior[name].std(("chain", "draw")).to_numpy()
        se = np.hypot(sd, mcse[name].to_numpy())
        assert np.all(np.abs(mean - truth) <= z * se), (name, mean, se, truth)


def test_far_apart_clusters_with_tiny_variances():
    # Responsibilities underflow: each point is ~1e6 sds from the other clusters.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    X = (np.array([0.0, 1e3, 2e3])[y] + rng.normal(size=300) * 1e-3)[:, None]
    est = BayesianMCMCMixture(draws=300, tune=300, random_state=0).fit(X)
    assert_fitted_sanely(est, X)
    assert adjusted_rand_score(y, est.labels_) == 1.0
    _assert_truth_within_posterior(
        est.sample_trace_.posterior, {"means": [[0.0], [1e3], [2e3]], "sigma": 1e-3}
    )


def test_components_that_lose_all_their_points():
    X, _ = make_notebook_data()
    est = BayesianMCMCMixture(
        4,
        covariance_type="diag",
        min_weight=0,
        weight_concentration=0.1,
        draws=1000,
        random_state=0,
    ).fit(X)
    category = est.sample_trace_.posterior["category"].to_numpy().reshape(-1, X.shape[0])
    empty = [np.bincount(c, minlength=4).min() == 0 for c in category]
    assert np.mean(empty) > 0.1  # the situation under test does arise
    assert_fitted_sanely(est, X)


def test_extreme_outlier_gets_its_own_component():
    X, y = make_notebook_data()
    X_outlier = np.r_[X, [[1e12]]]
    est = BayesianMCMCMixture(4, random_state=0).fit(X_outlier)
    assert_fitted_sanely(est, X_outlier)
    assert est.labels_[-1] == 3
    # The Bayes classifier with the true parameters reaches ARI 0.946 on the other 500
    # points (9 lie beyond a midpoint between clusters); 0.9 leaves room for a few more.
    assert adjusted_rand_score(y, est.labels_[:-1]) > 0.9
    # The notebook's clusters keep their posterior: means at -5, 0, 5 and sd 1 within its
    # error. The outlier's own component is left out: its mean is the outlier.
    _assert_truth_within_posterior(
        est.sample_trace_.posterior.isel(component=slice(0, 3)),
        {"means": [[-5.0], [0.0], [5.0]], "sigma": 1.0},
    )


@pytest.mark.parametrize("covariance_type", ["tied_diag", "diag"])
def test_features_on_wildly_different_scales(covariance_type):
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 300)
    centers = np.array([[-5.0, 0.0], [0.0, 5.0], [5.0, -5.0]])
    scales = np.array([1e-6, 1e6])
    X = (centers[y] + rng.normal(size=(300, 2))) * scales
    est = BayesianMCMCMixture(covariance_type=covariance_type, draws=300, tune=300, random_state=0)
    est.fit(X)
    assert_fitted_sanely(est, X)
    # The Bayes classifier with the true parameters assigns every point right (ARI 1).
    assert adjusted_rand_score(y, est.labels_) > 0.95
    # The components come ordered on order_feature_; every sd is 1 in the feature's unit.
    ordered_centers = centers[np.argsort(centers[:, est.order_feature_])]
    _assert_truth_within_posterior(
        est.sample_trace_.posterior, {"means": ordered_centers * scales, "sigma": scales}
    )


def test_parallel_chains_give_the_same_draws_as_sequential(monkeypatch):
    X, _ = make_notebook_data()
    settings = {"draws": 100, "tune": 100, "random_state": 3}
    sequential = BayesianMCMCMixture(**settings).fit(X)
    monkeypatch.setattr(
        _sampling, "PARALLEL_MIN_WORK", dict.fromkeys(_sampling.PARALLEL_MIN_WORK, 0)
    )
    forked = []
    real_run_forked = _sampling.run_forked

    def spy(context, function, n):
        forked.append(n)
        return real_run_forked(context, function, n)

    monkeypatch.setattr(_sampling, "run_forked", spy)
    parallel = BayesianMCMCMixture(**settings).fit(X)
    assert forked == [2]
    for name in ("weights", "means", "sigma", "category"):
        np.testing.assert_array_equal(
            parallel.sample_trace_.posterior[name], sequential.sample_trace_.posterior[name]
        )


def _fail_in(where):
    def function(index):
        if index == where:
            raise ValueError(f"chain {index} failed")
        return index**2

    return function


def test_forked_chains_return_in_order_and_raise_what_a_chain_raised():
    context = multiprocessing.get_context("fork")
    assert run_forked(context, lambda index: index**2, 3) == [0, 1, 4]
    assert run_forked(context, lambda index: index**2, 1) == [0]
    with pytest.raises(ValueError, match="chain 2 failed"):
        run_forked(context, _fail_in(2), 3)
    # The first chain runs here; its error stops the children too.
    with pytest.raises(ValueError, match="chain 0 failed"):
        run_forked(context, _fail_in(0), 3)
    with pytest.raises(RuntimeError, match="chain 1's process exited with code 3"):
        run_forked(context, lambda index: os._exit(3) if index else 0, 2)


@pytest.mark.parametrize(
    ("start_method", "n_samples", "parallel"),
    [
        ("fork", 50, True),
        ("fork", 500, True),
        ("spawn", 100_000, False),
        ("spawn", 250_000, True),
        ("forkserver", 100_000, False),
    ],
)
def test_parallel_chains_by_size_and_start_method(monkeypatch, start_method, n_samples, parallel):
    # An earlier numpyro or blackjax fit would rule out fork (tests/test_backends.py).
    monkeypatch.delitem(sys.modules, "jax", raising=False)
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
