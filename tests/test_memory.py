"""Memory grows with n, not with n x draws: the per-point storage policy at scale."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm._fitting import MAX_POINTWISE_DRAWS
from bayes_gmm.datasets import make_notebook_data

N_LARGE = 200_000
CHAINS, DRAWS = 2, 50
# Everything in the trace but the observed data is per draw, never per point and draw:
# weights, means, sigma and the sampler's stats take well under a kilobyte per draw.
PER_DRAW_BYTES = 1024


@pytest.fixture(scope="module")
def large_fit():
    X, _ = make_notebook_data(N_LARGE)
    with warnings.catch_warnings():
        # Few draws keep the test fast; their ESS is beside the point here.
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = BayesianMCMCMixture(draws=DRAWS, tune=DRAWS, chains=CHAINS, random_state=0)
        return X, est.fit(X)


def test_trace_size_is_bounded_at_200k_points(large_fit):
    X, est = large_fit
    assert N_LARGE * CHAINS * DRAWS > MAX_POINTWISE_DRAWS
    trace = est.sample_trace_
    assert "category" not in trace.posterior
    assert "log_likelihood" not in trace.groups()
    # The observed data with its sample coordinate, plus a bound per draw. Categories
    # alone, as int8, would add N_LARGE * CHAINS * DRAWS = 20 MB.
    bound = 2 * X.nbytes + PER_DRAW_BYTES * CHAINS * DRAWS
    size = sum(trace[group].nbytes for group in trace.groups())
    assert size < bound, f"sample_trace_ holds {size} bytes, over the bound of {bound}"


def test_large_fit_still_labels_and_scores_every_point(large_fit):
    X, est = large_fit
    assert est.labels_.shape == (N_LARGE,)
    np.testing.assert_array_equal(est.labels_, est.predict(X))
    assert np.isfinite(est.score_samples(X)).all()


def test_per_point_draws_are_kept_below_the_cap(seed_fit):
    trace = seed_fit.sample_trace_
    assert trace.posterior["category"].dtype.itemsize == 1
    assert trace.log_likelihood["obs"].shape == (2, 1000, 500)
