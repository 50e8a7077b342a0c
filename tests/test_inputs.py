"""Hostile inputs: each either fits correctly or raises a clear ValueError or TypeError."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm.datasets import make_notebook_data
from tests.conftest import COVARIANCE_TYPES, assert_fitted_sanely, assert_posterior_means_agree

QUICK = {"draws": 50, "tune": 50, "random_state": 0}
SEED_X, SEED_Y = make_notebook_data(n_samples=150)


def _with(value, row=3):
    X = SEED_X.copy()
    X[row, 0] = value
    return X


FIT = "fit"
# (id, X, estimator parameters, expected): expected is FIT or (error type, message regex).
CASES = [
    # One feature: a NaN leaves its row with nothing observed (see tests/test_missing.py).
    ("nan", _with(np.nan), {}, (ValueError, r"X has no observed entry in row\(s\) \[3\]")),
    ("+inf", _with(np.inf), {}, (ValueError, "Input X contains infinity")),
    ("-inf", _with(-np.inf), {}, (ValueError, "Input X contains infinity")),
    ("empty", np.empty((0, 1)), {}, (ValueError, "0 sample")),
    ("one sample", SEED_X[:1], {}, (ValueError, "n_samples=1 should be >=")),
    ("fewer samples than components", SEED_X[:2], {}, (ValueError, "n_samples=2 should be")),
    ("zero features", np.empty((10, 0)), {}, (ValueError, "0 feature")),
    ("strings", np.array([["a"], ["b"], ["c"], ["d"]]), {}, (ValueError, "convert string")),
    ("object numbers", SEED_X.astype(object), {}, FIT),
    ("complex", SEED_X + 1j, {}, (ValueError, "Complex data not supported")),
    ("sparse", sp.csr_matrix(SEED_X), {}, (TypeError, "Sparse data was passed")),
    ("booleans", np.c_[SEED_X > 0, SEED_X > 3], {"n_components": 2}, FIT),
    ("integers", np.round(SEED_X * 10).astype(int), {}, FIT),
    ("float32", SEED_X.astype(np.float32), {}, FIT),
    ("list of lists", SEED_X.tolist(), {}, FIT),
    ("1-D", SEED_X[:, 0], {}, (ValueError, "Reshape your data")),
    ("3-D", SEED_X[:, :, None], {}, (ValueError, "Found array with dim 3")),
    ("scale 1e-150", SEED_X * 1e-150, {}, FIT),
    ("scale 1e150", SEED_X * 1e150, {}, FIT),
    (
        "constant feature",
        np.c_[SEED_X, np.ones(150)],
        {},
        (ValueError, r"zero variance in .*\[1\]"),
    ),
    ("all points identical", np.ones((20, 2)), {}, (ValueError, r"zero variance in .*\[0, 1\]")),
    ("duplicated points", np.repeat(SEED_X, 3, axis=0), {}, FIT),
    ("one component", SEED_X, {"n_components": 1}, FIT),
    ("min_weight conflict", SEED_X, {"n_components": 11}, FIT),
    (
        "explicit min_weight conflict",
        SEED_X,
        {"n_components": 11, "min_weight": 0.1},
        (ValueError, r"min_weight=0.1 must be smaller than 1 / n_components = 1/11"),
    ),
    ("mean_prior_loc strings", SEED_X, {"mean_prior_loc": ["a"]}, (ValueError, "mean_prior_loc")),
]

# Every parameter given a wrong type, then an out-of-range value.
BAD_PARAMETERS = [
    ("n_components", "3"),
    ("n_components", 0),
    ("covariance_type", 1),
    ("covariance_type", "fulll"),
    ("weight_concentration", "1"),
    ("weight_concentration", -1.0),
    ("min_weight", None),
    ("min_weight", 1.0),
    ("mean_prior_loc", "zero"),
    ("mean_prior_loc", [np.inf]),
    ("mean_prior_scale", "big"),
    ("mean_prior_scale", 0.0),
    ("sd_lower", "0"),
    ("sd_lower", -1e-3),
    ("sd_upper", [1.0, 2.0]),
    ("sd_upper", -20.0),
    ("draws", 1.5),
    ("draws", 0),
    ("tune", "1000"),
    ("tune", -5),
    ("chains", None),
    ("chains", 0),
    ("random_state", 1.5),
    ("random_state", -1),
    ("verbose", "yes"),
    ("verbose", -1),
    ("distribution", "t"),
    ("t_degrees_of_freedom", 0.0),
    ("t_degrees_of_freedom", -2.0),
    ("t_degrees_of_freedom", np.inf),
    ("t_degrees_of_freedom", "3"),
    ("noise_component", "yes"),
]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    ("X", "params", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_input_case(X, params, expected):
    est = BayesianMCMCMixture(**{**QUICK, **params})
    if expected == FIT:
        assert_fitted_sanely(est.fit(X), X)
    else:
        error, message = expected
        with pytest.raises(error, match=message):
            est.fit(X)
        assert not hasattr(est, "sample_trace_")


@pytest.mark.parametrize(
    ("name", "value"), BAD_PARAMETERS, ids=[f"{n}={v!r}" for n, v in BAD_PARAMETERS]
)
def test_bad_parameter_names_itself_and_its_value(name, value):
    with pytest.raises((ValueError, TypeError)) as info:
        BayesianMCMCMixture(**{name: value}).fit(SEED_X)
    assert name in str(info.value)
    assert repr(value) in str(info.value) or str(value) in str(info.value)


def test_tiny_scale_fit_is_the_unit_fit_rescaled():
    unit = BayesianMCMCMixture(**QUICK).fit(SEED_X)
    for scale in (1e-150, 1e150):
        scaled = BayesianMCMCMixture(**QUICK).fit(SEED_X * scale)
        assert_posterior_means_agree(unit, scaled, scale)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
# Derandomised: CI must see the examples a developer saw (a failure found once is pinned
# below with @example).
@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@example(
    # Found by hypothesis: a feature 1e213 times smaller than the other under a shared
    # sigma overflowed the prior precision of its means.
    X=np.array([[1.0, 1.33648884e-213], [0.0, 0.0]]),
    n_components=1,
    covariance_type="tied_spherical",
)
@example(
    # Found by hypothesis: an IQR of 1e-290 (three tied zeros) beside a point at 1 made the
    # standardised data overflow.
    X=np.array([[1.0], [1.80276599e-290], [0.0], [0.0], [0.0]]),
    n_components=2,
    covariance_type="spherical",
)
@example(
    # Found by hypothesis: a spread of 3.5e-292, whose square (a full matrix's entry in the
    # data's units) underflows to 0: refused, with zero variance named.
    X=np.array([[3.49609381e-292], [0.0]]),
    n_components=1,
    covariance_type="full",
)
@given(
    X=st.integers(2, 40).flatmap(
        lambda n: st.integers(1, 3).flatmap(
            lambda d: arrays(
                np.float64,
                (n, d),
                elements=st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=64),
            )
        )
    ),
    n_components=st.integers(1, 4),
    covariance_type=st.sampled_from(COVARIANCE_TYPES),
)
def test_any_finite_data_fits_or_raises_a_clear_error(X, n_components, covariance_type):
    est = BayesianMCMCMixture(
        n_components, covariance_type=covariance_type, draws=10, tune=10, random_state=0
    )
    try:
        est.fit(X)
    except ValueError as error:
        # The only refusals allowed for finite 2-D data: too few samples or a constant feature.
        assert "n_samples=" in str(error) or "zero variance" in str(error), error
        return
    assert_fitted_sanely(est, X)
