"""Parallel tempering of the Gibbs sampler: the tempered sweep against its known law, the
swap against the product of the replicas' targets, round trips, and fits that cross
between modes of exactly equal mass."""

import warnings

import arviz as az
import numpy as np
import pytest
from scipy import integrate, stats
from sklearn.exceptions import ConvergenceWarning

from bayes_gmm import BayesianMCMCMixture, _sampling
from bayes_gmm._covariance import FullCovariance
from bayes_gmm._sampling._wishart import sample_inverse_wishart
from bayes_gmm._sampling.sweep import GibbsSweep
from bayes_gmm._sampling.tempering import (
    TARGET_SWAP_RATE,
    Ladder,
    inverse_temperatures,
    swap_probability,
)
from bayes_gmm._spec import data_scales, resolve_spec
from tests.conftest import P_MIN, bonferroni_z


def _one_component_sweep(X, sd_lower, sd_upper, mean_prior_scale):
    """The sweep of a one-component, one-feature mixture with the given priors."""
    params = {
        **BayesianMCMCMixture(n_components=1, covariance_type="spherical").get_params(),
        "mean_prior_loc": 0.0,
        "mean_prior_scale": mean_prior_scale,
        "sd_lower": sd_lower,
        "sd_upper": sd_upper,
    }
    scales = data_scales(X)
    spec = resolve_spec(params, scales, 0)
    return GibbsSweep(X, spec, scales.median, scales.spread)


def _grid_moments(X, beta, sd_lower, sd_upper, mean_prior_scale):
    """E[mu] and E[sigma] under N(mu | 0, s0) U(sigma | lo, hi) prod N(x_i | mu, sigma)^beta,
    by quadrature: mu integrated in closed form given sigma, sigma numerically."""
    n, total, total_sq = X.shape[0], X.sum(), (X**2).sum()

    def given_sigma(sigma):
        precision = 1 / mean_prior_scale**2 + beta * n / sigma**2
        mean = beta * total / sigma**2 / precision
        log_mass = (
            -beta * n * np.log(sigma)
            - 0.5 * beta * total_sq / sigma**2
            + 0.5 * precision * mean**2
            - 0.5 * np.log(precision)
        )
        return np.exp(log_mass), mean

    def integrand(sigma, power):
        mass, mean = given_sigma(sigma)
        return mass * (mean if power == "mu" else sigma if power == "sigma" else 1.0)

    mass = integrate.quad(integrand, sd_lower, sd_upper, args=("one",), limit=200)[0]
    return {
        name: integrate.quad(integrand, sd_lower, sd_upper, args=(name,), limit=200)[0] / mass
        for name in ("mu", "sigma")
    }


@pytest.mark.parametrize(
    ("n_points", "beta"),
    # 3 points at beta 0.4 hold 1.2 squared residuals: the sd's slice update; 20 at 0.7,
    # its truncated Gamma.
    [(3, 0.4), (20, 0.7)],
)
def test_tempered_sweep_targets_the_tempered_posterior(n_points, beta):
    X = np.random.default_rng(n_points).normal(1.0, 2.0, (n_points, 1))
    lo, hi, s0 = 0.3, 8.0, 3.0
    sweep = _one_component_sweep(X, lo, hi, s0)
    rng = np.random.default_rng(0)
    point = {
        "weights": np.ones(1),
        "means": np.zeros((1, 1)),
        "sigma": np.ones(1),
        "category": np.zeros(n_points, dtype=int),
    }
    state = sweep.from_point(point)
    draws = {"mu": [], "sigma": []}
    for _ in range(20_000):
        state, _ = sweep(rng, state, beta)
        values = sweep.to_point(state, point)
        draws["mu"].append(values["means"][0, 0])
        draws["sigma"].append(values["sigma"][0])
    exact = _grid_moments(X[:, 0], beta, lo, hi, s0)
    z = bonferroni_z(2)
    for name, values in draws.items():
        chain = np.asarray(values)[None]
        assert abs(chain.mean() - exact[name]) <= z * az.mcse(chain), (name, exact[name])


def test_tempered_covariance_update_is_the_scaled_inverse_wishart():
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(30, 2)) @ np.array([[1.0, 0.0], [0.6, 0.5]])
    scale = np.array([[0.5, 0.1], [0.1, 0.4]])
    covariance = FullCovariance("full", 1, 2, 4.0, scale)
    category, means = np.zeros(30, dtype=int), np.zeros((1, 2))
    beta = 0.3
    draws = np.array(
        [
            covariance.sample_covariance(rng, Z, category, np.array([30]), means, None, beta)[0]
            for _ in range(4000)
        ]
    )
    expected = stats.invwishart(4.0 + beta * 30, scale + beta * Z.T @ Z)
    reference = expected.rvs(4000, random_state=2)
    for i, j in [(0, 0), (0, 1), (1, 1)]:
        result = stats.ks_2samp(draws[:, i, j], reference[:, i, j])
        assert result.pvalue > P_MIN / 3, (i, j)


def test_inverse_wishart_with_fractional_degrees_of_freedom_matches_scipy():
    rng = np.random.default_rng(2)
    scale = np.array([[1.0, 0.3], [0.3, 2.0]])
    draws = np.array(
        [sample_inverse_wishart(rng, 2.7, np.linalg.cholesky(scale)) for _ in range(4000)]
    )
    reference = stats.invwishart(2.7, scale).rvs(4000, random_state=3)
    for i, j in [(0, 0), (0, 1), (1, 1)]:
        assert stats.ks_2samp(draws[:, i, j], reference[:, i, j]).pvalue > P_MIN / 3


def test_swap_leaves_the_product_of_the_tempered_targets_invariant():
    """Three states with log-likelihoods L, two temperatures: exact draws from the product
    of exp(beta_t L), swapped, keep that law (chi-square)."""
    log_likelihood = np.array([0.0, -1.5, -4.0])
    betas = np.array([1.0, 0.35])
    product = np.exp(betas[0] * log_likelihood[:, None] + betas[1] * log_likelihood[None])
    product /= product.sum()
    rng = np.random.default_rng(3)
    n = 40_000
    pairs = rng.choice(9, size=n, p=product.ravel())
    ladder = Ladder(np.log([-np.log(betas[1])]))
    np.testing.assert_allclose(ladder.betas, betas)
    counts = np.zeros(9)
    for pair in pairs:
        states = np.array(np.unravel_index(pair, (3, 3)))
        ladder.iteration = 0  # the pair (0, 1) is tried on even iterations
        order, _, _ = ladder.swap(rng, log_likelihood[states], adapt=False)
        counts[np.ravel_multi_index(states[order], (3, 3))] += 1
    assert stats.chisquare(counts, n * product.ravel()).pvalue > P_MIN


def test_swap_probability_is_the_metropolis_ratio_of_the_exchange():
    # The hotter replica holding the likelier state: always exchanged.
    assert swap_probability(1.0, 0.5, -10.0, -8.0) == 1.0
    assert swap_probability(1.0, 0.5, -8.0, -10.0) == pytest.approx(np.exp(-1.0))


def test_ladder_counts_round_trips_of_the_even_odd_scheme():
    """With every swap accepted, a state goes 0 -> 1 -> 2 and back in the even-odd order."""
    ladder = Ladder(np.zeros(2))
    always = [-3.0, -2.0, -1.0]  # likelier up the ladder: every swap is accepted
    trips, positions = [], []
    for _ in range(8):
        _, probability, round_trips = ladder.swap(np.random.default_rng(0), always, adapt=False)
        trips.append(round_trips)
        positions.append(int(np.flatnonzero(ladder.walker == 0)[0]))
        assert np.isnan(probability).sum() == 1
    assert positions[:5] == [1, 2, 2, 1, 0]
    assert trips[:5] == [0, 0, 0, 0, 1]


def test_ladder_adapts_to_the_target_swap_rate():
    """Replicas of a Gaussian log-likelihood with known law at each temperature: after
    adaptation every neighbour pair swaps at about the target rate."""
    rng = np.random.default_rng(4)
    ladder = Ladder(np.full(3, np.log(0.5)))
    # x ~ Normal(0, 1 / beta) at inverse temperature beta, L(x) = -x^2 / 2: exact draws.
    for _ in range(4000):
        values = rng.standard_normal(4) / np.sqrt(ladder.betas)
        ladder.swap(rng, -0.5 * values**2, adapt=True)
    rates = np.zeros(3)
    tries = 20_000
    for _ in range(tries):
        values = rng.standard_normal(4) / np.sqrt(ladder.betas)
        _, probability, _ = ladder.swap(rng, -0.5 * values**2, adapt=False)
        rates += np.nan_to_num(probability)
    # Adaptation, not exactness: the rates settle near the target, within the wobble a
    # step of 2000^-0.6 leaves (the rates' own Monte Carlo error is 0.003).
    np.testing.assert_allclose(rates / (tries / 2), TARGET_SWAP_RATE, atol=0.05)
    assert np.all(np.diff(ladder.betas) < 0) and ladder.betas[0] == 1.0


def test_inverse_temperatures_decrease_from_one():
    betas = inverse_temperatures(np.log([0.1, 0.5, 2.0]))
    assert betas[0] == 1.0
    assert np.all(np.diff(betas) < 0) and betas[-1] > 0


def _mirror_data(n_side=30, separation=4.0, seed=1):
    """Three clusters on a line, exactly mirror-symmetric about 0 (the prior's centre):
    with two components, {left | middle + right} and {left + middle | right} have equal
    posterior mass."""
    rng = np.random.default_rng(seed)
    half = np.concatenate(
        [np.abs(rng.normal(0, 1, n_side // 2)), rng.normal(separation, 1, n_side)]
    )
    return np.concatenate([half, -half])[:, None]


def test_tempered_fit_records_its_ladder_and_reports_it():
    est = _quiet_fit(
        n_components=2,
        covariance_type="spherical",
        n_temperatures=4,
        draws=300,
        tune=200,
        random_state=0,
    )
    stats_ = est.sample_trace_.sample_stats
    assert stats_["inverse_temperature"].shape == (2, 300, 4)
    assert stats_["swap_probability"].shape == (2, 300, 3)
    # The ladder is fixed after warm-up.
    assert np.all(stats_["inverse_temperature"] == stats_["inverse_temperature"].isel(draw=0))
    report = est.convergence_
    assert len(report["inverse_temperatures"]) == 2 and len(report["swap_rates"]) == 3
    assert report["round_trips"] == stats_["round_trips"].sum("draw").to_numpy().tolist()
    assert all(0 < rate < 1 for rate in report["swap_rates"])


def _quiet_fit(**params):
    """A fit of the mirror data whose short chains may warn."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return BayesianMCMCMixture(**params).fit(_mirror_data())


def test_tempered_draws_are_the_same_sequential_or_parallel(monkeypatch):
    settings = {"n_components": 2, "n_temperatures": 3, "draws": 60, "tune": 40}
    parallel = _quiet_fit(**settings, random_state=5)
    monkeypatch.setattr(_sampling, "parallel_context", lambda **kwargs: None)
    sequential = _quiet_fit(**settings, random_state=5)
    for group, name in [
        ("posterior", "means"),
        ("posterior", "sigma"),
        ("sample_stats", "swap_probability"),
    ]:
        np.testing.assert_array_equal(
            parallel.sample_trace_[group][name], sequential.sample_trace_[group][name]
        )


def test_draws_auto_continues_every_replica(monkeypatch):
    """An extension goes on from each chain's hotter replicas and its fixed ladder, as
    one longer run of the chain would, and appends to the first run's draws."""
    from bayes_gmm import _fitting
    from bayes_gmm._sampling import budget
    from bayes_gmm._sampling.gibbs import GibbsMixtureStep

    settings = {"n_components": 2, "n_temperatures": 3, "tune": 40, "random_state": 2}
    monkeypatch.setattr(_sampling, "parallel_context", lambda **kwargs: None)
    first = _quiet_fit(**settings, draws=50)
    ended, begun = [], []
    real_state, real_begin = GibbsMixtureStep.replica_state, GibbsMixtureStep.begin_chain

    def replica_state(self):
        ended.append(real_state(self))
        return ended[-1]

    def begin_chain(self, replicas=None):
        begun.append(replicas)
        real_begin(self, replicas)

    monkeypatch.setattr(GibbsMixtureStep, "replica_state", replica_state)
    monkeypatch.setattr(GibbsMixtureStep, "begin_chain", begin_chain)
    monkeypatch.setattr(budget, "AUTO_DRAWS", 50)
    lengths = iter([120])
    monkeypatch.setattr(_fitting, "next_chain_length", lambda *args: next(lengths, None))
    auto = _quiet_fit(**settings, max_draws=120)
    assert begun[:2] == [None, None]
    assert begun[2] is ended[0] and begun[3] is ended[1]
    stats_ = auto.sample_trace_.sample_stats
    assert stats_["swap_probability"].shape == (2, 120, 2)
    assert np.all(stats_["inverse_temperature"] == stats_["inverse_temperature"].isel(draw=0))
    np.testing.assert_array_equal(
        auto.sample_trace_.posterior["means"][:, :50], first.sample_trace_.posterior["means"]
    )


def test_n_temperatures_is_refused_with_other_samplers():
    X = _mirror_data()
    with pytest.raises(ValueError, match="n_temperatures=3 tempers the Gibbs sampler only"):
        BayesianMCMCMixture(2, sampler="nuts", n_temperatures=3).fit(X)


@pytest.mark.slow
def test_tempered_chains_weigh_equal_mass_partitions_equally():
    """Mirror-symmetric data: each of the two partitions holds exactly half the posterior.
    Untempered chains each keep the partition they start in; tempered ones cross, and the
    share agrees with 1/2 within its Monte Carlo error."""
    X = _mirror_data()
    est = BayesianMCMCMixture(
        2, covariance_type="spherical", n_temperatures=8, chains=4, draws=4000, random_state=0
    ).fit(X)
    # w_0 > 1/2: the middle cluster is with the left one.
    left = (est.sample_trace_.posterior["weights"].to_numpy()[..., 0] > 0.5).astype(float)
    assert 0 < left.mean(axis=1).min() and left.mean(axis=1).max() < 1
    assert abs(left.mean() - 0.5) <= bonferroni_z(1) * az.mcse(left)
    assert min(est.convergence_["round_trips"]) > 0


def test_a_ladder_without_round_trips_warns_without_failing_the_thresholds():
    from bayes_gmm._diagnostics import warn_if_ladder_does_not_connect

    report = {
        "inverse_temperatures": [[1.0, 0.7, 0.65], [1.0, 0.75, 0.6]],
        "swap_rates": [0.3, 0.01],
        "round_trips": [4, 0],
    }
    with pytest.warns(ConvergenceWarning, match=r"back in chain\(s\) 1 \(inverse temperatures "):
        warn_if_ladder_does_not_connect(report, "fit")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_ladder_does_not_connect({**report, "round_trips": [4, 1]}, "fit")
        warn_if_ladder_does_not_connect({"max_r_hat": 1.0}, "fit")


@pytest.mark.parametrize("full", [False, True])
def test_complete_log_likelihood_is_each_points_own_component_density(full):
    from bayes_gmm._posterior import complete_log_likelihood, log_joint

    rng = np.random.default_rng(6)
    X, means = rng.normal(size=(40, 3)), rng.normal(size=(4, 3))
    category = rng.integers(0, 4, 40)
    if full:
        root = rng.normal(size=(4, 3, 3)) * 0.3 + np.eye(3)
        factor = np.triu(root)
    else:
        factor = rng.uniform(0.5, 2.0, (4, 3))
    per_component = log_joint(X, np.ones((1, 4)), means[None], factor[None])[0]
    expected = per_component[category, np.arange(40)].sum()
    assert complete_log_likelihood(X, category, means, factor) == pytest.approx(expected)
