"""The truncated samplers against scipy.stats, including the far tails."""

import numpy as np
import pytest
from scipy import stats

from bayes_gmm._sampling._truncated import (
    slice_sample,
    truncated_beta,
    truncated_gamma,
    truncated_normal,
)
from tests.conftest import P_MIN

N_DRAWS = 20_000


def _ks(draws, cdf):
    return stats.kstest(draws, cdf).pvalue


@pytest.mark.parametrize(
    ("mean", "sd", "lower", "upper"),
    [
        (0.0, 1.0, -np.inf, np.inf),
        (0.0, 1.0, -0.5, 2.0),
        (1.0, 2.0, 3.0, np.inf),
        (0.0, 1.0, 8.0, 9.0),  # upper tail: plain inverse CDF has no digits left
        (0.0, 1.0, -40.0, -39.5),  # far lower tail
        (5.0, 0.1, -np.inf, 4.0),
    ],
)
def test_truncated_normal_matches_scipy(mean, sd, lower, upper):
    rng = np.random.default_rng(0)
    draws = truncated_normal(rng, np.full(N_DRAWS, mean), sd, lower, upper)
    assert np.all((draws >= lower) & (draws <= upper))
    reference = stats.truncnorm((lower - mean) / sd, (upper - mean) / sd, loc=mean, scale=sd)
    assert _ks(draws, reference.cdf) > P_MIN


def test_truncated_normal_far_tail_is_not_collapsed_to_a_bound():
    rng = np.random.default_rng(1)
    draws = truncated_normal(rng, np.zeros(N_DRAWS), 1.0, 60.0, 61.0)
    # Beyond 38 sd the plain CDF underflows; the tail is Exp(60) above 60.
    assert np.all((draws >= 60.0) & (draws <= 61.0))
    excess = draws - 60.0
    assert _ks(excess, stats.expon(scale=1 / 60).cdf) > P_MIN


@pytest.mark.parametrize(
    ("a", "b", "lower", "upper"),
    [(1.0, 1.0, 0.1, 0.9), (3.0, 5.0, 0.2, 0.8), (0.5, 0.5, 0.0, 1.0), (2.0, 30.0, 0.3, 0.35)],
)
def test_truncated_beta_matches_scipy(a, b, lower, upper):
    rng = np.random.default_rng(2)
    draws = truncated_beta(rng, np.full(N_DRAWS, a), b, lower, upper)
    assert np.all((draws >= lower) & (draws <= upper))
    base = stats.beta(a, b)
    p_lo, p_hi = base.cdf(lower), base.cdf(upper)
    assert _ks(draws, lambda x: (base.cdf(x) - p_lo) / (p_hi - p_lo)) > P_MIN


def test_truncated_beta_when_all_mass_lies_below_the_interval():
    # Beta(1, 401) on [0.2, 0.8]: P(X < 0.2) = 1 - 1e-39, so the plain inverse CDF has no
    # digits left. The exact conditional CDF is 1 - ((1 - x) / 0.8)^401, to 1e-240.
    rng = np.random.default_rng(5)
    draws = truncated_beta(rng, np.ones(N_DRAWS), 401.0, 0.2, 0.8)
    assert np.all((draws >= 0.2) & (draws <= 0.8))
    assert _ks(draws, lambda x: -np.expm1(401 * np.log((1 - x) / 0.8))) > P_MIN
    # And mirrored: Beta(401, 1), mass above the interval.
    mirrored = truncated_beta(rng, np.full(N_DRAWS, 401.0), 1.0, 0.2, 0.8)
    assert _ks(mirrored, lambda x: np.exp(401 * np.log(x / 0.8))) > P_MIN


@pytest.mark.parametrize(
    ("shape", "rate", "lower", "upper"),
    [
        (2.0, 1.0, 0.0, np.inf),
        (2.0, 1.0, 0.5, 3.0),
        (249.5, 250.0, 1 / 400, np.inf),  # the notebook's sd conditional, wall far away
        (3.0, 1.0, 30.0, np.inf),  # deep upper tail
        (0.5, 2.0, 1e-3, 0.01),  # lower tail, sharp shape
    ],
)
def test_truncated_gamma_matches_scipy(shape, rate, lower, upper):
    rng = np.random.default_rng(3)
    draws = truncated_gamma(rng, np.full(N_DRAWS, shape), rate, lower, upper)
    assert np.all((draws >= lower) & (draws <= upper))
    base = stats.gamma(shape, scale=1 / rate)
    # Survival functions keep the digits of the deep upper tail.
    s_lo, s_hi = base.sf(lower), base.sf(upper)
    assert _ks(draws, lambda x: (s_lo - base.sf(x)) / (s_lo - s_hi)) > P_MIN


def test_slice_sample_leaves_a_truncated_density_invariant():
    rng = np.random.default_rng(4)
    log_density = lambda x: -0.5 * x**2 if -1.0 <= x <= 2.0 else -np.inf  # noqa: E731
    x, chain = 0.0, []
    for _ in range(30_000):
        x = slice_sample(rng, log_density, x, width=1.0, lower=-1.0, upper=2.0)
        chain.append(x)
    thinned = np.array(chain[::10])
    reference = stats.truncnorm(-1.0, 2.0)
    assert _ks(thinned, reference.cdf) > P_MIN
