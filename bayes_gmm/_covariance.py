"""Covariance types: everything that depends on the shape of the components' covariances.

One object per type, resolved against the data, owns its prior's values and:

- the trace variable (``sigma`` or ``covariance``): its name, shape and dims;
- its PyMC prior, in the latent model (a category per point) and the marginal one (NUTS);
- the log density of points under a component, in PyTensor for the models and, through
  :meth:`precision_cholesky`, in the pure NumPy maths of ``_posterior``;
- its exact Gibbs conditionals (the means' too, which depend on the covariance);
- its starting value, its free-parameter count, scikit-learn's layouts
  (``covariances_``, ``precisions_``, ``precisions_cholesky_``) and the covariance
  matrices that plots draw as ellipses.

A new type is one new class here, registered in :data:`COVARIANCE_CLASSES`. Nothing
outside this module branches on ``covariance_type``.
"""

import functools
from dataclasses import dataclass, replace

import numpy as np
from scipy.linalg import cho_solve, solve_triangular
from scipy.special import multigammaln

from ._clusters import select
from ._lazy import pm, pt
from ._posterior import pool, precision_cholesky_from_covariance
from ._sampling._truncated import truncated_gamma, truncated_gamma_log_density
from ._sampling._wishart import inverse_wishart_log_density, sample_inverse_wishart
from ._sampling.conditionals import (
    sample_means,
    sample_means_correlated,
    sample_sigma,
    scatter_matrices,
    squared_residuals,
)

# Data-scaled defaults of the sd priors, as multiples of a feature's robust spread: loose
# enough never to bind on data of any units.
SD_UPPER_FACTOR = 10.0
HALFNORMAL_SCALE_FACTOR = 5.0
SD_PRIORS = ("uniform", "halfnormal")
# A floor far below any resolvable spread (clusters a million times tighter than the data's
# spread still fit). It keeps the posterior proper when a component holds only tied values,
# where sd -> 0 would otherwise be an absorbing, improper mode.
SD_LOWER_FACTOR = 1e-10
# Values recorded on a grid of step h carry rounding noise of sd h / sqrt(12) (Sheppard):
# no sd below it can be resolved, and a component on tied values would collapse onto them.
_SHEPPARD = 1 / np.sqrt(12)
# Inverse-Wishart degrees of freedom above n_features: the smallest whole number for which
# E[Sigma] = Psi / (df - d - 1) exists.
DEGREES_OF_FREEDOM_OFFSET = 2
# The prior values each type resolves, echoed as fitted attributes with a trailing
# underscore; a type leaves those of the other types None.
PRIOR_ATTRIBUTES = (
    "sd_lower",
    "sd_upper",
    "sd_prior_scale",
    "covariance_prior",
    "degrees_of_freedom_prior",
)
_LOG_2PI = np.log(2 * np.pi)


def _refuse(params, names, covariance_type, instead):
    """A ValueError naming a prior parameter that ``covariance_type`` would ignore.

    ``names`` maps each parameter to its default, None or a string.
    """
    for name, default in names.items():
        value = params[name]
        if not (value is default or (isinstance(value, str) and value == default)):
            raise ValueError(
                f"{name}={params[name]!r} does not apply to covariance_type="
                f"{covariance_type!r}; leave it at {default!r}. {instead}"
            )


# --------------------------------------------------------------------------------------
# Diagonal types: standard deviations, tied across components and/or features.
# --------------------------------------------------------------------------------------

# covariance_type -> (one sd per component, one sd per feature)
_DIAGONAL_TYPES = {
    "tied_spherical": (False, False),
    "tied_diag": (False, True),
    "spherical": (True, False),
    "diag": (True, True),
}


@dataclass(frozen=True, eq=False)
class DiagonalCovariance:
    """Diagonal covariances diag(sigma_c^2), with sigma tied as the type says.

    ``sd_lower``, ``sd_upper`` and ``sd_prior_scale`` broadcast to :attr:`shape`. The sd
    prior is Uniform(sd_lower, sd_upper) for ``sd_prior="uniform"`` (``sd_prior_scale``
    None), or HalfNormal(sd_prior_scale) restricted to sigma >= sd_lower for
    ``"halfnormal"`` (``sd_upper`` infinite).
    """

    covariance_type: str
    n_components: int
    n_features: int
    sd_prior: str
    sd_lower: np.ndarray
    sd_upper: np.ndarray
    sd_prior_scale: np.ndarray | None = None

    trace_name = "sigma"
    samplers = ("gibbs", "nuts", "metropolis")

    @property
    def _ties(self):
        return _DIAGONAL_TYPES[self.covariance_type]

    @property
    def shape(self):
        per_component, per_feature = self._ties
        return (self.n_components,) * per_component + (self.n_features,) * per_feature

    @property
    def dims(self):
        per_component, per_feature = self._ties
        return ("component",) * per_component + ("feature",) * per_feature

    @functools.cached_property
    def index(self):
        """(k, d) map from each component and feature to its entry in the flat sigma.

        The single source of truth for what the type ties: expanding, pooling and the
        PyMC model all index through it. Read-only, as it is shared.
        """
        per_component, per_feature = self._ties
        component, feature = np.indices((self.n_components, self.n_features))
        index = component * per_component * (self.n_features if per_feature else 1)
        index = index + feature * per_feature
        index.setflags(write=False)
        return index

    def expand(self, sigma):
        """Broadcast sigma ``(..., *shape)`` to one value per component and feature."""
        sigma = np.asarray(sigma, dtype=float)
        lead = sigma.shape[: sigma.ndim - len(self.shape)]
        return sigma.reshape(*lead, -1)[..., self.index]

    def _pool(self, values_kd):
        return pool(values_kd, self.index, self.shape)

    # -- units ---------------------------------------------------------------------------

    @staticmethod
    def _unit(values, per_feature):
        """The sd scale: per feature, or the largest for one sd across features."""
        return values if per_feature else np.asarray(values.max())

    def feature_scale(self, spread):
        """Per-feature scale the Gibbs sweep standardises by: one sd across features needs
        one unit across features too."""
        return np.broadcast_to(self._unit(spread, self._ties[1]), spread.shape)

    def _sigma_scale(self, feature_scale):
        return np.broadcast_to(self._unit(feature_scale, self._ties[1]), self.shape)

    def standardise(self, sigma, feature_scale):
        return np.asarray(sigma / self._sigma_scale(feature_scale), dtype=float)

    def unstandardise(self, sigma, feature_scale):
        return sigma * self._sigma_scale(feature_scale)

    def rescaled(self, feature_scale):
        """This prior in units where each feature is divided by ``feature_scale``."""
        unit = self._sigma_scale(feature_scale)
        scale = self.sd_prior_scale
        return DiagonalCovariance(
            self.covariance_type,
            self.n_components,
            self.n_features,
            self.sd_prior,
            np.broadcast_to(self.sd_lower, self.shape) / unit,
            np.broadcast_to(self.sd_upper, self.shape) / unit,
            None if scale is None else np.broadcast_to(scale, self.shape) / unit,
        )

    # -- maths ---------------------------------------------------------------------------

    def precision_cholesky(self, sigma_draws):
        """(S, *shape) draws -> (S, k, d) factors 1 / sigma."""
        return 1.0 / self.expand(sigma_draws)

    def sample_means(self, rng, counts, sums, sigma, prior_loc, prior_scale, current, order):
        return sample_means(
            rng, counts, sums, self.expand(sigma), prior_loc, prior_scale, current, order
        )

    def sample_covariance(self, rng, Z, category, counts, means, sigma, beta=1.0):
        """sigma | z, mu: residuals pooled over what the type ties (:func:`sample_sigma`),
        at inverse temperature ``beta``: beta n_c squared residuals summing to beta SS_c."""
        resid_sq = squared_residuals(Z, category, means)
        n_terms = self._pool(np.broadcast_to(counts[:, None], resid_sq.shape))
        return sample_sigma(
            rng,
            beta * n_terms,
            beta * self._pool(resid_sq),
            self.sd_lower,
            self.sd_upper,
            sigma,
            self.sd_prior_scale,
        )

    def initial_value(self, X, category, means, counts, mean_prior_scale):
        """The pooled within-component sd of a partition, inside the prior's support."""
        resid_sq = squared_residuals(X, category, means)
        n_terms = self._pool(np.broadcast_to(counts[:, None], means.shape))
        ss = self._pool(resid_sq)
        overall = np.sqrt(resid_sq.sum() / (counts.sum() * self.n_features))
        with np.errstate(divide="ignore", invalid="ignore"):
            sigma = np.where((n_terms > 0) & (ss > 0), np.sqrt(ss / n_terms), overall)
        lower = np.broadcast_to(self.sd_lower, sigma.shape)
        upper = np.broadcast_to(self.sd_upper, sigma.shape)
        sigma = np.where(sigma > 0, sigma, np.minimum(upper, mean_prior_scale.min()) / 10)
        # np.clip returns a bare scalar for 0-d input; PyMC's point needs an ndarray.
        return np.asarray(np.clip(sigma, lower * 1.001 + np.finfo(float).tiny, upper * 0.999))

    @property
    def n_parameters(self):
        return int(np.prod(self.shape))

    def _mean_variance(self, sigma_draws):
        return (np.asarray(sigma_draws) ** 2).mean(axis=0)

    def plug_in(self, sigma_draws):
        """The sd of the posterior mean variance, in the trace variable's shape."""
        return np.sqrt(self._mean_variance(sigma_draws))

    def covariance_matrices(self, sigma_draws):
        """Posterior mean covariance matrix of each component, (k, d, d)."""
        variance_kd = self.expand(self._mean_variance(sigma_draws))
        return variance_kd[:, :, None] * np.eye(self.n_features)

    def sklearn_layouts(self, sigma_draws):
        """covariances_, precisions_, precisions_cholesky_ from the posterior mean variances.

        ``spherical`` -> (k,), ``diag`` -> (k, d), the tied types -> the shared (d, d)
        matrix, as scikit-learn's ``tied``.
        """
        variance = self._mean_variance(sigma_draws)
        # sd squared underflows to 0 on data of scale 1e-160 and below: inf is the answer.
        with np.errstate(divide="ignore"):
            layouts = variance, 1.0 / variance, 1.0 / np.sqrt(variance)
        if self._ties[0]:  # one sd per component
            return layouts
        return tuple(np.diag(np.broadcast_to(v, (self.n_features,))) for v in layouts)

    def select_components(self, sigma_draws, draw_index, component_index):
        """The draws (S, *shape) of the components ``component_index`` (S', m) picks in the
        draws ``draw_index`` (S',), and this type's object for those m components: the
        clusters of a sparse fit (:mod:`.._clusters`)."""
        m = component_index.shape[1]
        if not self._ties[0]:  # tied: every component shares the sd
            return sigma_draws[draw_index], replace(self, n_components=m)
        first = {
            name: None if value is None else np.broadcast_to(value, self.shape)[:m]
            for name, value in self.resolved_attributes().items()
        }
        clusters = replace(self, n_components=m, **first)
        return select(sigma_draws, draw_index, component_index), clusters

    # -- split-merge moves (.._sampling.split_merge) -----------------------------------

    @property
    def per_component(self):
        """Whether each component has sds of its own, which a split-merge move proposes."""
        return self._ties[0]

    def log_marginal_likelihood(self, Z, sigma, component, prior_loc, prior_scale, beta):
        """log of the integral over mu ~ Normal(prior_loc, diag prior_scale^2) of
        prod_i Normal(z_i | mu, diag sigma_c^2)^beta, for the points ``Z`` (m, d) of one
        component: per feature, -beta m / 2 log(2 pi s^2) - beta q / 2 s^2 - log(s0^2 P) / 2
        - m0^2 / 2 s0^2 + b^2 / 2 P, with P = 1 / s0^2 + beta m / s^2 and b = m0 / s0^2 +
        beta (sum of z) / s^2."""
        variance = self.expand(sigma)[component] ** 2
        n = Z.shape[0]
        prior_variance = prior_scale**2
        precision = 1.0 / prior_variance + beta * n / variance
        b = prior_loc / prior_variance + beta * Z.sum(axis=0) / variance
        return float(
            np.sum(
                -0.5 * beta * n * np.log(2 * np.pi * variance)
                - 0.5 * beta * np.einsum("ij,ij->j", Z, Z) / variance
                - 0.5 * np.log(prior_variance * precision)
                - 0.5 * prior_loc**2 / prior_variance
                + 0.5 * b**2 / precision
            )
        )

    def _proposal(self, Z, reference, component):
        """The split-merge proposal of one component's sds given its points ``Z``: each
        precision Gamma((r + 1) / 2, (SS + v) / 2) restricted to the prior's support, SS the
        r squared residuals about the points' mean that the sd scales and v the spread of
        one residual in ``reference`` (per feature), so that it is proper with no point."""
        n, d = Z.shape
        resid_sq = np.zeros(d) if n == 0 else np.einsum("ij,ij->j", Z - Z.mean(0), Z - Z.mean(0))
        if self._ties[1]:
            n_terms, sum_sq, spread = np.full(d, float(n)), resid_sq, reference
        else:
            n_terms, sum_sq, spread = float(n * d), resid_sq.sum(), reference.mean()
        lower = np.broadcast_to(self.sd_lower, self.shape)[component]
        upper = np.broadcast_to(self.sd_upper, self.shape)[component]
        tau_upper = np.divide(1.0, lower**2, out=np.full(np.shape(lower), np.inf), where=lower > 0)
        shape = np.asarray((n_terms + 1) / 2, dtype=float)
        return shape, np.asarray((sum_sq + spread) / 2), 1.0 / upper**2, tau_upper

    def propose_component(self, rng, Z, reference, component, sigma):
        """``sigma`` with component ``component``'s sds drawn from :meth:`_proposal`."""
        shape, rate, tau_lower, tau_upper = self._proposal(Z, reference, component)
        tau = truncated_gamma(rng, shape, rate, tau_lower, tau_upper)
        lower = np.broadcast_to(self.sd_lower, self.shape)[component]
        upper = np.broadcast_to(self.sd_upper, self.shape)[component]
        new = np.array(sigma, dtype=float)
        new[component] = np.minimum(np.maximum(1.0 / np.sqrt(tau), lower), upper)
        return new

    def log_proposal_component(self, Z, reference, component, sigma):
        """log density of component ``component``'s sds in ``sigma`` under :meth:`_proposal`,
        on the sd scale (the Jacobian of tau = sd^-2 is 2 sd^-3)."""
        shape, rate, tau_lower, tau_upper = self._proposal(Z, reference, component)
        sd = np.asarray(sigma[component], dtype=float)
        tau = sd**-2.0
        return float(
            np.sum(
                truncated_gamma_log_density(tau, shape, rate, tau_lower, tau_upper)
                + np.log(2.0)
                - 3 * np.log(sd)
            )
        )

    def log_prior_component(self, sigma, component):
        """log prior density of one component's sds, up to a constant: the Uniform's is
        constant on its support, the half-normal's -sd^2 / 2 scale^2."""
        if self.sd_prior_scale is None:
            return 0.0
        scale = np.broadcast_to(self.sd_prior_scale, self.shape)[component]
        return float(-0.5 * np.sum((np.asarray(sigma[component]) / scale) ** 2))

    def permute(self, sigma, order):
        """The sds with the components in ``order``."""
        return sigma[order] if self._ties[0] else sigma

    # -- PyMC ----------------------------------------------------------------------------

    def pymc_prior(self, transformed):
        """The sd prior: Uniform(sd_lower, sd_upper), or HalfNormal restricted to >= sd_lower.

        ``transformed=False`` (Gibbs owns sigma) leaves it on its natural scale.
        """
        shape = self.shape
        kwargs = {"shape": shape, "dims": self.dims or None}
        if not transformed:
            kwargs["default_transform"] = None
        lower = np.broadcast_to(self.sd_lower, shape)
        if self.sd_prior == "uniform":
            return pm.Uniform(
                "sigma", lower=lower, upper=np.broadcast_to(self.sd_upper, shape), **kwargs
            )
        return pm.Truncated(
            "sigma",
            pm.HalfNormal.dist(sigma=np.broadcast_to(self.sd_prior_scale, shape)),
            lower=lower,
            **kwargs,
        )

    def _sigma_kd(self, sigma):
        return pt.flatten(sigma)[self.index]

    def pymc_observed_latent(self, name, X, means, category, sigma, dims):
        return pm.Normal(
            name,
            mu=means[category],
            sigma=self._sigma_kd(sigma)[category],
            observed=X,
            dims=dims,
        )

    def pymc_marginal(self):
        """Prior variables of the marginal model, and its component-density inputs."""
        return self.pymc_components(self.pymc_prior(transformed=True))

    def pymc_components(self, sigma):
        """The inputs of :meth:`pymc_log_components` given the sd variable, and their
        signature."""
        return (self._sigma_kd(sigma),), "(k,d)"

    def pymc_observed_kernel(self, sigma):
        """What :meth:`pymc_log_components_observed` takes: the (k, d) sds, and its
        signature."""
        return self._sigma_kd(sigma), "(k,d)"

    def pymc_log_components_observed(self, value, weights, means, sigma_kd, patterns, pattern):
        """log w_c + log Normal(x_o | mu_co, diag sigma_co^2) on each row's observed
        entries, (n, k): the missing ones' terms masked out. ``patterns`` (P, d) are the
        observed entries of each pattern and ``pattern`` (n,) each row's, NumPy constants;
        ``value`` holds 0 where missing."""
        k, d = self.n_components, self.n_features
        sigma = sigma_kd.reshape((k, d))
        z = (value[:, None, :] - means.reshape((k, d))[None]) / sigma[None]
        terms = -0.5 * z**2 - pt.log(sigma)[None] - 0.5 * _LOG_2PI
        observed = patterns[pattern].astype(float)[:, None, :]
        return pt.log(weights.reshape((k,)))[None] + pt.sum(terms * observed, axis=-1)

    @staticmethod
    def pymc_log_components(value, weights, means, sigma_kd):
        """log w_c + log Normal(x | mu_c, diag sigma_c^2), shape (n, k)."""
        z = (value[:, None, :] - means[None]) / sigma_kd[None]
        return (
            pt.log(weights)[None]
            - pt.sum(pt.log(sigma_kd), axis=-1)[None]
            - 0.5 * pt.sum(z**2, axis=-1)
        ) - 0.5 * value.shape[1] * _LOG_2PI

    def marginal_initvals(self, sigma):
        return {"sigma": sigma}

    # -- resolution and persistence ------------------------------------------------------

    def resolved_attributes(self):
        return {
            "sd_lower": self.sd_lower,
            "sd_upper": self.sd_upper,
            "sd_prior_scale": self.sd_prior_scale,
        }

    def to_dict(self):
        return {
            "covariance_type": self.covariance_type,
            "sd_prior": self.sd_prior,
            **{k: None if v is None else v.tolist() for k, v in self.resolved_attributes().items()},
        }

    @classmethod
    def from_dict(cls, values, n_components, n_features):
        arrays = {
            name: None if values.get(name) is None else np.asarray(values[name], dtype=float)
            for name in ("sd_lower", "sd_upper", "sd_prior_scale")
        }
        return cls(
            values["covariance_type"], n_components, n_features, values["sd_prior"], **arrays
        )

    @classmethod
    def resolve(cls, params, scales, n_components, n_features):
        """The sd prior of the estimator's ``params``, defaults scaled to the data."""
        covariance_type, sd_prior = params["covariance_type"], params["sd_prior"]
        _refuse(
            params,
            {"covariance_prior": None, "degrees_of_freedom_prior": None},
            covariance_type,
            "They are the inverse-Wishart prior of covariance_type='full' or 'tied'.",
        )
        if sd_prior == "halfnormal" and params["sd_upper"] is not None:
            raise ValueError(
                f"sd_upper={params['sd_upper']!r} bounds the Uniform sd prior; with "
                "sd_prior='halfnormal' leave it None and set sd_prior_scale."
            )
        if sd_prior == "uniform" and params["sd_prior_scale"] is not None:
            raise ValueError(
                f"sd_prior_scale={params['sd_prior_scale']!r} is the scale of the half-normal "
                "sd prior; with sd_prior='uniform' leave it None and set sd_upper."
            )
        per_feature = _DIAGONAL_TYPES[covariance_type][1]
        unit = cls._unit(scales.spread, per_feature)
        # One sd for every feature can only be floored by what every feature resolves.
        quantisation = _SHEPPARD * np.broadcast_to(scales.resolution, scales.spread.shape)
        quantisation = quantisation if per_feature else quantisation.min()
        # Never above one robust spread, so that it stays well below the sd's upper bound on
        # data that are nearly all one value.
        floor = np.clip(quantisation, SD_LOWER_FACTOR * unit, unit)
        sd_lower = _sd_bound(params["sd_lower"], floor)
        if sd_prior == "uniform":
            sd_upper = _sd_bound(params["sd_upper"], SD_UPPER_FACTOR * unit)
            sd_prior_scale = None
        else:
            sd_upper = np.full(np.shape(unit), np.inf)
            sd_prior_scale = _sd_bound(params["sd_prior_scale"], HALFNORMAL_SCALE_FACTOR * unit)
        if np.any(sd_lower >= sd_upper):
            raise ValueError(
                f"sd_lower={params['sd_lower']!r} must be smaller than sd_upper="
                f"{params['sd_upper']!r} (resolved: {sd_lower} and {sd_upper})."
            )
        return cls(
            covariance_type, n_components, n_features, sd_prior, sd_lower, sd_upper, sd_prior_scale
        )


def _sd_bound(value, default):
    if value is None:
        return np.asarray(default, dtype=float)
    return np.full(np.shape(default), float(value))


# --------------------------------------------------------------------------------------
# Full matrices: one per component ("full") or one shared ("tied").
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class FullCovariance:
    """Full covariance matrices with an inverse-Wishart prior, per component or tied.

    Sigma ~ InverseWishart(``degrees_of_freedom``, ``scale``) in
    ``scipy.stats.invwishart(df, scale)``'s parametrisation, E[Sigma] = scale / (df - d - 1);
    independent per component for ``"full"``, one matrix shared by all for ``"tied"``.
    Given the categories and means it is conjugate: Sigma_c | z, mu ~ InverseWishart(df +
    n_c, scale + S_c) with S_c the scatter of c's points about mu_c (pooled when tied).
    """

    covariance_type: str
    n_components: int
    n_features: int
    degrees_of_freedom: float
    scale: np.ndarray

    trace_name = "covariance"
    samplers = ("gibbs", "nuts")

    @property
    def _tied(self):
        return self.covariance_type == "tied"

    @property
    def shape(self):
        lead = () if self._tied else (self.n_components,)
        return (*lead, self.n_features, self.n_features)

    @property
    def dims(self):
        lead = () if self._tied else ("component",)
        return (*lead, "feature", "feature_bis")

    @functools.cached_property
    def scale_cholesky(self):
        return np.linalg.cholesky(self.scale)

    def _per_component(self, values):
        """(..., *shape) -> (..., k, d, d)."""
        if not self._tied:
            return values
        return np.broadcast_to(
            values[..., None, :, :], (*values.shape[:-2], self.n_components, *values.shape[-2:])
        )

    # -- units ---------------------------------------------------------------------------

    @staticmethod
    def feature_scale(spread):
        return spread

    def standardise(self, covariance, feature_scale):
        return covariance / np.outer(feature_scale, feature_scale)

    def unstandardise(self, covariance, feature_scale):
        return covariance * np.outer(feature_scale, feature_scale)

    def rescaled(self, feature_scale):
        """Dividing feature j by s_j maps Sigma to A Sigma A and IW(df, Psi) to IW(df, A Psi
        A), A = diag(1 / s): the prior carries over exactly."""
        return FullCovariance(
            self.covariance_type,
            self.n_components,
            self.n_features,
            self.degrees_of_freedom,
            self.standardise(self.scale, feature_scale),
        )

    # -- maths ---------------------------------------------------------------------------

    def precision_cholesky(self, covariance_draws):
        """(S, *shape) draws -> (S, k, d, d) upper-triangular U, U U^T = Sigma^-1."""
        return precision_cholesky_from_covariance(
            self._per_component(np.asarray(covariance_draws, dtype=float))
        )

    def sample_means(self, rng, counts, sums, covariance, prior_loc, prior_scale, current, order):
        factor = self.precision_cholesky(covariance[None])[0]
        precisions = factor @ np.swapaxes(factor, -1, -2)
        return sample_means_correlated(
            rng, counts, sums, precisions, prior_loc, prior_scale, current, order
        )

    def sample_covariance(self, rng, Z, category, counts, means, covariance, beta=1.0):
        """Sigma | z, mu ~ InverseWishart(df + beta n_c, Psi + beta S_c), exactly (Bartlett),
        at inverse temperature ``beta``."""
        scatter = scatter_matrices(Z, category, means)
        if self._tied:
            scatter, counts = scatter.sum(axis=0), counts.sum()
        posterior_scale = np.linalg.cholesky(self.scale + beta * scatter)
        return sample_inverse_wishart(rng, self.degrees_of_freedom + beta * counts, posterior_scale)

    def initial_value(self, X, category, means, counts, mean_prior_scale):
        """The conditional mode (Psi + S_c) / (df + n_c + d + 1): positive definite even for
        an empty component or tied points."""
        scatter = scatter_matrices(X, category, means)
        if self._tied:
            scatter, counts = scatter.sum(axis=0), counts.sum()
        denominator = self.degrees_of_freedom + np.asarray(counts) + self.n_features + 1
        return (self.scale + scatter) / np.asarray(denominator)[..., None, None]

    @property
    def n_parameters(self):
        d = self.n_features
        return (1 if self._tied else self.n_components) * d * (d + 1) // 2

    def plug_in(self, covariance_draws):
        """The posterior mean covariance, in the trace variable's shape."""
        return np.asarray(covariance_draws).mean(axis=0)

    def covariance_matrices(self, covariance_draws):
        return np.array(self._per_component(self.plug_in(covariance_draws)))

    def sklearn_layouts(self, covariance_draws):
        """covariances_ (k, d, d) or, tied, (d, d); precisions_ its inverse by Cholesky
        factors; precisions_cholesky_ the upper-triangular factor, scikit-learn's layouts."""
        covariances = self.plug_in(covariance_draws)
        factor = precision_cholesky_from_covariance(covariances)
        return covariances, factor @ np.swapaxes(factor, -1, -2), factor

    def select_components(self, covariance_draws, draw_index, component_index):
        """The draws (S, *shape) of the components ``component_index`` (S', m) picks in the
        draws ``draw_index`` (S',), and this type's object for those m components: the
        clusters of a sparse fit (:mod:`.._clusters`)."""
        clusters = replace(self, n_components=component_index.shape[1])
        if self._tied:
            return covariance_draws[draw_index], clusters
        return select(covariance_draws, draw_index, component_index), clusters

    # -- split-merge moves (.._sampling.split_merge) -----------------------------------

    @property
    def per_component(self):
        """Whether each component has a matrix of its own, which a split-merge move proposes."""
        return not self._tied

    def _matrix(self, covariance, component):
        return covariance if self._tied else covariance[component]

    def log_marginal_likelihood(self, Z, covariance, component, prior_loc, prior_scale, beta):
        """log of the integral over mu ~ Normal(prior_loc, D = diag prior_scale^2) of
        prod_i Normal(z_i | mu, Sigma_c)^beta, for the points ``Z`` (m, d) of one component:
        -beta m d / 2 log 2 pi - beta m / 2 log|Sigma| - beta tr(P M) / 2 - log|D Q| / 2
        - m0' D^-1 m0 / 2 + b' Q^-1 b / 2, with P = Sigma^-1, M = sum z z', Q = D^-1 +
        beta m P and b = D^-1 m0 + beta P (sum of z)."""
        n, d = Z.shape
        lower = np.linalg.cholesky(self._matrix(covariance, component))
        precision = cho_solve((lower, True), np.eye(d))
        log_det = 2 * np.log(np.diag(lower)).sum()
        prior_precision = 1.0 / prior_scale**2
        Q = np.diag(prior_precision) + beta * n * precision
        b = prior_precision * prior_loc + beta * precision @ Z.sum(axis=0)
        q_lower = np.linalg.cholesky(Q)
        whitened = solve_triangular(q_lower, b, lower=True)
        return float(
            -0.5 * beta * n * (d * _LOG_2PI + log_det)
            - 0.5 * beta * np.sum(precision * (Z.T @ Z))
            - np.log(np.diag(q_lower)).sum()
            + 0.5 * np.log(prior_precision).sum()
            - 0.5 * np.sum(prior_precision * prior_loc**2)
            + 0.5 * whitened @ whitened
        )

    def _proposal(self, Z):
        """The split-merge proposal of one component's matrix given its points ``Z``:
        InverseWishart(df + m, Psi + S), S the scatter about the points' mean."""
        n = Z.shape[0]
        resid = Z - Z.mean(axis=0) if n else Z
        return self.degrees_of_freedom + n, self.scale + resid.T @ resid

    def propose_component(self, rng, Z, reference, component, covariance):
        """``covariance`` with component ``component``'s matrix drawn from :meth:`_proposal`."""
        df, scale = self._proposal(Z)
        new = np.array(covariance, dtype=float)
        new[component] = sample_inverse_wishart(rng, df, np.linalg.cholesky(scale))
        return new

    def log_proposal_component(self, Z, reference, component, covariance):
        """log density of component ``component``'s matrix under :meth:`_proposal`."""
        return inverse_wishart_log_density(covariance[component], *self._proposal(Z))

    def log_prior_component(self, covariance, component):
        """log inverse-Wishart prior density of one component's matrix."""
        return inverse_wishart_log_density(
            covariance[component], self.degrees_of_freedom, self.scale
        )

    def permute(self, covariance, order):
        """The matrices with the components in ``order``."""
        return covariance if self._tied else covariance[order]

    # -- PyMC ----------------------------------------------------------------------------

    def _iw_logp(self, value):
        """log InverseWishart(value | df, Psi), over leading axes, with Psi = C C^T:
        df/2 log|Psi| - df d/2 log 2 - log Gamma_d(df/2) - (df + d + 1)/2 log|Sigma|
        - tr(Psi Sigma^-1)/2, where tr(Psi Sigma^-1) = ||L^-1 C||_F^2 for Sigma = L L^T."""
        df, d = self.degrees_of_freedom, self.n_features
        chol_psi = self.scale_cholesky
        constant = (
            df * np.log(np.diag(chol_psi)).sum()
            - 0.5 * df * d * np.log(2.0)
            - multigammaln(0.5 * df, d)
        )
        lower = pt.linalg.cholesky(value)
        log_det = 2 * pt.sum(pt.log(pt.diagonal(lower, axis1=-2, axis2=-1)), axis=-1)
        whitened = pt.linalg.solve_triangular(lower, chol_psi, lower=True)
        return constant - 0.5 * (df + d + 1) * log_det - 0.5 * pt.sum(whitened**2, axis=(-2, -1))

    def pymc_prior(self, transformed):
        """The inverse-Wishart prior on the natural matrices, for the Gibbs step to own."""
        if transformed:
            raise ValueError(
                f"covariance_type={self.covariance_type!r} has no transformed latent model: "
                f"its samplers are {self.samplers}."
            )
        # df and C are inputs only so that PyMC sees the (d, d) support; the density
        # uses their values through _iw_logp.
        return pm.CustomDist(
            "covariance",
            self.degrees_of_freedom,
            self.scale_cholesky,
            logp=lambda value, df, chol_psi: self._iw_logp(value),
            signature="(),(d,d)->(d,d)",
            shape=self.shape,
            dims=self.dims,
        )

    def _pymc_covariance_kdd(self, covariance):
        if self._tied:
            return pt.broadcast_to(covariance, (self.n_components, *self.shape))
        return covariance

    def pymc_observed_latent(self, name, X, means, category, covariance, dims):
        """x_i | z_i ~ Normal(mu_{z_i}, Sigma_{z_i}), through each component's Cholesky."""

        def logp(value, category, means, covariance):
            lower = pt.linalg.cholesky(covariance)
            resid = (value[None] - means[:, None, :]).transpose(0, 2, 1)
            whitened = pt.linalg.solve_triangular(lower, resid, lower=True)
            log_det = pt.sum(pt.log(pt.diagonal(lower, axis1=-2, axis2=-1)), axis=-1)
            per_component = -0.5 * pt.sum(whitened**2, axis=1) - log_det[:, None]
            chosen = per_component[category, pt.arange(value.shape[0])]
            return pt.sum(chosen) - 0.5 * value.shape[0] * value.shape[1] * _LOG_2PI

        return pm.CustomDist(
            name,
            category,
            means,
            self._pymc_covariance_kdd(covariance),
            logp=logp,
            signature="(n),(k,d),(k,d,d)->(n,d)",
            observed=X,
            dims=dims,
        )

    def pymc_marginal(self):
        """The inverse-Wishart prior by its Bartlett decomposition, smooth for NUTS.

        With Psi = C C^T and A lower triangular, A_ii^2 ~ chi^2(df - i) and A_ij ~
        Normal(0, 1), Sigma^-1 = C^-T A A^T C^-1 is Wishart(df, Psi^-1): Sigma is exactly
        InverseWishart(df, Psi), with independent standard priors and no Jacobian to add.
        The density needs only the whitening W = A^T C^-1, (x - mu)^T Sigma^-1 (x - mu)
        = ||W (x - mu)||^2, and log|W| = sum log A_ii - sum log C_ii.
        """
        d = self.n_features
        lead = self.shape[:-2]
        chol_psi = self.scale_cholesky
        inverse_chol_psi = solve_triangular(chol_psi, np.eye(d), lower=True)
        diagonal_sq = pm.ChiSquared(
            "covariance_bartlett_diagonal",
            nu=self.degrees_of_freedom - np.arange(d),
            shape=(*lead, d),
        )
        rows, cols = np.tril_indices(d, -1)
        factor = pt.zeros((*lead, d, d))
        factor = pt.set_subtensor(factor[..., np.arange(d), np.arange(d)], pt.sqrt(diagonal_sq))
        if rows.size:
            below = pm.Normal("covariance_bartlett_lower", 0.0, 1.0, shape=(*lead, rows.size))
            factor = pt.set_subtensor(factor[..., rows, cols], below)
        # Sigma = M^T M with M = A^-1 C^T.
        m = pt.linalg.solve_triangular(factor, pt.as_tensor(chol_psi.T), lower=True)
        pm.Deterministic("covariance", pt.swapaxes(m, -1, -2) @ m, dims=self.dims)
        whitening = pt.swapaxes(factor, -1, -2) @ inverse_chol_psi
        log_det = (
            pt.sum(pt.log(pt.diagonal(factor, axis1=-2, axis2=-1)), axis=-1)
            - np.log(np.diag(chol_psi)).sum()
        )
        return (
            self._pymc_covariance_kdd(whitening),
            pt.broadcast_to(log_det, (self.n_components,)),
        ), "(k,d,d),(k)"

    def pymc_components(self, covariance):
        """The inputs of :meth:`pymc_log_components` given the covariance matrices (the
        latent model's variable): W = L^-1 for Sigma = L L^T, and log|W|."""
        lower = pt.linalg.cholesky(self._pymc_covariance_kdd(covariance))
        whitening = pt.linalg.solve_triangular(
            lower, pt.broadcast_to(pt.eye(self.n_features), lower.shape), lower=True
        )
        log_det = -pt.sum(pt.log(pt.diagonal(lower, axis1=-2, axis2=-1)), axis=-1)
        return (whitening, log_det), "(k,d,d),(k)"

    def pymc_observed_kernel(self, covariance):
        """What :meth:`pymc_log_components_observed` takes: the (k, d, d) matrices, and
        its signature."""
        return self._pymc_covariance_kdd(covariance), "(k,d,d)"

    def pymc_log_components_observed(self, value, weights, means, covariance, patterns, pattern):
        """log w_c + log Normal(x_o | mu_co, Sigma_c,oo) on each row's observed entries,
        (n, k). ``patterns`` (P, d) are the observed entries of each pattern and ``pattern``
        (n,) each row's, NumPy constants; ``value`` holds 0 where missing.

        One expression for every pattern, so that the graph and its compile time do not
        grow with their number: Sigma padded to the identity on a pattern's missing
        entries has Sigma_oo's determinant, and its inverse is Sigma_oo^-1 there and the
        identity elsewhere, where the masked residual is 0.
        """
        k, d = self.n_components, self.n_features
        mask = patterns.astype(float)  # (P, d)
        padded = (
            covariance.reshape((k, d, d))[None] * (mask[:, :, None] * mask[:, None, :])[:, None]
            + (np.eye(d) * (1.0 - mask)[:, :, None])[:, None]
        )  # (P, k, d, d)
        lower = pt.linalg.cholesky(padded)
        half_log_det = pt.sum(pt.log(pt.diagonal(lower, axis1=-2, axis2=-1)), axis=-1)
        inverse = pt.linalg.inv(padded)[pattern]  # (n, k, d, d)
        resid = (value[:, None, :] - means.reshape((k, d))[None]) * mask[pattern][:, None, :]
        quad = pt.sum(resid[..., :, None] * inverse * resid[..., None, :], axis=(-2, -1))
        n_observed = mask.sum(axis=1)[pattern]
        return (
            pt.log(weights.reshape((k,)))[None]
            - half_log_det[pattern]
            - 0.5 * quad
            - 0.5 * _LOG_2PI * n_observed[:, None]
        )

    def pymc_log_components(self, value, weights, means, whitening, log_det):
        """log w_c + log Normal(x | mu_c, Sigma_c) with Sigma_c^-1 = W_c^T W_c, (n, k).

        PyMC hands the parameters over with a leading batch axis of length 1 (they are
        the same for every point): reshaped to their core shapes first.
        """
        k, d = self.n_components, self.n_features
        means = means.reshape((k, d))
        resid = (value[None] - means[:, None, :]).transpose(0, 2, 1)  # (k, d, n)
        whitened = whitening.reshape((k, d, d)) @ resid
        log_norm = pt.log(weights.reshape((k,))) + log_det.reshape((k,))
        return (log_norm[:, None] - 0.5 * pt.sum(whitened**2, axis=1)).T - 0.5 * d * _LOG_2PI

    def marginal_initvals(self, covariance):
        """The Bartlett variables of a covariance: A = chol(C^T Sigma^-1 C)."""
        lower = np.linalg.cholesky(covariance)
        g = solve_triangular(lower, np.broadcast_to(self.scale_cholesky, lower.shape), lower=True)
        factor = np.linalg.cholesky(np.swapaxes(g, -1, -2) @ g)
        d = self.n_features
        rows, cols = np.tril_indices(d, -1)
        values = {"covariance_bartlett_diagonal": np.diagonal(factor, axis1=-2, axis2=-1) ** 2}
        if rows.size:
            values["covariance_bartlett_lower"] = factor[..., rows, cols]
        return values

    # -- resolution and persistence ------------------------------------------------------

    def resolved_attributes(self):
        return {
            "covariance_prior": self.scale,
            "degrees_of_freedom_prior": self.degrees_of_freedom,
        }

    def to_dict(self):
        return {
            "covariance_type": self.covariance_type,
            "covariance_prior": self.scale.tolist(),
            "degrees_of_freedom_prior": self.degrees_of_freedom,
        }

    @classmethod
    def from_dict(cls, values, n_components, n_features):
        return cls(
            values["covariance_type"],
            n_components,
            n_features,
            float(values["degrees_of_freedom_prior"]),
            np.asarray(values["covariance_prior"], dtype=float),
        )

    @classmethod
    def resolve(cls, params, scales, n_components, n_features):
        """The inverse-Wishart prior of ``params``.

        Defaults: df = d + 2, the smallest whole number for which the prior mean exists,
        which keeps the prior as light as possible; and Psi = diag((spread / k)^2) with each
        feature's robust spread, so that E[Sigma] = Psi: each component is expected to span
        1/k of every feature's spread. (mclust's Psi = var / k^(2/d), Fraley & Raftery
        2007, is k^(2 - 2/d) times larger; on iris its pull on tight clusters moved the
        posterior away from the species.)
        """
        covariance_type, d = params["covariance_type"], n_features
        _refuse(
            params,
            {"sd_lower": None, "sd_upper": None, "sd_prior_scale": None, "sd_prior": "uniform"},
            covariance_type,
            "Full matrices take covariance_prior and degrees_of_freedom_prior instead.",
        )
        if params["sampler"] not in cls.samplers:
            raise ValueError(
                f"sampler={params['sampler']!r} does not support covariance_type="
                f"{covariance_type!r}: the 2015 PyMC notebook's Metropolis scheme is kept for "
                "the diagonal types; use sampler='gibbs' or 'nuts'."
            )
        df = params["degrees_of_freedom_prior"]
        df = d + DEGREES_OF_FREEDOM_OFFSET if df is None else float(df)
        if df <= d - 1:
            raise ValueError(
                f"degrees_of_freedom_prior={params['degrees_of_freedom_prior']!r} must be "
                f"greater than n_features - 1 = {d - 1} for a proper inverse-Wishart prior."
            )
        scale = params["covariance_prior"]
        if scale is None:
            variance = (scales.spread / n_components) ** 2
            # Matrices in the data's units hold squared spreads: features below about
            # 1e-154 (or above 1e154) of their units leave none in double precision.
            unrepresentable = ~((variance >= np.finfo(float).tiny) & np.isfinite(variance))
            if unrepresentable.any():
                raise ValueError(
                    f"covariance_type={covariance_type!r} holds squared spreads, and those of "
                    f"feature(s) {np.flatnonzero(unrepresentable).tolist()} (robust spread "
                    f"{scales.spread[unrepresentable].tolist()}) leave zero variance or "
                    "overflow in double precision: rescale X (e.g. with StandardScaler), or "
                    "use a diagonal covariance_type."
                )
            scale = np.diag(variance)
        else:
            scale = _covariance_matrix(scale, d)
        return cls(covariance_type, n_components, n_features, df, scale)


def _covariance_matrix(value, n_features):
    """A symmetric positive-definite (d, d) matrix from a number, a (d,) diagonal or itself."""
    matrix = np.asarray(value, dtype=float)
    if matrix.ndim < 2:
        try:
            matrix = np.diag(np.broadcast_to(matrix, (n_features,)))
        except ValueError:
            matrix = None
    problem = None
    if matrix is None or matrix.shape != (n_features, n_features):
        problem = f"a number, an array of shape ({n_features},) or ({n_features}, {n_features})"
    elif not np.all(np.isfinite(matrix)) or not np.allclose(matrix, matrix.T):
        problem = "finite and symmetric"
    else:
        try:
            np.linalg.cholesky(matrix)
        except np.linalg.LinAlgError:
            problem = "positive definite"
    if problem is not None:
        raise ValueError(f"covariance_prior={value!r} must be {problem}.")
    return 0.5 * (matrix + matrix.T)


COVARIANCE_CLASSES = {
    **dict.fromkeys(_DIAGONAL_TYPES, DiagonalCovariance),
    "full": FullCovariance,
    "tied": FullCovariance,
}
COVARIANCE_TYPES = tuple(COVARIANCE_CLASSES)


def resolve_covariance(params, scales, n_components, n_features):
    """The covariance object of the estimator's ``params``, defaults scaled to the data."""
    cls = COVARIANCE_CLASSES[params["covariance_type"]]
    return cls.resolve(params, scales, n_components, n_features)


def covariance_from_dict(values, n_components, n_features):
    """Inverse of ``to_dict``: ``values`` may hold other keys too."""
    cls = COVARIANCE_CLASSES[values["covariance_type"]]
    return cls.from_dict(values, n_components, n_features)
