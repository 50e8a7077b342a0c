"""Scoring at scale against the direct formulas of :mod:`bayes_gmm._posterior`, no MCMC."""

import numpy as np
import pytest
from scipy.special import logsumexp, softmax

from bayes_gmm import _scoring
from bayes_gmm._posterior import log_joint
from bayes_gmm._scoring import (
    category_probabilities,
    log_predictive_density,
    pointwise_log_likelihood,
)
from tests.test_posterior import D, _draws

FULL = pytest.mark.parametrize("full", [False, True], ids=["diagonal", "full"])


def _direct(X, draws):
    """Category probabilities, per-draw log-likelihood and log predictive density."""
    with np.errstate(divide="ignore"):
        values = log_joint(X, *draws)  # (S, k, n)
    per_draw = logsumexp(values, axis=1)
    return (
        softmax(values, axis=1).mean(axis=0).T,
        per_draw,
        logsumexp(per_draw, axis=0) - np.log(values.shape[0]),
    )


def _scored(X, draws):
    return (
        category_probabilities(X, draws),
        pointwise_log_likelihood(X, draws),
        log_predictive_density(X, draws),
    )


def _assert_all_close(X, draws, rtol=1e-10):
    for got, expected in zip(_scored(X, draws), _direct(X, draws), strict=True):
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-12)


@FULL
def test_scores_match_the_direct_formulas(full):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(13, D)) * 3
    draws = _draws(rng, n_draws=9, full=full)
    _assert_all_close(X, draws)
    np.testing.assert_allclose(category_probabilities(X, draws).sum(axis=1), 1.0)


@FULL
def test_blocks_and_threads_give_the_same_scores(monkeypatch, full):
    """Many small blocks, shared among threads, change nothing."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(1000, D)) * 3
    draws = _draws(rng, n_draws=9, full=full)
    whole = _scored(X, draws)
    monkeypatch.setattr(_scoring, "_BLOCK_ELEMENTS", 1)
    monkeypatch.setattr(_scoring, "_MIN_BLOCK_POINTS", 7)
    monkeypatch.setattr(_scoring, "_n_threads", lambda: 3)
    for got, expected in zip(_scored(X, draws), whole, strict=True):
        np.testing.assert_array_equal(got, expected)


@FULL
def test_scores_survive_points_far_from_every_component(full):
    # 1e5 sds away: every exp(log joint) underflows, the ratios and logs do not.
    rng = np.random.default_rng(3)
    draws = _draws(rng, full=full)
    far = np.full((2, D), 1e5)
    for values in _scored(far, draws):
        assert np.all(np.isfinite(values))
    _assert_all_close(far, draws)


@FULL
def test_a_narrow_component_far_from_the_centre_is_scored_directly(monkeypatch, full):
    """Where the expansion would cancel, the guard computes the log-joint directly.

    A component of sd 1e-6 at 1e4 from the others: expanded, x^2 / sd^2 ~ 1e20 leaves no
    correct digit; the direct formula is exact.
    """
    rng = np.random.default_rng(4)
    draws = _draws(rng, n_draws=3, full=full)
    means = draws.means.copy()
    means[:, 0] = 1e4
    factor = draws.precision_cholesky.copy()
    factor[:, 0] *= 1e6
    draws = draws._replace(means=means, precision_cholesky=factor)
    X = np.concatenate([means[0, :1] + 1e-6 * rng.normal(size=(5, D)), rng.normal(size=(5, D))])
    calls = []
    monkeypatch.setattr(_scoring, "log_joint", lambda *a: calls.append(1) or log_joint(*a))
    _assert_all_close(X, draws)
    assert calls, "the guard did not fall back to the direct formula"
    # Ordinary data never needs it.
    calls.clear()
    _assert_all_close(rng.normal(size=(5, D)), _draws(rng, full=full))
    assert not calls


def test_a_component_of_zero_weight_gets_probability_zero():
    rng = np.random.default_rng(5)
    draws = _draws(rng)
    weights = draws.weights.copy()
    weights[:, 2] = 0.0
    weights /= weights.sum(axis=1, keepdims=True)
    draws = draws._replace(weights=weights)
    X = rng.normal(size=(20, D))
    np.testing.assert_array_equal(category_probabilities(X, draws)[:, 2], 0.0)
    _assert_all_close(X, draws)
