"""Every covariance type's object: shapes, layouts, units, priors and PyMC densities."""

import numpy as np
import pytest
from scipy import stats
from sklearn.mixture import GaussianMixture

from bayes_gmm import BayesianMCMCMixture
from bayes_gmm._covariance import (
    COVARIANCE_TYPES,
    DiagonalCovariance,
    FullCovariance,
    resolve_covariance,
)
from bayes_gmm._model import OBSERVED, build_latent_model, build_marginal_model, model_coords
from bayes_gmm._spec import DataScales, data_scales, resolve_spec

K, D = 3, 2
SPREAD = np.array([2.0, 0.5])
SCALES = DataScales(np.zeros(D), SPREAD, 3 * SPREAD)


def _covariance(covariance_type, **params):
    values = BayesianMCMCMixture(K, covariance_type=covariance_type, **params).get_params()
    return resolve_covariance(values, SCALES, K, D)


def _random_param(rng, covariance, n_draws):
    """Draws of the trace variable: sds for diagonal types, SPD matrices for full ones."""
    if isinstance(covariance, DiagonalCovariance):
        return rng.uniform(0.5, 2.0, size=(n_draws, *covariance.shape))
    factor = rng.normal(size=(n_draws, *covariance.shape))
    return factor @ np.swapaxes(factor, -1, -2) + 0.5 * np.eye(D)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_shape_dims_and_parameter_count_agree(covariance_type):
    covariance = _covariance(covariance_type)
    assert covariance.covariance_type == covariance_type
    assert len(covariance.dims) == len(covariance.shape)
    sizes = {"component": K, "feature": D, "feature_bis": D}
    assert tuple(sizes[dim] for dim in covariance.dims) == covariance.shape
    # Free parameters: every sd, or the upper triangle of every matrix.
    expected = {
        "tied_spherical": 1,
        "tied_diag": D,
        "spherical": K,
        "diag": K * D,
        "full": K * D * (D + 1) // 2,
        "tied": D * (D + 1) // 2,
    }[covariance_type]
    assert covariance.n_parameters == expected


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_precision_factors_invert_the_covariance_matrices(covariance_type):
    rng = np.random.default_rng(0)
    covariance = _covariance(covariance_type)
    param = _random_param(rng, covariance, 1)
    factor = covariance.precision_cholesky(param)[0]
    matrices = covariance.covariance_matrices(param)  # one draw: its own mean
    assert matrices.shape == (K, D, D)
    if factor.ndim == 2:  # diagonal: 1 / sd per component and feature
        factor = factor[..., None] * np.eye(D)
    np.testing.assert_allclose(
        factor @ np.swapaxes(factor, -1, -2) @ matrices,
        np.broadcast_to(np.eye(D), (K, D, D)),
        atol=1e-12,
    )


@pytest.mark.parametrize("covariance_type", ["spherical", "diag", "full", "tied"])
def test_layouts_are_scikit_learns(covariance_type):
    """covariances_, precisions_, precisions_cholesky_ have GaussianMixture's shapes and
    relations, for the types the two share."""
    rng = np.random.default_rng(1)
    covariance = _covariance(covariance_type)
    param = _random_param(rng, covariance, 50)
    covariances, precisions, precisions_cholesky = covariance.sklearn_layouts(param)
    X = rng.normal(size=(40, D))
    reference = GaussianMixture(K, covariance_type=covariance_type, random_state=0).fit(X)
    for ours, theirs in (
        (covariances, reference.covariances_),
        (precisions, reference.precisions_),
        (precisions_cholesky, reference.precisions_cholesky_),
    ):
        assert ours.shape == theirs.shape
    if covariance_type in ("full", "tied"):
        np.testing.assert_allclose(
            precisions @ covariances, np.broadcast_to(np.eye(D), covariances.shape), atol=1e-12
        )
        np.testing.assert_allclose(
            precisions_cholesky @ np.swapaxes(precisions_cholesky, -1, -2), precisions
        )
        np.testing.assert_array_equal(np.tril(precisions_cholesky, -1), 0.0)
    else:
        np.testing.assert_allclose(precisions * covariances, 1.0)
        np.testing.assert_allclose(precisions_cholesky**2, precisions)
    # The posterior mean covariance is the mean of the matrices (of variances, not sds).
    np.testing.assert_allclose(
        covariance.covariance_matrices(param),
        np.mean([covariance.covariance_matrices(p[None]) for p in param], axis=0),
    )


@pytest.mark.parametrize("covariance_type", ["tied_spherical", "tied_diag", "spherical", "diag"])
def test_diagonal_expand_and_pool_agree_on_what_is_tied(covariance_type):
    covariance = _covariance(covariance_type)
    shape = covariance.shape
    sigma = np.arange(1, 1 + int(np.prod(shape)), dtype=float).reshape(shape)
    expanded = covariance.expand(sigma)
    assert expanded.shape == (K, D)
    # Pooling ones counts how many (component, feature) cells share each sigma; pooling
    # the expanded array gives sigma times that count.
    counts = covariance._pool(np.ones((K, D)))
    assert counts.shape == shape
    assert counts.sum() == K * D
    np.testing.assert_array_equal(covariance._pool(expanded), sigma * counts)
    assert covariance.expand(np.ones((4, 5, *shape))).shape == (4, 5, K, D)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_standardising_round_trips_and_rescales_the_prior(covariance_type):
    rng = np.random.default_rng(2)
    covariance = _covariance(covariance_type)
    scale = covariance.feature_scale(SPREAD)
    param = _random_param(rng, covariance, 1)[0]
    np.testing.assert_allclose(
        covariance.unstandardise(covariance.standardise(param, scale), scale), param
    )
    # The covariance matrices of standardised parameters are A Sigma A, A = diag(1 / scale).
    standard = covariance.standardise(param, scale)
    np.testing.assert_allclose(
        covariance.covariance_matrices(standard[None]),
        covariance.covariance_matrices(param[None]) / np.outer(scale, scale),
    )
    rescaled = covariance.rescaled(scale)
    if isinstance(covariance, FullCovariance):
        np.testing.assert_allclose(rescaled.scale, covariance.scale / np.outer(scale, scale))
    else:
        unit = covariance.standardise(np.ones(covariance.shape), scale)
        np.testing.assert_allclose(rescaled.sd_upper, covariance.sd_upper * unit)


def test_spherical_types_standardise_every_feature_by_one_unit():
    for covariance_type in ("tied_spherical", "spherical"):
        np.testing.assert_array_equal(
            _covariance(covariance_type).feature_scale(SPREAD), [2.0, 2.0]
        )
    for covariance_type in ("tied_diag", "diag", "full", "tied"):
        np.testing.assert_array_equal(_covariance(covariance_type).feature_scale(SPREAD), SPREAD)


def test_full_prior_defaults_and_explicit_values():
    covariance = _covariance("full")
    assert covariance.degrees_of_freedom == D + 2
    np.testing.assert_allclose(covariance.scale, np.diag((SPREAD / K) ** 2))
    given = _covariance(
        "tied", covariance_prior=[[2.0, 0.5], [0.5, 1.0]], degrees_of_freedom_prior=1.5
    )
    assert given.degrees_of_freedom == 1.5
    np.testing.assert_array_equal(given.scale, [[2.0, 0.5], [0.5, 1.0]])
    np.testing.assert_array_equal(_covariance("full", covariance_prior=3.0).scale, 3.0 * np.eye(D))
    np.testing.assert_array_equal(
        _covariance("full", covariance_prior=[1.0, 4.0]).scale, np.diag([1.0, 4.0])
    )


@pytest.mark.parametrize(
    ("covariance_type", "params", "message"),
    [
        ("full", {"sd_lower": 0.1}, r"sd_lower=0.1 does not apply to covariance_type='full'"),
        ("tied", {"sd_upper": 3.0}, r"sd_upper=3.0 does not apply to covariance_type='tied'"),
        ("full", {"sd_prior": "halfnormal"}, r"sd_prior='halfnormal' does not apply"),
        (
            "diag",
            {"covariance_prior": 1.0},
            r"covariance_prior=1.0 does not apply to covariance_type='diag'",
        ),
        (
            "spherical",
            {"degrees_of_freedom_prior": 5.0},
            r"degrees_of_freedom_prior=5.0 does not apply",
        ),
        (
            "full",
            {"degrees_of_freedom_prior": 1.0},
            r"degrees_of_freedom_prior=1.0 must be greater than n_features - 1 = 1",
        ),
        ("full", {"covariance_prior": [[1.0, 2.0], [2.0, 1.0]]}, r"must be positive definite"),
        ("full", {"covariance_prior": [[1.0, 0.5], [0.0, 1.0]]}, r"must be finite and symmetric"),
        (
            "tied",
            {"covariance_prior": [1.0, 2.0, 3.0]},
            r"must be a number, an array of shape \(2,\) or \(2, 2\)",
        ),
        (
            "full",
            {"sampler": "metropolis"},
            r"sampler='metropolis' does not support covariance_type='full'",
        ),
    ],
)
def test_parameters_that_do_not_apply_or_are_invalid_are_refused(covariance_type, params, message):
    with pytest.raises(ValueError, match=message):
        _covariance(covariance_type, **params)


def test_full_initial_value_is_positive_definite_with_an_empty_component_and_ties():
    covariance = _covariance("full")
    X = np.array([[1.0, 2.0], [1.0, 2.0], [1.0, 2.0], [5.0, 5.0]])  # tied points
    category = np.array([0, 0, 0, 2])  # component 1 empty, component 2 one point
    means = np.array([[1.0, 2.0], [3.0, 3.0], [5.0, 5.0]])
    value = covariance.initial_value(X, category, means, np.bincount(category, minlength=K), None)
    assert value.shape == (K, D, D)
    assert np.all(np.linalg.eigvalsh(value) > 0)


def _model_case(build, covariance_type, seed, n_samples):
    """Data, the resolved model and the PyMC model ``build`` makes, and a random matrix."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, D)) * [3.0, 1.0]
    values = BayesianMCMCMixture(K, covariance_type=covariance_type).get_params()
    spec = resolve_spec(values, data_scales(X), 0)
    model = build(X, spec, model_coords(K, range(D), n_samples))
    return rng, X, spec, model, _random_param(rng, spec.covariance, 1)[0]


@pytest.mark.parametrize("covariance_type", ["full", "tied"])
def test_latent_model_densities_are_the_inverse_wishart_and_the_normal(covariance_type):
    rng, X, spec, model, param = _model_case(build_latent_model, covariance_type, 3, 20)
    covariance = spec.covariance
    category = rng.integers(0, K, 20)
    means = np.sort(rng.normal(size=(K, D)), axis=0)
    point = {
        "weights": np.full(K, 1 / K),
        "means": means,
        "covariance": param,
        "category": category,
    }
    logps = model.point_logps(point, round_vals=12)
    prior = stats.invwishart(df=covariance.degrees_of_freedom, scale=covariance.scale)
    matrices = param.reshape(-1, D, D)
    assert logps["covariance"] == pytest.approx(sum(prior.logpdf(m) for m in matrices))
    per_component = covariance.covariance_matrices(param[None])
    expected = sum(
        stats.multivariate_normal(means[c], per_component[c]).logpdf(x)
        for x, c in zip(X, category, strict=True)
    )
    assert logps[OBSERVED] == pytest.approx(expected)


def _value_point(model, natural):
    """A point of the model's value variables from natural values of its free variables."""
    point = {}
    for name, value in natural.items():
        rv = model[name]
        transform = model.rvs_to_transforms[rv]
        if transform is not None:
            value = transform.forward(value, *rv.owner.inputs).eval()
        point[model.rvs_to_values[rv].name] = value
    return point


@pytest.mark.parametrize("covariance_type", ["full", "tied"])
def test_marginal_model_bartlett_variables_round_trip_and_give_the_mixture_density(
    covariance_type,
):
    rng, X, spec, model, param = _model_case(build_marginal_model, covariance_type, 4, 15)
    covariance = spec.covariance
    weights = np.array([0.2, 0.3, 0.5])
    means = np.sort(rng.normal(size=(K, D)), axis=0)
    point = _value_point(
        model,
        {
            "weights_simplex": (weights - spec.min_weight) / (1 - K * spec.min_weight),
            "means_ordered": means[:, 0],
            "means_other": means[:, 1:],
            **covariance.marginal_initvals(param),
        },
    )
    # The Deterministic in terms of the value variables, not of (random) prior draws.
    (covariance_of_values,) = model.replace_rvs_by_values([model["covariance"]])
    compiled = model.compile_fn(
        [covariance_of_values, model.logp(vars=[model[OBSERVED]], sum=False)[0]],
        inputs=model.value_vars,
        on_unused_input="ignore",
    )
    recovered, logp = compiled(point)
    np.testing.assert_allclose(recovered, param, rtol=1e-10)
    # The observed node's density is the mixture density of every point.
    matrices = covariance.covariance_matrices(param[None])
    density = sum(
        weights[c] * stats.multivariate_normal(means[c], matrices[c]).pdf(X) for c in range(K)
    )
    np.testing.assert_allclose(logp, np.log(density), rtol=1e-10)
