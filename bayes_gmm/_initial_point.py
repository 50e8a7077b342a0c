"""Starting values and the ordering feature, from k-means partitions.

Starting the sampler at a k-means partition saves the burn-in a random start would need,
and the best partition shows which feature separates the components best: the one the
ordering restriction should act on.

Each chain starts from a partition of its own, so that chains can land in different modes
of a multimodal posterior and R-hat can see it. The starts are dispersed among plausible
partitions only: independent k-means++ runs whose within-cluster sum of squares is within
``PLAUSIBLE_INERTIA_RATIO`` of the best run's. A random start, or a poor local optimum of
k-means, would leave a chain in a spurious mode far below the main one (an independent Stan
program of this model, started at random points on Old Faithful, left half its chains 199
nats down), which says nothing about the posterior.
"""

import warnings
from typing import NamedTuple

import numpy as np
from sklearn.exceptions import ConvergenceWarning

# k-means on more points than this only refines what a subsample already finds.
_KMEANS_MAX_POINTS = 10_000
# k-means++ runs per chain, from which the plausible partitions are drawn.
RUNS_PER_CHAIN = 4
# Measured on iris, Old Faithful, the galaxies velocities and the 2015 notebook's data with
# k = 2..4, over 16 seeds each: near-ties between different partitions were within 1.08 of
# the best sum of squares, clear local optima (a cluster split, two merged) 1.13 and above;
# Old Faithful with k = 4 also had runs at 1.09 to 1.11, which the threshold splits.
PLAUSIBLE_INERTIA_RATIO = 1.1


class Partition(NamedTuple):
    """A k-means partition of standardised data: labels (n,), centres (k, d), inertia."""

    labels: np.ndarray
    centers: np.ndarray
    inertia: float


def kmeans_partition(Z, n_components, seed):
    """One k-means++ run on standardised data ``Z`` (a subsample when it is large)."""
    # Imported by the first fit: sklearn.cluster would add about 0.15 s to `import bayes_gmm`.
    from sklearn.cluster import KMeans

    rng = np.random.default_rng(seed)
    fit_on = Z
    if Z.shape[0] > _KMEANS_MAX_POINTS:
        fit_on = Z[rng.choice(Z.shape[0], _KMEANS_MAX_POINTS, replace=False)]
    kmeans = KMeans(n_clusters=n_components, n_init=1, random_state=seed)
    with warnings.catch_warnings():
        # Fewer distinct points than components: k-means still returns k centres.
        warnings.simplefilter("ignore", ConvergenceWarning)
        kmeans.fit(fit_on)
    return Partition(kmeans.predict(Z), kmeans.cluster_centers_, float(kmeans.inertia_))


def dispersed_partitions(Z, n_components, seeds, n_chains):
    """The best partition, and one plausible partition per chain.

    ``seeds`` seed the k-means++ runs, ``RUNS_PER_CHAIN`` per chain. The distinct plausible
    partitions (inertia within ``PLAUSIBLE_INERTIA_RATIO`` of the best) go to the chains in
    turn, in the order of their seeds; when there are fewer than chains, they repeat.
    """
    runs = [kmeans_partition(Z, n_components, seed) for seed in seeds]
    best = min(runs, key=lambda run: run.inertia)
    distinct = {}
    for run in runs:
        if run.inertia <= PLAUSIBLE_INERTIA_RATIO * best.inertia:
            distinct.setdefault(_canonical(run.labels).tobytes(), run)
    plausible = list(distinct.values())
    return best, [plausible[c % len(plausible)] for c in range(n_chains)]


def _canonical(labels):
    """Labels renumbered in order of first appearance: one key per partition, however its
    clusters are numbered."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    return np.argsort(np.argsort(first))[inverse]


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
    concentration = {"weight_concentration": np.asarray(spec.weight_concentration)}
    return {
        **(concentration if spec.sparse else {}),
        "weights": weights,
        "means": means,
        covariance.trace_name: covariance.initial_value(
            X, category, means, counts, spec.mean_prior_scale
        ),
        "category": category,
    }
