"""Pure NumPy maths on mixture parameters and posterior draws.

No PyMC here: arrays in, arrays out (the random draws take a NumPy generator), so tests
reach every formula without MCMC. Draw arrays carry a leading draw axis ``S``;
``sigma_kd`` is the standard deviation expanded to one value per component and feature,
shape ``(..., k, d)``.
"""

import functools
from typing import NamedTuple

import numpy as np
from scipy.special import logsumexp

COVARIANCE_TYPES = ("tied_spherical", "tied_diag", "spherical", "diag")
# The parameters every sampler's trace holds, in the trace layout's order.
PARAMETER_NAMES = ("weights", "means", "sigma")

_LOG_2PI = np.log(2 * np.pi)
# Bound on the floats one block of draws may hold while scoring, to keep memory flat in n.
_BLOCK_ELEMENTS = 2**22


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
    pooled = np.bincount(index.ravel(), weights=values_kd.ravel(), minlength=int(np.prod(shape)))
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
    """log w_c + log Normal(x_i | mu_c, diag sigma_c^2) for every draw, point and component.

    Shapes: X (n, d), weights (S, k), means (S, k, d), sigma_kd (S, k, d) -> (S, n, k).
    """
    n_draws, n_components = weights.shape
    out = np.empty((n_draws, X.shape[0], n_components))
    log_norm = np.log(weights) - np.log(sigma_kd).sum(-1) - 0.5 * X.shape[1] * _LOG_2PI
    # One component at a time keeps the temporary at (S, n, d) rather than (S, n, k, d).
    for c in range(n_components):
        z = (X[None, :, :] - means[:, None, c, :]) / sigma_kd[:, None, c, :]
        out[:, :, c] = log_norm[:, None, c] - 0.5 * np.einsum("snd,snd->sn", z, z)
    return out


def responsibilities(log_joint_values):
    """P(z = c | x, theta) from :func:`log_joint` output, along the last axis."""
    # A max-shifted softmax: scipy's logsumexp costs several times more on large blocks.
    shifted = np.exp(log_joint_values - log_joint_values.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def draw_categorical(rng, weights):
    """One category per row of non-negative, unnormalised ``weights`` (n, k), by inverse CDF."""
    cumulative = np.cumsum(weights, axis=1)
    u = rng.random(weights.shape[0]) * cumulative[:, -1]
    # u < total always, but rounding in cumsum can leave the last edge a hair low.
    return np.minimum((cumulative < u[:, None]).sum(axis=1), weights.shape[1] - 1)


def sample_categories(rng, log_joint_nk):
    """Draw z_i from P(z_i = c) proportional to exp(log_joint_nk[i, c])."""
    return draw_categorical(rng, np.exp(log_joint_nk - log_joint_nk.max(axis=1, keepdims=True)))


def _draw_blocks(draws, n_points, n_features):
    n_draws = draws.weights.shape[0]
    per_draw = max(1, n_points * n_features)
    block = max(1, min(n_draws, _BLOCK_ELEMENTS // per_draw))
    for start in range(0, n_draws, block):
        stop = start + block
        yield Draws(draws.weights[start:stop], draws.means[start:stop], draws.sigma_kd[start:stop])


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
    n_draws, n_points = draws.weights.shape[0], X.shape[0]
    category = np.empty((n_draws, n_points), dtype=np.int64)
    start = 0
    for block in _draw_blocks(draws, *X.shape):
        log_values = log_joint(X, *block)
        stop = start + log_values.shape[0]
        flat = sample_categories(rng, log_values.reshape(-1, log_values.shape[-1]))
        category[start:stop] = flat.reshape(-1, n_points)
        start = stop
    return category


def category_probabilities(X, draws):
    """Rao-Blackwellised posterior category frequencies, (n, k), rows summing to 1.

    The mean over draws of P(z_i = c | x_i, theta_draw): the same expectation as the share
    of sampled categories, with lower variance, and defined for new points too.
    """
    n_draws = draws.weights.shape[0]
    total = np.zeros((X.shape[0], draws.weights.shape[1]))
    for block in _draw_blocks(draws, *X.shape):
        total += responsibilities(log_joint(X, *block)).sum(axis=0)
    return total / n_draws


def _logsumexp_last(values):
    """log-sum-exp over the last axis; scipy's logsumexp costs several times more here."""
    peak = values.max(axis=-1)
    return peak + np.log(np.exp(values - peak[..., None]).sum(axis=-1))


def _mixture_log_density_blocks(X, draws):
    """log sum_c w_c Normal(x | mu_c, sigma_c) per draw and point, in blocks of draws."""
    for block in _draw_blocks(draws, *X.shape):
        yield _logsumexp_last(log_joint(X, *block))


def pointwise_log_likelihood(X, draws):
    """Log-likelihood of each point under each draw, categories summed out: (S, n)."""
    return np.concatenate(list(_mixture_log_density_blocks(X, draws)), axis=0)


def log_predictive_density(X, draws):
    """log of the posterior mean of sum_c w_c Normal(x | mu_c, sigma_c), per point, (n,).

    Streams over blocks of draws, so memory stays flat in the number of draws.
    """
    n_draws = draws.weights.shape[0]
    result = np.full(X.shape[0], -np.inf)
    for per_draw in _mixture_log_density_blocks(X, draws):
        result = np.logaddexp(result, logsumexp(per_draw, axis=0))
    return result - np.log(n_draws)


def sample_predictive(rng, draws, n_samples):
    """Draw (X, y) from the posterior predictive: a random posterior draw per sample.

    Returns X of shape (n_samples, d) and the component y of each sample.
    """
    which = rng.integers(draws.weights.shape[0], size=n_samples)
    y = draw_categorical(rng, draws.weights[which])
    mean = draws.means[which, y]
    sd = draws.sigma_kd[which, y]
    return mean + sd * rng.standard_normal(mean.shape), y


def n_free_parameters(covariance_type, n_components, n_features):
    """Free parameters of the mixture: weights, means and standard deviations (for BIC)."""
    n_sigma = int(np.prod(sigma_shape(covariance_type, n_components, n_features)))
    return (n_components - 1) + n_components * n_features + n_sigma
