"""Starting values and the ordering feature, from a k-means solution.

Starting the sampler at a k-means partition saves the burn-in a random start would need,
and the same partition shows which feature separates the components best: the one the
ordering restriction should act on.
"""

import warnings

import numpy as np
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning

# k-means on more points than this only refines what a subsample already finds.
_KMEANS_MAX_POINTS = 10_000
_KMEANS_N_INIT = 4


def kmeans_partition(Z, n_components, seed):
    """Labels (n,) and centres (k, d) of k-means on standardised data ``Z``."""
    rng = np.random.default_rng(seed)
    fit_on = Z
    if Z.shape[0] > _KMEANS_MAX_POINTS:
        fit_on = Z[rng.choice(Z.shape[0], _KMEANS_MAX_POINTS, replace=False)]
    kmeans = KMeans(n_clusters=n_components, n_init=_KMEANS_N_INIT, random_state=seed)
    with warnings.catch_warnings():
        # Fewer distinct points than components: k-means still returns k centres.
        warnings.simplefilter("ignore", ConvergenceWarning)
        kmeans.fit(fit_on)
    return kmeans.predict(Z), kmeans.cluster_centers_


def choose_order_feature(Z, labels, centers):
    """The feature whose sorted centres have the widest smallest gap, in within-cluster sds."""
    if centers.shape[0] == 1:
        return 0
    within_sd = np.sqrt(np.mean((Z - centers[labels]) ** 2, axis=0))
    smallest_gap = np.diff(np.sort(centers, axis=0), axis=0).min(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        separation = np.where(within_sd > 0, smallest_gap / within_sd, smallest_gap * np.inf)
    return int(np.argmax(np.nan_to_num(separation, nan=0.0)))


def initial_point(X, spec, labels, centers):
    """A point inside the constrained support: the k-means partition, relabelled in order.

    ``centers`` are in the units of ``X``. Returns the ``initvals`` dict of the latent model.
    """
    k, a = spec.n_components, spec.order_feature
    rank = np.empty(k, dtype=int)
    rank[np.argsort(centers[:, a], kind="stable")] = np.arange(k)
    category = rank[labels]
    means = centers[np.argsort(centers[:, a], kind="stable")].copy()
    # Tied centres (duplicated points) would break the strict ordering: nudge each one ulp.
    for c in range(1, k):
        means[c, a] = max(means[c, a], np.nextafter(means[c - 1, a], np.inf))

    counts = np.bincount(category, minlength=k)
    n = X.shape[0]
    weights = spec.min_weight + (1 - k * spec.min_weight) * (counts + 1) / (n + k)
    covariance = spec.covariance
    return {
        "weights": weights,
        "means": means,
        covariance.trace_name: covariance.initial_value(
            X, category, means, counts, spec.mean_prior_scale
        ),
        "category": category,
    }
