"""The constrained Bayesian Gaussian mixture as PyMC models.

The latent form is the 2015 PyMC notebook's: a category per point, Dirichlet weights and
Normal means held in the constrained region by hard potentials, and the sd prior. For the
Gibbs step, which owns weights, means and sigma, they carry no transform: the step reads and
writes natural values, and the potentials cost a Gibbs sweep nothing while keeping
``model.logp`` honest about the support. For the notebook's Metropolis scheme they keep PyMC's
default transforms, as in the notebook.

The marginalised form, for NUTS, sums the categories out and expresses both restrictions
smoothly, with no hard wall: ``w = m + (1 - k m) u`` with u uniform on the simplex is
exactly uniform on the restricted simplex (the map is affine), and the factor
prod w^(alpha - 1) makes it the restricted Dirichlet(alpha); PyMC's ``ordered`` transform
on iid Normals is exactly the iid Normal prior restricted to increasing values.

In the sparse mixture the Dirichlet concentration is a parameter with a Gamma prior, and
there is no floor on the weights (``min_weight`` is 0), so that components can empty.

With sample weights each row's log-density is multiplied by its weight, which the models
hold as the data variable ``sample_weight`` (the trace's ``constant_data``). The Gibbs
step's model then has no category variable: a row stands for several points, each with a
category of its own, which the step draws as counts inside a sweep (see
``_sampling.sweep``); its observed density is the mixture's, categories summed out, as in
the marginal model.

A noise component (``spec.noise_box``) leaves the categories out of the Gibbs step's
model too, whose sweep draws them (noise among them) afresh from the parameters; both
models' observed density then adds the noise weight times the box's constant density to
the Gaussian components', scaled by one minus it (see ``_noise``).

Student-t components (``spec.student_t``) leave the categories out of the Gibbs step's
model too (its sweep draws them with each point's latent scale); both models' observed
density is then the t mixture's, each covariance type's Gaussian expression turned into
the t's through the squared distance it holds (``_as_t``), with the degrees of freedom a
Gamma-prior parameter or a fixed number. A row with missing entries has each t's
marginal on its observed ones: a t with the same degrees of freedom, in fewer dimensions.

Missing entries (NaN) leave the categories out of the Gibbs step's model too, and both
models' observed density is then each row's on its observed entries (each component's
marginal there), a pattern of missing entries at a time. The observed array holds 0 in
place of NaN, so that PyMC does not impute the entries itself; the trace's
``observed_data`` gets its NaN back after sampling.

The covariance type's object (``spec.covariance``) adds its own prior, its observed
density in the latent model and its component densities in the marginal one.
"""

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pymc.distributions.transforms import ordered
from pytensor.tensor.extra_ops import bincount

from ._clusters import COMPONENT_COUNTS
from ._missing import missing_layout
from ._noise import NOISE_WEIGHT_PRIOR, log_widths
from ._spec import OBSERVED
from ._student_t import DF_PRIOR


def model_coords(n_components, feature_names, n_samples):
    """Coordinates of the trace's named dimensions."""
    return {
        "component": np.arange(n_components),
        "feature": list(feature_names),
        # The second axis of a covariance matrix (xarray names each axis once).
        "feature_bis": list(feature_names),
        "sample": np.arange(n_samples),
    }


def build_latent_model(X, spec, coords, transformed=False, sample_weight=None):
    """The 2015 PyMC notebook's model, generalised to d features and every covariance type.

    ``transformed=False`` (Gibbs) leaves weights, means and covariances untransformed.
    With a ``sample_weight`` the categories are left out (see the module docstring).
    """
    k = spec.n_components
    a = spec.order_feature
    no_transform = {} if transformed else {"default_transform": None}
    with pm.Model(coords=coords) as model:
        concentration = spec.weight_concentration
        if spec.sparse:
            shape, rate = spec.concentration_prior
            concentration = pm.Gamma("weight_concentration", alpha=shape, beta=rate, **no_transform)
        weights = pm.Dirichlet(
            "weights", a=concentration * np.ones(k), dims="component", **no_transform
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
            **no_transform,
        )
        pm.Potential(
            "order_means_potential",
            pt.switch(pt.any(pt.lt(pt.diff(means[:, a]), 0)), -np.inf, 0.0),
        )
        covariance = spec.covariance.pymc_prior(transformed)
        noise_weight = _noise_weight(spec, no_transform)
        df = _degrees_of_freedom(spec, no_transform)
        if np.isnan(X).any():
            _observed_with_missing(X, spec, weights, means, covariance, noise_weight, df)
            return model
        if sample_weight is not None or noise_weight is not None or spec.student_t:
            inputs, signature = spec.covariance.pymc_components(covariance)
            _mixture_observed(
                X, spec, weights, means, inputs, signature, sample_weight, noise_weight, df
            )
            return model
        category = pm.Categorical("category", p=weights, dims="sample")
        if spec.sparse:
            # Points per component, traced with every draw: which components are occupied
            # (the clusters) in the draw, without keeping every category.
            pm.Deterministic(COMPONENT_COUNTS, bincount(category, minlength=k), dims="component")
        spec.covariance.pymc_observed_latent(
            OBSERVED, X, means, category, covariance, dims=("sample", "feature")
        )
    return model


def build_marginal_model(X, spec, coords, sample_weight=None):
    """The model with the categories summed out and both restrictions smooth, for NUTS."""
    k, d = spec.n_components, spec.n_features
    a = spec.order_feature
    others = [j for j in range(d) if j != a]
    m, alpha = spec.min_weight, spec.weight_concentration
    with pm.Model(coords=coords) as model:
        if k == 1:
            weights = pm.Deterministic("weights", pt.ones(1), dims="component")
        else:
            unit_simplex = pm.Dirichlet("weights_simplex", a=np.ones(k), dims="component")
            weights = pm.Deterministic("weights", m + (1 - k * m) * unit_simplex, dims="component")
        if alpha != 1 and k > 1:
            pm.Potential("weight_concentration_potential", (alpha - 1) * pt.sum(pt.log(weights)))
        ordered_means = pm.Normal(
            "means_ordered",
            mu=spec.mean_prior_loc[a],
            sigma=spec.mean_prior_scale[a],
            shape=k,
            transform=ordered,
            initval=np.linspace(-1, 1, k) * spec.mean_prior_scale[a] * 0.1 + spec.mean_prior_loc[a],
        )
        columns = [None] * d
        columns[a] = ordered_means[:, None]
        if others:
            other_means = pm.Normal(
                "means_other",
                mu=spec.mean_prior_loc[others],
                sigma=spec.mean_prior_scale[others],
                shape=(k, len(others)),
            )
            for i, j in enumerate(others):
                columns[j] = other_means[:, i : i + 1]
        means = pm.Deterministic(
            "means", pt.concatenate(columns, axis=1), dims=("component", "feature")
        )
        noise_weight = _noise_weight(spec, {})
        df = _degrees_of_freedom(spec, {})
        inputs, signature = spec.covariance.pymc_marginal()
        if np.isnan(X).any():
            # The sds, or the full types' matrices (the Bartlett factors' deterministic).
            covariance = model[spec.covariance.trace_name]
            _observed_with_missing(X, spec, weights, means, covariance, noise_weight, df)
        else:
            _mixture_observed(
                X, spec, weights, means, inputs, signature, sample_weight, noise_weight, df
            )
    return model


def _noise_weight(spec, transform):
    """The noise component's weight, with its Beta prior (see .._noise), or None."""
    if spec.noise_box is None:
        return None
    a, b = NOISE_WEIGHT_PRIOR
    return pm.Beta("noise_weight", alpha=a, beta=b, **transform)


def _degrees_of_freedom(spec, transform):
    """The t components' degrees of freedom: a parameter with the prior of .._student_t,
    the fixed value, or None for Gaussian components."""
    if not spec.student_t:
        return None
    if not spec.sampled_df:
        return spec.t_degrees_of_freedom
    shape, rate = DF_PRIOR
    dims = {"dims": "component"} if spec.df_shape else {}
    return pm.Gamma("degrees_of_freedom", alpha=shape, beta=rate, **dims, **transform)


def _as_t(log_components, peak, df, n_features):
    """log w_c + log t_df(x | mu_c, Sigma_c) from the Gaussian log w_c + log Normal(x |
    mu_c, Sigma_c) (n, k) and its value at the component's own mean, ``peak`` (n, k) or
    (1, k), log w_c - 1/2 log |Sigma_c| - d / 2 log 2 pi: the difference is -delta / 2
    (see .._student_t). ``n_features`` is d, or each row's observed entries (n, 1) with
    the Gaussians' marginals on them. Works for every covariance type's expression."""
    d = n_features
    delta = pt.maximum(-2.0 * (log_components - peak), 0.0)
    df = pt.as_tensor(df).flatten()
    return (
        peak
        + 0.5 * d * np.log(2 * np.pi)
        + pt.gammaln((df + d) / 2)
        - pt.gammaln(df / 2)
        - 0.5 * d * pt.log(df * np.pi)
        - 0.5 * (df + d) * pt.log1p(delta / df)
    )


def _with_noise(log_components, noise_weight, noise_log_density):
    """The components' log w_c + log density (n, k) joined by the noise component's:
    the Gaussian weights scaled by 1 - nu, and log nu + ``noise_log_density`` (n,) last."""
    # PyMC may hand the weight over with a batch axis of length 1, and the components
    # with one more axis in front of (n, k): the noise column takes their shape.
    nu = noise_weight.flatten()[0]
    gaussian = pt.log1p(-nu) + log_components
    noise = (pt.log(nu) + pt.as_tensor(noise_log_density))[:, None]
    return pt.concatenate([gaussian, pt.broadcast_to(noise, gaussian[..., :1].shape)], axis=-1)


def _observed_with_missing(X, spec, weights, means, covariance, noise_weight=None, df=None):
    """The observed rows' density, categories summed out, on each row's observed entries.

    ``covariance`` is the covariance type's trace variable; ``noise_weight`` the noise
    component's, or None; ``df`` the t components' degrees of freedom, or None. The
    noise density of a row is 1 / the volume of the box's observed features; a t
    component's is its marginal on them, a t with the same degrees of freedom.
    """
    layout = missing_layout(X)
    k, d = spec.n_components, spec.n_features
    n_patterns = layout.observed.shape[0]
    kernel, signature = spec.covariance.pymc_observed_kernel(covariance)
    inputs = () if noise_weight is None else (noise_weight,)
    if noise_weight is not None:
        noise_log_density = -((~layout.missing) @ log_widths(spec.noise_box))
        signature += ",()"
    t_input = isinstance(df, pt.TensorVariable)
    if t_input:
        inputs = (*inputs, df)
        signature += ",(k)" if spec.df_shape else ",()"

    def logp(value, weights, means, kernel, *inputs):
        """Each row's log-density on its observed entries."""
        t_df = df
        if t_input:
            *inputs, t_df = inputs
        log_components = spec.covariance.pymc_log_components_observed(
            value, weights, means, kernel, layout.observed, layout.pattern
        )
        if t_df is not None:
            # Each component's marginal at its own mean, for every pattern: the rows
            # (pattern p, component c) of the means repeated, pattern p's column c.
            own_means = pt.tile(means.reshape((k, d)), (n_patterns, 1))
            at_means = spec.covariance.pymc_log_components_observed(
                own_means,
                weights,
                means,
                kernel,
                layout.observed,
                np.repeat(np.arange(n_patterns), k),
            ).reshape((n_patterns, k, k))
            peak = pt.diagonal(at_means, axis1=-2, axis2=-1)[layout.pattern]
            n_observed = (~layout.missing).sum(axis=1)[:, None]
            log_components = _as_t(log_components, peak, t_df, n_observed)
        if noise_weight is not None:
            log_components = _with_noise(log_components, inputs[0], noise_log_density)
        return pt.logsumexp(log_components, axis=-1)

    return pm.CustomDist(
        OBSERVED,
        weights,
        means,
        kernel,
        *inputs,
        logp=logp,
        observed=np.nan_to_num(X, nan=0.0),
        dims=("sample", "feature"),
        signature=f"(k),(k,d),{signature}->(d)",
    )


def _mixture_observed(
    X, spec, weights, means, inputs, signature, sample_weight, noise_weight, df=None
):
    """The observed rows' density, categories summed out, each row's log-density times its
    weight when there are weights. ``inputs`` (with their ``signature``) are what the
    covariance type's ``pymc_log_components`` takes; ``noise_weight`` is the noise
    component's, or None; ``df`` the t components' degrees of freedom (a variable or a
    number), or None for Gaussian components."""
    weighted = sample_weight is not None
    if weighted:
        inputs = (*inputs, pm.Data("sample_weight", sample_weight, dims="sample"))
    noised = noise_weight is not None
    if noised:
        inputs = (*inputs, noise_weight)
        noise_log_density = np.full(X.shape[0], -log_widths(spec.noise_box).sum())
    t_input = isinstance(df, pt.TensorVariable)
    if t_input:
        inputs = (*inputs, df)

    def mixture_logp(value, weights, means, *inputs):
        """log sum_c w_c Normal(x | mu_c, Sigma_c) for each row of ``value`` (and the
        noise component's term), weighted."""
        t_df = df
        if t_input:
            *inputs, t_df = inputs
        if noised:
            *inputs, nu = inputs
        if weighted:
            *inputs, row_weight = inputs
        log_components = spec.covariance.pymc_log_components(value, weights, means, *inputs)
        if t_df is not None:
            own_means = means.reshape((spec.n_components, spec.n_features))
            at_means = spec.covariance.pymc_log_components(own_means, weights, means, *inputs)
            peak = pt.diagonal(at_means, axis1=-2, axis2=-1)[..., None, :]
            log_components = _as_t(log_components, peak, t_df, spec.n_features)
        if noised:
            log_components = _with_noise(log_components, nu, noise_log_density)
        log_density = pt.logsumexp(log_components, axis=-1)
        return row_weight * log_density if weighted else log_density

    extra = (",()" if weighted else "") + (",()" if noised else "")
    if t_input:
        extra += ",(k)" if spec.df_shape else ",()"
    return pm.CustomDist(
        OBSERVED,
        weights,
        means,
        *inputs,
        logp=mixture_logp,
        observed=X,
        dims=("sample", "feature"),
        signature=f"(k),(k,d),{signature}{extra}->(d)",
    )


def build_model(sampler, X, spec, coords, sample_weight=None):
    """The PyMC model each sampler runs on; ``sample_weight`` None for unweighted rows."""
    if sampler == "nuts":
        return build_marginal_model(X, spec, coords, sample_weight)
    return build_latent_model(
        X, spec, coords, transformed=sampler == "metropolis", sample_weight=sample_weight
    )
