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
    # Full and tied matrices with inverse-Wishart priors whose mean is the identity.
    "full-d2-k2": {
        "covariance_type": "full",
        "n_features": 2,
        "weight_concentration": 1.0,
        "covariance": {"degrees_of_freedom_prior": 5.0, "covariance_prior": 2.0},
    },
    "full-d3-k3": {
        "covariance_type": "full",
        "n_components": 3,
        "n_features": 3,
        "weight_concentration": 1.0,
        "covariance": {"degrees_of_freedom_prior": 6.0, "covariance_prior": 2.0},
    },
    "tied-d2-k3": {
        "covariance_type": "tied",
        "n_components": 3,
        "n_features": 2,
        "weight_concentration": 1.0,
        "covariance": {"degrees_of_freedom_prior": 5.0, "covariance_prior": 2.0},
    },
    "tied-d3-k2": {
        "covariance_type": "tied",
        "n_features": 3,
        "weight_concentration": 2.0,
        "covariance": {"degrees_of_freedom_prior": 6.0, "covariance_prior": 2.0},
    },
}


def _n_components(setting):
    return setting.get("n_components", 2)


def _draw_prior(rng, setting):
    """Exchangeable draw of (w, mu, covariance) from the prior, components in random order.

    The covariance is sds (k, d) or (d,) for the diagonal types, matrices (k, d, d) or
    (d, d) for the full ones.
    """
    k, d, alpha = _n_components(setting), setting["n_features"], setting["weight_concentration"]
    while True:  # restricted Dirichlet by rejection: exact
        weights = rng.dirichlet(np.full(k, alpha))
        if weights.min() >= MIN_WEIGHT:
            break
    means = rng.normal(MEAN_LOC, MEAN_SCALE, size=(k, d))
    covariance_type = setting["covariance_type"]
    if covariance_type in ("full", "tied"):
        prior = setting["covariance"]
        law = stats.invwishart(
            df=prior["degrees_of_freedom_prior"], scale=prior["covariance_prior"] * np.eye(d)
        )
        size = k if covariance_type == "full" else 1
        matrices = law.rvs(size=size, random_state=rng).reshape(size, d, d)
        return weights, means, matrices if covariance_type == "full" else matrices[0]
    shape = (k, d) if covariance_type == "diag" else (d,)
    sd = setting["sd"]
    if sd["sd_prior"] == "uniform":
        sigma = rng.uniform(sd["sd_lower"], sd["sd_upper"], size=shape)
    else:
        sigma = np.abs(rng.normal(0, sd["sd_prior_scale"], size=shape))
        while np.any(small := sigma < sd["sd_lower"]):  # truncated half-normal by rejection
            sigma[small] = np.abs(rng.normal(0, sd["sd_prior_scale"], size=small.sum()))
    return weights, means, sigma


def _simulate(rng, weights, means, covariance, full):
    """N_POINTS from the mixture; ``covariance`` as :func:`_draw_prior` returns it."""
    k, d = means.shape
    if full:
        matrices = np.broadcast_to(covariance, (k, d, d))
    else:
        matrices = np.broadcast_to(covariance, (k, d))[..., None] ** 2 * np.eye(d)
    z = rng.choice(k, size=N_POINTS, p=weights)
    noise = rng.normal(size=(N_POINTS, d))
    return means[z] + np.einsum("nij,nj->ni", np.linalg.cholesky(matrices)[z], noise)


def _free_entries(covariance, per_component, full):
    """The free entries of covariance draws (..., [k,] [d, d] or sds), flattened."""
    if full:
        d = covariance.shape[-1]
        rows, cols = np.triu_indices(d)
        covariance = covariance[..., rows, cols]
    lead = covariance.shape[: covariance.ndim - (1 + per_component)]
    return covariance.reshape(*lead, -1)


def sbc_ranks(setting, n_replications=N_REPLICATIONS, seed=0):
    """Ranks (n_replications, n_parameters) of the true values among L thinned draws."""
    rng = np.random.default_rng(seed)
    draws = (N_RANKS - 1) * THIN
    covariance_type = setting["covariance_type"]
    full = covariance_type in ("full", "tied")
    per_component = covariance_type in ("full", "diag")
    ranks = []
    for replication in range(n_replications):
        weights, means, covariance = _draw_prior(rng, setting)
        X = _simulate(rng, weights, means, covariance, full)
        est = BayesianMCMCMixture(
            _n_components(setting),
            covariance_type=covariance_type,
            weight_concentration=setting["weight_concentration"],
            min_weight=MIN_WEIGHT,
            mean_prior_loc=MEAN_LOC,
            mean_prior_scale=MEAN_SCALE,
            draws=draws,
            tune=200,
            chains=1,
            random_state=replication,
            **setting.get("sd", {}),
            **setting.get("covariance", {}),
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
                _free_entries(
                    covariance[order] if per_component else covariance, per_component, full
                ),
            ]
        )
        posterior = est.sample_trace_.posterior
        name = "covariance" if full else "sigma"
        sampled = np.concatenate(
            [
                posterior["weights"].to_numpy()[0, ::THIN, :1],
                posterior["means"].to_numpy()[0, ::THIN].reshape(N_RANKS - 1, -1),
                _free_entries(posterior[name].to_numpy()[0, ::THIN], per_component, full).reshape(
                    N_RANKS - 1, -1
                ),
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
