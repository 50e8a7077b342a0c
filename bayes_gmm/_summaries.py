"""The fitted attributes a trace implies: pure functions of the trace and the resolved
model, shared by ``fit`` (after each run of ``draws="auto"``, and once at the end) and
``load``. The estimator sets what they return; nothing here samples."""

import numpy as np

from ._clusters import (
    COMPONENT_COUNTS,
    cluster_draws,
    cluster_posteriors,
    n_clusters_distribution,
    n_clusters_per_draw,
    occupied_components,
)
from ._covariance import PRIOR_ATTRIBUTES
from ._diagnostics import convergence_report
from ._modes import chain_modes
from ._noise import log_widths
from ._posterior import Draws
from ._spec import OBSERVED


def training_data(trace):
    """The data the trace was fitted to, NaN where an entry is missing."""
    return trace.observed_data[OBSERVED].to_numpy()


def training_weight(trace):
    """The fit's sample weights, or None for an unweighted fit."""
    constant = trace.get("constant_data")
    if constant is None or "sample_weight" not in constant:
        return None
    return constant["sample_weight"].to_numpy()


def run_attributes(trace, spec, tune):
    """What ``draws="auto"`` reads after each run, before the point summaries are due:
    the run's settings as resolved (``tune`` its warm-up), the resolved priors, the
    sparse mixture's clusters (``_clusters``, None otherwise) and ``convergence_``."""
    stats = trace.get("sample_stats")
    tempered = stats is not None and "inverse_temperature" in stats
    resolved = spec.covariance.resolved_attributes()
    attributes = {
        "tune_": tune,
        "draws_": trace.posterior.sizes["draw"],
        # What the recorded run used, "auto" resolved: its statistics say it.
        "n_temperatures_": int(stats["inverse_temperature"].shape[-1]) if tempered else 1,
        "split_merge_": stats is not None and "split_merge_accepted" in stats,
        "order_feature_": spec.order_feature,
        "min_weight_": spec.min_weight,
        "mean_prior_loc_": spec.mean_prior_loc,
        "mean_prior_scale_": spec.mean_prior_scale,
        **{f"{name}_": resolved.get(name) for name in PRIOR_ATTRIBUTES},
    }
    clusters, posteriors = None, None
    if spec.sparse:
        counts = trace.posterior[COMPONENT_COUNTS].to_numpy().reshape(-1, spec.n_components)
        n_clusters = n_clusters_distribution(n_clusters_per_draw(counts), spec.n_components)
        attributes["n_clusters_posterior_"] = n_clusters
        attributes["n_clusters_"] = int(np.argmax(n_clusters))
        clusters = occupied_components(counts, attributes["n_clusters_"])
        posteriors = cluster_posteriors(spec, trace.posterior, clusters)
    attributes["_clusters"] = clusters
    modes = chain_modes(training_data(trace), trace.posterior, spec, training_weight(trace))
    attributes["convergence_"] = convergence_report(trace, spec.parameter_names, posteriors, modes)
    return attributes


def point_summaries(spec, posterior, clusters):
    """Posterior means, scikit-learn's covariance layouts and ``classes_`` of the model
    the summaries describe (the sparse mixture's clusters, ``clusters``)."""
    cluster_spec, values = cluster_draws(spec, posterior, clusters)
    covariance = cluster_spec.covariance
    attributes = {}
    weights = values["weights"]
    if cluster_spec.noise_box is not None:
        # The Gaussian components' shares of the whole mixture, as draws_of gives them.
        weights = weights * (1 - values["noise_weight"][:, None])
        attributes["noise_weight_"] = float(values["noise_weight"].mean())
    if cluster_spec.student_t:
        attributes["t_degrees_of_freedom_"] = (
            values["degrees_of_freedom"].mean(axis=0)
            if cluster_spec.sampled_df
            else cluster_spec.t_degrees_of_freedom
        )
    attributes["weights_"] = weights.mean(axis=0)
    attributes["means_"] = values["means"].mean(axis=0)
    layouts = covariance.sklearn_layouts(values[covariance.trace_name])
    attributes["covariances_"], attributes["precisions_"] = layouts[:2]
    attributes["precisions_cholesky_"] = layouts[2]
    # The labels predict returns, as classifiers list theirs: wrappers that build the
    # output of predict_proba block by block (dask-ml's ParallelPostFit) read its width.
    classes = np.arange(cluster_spec.n_components)
    if cluster_spec.noise_box is not None:
        classes = np.append(classes, -1)
    attributes["classes_"] = classes
    return attributes


def plug_in_draws(spec, values, est):
    """One draw at the posterior means of the fitted estimator ``est``: its weights,
    means, noise weight and degrees of freedom, and the covariance type's plug-in of the
    covariance draws ``values`` (those of the model ``spec`` describes)."""
    covariance = spec.covariance
    draws = Draws(
        weights=est.weights_[None],
        means=est.means_[None],
        precision_cholesky=covariance.precision_cholesky(
            covariance.plug_in(values[covariance.trace_name])[None]
        ),
    )
    if spec.noise_box is not None:
        draws = draws._replace(
            noise_weight=np.array([est.noise_weight_]),
            noise_log_widths=log_widths(spec.noise_box)[None],
        )
    if spec.student_t:
        df = np.broadcast_to(est.t_degrees_of_freedom_, (1, spec.n_components))
        draws = draws._replace(degrees_of_freedom=df)
    return draws
