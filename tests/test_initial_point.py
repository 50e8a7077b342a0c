"""Starting points: one plausible k-means partition per chain, dispersed where they differ."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm._initial_point import (
    PLAUSIBLE_INERTIA_RATIO,
    STRONG_EVIDENCE_BIC,
    _canonical,
    chain_starts,
    classification_log_likelihood,
    dispersed_partitions,
    fewer_clusters_start,
    kmeans_partition,
)
from tests.conftest import elongated_clusters


def _square(seed=0):
    """Four equal clusters at the corners of a square: with k = 2, pairing them left and
    right or top and bottom are two modes of the posterior that a Gibbs sweep cannot cross
    (half the points would have to change component at once)."""
    rng = np.random.default_rng(seed)
    corners = np.array([[-4, -4], [-4, 4], [4, -4], [4, 4]], dtype=float)
    return corners[np.repeat(np.arange(4), 50)] + rng.normal(size=(200, 2))


def test_classification_log_likelihood_ranks_partitions_alike_in_any_units():
    rng = np.random.default_rng(3)
    Z = rng.normal(size=(120, 3)) + np.repeat(np.eye(3) * 4, 40, axis=0)
    truth, shuffled = np.repeat(np.arange(3), 40), rng.integers(3, size=120)
    A = rng.normal(size=(3, 3)) + 3 * np.eye(3)
    weights = rng.integers(1, 4, size=120).astype(float)
    for w in (None, weights):
        gap = classification_log_likelihood(Z, truth, 3, w) - classification_log_likelihood(
            Z, shuffled, 3, w
        )
        mapped = classification_log_likelihood(Z @ A, truth, 3, w) - classification_log_likelihood(
            Z @ A, shuffled, 3, w
        )
        assert gap > 100
        np.testing.assert_allclose(mapped, gap, rtol=1e-9)
    # Whole-number weights count a row that many times.
    repeated = np.repeat(np.arange(120), weights.astype(int))
    np.testing.assert_allclose(
        classification_log_likelihood(Z, truth, 3, weights),
        classification_log_likelihood(Z[repeated], truth[repeated], 3),
    )


def test_clusters_that_standardising_hides_are_found_in_the_data_units():
    """k-means on the standardised data cuts across the elongated clusters (ARI about
    0.03); the run in the data's own units wins on the classification likelihood, so
    every start holds the clusters and the ordering feature is x, which separates them.
    (Ordered on z, where the means overlap, one chain of four sat in another labelling:
    R-hat 1.53.)"""
    from sklearn.metrics import adjusted_rand_score

    X, truth = elongated_clusters()
    params = BayesianMCMCMixture(3, covariance_type="full", chains=4).get_params()
    spec, _, initvals = chain_starts(X, params, np.arange(16))
    assert spec.order_feature == 0
    for start in initvals:
        assert adjusted_rand_score(truth, start["category"]) > 0.95
    est = BayesianMCMCMixture(3, covariance_type="full", chains=4, draws=500, random_state=1).fit(X)
    assert est.convergence_["max_r_hat"] < 1.01


def test_canonical_labels_ignore_the_numbering_of_clusters():
    np.testing.assert_array_equal(_canonical(np.array([2, 2, 0, 1, 0])), [0, 0, 1, 2, 1])
    np.testing.assert_array_equal(
        _canonical(np.array([5, 5, 3, 7, 3])), _canonical(np.array([1, 1, 0, 2, 0]))
    )


def test_chains_get_the_distinct_plausible_partitions_in_turn():
    Z = _square()
    best, starts = dispersed_partitions(Z, 2, seeds=range(16), n_chains=4)
    keys = [_canonical(start.labels).tobytes() for start in starts]
    # Both pairings of the corners are plausible, and they alternate over the chains.
    assert keys[0] != keys[1] and keys[0] == keys[2] and keys[1] == keys[3]
    assert all(start.inertia <= PLAUSIBLE_INERTIA_RATIO * best.inertia for start in starts)
    assert best.inertia == min(start.inertia for start in starts)


def test_poor_local_optima_are_not_starting_points():
    """k = 3 on three well separated clusters: a run that splits one and merges two has a
    much larger sum of squares and starts no chain."""
    rng = np.random.default_rng(1)
    centers = np.array([[-10.0, 0.0], [0.0, 0.0], [10.0, 0.0]])
    Z = centers[np.repeat(np.arange(3), 40)] + rng.normal(size=(120, 2))
    best, starts = dispersed_partitions(Z, 3, seeds=range(40), n_chains=4)
    for start in starts:
        assert start.inertia <= PLAUSIBLE_INERTIA_RATIO * best.inertia
        np.testing.assert_array_equal(_canonical(start.labels), _canonical(best.labels))


def _three_clusters(seed=1):
    rng = np.random.default_rng(seed)
    centers = np.array([[-10.0, 0.0], [0.0, 0.0], [10.0, 0.0]])
    return centers[np.repeat(np.arange(3), 40)] + rng.normal(size=(120, 2))


@pytest.mark.parametrize("covariance_type", ["full", "tied_diag", "spherical"])
def test_no_chain_starts_with_fewer_clusters_than_the_data_clearly_hold(covariance_type):
    Z = _three_clusters()
    best = kmeans_partition(Z, 3, seed=0)
    assert fewer_clusters_start(Z, best, covariance_type, seeds=range(4)) is None
    _, starts = dispersed_partitions(Z, 3, range(16), 4, covariance_type=covariance_type)
    assert all(np.unique(start.labels).size == 3 for start in starts)


def test_a_start_with_one_cluster_fewer_where_the_data_do_not_clearly_need_k():
    """k = 4 on three clusters: every other chain starts from the best 3-means partition,
    with the fourth component empty at the data's median."""
    from sklearn.mixture import GaussianMixture

    Z = _three_clusters()
    bic = [GaussianMixture(k, random_state=0).fit(Z).bic(Z) for k in (3, 4)]
    assert bic[1] - bic[0] > -STRONG_EVIDENCE_BIC  # the screen lets it through
    best, starts = dispersed_partitions(Z, 4, range(16), 4, covariance_type="full")
    assert np.unique(best.labels).size == 4
    for chain, start in enumerate(starts):
        if chain % 2:
            assert np.unique(start.labels).size == 3 and start.labels.max() == 2
            np.testing.assert_array_equal(start.centers[3], np.zeros(2))
            np.testing.assert_array_equal(_canonical(start.labels), _canonical(_three_labels()))
        else:
            assert start.inertia <= PLAUSIBLE_INERTIA_RATIO * best.inertia


def _three_labels():
    return np.repeat(np.arange(3), 40)


def test_one_chain_or_one_component_has_no_fewer_start():
    Z = _three_clusters()
    _, starts = dispersed_partitions(Z, 4, range(4), 1, covariance_type="full")
    assert np.unique(starts[0].labels).size == 4
    assert fewer_clusters_start(Z, kmeans_partition(Z, 1, 0), "full", range(4)) is None


def test_a_posterior_mostly_on_fewer_clusters_is_not_silently_missed():
    """iris, three full matrices, no weight floor: over 99% of the posterior has two
    clusters and an (almost) empty component (shared/DESIGN.md section 8), yet chains
    started from three-species partitions stay there at R-hat near 1. At the defaults the
    second chain starts with one cluster fewer, and the warning names the two modes."""
    from sklearn.datasets import load_iris

    est = BayesianMCMCMixture(3, covariance_type="full", min_weight=0, random_state=0)
    with pytest.warns(ConvergenceWarning, match="The chains sit in 2 different modes") as caught:
        est.fit(load_iris().data)
    modes = est.convergence_["chain_modes"]
    assert modes["mode"] == [0, 1] and modes["n_clusters"] == [3, 2]
    assert "3 clusters" in str(caught[0].message) and "2 clusters" in str(caught[0].message)


@pytest.mark.parametrize("random_state", [0, 1])
def test_a_multimodal_posterior_raises_the_convergence_warning(random_state):
    """Chains that start from the two pairings stay there, and R-hat says so. (Started from
    one k-means partition, as before 0.2.0, both chains sat in one mode with R-hat < 1.01.)"""
    est = BayesianMCMCMixture(
        2, covariance_type="diag", draws=300, tune=300, random_state=random_state
    )
    with pytest.warns(ConvergenceWarning, match=r"max R-hat \d\.\d+ > 1\.01"):
        est.fit(_square())
    assert est.convergence_["max_r_hat"] > 1.01


def test_dispersed_starts_keep_draws_reproducible_sequential_or_parallel(monkeypatch):
    from bayes_gmm import _sampling

    X = _square()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sequential = BayesianMCMCMixture(2, draws=50, tune=50, random_state=3).fit(X)
        monkeypatch.setitem(_sampling.PARALLEL_MIN_WORK, "fork", 0)
        monkeypatch.setitem(_sampling.PARALLEL_MIN_WORK, "spawn", 0)
        parallel = BayesianMCMCMixture(2, draws=50, tune=50, random_state=3).fit(X)
    for name in ("weights", "means", "sigma"):
        np.testing.assert_array_equal(
            sequential.sample_trace_.posterior[name], parallel.sample_trace_.posterior[name]
        )
