"""The per-chain summary that tells which mode each chain sits in, and the warning that
names the modes."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm._diagnostics import mode_crossing_remedy
from bayes_gmm._modes import (
    MODE_ROWS,
    SAME_LEVEL_SDS,
    chain_modes,
    describe_modes,
    group_chains,
    summary_rows,
)
from bayes_gmm._spec import OBSERVED
from tests.test_split_merge import _square as _square_data


def test_relabelled_partitions_at_one_level_are_one_mode():
    partition = np.repeat([0, 1, 2], 20)
    relabelled = np.repeat([2, 0, 1], 20)
    assert group_chains([-100.0, -100.5], [2.0, 2.0], [partition, relabelled]) == [0, 0]


def test_a_different_partition_is_another_mode_even_at_the_same_level():
    left_right = np.repeat([0, 1], 30)
    interleaved = np.tile([0, 1], 30)
    modes = group_chains([-50.0] * 3, [1.0] * 3, [left_right, interleaved, left_right])
    assert modes == [0, 1, 0]


def test_one_partition_at_levels_many_sds_apart_is_two_modes():
    partition = np.repeat([0, 1], 30)
    apart = SAME_LEVEL_SDS * 2.0 + 1.0
    assert group_chains([0.0, -apart, -0.5], [2.0, 2.0, 2.0], [partition] * 3) == [0, 1, 0]


def test_summary_rows_are_evenly_spaced_and_bounded():
    assert summary_rows(MODE_ROWS) == slice(None)
    rows = summary_rows(3 * MODE_ROWS + 7)
    assert rows.size == MODE_ROWS and rows[0] == 0 and rows[-1] == 3 * MODE_ROWS + 6
    assert np.all(np.diff(rows) > 0)


def test_describe_modes_groups_the_chains():
    modes = {
        "log_likelihood": [-10.0, -20.0, -12.0],
        "log_likelihood_sd": [1.0, 1.0, 1.0],
        "n_clusters": [3, 2, 3],
        "mode": [0, 1, 0],
    }
    assert describe_modes(modes) == (
        "chains 0, 2: log-likelihood -11.0, 3 clusters; chain 1: log-likelihood -20.0, 2 clusters"
    )


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, "split_merge=True and n_temperatures=4 (parallel tempering)"),
        ({"split_merge": True}, "n_temperatures=4 (parallel tempering)"),
        ({"split_merge": True, "n_temperatures": 4}, "n_temperatures=8 (a longer ladder)"),
        ({"sampler": "nuts"}, "sampler='gibbs' with n_temperatures=4"),
        # Only the options that the fit's model and data take (crossing_tools).
        ({"tools": ["n_temperatures"]}, "n_temperatures=4 (parallel tempering) can carry"),
        ({"tools": ["split_merge"]}, "split_merge=True can carry"),
        (
            {"sampler": "nuts", "tools": ["n_temperatures"]},
            "sampler='gibbs' with n_temperatures=4 (parallel tempering) can carry",
        ),
        ({"tools": []}, "neither parallel tempering nor split-merge moves take"),
    ],
)
def test_the_remedy_names_what_the_fit_did_not_use(options, expected):
    assert mode_crossing_remedy(**options).startswith(expected)


def test_crossing_tools_leave_out_what_the_data_or_the_model_refuse():
    from bayes_gmm._sampling.budget import crossing_tools

    normal = {"distribution": "normal"}
    student_t = {"distribution": "student_t"}
    assert crossing_tools(normal) == ["n_temperatures", "split_merge"]
    assert crossing_tools(normal, missing=True) == ["n_temperatures", "split_merge"]
    assert crossing_tools(normal, weighted=True) == ["n_temperatures"]
    assert crossing_tools(student_t) == ["n_temperatures"]
    assert crossing_tools(student_t, weighted=True) == []
    assert crossing_tools(student_t, missing=True) == []


def _chain_partitions(est):
    """Each chain's partition of the square, judged apart from the modes module: whether
    its components' means lie further apart in x (left | right) than in y."""
    means = est.sample_trace_.posterior["means"].to_numpy()
    gap = np.abs(means[:, :, 0, :] - means[:, :, 1, :])
    return (gap[..., 0] > gap[..., 1]).mean(axis=1)


def test_chains_in_the_two_partitions_of_the_square_are_named_as_modes():
    X = _square_data()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = BayesianMCMCMixture(
            n_components=2, covariance_type="full", chains=4, draws=200, tune=100, random_state=3
        ).fit(X)
    shares = _chain_partitions(est)
    # Each chain stays in the partition it starts in (the tests of split_merge show it).
    assert np.all((shares < 0.05) | (shares > 0.95))
    modes = est.convergence_["chain_modes"]
    assert len(modes["mode"]) == 4 and modes["n_clusters"] == [2, 2, 2, 2]
    same = shares[:, None].round() == shares[None, :].round()
    assert np.array_equal(same, np.equal.outer(modes["mode"], modes["mode"]))
    # Equal-mass partitions: their levels agree within a few within-chain sds.
    levels = np.asarray(modes["log_likelihood"])
    assert np.ptp(levels) < SAME_LEVEL_SDS * max(modes["log_likelihood_sd"])
    messages = [str(w.message) for w in caught if w.category is ConvergenceWarning]
    if max(modes["mode"]) > 0:
        assert any(
            "The chains sit in 2 different modes" in m and "split_merge=True" in m for m in messages
        ), messages
    else:  # all four chains started in one partition: nothing to name
        assert not any("different modes of the posterior (" in m for m in messages)


def test_chain_modes_on_a_subsample_of_rows_estimates_the_level(monkeypatch, seed_fit):
    X = seed_fit._training_data()
    posterior, spec = seed_fit.sample_trace_.posterior, seed_fit._spec
    full = chain_modes(X, posterior, spec)
    monkeypatch.setattr("bayes_gmm._modes.MODE_ROWS", X.shape[0] // 2)
    half = chain_modes(X, posterior, spec)
    assert half["mode"] == full["mode"] == [0] * len(full["mode"])
    # Twice the log-likelihood of every other row estimates that of all n rows with a
    # standard error of sd * sqrt(n) (sampling half a finite population), sd the spread of
    # the points' log-densities.
    pointwise = seed_fit._trace_with_log_likelihood().log_likelihood[OBSERVED]
    point_sd = pointwise.mean(["chain", "draw"]).std()
    tolerance = 5 * float(point_sd) * np.sqrt(X.shape[0])
    assert np.allclose(half["log_likelihood"], full["log_likelihood"], atol=tolerance)


def test_auto_crossing_starts_plain_and_switches_on_only_the_auto_tools():
    from bayes_gmm._sampling.budget import AUTO_TEMPERATURES, auto_crossing, first_run_crossing

    params = {
        "sampler": "gibbs",
        "n_temperatures": "auto",
        "split_merge": "auto",
        "distribution": "normal",
    }
    assert first_run_crossing(params) == {"n_temperatures": 1, "split_merge": False}
    assert auto_crossing(params) == {"n_temperatures": AUTO_TEMPERATURES, "split_merge": True}
    mixed = {**params, "n_temperatures": 3}
    assert first_run_crossing(mixed) == {"n_temperatures": 3, "split_merge": False}
    assert auto_crossing(mixed) == {"split_merge": True}
    assert auto_crossing({**params, "sampler": "nuts"}) is None
    assert auto_crossing({**params, "n_temperatures": 1, "split_merge": False}) is None
    # t components take tempering, on complete unweighted rows, and no split-merge move.
    student_t = {**params, "distribution": "student_t"}
    assert auto_crossing(student_t) == {"n_temperatures": AUTO_TEMPERATURES}
    assert auto_crossing(student_t, weighted=True) is None
    assert auto_crossing(student_t, missing=True) is None


def test_auto_crossing_is_accepted_by_the_samplers_without_the_tools(seed_data):
    est = BayesianMCMCMixture(
        sampler="metropolis", draws=100, tune=100, n_temperatures="auto", split_merge="auto"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(seed_data[0][:100])
    assert est.n_temperatures_ == 1 and est.split_merge_ is False


def test_chains_that_agree_are_not_sampled_again(seed_data):
    X, _ = seed_data
    plain = BayesianMCMCMixture(draws=300, random_state=0).fit(X)
    auto = BayesianMCMCMixture(draws=300, random_state=0, split_merge="auto").fit(X)
    assert auto.split_merge_ is False and auto.n_temperatures_ == 1
    np.testing.assert_array_equal(
        plain.sample_trace_.posterior["means"], auto.sample_trace_.posterior["means"]
    )


def test_chains_in_different_modes_are_sampled_again_with_the_moves(tmp_path):
    X = _square_data()
    params = dict(n_components=2, covariance_type="full", draws=200, tune=100, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = BayesianMCMCMixture(**params).fit(X)
        auto = BayesianMCMCMixture(**params, split_merge="auto").fit(X)
    assert max(plain.convergence_["chain_modes"]["mode"]) > 0
    assert auto.split_merge_ is True and auto.n_temperatures_ == 1
    assert "split_merge_accepted" in auto.sample_trace_.sample_stats
    auto.save(tmp_path / "fit.nc")
    loaded = BayesianMCMCMixture.load(tmp_path / "fit.nc")
    assert loaded.split_merge_ is True and loaded.n_temperatures_ == 1
