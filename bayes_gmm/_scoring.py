"""Scoring many points under many posterior draws: prediction at scale.

Pure NumPy, like :mod:`._posterior`. Every draw's log-joint log w_c + log Normal(x | mu_c,
Sigma_c) is a quadratic form in x, so for a block of points all draws and components come
from one matrix product, ``coefficients @ features``: the features are 1, x and the
products x_j x_l, the coefficients are each draw's. That moves the per-feature arithmetic
into BLAS, and the cost into the exponentials of the softmax, which a thread per core
shares out: NumPy releases the GIL in both.

The expansion cancels where a point lies many standard deviations from the centre of the
features but close to a component mean, as for a component of tied values far from the
rest. Each block bounds its rounding error (the standard bound of a sum of products,
|coefficients| @ |features|) and computes the log-joint directly, by
:func:`._posterior.log_joint`, when the bound exceeds ``_TOLERANCE``.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import threadpool_limits

from ._missing import missing_patterns, pattern_marginals
from ._posterior import draws_of, log_joint, noise_log_joint
from ._spec import OBSERVED
from ._student_t import t_log_density

_LOG_2PI = np.log(2 * np.pi)
# Floats in the (draws, components, points) log-joint of one block: 4 MB. Of 2^15, 2^17
# and 2^19, the fastest in a timing of 1e6 points under 200 draws of 3 components on the
# 2-core machine, two threads (3.1, 2.1 and 1.7 s, before the code took its final form).
_BLOCK_ELEMENTS = 2**19
# Whatever the number of draws, a block holds this many points at least, so that
# per-block Python overhead stays small.
_MIN_BLOCK_POINTS = 64
# Bound on the rounding error of a log-joint value (nats) beyond which the direct formula
# replaces the expansion: a relative error of 1e-9 in a probability.
_TOLERANCE = 1e-9


class _Expansion:
    """The quadratic-form coefficients of every draw and component, centred for precision."""

    def __init__(self, draws):
        self.draws = draws
        weights, means, factor = draws.weights, draws.means, draws.precision_cholesky
        n_draws, _, n_features = means.shape
        self.full = factor.ndim == 4
        # Centring on the means keeps x - centre small where a component's density is
        # large, and with it the cancellation of the expanded terms.
        self.centre = means.mean(axis=(0, 1))
        shifted = means - self.centre
        if self.full:
            precision = factor @ np.swapaxes(factor, -1, -2)
            log_det = np.log(np.diagonal(factor, axis1=-2, axis2=-1)).sum(-1)
            linear = (precision @ shifted[..., None])[..., 0]
            upper = np.triu_indices(n_features)
            # x_j x_l appears twice in x^T P x off the diagonal: once per (j, l) here.
            quadratic = -precision[..., upper[0], upper[1]] * np.where(
                upper[0] == upper[1], 0.5, 1.0
            )
            self.pairs = upper
        else:
            precision = factor**2
            log_det = np.log(factor).sum(-1)
            linear = precision * shifted
            quadratic = -0.5 * precision
        constant = log_det - 0.5 * n_features * _LOG_2PI - 0.5 * (linear * shifted).sum(-1)
        with np.errstate(divide="ignore"):  # an empty component's weight can be 0
            log_weights = np.log(weights)
        coefficients = np.concatenate(
            [(constant + log_weights)[..., None], linear, quadratic], axis=-1
        )
        # A zero weight gives a log-joint of exactly -inf: no rounding to bound.
        finite_log_weights = np.where(np.isfinite(log_weights), log_weights, 0.0)
        magnitude = np.abs(np.concatenate([constant[..., None], linear, quadratic], axis=-1))
        magnitude[..., 0] += np.abs(finite_log_weights)
        # t components: what turns the Gaussian's log-joint into theirs (.._student_t).
        self.log_weights, self.half_log_det = finite_log_weights[..., None], -log_det[..., None]
        if draws.noise_weight is not None:
            # The noise component's log-joint is a constant: a row of one coefficient.
            noise = np.zeros((n_draws, 1, coefficients.shape[-1]))
            noise[:, 0, 0] = noise_log_joint(draws.noise_weight, draws.noise_log_widths)
            coefficients = np.concatenate([coefficients, noise], axis=1)
            magnitude = np.concatenate([magnitude, np.abs(noise)], axis=1)
        self.coefficients = coefficients.reshape(-1, coefficients.shape[-1])
        self.magnitude = magnitude.reshape(-1, coefficients.shape[-1])
        # gamma_p of the error analysis of a p-term dot product, with room for the
        # features' own rounding.
        self.rounding = (self.coefficients.shape[1] + 4) * np.finfo(float).eps

    def features(self, X):
        """(p, n) rows 1, x_j and the products x_j x_l (x_j^2 only when diagonal)."""
        Z = (X - self.centre).T
        squares = Z[self.pairs[0]] * Z[self.pairs[1]] if self.full else Z * Z
        return np.concatenate([np.ones((1, Z.shape[1])), Z, squares])

    def log_joint(self, X):
        """log w_c + log Normal(x | mu_c, Sigma_c) as (draws, components, points)."""
        n_draws, n_components = self.draws.weights.shape[0], self.draws.n_categories
        features = self.features(X)
        bound = self.rounding * (self.magnitude @ np.abs(features).max(axis=1)).max()
        if not bound <= _TOLERANCE:
            return log_joint(X, *self.draws)
        values = (self.coefficients @ features).reshape(n_draws, n_components, X.shape[0])
        df = self.draws.degrees_of_freedom
        if df is not None:
            k = df.shape[1]
            log_t, _ = t_log_density(
                values[:, :k] - self.log_weights, self.half_log_det, df[..., None], X.shape[1]
            )
            values[:, :k] = log_t + self.log_weights
        return values


def _n_threads():
    # scikit-learn's count for its own threaded loops: the usable cores, lowered by
    # OMP_NUM_THREADS, which joblib's workers set so that nested parallelism does not
    # oversubscribe.
    from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

    return max(1, min(_openmp_effective_n_threads(), os.cpu_count() or 1))


def _map_blocks(X, draws, write):
    """Call ``write(points, log_joint_block)`` over blocks of points (a slice, or the
    rows' indices), in threads.

    Rows with missing entries (NaN) are scored by each component's marginal density on
    their observed entries, a pattern of missing entries at a time; a row with none
    observed has the log weights as its log-joint.
    """
    patterns = missing_patterns(X)
    if patterns is None:
        _map_pattern_blocks(X, draws, write)
        return
    for observed, rows in patterns:
        if not observed.any():
            write(rows, np.repeat(draws.log_weights()[:, :, None], rows.size, axis=2))
    for observed, rows, marginal in pattern_marginals(draws, patterns):
        _map_pattern_blocks(X[rows][:, observed], marginal, write, rows)


def _map_pattern_blocks(X, draws, write, rows=None):
    """:func:`_map_blocks` for rows with every entry observed; ``rows`` maps the rows of
    ``X`` to those of the caller's output."""
    expansion = _Expansion(draws)
    n_points = X.shape[0]
    per_point = draws.weights.shape[0] * draws.n_categories
    per_point *= draws.means.shape[-1] if expansion.full else 1
    width = max(_MIN_BLOCK_POINTS, _BLOCK_ELEMENTS // per_point)
    slices = [slice(start, start + width) for start in range(0, n_points, width)]

    def run(share):
        for point_slice in share:
            points = point_slice if rows is None else rows[point_slice]
            write(points, expansion.log_joint(X[point_slice]))

    n_threads = min(_n_threads(), len(slices))
    if n_threads == 1:
        run(slices)
        return
    # A share of the blocks per thread rather than a task per block: a million points
    # would otherwise queue tens of thousands of futures, memory that grows with n. One
    # BLAS thread per worker: the blocks' products are small, and the cores are taken.
    shares = [slices[i::n_threads] for i in range(n_threads)]
    with threadpool_limits(1), ThreadPoolExecutor(n_threads) as pool:
        for _ in pool.map(run, shares):
            pass


def category_probabilities(X, draws):
    """Rao-Blackwellised posterior category frequencies, (n, k), rows summing to 1; with
    a noise component (n, k + 1), noise last.

    The mean over draws of P(z_i = c | x_i, theta_draw): the same expectation as the share
    of sampled categories, with lower variance, and defined for new points too.
    """
    n_draws, n_components = draws.weights.shape[0], draws.n_categories
    out = np.empty((X.shape[0], n_components))

    def write(point_slice, values):
        values -= values.max(axis=1, keepdims=True)
        np.exp(values, out=values)
        values /= values.sum(axis=1, keepdims=True)
        out[point_slice] = values.sum(axis=0).T / n_draws

    _map_blocks(X, draws, write)
    return out


def pointwise_log_likelihood(X, draws):
    """Log-likelihood of each point under each draw, categories summed out: (S, n)."""
    out = np.empty((draws.weights.shape[0], X.shape[0]))

    def write(point_slice, values):
        peak = values.max(axis=1)
        values -= peak[:, None]
        np.exp(values, out=values)
        out[:, point_slice] = peak + np.log(values.sum(axis=1))

    _map_blocks(X, draws, write)
    return out


def log_predictive_density(X, draws):
    """log of the posterior mean of sum_c w_c Normal(x | mu_c, Sigma_c), per point, (n,).

    One log-sum-exp over draws and components together: no per-draw normalisation, so it
    costs less than :func:`category_probabilities`.
    """
    n_draws = draws.weights.shape[0]
    out = np.empty(X.shape[0])

    def write(point_slice, values):
        values = values.reshape(-1, values.shape[-1])
        peak = values.max(axis=0)
        values -= peak
        np.exp(values, out=values)
        out[point_slice] = peak + np.log(values.sum(axis=0))

    _map_blocks(X, draws, write)
    return out - np.log(n_draws)


def log_likelihood_dataset(X, posterior, spec, sample_coord, sample_weight=None):
    """Pointwise log-likelihood, categories summed out, in ArviZ's layout: a dataset of
    ``observed`` with dims (chain, draw, sample), for the ``log_likelihood`` group.

    ``posterior`` is the trace's posterior of the model ``spec`` describes, and
    ``sample_coord`` the trace's ``sample`` coordinate. With a ``sample_weight`` a row's
    value is its log-likelihood times its weight, that of all its repetitions: WAIC and
    LOO then leave out a row with its repetitions.
    """
    import xarray as xr

    n_chains, n_draws = posterior.sizes["chain"], posterior.sizes["draw"]
    values = pointwise_log_likelihood(X, draws_of(posterior, spec))
    if sample_weight is not None:
        values *= sample_weight
    return xr.Dataset(
        {OBSERVED: (("chain", "draw", "sample"), values.reshape(n_chains, n_draws, X.shape[0]))},
        coords={"chain": posterior["chain"], "draw": posterior["draw"], "sample": sample_coord},
    )
