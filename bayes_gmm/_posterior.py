"""Pure NumPy maths on mixture parameters and posterior draws.

No PyMC here: arrays in, arrays out (the random draws take a NumPy generator), so tests
reach every formula without MCMC. Draw arrays carry a leading draw axis ``S``;
``sigma_kd`` is the standard deviation expanded to one value per component and feature,
shape ``(..., k, d)``.
"""

import functools
import math
from typing import NamedTuple

import numpy as np
from scipy.special import logsumexp

COVARIANCE_TYPES = ("tied_spherical", "tied_diag", "spherical", "diag")
# The parameters every sampler's trace holds, in the trace layout's order.
PARAMETER_NAMES = ("weights", "means", "sigma")

_LOG_2PI = np.log(2 * np.pi)
# Floats in one block of (draws, components, points): about a megabyte, cache-sized.
_BLOCK_ELEMENTS = 2**17


class Draws(NamedTuple):
    """Draws flattened over chains: weights (S, k), means (S, k, d), sigma_kd (S, k, d)."""

    weights: np.ndarray
    means: np.ndarray
    sigma_kd: np.ndarray


def sigma_shape(covariance_type, n_components, n_features):
    """Shape of the free standard deviations for a covariance type."""
    return {
        "tied_spherical": (),
        "tied_diag": (n_features,),
        "spherical": (n_components,),
        "diag": (n_components, n_features),
    }[covariance_type]


def sigma_dims(covariance_type):
    """Named dimensions of the free standard deviations, matching :func:`sigma_shape`."""
    return {
        "tied_spherical": (),
        "tied_diag": ("feature",),
        "spherical": ("component",),
        "diag": ("component", "feature"),
    }[covariance_type]


def sigma_unit(spread, covariance_type):
    """The scale of the free standard deviations: per feature, or one for the spherical types."""
    if covariance_type in ("tied_spherical", "spherical"):
        return np.asarray(spread.max())
    return spread


@functools.cache
def sigma_index(covariance_type, n_components, n_features):
    """(k, d) map from each component and feature to its entry in the flattened sigma.

    The single source of truth for what a covariance type ties: expanding, pooling and
    the PyMC model all index through it. Cached and read-only: the Gibbs sweep asks for
    it twice per iteration.
    """
    component, feature = np.indices((n_components, n_features))
    index = {
        "tied_spherical": np.zeros_like(component),
        "tied_diag": feature,
        "spherical": component,
        "diag": component * n_features + feature,
    }[covariance_type]
    index.setflags(write=False)
    return index


def expand_sigma(sigma, covariance_type, n_components, n_features):
    """Broadcast free standard deviations ``(..., *sigma_shape)`` to ``(..., k, d)``."""
    sigma = np.asarray(sigma, dtype=float)
    n_free = len(sigma_shape(covariance_type, n_components, n_features))
    lead = sigma.shape[: sigma.ndim - n_free]
    index = sigma_index(covariance_type, n_components, n_features)
    return sigma.reshape(*lead, -1)[..., index]


def pool_over_tied(values_kd, covariance_type):
    """Sum a (k, d) array over what a covariance type ties, giving sigma's shape."""
    n_components, n_features = values_kd.shape
    index = sigma_index(covariance_type, n_components, n_features)
    shape = sigma_shape(covariance_type, n_components, n_features)
    pooled = np.bincount(index.ravel(), weights=values_kd.ravel(), minlength=math.prod(shape))
    return pooled.reshape(shape)


def covariances_from_sigma(sigma_sq, covariance_type, n_components, n_features):
    """Variances in scikit-learn's ``covariances_`` layout.

    ``spherical`` -> (k,), ``diag`` -> (k, d), and the tied types -> the shared (d, d)
    matrix, as scikit-learn's ``tied``.
    """
    sigma_sq = np.asarray(sigma_sq, dtype=float)
    if covariance_type in ("spherical", "diag"):
        return sigma_sq.copy()
    diagonal = np.broadcast_to(sigma_sq, (n_features,))
    return np.diag(diagonal)


def log_joint(X, weights, means, sigma_kd):
    """log w_c + log Normal(x_i | mu_c, diag sigma_c^2) for every draw, component and point.

    Shapes: X (n, d), weights (S, k), means (S, k, d), sigma_kd (S, k, d) -> (S, k, n).
    Component-major, so every reduction over components runs across contiguous rows of
    length n rather than along a short last axis, several times slower in NumPy.
    A Fortran-ordered ``X`` makes each feature's column contiguous too.
    """
    n_draws, n_components = weights.shape
    n_points, n_features = X.shape
    log_norm = np.log(weights) - np.log(sigma_kd).sum(-1) - 0.5 * n_features * _LOG_2PI
    out = np.empty((n_draws, n_components, n_points))
    out[...] = log_norm[:, :, None]
    z = np.empty((n_draws, n_points))
    # In-place, one (component, feature) at a time: the temporary stays at (S, n).
    for c in range(n_components):
        for j in range(n_features):
            np.subtract(X[:, j], means[:, c, j, None], out=z)
            np.divide(z, sigma_kd[:, c, j, None], out=z)
            np.square(z, out=z)
            z *= 0.5
            out[:, c] -= z
    return out


def responsibilities(log_joint_values):
    """P(z = c | x, theta) from :func:`log_joint` output, along the component axis (-2)."""
    # A max-shifted softmax: scipy's logsumexp costs several times more on large blocks.
    shifted = log_joint_values - log_joint_values.max(axis=-2, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=-2, keepdims=True)
    return shifted


def draw_categorical(rng, weights):
    """One category per column of non-negative, unnormalised ``weights`` (k, n), by inverse CDF.

    Overwrites ``weights`` with its cumulative sums (the callers pass temporaries).
    """
    # Row by row: np.cumsum along a short leading axis is several times slower.
    for c in range(1, weights.shape[0]):
        weights[c] += weights[c - 1]
    u = rng.random(weights.shape[1])
    u *= weights[-1]
    # u < total always, but rounding can leave the last edge a hair low, which would give
    # k; counting over the first k - 1 edges only cannot.
    category = np.zeros(weights.shape[1], dtype=np.intp)
    for edge in weights[:-1]:
        category += edge < u
    return category


def sample_categories(rng, log_joint_kn):
    """Draw z_i from P(z_i = c) proportional to exp(log_joint_kn[c, i]); (k, n) -> (n,)."""
    shifted = log_joint_kn - log_joint_kn.max(axis=0)
    return draw_categorical(rng, np.exp(shifted, out=shifted))


def _blocks(draws, n_points):
    """(draw block, point slice) pairs covering every draw and point, in small blocks.

    Each block's (draws, k, points) log-joint holds at most ``_BLOCK_ELEMENTS`` floats:
    the dozen temporaries a block makes stay in cache and reuse freed memory, where arrays
    of millions of points would stream through RAM and fault in fresh pages on every pass.
    """
    n_draws, n_components = draws.weights.shape
    points = max(1, min(n_points, _BLOCK_ELEMENTS // n_components))
    block = max(1, min(n_draws, _BLOCK_ELEMENTS // (n_components * points)))
    for first_point in range(0, n_points, points):
        point_slice = slice(first_point, first_point + points)
        for first_draw in range(0, n_draws, block):
            draw_slice = slice(first_draw, first_draw + block)
            yield draw_slice, Draws(*(values[draw_slice] for values in draws)), point_slice


def draws_of(posterior, spec):
    """Draws of an InferenceData posterior, flattened over chains, sigma expanded to (S, k, d).

    ``posterior`` maps names to arrays with leading (chain, draw) axes; ``spec`` gives k, d,
    the covariance type and sigma's shape.
    """
    k, d = spec.n_components, spec.n_features
    return Draws(
        weights=np.asarray(posterior["weights"]).reshape(-1, k),
        means=np.asarray(posterior["means"]).reshape(-1, k, d),
        sigma_kd=expand_sigma(
            np.asarray(posterior["sigma"]).reshape(-1, *spec.sigma_shape),
            spec.covariance_type,
            k,
            d,
        ),
    )


def sample_categories_given_draws(rng, X, draws):
    """One category per draw and point from p(z | x, theta_draw), shape (S, n)."""
    category = np.empty((draws.weights.shape[0], X.shape[0]), dtype=np.intp)
    for draw_slice, block, point_slice in _blocks(draws, X.shape[0]):
        log_values = log_joint(X[point_slice], *block)
        n_block, n_components, n_points = log_values.shape
        # (S, k, n) -> (k, S n): one categorical draw per draw and point.
        flat = sample_categories(rng, log_values.transpose(1, 0, 2).reshape(n_components, -1))
        category[draw_slice, point_slice] = flat.reshape(n_block, n_points)
    return category


def category_probabilities(X, draws):
    """Rao-Blackwellised posterior category frequencies, (n, k), rows summing to 1.

    The mean over draws of P(z_i = c | x_i, theta_draw): the same expectation as the share
    of sampled categories, with lower variance, and defined for new points too.
    """
    n_draws = draws.weights.shape[0]
    total = np.zeros((draws.weights.shape[1], X.shape[0]))
    for _, block, point_slice in _blocks(draws, X.shape[0]):
        total[:, point_slice] += responsibilities(log_joint(X[point_slice], *block)).sum(axis=0)
    return total.T / n_draws


def _logsumexp_components(values):
    """log-sum-exp over the component axis (-2) of :func:`log_joint` output."""
    peak = values.max(axis=-2)
    shifted = values - peak[..., None, :]
    np.exp(shifted, out=shifted)
    return peak + np.log(shifted.sum(axis=-2))


def _mixture_log_density_blocks(X, draws):
    """log sum_c w_c Normal(x | mu_c, sigma_c) per draw and point, block by block.

    Yields (draw slice, point slice, values of shape (draws, points)).
    """
    for draw_slice, block, point_slice in _blocks(draws, X.shape[0]):
        yield draw_slice, point_slice, _logsumexp_components(log_joint(X[point_slice], *block))


def pointwise_log_likelihood(X, draws):
    """Log-likelihood of each point under each draw, categories summed out: (S, n)."""
    out = np.empty((draws.weights.shape[0], X.shape[0]))
    for draw_slice, point_slice, values in _mixture_log_density_blocks(X, draws):
        out[draw_slice, point_slice] = values
    return out


def log_predictive_density(X, draws):
    """log of the posterior mean of sum_c w_c Normal(x | mu_c, sigma_c), per point, (n,).

    Streams over blocks, so memory stays flat in the number of draws.
    """
    n_draws = draws.weights.shape[0]
    result = np.full(X.shape[0], -np.inf)
    for _, point_slice, values in _mixture_log_density_blocks(X, draws):
        result[point_slice] = np.logaddexp(result[point_slice], logsumexp(values, axis=0))
    return result - np.log(n_draws)


def sample_predictive(rng, draws, n_samples):
    """Draw (X, y) from the posterior predictive: a random posterior draw per sample.

    Returns X of shape (n_samples, d) and the component y of each sample.
    """
    which = rng.integers(draws.weights.shape[0], size=n_samples)
    y = draw_categorical(rng, draws.weights[which].T.copy())
    mean = draws.means[which, y]
    sd = draws.sigma_kd[which, y]
    return mean + sd * rng.standard_normal(mean.shape), y


def n_free_parameters(covariance_type, n_components, n_features):
    """Free parameters of the mixture: weights, means and standard deviations (for BIC)."""
    n_sigma = int(np.prod(sigma_shape(covariance_type, n_components, n_features)))
    return (n_components - 1) + n_components * n_features + n_sigma
