"""Pure NumPy maths on mixture parameters and posterior draws.

No PyMC here: arrays in, arrays out (the random draws take a NumPy generator), so tests
reach every formula without MCMC. Draw arrays carry a leading draw axis ``S``. Every
covariance type hands its draws to this module in one form, scikit-learn's
``precisions_cholesky_``: a factor ``U`` of each component's precision matrix,
``Sigma^-1 = U U^T``. Diagonal types give it as ``1 / sd`` with shape ``(S, k, d)``; full
matrices as upper-triangular ``(S, k, d, d)`` factors, ``U = L^-T`` for the Cholesky factor
``L`` of the covariance.
"""

from typing import NamedTuple

import numpy as np

from ._noise import log_widths, sample_in_box
from ._student_t import t_log_density

_LOG_2PI = np.log(2 * np.pi)
# Floats in one block of (draws, components, points): about a megabyte, cache-sized.
_BLOCK_ELEMENTS = 2**17


class Draws(NamedTuple):
    """Draws flattened over chains: weights (S, k), means (S, k, d), and the precision
    Cholesky factors, (S, k, d) for diagonal covariances or (S, k, d, d) for full ones.

    A mixture with a noise component (:mod:`._noise`) adds its weight (S,) and the log
    widths of its box (S, d), usually a broadcast view of one row; ``weights`` are then
    the Gaussian components' shares of the whole mixture, summing to 1 - noise weight.
    Every function of draws then has a category more, the last, for noise. Student-t
    components add their degrees of freedom (S, k); the precision factors are then those
    of their scale matrices.
    """

    weights: np.ndarray
    means: np.ndarray
    precision_cholesky: np.ndarray
    noise_weight: np.ndarray | None = None
    noise_log_widths: np.ndarray | None = None
    degrees_of_freedom: np.ndarray | None = None

    @property
    def n_categories(self):
        """Components, and the noise component if there is one."""
        return self.weights.shape[1] + (self.noise_weight is not None)

    def log_weights(self):
        """log of every category's weight, noise last: (S, k) or (S, k + 1). A row with
        no entry observed has these as its log-joint: every density of nothing is 1."""
        log_weights = np.log(self.weights)
        if self.noise_weight is None:
            return log_weights
        return np.column_stack([log_weights, np.log(self.noise_weight)])

    def take(self, index):
        """The draws ``index`` picks (a slice or indices along the draw axis)."""
        return Draws(*(None if values is None else values[index] for values in self))


def precision_cholesky_from_covariance(covariance):
    """Upper-triangular U with U U^T = covariance^-1, over leading axes of (..., d, d).

    U = L^-T for the Cholesky factor L of the covariance, by solving L U^T = I: no explicit
    inverse of the covariance (scikit-learn's ``_compute_precision_cholesky``). NumPy's
    batched ``solve`` rather than scipy's ``solve_triangular``, which loops over a batch in
    Python at a few hundred microseconds a matrix.
    """
    lower = np.linalg.cholesky(covariance)
    identity = np.broadcast_to(np.eye(covariance.shape[-1]), covariance.shape)
    # The general solver pivots: zero the rounding it leaves where L^-1 is exactly 0.
    return np.triu(np.swapaxes(np.linalg.solve(lower, identity), -1, -2))


def pool(values_kd, index, shape):
    """Sum a (k, d) array into ``shape`` by ``index``, a (k, d) map to flat positions."""
    pooled = np.bincount(index.ravel(), weights=values_kd.ravel(), minlength=int(np.prod(shape)))
    return pooled.reshape(shape)


def _is_full(precision_cholesky):
    return precision_cholesky.ndim == 4


def log_joint(
    X,
    weights,
    means,
    precision_cholesky,
    noise_weight=None,
    noise_log_widths=None,
    degrees_of_freedom=None,
):
    """log w_c + log Normal(x_i | mu_c, Sigma_c) for every draw, component and point.

    Shapes: X (n, d), weights (S, k), means (S, k, d), precision_cholesky (S, k, d) or
    (S, k, d, d) -> (S, k, n); with a noise component (see :class:`Draws`) a last row
    log noise_weight - log volume, (S, k + 1, n). Student-t components (their
    ``degrees_of_freedom`` (S, k)) have their t density in place of the Normal's.
    Component-major, so every reduction over
    components runs across contiguous rows of length n rather than along a short last
    axis, several times slower in NumPy. A Fortran-ordered ``X`` makes each feature's
    column contiguous too.
    """
    if noise_weight is not None:
        noise = noise_log_joint(noise_weight, noise_log_widths)[:, None, None]
        noise = np.broadcast_to(noise, (weights.shape[0], 1, X.shape[0]))
        components = log_joint(
            X, weights, means, precision_cholesky, None, None, degrees_of_freedom
        )
        return np.concatenate([components, noise], axis=1)
    if degrees_of_freedom is not None:
        log_normal = log_joint(X, np.ones_like(weights), means, precision_cholesky)
        log_t, _ = t_log_density(
            log_normal,
            half_log_det(precision_cholesky)[..., None],
            degrees_of_freedom[..., None],
            X.shape[1],
        )
        return log_t + np.log(weights)[..., None]
    n_draws, n_components = weights.shape
    n_points, n_features = X.shape
    full = _is_full(precision_cholesky)
    diagonal = np.diagonal(precision_cholesky, axis1=-2, axis2=-1) if full else precision_cholesky
    log_norm = np.log(weights) + np.log(diagonal).sum(-1) - 0.5 * n_features * _LOG_2PI
    out = np.empty((n_draws, n_components, n_points))
    out[...] = log_norm[:, :, None]
    if full:
        # ||U^T (x - mu)||^2 as (S, k, d, n) products: contiguous rows of points again.
        factor_t = np.swapaxes(precision_cholesky, -1, -2)
        whitened = factor_t @ X.T
        whitened -= factor_t @ means[..., None]
        np.square(whitened, out=whitened)
        out -= 0.5 * whitened.sum(axis=-2)
        return out
    z = np.empty((n_draws, n_points))
    # In-place, one (component, feature) at a time: the temporary stays at (S, n).
    for c in range(n_components):
        for j in range(n_features):
            np.subtract(X[:, j], means[:, c, j, None], out=z)
            np.multiply(z, precision_cholesky[:, c, j, None], out=z)
            np.square(z, out=z)
            z *= 0.5
            out[:, c] -= z
    return out


def half_log_det(precision_cholesky):
    """1/2 log |Sigma_c| of draws' factors, (S, k, d) or (S, k, d, d) -> (S, k): -sum log
    diag U, since Sigma^-1 = U U^T."""
    full = _is_full(precision_cholesky)
    diagonal = np.diagonal(precision_cholesky, axis1=-2, axis2=-1) if full else precision_cholesky
    return -np.log(diagonal).sum(-1)


def noise_log_joint(noise_weight, noise_log_widths):
    """log noise_weight + log of the noise component's density, 1 / volume: (S,)."""
    return np.log(noise_weight) - noise_log_widths.sum(axis=-1)


def complete_log_likelihood(X, category, means, precision_cholesky, scales=None):
    """log p(x | z, theta) = sum_i log Normal(x_i | mu_{z_i}, Sigma_{z_i}), a float.

    Shapes: X (n, d), category (n,) or, for rows that stand for repetitions, their
    category counts (n, k), means (k, d), precision_cholesky (k, d) or (k, d, d).
    O(n d) for diagonal factors and O(n d^2) for full ones: each point against its own
    component only, where :func:`log_joint` scores it against all k. With t components'
    latent ``scales`` (n,) (one category per row), each point's covariance is divided by
    its scale: log Normal(x | mu, Sigma / u) = log Normal(x | mu, Sigma) + d / 2 log u -
    (u - 1) delta / 2.
    """
    n_features = X.shape[1]
    counted = category.ndim == 2
    counts = category.sum(axis=0) if counted else np.bincount(category, minlength=means.shape[0])
    full = precision_cholesky.ndim == 3
    diagonal = np.diagonal(precision_cholesky, axis1=-2, axis2=-1) if full else precision_cholesky
    value = counts @ np.log(diagonal).sum(-1) - 0.5 * counts.sum() * n_features * _LOG_2PI
    if counted:
        for c in np.flatnonzero(counts):
            held = np.flatnonzero(category[:, c])
            resid = X[held] - means[c]
            whitened = resid @ precision_cholesky[c] if full else resid * precision_cholesky[c]
            value -= 0.5 * category[held, c] @ np.einsum("ij,ij->i", whitened, whitened)
        return float(value)
    resid = X - means.take(category, axis=0)
    if scales is not None:
        value += 0.5 * n_features * np.log(scales).sum()
        resid *= np.sqrt(scales)[:, None]
    if not full:
        resid *= precision_cholesky.take(category, axis=0)
        return float(value - 0.5 * np.einsum("ij,ij->", resid, resid))
    for c in np.flatnonzero(counts):
        whitened = resid[category == c] @ precision_cholesky[c]
        value -= 0.5 * np.einsum("ij,ij->", whitened, whitened)
    return float(value)


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
    n_draws, n_components = draws.weights.shape[0], draws.n_categories
    # Full factors make a (draws, k, d, points) temporary: d floats per point.
    width = n_components * (draws.means.shape[-1] if _is_full(draws.precision_cholesky) else 1)
    points = max(1, min(n_points, _BLOCK_ELEMENTS // width))
    block = max(1, min(n_draws, _BLOCK_ELEMENTS // (width * points)))
    for first_point in range(0, n_points, points):
        point_slice = slice(first_point, first_point + points)
        for first_draw in range(0, n_draws, block):
            draw_slice = slice(first_draw, first_draw + block)
            yield draw_slice, draws.take(draw_slice), point_slice


def evenly_spaced(total, n_draws):
    """Indices of at most ``n_draws`` of ``total`` draws, evenly spaced; all of them when
    ``n_draws`` is None or at least ``total``.

    Evenly spaced rather than random: reproducible, spread over every chain, and nearly
    independent when the chains are long, since neighbours are the most correlated.
    """
    if n_draws is None or n_draws >= total:
        return slice(None)
    return np.unique(np.linspace(0, total - 1, n_draws).round().astype(int))


def draws_of(posterior, spec, n_draws=None):
    """Draws of an InferenceData posterior, flattened over chains, in :class:`Draws` form.

    ``posterior`` maps names to arrays with leading (chain, draw) axes; ``spec.covariance``
    names the covariance variable and turns its draws into precision Cholesky factors.
    ``n_draws`` keeps that many of them (:func:`evenly_spaced`), chosen before the
    factors are computed.
    """
    k, d = spec.n_components, spec.n_features
    covariance = spec.covariance
    weights = np.asarray(posterior["weights"]).reshape(-1, k)
    keep = evenly_spaced(weights.shape[0], n_draws)
    values = np.asarray(posterior[covariance.trace_name]).reshape(-1, *covariance.shape)
    draws = Draws(
        weights=weights[keep],
        means=np.asarray(posterior["means"]).reshape(-1, k, d)[keep],
        precision_cholesky=covariance.precision_cholesky(values[keep]),
    )
    if spec.student_t:
        nu = spec.t_degrees_of_freedom
        if spec.sampled_df:
            nu = np.asarray(posterior["degrees_of_freedom"], dtype=float)
            nu = nu.reshape(-1, *spec.df_shape)[keep]
            # One shared by the components: a column, broadcast over them.
            nu = nu if spec.df_shape else nu[:, None]
        draws = draws._replace(degrees_of_freedom=np.broadcast_to(nu, draws.weights.shape))
    if spec.noise_box is None:
        return draws
    # The trace's weights are the Gaussian components' shares among themselves.
    noise_weight = np.asarray(posterior["noise_weight"]).reshape(-1)[keep]
    return draws._replace(
        weights=draws.weights * (1 - noise_weight[:, None]),
        noise_weight=noise_weight,
        noise_log_widths=np.broadcast_to(log_widths(spec.noise_box), (noise_weight.size, d)),
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


def sample_predictive(rng, draws, n_samples, noise_box=None):
    """Draw (X, y) from the posterior predictive: a random posterior draw per sample.

    Returns X of shape (n_samples, d) and the component y of each sample; with a noise
    component, whose samples lie uniform in ``noise_box``, y is -1 for them.
    """
    which = rng.integers(draws.weights.shape[0], size=n_samples)
    shares = draws.weights[which].T
    if draws.noise_weight is not None:
        shares = np.vstack([shares, draws.noise_weight[which]])
    y = draw_categorical(rng, shares.copy())
    k = draws.weights.shape[1]
    gaussian = np.flatnonzero(y < k)
    which, component = which[gaussian], y[gaussian]
    mean = draws.means[which, component]
    factor = draws.precision_cholesky[which, component]
    noise = rng.standard_normal(mean.shape)
    if draws.degrees_of_freedom is not None:
        # A t point: the Gaussian's deviation over the root of a Gamma(nu / 2, nu / 2) scale.
        nu = draws.degrees_of_freedom[which, component]
        noise /= np.sqrt(rng.gamma(nu / 2, 2 / nu))[:, None]
    if not _is_full(draws.precision_cholesky):
        points = mean + noise / factor
    else:
        # Covariance U^-T U^-1: x = mu + U^-T e.
        points = mean + np.linalg.solve(np.swapaxes(factor, -1, -2), noise[..., None])[..., 0]
    if gaussian.size == n_samples:
        return points, y
    X = np.empty((n_samples, points.shape[1]))
    X[gaussian] = points
    in_noise = y == k
    X[in_noise] = sample_in_box(rng, noise_box, int(in_noise.sum()))
    return X, np.where(in_noise, -1, y)
