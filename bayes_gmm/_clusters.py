"""The clusters of a sparse mixture: its occupied components, draw by draw.

In the sparse ("overfitted") mixture ``n_components`` is an upper bound, and a draw's
clusters are the components that hold at least one point. Pure NumPy: the points per
component of every draw in, the posterior of the number of clusters and the draws of the
clusters out.

Labels: the means are ordered on one feature in every draw, so the occupied components,
taken in component order, are ordered on it too. Among draws with the same number of
clusters, cluster j is then the j-th occupied component along the ordering feature: the
ordering restriction, applied to the clusters, is what stops them switching labels. It
holds where the clusters are separated on that feature, which the estimator checks.
"""

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
