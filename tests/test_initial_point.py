"""Starting points: one plausible k-means partition per chain, dispersed where they differ."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm._initial_point import (
    PLAUSIBLE_INERTIA_RATIO,
    _canonical,
    dispersed_partitions,
)


def _square(seed=0):
    """Four equal clusters at the corners of a square: with k = 2, pairing them left and
    right or top and bottom are two modes of the posterior that a Gibbs sweep cannot cross
    (half the points would have to change component at once)."""
    rng = np.random.default_rng(seed)
    corners = np.array([[-4, -4], [-4, 4], [4, -4], [4, 4]], dtype=float)
    return corners[np.repeat(np.arange(4), 50)] + rng.normal(size=(200, 2))


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
