"""Convergence diagnostics and the warnings that report them."""

import warnings

import arviz as az
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm._diagnostics import (
    convergence_report,
    mode_crossing_remedy,
    next_chain_length,
    overlapping_components,
    warn_if_not_converged,
)

PARAMETERS = ("weights", "means", "sigma")


def _trace(rng, chain_offsets, n_draws=1000):
    n_chains = len(chain_offsets)
    offsets = np.asarray(chain_offsets)[:, None]
    return az.from_dict(
        posterior={
            "weights": rng.normal(size=(n_chains, n_draws, 3)) + offsets[..., None],
            "means": rng.normal(size=(n_chains, n_draws, 3, 1)),
            "sigma": rng.normal(size=(n_chains, n_draws)),
        },
        sample_stats={"diverging": np.zeros((n_chains, n_draws), dtype=bool)},
    )


def test_report_of_independent_draws_is_clean():
    report = convergence_report(_trace(np.random.default_rng(0), [0.0, 0.0]), PARAMETERS)
    assert report["max_r_hat"] < 1.01
    assert report["min_ess_bulk"] > 1000
    assert report["divergences"] == 0
    assert report["converged"] is True
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_not_converged(report, 2, 1000, "the fit")


def test_chains_that_disagree_are_reported_with_numbers():
    report = convergence_report(_trace(np.random.default_rng(1), [0.0, 3.0]), PARAMETERS)
    assert report["max_r_hat"] > 1.5
    assert report["converged"] is False
    # The chains differ by an offset of the weights only.
    assert report["worst_parameter"].startswith("weights[")
    message = r"^the fit: .*max R-hat \d\.\d{3} > 1.01.*worst mixing: weights\[\d\].*draws=2000"
    with pytest.warns(ConvergenceWarning, match=message):
        warn_if_not_converged(report, 2, 1000, "the fit")


def test_chains_each_stuck_at_their_own_value_have_infinite_r_hat():
    """ArviZ gives NaN there, which would hide the worst disagreement there is; a value
    that is the same constant in every chain still has none."""
    trace = _trace(np.random.default_rng(2), [0.0, 0.0])
    stuck = az.from_dict(
        posterior={
            "n_clusters": np.repeat([[2], [3]], 1000, axis=1),
            "constant": np.ones((2, 1000)),
        }
    ).posterior
    report = convergence_report(trace, PARAMETERS, [trace.posterior[list(PARAMETERS)], stuck])
    assert report["max_r_hat"] == np.inf
    assert report["worst_parameter"] == "n_clusters"
    assert report["converged"] is False


def test_divergences_and_low_ess_are_reported():
    report = {"max_r_hat": 1.0, "min_ess_bulk": 150.0, "min_ess_tail": 900.0, "divergences": 3}
    with pytest.warns(ConvergenceWarning, match="min bulk ESS 150 < 400; 3 divergent"):
        warn_if_not_converged(report, 2, 100, "the fit")


def test_overlapping_components_on_the_ordering_feature():
    rng = np.random.default_rng(2)
    means = np.stack(
        [rng.normal(0, 1, 4000), rng.normal(0.5, 1, 4000), rng.normal(20, 1, 4000)], axis=1
    )[:, :, None]
    overlaps = overlapping_components(means, order_feature=0)
    assert [c for c, *_ in overlaps] == [0]


def test_fitted_estimator_reports_convergence_and_summary(seed_fit):
    report = seed_fit.convergence_
    assert report["max_r_hat"] <= 1.01
    assert report["min_ess_bulk"] >= 1000 and report["min_ess_tail"] >= 400
    assert report["divergences"] is None and report["acceptance_rate"] is None
    assert report["converged"] is True
    summary = seed_fit.summary(hdi_prob=0.9)
    assert len(summary) == 7
    assert "means[2, 0]" in summary.index and "hdi_5%" in summary.columns


def test_short_chains_warn_naming_the_fit(seed_data):
    X, _ = seed_data
    fit = r"BayesianMCMCMixture\(n_components=3, covariance_type='tied_diag'\): the posterior"
    with pytest.warns(ConvergenceWarning, match=fit + ".*ESS"):
        est = BayesianMCMCMixture(draws=30, tune=30, random_state=0).fit(X)
    assert est.convergence_["converged"] is False
    assert est.convergence_["worst_parameter"] in est.summary().index


def test_one_cluster_fitted_with_two_components_warns_about_the_ordering():
    X = np.random.default_rng(3).normal(size=(200, 1))
    message = r"n_components=2, covariance_type='tied_diag'\): .*overlap on the ordering feature 0"
    with pytest.warns(ConvergenceWarning, match=message):
        BayesianMCMCMixture(n_components=2, random_state=0).fit(X)


def test_one_chain_has_no_r_hat(seed_data):
    X, _ = seed_data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = BayesianMCMCMixture(chains=1, draws=100, tune=100, random_state=0).fit(X)
    assert est.convergence_["max_r_hat"] is None
    assert est.convergence_["min_ess_bulk"] > 0
    # Without R-hat, the worst mixing parameter is the one with the smallest bulk ESS.
    summary = est.summary()
    assert summary.loc[est.convergence_["worst_parameter"], "ess_bulk"] == summary["ess_bulk"].min()


def _report(r_hat, bulk, tail):
    report = {"max_r_hat": r_hat, "min_ess_bulk": bulk, "min_ess_tail": tail, "divergences": None}
    return {**report, "converged": r_hat <= 1.01 and min(bulk, tail) >= 400}


@pytest.mark.parametrize(
    ("report", "n_draws", "max_draws", "expected"),
    [
        # Converged, or the budget spent: no extension.
        (_report(1.001, 500, 900), 1000, 8000, None),
        (_report(1.05, 500, 900), 8000, 8000, None),
        # R-hat alone misses: double.
        (_report(1.02, 900, 900), 1000, 8000, 2000),
        # The ESS would reach 400 x 1.25 in proportion: 1000 x 500 / 90, rounded up.
        (_report(1.005, 90, 319), 1000, 8000, 5556),
        (_report(1.005, 500, 300), 1000, 8000, 2000),
        # Never beyond the budget,
        (_report(1.02, 900, 900), 5000, 8000, 8000),
        # and not at all when the chains would need more than the budget.
        (_report(1.3, 3, 11), 1000, 8000, None),
        (_report(1.005, 90, 319), 1000, 5000, None),
    ],
)
def test_next_chain_length(report, n_draws, max_draws, expected):
    assert next_chain_length(report, n_draws, max_draws) == expected


@pytest.mark.parametrize(
    ("n_draws", "message"),
    [
        (8000, r"\(2 chains x 8000 draws, the budget max_draws=8000 spent; worst.*max_draws \(e"),
        (
            1000,
            r"\(2 chains x 1000 draws; at this rate the chains would need about 166667 draws "
            r"each, more than max_draws=8000, so they were not continued.*Try max_draws=166667",
        ),
    ],
)
def test_the_budget_of_draws_auto_is_stated_in_the_warning(n_draws, message):
    report = {**_report(1.3, 3, 11), "worst_parameter": "means[0, x0]"}
    with pytest.warns(ConvergenceWarning, match=message):
        warn_if_not_converged(report, 2, n_draws, "the fit", max_draws=8000)


def test_a_sparse_fit_is_pointed_to_its_number_of_clusters():
    with pytest.warns(ConvergenceWarning, match=r"n_clusters_summary\(\)") as record:
        warn_if_not_converged(_report(1.3, 3, 11), 2, 1000, "the fit", sparse=True)
    assert "weight_concentration='sparse'" not in str(record[0].message)


def test_chains_not_named_apart_are_still_given_the_remedy_the_fit_can_take():
    """Chains that switch between modes too seldom miss R-hat without sitting apart (the
    sparse t mixture's outlier cluster on Old Faithful, benchmarks/README.md): the warning
    names the crossing options that the fit takes, and no other."""
    remedy = mode_crossing_remedy(tools=["n_temperatures"])
    with pytest.warns(ConvergenceWarning) as record:
        warn_if_not_converged(_report(1.3, 3, 11), 2, 1000, "the fit", sparse=True, crossing=remedy)
    message = str(record[0].message)
    assert f"more draws will not join them: {remedy}; or compare the chains" in message
    assert "split_merge" not in message
