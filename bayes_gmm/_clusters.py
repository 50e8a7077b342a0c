"""The clusters of a sparse mixture: its occupied components, draw by draw.

In the sparse ("overfitted") mixture ``n_components`` is an upper bound, and a draw's
clusters are the components that hold at least one point. Pure NumPy (the datasets of
:func:`cluster_posteriors` aside): the points per component of every draw in, the
posterior of the number of clusters and the draws of the clusters out.

Labels: the means are ordered on one feature in every draw, so the occupied components,
taken in component order, are ordered on it too. Among draws with the same number of
clusters, cluster j is then the j-th occupied component along the ordering feature: the
ordering restriction, applied to the clusters, is what stops them switching labels. It
holds where the clusters are separated on that feature, which the estimator checks.
"""

from dataclasses import replace

import numpy as np

# The latent model's Deterministic that traces the points in each component.
COMPONENT_COUNTS = "component_counts"


def n_clusters_per_draw(counts):
    """Occupied components of each draw, from the points per component (..., k)."""
    return np.count_nonzero(counts, axis=-1)


def n_clusters_distribution(n_clusters, n_components):
    """P(number of clusters = m) for m = 0, ..., n_components, from the draws' numbers.

    Entry 0 is always 0 (every point is in some cluster); the array is indexed by the
    number of clusters itself.
    """
    return np.bincount(np.ravel(n_clusters), minlength=n_components + 1) / np.size(n_clusters)


def occupied_components(counts, n_clusters):
    """The components of each draw that hold points, for draws with ``n_clusters`` of them.

    ``counts`` is (S, k). Returns the indices (S',) of those draws and, for each of
    them, the indices (S', n_clusters) of its occupied components in increasing order,
    which is the order of their means on the ordering feature.
    """
    occupied = counts > 0
    keep = np.flatnonzero(occupied.sum(axis=1) == n_clusters)
    # argsort of "not occupied" is stable: occupied components first, in component order.
    index = np.argsort(~occupied[keep], axis=1, kind="stable")[:, :n_clusters]
    return keep, index


def select(values, draw_index, component_index):
    """Draws (S, k, ...) of the components ``component_index`` (S', m) picks in the draws
    ``draw_index`` (S',): (S', m, ...)."""
    picked = values[draw_index]
    shape = (*component_index.shape, *(1,) * (picked.ndim - 2))
    return np.take_along_axis(picked, component_index.reshape(shape), axis=1)


def cluster_draws(spec, posterior, clusters):
    """The model that a fit's point summaries describe, and its draws flattened over chains.

    The components, with every draw; in a sparse fit (``clusters``, as
    :func:`occupied_components` returns them, else None), the occupied components of the
    draws that have ``n_clusters_`` of them, as clusters labelled in the order of their
    means on the ordering feature, their weights renormalised over them. ``posterior``
    maps names to (chain, draw, ...) arrays. Returns the clusters' spec and a dict of
    (S, ...) draws.
    """
    covariance = spec.covariance
    values = {
        "weights": np.asarray(posterior["weights"]).reshape(-1, spec.n_components),
        "means": np.asarray(posterior["means"]).reshape(-1, spec.n_components, spec.n_features),
        covariance.trace_name: np.asarray(posterior[covariance.trace_name]).reshape(
            -1, *covariance.shape
        ),
    }
    noise = {}
    if spec.noise_box is not None:
        noise = {"noise_weight": np.asarray(posterior["noise_weight"]).reshape(-1)}
    if spec.sampled_df:
        values["degrees_of_freedom"] = np.asarray(posterior["degrees_of_freedom"]).reshape(
            -1, *spec.df_shape
        )
    if clusters is None:
        return spec, {**values, **noise}
    draw_index, component_index = clusters
    df = values.get("degrees_of_freedom")
    weights = select(values["weights"], draw_index, component_index)
    covariance_values, cluster_covariance = covariance.select_components(
        values[covariance.trace_name], draw_index, component_index
    )
    values = {
        "weights": weights / weights.sum(axis=1, keepdims=True),
        "means": select(values["means"], draw_index, component_index),
        covariance.trace_name: covariance_values,
        **{name: value[draw_index] for name, value in noise.items()},
    }
    if df is not None:
        values["degrees_of_freedom"] = (
            select(df, draw_index, component_index) if spec.df_shape else df[draw_index]
        )
    return replace(
        spec, n_components=component_index.shape[1], covariance=cluster_covariance
    ), values


def cluster_posteriors(spec, posterior, clusters):
    """The cluster draws of a sparse fit with their chains, as xarray datasets, for
    diagnostics and summaries.

    Each chain keeps its draws with ``n_clusters_`` clusters, cut to the shortest
    chain's count so that chains compare like with like; the number of clusters and
    the concentration keep every draw, and are all there is when a chain has no
    draw with ``n_clusters_`` clusters.
    """
    import xarray as xr

    cluster_spec, values = cluster_draws(spec, posterior, clusters)
    n_chains, n_draws = posterior.sizes["chain"], posterior.sizes["draw"]
    chain_of = clusters[0] // n_draws
    length = np.bincount(chain_of, minlength=n_chains).min()
    counts = posterior[COMPONENT_COUNTS].to_numpy()
    whole = xr.Dataset(
        {
            "n_clusters": (("chain", "draw"), n_clusters_per_draw(counts)),
            "weight_concentration": posterior["weight_concentration"].variable,
        }
    )
    if length == 0:
        return [whole]
    covariance = cluster_spec.covariance
    dims = {
        "noise_weight": (),
        "degrees_of_freedom": ("cluster",) if spec.df_shape else (),
        "weights": ("cluster",),
        "means": ("cluster", "feature"),
        covariance.trace_name: tuple(
            "cluster" if dim == "component" else dim for dim in covariance.dims
        ),
    }
    rows = np.concatenate([np.flatnonzero(chain_of == c)[:length] for c in range(n_chains)])
    datasets = xr.Dataset(
        {
            name: (
                ("chain", "draw", *dims[name]),
                value[rows].reshape(n_chains, length, *value.shape[1:]),
            )
            for name, value in values.items()
        },
        coords={"feature": posterior["feature"], "feature_bis": posterior.get("feature_bis")},
    )
    return [datasets, whole]


def n_clusters_table(counts, n_components):
    """The posterior of the number of clusters, as a table, from the component counts
    (chain, draw, component) of a sparse fit.

    One row per number of clusters that some draw has: ``probability`` (over all draws),
    ``draws``, and the probability within each chain (``chain 0``, ...).
    """
    import pandas as pd

    n_clusters = n_clusters_per_draw(counts)
    table = pd.DataFrame(
        {
            "probability": n_clusters_distribution(n_clusters, n_components),
            "draws": np.bincount(n_clusters.ravel(), minlength=n_components + 1),
            **{
                f"chain {c}": n_clusters_distribution(chain, n_components)
                for c, chain in enumerate(n_clusters)
            },
        }
    )
    table.index.name = "n_clusters"
    return table[table["draws"] > 0]
