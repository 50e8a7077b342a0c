"""Each exact conditional update of the Gibbs sweep, checked without running PyMC."""

import numpy as np
import pytest
from scipy import integrate, stats

from bayes_gmm._posterior import sample_categories
from bayes_gmm._sampling._wishart import sample_inverse_wishart
from bayes_gmm._sampling.conditionals import (
    pairwise_weights,
    sample_means,
    sample_means_correlated,
    sample_sigma,
    sample_weights,
    scatter_matrices,
    sigma_log_density,
    squared_residuals,
    sufficient_statistics,
)
from tests.conftest import P_MIN


def _restricted_dirichlet(rng, alpha, min_weight, size):
    """Reference by plain rejection: exact, and affordable where acceptance is high."""
    draws = rng.dirichlet(alpha, size=50 * size)
    return draws[draws.min(axis=1) >= min_weight][:size]


def test_sample_categories_frequencies_match_probabilities():
    rng = np.random.default_rng(0)
    probabilities = np.array([[0.2, 0.5, 0.3], [0.98, 0.01, 0.01], [1 / 3, 1 / 3, 1 / 3]])
    # Log joints far from 0, as real ones are, must not matter; (k, n) layout.
    log_joint = np.log(probabilities).T - 1e4
    n_rep = 20_000
    draws = np.stack([sample_categories(rng, log_joint) for _ in range(n_rep)])
    for i, p in enumerate(probabilities):
        observed = np.bincount(draws[:, i], minlength=3)
        assert stats.chisquare(observed, n_rep * p).pvalue > P_MIN


def test_sufficient_statistics_and_residuals():
    Z = np.array([[1.0, 10.0], [2.0, 20.0], [4.0, 40.0]])
    category = np.array([0, 2, 0])
    counts, sums = sufficient_statistics(Z, category, 3)
    np.testing.assert_array_equal(counts, [2, 0, 1])
    np.testing.assert_array_equal(sums, [[5.0, 50.0], [0.0, 0.0], [2.0, 20.0]])
    means = np.array([[2.0, 20.0], [0.0, 0.0], [1.0, 10.0]])
    np.testing.assert_array_equal(
        squared_residuals(Z, category, means), [[5.0, 500.0], [0.0, 0.0], [1.0, 100.0]]
    )
    scatter = scatter_matrices(Z, category, means)
    # Component 0: residuals (-1, -10) and (2, 20); component 1 is empty.
    np.testing.assert_array_equal(scatter[0], [[5.0, 50.0], [50.0, 500.0]])
    np.testing.assert_array_equal(scatter[1], np.zeros((2, 2)))
    np.testing.assert_array_equal(
        np.diagonal(scatter, axis1=1, axis2=2), squared_residuals(Z, category, means)
    )


def test_joint_weight_draws_follow_the_restricted_dirichlet():
    rng = np.random.default_rng(1)
    # Balanced enough that one of four joint proposals is valid but for ~1e-10 of sweeps.
    counts, concentration, min_weight = np.array([30, 50, 90]), 1.0, 0.1
    draws, used_joint = zip(
        *(sample_weights(rng, counts, concentration, min_weight, None) for _ in range(5000)),
        strict=True,
    )
    assert all(used_joint)
    draws = np.array(draws)
    assert draws.min() >= min_weight
    reference = _restricted_dirichlet(rng, concentration + counts, min_weight, 5000)
    for c in range(3):
        assert stats.ks_2samp(draws[:, c], reference[:, c]).pvalue > P_MIN


def test_pairwise_weight_chain_targets_the_restricted_dirichlet():
    rng = np.random.default_rng(2)
    alpha, min_weight = np.array([2.0, 3.0, 4.0]), 0.15
    weights, chain = np.array([0.3, 0.3, 0.4]), []
    for _ in range(40_000):
        weights = pairwise_weights(rng, alpha, min_weight, weights)
        chain.append(weights)
    chain = np.array(chain)[::10]  # thinned towards independence for the KS test
    np.testing.assert_allclose(chain.sum(axis=1), 1.0)
    assert chain.min() >= min_weight - 1e-12
    reference = _restricted_dirichlet(rng, alpha, min_weight, 4000)
    for c in range(3):
        assert stats.ks_2samp(chain[:, c], reference[:, c]).pvalue > P_MIN


def test_nearly_empty_component_falls_back_to_exact_pairwise_update():
    rng = np.random.default_rng(3)
    counts = np.array([0, 400, 400])  # Dirichlet(1, 401, 401) never gives w_0 >= 0.1
    weights, used_joint = sample_weights(rng, counts, 1.0, 0.1, np.array([0.2, 0.4, 0.4]))
    assert not used_joint
    assert weights.min() >= 0.1 - 1e-12
    np.testing.assert_allclose(weights.sum(), 1.0)
    # The marginal of w_0 is Beta(1, 802) restricted to [0.1, 1): P(w_0 - 0.1 > t) is
    # ((0.9 - t) / 0.9)^802 to within the ~1e-70 mass the other floors remove.
    chain = []
    for _ in range(4000):
        weights, _ = sample_weights(rng, counts, 1.0, 0.1, weights)
        chain.append(weights[0])
    chain = np.array(chain)[::4]
    assert stats.kstest(chain, lambda w: -np.expm1(802 * np.log1p(-(w - 0.1) / 0.9))).pvalue > (
        P_MIN
    )


def test_single_component_weight_is_one():
    weights, used_joint = sample_weights(np.random.default_rng(0), np.array([7]), 1.0, 0.1, None)
    np.testing.assert_array_equal(weights, [1.0])
    assert used_joint


def test_means_unconstrained_feature_is_the_conjugate_normal():
    rng = np.random.default_rng(4)
    counts = np.array([10, 20])
    sums = np.array([[5.0, -10.0], [40.0, 60.0]])
    sigma_kd = np.array([[1.0, 2.0], [0.5, 2.0]])
    loc, scale = np.array([0.0, 1.0]), np.array([3.0, 3.0])
    current = np.array([[0.0, 0.0], [2.0, 0.0]])
    draws = np.stack(
        [
            sample_means(rng, counts, sums, sigma_kd, loc, scale, current, order_feature=0)
            for _ in range(20_000)
        ]
    )
    # Feature 1 is not the ordering feature: plain conjugate Normal per component.
    precision = 1 / scale[1] ** 2 + counts / sigma_kd[:, 1] ** 2
    mean = (loc[1] / scale[1] ** 2 + sums[:, 1] / sigma_kd[:, 1] ** 2) / precision
    for c in range(2):
        reference = stats.norm(mean[c], precision[c] ** -0.5)
        assert stats.kstest(draws[:, c, 1], reference.cdf).pvalue > P_MIN


def test_means_on_ordering_feature_are_truncated_between_neighbours():
    rng = np.random.default_rng(5)
    counts = np.array([10, 10, 10])
    sigma_kd = np.ones((3, 1))
    loc, scale = np.zeros(1), np.full(1, 10.0)
    # Component 0's data sit at 1.0, beyond its neighbour at 0.5: the truncation binds.
    sums = np.array([[10.0], [5.0], [30.0]])
    current = np.array([[0.0], [0.5], [3.0]])
    draws = np.stack(
        [
            sample_means(rng, counts, sums, sigma_kd, loc, scale, current, order_feature=0)
            for _ in range(20_000)
        ]
    )
    assert np.all(np.diff(draws[:, :, 0], axis=1) > 0)
    # Components 0 and 2 are drawn first, given the current mean of component 1.
    precision = 1 / scale**2 + counts / 1.0
    mean = (sums[:, 0] / 1.0) / precision
    sd = precision**-0.5
    lower = [-np.inf, None, 0.5]
    upper = [0.5, None, np.inf]
    for c in (0, 2):
        reference = stats.truncnorm(
            (lower[c] - mean[c]) / sd[c], (upper[c] - mean[c]) / sd[c], mean[c], sd[c]
        )
        assert stats.kstest(draws[:, c, 0], reference.cdf).pvalue > P_MIN


def test_sigma_is_the_truncated_gamma_on_the_precision():
    rng = np.random.default_rng(6)
    # One sd per feature, each pooling 50 squared residuals.
    n_terms, sum_sq = np.array([50, 50]), np.array([40.0, 400.0])
    lower, upper = np.array([0.0, 2.5]), np.array([20.0, 2.9])
    current = np.array([1.0, 2.7])
    draws = np.stack(
        [sample_sigma(rng, n_terms, sum_sq, lower, upper, current) for _ in range(20_000)]
    )
    for j in range(2):
        # tau = sigma^-2 ~ Gamma((r - 1) / 2, SS / 2) on [upper^-2, lower^-2].
        r, ss = n_terms[j], sum_sq[j]
        gamma = stats.gamma((r - 1) / 2, scale=2 / ss)
        with np.errstate(divide="ignore"):
            s_lo, s_hi = gamma.sf(upper[j] ** -2.0), gamma.sf(lower[j] ** -2.0)
        cdf = lambda s, g=gamma, lo=s_lo, hi=s_hi: (g.sf(s**-2.0) - hi) / (lo - hi)  # noqa: E731
        assert np.all((draws[:, j] >= lower[j]) & (draws[:, j] <= upper[j]))
        assert stats.kstest(draws[:, j], cdf).pvalue > P_MIN


@pytest.mark.parametrize(("n_points", "ss"), [(0, 0.0), (1, 0.5)])
def test_sigma_of_a_component_with_at_most_one_point_uses_exact_slice_updates(n_points, ss):
    rng = np.random.default_rng(7)
    n_terms, sum_sq = np.array([n_points, 50]), np.array([ss, 40.0])
    lower, upper = np.zeros(2), np.full(2, 3.0)
    sigma, chain = np.array([1.0, 1.0]), []
    for _ in range(20_000):
        sigma = sample_sigma(rng, n_terms, sum_sq, lower, upper, sigma)
        chain.append(sigma[0])
    chain = np.array(chain)[::5]
    # Density of sigma: exp(sigma_log_density(log sigma)) / sigma on (0, 3).
    density = lambda s: np.exp(sigma_log_density(np.log(s), n_points, ss)) / s  # noqa: E731
    norm = integrate.quad(density, 0, 3)[0]
    cdf = np.vectorize(lambda s: integrate.quad(density, 0, s)[0] / norm)
    assert stats.kstest(chain, cdf).pvalue > P_MIN


def test_half_normal_sigma_update_targets_its_conditional():
    """Independence Metropolis with the flat-prior conditional as proposal, prior-corrected."""
    rng = np.random.default_rng(8)
    n_terms, sum_sq = np.array([5]), np.array([20.0])
    lower, upper, scale = np.array([0.2]), np.array([np.inf]), np.array([1.0])
    sigma, chain = np.array([1.0]), []
    for _ in range(20_000):
        sigma = sample_sigma(rng, n_terms, sum_sq, lower, upper, sigma, scale)
        chain.append(sigma[0])
    chain = np.array(chain)[::2]
    # Density of sigma: exp(sigma_log_density(log sigma)) / sigma on (0.2, inf).
    density = lambda s: np.exp(sigma_log_density(np.log(s), 5, 20.0, 1.0)) / s  # noqa: E731
    norm = integrate.quad(density, 0.2, np.inf)[0]
    cdf = np.vectorize(lambda s: integrate.quad(density, 0.2, s)[0] / norm)
    assert stats.kstest(chain, cdf).pvalue > P_MIN


def _correlated_means_setting():
    """Three components in 3-D with correlated precisions; ordering on feature 1."""
    rng = np.random.default_rng(9)
    factor = rng.normal(size=(3, 3, 3))
    covariances = factor @ np.swapaxes(factor, -1, -2) + np.eye(3)
    precisions = np.linalg.inv(covariances)  # the reference may invert; the sampler does not
    counts = np.array([4, 0, 6])
    sums = np.array([[1.0, -2.0, 0.5], [0.0, 0.0, 0.0], [3.0, 9.0, -1.0]])
    loc, scale = np.array([0.0, 0.5, -0.5]), np.array([2.0, 3.0, 1.5])
    current = np.array([[0.0, -1.0, 0.0], [0.0, 0.8, 0.0], [0.0, 2.0, 0.0]])
    return counts, sums, precisions, loc, scale, current


def test_correlated_means_follow_their_gaussian_conditional():
    """Components 0 and 2 (drawn first, given component 1's ordered coordinate) follow
    Normal(m, Q^-1) restricted to mu_c1 on their side of component 1: checked by the
    truncated marginal of mu_c1 and by the regression of the other coordinates on it."""
    counts, sums, precisions, loc, scale, current = _correlated_means_setting()
    rng = np.random.default_rng(10)
    draws = np.stack(
        [
            sample_means_correlated(rng, counts, sums, precisions, loc, scale, current, 1)
            for _ in range(20_000)
        ]
    )
    assert np.all(np.diff(draws[:, :, 1], axis=1) > 0)
    a, others = 1, [0, 2]
    for c, (lower, upper) in ((0, (-np.inf, 0.8)), (2, (0.8, np.inf))):
        Q = np.diag(1 / scale**2) + counts[c] * precisions[c]
        V = np.linalg.inv(Q)
        m = V @ (loc / scale**2 + precisions[c] @ sums[c])
        sd = np.sqrt(V[a, a])
        truncated = stats.truncnorm((lower - m[a]) / sd, (upper - m[a]) / sd, m[a], sd)
        assert stats.kstest(draws[:, c, a], truncated.cdf).pvalue > P_MIN
        # Given mu_a: mean m_o + V_oa (mu_a - m_a) / V_aa, covariance V_oo - V_oa V_ao / V_aa.
        slope = V[others, a] / V[a, a]
        residual = draws[:, c, others] - m[others] - np.outer(draws[:, c, a] - m[a], slope)
        cond_cov = V[np.ix_(others, others)] - np.outer(V[others, a], V[a, others]) / V[a, a]
        # Whitened residuals are independent standard Normals, uncorrelated with mu_a.
        white = residual @ np.linalg.inv(np.linalg.cholesky(cond_cov)).T
        for j in range(2):
            assert stats.kstest(white[:, j], stats.norm.cdf).pvalue > P_MIN
            r, n = np.corrcoef(white[:, j], draws[:, c, a])[0, 1], draws.shape[0]
            assert abs(r) * np.sqrt(n) < stats.norm.isf(P_MIN / 2)


def test_inverse_wishart_draws_match_scipy():
    rng = np.random.default_rng(11)
    scale = np.array([[2.0, 0.8, 0.1], [0.8, 1.0, -0.3], [0.1, -0.3, 0.5]])
    df = 6.5
    draws = sample_inverse_wishart(
        rng, np.full(20_000, df), np.broadcast_to(np.linalg.cholesky(scale), (20_000, 3, 3))
    )
    reference = stats.invwishart(df=df, scale=scale).rvs(20_000, random_state=rng)
    np.testing.assert_array_equal(draws, np.swapaxes(draws, -1, -2))
    assert np.all(np.linalg.eigvalsh(draws) > 0)
    # Every entry's marginal against scipy's sampler, and a quadratic form.
    for i, j in ((0, 0), (1, 1), (2, 2), (0, 1), (1, 2)):
        assert stats.ks_2samp(draws[:, i, j], reference[:, i, j]).pvalue > P_MIN / 5
    v = np.array([1.0, -1.0, 2.0])
    # v^T Sigma v ~ InverseGamma((df - d + 1) / 2, v^T Psi v / 2) exactly.
    quad = np.einsum("i,sij,j->s", v, draws, v)
    reference_law = stats.invgamma((df - 2) / 2, scale=v @ scale @ v / 2)
    assert stats.kstest(quad, reference_law.cdf).pvalue > P_MIN
