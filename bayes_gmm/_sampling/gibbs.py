"""Exact blocked Gibbs sampling of the latent mixture, as a PyMC step method.

One sweep draws every block from its exact full conditional (:mod:`.conditionals`):
categories, then (in the sparse mixture) the Dirichlet concentration, then weights, means
and covariances. The step class only moves values between
PyMC's point dict and those pure functions.

The sweep runs on standardised data (median 0, robust spread 1 per feature), so data in
any units meets the same floating-point ranges; the step converts on the way in and out.
"""

import numpy as np
import pymc as pm
from pymc.step_methods.compound import BlockedStep, StepMethodState
from pymc.util import get_random_generator

from .._posterior import Draws, log_joint, sample_categories, sample_categories_given_draws
from .conditionals import (
    collapsed_categories,
    sample_concentration,
    sample_weights,
    sufficient_statistics,
)


class GibbsMixtureStep(BlockedStep):
    """One exact Gibbs sweep over categories, weights, means and covariances of the latent model.

    Parameters
    ----------
    vars : ignored
        The step always owns the model's weights, means, covariance variable and categories;
        the argument exists for PyMC's step-method protocol.
    X : ndarray of shape (n_samples, n_features)
        The observed data, in its own units.
    spec : MixtureSpec
        The resolved model.
    center, spread : ndarray of shape (n_features,)
        Location and robust spread of each feature; the covariance type decides the scale
        the sweep standardises by (one across features for the spherical types).
    """

    name = "gibbs_mixture"
    stats_dtypes_shapes = {"weights_joint_draw": (bool, [])}
    _state_class = StepMethodState

    def __init__(self, vars=None, *, X, spec, center, spread, model=None, rng=None, blocked=True):
        model = pm.modelcontext(model)
        self._names = (*spec.parameter_names, "category")
        self.vars = [model.rvs_to_values[model[name]] for name in self._names]
        self.rng = get_random_generator(rng)
        self.spec = spec
        self._center = center
        self._scale = spec.covariance.feature_scale(spread)
        self._covariance = spec.covariance.rescaled(self._scale)
        self._Z = np.asfortranarray((X - center) / self._scale)
        self._prior_loc = (spec.mean_prior_loc - center) / self._scale
        self._prior_scale = spec.mean_prior_scale / self._scale

    def step(self, point):
        spec, rng, covariance = self.spec, self.rng, self._covariance
        name = covariance.trace_name
        means = (point["means"] - self._center) / self._scale
        param = covariance.standardise(point[name], self._scale)

        factor = covariance.precision_cholesky(param[None])
        if spec.sparse:
            # log Normal(z_i | theta_c) once, for both category updates.
            log_likelihood = log_joint(
                self._Z, np.ones((1, spec.n_components)), means[None], factor
            )[0]
            category = sample_categories(rng, log_likelihood + np.log(point["weights"])[:, None])
            category = collapsed_categories(
                rng, log_likelihood, category, point["weight_concentration"]
            )
        else:
            draws = Draws(point["weights"][None], means[None], factor)
            category = sample_categories_given_draws(rng, self._Z, draws)[0]
        counts, sums = sufficient_statistics(self._Z, category, spec.n_components)
        new_point = dict(point)
        concentration = spec.weight_concentration
        if spec.sparse:
            concentration = sample_concentration(
                rng, counts, point["weight_concentration"], *spec.concentration_prior
            )
            new_point["weight_concentration"] = np.asarray(concentration)
        weights, joint_draw = sample_weights(
            rng, counts, concentration, spec.min_weight, point["weights"]
        )
        means = covariance.sample_means(
            rng, counts, sums, param, self._prior_loc, self._prior_scale, means, spec.order_feature
        )
        param = covariance.sample_covariance(rng, self._Z, category, counts, means, param)
        new_point["weights"] = weights
        new_point["means"] = self._center + self._scale * means
        new_point[name] = np.asarray(covariance.unstandardise(param, self._scale))
        new_point["category"] = np.asarray(category, dtype=point["category"].dtype)
        return new_point, [{"weights_joint_draw": joint_draw}]
