"""Simulation-based calibration of the Gibbs sampler (Talts et al. 2018).

Parameters are drawn from the constrained prior, data simulated from them, the model
fitted, and the rank of each true value among thinned posterior draws recorded. If the
sampler targets the exact posterior, every rank is uniform on 0..L. Run as a script
(``python -m tests.test_calibration`` from the repository root) to print the p-values.
"""

import warnings

import numpy as np
import pytest
from scipy import stats
from sklearn.exceptions import ConvergenceWarning

from bayes_gmm import BayesianMCMCMixture
from tests.conftest import P_MIN

N_REPLICATIONS = 200
N_RANKS = 100  # L + 1 possible ranks with L = 99 thinned draws
THIN = 4
N_BINS = 10
N_POINTS = 40
K = 2
MIN_WEIGHT = 0.1
MEAN_LOC, MEAN_SCALE = 0.0, 3.0

SETTINGS = {
    # The 2015 PyMC notebook's structure: one shared sd with a Uniform prior, Dirichlet(1) weights.
    "tied_diag-uniform-d1": {
        "covariance_type": "tied_diag",
        "n_features": 1,
        "weight_concentration": 1.0,
        "sd": {"sd_prior": "uniform", "sd_lower": 0.3, "sd_upper": 2.0},
    },
    # Per-component, per-feature sds with the half-normal prior, Dirichlet(2) weights.
    "diag-halfnormal-d2": {
        "covariance_type": "diag",
        "n_features": 2,
        "weight_concentration": 2.0,
        "sd": {"sd_prior": "halfnormal", "sd_prior_scale": 1.0, "sd_lower": 0.2},
    },
}


def _draw_prior(rng, setting):
    """Exchangeable draw of (w, mu, sigma) from the prior, components in random order."""
    d, alpha = setting["n_features"], setting["weight_concentration"]
    while True:  # restricted Dirichlet by rejection: exact
        weights = rng.dirichlet(np.full(K, alpha))
        if weights.min() >= MIN_WEIGHT:
            break
    means = rng.normal(MEAN_LOC, MEAN_SCALE, size=(K, d))
    shape = (K, d) if setting["covariance_type"] == "diag" else (d,)
    sd = setting["sd"]
    if sd["sd_prior"] == "uniform":
        sigma = rng.uniform(sd["sd_lower"], sd["sd_upper"], size=shape)
    else:
        sigma = np.abs(rng.normal(0, sd["sd_prior_scale"], size=shape))
        while np.any(small := sigma < sd["sd_lower"]):  # truncated half-normal by rejection
            sigma[small] = np.abs(rng.normal(0, sd["sd_prior_scale"], size=small.sum()))
    return weights, means, sigma


def _simulate(rng, weights, means, sigma):
    z = rng.choice(K, size=N_POINTS, p=weights)
    sigma_kd = np.broadcast_to(sigma, means.shape)
    return means[z] + sigma_kd[z] * rng.normal(size=means[z].shape)


def sbc_ranks(setting, n_replications=N_REPLICATIONS, seed=0):
    """Ranks (n_replications, n_parameters) of the true values among L thinned draws."""
    rng = np.random.default_rng(seed)
    draws = (N_RANKS - 1) * THIN
    ranks = []
    for replication in range(n_replications):
        weights, means, sigma = _draw_prior(rng, setting)
        X = _simulate(rng, weights, means, sigma)
        est = BayesianMCMCMixture(
            K,
            covariance_type=setting["covariance_type"],
            weight_concentration=setting["weight_concentration"],
            min_weight=MIN_WEIGHT,
            mean_prior_loc=MEAN_LOC,
            mean_prior_scale=MEAN_SCALE,
            draws=draws,
            tune=200,
            chains=1,
            random_state=replication,
            **setting["sd"],
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X)
        # The prior is exchangeable, so sorting the truth on the feature the fit ordered
        # on gives a draw from the prior the fit used.
        order = np.argsort(means[:, est.order_feature_])
        truth = np.concatenate(
            [
                weights[order][:1],
                means[order].ravel(),
                (sigma[order] if sigma.ndim == 2 else sigma).ravel(),
            ]
        )
        posterior = est.sample_trace_.posterior
        sampled = np.concatenate(
            [
                posterior["weights"].to_numpy()[0, ::THIN, :1],
                posterior["means"].to_numpy()[0, ::THIN].reshape(N_RANKS - 1, -1),
                posterior["sigma"].to_numpy()[0, ::THIN].reshape(N_RANKS - 1, -1),
            ],
            axis=1,
        )
        ranks.append((sampled < truth).sum(axis=0))
    return np.array(ranks)


def uniformity_p_values(ranks):
    """Chi-square test of uniform ranks per parameter, N_BINS equal bins of 0..L."""
    counts = np.stack([np.bincount(r * N_BINS // N_RANKS, minlength=N_BINS) for r in ranks.T])
    return stats.chisquare(counts, axis=1).pvalue


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SETTINGS))
def test_gibbs_sampler_is_calibrated(name):
    p_values = uniformity_p_values(sbc_ranks(SETTINGS[name]))
    # Deterministic (fixed seeds); Bonferroni over the parameters.
    assert p_values.min() > P_MIN / len(p_values), p_values.round(4)


if __name__ == "__main__":
    for name, setting in SETTINGS.items():
        print(
            name,
            N_REPLICATIONS,
            "replications, p-values:",
            uniformity_p_values(sbc_ranks(setting)).round(3),
        )
