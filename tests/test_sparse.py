"""The sparse mixture (``weight_concentration="sparse"``): its updates, and its clusters.

The conditional updates are checked on their own, against laws computed independently
(numerical integration, the Beta marginals of a Dirichlet, the Dirichlet-multinomial
distribution of the number of occupied components); the estimator's cluster-level answers
on short fits. The updates of the means and covariances of an empty component are the
prior's, and tests/test_gibbs.py checks them with an empty component among the others.
"""

import math
import warnings

import numpy as np
import pytest
from scipy import integrate, special, stats
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm._clusters import (
    n_clusters_distribution,
    n_clusters_per_draw,
    occupied_components,
    select,
)
from bayes_gmm._posterior import draw_categorical
from bayes_gmm._sampling.conditionals import (
    collapsed_categories,
    concentration_log_density,
    sample_concentration,
    sample_weights,
)
from bayes_gmm._scoring import log_predictive_density
from tests.conftest import COVARIANCE_TYPES, FAST, P_MIN

# Short chains after the sparse fit's default warm-up of 1000 sweeps, in which the
# components the data do not need empty.
SPARSE_FAST = {**FAST, "tune": 1000}


def _concentration_cdf(counts, shape, rate):
    """CDF of p(e | z) on log e by quadrature of the unnormalised log density."""
    grid = np.linspace(-14.0, 6.0, 40_001)
    log_density = concentration_log_density(grid, counts, shape, rate)
    density = np.exp(log_density - log_density.max())
    cdf = integrate.cumulative_trapezoid(density, grid, initial=0.0)
    return grid, cdf / cdf[-1]


@pytest.mark.parametrize(
    ("counts", "shape", "rate"),
    [
        (np.array([60, 0, 30, 0, 0, 10]), 10.0, 1000.0),  # the default prior, sparse counts
        (np.array([5, 5, 0, 1]), 2.0, 2.0),  # a wide prior that the counts move
    ],
)
def test_concentration_update_leaves_its_conditional_invariant(counts, shape, rate):
    """Exact draws of p(e | z), each given one update: they still follow p(e | z), and
    most of them moved (a kernel that stands still would pass the first test alone)."""
    grid, cdf = _concentration_cdf(counts, shape, rate)
    rng = np.random.default_rng(0)
    start = np.exp(np.interp(rng.random(4000), cdf, grid))
    moved = np.array([sample_concentration(rng, counts, e, shape, rate) for e in start])
    assert np.mean(moved != start) > 0.5
    assert stats.kstest(np.log(moved), lambda x: np.interp(x, grid, cdf)).pvalue > P_MIN


def test_concentration_density_is_the_gamma_prior_times_the_dirichlet_multinomial():
    """Against the textbook form, at a few values: differences are constant in e."""
    counts, shape, rate = np.array([3, 0, 7]), 3.0, 5.0
    e = np.array([0.01, 0.3, 2.0, 9.0])
    n, k = counts.sum(), counts.size
    reference = (
        stats.gamma(shape, scale=1 / rate).logpdf(e)
        + np.log(e)  # Jacobian of the log scale
        + special.gammaln(k * e)
        - special.gammaln(n + k * e)
        + sum(special.gammaln(c + e) - special.gammaln(e) for c in counts)
    )
    difference = concentration_log_density(np.log(e), counts, shape, rate) - reference
    np.testing.assert_allclose(difference, difference[0], atol=1e-9)


def test_weights_with_empty_components_follow_the_dirichlet():
    """Dirichlet(e + counts) with e = 0.01 and empty components: each weight's Beta marginal,
    including the tiny weights of the empty ones (checked on the log scale, by their CDF at
    points down to 1e-200)."""
    counts, e = np.array([0, 40, 0, 0, 60]), 0.01
    alpha = e + counts
    rng = np.random.default_rng(1)
    draws = np.stack([sample_weights(rng, counts, e, 0.0, None)[0] for _ in range(20_000)])
    assert np.all(draws > 0)
    for c in range(counts.size):
        marginal = stats.beta(alpha[c], alpha.sum() - alpha[c])
        if counts[c]:
            assert stats.kstest(draws[:, c], marginal.cdf).pvalue > P_MIN
        else:
            thresholds = 10.0 ** np.array([-200, -100, -50, -20, -5])
            observed = (draws[:, c, None] < thresholds).sum(axis=0)
            expected = marginal.cdf(thresholds) * draws.shape[0]
            z = (observed - expected) / np.sqrt(expected * (1 - expected / draws.shape[0]))
            assert np.all(np.abs(z) < stats.norm.isf(P_MIN / (2 * 5 * 3)))


def test_collapsed_category_updates_leave_their_conditional_invariant():
    """Exact draws of p(z | mu, Sigma, e), the weights integrated out, each given one pass:
    the configurations of 4 points in 3 components still follow that law (enumerated), and
    most draws moved. The likelihoods leave every point undecided, component 2 is where
    only point 3 fits, and e = 0.3 so that empty components matter."""
    log_likelihood = np.log(
        np.array([[0.5, 0.3, 0.2, 0.01], [0.4, 0.5, 0.3, 0.01], [0.1, 0.2, 0.5, 0.98]])
    )
    k, n, e = 3, 4, 0.3
    configurations = np.array(np.meshgrid(*[np.arange(k)] * n, indexing="ij")).reshape(n, -1).T
    counts = np.stack([np.bincount(z, minlength=k) for z in configurations])
    log_p = (special.gammaln(counts + e) - special.gammaln(e)).sum(axis=1) + log_likelihood[
        configurations, np.arange(n)
    ].sum(axis=1)
    p = np.exp(log_p - log_p.max())
    p /= p.sum()
    rng = np.random.default_rng(4)
    n_draws = 40_000
    start = configurations[rng.choice(p.size, size=n_draws, p=p)]
    after = np.stack([collapsed_categories(rng, log_likelihood, z.copy(), e) for z in start])
    assert np.mean(np.any(after != start, axis=1)) > 0.5
    index = (after * k ** np.arange(n)[::-1]).sum(axis=1)
    observed = np.bincount(index, minlength=p.size)
    assert stats.chisquare(observed, n_draws * p).pvalue > P_MIN


def test_collapsed_updates_choose_points_from_the_likelihood_alone():
    """Points that one component explains beyond doubt are left as they are."""
    log_likelihood = np.log(np.array([[1.0, 0.5, 1e-9], [1e-9, 0.5, 1.0]]))
    rng = np.random.default_rng(5)
    moved = np.zeros(3)
    for _ in range(2000):
        start = np.array([1, 0, 0])
        moved += collapsed_categories(rng, log_likelihood, start.copy(), 0.01) != start
    assert moved[0] == 0 and moved[2] == 0 and moved[1] > 0


def _prior_n_clusters(n_points, n_components, shape, rate):
    """P(K+ = m), m = 0..K, under e ~ Gamma(shape, rate), w ~ Dirichlet(e), z_i ~ w.

    For fixed e, P(K+ = m) = C(K, m) N! Gamma(K e) / Gamma(N + K e) times the sum over
    compositions (n_1..n_m >= 1, summing to N) of prod_j Gamma(n_j + e) / (Gamma(e) n_j!),
    computed by dynamic programming; then integrated over e by quadrature.
    """

    def given(e):
        n = np.arange(1, n_points + 1)
        term = np.exp(special.gammaln(n + e) - special.gammaln(e) - special.gammaln(n + 1))
        ways = np.zeros((n_components + 1, n_points + 1))
        ways[0, 0] = 1.0
        for m in range(1, n_components + 1):
            for total in range(m, n_points + 1):
                # The last of m occupied components holds `size` points, 1..total.
                ways[m, total] = ways[m - 1, :total][::-1] @ term[:total]
        log_norm = (
            special.gammaln(n_points + 1)
            + special.gammaln(n_components * e)
            - special.gammaln(n_points + n_components * e)
        )
        choose = np.array([math.comb(n_components, m) for m in range(n_components + 1)])
        return choose * ways[:, n_points] * np.exp(log_norm)

    prior = stats.gamma(shape, scale=1 / rate)
    return integrate.quad_vec(lambda e: given(e) * prior.pdf(e), 0, np.inf)[0]


def test_occupied_components_without_data_follow_their_prior():
    """The sweep's category (given the weights, then collapsed), concentration and weight
    updates, in the sweep's order, with no likelihood: the number of occupied components
    after a run from equal weights and e = 1, in independent replicates, against its prior
    law. A wide Gamma(2, 2) prior on e spreads that law over 1..K."""
    n_points, k, shape, rate = 12, 4, 2.0, 2.0
    expected = _prior_n_clusters(n_points, k, shape, rate)
    np.testing.assert_allclose(expected.sum(), 1.0, atol=1e-6)
    rng = np.random.default_rng(2)
    n_replicates, n_sweeps = 1500, 40
    no_data = np.zeros((k, n_points))  # every log-likelihood 0: the prior alone
    occupied = np.empty(n_replicates, dtype=int)
    for r in range(n_replicates):
        category, e, weights = np.zeros(n_points, dtype=int), 1.0, np.full(k, 1 / k)
        for _ in range(n_sweeps):
            category = draw_categorical(rng, np.repeat(weights[:, None], n_points, axis=1))
            category = collapsed_categories(rng, no_data, category, e)
            counts = np.bincount(category, minlength=k)
            e = sample_concentration(rng, counts, e, shape, rate)
            weights = sample_weights(rng, counts, e, 0.0, weights)[0]
        occupied[r] = np.count_nonzero(counts)
    observed = np.bincount(occupied, minlength=k + 1)[1:]
    assert stats.chisquare(observed, n_replicates * expected[1:]).pvalue > P_MIN


def test_clusters_are_the_occupied_components_in_order():
    counts = np.array([[5, 0, 3, 0], [0, 4, 4, 0], [2, 2, 2, 2], [8, 0, 0, 0]])
    np.testing.assert_array_equal(n_clusters_per_draw(counts), [2, 2, 4, 1])
    np.testing.assert_allclose(n_clusters_distribution([2, 2, 4, 1], 4), [0, 0.25, 0.5, 0, 0.25])
    draws, components = occupied_components(counts, 2)
    np.testing.assert_array_equal(draws, [0, 1])
    np.testing.assert_array_equal(components, [[0, 2], [1, 2]])
    means = np.arange(4 * 4 * 2).reshape(4, 4, 2)
    np.testing.assert_array_equal(select(means, draws, components), means[[[0], [1]], components])


@pytest.fixture(scope="module")
def three_clusters():
    """Three well-separated 2-D clusters, and their labels."""
    rng = np.random.default_rng(3)
    centers = np.array([[-6.0, -6.0], [0.0, 0.0], [6.0, 6.0]])
    y = np.repeat(np.arange(3), [80, 60, 100])
    return centers[y] + rng.normal(size=(y.size, 2)), y


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_sparse_fit_answers_for_its_clusters(three_clusters, covariance_type):
    X, y = three_clusters
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = BayesianMCMCMixture(
            6, covariance_type=covariance_type, weight_concentration="sparse", **SPARSE_FAST
        ).fit(X)
    m = est.n_clusters_
    assert m == 3
    posterior = est.n_clusters_posterior_
    assert posterior.shape == (7,) and posterior[0] == 0
    np.testing.assert_allclose(posterior.sum(), 1.0)
    assert est.weights_.shape == (m,) and est.means_.shape == (m, 2)
    np.testing.assert_allclose(est.weights_.sum(), 1.0)
    np.testing.assert_array_equal(est.classes_, np.arange(m))
    assert est.predict_proba(X).shape == (X.shape[0], m)
    assert adjusted_rand_score(y, est.labels_) > 0.95
    # The means of the clusters, in the order of the ordering feature.
    assert np.all(np.diff(est.means_[:, est.order_feature_]) > 0)
    # score_samples averages the whole posterior, every component of every draw.
    every_draw = est._posterior_draws()
    np.testing.assert_allclose(
        est.set_params(prediction_draws="all").score_samples(X[:5]),
        log_predictive_density(X[:5], every_draw),
    )
    table = est.n_clusters_summary()
    np.testing.assert_allclose(table["probability"], posterior[table.index])
    assert {"n_clusters", "weight_concentration", "weights[0]"} <= set(est.summary().index)


def test_sparse_fit_round_trips_through_save_and_load(three_clusters, tmp_path):
    X, _ = three_clusters
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = BayesianMCMCMixture(5, weight_concentration="sparse", **SPARSE_FAST).fit(X)
    est.save(tmp_path / "fit.nc")
    loaded = BayesianMCMCMixture.load(tmp_path / "fit.nc")
    assert loaded.n_clusters_ == est.n_clusters_
    np.testing.assert_array_equal(loaded.n_clusters_posterior_, est.n_clusters_posterior_)
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
    assert loaded.convergence_ == est.convergence_


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sampler": "nuts"}, "sampler='nuts' does not support weight_concentration='sparse'"),
        ({"min_weight": 0.05}, "min_weight=0.05 cannot be combined with"),
    ],
)
def test_sparse_refuses_what_it_cannot_do(three_clusters, params, message):
    X, _ = three_clusters
    with pytest.raises(ValueError, match=message):
        BayesianMCMCMixture(4, weight_concentration="sparse", **params, **SPARSE_FAST).fit(X)


def test_n_clusters_summary_needs_a_sparse_fit(seed_fit):
    with pytest.raises(AttributeError, match="weight_concentration='sparse'"):
        seed_fit.n_clusters_summary()


@pytest.mark.slow
@pytest.mark.parametrize("covariance_type", ["tied_diag", "full"])
@pytest.mark.parametrize("n_true", [1, 2, 3, 5])
def test_number_of_clusters_concentrates_on_the_truth(n_true, covariance_type):
    """Well-separated clusters of 100 points, n_components=10, default settings: the most
    probable number of clusters is the true one, with most of the posterior mass."""
    rng = np.random.default_rng(n_true)
    centers = 8.0 * np.arange(n_true)[:, None] * np.ones((1, 2))
    y = np.repeat(np.arange(n_true), 100)
    X = centers[y] + rng.normal(size=(y.size, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = BayesianMCMCMixture(
            10, covariance_type=covariance_type, weight_concentration="sparse", random_state=0
        ).fit(X)
    assert est.n_clusters_ == n_true
    assert est.n_clusters_posterior_[n_true] > 0.5
    if n_true > 1:
        assert adjusted_rand_score(y, est.labels_) > 0.95
