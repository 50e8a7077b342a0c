"""Exact blocked Gibbs sampling of the latent mixture, as a PyMC step method.

One sweep draws every block from its exact full conditional: categories, then weights,
means and standard deviations. The update functions are pure (a generator and arrays in,
arrays out) so tests can check each conditional without running a chain; the step class
only moves values between PyMC's point dict and them.

The sweep runs on standardised data (median 0, robust spread 1 per feature), so data in
any units meets the same floating-point ranges; the step converts on the way in and out.
"""

import itertools

import numpy as np
import pymc as pm
from pymc.step_methods.compound import BlockedStep, StepMethodState
from pymc.util import get_random_generator

from .._posterior import (
    PARAMETER_NAMES,
    Draws,
    expand_sigma,
    pool_over_tied,
    sample_categories_given_draws,
    sigma_unit,
)
from ._truncated import slice_sample, truncated_beta, truncated_gamma, truncated_normal

# Joint restricted-Dirichlet proposals tried before the pairwise update of the weights.
_WEIGHT_PROPOSALS = 4
_TINY = np.finfo(float).tiny


def sufficient_statistics(Z, category, n_components):
    """Counts (k,) and per-feature sums (k, d) of the points in each component.

    Column by column: with a Fortran-ordered ``Z`` each column is contiguous.
    """
    counts = np.bincount(category, minlength=n_components)
    sums = np.empty((n_components, Z.shape[1]))
    for j in range(Z.shape[1]):
        sums[:, j] = np.bincount(category, weights=Z[:, j], minlength=n_components)
    return counts, sums


def squared_residuals(Z, category, means):
    """Sum over each component's points of (z_ij - mu_cj)^2, shape (k, d)."""
    k, d = means.shape
    out = np.empty((k, d))
    for j in range(d):
        resid = Z[:, j] - means[:, j].take(category)
        np.square(resid, out=resid)
        out[:, j] = np.bincount(category, weights=resid, minlength=k)
    return out


def sample_weights(rng, counts, concentration, min_weight, current):
    """Draw w | z ~ Dirichlet(concentration + counts) restricted to min(w) >= min_weight.

    A few joint proposals first: the first that satisfies the restriction is an exact
    independent draw. If none does (a nearly empty component), :func:`pairwise_weights`
    updates the current weights instead. Both kernels leave the target invariant and the
    choice between them does not depend on the state, so their mixture does too. Returns
    the weights and whether the joint draw was used.
    """
    if counts.shape[0] == 1:
        return np.ones(1), True
    alpha = concentration + counts
    proposals = rng.dirichlet(alpha, size=_WEIGHT_PROPOSALS)
    valid = proposals.min(axis=1) >= min_weight
    if valid.any():
        return proposals[np.argmax(valid)], True
    return pairwise_weights(rng, alpha, min_weight, current), False


def pairwise_weights(rng, alpha, min_weight, current):
    """Exact conditional updates of the weights, two at a time, in a random pairing.

    With s = w_c + w_c' fixed, w_c / s ~ Beta(alpha_c, alpha_c') on [m / s, 1 - m / s]:
    exact however empty a component is, where rejection would almost never accept.
    """
    weights = current.copy()
    for c, other in itertools.pairwise(rng.permutation(alpha.shape[0])):
        total = weights[c] + weights[other]
        share = truncated_beta(
            rng, alpha[c], alpha[other], min_weight / total, 1 - min_weight / total
        )
        weights[c] = total * share
        weights[other] = total - weights[c]
    return weights


def sample_means(rng, counts, sums, sigma_kd, prior_loc, prior_scale, current, order_feature):
    """Draw mu | z, sigma: conjugate Normal per component and feature.

    On the ordering feature each mean is truncated between its neighbours. The even
    components are conditionally independent given the odd ones (each touches only its
    neighbours), so the feature is updated in two vectorised blocks.
    """
    # Precision-weighted means in a form that cannot overflow: with a prior scale of 1e-200
    # (a feature tiny against the unit the spherical types share) 1 / scale^2 would be inf.
    prior_var, sigma_sq = prior_scale**2, sigma_kd**2
    denominator = sigma_sq + counts[:, None] * prior_var
    post_mean = (prior_loc * sigma_sq + sums * prior_var) / denominator
    post_sd = prior_scale * sigma_kd / np.sqrt(denominator)
    means = post_mean + post_sd * rng.standard_normal(post_mean.shape)

    a = order_feature
    ordered = np.concatenate([[-np.inf], current[:, a], [np.inf]])
    for parity in (0, 1):
        idx = np.arange(parity, means.shape[0], 2)
        ordered[idx + 1] = truncated_normal(
            rng, post_mean[idx, a], post_sd[idx, a], ordered[idx], ordered[idx + 2]
        )
    means[:, a] = ordered[1:-1]
    return means


def sigma_log_density(log_sigma, n_terms, sum_sq, halfnormal_scale=None):
    """Log conditional density of log sigma, up to a constant.

    Flat prior on sigma (the Uniform), times the half-normal's exp(-sigma^2 / 2 scale^2)
    when ``halfnormal_scale`` is given; r = ``n_terms`` squared residuals sum to ``sum_sq``.
    """
    value = (1 - n_terms) * log_sigma - 0.5 * sum_sq * np.exp(-2 * log_sigma)
    if halfnormal_scale is not None:
        value = value - 0.5 * np.exp(2 * log_sigma) / halfnormal_scale**2
    return value


def sample_sigma(
    rng, resid_sq_kd, counts, covariance_type, lower, upper, current, halfnormal_scale=None
):
    """Draw sigma | z, mu, pooled over what the covariance type ties.

    Under the Uniform(lower, upper) prior, with r squared residuals summing to SS, the
    precision tau = sigma^-2 is Gamma((r - 1) / 2, SS / 2) restricted to
    [upper^-2, lower^-2]. Under the half-normal prior (``upper``
    infinite) that draw is an independence Metropolis proposal, accepted with probability
    min(1, exp(-(sigma'^2 - sigma^2) / 2 scale^2)): exact, and accepted almost always
    because the prior is wide against the likelihood. With r <= 1 (a component holding at
    most one point) the Gamma shape is not positive and an exact slice-sampling update on
    log sigma takes its place.
    """
    n_terms = pool_over_tied(np.broadcast_to(counts[:, None], resid_sq_kd.shape), covariance_type)
    sum_sq = np.maximum(pool_over_tied(resid_sq_kd, covariance_type), _TINY)
    regular = n_terms >= 2
    all_regular = regular.all()
    # Placeholder parameters where the slice update takes over, so nothing overflows.
    shape, rate = (n_terms - 1) / 2, sum_sq / 2
    if not all_regular:
        shape, rate = np.where(regular, shape, 1.0), np.where(regular, rate, 1.0)
    # Precision bounds: 1 / upper^2 and 1 / lower^2, the latter infinite for lower = 0.
    tau_upper = np.divide(1.0, lower**2, out=np.full(np.shape(lower), np.inf), where=lower > 0)
    tau = truncated_gamma(rng, shape, rate, 1.0 / upper**2, tau_upper)
    sigma = 1.0 / np.sqrt(tau)
    if halfnormal_scale is not None:
        log_accept = -0.5 * (sigma**2 - current**2) / halfnormal_scale**2
        sigma = np.where(np.log(rng.random(sigma.shape)) < log_accept, sigma, current)
    if not all_regular:
        sigma = np.where(regular, sigma, current)
        for i in np.ndindex(sigma.shape):
            if regular[i]:
                continue
            lam = None
            if halfnormal_scale is not None:
                lam = np.broadcast_to(halfnormal_scale, sigma.shape)[i]
            sigma[i] = np.exp(
                slice_sample(
                    rng,
                    lambda s, r=n_terms[i], ss=sum_sq[i], lam=lam: sigma_log_density(s, r, ss, lam),
                    np.log(current[i]),
                    width=1.0,
                    lower=np.log(lower[i]) if lower[i] > 0 else -np.inf,
                    upper=np.log(upper[i]),
                )
            )
    # Rounding in 1 / sqrt(tau) may step a hair outside the support; np.minimum returns a
    # bare scalar for 0-d input, and PyMC's point needs an ndarray.
    return np.asarray(np.minimum(np.maximum(sigma, lower), upper))


class GibbsMixtureStep(BlockedStep):
    """One exact Gibbs sweep over categories, weights, means and sigma of the latent model.

    Parameters
    ----------
    vars : ignored
        The step always owns the model's ``weights``, ``means``, ``sigma`` and
        ``category``; the argument exists for PyMC's step-method protocol.
    X : ndarray of shape (n_samples, n_features)
        The observed data, in its own units.
    spec : MixtureSpec
        The resolved model.
    center, spread : ndarray of shape (n_features,)
        Location and scale the sweep standardises by; for the spherical covariance types
        the largest spread serves every feature.
    """

    name = "gibbs_mixture"
    stats_dtypes_shapes = {"weights_joint_draw": (bool, [])}
    _state_class = StepMethodState
    _VAR_NAMES = (*PARAMETER_NAMES, "category")

    def __init__(self, vars=None, *, X, spec, center, spread, model=None, rng=None, blocked=True):
        model = pm.modelcontext(model)
        self.vars = [model.rvs_to_values[model[name]] for name in self._VAR_NAMES]
        self.rng = get_random_generator(rng)
        self.spec = spec
        unit = sigma_unit(spread, spec.covariance_type)
        # One sigma across features (the spherical types) needs one unit across features
        # too: scaling each feature by its own spread would give each its own sd.
        spread = np.broadcast_to(unit, spread.shape) if unit.ndim == 0 else spread
        self._center = center
        self._spread = spread
        self._sigma_scale = np.broadcast_to(unit, spec.sigma_shape)
        self._Z = np.asfortranarray((X - center) / spread)
        self._prior_loc = (spec.mean_prior_loc - center) / spread
        self._prior_scale = spec.mean_prior_scale / spread
        self._lower = np.broadcast_to(spec.sd_lower, spec.sigma_shape) / self._sigma_scale
        self._upper = np.broadcast_to(spec.sd_upper, spec.sigma_shape) / self._sigma_scale
        self._halfnormal_scale = (
            None
            if spec.sd_prior_scale is None
            else np.broadcast_to(spec.sd_prior_scale, spec.sigma_shape) / self._sigma_scale
        )

    def step(self, point):
        spec, rng = self.spec, self.rng
        k, d = spec.n_components, spec.n_features
        means = (point["means"] - self._center) / self._spread
        sigma = np.asarray(point["sigma"] / self._sigma_scale, dtype=float)
        sigma_kd = expand_sigma(sigma, spec.covariance_type, k, d)

        category = sample_categories_given_draws(
            rng, self._Z, Draws(point["weights"][None], means[None], sigma_kd[None])
        )[0]
        counts, sums = sufficient_statistics(self._Z, category, k)
        weights, joint_draw = sample_weights(
            rng, counts, spec.weight_concentration, spec.min_weight, point["weights"]
        )
        means = sample_means(
            rng,
            counts,
            sums,
            sigma_kd,
            self._prior_loc,
            self._prior_scale,
            means,
            spec.order_feature,
        )
        sigma = sample_sigma(
            rng,
            squared_residuals(self._Z, category, means),
            counts,
            spec.covariance_type,
            self._lower,
            self._upper,
            sigma,
            self._halfnormal_scale,
        )
        new_point = dict(point)
        new_point["weights"] = weights
        new_point["means"] = self._center + self._spread * means
        new_point["sigma"] = np.asarray(sigma * self._sigma_scale)
        new_point["category"] = np.asarray(category, dtype=point["category"].dtype)
        return new_point, [{"weights_joint_draw": joint_draw}]
