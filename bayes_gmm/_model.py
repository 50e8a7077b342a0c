"""The constrained Bayesian Gaussian mixture as a PyMC model.

The latent form is the seed notebook's: a category per point, Dirichlet weights and
Normal means held in the constrained region by hard potentials, Uniform standard
deviations. The Gibbs step owns weights, means and sigma, so they carry no transform and
the step reads and writes natural values; the potentials then cost a Gibbs sweep nothing
and keep ``model.logp`` honest about the support.
"""

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from ._posterior import sigma_dims, sigma_index

OBSERVED = "obs"


def model_coords(n_components, feature_names, n_samples):
    """Coordinates of the trace's named dimensions."""
    return {
        "component": np.arange(n_components),
        "feature": list(feature_names),
        "sample": np.arange(n_samples),
    }


def build_latent_model(X, spec, coords):
    """The seed's model, generalised to d features and four covariance types."""
    k, d = spec.n_components, spec.n_features
    a = spec.order_feature
    with pm.Model(coords=coords) as model:
        weights = pm.Dirichlet(
            "weights",
            a=np.full(k, spec.weight_concentration),
            dims="component",
            default_transform=None,
        )
        pm.Potential(
            "min_weight_potential",
            pt.switch(pt.lt(pt.min(weights), spec.min_weight), -np.inf, 0.0),
        )
        means = pm.Normal(
            "means",
            mu=spec.mean_prior_loc,
            sigma=spec.mean_prior_scale,
            dims=("component", "feature"),
            default_transform=None,
        )
        pm.Potential(
            "order_means_potential",
            pt.switch(pt.any(pt.lt(pt.diff(means[:, a]), 0)), -np.inf, 0.0),
        )
        sigma = pm.Uniform(
            "sigma",
            lower=np.broadcast_to(spec.sd_lower, spec.sigma_shape),
            upper=np.broadcast_to(spec.sd_upper, spec.sigma_shape),
            shape=spec.sigma_shape,
            dims=sigma_dims(spec.covariance_type) or None,
            default_transform=None,
        )
        category = pm.Categorical("category", p=weights, dims="sample")
        sigma_kd = pt.flatten(sigma)[sigma_index(spec.covariance_type, k, d)]
        pm.Normal(
            OBSERVED,
            mu=means[category],
            sigma=sigma_kd[category],
            observed=X,
            dims=("sample", "feature"),
        )
    return model
