"""Sample weights: a whole-number weight is that many repetitions of the row.

Exactness in three steps, none of which needs a chain: the priors resolved from weighted
rows are those of the repeated rows; every statistic of category counts is that of the
repeated rows' categories (so each parameter's conditional is the one given the repeated
data); and the counts' own updates (the multinomial draw, the sparse mixture's collapsed
update) leave their exact laws invariant, checked against enumeration. Then fits: weighted
against repeated rows, with Gibbs and NUTS, within Monte Carlo error.
"""

import itertools
import warnings

import numpy as np
import pytest
from scipy import stats
from scipy.special import gammaln, logsumexp

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm._posterior import complete_log_likelihood
from bayes_gmm._sampling.conditionals import (
    collapsed_categories,
    sample_category_counts,
    scatter_matrices,
    squared_residuals,
    sufficient_statistics,
)
from bayes_gmm._spec import data_scales, weighted_percentile
from tests.conftest import P_MIN, assert_posterior_means_agree

RNG = np.random.default_rng(20261207)
# Two clusters in 1-D and whole weights (some zero): small enough for fast fits.
X_1D = np.concatenate([RNG.normal(-3, 1, (40, 1)), RNG.normal(3, 1, (30, 1))])
W_1D = RNG.integers(0, 4, X_1D.shape[0])


def _expanded(labels_or_counts, repetitions):
    """The repeated rows' index and category for a counts matrix (n, k)."""
    rows, components = np.nonzero(labels_or_counts)
    multiplicity = labels_or_counts[rows, components]
    return np.repeat(rows, multiplicity), np.repeat(components, multiplicity)


# -- the priors ----------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
def test_weighted_summaries_are_those_of_the_repeated_rows(seed):
    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(size=(25, 3)), 1)  # rounded: ties and a grid to detect
    weight = rng.integers(1, 5, X.shape[0]).astype(float)
    repeated = np.repeat(X, weight.astype(int), axis=0)
    q = [0, 10, 25, 50, 75, 90, 100]
    np.testing.assert_allclose(
        weighted_percentile(X, weight, q), np.percentile(repeated, q, axis=0), atol=1e-12
    )
    for ours, theirs in zip(data_scales(X, weight), data_scales(repeated), strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_a_row_of_weight_two_is_a_tie():
    """Distinct continuous values lie on no grid, but a repeated row is a tie."""
    X = np.array([[0.0], [0.1], [0.3], [0.6]])
    assert data_scales(X).resolution[0] == 0.0
    weight = np.array([1.0, 2.0, 1.0, 1.0])
    assert (
        data_scales(X, weight).resolution[0]
        == data_scales(np.repeat(X, [1, 2, 1, 1], 0)).resolution[0]
        > 0
    )


# -- the statistics of category counts --------------------------------------------------


def test_statistics_of_counts_are_those_of_the_repeated_rows():
    rng = np.random.default_rng(1)
    n, k, d = 30, 3, 2
    Z = rng.normal(size=(n, d))
    repetitions = rng.integers(1, 5, n)
    counts = rng.multinomial(repetitions, np.full(k, 1 / k))
    rows, labels = _expanded(counts, repetitions)
    Z_repeated = Z[rows]
    means = rng.normal(size=(k, d))
    for ours, theirs in zip(
        sufficient_statistics(Z, counts, k),
        sufficient_statistics(Z_repeated, labels, k),
        strict=True,
    ):
        np.testing.assert_allclose(ours, theirs, atol=1e-12)
    np.testing.assert_allclose(
        squared_residuals(Z, counts, means),
        squared_residuals(Z_repeated, labels, means),
        atol=1e-12,
    )
    np.testing.assert_allclose(
        scatter_matrices(Z, counts, means), scatter_matrices(Z_repeated, labels, means), atol=1e-12
    )
    diagonal_factor = rng.uniform(0.5, 2, (k, d))
    full_factor = np.tril(rng.normal(size=(k, d, d))) + 3 * np.eye(d)
    for factor in (diagonal_factor, full_factor):
        assert complete_log_likelihood(Z, counts, means, factor) == pytest.approx(
            complete_log_likelihood(Z_repeated, labels, means, factor), rel=1e-12
        )


# -- the updates of category counts -----------------------------------------------------


def _chi_square_p(observed_states, states, probabilities):
    index = {state: i for i, state in enumerate(states)}
    observed = np.bincount([index[s] for s in observed_states], minlength=len(states))
    expected = probabilities * observed.sum()
    return stats.chisquare(observed, expected).pvalue


def test_category_counts_are_multinomial():
    rng = np.random.default_rng(2)
    log_joint = np.log(np.array([[0.2, 0.6], [0.3, 0.1], [0.5, 0.3]])) + 7.0  # (k, n)
    repetitions = np.array([3, 2])
    draws = [
        tuple(sample_category_counts(rng, log_joint, repetitions).ravel()) for _ in range(20_000)
    ]
    for row in range(2):
        p = np.exp(log_joint[:, row] - logsumexp(log_joint[:, row]))
        m = repetitions[row]
        states = [s for s in itertools.product(range(m + 1), repeat=3) if sum(s) == m]
        law = np.array([stats.multinomial.pmf(s, m, p) for s in states])
        row_draws = [d[3 * row : 3 * row + 3] for d in draws]
        assert _chi_square_p(row_draws, states, law) > P_MIN


def _collapsed_law(log_likelihood, repetitions, concentration):
    """Every counts matrix of the rows, and its probability with the weights integrated out:
    the repeated points' Dirichlet-multinomial law, summed over the orders of each row's
    points (the multinomial coefficients), times the likelihood."""
    k = log_likelihood.shape[0]
    per_row = [
        [s for s in itertools.product(range(m + 1), repeat=k) if sum(s) == m] for m in repetitions
    ]
    states, log_p = [], []
    for rows in itertools.product(*per_row):
        counts = np.array(rows)
        totals = counts.sum(axis=0)
        value = np.sum(gammaln(totals + concentration))
        value += np.sum(gammaln(repetitions + 1) - gammaln(counts + 1).sum(axis=1))
        value += np.sum(counts * log_likelihood.T)
        states.append(tuple(counts.ravel()))
        log_p.append(value)
    log_p = np.array(log_p)
    return states, np.exp(log_p - logsumexp(log_p))


def test_collapsed_update_of_counts_leaves_its_law_invariant():
    """Exact draws from the law in, one collapsed update each, the same law out."""
    rng = np.random.default_rng(3)
    log_likelihood = np.log(np.array([[0.5, 0.2, 0.4], [0.3, 0.7, 0.4]]))  # (k, n)
    repetitions = np.array([2, 3, 1])
    concentration = 0.5
    states, law = _collapsed_law(log_likelihood, repetitions, concentration)
    starts = rng.choice(len(states), size=20_000, p=law)
    after = []
    for start in starts:
        counts = np.array(states[start]).reshape(3, 2)
        collapsed_categories(rng, log_likelihood, counts, concentration)
        after.append(tuple(counts.ravel()))
    assert _chi_square_p(after, states, law) > P_MIN
    # The update moves: a chain of it is not stuck at its start.
    assert np.mean([a != states[s] for a, s in zip(after, starts, strict=True)]) > 0.2


# -- the models' densities --------------------------------------------------------------


@pytest.mark.parametrize("sampler", ["gibbs", "nuts"])
@pytest.mark.parametrize("covariance_type", ["diag", "full"])
def test_model_density_weighs_each_row(sampler, covariance_type):
    """The model's observed log-density is each row's mixture log-density times its
    weight, fractional weights included (NUTS), by hand with scipy."""
    from bayes_gmm._model import build_model, model_coords

    X = np.column_stack([X_1D[:, 0], RNG.normal(size=X_1D.shape[0])])
    weight = W_1D + (0.5 if sampler == "nuts" else 0.0)
    est = BayesianMCMCMixture(2, covariance_type=covariance_type, draws=20, tune=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spec = est.fit(X, sample_weight=W_1D)._spec
    model = build_model(sampler, X, spec, model_coords(2, ["a", "b"], X.shape[0]), weight)
    point = model.initial_point()
    if sampler == "gibbs":
        # The Gibbs model's variables are natural values: the fit's last draw is a point.
        posterior = est.sample_trace_.posterior
        point = {n: posterior[n].isel(chain=0, draw=-1).to_numpy() for n in point}
    name = spec.covariance.trace_name
    term = model.logp(vars=model.observed_RVs, sum=False)[0]
    # Their values at the point, not fresh draws of the variables.
    outputs = [*model.replace_rvs_by_values([model["weights"], model["means"], model[name]]), term]
    weights, means, covariance, value = model.compile_fn(outputs, point_fn=True)(point)
    if covariance_type == "full":
        components = [stats.multivariate_normal(means[c], covariance[c]).pdf(X) for c in range(2)]
    else:
        components = [stats.norm(means[c], covariance[c]).pdf(X).prod(axis=1) for c in range(2)]
    expected = weight * np.log(weights @ np.array(components))
    np.testing.assert_allclose(np.ravel(value), expected, rtol=1e-8)


# -- fits -------------------------------------------------------------------------------


def _fit(X, sample_weight=None, **params):
    params = {"n_components": 2, "draws": 1000, "random_state": 0, **params}
    return BayesianMCMCMixture(**params).fit(X, sample_weight=sample_weight)


@pytest.mark.parametrize("covariance_type", ["tied_diag", "full"])
def test_weights_are_repetitions(covariance_type):
    """Gibbs with whole weights against the repeated rows: one posterior."""
    weighted = _fit(X_1D, W_1D, covariance_type=covariance_type)
    repeated = _fit(np.repeat(X_1D, W_1D, axis=0), covariance_type=covariance_type, random_state=1)
    assert weighted._spec.to_dict() == repeated._spec.to_dict()
    assert_posterior_means_agree(weighted, repeated)


def test_zero_weights_count_as_absent():
    """A row of weight 0 changes neither the priors nor the posterior, and still gets a label."""
    weight = np.where(W_1D > 0, 1, 0)
    weighted = _fit(X_1D, weight)
    dropped = _fit(X_1D[weight > 0], random_state=1)
    assert weighted._spec.to_dict() == dropped._spec.to_dict()
    assert_posterior_means_agree(weighted, dropped)
    assert weighted.labels_.shape == (X_1D.shape[0],)


def test_unit_weights_are_the_unweighted_fit():
    """Weights of 1 give the unweighted fit, draw for draw."""
    plain = _fit(X_1D, draws=100)
    ones = _fit(X_1D, np.ones(X_1D.shape[0]), draws=100)
    for name in plain.sample_trace_.posterior.data_vars:
        np.testing.assert_array_equal(
            plain.sample_trace_.posterior[name], ones.sample_trace_.posterior[name]
        )


@pytest.mark.parametrize(
    ("sample_weight", "params", "match"),
    [
        (-W_1D, {}, r"sample_weight must be finite and >= 0; got -\d"),
        (np.where(W_1D > 0, np.nan, 1.0), {}, "sample_weight must be finite"),
        (np.full(X_1D.shape[0], np.inf), {}, "sample_weight must be finite"),
        (np.ones(3), {}, r"sample_weight has shape \(3,\); expected \(70,\)"),
        (np.ones((X_1D.shape[0], 2)), {}, "sample_weight has shape"),
        (np.zeros(X_1D.shape[0]), {}, "sample_weight is zero for every row"),
        (W_1D + 0.5, {}, r"sample_weight has fractional values.*sampler='nuts'"),
        (W_1D, {"sampler": "metropolis"}, "sample_weight needs sampler='gibbs'"),
        (W_1D, {"split_merge": True}, "split_merge=True does not take sample_weight"),
        (np.eye(1, X_1D.shape[0])[0] * 5, {}, "rows of positive sample_weight=1 should be"),
    ],
)
def test_bad_weights_are_refused(sample_weight, params, match):
    est = BayesianMCMCMixture(2, **params)
    with pytest.raises(ValueError, match=match):
        est.fit(X_1D, sample_weight=sample_weight)
    assert not hasattr(est, "sample_trace_")


def test_weighted_fit_scores_saves_and_loads(tmp_path):
    fit = _fit(X_1D, W_1D, draws=200)
    log_density = fit.score_samples(X_1D)
    assert fit.score(X_1D, sample_weight=W_1D) == pytest.approx(
        np.sum(W_1D * log_density) / W_1D.sum()
    )
    with pytest.raises(ValueError, match="sample_weight has shape"):
        fit.score(X_1D, sample_weight=W_1D[:5])
    # The pointwise log-likelihood is that of a row's repetitions together.
    pointwise = fit.sample_trace_.log_likelihood["obs"].to_numpy()
    assert np.all(pointwise[..., W_1D == 0] == 0)
    fit.save(tmp_path / "fit.nc")
    loaded = BayesianMCMCMixture.load(tmp_path / "fit.nc")
    np.testing.assert_array_equal(loaded._training_weight(), W_1D)
    np.testing.assert_allclose(loaded.predict_proba(X_1D), fit.predict_proba(X_1D))
    assert loaded.model_["sample_weight"].get_value().tolist() == W_1D.tolist()


def test_sparse_weighted_fit_counts_the_repetitions():
    fit = _fit(X_1D, W_1D, n_components=4, weight_concentration="sparse", draws=200)
    counts = fit.sample_trace_.posterior["component_counts"].to_numpy()
    assert np.all(counts.sum(axis=-1) == W_1D.sum())
    assert fit.n_clusters_ == 2


def test_tempered_weighted_fits_are_deterministic():
    fits = [_fit(X_1D, W_1D, n_temperatures=2, draws=100) for _ in range(2)]
    posteriors = [f.sample_trace_.posterior for f in fits]
    np.testing.assert_array_equal(posteriors[0]["means"], posteriors[1]["means"])
    assert fits[0].n_temperatures_ == 2


@pytest.mark.slow
@pytest.mark.parametrize("covariance_type", ["diag", "full"])
def test_nuts_weights_are_repetitions(covariance_type):
    weighted = _fit(X_1D, W_1D, sampler="nuts", covariance_type=covariance_type)
    repeated = _fit(
        np.repeat(X_1D, W_1D, axis=0),
        sampler="nuts",
        covariance_type=covariance_type,
        random_state=1,
    )
    assert_posterior_means_agree(weighted, repeated)


@pytest.mark.slow
def test_sparse_weights_are_repetitions():
    """The number of clusters, as well as the parameters, of a sparse fit with weights."""
    from sklearn.datasets import load_iris

    X = load_iris().data[:, 2:]
    weight = np.random.default_rng(5).integers(0, 3, X.shape[0])
    params = {"n_components": 5, "weight_concentration": "sparse", "draws": 4000}
    weighted = _fit(X, weight, **params)
    repeated = _fit(np.repeat(X, weight, axis=0), random_state=1, **params)
    both = np.array([weighted.n_clusters_posterior_, repeated.n_clusters_posterior_])
    # Each P(k) within 4 binomial standard errors of an ESS of 400 per fit.
    se = np.sqrt(both.mean(0) * (1 - both.mean(0)) * 2 / 400)
    assert np.all(np.abs(both[0] - both[1]) <= 4 * se + 1e-12), both
