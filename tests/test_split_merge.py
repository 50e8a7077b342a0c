"""Split-merge moves: the move against its target by enumeration, agreement with the plain
Gibbs sampler, and partitions of exactly equal mass that only the move crosses."""

import itertools
import warnings

import arviz as az
import numpy as np
import pytest
from scipy import stats
from scipy.special import gammaln, logsumexp
from sklearn.exceptions import ConvergenceWarning

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm._sampling.split_merge import split_merge
from bayes_gmm._sampling.sweep import GibbsSweep, SweepState
from bayes_gmm._spec import data_scales, resolve_spec
from tests.conftest import P_MIN, assert_posterior_means_agree, bonferroni_z

X_SMALL = np.array([-2.0, -1.6, -0.2, 0.3, 1.4, 2.1])[:, None]


def _sweep(X, **params):
    params = {**BayesianMCMCMixture(**params).get_params(), "mean_prior_loc": 0.0}
    scales = data_scales(X)
    spec = resolve_spec(params, scales, 0)
    return GibbsSweep(X, spec, scales.median, scales.spread, split_merge=True)


def _restricted_law(sweep, weights, sigma, beta):
    """Every allocation of the points to two components, and its probability given the
    weights and the shared sd under the ordered model, the means integrated out:
    prod w_z_i x each component's marginal likelihood x P(mu_0 < mu_1 | z)."""
    Z = sweep._Z[:, 0]
    loc, scale = sweep._prior_loc[0], sweep._prior_scale[0]
    allocations = np.array(list(itertools.product([0, 1], repeat=Z.shape[0])))
    log_p, moments = [], []
    for z in allocations:
        value, mean_var = 0.0, []
        for c in (0, 1):
            points = Z[z == c]
            value += points.shape[0] * np.log(weights[c])
            value += sweep._covariance.log_marginal_likelihood(
                points[:, None], sigma, c, sweep._prior_loc, sweep._prior_scale, beta
            )
            precision = 1 / scale**2 + beta * points.shape[0] / sigma**2
            mean_var.append(
                ((loc / scale**2 + beta * points.sum() / sigma**2) / precision, 1 / precision)
            )
        (m0, v0), (m1, v1) = mean_var
        value += stats.norm.logcdf((m1 - m0) / np.sqrt(v0 + v1))
        log_p.append(value)
        moments.append(mean_var)
    log_p = np.asarray(log_p)
    return allocations, np.exp(log_p - logsumexp(log_p)), moments


@pytest.mark.parametrize(
    ("beta", "n"),
    [
        (1.0, 10_000),
        pytest.param(1.0, 40_000, marks=pytest.mark.slow),
        pytest.param(0.4, 40_000, marks=pytest.mark.slow),
    ],
)
def test_move_leaves_the_ordered_posterior_of_the_allocation_invariant(beta, n):
    """Exact draws of (z, mu) given the weights and a shared sd, moved, keep their law
    (chi-square over the 64 allocations), at the posterior and at a tempered target.

    The move ends by sorting the components, weights included, so it keeps the ordered
    posterior of the whole state; the law given the weights is kept where sorting cannot
    change them: equal weights.
    """
    sweep = _sweep(X_SMALL, n_components=2, covariance_type="tied_spherical")
    weights, sigma = np.array([0.5, 0.5]), np.array(0.35)
    allocations, probability, moments = _restricted_law(sweep, weights, sigma, beta)
    rng = np.random.default_rng(1)
    drawn = rng.choice(allocations.shape[0], size=n, p=probability)
    counts = np.zeros(allocations.shape[0])
    accepted = 0
    for index in drawn:
        (m0, v0), (m1, v1) = moments[index]
        while True:  # the means given z, ordered: rejection from their Normals
            means = np.array(
                [m0 + np.sqrt(v0) * rng.standard_normal(), m1 + np.sqrt(v1) * rng.standard_normal()]
            )
            if means[0] < means[1]:
                break
        state = SweepState(weights, means[:, None], sigma, 1.0, allocations[index].copy())
        moved, was_accepted = split_merge(
            rng, sweep._Z, state, sweep._covariance, sweep._move_prior, beta
        )
        accepted += was_accepted
        assert moved.means[0, 0] <= moved.means[1, 0]
        code = int(np.dot(moved.category, 2 ** np.arange(allocations.shape[1])[::-1]))
        counts[code] += 1
    # The move must move: otherwise this test could not fail.
    assert accepted > 0.05 * n
    assert stats.chisquare(*_pooled(counts, n * probability)).pvalue > P_MIN


def _pooled(observed, expected):
    """Cells expected to hold fewer than 5 draws pooled into one, for the chi-square."""
    small = expected < 5
    if not small.any():
        return observed, expected
    return (
        np.append(observed[~small], observed[small].sum()),
        np.append(expected[~small], expected[small].sum()),
    )


def _ordered_probability(moments):
    """P(mu_0 < mu_1 < mu_2) for independent Normal(mean, var) means, by quadrature over
    mu_1."""
    (m0, v0), (m1, v1), (m2, v2) = moments
    sd1 = np.sqrt(v1)
    grid = m1 + sd1 * np.linspace(-12, 12, 4001)
    inner = stats.norm.cdf(grid, m0, np.sqrt(v0)) * stats.norm.sf(grid, m2, np.sqrt(v2))
    return np.trapezoid(inner * stats.norm.pdf(grid, m1, sd1), grid)


def test_sparse_move_leaves_the_ordered_posterior_of_the_allocation_invariant():
    """The sparse mixture's move, weights integrated out (a Dirichlet-multinomial prior on
    the categories) and drawn afresh: exact draws of (z, w, mu) given the concentration and
    a shared sd keep the law of z over all 3^5 allocations into three components."""
    X = X_SMALL[:5]
    sweep = _sweep(
        X, n_components=3, covariance_type="tied_spherical", weight_concentration="sparse"
    )
    e, sigma = 0.7, np.array(0.4)
    Z = sweep._Z[:, 0]
    loc, scale = sweep._prior_loc[0], sweep._prior_scale[0]
    allocations = np.array(list(itertools.product([0, 1, 2], repeat=5)))
    log_p, moments = [], []
    for z in allocations:
        counts = np.bincount(z, minlength=3)
        value = np.sum(gammaln(counts + e))
        per_component = []
        for c in range(3):
            points = Z[z == c]
            value += sweep._covariance.log_marginal_likelihood(
                points[:, None], sigma, c, sweep._prior_loc, sweep._prior_scale, 1.0
            )
            precision = 1 / scale**2 + points.shape[0] / sigma**2
            per_component.append(
                ((loc / scale**2 + points.sum() / sigma**2) / precision, 1 / precision)
            )
        log_p.append(value + np.log(_ordered_probability(per_component)))
        moments.append(per_component)
    log_p = np.asarray(log_p)
    probability = np.exp(log_p - logsumexp(log_p))
    rng = np.random.default_rng(2)
    n = 10_000
    counts_out = np.zeros(allocations.shape[0])
    accepted = 0
    for index in rng.choice(allocations.shape[0], size=n, p=probability):
        z = allocations[index]
        (m0, v0), (m1, v1), (m2, v2) = moments[index]
        while True:
            means = rng.normal([m0, m1, m2], np.sqrt([v0, v1, v2]))
            if means[0] < means[1] < means[2]:
                break
        weights = rng.dirichlet(e + np.bincount(z, minlength=3))
        state = SweepState(weights, means[:, None], sigma, e, z.copy())
        moved, was_accepted = split_merge(
            rng, sweep._Z, state, sweep._covariance, sweep._move_prior
        )
        accepted += was_accepted
        counts_out[int(np.dot(moved.category, 3 ** np.arange(5)[::-1]))] += 1
    assert accepted > 0.05 * n
    assert stats.chisquare(*_pooled(counts_out, n * probability)).pvalue > P_MIN


def _fit(X, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return BayesianMCMCMixture(**params).fit(X)


@pytest.mark.slow
@pytest.mark.parametrize(
    "params",
    [
        {"covariance_type": "spherical"},
        {"covariance_type": "diag", "sd_prior": "halfnormal"},
        {"covariance_type": "tied_diag"},
        {"covariance_type": "full"},
        {"covariance_type": "tied"},
        {"covariance_type": "diag", "n_components": 5, "weight_concentration": "sparse"},
    ],
    ids=["spherical", "diag-halfnormal", "tied_diag", "full", "tied", "sparse"],
)
def test_split_merge_agrees_with_the_plain_gibbs_sampler(blobs_2d, params):
    """On a posterior with one mode, fits with and without the move agree within Monte
    Carlo error: the move changes how the chain travels, not where it goes."""
    X, _ = blobs_2d
    settings = {"n_components": 3, "draws": 3000, "random_state": 0, **params}
    plain = _fit(X, **settings)
    moved = _fit(X, **{**settings, "random_state": 1}, split_merge=True)
    assert float(moved.sample_trace_.sample_stats["split_merge_accepted"].mean()) > 0
    if plain._clusters is not None:
        np.testing.assert_array_equal(
            plain.n_clusters_posterior_ > 0.5, moved.n_clusters_posterior_ > 0.5
        )
    else:
        assert_posterior_means_agree(plain, moved)


def _square(n_corner=40, half_side=3.0, seed=1):
    """Four clusters on the corners of a square, invariant under a quarter turn: with two
    full components, left | right and top | bottom hold half the posterior each."""
    corner = np.random.default_rng(seed).normal(0, 1, (n_corner, 2)) + half_side
    turns = [corner]
    for _ in range(3):
        turns.append(turns[-1][:, ::-1] * [-1, 1])
    return np.concatenate(turns)


@pytest.mark.slow
def test_split_merge_weighs_equal_mass_partitions_equally():
    """The square: untempered Gibbs chains each keep the partition they start in; with the
    move they cross, and the share of left | right agrees with 1/2 within its Monte
    Carlo error."""
    est = _fit(
        _square(),
        n_components=2,
        covariance_type="full",
        split_merge=True,
        chains=4,
        draws=2000,
        random_state=0,
    )
    means = est.sample_trace_.posterior["means"].to_numpy()
    gap = np.abs(means[..., 0, :] - means[..., 1, :])
    left_right = (gap[..., 0] > gap[..., 1]).astype(float)
    assert 0 < left_right.mean(axis=1).min() and left_right.mean(axis=1).max() < 1
    assert abs(left_right.mean() - 0.5) <= bonferroni_z(1) * az.mcse(left_right)


def test_points_tied_on_a_feature_keep_the_move_finite():
    """Rounded data: two clusters whose second feature takes one value each. The move's
    proposals must stay finite (an overflow would leave a ratio that is not a number)."""
    rng = np.random.default_rng(3)
    X = np.column_stack(
        [np.concatenate([rng.normal(-3, 1, 40), rng.normal(3, 1, 40)]), np.repeat([0.2, 1.4], 40)]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = BayesianMCMCMixture(
            4,
            covariance_type="diag",
            weight_concentration="sparse",
            split_merge=True,
            draws=100,
            tune=100,
            random_state=0,
        ).fit(X)
    assert est.sample_trace_.sample_stats["split_merge_accepted"].any()


def test_split_merge_is_refused_with_other_samplers():
    with pytest.raises(ValueError, match="split_merge=True adds moves to the Gibbs sampler"):
        BayesianMCMCMixture(2, sampler="nuts", split_merge=True).fit(X_SMALL)
